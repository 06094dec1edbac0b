//! Test sign-in attempts as the store keeps them: a link bound to one person's conversation,
//! claimed once to start the sign-in and once more at the callback, so any replica can run
//! either step.

use std::fmt;

use jiff::Timestamp;

use super::{StoreError, timestamp_from_ms};
use crate::ids::{AadObjectId, ConversationId, TenantId};

/// A test sign-in link just handed out.
#[derive(Clone, PartialEq, Eq)]
pub struct NewTestAttempt {
    /// SHA-256 (hex) of the opaque link token; the token itself is never stored.
    pub token_hash: String,
    pub tenant_id: TenantId,
    pub aad_object_id: AadObjectId,
    pub conversation_id: ConversationId,
    /// The person's UPN, passed to Entra as `login_hint`.
    pub login_hint: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl fmt::Debug for NewTestAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewTestAttempt")
            .field("tenant_id", &self.tenant_id)
            .field("aad_object_id", &self.aad_object_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What starting the sign-in records: the flow's `state` (hashed), nonce and PKCE verifier,
/// and the new deadline for the callback.
#[derive(Clone, PartialEq, Eq)]
pub struct TestFlow {
    /// SHA-256 (hex) of the `state` parameter.
    pub state_hash: String,
    pub secrets: FlowSecrets,
    pub expires_at: Timestamp,
}

/// The values the callback needs back. Never logged: `Debug` leaves them out.
#[derive(Clone, PartialEq, Eq)]
pub struct FlowSecrets {
    pub nonce: String,
    pub pkce_verifier: String,
}

impl fmt::Debug for TestFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestFlow")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for FlowSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlowSecrets { .. }")
    }
}

/// A stored attempt, as a claim returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestAttempt {
    pub tenant_id: TenantId,
    pub aad_object_id: AadObjectId,
    pub conversation_id: ConversationId,
    pub login_hint: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Present once the sign-in was started.
    pub flow: Option<FlowSecrets>,
}

/// The result of claiming a link (to start) or a `state` (at the callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptClaim {
    /// This caller holds the step; nobody else will get it.
    Claimed(TestAttempt),
    /// The step was already taken, by this or another replica.
    AlreadyUsed(TestAttempt),
    /// The deadline passed before the step was taken.
    Expired(TestAttempt),
    /// No attempt with that link or state.
    Unknown,
}

/// The SQL backends' columns of an attempt, in [`ATTEMPT_COLUMNS`] order.
pub(super) type AttemptColumns = (
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// The columns a claim returns.
pub(super) const ATTEMPT_COLUMNS: &str = "tenant_id, aad_object_id, conversation_id, login_hint, \
     created_at_ms, expires_at_ms, started_at_ms, nonce, pkce_verifier, finished_at_ms";

/// Which step a claim takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Start,
    Finish,
}

/// Builds the attempt from its columns; `used` says whether `step` was already taken.
pub(super) fn attempt_from_columns(
    row: AttemptColumns,
    step: Step,
) -> Result<(TestAttempt, bool), StoreError> {
    let (
        tenant,
        oid,
        conversation,
        login_hint,
        created,
        expires,
        started,
        nonce,
        verifier,
        finished,
    ) = row;
    let corrupt = |what: &str, e: &dyn fmt::Display| StoreError::Corrupt(format!("{what}: {e}"));
    let attempt = TestAttempt {
        tenant_id: TenantId::parse(&tenant).map_err(|e| corrupt("tenant id", &e))?,
        aad_object_id: AadObjectId::parse(&oid).map_err(|e| corrupt("object id", &e))?,
        conversation_id: ConversationId::parse(&conversation)
            .map_err(|e| corrupt("conversation id", &e))?,
        login_hint,
        created_at: timestamp_from_ms(created)?,
        expires_at: timestamp_from_ms(expires)?,
        flow: match (nonce, verifier) {
            (Some(nonce), Some(pkce_verifier)) => Some(FlowSecrets {
                nonce,
                pkce_verifier,
            }),
            _ => None,
        },
    };
    let used = match step {
        Step::Start => started.is_some(),
        Step::Finish => finished.is_some(),
    };
    Ok((attempt, used))
}

/// The claim for a row the conditional update did not take.
pub(super) fn refused(row: Option<AttemptColumns>, step: Step) -> Result<AttemptClaim, StoreError> {
    let Some(row) = row else {
        return Ok(AttemptClaim::Unknown);
    };
    let (attempt, used) = attempt_from_columns(row, step)?;
    Ok(if used {
        AttemptClaim::AlreadyUsed(attempt)
    } else {
        AttemptClaim::Expired(attempt)
    })
}
