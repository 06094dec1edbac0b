//! Persistence behind one trait, with SQLite (default), PostgreSQL and in-memory backends.
//!
//! Every backend passes the same conformance suite (`tests/api/store.rs`). Times are stored
//! as UTC milliseconds. The event log is append-only: the SQL backends refuse UPDATE and
//! DELETE on it with a trigger.
//!
//! Journeys and the effects outbox carry the engine's crash safety: a step's new journey
//! state, its pending effects and its events are saved in one transaction (optimistic
//! concurrency on the journey's version), and effects are executed afterwards by whoever
//! claims them with a lease, so a crash between saving and sending loses nothing and a
//! second replica never runs the same effect at the same time.

mod memory;
mod postgres;
mod sqlite;
mod test_attempts;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::ids::{AadObjectId, ActivityId, ConversationId, TenantId};

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use test_attempts::{AttemptClaim, FlowSecrets, NewTestAttempt, TestAttempt, TestFlow};

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

/// A person's journey as stored: the journey's own serialised state (opaque to the store),
/// its version (1 after the first save, +1 per save) and when it was last saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredJourney {
    pub state: serde_json::Value,
    pub version: i64,
    pub updated_at: Timestamp,
}

/// Everything one journey step persists, atomically: the new state, the effects to run
/// afterwards and the events for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StepWrite {
    pub tenant_id: TenantId,
    pub aad_object_id: AadObjectId,
    /// The version the step was computed from: `None` when the caller saw no journey yet.
    /// The save happens only if the stored journey still has exactly this version.
    pub expected_version: Option<i64>,
    pub state: serde_json::Value,
    /// When the step happened; becomes the journey's `updated_at`.
    pub at: Timestamp,
    pub effects: Vec<NewEffect>,
    pub events: Vec<NewEvent>,
}

/// The result of [`Store::save_step`].
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Everything was written; the journey now has `version`. `effect_ids` are the effects
    /// inserted, in the order given; an effect whose idempotency key already existed was
    /// skipped and has no id here.
    Saved { version: i64, effect_ids: Vec<i64> },
    /// The stored version was not the expected one (another step won the race): nothing
    /// was written. Load the journey again and step from there.
    Conflict,
}

/// An effect to put in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEffect {
    pub tenant_id: TenantId,
    /// The person the effect is for.
    pub aad_object_id: AadObjectId,
    /// What to do, dotted lower-case (`card.send`, `graph.recheck`, `chase.nudge`).
    pub kind: String,
    /// What the executor needs; never secrets.
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    /// Not claimed before this (scheduled nudges, Graph re-checks with backoff).
    pub not_before: Timestamp,
    /// Unique across the outbox when set: inserting a second effect with the same key is
    /// silently skipped (one nudge per person and wave, one effect per card action).
    pub idempotency_key: Option<String>,
}

/// Where an effect is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectStatus {
    /// Not yet attempted to the end; claimable when due.
    Pending,
    /// Failed at least once and will be retried at its `not_before`; claimable when due.
    Failed,
    /// Carried out.
    Done,
    /// Given up on; never claimed again.
    Dead,
}

impl EffectStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    fn parse(raw: &str) -> Result<Self, StoreError> {
        match raw {
            "pending" => Ok(Self::Pending),
            "failed" => Ok(Self::Failed),
            "done" => Ok(Self::Done),
            "dead" => Ok(Self::Dead),
            other => Err(StoreError::Corrupt(format!("effect status {other:?}"))),
        }
    }

    /// Whether an effect in this status still waits to be carried out.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Failed)
    }
}

/// An effect as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    pub id: i64,
    #[serde(flatten)]
    pub effect: NewEffect,
    pub status: EffectStatus,
    /// How many times it was claimed.
    pub attempts: i64,
    /// Until when the last claim holds it; `None` when nobody holds it.
    pub lease_until: Option<Timestamp>,
    /// Why the last attempt failed; never secrets.
    pub last_error: Option<String>,
}

