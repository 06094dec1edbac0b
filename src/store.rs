//! Persistence behind one trait, with SQLite (default), PostgreSQL and in-memory backends.
//!
//! Every backend passes the same conformance suite (`tests/api/store.rs`). Times are stored
//! as UTC milliseconds. The event log is append-only: the SQL backends refuse UPDATE and
//! DELETE on it with a trigger.

mod memory;
mod postgres;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{AadObjectId, ActivityId, ConversationId, TenantId};

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Errors from a store, for the log; never shown to a person as such.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store URL {0:?} is not sqlite://…, postgres://… or memory://")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// Where and how to reach one person's 1:1 chat with the bot (for replies and proactive
/// messages). Refreshed on every inbound activity, because `serviceUrl` can change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRef {
    pub tenant_id: TenantId,
    pub aad_object_id: AadObjectId,
    pub conversation_id: ConversationId,
    pub service_url: String,
    /// The bot's channel account id (`28:<app id>`).
    pub bot_id: String,
    /// The person's channel account id (`29:…`), unique to this bot.
    pub user_id: String,
    pub updated_at: Timestamp,
}

/// One entry to append to the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub at: Timestamp,
    pub tenant_id: TenantId,
    /// The person the event is about, when there is one.
    pub aad_object_id: Option<AadObjectId>,
    /// What happened, dotted lower-case (`bot.installed`, `bot.welcome_sent`).
    pub kind: String,
    /// Structured details; never secrets.
    pub data: serde_json::Value,
}

/// An event as stored, with the id the log gave it (ids increase with insertion order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    #[serde(flatten)]
    pub event: NewEvent,
}

/// What to record for one inbound activity, atomically: the activity id claim (dedupe),
/// and only when the claim is new, the conversation reference and the event.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub conversation_id: ConversationId,
    pub activity_id: ActivityId,
    pub received_at: Timestamp,
    /// After this the id may be forgotten (Teams redelivers within minutes, not days).
    pub expires_at: Timestamp,
    pub conversation_ref: Option<ConversationRef>,
    pub event: Option<NewEvent>,
}

/// Whether an inbound activity id was seen for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    First,
    Duplicate,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Claims `(conversation_id, activity_id)`. `Claim::First` only for the first claim
    /// that has not expired; an expired claim may be claimed again. When the claim is
    /// first, stores the conversation reference (upsert) and appends the event, all in
    /// one transaction: either all of it is recorded or none of it.
    async fn record_inbound(&self, inbound: &Inbound) -> Result<Claim, StoreError>;

    /// Deletes activity claims that expired before `now`; returns how many.
    async fn purge_expired_activities(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// Inserts or replaces the reference for `(tenant_id, aad_object_id)`.
    async fn upsert_conversation_ref(&self, r: &ConversationRef) -> Result<(), StoreError>;

    async fn conversation_ref(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Option<ConversationRef>, StoreError>;

    /// Forgets a reference (the person removed the app); returns whether one existed.
    async fn delete_conversation_ref(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<bool, StoreError>;

    async fn append_event(&self, event: &NewEvent) -> Result<i64, StoreError>;

    /// The most recent `limit` events about one person, oldest first.
    async fn events_for(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError>;
}

/// Opens the store a URL names and applies pending migrations:
/// `sqlite://path.db` (created if missing, WAL), `sqlite::memory:`, `postgres://…`, `memory://`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, None).await
}

/// As [`open`], with the pool size from `store.max_connections` (`None`: the backend's default).
pub async fn open_with(
    url: &str,
    max_connections: Option<u32>,
) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(match max_connections {
            Some(n) => SqliteStore::open_with(url, n).await?,
            None => SqliteStore::open(url).await?,
        }))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(match max_connections {
            Some(n) => PostgresStore::open_with(url, n).await?,
            None => PostgresStore::open(url).await?,
        }))
    } else if url == "memory://" {
        Ok(Arc::new(MemoryStore::default()))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// Applies pending migrations without keeping the store open (`passkey-pilot migrate`).
/// Returns the number of migrations the database now has applied.
pub async fn migrate(url: &str) -> Result<usize, StoreError> {
    if url.starts_with("sqlite:") {
        SqliteStore::open(url).await?.applied_migrations().await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        PostgresStore::open(url).await?.applied_migrations().await
    } else if url == "memory://" {
        Ok(0)
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// Reads a stored UTC millisecond count back as a timestamp.
fn timestamp_from_ms(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {ms} ms: {e}")))
}

/// The columns the SQL backends store for a conversation reference besides its key:
/// conversation id, service URL, bot id, user id, updated at (ms).
type RefColumns = (String, String, String, String, i64);

/// Rebuilds a conversation reference from its key and stored columns.
fn conversation_ref_from_columns(
    tenant_id: &TenantId,
    aad_object_id: &AadObjectId,
    (conversation_id, service_url, bot_id, user_id, updated_at_ms): RefColumns,
) -> Result<ConversationRef, StoreError> {
    Ok(ConversationRef {
        tenant_id: tenant_id.clone(),
        aad_object_id: aad_object_id.clone(),
        conversation_id: ConversationId::parse(&conversation_id)
            .map_err(|e| StoreError::Corrupt(format!("conversation reference: {e}")))?,
        service_url,
        bot_id,
        user_id,
        updated_at: timestamp_from_ms(updated_at_ms)?,
    })
}
