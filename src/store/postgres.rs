//! The PostgreSQL store, for several replicas sharing one database.
//!
//! Objects live in the first schema of the connection's `search_path`; a URL can choose it
//! with `?options[search_path]=name` (the tests give each test its own schema that way).

use std::str::FromStr;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::types::Json;

use super::{
    Claim, ConversationRef, Event, Inbound, NewEvent, RefColumns, Store, StoreError,
    conversation_ref_from_columns, timestamp_from_ms,
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
}
