//! The SQLite store: the default for a single replica.
//!
//! One database file in WAL mode. All writes go through a pool of exactly one connection, so
//! concurrent writers queue in the process instead of sleeping in SQLite's busy handler;
//! reads use a separate pool and run beside the writer (WAL readers do not block it).
//!
//! Inbound claims (one per Teams activity, the hot path) are group-committed: a writer task
//! takes every claim waiting at that moment and records them in one transaction, so a burst
//! of messages costs one commit instead of one each.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sqlx::AssertSqlSafe;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};

use super::test_attempts::{ATTEMPT_COLUMNS, AttemptColumns, Step, attempt_from_columns, refused};
use super::{AttemptClaim, NewTestAttempt, TestFlow};
use super::{
    Claim, ConversationRef, EFFECT_COLUMNS, Effect, EffectColumns, EffectCounts, EffectLease,
    EffectStatus, Event, Inbound, NewEffect, NewEvent, RefColumns, SaveOutcome, StepWrite, Store,
    StoreError, StoredJourney, conversation_ref_from_columns, effect_from_columns, lease_until_ms,
    stored_error, timestamp_from_ms,
};
use crate::ids::{AadObjectId, TenantId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Read connections `open` uses.
const DEFAULT_READERS: u32 = 4;

/// How long a statement waits for a lock held by another process (e.g. `passkey-pilot migrate`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Claims waiting for the writer at most; callers wait beyond that (back-pressure).
const CLAIM_QUEUE: usize = 4096;
/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// Claims recorded in one transaction at most.
const CLAIM_BATCH: usize = 256;

/// Expired claims deleted per write transaction, so a large purge does not stall inbound
/// messages behind one long lock.
const PURGE_BATCH: i64 = 5_000;

pub struct SqliteStore {
    /// The only connection that writes.
    writer: SqlitePool,
    /// Claims waiting for the group-commit writer task.
    claims: mpsc::Sender<ClaimJob>,
    /// Connections for reads; the writer itself for an in-memory database.
    readers: SqlitePool,
}

impl SqliteStore {
    /// Opens `sqlite://path` (created if missing) or `sqlite::memory:` and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, DEFAULT_READERS).await
    }

    /// Like [`SqliteStore::open`], with `max_connections` read connections (at least one).
    /// Writes always use a single connection.
    pub async fn open_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);

        let (writer, readers) = if is_in_memory(url) {
            // An in-memory database lives as long as its connection: keep exactly one, forever.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            (pool.clone(), pool)
        } else {
            let options = options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            // The writer never checkpoints itself (a checkpoint inside a commit stalls every
            // queued claim); a background task checkpoints from a reader connection instead.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
                .await?;
            // Lazy: readers connect on first use, after the migrations below.
            let readers = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .test_before_acquire(false)
                .connect_lazy_with(options);
            (writer, readers)
        };
        MIGRATOR.run(&writer).await?;
        let (claims, queue) = mpsc::channel(CLAIM_QUEUE);
        tokio::spawn(group_commit(writer.clone(), queue));
        if !is_in_memory(url) {
            tokio::spawn(checkpoint(readers.clone(), claims.clone()));
        }
        Ok(Self {
            writer,
            claims,
            readers,
        })
    }

    /// How many migrations the database has applied.
    pub async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.readers)
            .await?;
        Ok(count as usize)
    }
}

/// Whether a SQLite URL names an in-memory database (`sqlite::memory:`, `?mode=memory`).
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

