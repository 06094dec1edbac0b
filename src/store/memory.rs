//! An in-memory store: the reference behaviour in one mutex, for unit tests and `memory://`.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Mutex;

use super::{AttemptClaim, FlowSecrets, NewTestAttempt, TestAttempt, TestFlow};
use super::{
    Claim, ConversationRef, Effect, EffectCounts, EffectLease, EffectStatus, Event, Inbound,
    NewEffect, NewEvent, SaveOutcome, StepWrite, Store, StoreError, StoredJourney, lease_until_ms,
    stored_error, timestamp_from_ms,
};
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
    journeys: HashMap<(String, String), StoredJourney>,
    /// The outbox; an effect's id is its position + 1.
    effects: Vec<Effect>,
    idempotency_keys: HashSet<String>,
    /// token hash → test sign-in attempt
    test_attempts: HashMap<String, MemoryAttempt>,
}

/// A test sign-in attempt and how far it got.
struct MemoryAttempt {
    new: NewTestAttempt,
    expires_at: Timestamp,
    state_hash: Option<String>,
    secrets: Option<FlowSecrets>,
    finished: bool,
}

impl MemoryAttempt {
    fn attempt(&self) -> TestAttempt {
        TestAttempt {
            tenant_id: self.new.tenant_id.clone(),
            aad_object_id: self.new.aad_object_id.clone(),
            conversation_id: self.new.conversation_id.clone(),
            login_hint: self.new.login_hint.clone(),
            created_at: self.new.created_at,
            expires_at: self.expires_at,
            flow: self.secrets.clone(),
        }
    }
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

    /// Inserts an effect unless its idempotency key exists; returns its id if inserted.
    fn enqueue(&mut self, effect: &NewEffect) -> Option<i64> {
        if let Some(key) = &effect.idempotency_key
            && !self.idempotency_keys.insert(key.clone())
        {
            return None;
        }
        let id = self.effects.len() as i64 + 1;
        self.effects.push(Effect {
            id,
            effect: effect.clone(),
            status: EffectStatus::Pending,
            attempts: 0,
            lease_until: None,
            last_error: None,
        });
        Some(id)
    }

    /// The effect `lease` names, if that claim is still its latest and it is open and leased.
    fn held(&mut self, lease: EffectLease) -> Option<&mut Effect> {
        let index = usize::try_from(lease.id.checked_sub(1)?).ok()?;
        self.effects.get_mut(index).filter(|e| {
            e.attempts == lease.attempt && e.status.is_open() && e.lease_until.is_some()
        })
    }
}

/// Whether a claim at `now` may take the effect: open, due and not leased.
fn claimable(e: &Effect, now: Timestamp) -> bool {
    e.status.is_open()
        && e.effect.not_before <= now
        && e.lease_until.is_none_or(|until| until <= now)
}

