//! The PostgreSQL store, for several replicas sharing one database.
//!
//! Objects live in the first schema of the connection's `search_path`; a URL can choose it
//! with `?options[search_path]=name` (the tests give each test its own schema that way).

use std::str::FromStr;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sqlx::postgres::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool};

use super::test_attempts::{ATTEMPT_COLUMNS, AttemptColumns, Step, attempt_from_columns, refused};
use super::{AttemptClaim, NewTestAttempt, TestFlow};
use super::{
    Claim, ConversationRef, EFFECT_COLUMNS, Effect, EffectColumns, EffectCounts, EffectLease,
    EffectStatus, Event, Inbound, NewEffect, NewEvent, RefColumns, SaveOutcome, StepWrite, Store,
    StoreError, StoredJourney, conversation_ref_from_columns, effect_from_columns, lease_until_ms,
    stored_error, timestamp_from_ms,
};
use crate::ids::{AadObjectId, TenantId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connections `open` allows.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Claims an activity and, only if the claim is first, upserts the reference and appends the
/// event: one statement, so one round trip and atomic without an explicit transaction.
/// A reference (`$5` not null) and an event (`$13` not null) are each optional.
const RECORD_INBOUND: &str = "\
WITH claim AS (
    INSERT INTO processed_activities AS p
        (conversation_id, activity_id, received_at_ms, expires_at_ms)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (conversation_id, activity_id) DO UPDATE SET
        received_at_ms = excluded.received_at_ms,
        expires_at_ms = excluded.expires_at_ms
    WHERE p.expires_at_ms <= excluded.received_at_ms
    RETURNING 1
), conversation_ref AS (
    INSERT INTO conversation_refs
        (tenant_id, aad_object_id, conversation_id, service_url, bot_id, user_id, updated_at_ms)
    SELECT $5, $6, $7, $8, $9, $10, $11 FROM claim WHERE $5::text IS NOT NULL
    ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET
        conversation_id = excluded.conversation_id,
        service_url = excluded.service_url,
        bot_id = excluded.bot_id,
        user_id = excluded.user_id,
        updated_at_ms = excluded.updated_at_ms
), event AS (
    INSERT INTO events (at_ms, tenant_id, aad_object_id, kind, data)
    SELECT $12, $13, $14, $15, $16 FROM claim WHERE $13::text IS NOT NULL
)
SELECT EXISTS (SELECT 1 FROM claim)";

