//! (being written)
use super::StoreError;
pub struct SqliteStore;
impl SqliteStore {
    pub async fn open(_url: &str) -> Result<Self, StoreError> { Err(StoreError::UnsupportedUrl("not yet".into())) }
    pub async fn applied_migrations(&self) -> Result<usize, StoreError> { Ok(0) }
}
