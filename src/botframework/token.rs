//! TEMPORARY stand-in until the outbound branch lands.
use std::sync::Arc;
use crate::config::BotConfig;
#[derive(Debug, thiserror::Error)]
#[error("token")]
pub struct TokenError;
pub trait TokenSource: Send + Sync {}
struct T;
impl TokenSource for T {}
pub fn token_source(_c: &BotConfig, _h: reqwest::Client) -> Result<Arc<dyn TokenSource>, TokenError> { Ok(Arc::new(T)) }