impl Effect {
    /// The claim this copy of the effect was handed out with: only it may complete or fail
    /// the effect.
    pub fn lease(&self) -> EffectLease {
        EffectLease {
            id: self.id,
            attempt: self.attempts,
        }
    }
}

/// One claim of one effect. Each claim increments the attempt count, so a worker whose lease
/// expired and was claimed again holds an outdated attempt and can no longer finish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EffectLease {
    pub id: i64,
    pub attempt: i64,
}

/// How many effects the outbox holds in each status (metrics, admin).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectCounts {
    pub pending: u64,
    pub failed: u64,
    pub done: u64,
    pub dead: u64,
}

impl EffectCounts {
    fn add(&mut self, status: EffectStatus, n: u64) {
        match status {
            EffectStatus::Pending => self.pending += n,
            EffectStatus::Failed => self.failed += n,
            EffectStatus::Done => self.done += n,
            EffectStatus::Dead => self.dead += n,
        }
    }
}

/// The longest failure text kept with an effect, in characters.
const MAX_ERROR_CHARS: usize = 2_000;

/// The failure text as stored: cut to [`MAX_ERROR_CHARS`] so one runaway message cannot
/// bloat the outbox.
fn stored_error(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

/// The end of a lease taken at `now` for `lease`, in UTC milliseconds; an absurdly long
/// lease ends at the last representable second instead of overflowing.
fn lease_until_ms(now: Timestamp, lease: SignedDuration) -> i64 {
    now.as_millisecond()
        .saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
        .min(Timestamp::MAX.as_second() * 1_000)
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

    /// The person's journey, if one was ever saved.
    async fn load_journey(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Option<StoredJourney>, StoreError>;

    /// Saves one step in one transaction: the journey (inserted when `expected_version` is
    /// `None` and none exists, updated when the stored version equals it; otherwise
    /// [`SaveOutcome::Conflict`] and nothing is written), its effects (those whose
    /// idempotency key exists already are skipped) and its events. All or nothing.
    async fn save_step(&self, step: &StepWrite) -> Result<SaveOutcome, StoreError>;

    /// Puts one effect in the outbox outside any step (the chase worker's nudges). Returns
    /// its id, or `None` when an effect with the same idempotency key exists.
    async fn enqueue_effect(&self, effect: &NewEffect) -> Result<Option<i64>, StoreError>;

    /// Claims up to `limit` effects that are open, due (`not_before <= now`) and not leased
    /// (or whose lease ended by `now`), earliest due first: each is leased until
    /// `now + lease` and its attempt count incremented. Two workers, even in two replicas,
    /// never hold the same effect at once.
    ///
    /// An effect that keeps being claimed without finishing (its executor crashes) shows it
    /// in `attempts`; the worker decides when to give up ([`Store::fail_effect`] without a
    /// retry time makes it dead).
    async fn claim_effects(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Effect>, StoreError>;

    /// Claims, as [`Store::claim_effects`] does, those of the effects `ids` that are open, due
    /// and not leased: the engine runs a step's effects right after saving them (the ids
    /// from [`SaveOutcome::Saved`]) instead of waiting for the worker; whatever it cannot
    /// claim, or does not finish, the worker carries out later. Ordered by id.
    async fn claim_effects_by_id(
        &self,
        ids: &[i64],
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Vec<Effect>, StoreError>;

    /// Marks the effect done, only if `lease` is its latest claim and the effect is still
    /// open and leased; returns whether it did (`false`: someone else holds it now, or it
    /// was finished already). A lease that ran out but was not claimed again still counts:
    /// the work was done and nobody else started it.
    async fn complete_effect(&self, lease: EffectLease) -> Result<bool, StoreError>;

    /// Records a failed attempt by the holder of `lease` (same rule as
    /// [`Store::complete_effect`]): with `retry_at` the effect becomes `Failed` and is due
    /// again then; without, it is `Dead`. The lease is released either way.
    async fn fail_effect(
        &self,
        lease: EffectLease,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool, StoreError>;

    /// The person's open effects (pending or failed awaiting retry), oldest first.
    async fn pending_effects_for(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Vec<Effect>, StoreError>;

    /// How many effects the outbox holds in each status.
    async fn effect_counts(&self) -> Result<EffectCounts, StoreError>;

    /// Stores a test sign-in link (its token hash is unique).
    async fn insert_test_attempt(&self, attempt: &NewTestAttempt) -> Result<(), StoreError>;

    /// Claims the link `token_hash` to start the sign-in at `now`: only once, only before it
    /// expires. The winner's `flow` is recorded with the claim.
    async fn start_test_attempt(
        &self,
        token_hash: &str,
        flow: &TestFlow,
        now: Timestamp,
    ) -> Result<AttemptClaim, StoreError>;

    /// Claims the started sign-in whose `state` hashes to `state_hash`, at the callback:
    /// only once, only before the flow's deadline.
    async fn finish_test_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<AttemptClaim, StoreError>;

    /// Deletes attempts that expired before `before`; returns how many.
    async fn purge_test_attempts(&self, before: Timestamp) -> Result<u64, StoreError>;
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

/// The columns the SQL backends select for an effect, in this order (the payload last, as
/// each engine decodes it its own way).
const EFFECT_COLUMNS: &str = "id, tenant_id, aad_object_id, kind, created_at_ms, not_before_ms, \
     status, attempts, lease_until_ms, last_error, idempotency_key, payload";

/// An effect row as selected with [`EFFECT_COLUMNS`]; `P` is the engine's payload type.
type EffectColumns<P> = (
    i64,
    String,
    String,
    String,
    i64,
    i64,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    P,
);

/// Rebuilds an effect from its stored columns, decoding the payload with `decode`.
fn effect_from_columns<P>(
    (
        id,
        tenant_id,
        aad_object_id,
        kind,
        created_at_ms,
        not_before_ms,
        status,
        attempts,
        lease_until_ms,
        last_error,
        idempotency_key,
        payload,
    ): EffectColumns<P>,
    decode: impl FnOnce(P) -> Result<serde_json::Value, String>,
) -> Result<Effect, StoreError> {
    let payload = decode(payload)
        .map_err(|e| StoreError::Corrupt(format!("effect {id} payload is not JSON: {e}")))?;
    let corrupt = |e: crate::ids::IdError| StoreError::Corrupt(format!("effect {id}: {e}"));
    Ok(Effect {
        id,
        effect: NewEffect {
            tenant_id: TenantId::parse(&tenant_id).map_err(corrupt)?,
            aad_object_id: AadObjectId::parse(&aad_object_id).map_err(corrupt)?,
            kind,
            payload,
            created_at: timestamp_from_ms(created_at_ms)?,
            not_before: timestamp_from_ms(not_before_ms)?,
            idempotency_key,
        },
        status: EffectStatus::parse(&status)?,
        attempts,
        lease_until: lease_until_ms.map(timestamp_from_ms).transpose()?,
        last_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_failure_text_is_cut_to_its_limit_on_character_boundaries() {
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        let stored = stored_error(&long);
        assert_eq!(stored.chars().count(), MAX_ERROR_CHARS);
        assert_eq!(stored_error("Graph answered 503"), "Graph answered 503");
    }

    #[test]
    fn effect_statuses_round_trip_through_their_stored_names() {
        for status in [
            EffectStatus::Pending,
            EffectStatus::Failed,
            EffectStatus::Done,
            EffectStatus::Dead,
        ] {
            assert_eq!(EffectStatus::parse(status.as_str()).unwrap(), status);
        }
        assert!(matches!(
            EffectStatus::parse("sent"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn a_lease_too_long_to_represent_ends_at_the_last_representable_second() {
        let now = Timestamp::from_millisecond(1_750_000_000_000).unwrap();
        assert_eq!(
            lease_until_ms(now, SignedDuration::from_secs(30)),
            1_750_000_030_000
        );
        let forever = lease_until_ms(now, SignedDuration::MAX);
        assert_eq!(forever, Timestamp::MAX.as_second() * 1_000);
        assert!(timestamp_from_ms(forever).is_ok());
    }
}