/// Claims the effect until `until`; returns the claimed copy.
fn lease_to(e: &mut Effect, until: Timestamp) -> Effect {
    e.attempts += 1;
    e.lease_until = Some(until);
    e.clone()
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

    async fn load_journey(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Option<StoredJourney>, StoreError> {
        Ok(self
            .inner
            .lock()
            .await
            .journeys
            .get(&(tenant_id.to_string(), aad_object_id.to_string()))
            .cloned())
    }

    async fn save_step(&self, step: &StepWrite) -> Result<SaveOutcome, StoreError> {
        let mut inner = self.inner.lock().await;
        let key = (step.tenant_id.to_string(), step.aad_object_id.to_string());
        let stored = inner.journeys.get(&key).map(|j| j.version);
        if stored != step.expected_version {
            return Ok(SaveOutcome::Conflict);
        }
        let version = step.expected_version.map_or(1, |v| v + 1);
        inner.journeys.insert(
            key,
            StoredJourney {
                state: step.state.clone(),
                version,
                updated_at: step.at,
            },
        );
        let effect_ids = step
            .effects
            .iter()
            .filter_map(|e| inner.enqueue(e))
            .collect();
        for event in &step.events {
            inner.append(event);
        }
        Ok(SaveOutcome::Saved {
            version,
            effect_ids,
        })
    }

    async fn enqueue_effect(&self, effect: &NewEffect) -> Result<Option<i64>, StoreError> {
        Ok(self.inner.lock().await.enqueue(effect))
    }

    async fn claim_effects(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Effect>, StoreError> {
        let until = timestamp_from_ms(lease_until_ms(now, lease))?;
        let mut inner = self.inner.lock().await;
        let mut due: Vec<&mut Effect> = inner
            .effects
            .iter_mut()
            .filter(|e| claimable(e, now))
            .collect();
        due.sort_by_key(|e| (e.effect.not_before, e.id));
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|e| lease_to(e, until))
            .collect())
    }

    async fn claim_effects_by_id(
        &self,
        ids: &[i64],
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Vec<Effect>, StoreError> {
        let until = timestamp_from_ms(lease_until_ms(now, lease))?;
        let wanted: HashSet<i64> = ids.iter().copied().collect();
        let mut inner = self.inner.lock().await;
        Ok(inner
            .effects
            .iter_mut()
            .filter(|e| wanted.contains(&e.id) && claimable(e, now))
            .map(|e| lease_to(e, until))
            .collect())
    }

    async fn complete_effect(&self, lease: EffectLease) -> Result<bool, StoreError> {
        let mut inner = self.inner.lock().await;
        let Some(effect) = inner.held(lease) else {
            return Ok(false);
        };
        effect.status = EffectStatus::Done;
        effect.lease_until = None;
        Ok(true)
    }

    async fn fail_effect(
        &self,
        lease: EffectLease,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let mut inner = self.inner.lock().await;
        let Some(effect) = inner.held(lease) else {
            return Ok(false);
        };
        effect.lease_until = None;
        effect.last_error = Some(stored_error(error));
        match retry_at {
            Some(at) => {
                effect.status = EffectStatus::Failed;
                effect.effect.not_before = at;
            }
            None => effect.status = EffectStatus::Dead,
        }
        Ok(true)
    }

    async fn pending_effects_for(
        &self,
        tenant_id: &TenantId,
        aad_object_id: &AadObjectId,
    ) -> Result<Vec<Effect>, StoreError> {
        Ok(self
            .inner
            .lock()
            .await
            .effects
            .iter()
            .filter(|e| {
                e.status.is_open()
                    && &e.effect.tenant_id == tenant_id
                    && &e.effect.aad_object_id == aad_object_id
            })
            .cloned()
            .collect())
    }

    async fn effect_counts(&self) -> Result<EffectCounts, StoreError> {
        let mut counts = EffectCounts::default();
        for e in &self.inner.lock().await.effects {
            counts.add(e.status, 1);
        }
        Ok(counts)
    }

    async fn insert_test_attempt(&self, attempt: &NewTestAttempt) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().await;
        if inner.test_attempts.contains_key(&attempt.token_hash) {
            return Err(StoreError::Corrupt("duplicate test attempt token".into()));
        }
        inner.test_attempts.insert(
            attempt.token_hash.clone(),
            MemoryAttempt {
                new: attempt.clone(),
                expires_at: attempt.expires_at,
                state_hash: None,
                secrets: None,
                finished: false,
            },
        );
        Ok(())
    }

    async fn start_test_attempt(
        &self,
        token_hash: &str,
        flow: &TestFlow,
        now: Timestamp,
    ) -> Result<AttemptClaim, StoreError> {
        let mut inner = self.inner.lock().await;
        let Some(a) = inner.test_attempts.get_mut(token_hash) else {
            return Ok(AttemptClaim::Unknown);
        };
        if a.state_hash.is_some() {
            return Ok(AttemptClaim::AlreadyUsed(a.attempt()));
        }
        if a.expires_at <= now {
            return Ok(AttemptClaim::Expired(a.attempt()));
        }
        a.state_hash = Some(flow.state_hash.clone());
        a.secrets = Some(flow.secrets.clone());
        a.expires_at = flow.expires_at;
        Ok(AttemptClaim::Claimed(a.attempt()))
    }

    async fn finish_test_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<AttemptClaim, StoreError> {
        let mut inner = self.inner.lock().await;
        let Some(a) = inner
            .test_attempts
            .values_mut()
            .find(|a| a.state_hash.as_deref() == Some(state_hash))
        else {
            return Ok(AttemptClaim::Unknown);
        };
        if a.finished {
            return Ok(AttemptClaim::AlreadyUsed(a.attempt()));
        }
        if a.expires_at <= now {
            return Ok(AttemptClaim::Expired(a.attempt()));
        }
        a.finished = true;
        Ok(AttemptClaim::Claimed(a.attempt()))
    }

    async fn purge_test_attempts(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut inner = self.inner.lock().await;
        let was = inner.test_attempts.len();
        inner.test_attempts.retain(|_, a| a.expires_at >= before);
        Ok((was - inner.test_attempts.len()) as u64)
    }
}