async fn upsert_ref(conn: &mut SqliteConnection, r: &ConversationRef) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO conversation_refs \
             (tenant_id, aad_object_id, conversation_id, service_url, bot_id, user_id, updated_at_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET \
             conversation_id = excluded.conversation_id, \
             service_url = excluded.service_url, \
             bot_id = excluded.bot_id, \
             user_id = excluded.user_id, \
             updated_at_ms = excluded.updated_at_ms",
    )
    .bind(r.tenant_id.as_str())
    .bind(r.aad_object_id.as_str())
    .bind(r.conversation_id.as_str())
    .bind(&r.service_url)
    .bind(&r.bot_id)
    .bind(&r.user_id)
    .bind(r.updated_at.as_millisecond())
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_event(conn: &mut SqliteConnection, e: &NewEvent) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO events (at_ms, tenant_id, aad_object_id, kind, data) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )
    .bind(e.at.as_millisecond())
    .bind(e.tenant_id.as_str())
    .bind(e.aad_object_id.as_ref().map(AadObjectId::as_str))
    .bind(&e.kind)
    .bind(e.data.to_string())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Inserts an effect unless its idempotency key exists; returns its id if inserted.
async fn insert_effect(
    conn: &mut SqliteConnection,
    e: &NewEffect,
) -> Result<Option<i64>, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO effects \
             (tenant_id, aad_object_id, kind, payload, created_at_ms, not_before_ms, idempotency_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(e.tenant_id.as_str())
    .bind(e.aad_object_id.as_str())
    .bind(&e.kind)
    .bind(e.payload.to_string())
    .bind(e.created_at.as_millisecond())
    .bind(e.not_before.as_millisecond())
    .bind(e.idempotency_key.as_deref())
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// Rebuilds an effect from a row selected with `EFFECT_COLUMNS`.
fn effect_from_row(row: EffectColumns<String>) -> Result<Effect, StoreError> {
    effect_from_columns(row, |payload| {
        serde_json::from_str(&payload).map_err(|e| e.to_string())
    })
}

/// The statement that claims effects: open, due (`?1` is now), not leased, narrowed by
/// `selection` (more conditions, ordering, limit); leases them until `?2`. One statement on
/// the single writer connection, so two claims never interleave.
fn claim_sql(selection: &str) -> String {
    format!(
        "UPDATE effects SET attempts = attempts + 1, lease_until_ms = ?2 \
         WHERE id IN ( \
             SELECT id FROM effects \
             WHERE status IN ('pending', 'failed') AND not_before_ms <= ?1 \
                 AND (lease_until_ms IS NULL OR lease_until_ms <= ?1) \
             {selection}) \
         RETURNING {EFFECT_COLUMNS}"
    )
}

/// Copies the WAL back into the database file every second, beside the writer (a passive
/// checkpoint never blocks it). Ends when the store is dropped.
async fn checkpoint(readers: SqlitePool, claims: mpsc::Sender<ClaimJob>) {
    let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if claims.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&readers)
            .await
        {
            tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
        }
    }
}

/// One inbound claim waiting for the group-commit writer.
struct ClaimJob {
    inbound: Inbound,
    reply: oneshot::Sender<Result<Claim, StoreError>>,
}

