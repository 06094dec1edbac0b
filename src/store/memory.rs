//! An in-memory store: the reference behaviour in one mutex, for unit tests and `memory://`.

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::sync::Mutex;

use super::{Claim, ConversationRef, Event, Inbound, NewEvent, Store, StoreError};
use crate::ids::{AadObjectId, TenantId};

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// (conversation id, activity id) → expires at
    activities: HashMap<(String, String), Timestamp>,
    refs: HashMap<(String, String), ConversationRef>,
    events: Vec<Event>,
}

impl Inner {
    fn append(&mut self, event: &NewEvent) -> i64 {
        let id = self.events.len() as i64 + 1;
        self.events.push(Event {
            id,
            event: event.clone(),
        });
        id
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn record_inbound(&self, inbound: &Inbound) -> Result<Claim, StoreError> {
        let mut inner = self.inner.lock().await;
        let key = (
            inbound.conversation_id.to_string(),
            inbound.activity_id.to_string(),
        );
        if let Some(expires_at) = inner.activities.get(&key)
            && *expires_at > inbound.received_at
        {
            return Ok(Claim::Duplicate);
        }
        inner.activities.insert(key, inbound.expires_at);
        if let Some(r) = &inbound.conversation_ref {
            inner.refs.insert(
                (r.tenant_id.to_string(), r.aad_object_id.to_string()),
                r.clone(),
            );
        }
        if let Some(e) = &inbound.event {
            inner.append(e);
        }
        Ok(Claim::First)
    }

    async fn purge_expired_activities(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut inner = self.inner.lock().await;
        let before = inner.activities.len();
        inner.activities.retain(|_, expires_at| *expires_at > now);
        Ok((before - inner.activities.len()) as u64)
    }

    async fn upsert_conversation_ref(&self, r: &ConversationRef) -> Result<(), StoreError> {
        self.inner.lock().await.refs.insert(
            (r.tenant_id.to_string(), r.aad_object_id.to_string()),
            r.clone(),
        );
        Ok(())
    }

    async fn conversation_ref(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Option<ConversationRef>, StoreError> {
        Ok(self
            .inner
            .lock()
            .await
            .refs
            .get(&(tenant_id.to_string(), aad_object_id.to_string()))
            .cloned())
    }

    async fn delete_conversation_ref(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .lock()
            .await
            .refs
            .remove(&(tenant_id.to_string(), aad_object_id.to_string()))
            .is_some())
    }

    async fn append_event(&self, event: &NewEvent) -> Result<i64, StoreError> {
        Ok(self.inner.lock().await.append(event))
    }

    async fn events_for(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let inner = self.inner.lock().await;
        let mut out: Vec<Event> = inner
            .events
            .iter()
            .rev()
            .filter(|e| {
                &e.event.tenant_id == tenant_id
                    && e.event.aad_object_id.as_ref() == Some(aad_object_id)
            })
            .take(limit as usize)
            .cloned()
            .collect();
        out.reverse();
        Ok(out)
    }
}