/// Inserts an effect unless its idempotency key exists; returns its id if inserted.
async fn insert_effect(conn: &mut PgConnection, e: &NewEffect) -> Result<Option<i64>, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO effects \
             (tenant_id, aad_object_id, kind, payload, created_at_ms, not_before_ms, idempotency_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(e.tenant_id.as_str())
    .bind(e.aad_object_id.as_str())
    .bind(&e.kind)
    .bind(Json(&e.payload))
    .bind(e.created_at.as_millisecond())
    .bind(e.not_before.as_millisecond())
    .bind(e.idempotency_key.as_deref())
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// Rebuilds an effect from a row selected with `EFFECT_COLUMNS`.
fn effect_from_row(row: EffectColumns<Json<serde_json::Value>>) -> Result<Effect, StoreError> {
    effect_from_columns(row, |Json(payload)| Ok(payload))
}

/// The statement that claims effects: open, due (`$1` is now), not leased, narrowed by
/// `selection` (more conditions, ordering, limit); leases them until `$2`. SKIP LOCKED: a
/// replica claiming at the same moment passes over the rows this one has locked instead of
/// waiting for them or claiming them too.
fn claim_sql(selection: &str) -> String {
    format!(
        "WITH due AS ( \
             SELECT id FROM effects \
             WHERE status IN ('pending', 'failed') AND not_before_ms <= $1 \
                 AND (lease_until_ms IS NULL OR lease_until_ms <= $1) \
             {selection} \
             FOR UPDATE SKIP LOCKED) \
         UPDATE effects SET attempts = attempts + 1, lease_until_ms = $2 \
         WHERE id IN (SELECT id FROM due) \
         RETURNING {EFFECT_COLUMNS}"
    )
}

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `postgres://…` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`PostgresStore::open`], with at most `max_connections` connections (at least one).
    pub async fn open_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(PgConnectOptions::from_str(url)?)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// How many migrations the database has applied.
    pub async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await?;
        Ok(count as usize)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn record_inbound(&self, inbound: &Inbound) -> Result<Claim, StoreError> {
        let r = inbound.conversation_ref.as_ref();
        let e = inbound.event.as_ref();
        let first: bool = sqlx::query_scalar(RECORD_INBOUND)
            .bind(inbound.conversation_id.as_str())
            .bind(inbound.activity_id.as_str())
            .bind(inbound.received_at.as_millisecond())
            .bind(inbound.expires_at.as_millisecond())
            .bind(r.map(|r| r.tenant_id.as_str()))
            .bind(r.map(|r| r.aad_object_id.as_str()))
            .bind(r.map(|r| r.conversation_id.as_str()))
            .bind(r.map(|r| r.service_url.as_str()))
            .bind(r.map(|r| r.bot_id.as_str()))
            .bind(r.map(|r| r.user_id.as_str()))
            .bind(r.map(|r| r.updated_at.as_millisecond()))
            .bind(e.map(|e| e.at.as_millisecond()))
            .bind(e.map(|e| e.tenant_id.as_str()))
            .bind(e.and_then(|e| e.aad_object_id.as_ref().map(AadObjectId::as_str)))
            .bind(e.map(|e| e.kind.as_str()))
            .bind(e.map(|e| Json(&e.data)))
            .fetch_one(&self.pool)
            .await?;
        Ok(if first {
            Claim::First
        } else {
            Claim::Duplicate
        })
    }

    async fn purge_expired_activities(&self, now: Timestamp) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM processed_activities WHERE expires_at_ms <= $1")
            .bind(now.as_millisecond())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted)
    }

    async fn upsert_conversation_ref(&self, r: &ConversationRef) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversation_refs \
                 (tenant_id, aad_object_id, conversation_id, service_url, bot_id, user_id, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn conversation_ref(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Option<ConversationRef>, StoreError> {
        let row: Option<RefColumns> = sqlx::query_as(
            "SELECT conversation_id, service_url, bot_id, user_id, updated_at_ms \
             FROM conversation_refs WHERE tenant_id = $1 AND aad_object_id = $2",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .fetch_optional(&self.pool)
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
            "DELETE FROM conversation_refs WHERE tenant_id = $1 AND aad_object_id = $2",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(deleted > 0)
    }

    async fn append_event(&self, event: &NewEvent) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO events (at_ms, tenant_id, aad_object_id, kind, data) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(event.at.as_millisecond())
        .bind(event.tenant_id.as_str())
        .bind(event.aad_object_id.as_ref().map(AadObjectId::as_str))
        .bind(&event.kind)
        .bind(Json(&event.data))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn events_for(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<(i64, i64, String, Json<serde_json::Value>)> = sqlx::query_as(
            "SELECT id, at_ms, kind, data FROM events \
             WHERE tenant_id = $1 AND aad_object_id = $2 \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .rev()
            .map(|(id, at_ms, kind, Json(data))| {
                Ok(Event {
                    id,
                    event: NewEvent {
                        at: timestamp_from_ms(at_ms)?,
                        tenant_id: tenant_id.clone(),
                        aad_object_id: Some(aad_object_id.clone()),
                        kind,
                        data,
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
        let row: Option<(Json<serde_json::Value>, i64, i64)> = sqlx::query_as(
            "SELECT state, version, updated_at_ms FROM journeys \
             WHERE tenant_id = $1 AND aad_object_id = $2",
        )
        .bind(tenant_id.as_str())
        .bind(aad_object_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(Json(state), version, updated_at_ms)| {
            Ok(StoredJourney {
                state,
                version,
                updated_at: timestamp_from_ms(updated_at_ms)?,
            })
        })
        .transpose()
    }

    async fn save_step(&self, step: &StepWrite) -> Result<SaveOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let version = step.expected_version.map_or(1, |v| v + 1);
        // The update's condition `version = $4 - 1` is "the stored version is the expected
        // one"; a concurrent update of the same row waits for ours, then finds it changed.
        let sql = match step.expected_version {
            None => {
                "INSERT INTO journeys (tenant_id, aad_object_id, state, version, updated_at_ms) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, aad_object_id) DO NOTHING"
            }
            Some(_) => {
                "UPDATE journeys SET state = $3, version = $4, updated_at_ms = $5 \
                 WHERE tenant_id = $1 AND aad_object_id = $2 AND version = $4 - 1"
            }
        };
        let written = sqlx::query(sql)
            .bind(step.tenant_id.as_str())
            .bind(step.aad_object_id.as_str())
            .bind(Json(&step.state))
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
            sqlx::query(
                "INSERT INTO events (at_ms, tenant_id, aad_object_id, kind, data) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(event.at.as_millisecond())
            .bind(event.tenant_id.as_str())
            .bind(event.aad_object_id.as_ref().map(AadObjectId::as_str))
            .bind(&event.kind)
            .bind(Json(&event.data))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(SaveOutcome::Saved {
            version,
            effect_ids,
        })
    }

    async fn enqueue_effect(&self, effect: &NewEffect) -> Result<Option<i64>, StoreError> {
        insert_effect(&mut *self.pool.acquire().await?, effect).await
    }

    async fn claim_effects(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Effect>, StoreError> {
        let sql = claim_sql("ORDER BY not_before_ms, id LIMIT $3");
        let rows: Vec<EffectColumns<Json<serde_json::Value>>> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(now.as_millisecond())
            .bind(lease_until_ms(now, lease))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
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
        let sql = claim_sql("AND id = ANY($3)");
        let rows: Vec<EffectColumns<Json<serde_json::Value>>> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(now.as_millisecond())
            .bind(lease_until_ms(now, lease))
            .bind(ids)
            .fetch_all(&self.pool)
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
             WHERE id = $1 AND attempts = $2 AND status IN ('pending', 'failed') \
                 AND lease_until_ms IS NOT NULL",
        )
        .bind(lease.id)
        .bind(lease.attempt)
        .execute(&self.pool)
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
            "UPDATE effects SET status = $3, not_before_ms = COALESCE($4, not_before_ms), \
                 lease_until_ms = NULL, last_error = $5 \
             WHERE id = $1 AND attempts = $2 AND status IN ('pending', 'failed') \
                 AND lease_until_ms IS NOT NULL",
        )
        .bind(lease.id)
        .bind(lease.attempt)
        .bind(status.as_str())
        .bind(retry_at.map(|t| t.as_millisecond()))
        .bind(stored_error(error))
        .execute(&self.pool)
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
             WHERE tenant_id = $1 AND aad_object_id = $2 AND status IN ('pending', 'failed') \
             ORDER BY id"
        );
        let rows: Vec<EffectColumns<Json<serde_json::Value>>> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant_id.as_str())
            .bind(aad_object_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(effect_from_row).collect()
    }

    async fn effect_counts(&self) -> Result<EffectCounts, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM effects GROUP BY status")
                .fetch_all(&self.pool)
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
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&attempt.token_hash)
        .bind(attempt.tenant_id.as_str())
        .bind(attempt.aad_object_id.as_str())
        .bind(attempt.conversation_id.as_str())
        .bind(attempt.login_hint.as_deref())
        .bind(attempt.created_at.as_millisecond())
        .bind(attempt.expires_at.as_millisecond())
        .execute(&self.pool)
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
            "UPDATE test_signin_attempts SET started_at_ms = $2, state_hash = $3, nonce = $4, \
                 pkce_verifier = $5, expires_at_ms = $6 \
             WHERE token_hash = $1 AND started_at_ms IS NULL AND expires_at_ms > $2 \
             RETURNING {ATTEMPT_COLUMNS}"
        );
        let claimed: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now.as_millisecond())
            .bind(&flow.state_hash)
            .bind(&flow.secrets.nonce)
            .bind(&flow.secrets.pkce_verifier)
            .bind(flow.expires_at.as_millisecond())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = claimed {
            return Ok(AttemptClaim::Claimed(
                attempt_from_columns(row, Step::Start)?.0,
            ));
        }
        let sql =
            format!("SELECT {ATTEMPT_COLUMNS} FROM test_signin_attempts WHERE token_hash = $1");
        let row: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        refused(row, Step::Start)
    }

    async fn finish_test_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<AttemptClaim, StoreError> {
        let sql = format!(
            "UPDATE test_signin_attempts SET finished_at_ms = $2 \
             WHERE state_hash = $1 AND finished_at_ms IS NULL AND expires_at_ms > $2 \
             RETURNING {ATTEMPT_COLUMNS}"
        );
        let claimed: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(state_hash)
            .bind(now.as_millisecond())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = claimed {
            return Ok(AttemptClaim::Claimed(
                attempt_from_columns(row, Step::Finish)?.0,
            ));
        }
        let sql =
            format!("SELECT {ATTEMPT_COLUMNS} FROM test_signin_attempts WHERE state_hash = $1");
        let row: Option<AttemptColumns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(state_hash)
            .fetch_optional(&self.pool)
            .await?;
        refused(row, Step::Finish)
    }

    async fn purge_test_attempts(&self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM test_signin_attempts WHERE expires_at_ms < $1")
            .bind(before.as_millisecond())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