/// Records waiting claims in batches: one `BEGIN IMMEDIATE … COMMIT` for all claims queued
/// at that moment. If anything in a batch fails, the batch is rolled back and each claim is
/// retried in a transaction of its own, so one bad claim fails alone and the others keep the
/// all-or-nothing promise of `record_inbound`. Ends when the store is dropped.
async fn group_commit(writer: SqlitePool, mut queue: mpsc::Receiver<ClaimJob>) {
    let mut batch = Vec::with_capacity(CLAIM_BATCH);
    while queue.recv_many(&mut batch, CLAIM_BATCH).await > 0 {
        match record_batch(&writer, &batch).await {
            Ok(claims) => {
                for (job, claim) in batch.drain(..).zip(claims) {
                    let _ = job.reply.send(Ok(claim));
                }
            }
            Err(_) => {
                for job in batch.drain(..) {
                    let result = record_batch(&writer, std::slice::from_ref(&job))
                        .await
                        .map(|claims| claims[0]);
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// Records a batch of claims with one multi-row statement per table, so a batch costs the
/// same handful of round trips to SQLite whatever its size.
async fn record_batch(writer: &SqlitePool, jobs: &[ClaimJob]) -> Result<Vec<Claim>, StoreError> {
    if let [job] = jobs {
        // A single claim (light load, or the retry of a failed batch) needs no bulk SQL.
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let claim = record_one(&mut tx, &job.inbound).await?;
        tx.commit().await?;
        return Ok(vec![claim]);
    }
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY when another process holds the lock.
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;

    let mut claim_sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO processed_activities \
             (conversation_id, activity_id, received_at_ms, expires_at_ms) ",
    );
    claim_sql.push_values(jobs, |mut row, job| {
        row.push_bind(job.inbound.conversation_id.as_str())
            .push_bind(job.inbound.activity_id.as_str())
            .push_bind(job.inbound.received_at.as_millisecond())
            .push_bind(job.inbound.expires_at.as_millisecond());
    });
    // Rows of the same statement are applied in order, so a second claim of an id in the
    // same batch meets the first one's row and is not returned.
    claim_sql.push(
        " ON CONFLICT (conversation_id, activity_id) DO UPDATE SET \
             received_at_ms = excluded.received_at_ms, \
             expires_at_ms = excluded.expires_at_ms \
         WHERE processed_activities.expires_at_ms <= excluded.received_at_ms \
         RETURNING conversation_id, activity_id",
    );
    let returned: Vec<(String, String)> = claim_sql.build_query_as().fetch_all(&mut *tx).await?;
    let mut claimed: std::collections::HashSet<(String, String)> = returned.into_iter().collect();
    // The first job of each returned key is the first claim; any later job with it is a duplicate.
    let claims: Vec<Claim> = jobs
        .iter()
        .map(|job| {
            let key = (
                job.inbound.conversation_id.to_string(),
                job.inbound.activity_id.to_string(),
            );
            if claimed.remove(&key) {
                Claim::First
            } else {
                Claim::Duplicate
            }
        })
        .collect();

    let first = || {
        jobs.iter()
            .zip(&claims)
            .filter(|(_, c)| **c == Claim::First)
            .map(|(job, _)| &job.inbound)
    };
    let refs: Vec<&ConversationRef> = first()
        .filter_map(|i| i.conversation_ref.as_ref())
        .collect();
    if !refs.is_empty() {
        let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO conversation_refs \
                 (tenant_id, aad_object_id, conversation_id, service_url, bot_id, user_id, updated_at_ms) ",
        );
        sql.push_values(refs, |mut row, r| {
            row.push_bind(r.tenant_id.as_str())
                .push_bind(r.aad_object_id.as_str())
                .push_bind(r.conversation_id.as_str())
                .push_bind(r.service_url.as_str())
                .push_bind(r.bot_id.as_str())
                .push_bind(r.user_id.as_str())
                .push_bind(r.updated_at.as_millisecond());
        });
        sql.push(
            " ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET \
                 conversation_id = excluded.conversation_id, \
                 service_url = excluded.service_url, \
                 bot_id = excluded.bot_id, \
                 user_id = excluded.user_id, \
                 updated_at_ms = excluded.updated_at_ms",
        );
        sql.build().execute(&mut *tx).await?;
    }
    let events: Vec<&NewEvent> = first().filter_map(|i| i.event.as_ref()).collect();
    if !events.is_empty() {
        let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO events (at_ms, tenant_id, aad_object_id, kind, data) ",
        );
        sql.push_values(events, |mut row, e| {
            row.push_bind(e.at.as_millisecond())
                .push_bind(e.tenant_id.as_str())
                .push_bind(e.aad_object_id.as_ref().map(AadObjectId::as_str))
                .push_bind(e.kind.as_str())
                .push_bind(e.data.to_string());
        });
        sql.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(claims)
}

async fn record_one(conn: &mut SqliteConnection, inbound: &Inbound) -> Result<Claim, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO processed_activities \
             (conversation_id, activity_id, received_at_ms, expires_at_ms) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (conversation_id, activity_id) DO UPDATE SET \
             received_at_ms = excluded.received_at_ms, \
             expires_at_ms = excluded.expires_at_ms \
         WHERE processed_activities.expires_at_ms <= excluded.received_at_ms",
    )
    .bind(inbound.conversation_id.as_str())
    .bind(inbound.activity_id.as_str())
    .bind(inbound.received_at.as_millisecond())
    .bind(inbound.expires_at.as_millisecond())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        return Ok(Claim::Duplicate);
    }
    if let Some(r) = &inbound.conversation_ref {
        upsert_ref(conn, r).await?;
    }
    if let Some(e) = &inbound.event {
        insert_event(conn, e).await?;
    }
    Ok(Claim::First)
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    async fn record_inbound(&self, inbound: &Inbound) -> Result<Claim, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = ClaimJob {
            inbound: inbound.clone(),
            reply,
        };
        if self.claims.send(job).await.is_err() {
            return Err(StoreError::Database(sqlx::Error::PoolClosed));
        }
        answer
            .await
            .unwrap_or(Err(StoreError::Database(sqlx::Error::PoolClosed)))
    }

    async fn purge_expired_activities(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut purged = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM processed_activities \
                 WHERE (conversation_id, activity_id) IN ( \
                     SELECT conversation_id, activity_id FROM processed_activities \
                     WHERE expires_at_ms <= ?1 LIMIT ?2)",
            )
            .bind(now.as_millisecond())
            .bind(PURGE_BATCH)
            .execute(&self.writer)
            .await?
            .rows_affected();
            purged += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(purged);
            }
        }
    }

    async fn upsert_conversation_ref(&self, r: &ConversationRef) -> Result<(), StoreError> {
        upsert_ref(&mut *self.writer.acquire().await?, r).await
    }

    async fn conversation_ref(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Option<ConversationRef>, StoreError> {
        let row: Option<RefColumns> = sqlx::query_as(
            "SELECT conversation_id, service_url, bot_id, user_id, updated_at_ms \
             FROM conversation_refs WHERE tenant_id = ?1 AND aad_object_id = ?2",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .fetch_optional(&self.readers)
        .await?;
        row.map(|row| conversation_ref_from_columns(tenant_id, aad_object_id, row))
            .transpose()
    }

    async fn delete_conversation_ref(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM conversation_refs WHERE tenant_id = ?1 AND aad_object_id = ?2",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(deleted > 0)
    }

    async fn append_event(&self, event: &NewEvent) -> Result<i64, StoreError> {
        insert_event(&mut *self.writer.acquire().await?, event).await
    }

    async fn events_for(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT id, at_ms, kind, data FROM events \
             WHERE tenant_id = ?1 AND aad_object_id = ?2 \
             ORDER BY id DESC LIMIT ?3",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.into_iter()
            .rev()
            .map(|(id, at_ms, kind, data)| {
                Ok(Event {
                    id,
                    event: NewEvent {
                        at: timestamp_from_ms(at_ms)?,
                        tenant_id: tenant_id.clone(),
                        aad_object_id: Some(aad_object_id.clone()),
                        kind,
                        data: serde_json::from_str(&data).map_err(|e| {
                            StoreError::Corrupt(format!("event {id} data is not JSON: {e}"))
                        })?,
                    },
                })
            })
            .collect()
    }

    async fn load_journey(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Option<StoredJourney>, StoreError> {
        let row: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT state, version, updated_at_ms FROM journeys \
             WHERE tenant_id = ?1 AND aad_object_id = ?2",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .fetch_optional(&self.readers)
        .await?;
        row.map(|(state, version, updated_at_ms)| {
            Ok(StoredJourney {
                state: serde_json::from_str(&state)
                    .map_err(|e| StoreError::Corrupt(format!("journey state is not JSON: {e}")))?,
                version,
                updated_at: timestamp_from_ms(updated_at_ms)?,
            })
        })
        .transpose()
    }

    async fn save_step(&self, step: &StepWrite) -> Result<SaveOutcome, StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let version = step.expected_version.map_or(1, |v| v + 1);
        // The update's condition `version = ?4 - 1` is "the stored version is the expected one".
        let sql = match step.expected_version {
            None => {
                "INSERT INTO journeys (tenant_id, aad_object_id, state, version, updated_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (tenant_id, aad_object_id) DO NOTHING"
            }
            Some(_) => {
                "UPDATE journeys SET state = ?3, version = ?4, updated_at_ms = ?5 \
                 WHERE tenant_id = ?1 AND aad_object_id = ?2 AND version = ?4 - 1"
            }
        };
        let written = sqlx::query(sql)
            .bind(step.tenant_id.as_str())
            .bind(step.aad_object_id.as_str())
            .bind(step.state.to_string())
            .bind(version)
            .bind(step.at.as_millisecond())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if written != 1 {
            tx.rollback().await?;
            return Ok(SaveOutcome::Conflict);
        }
        let mut effect_ids = Vec::with_capacity(step.effects.len());
        for effect in &step.effects {
            effect_ids.extend(insert_effect(&mut tx, effect).await?);
        }
        for event in &step.events {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(SaveOutcome::Saved {
            version,
            effect_ids,
        })
    }

    async fn enqueue_effect(&self, effect: &NewEffect) -> Result<Option<i64>, StoreError> {
        insert_effect(&mut *self.writer.acquire().await?, effect).await
    }

    async fn claim_effects(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Effect>, StoreError> {
        let sql = claim_sql("ORDER BY not_before_ms, id LIMIT ?3");
        let rows: Vec<EffectColumns<String>> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(now.as_millisecond())
            .bind(lease_until_ms(now, lease))
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await?;
        let mut claimed = rows
            .into_iter()
            .map(effect_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|e| (e.effect.not_before, e.id));
        Ok(claimed)
    }

    async fn claim_effects_by_id(
        &self,
        ids: &[i64],
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Vec<Effect>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The ids travel as one JSON array, whatever their number.
        let sql = claim_sql("AND id IN (SELECT value FROM json_each(?3))");
        let rows: Vec<EffectColumns<String>> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(now.as_millisecond())
            .bind(lease_until_ms(now, lease))
            .bind(serde_json::Value::from(ids).to_string())
            .fetch_all(&self.writer)
            .await?;
        let mut claimed = rows
            .into_iter()
            .map(effect_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|e| e.id);
        Ok(claimed)
    }

    async fn complete_effect(&self, lease: EffectLease) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE effects SET status = 'done', lease_until_ms = NULL \
             WHERE id = ?1 AND attempts = ?2 AND status IN ('pending', 'failed') \
                 AND lease_until_ms IS NOT NULL",
        )
        .bind(lease.id)
        .bind(lease.attempt)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    async fn fail_effect(
        &self,
        lease: EffectLease,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let status = if retry_at.is_some() {
            EffectStatus::Failed
        } else {
            EffectStatus::Dead
        };
        let failed = sqlx::query(
            "UPDATE effects SET status = ?3, not_before_ms = COALESCE(?4, not_before_ms), \
                 lease_until_ms = NULL, last_error = ?5 \
             WHERE id = ?1 AND attempts = ?2 AND status IN ('pending', 'failed') \
                 AND lease_until_ms IS NOT NULL",
        )
        .bind(lease.id)
        .bind(lease.attempt)
        .bind(status.as_str())
        .bind(retry_at.map(|t| t.as_millisecond()))
        .bind(stored_error(error))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(failed == 1)
    }

    async fn pending_effects_for(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Vec<Effect>, StoreError> {
        let sql = format!(
            "SELECT {EFFECT_COLUMNS} FROM effects \
             WHERE tenant_id = ?1 AND aad_object_id = ?2 AND status IN ('pending', 'failed') \
             ORDER BY id"
        );
        let rows: Vec<EffectColumns<String>> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant_id.as_str())
            .bind(aad_object_id.as_str())
            .fetch_all(&self.readers)
            .await?;
        rows.into_iter().map(effect_from_row).collect()
    }

    async fn effect_counts(&self) -> Result<EffectCounts, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM effects GROUP BY status")
                .fetch_all(&self.readers)
                .await?;
        let mut counts = EffectCounts::default();
        for (status, n) in rows {
            counts.add(EffectStatus::parse(&status)?, n as u64);
        }
        Ok(counts)
    }

    async fn insert_test_attempt(&self, attempt: &NewTestAttempt) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO test_signin_attempts \
                 (token_hash, tenant_id, aad_object_id, conversation_id, login_hint, created_at_ms, expires_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&attempt.token_hash)
        .bind(attempt.tenant_id.as_str())
        .bind(attempt.aad_object_id.as_str())
        .bind(attempt.conversation_id.as_str())
        .bind(attempt.login_hint.as_deref())
        .bind(attempt.created_at.as_millisecond())
        .bind(attempt.expires_at.as_millisecond())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn start_test_attempt(
        &self,
        token_hash: &str,
        flow: &TestFlow,
        now: Timestamp,
    ) -> Result<AttemptClaim, StoreError> {
        let sql = format!(
            "UPDATE test_signin_attempts SET started_at_ms = ?2, state_hash = ?3, nonce = ?4, \
                 pkce_verifier = ?5, expires_at_ms = ?6 \
             WHERE token_hash = ?1 AND started_at_ms IS NULL AND expires_at_ms > ?2 \
             RETURNING {ATTEMPT_COLUMNS}"
        );
        let claimed: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now.as_millisecond())
            .bind(&flow.state_hash)
            .bind(&flow.secrets.nonce)
            .bind(&flow.secrets.pkce_verifier)
            .bind(flow.expires_at.as_millisecond())
            .fetch_optional(&self.writer)
            .await?;
        if let Some(row) = claimed {
            return Ok(AttemptClaim::Claimed(
                attempt_from_columns(row, Step::Start)?.0,
            ));
        }
        let sql =
            format!("SELECT {ATTEMPT_COLUMNS} FROM test_signin_attempts WHERE token_hash = ?1");
        let row: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.writer)
            .await?;
        refused(row, Step::Start)
    }

    async fn finish_test_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<AttemptClaim, StoreError> {
        let sql = format!(
            "UPDATE test_signin_attempts SET finished_at_ms = ?2 \
             WHERE state_hash = ?1 AND finished_at_ms IS NULL AND expires_at_ms > ?2 \
             RETURNING {ATTEMPT_COLUMNS}"
        );
        let claimed: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(state_hash)
            .bind(now.as_millisecond())
            .fetch_optional(&self.writer)
            .await?;
        if let Some(row) = claimed {
            return Ok(AttemptClaim::Claimed(
                attempt_from_columns(row, Step::Finish)?.0,
            ));
        }
        let sql =
            format!("SELECT {ATTEMPT_COLUMNS} FROM test_signin_attempts WHERE state_hash = ?1");
        let row: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(state_hash)
            .fetch_optional(&self.writer)
            .await?;
        refused(row, Step::Finish)
    }

    async fn purge_test_attempts(&self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM test_signin_attempts WHERE expires_at_ms < ?1")
            .bind(before.as_millisecond())
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::is_in_memory;

    #[test]
    fn in_memory_urls_are_told_apart_from_files() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://:memory:"));
        assert!(is_in_memory("sqlite://pp.db?mode=memory"));
        assert!(!is_in_memory("sqlite:///var/lib/passkey-pilot/pp.db"));
        assert!(!is_in_memory("sqlite://pp.db?mode=rwc"));
    }
}
