//! TEMPORARY stand-in until the outbound branch lands.
use std::sync::Arc;
use crate::botframework::activity::{Activity, ResourceResponse};
use crate::config::BotConfig;
use super::token::TokenSource;
#[derive(Debug, thiserror::Error)]
#[error("connector")]
pub struct ConnectorError;
pub struct Connector;
impl Connector {
    pub fn new(_c: &BotConfig, _t: Arc<dyn TokenSource>, _h: reqwest::Client) -> Self { Connector }
    pub async fn reply_to_activity(&self, _s: &str, _c: &str, _r: &str, _a: &Activity) -> Result<ResourceResponse, ConnectorError> { Err(ConnectorError) }
    pub async fn send_to_conversation(&self, _s: &str, _c: &str, _a: &Activity) -> Result<ResourceResponse, ConnectorError> { Err(ConnectorError) }
}
