//! What the engine needs from the outside world besides the store and the Bot Connector,
//! as small traits: a readiness assessment of one person, the person's test sign-in link and
//! adding someone to a group. The application plugs real implementations in; tests plug in
//! fakes or point these at the simulator.

use std::sync::Arc;

use async_trait::async_trait;

use crate::assess::{PersonLogs, Settings as AssessSettings, assess_person_with_logs};
use crate::conversation::{DevicePlan, Look};
use crate::graph::{GraphClient, GraphError, MembershipChange};
use crate::ids::{AadObjectId, ConversationId, TenantId};

/// Why a person could not be assessed; the journey shows "try again later".
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("graph: {0}")]
    Graph(#[from] GraphError),
    #[error("no assessor is configured: {0}")]
    Unavailable(String),
}

/// Looks at a person's methods, devices and sign-ins and says what each device needs.
#[async_trait]
pub trait Assessor: Send + Sync + 'static {
    /// `look`: how fresh the data must be.
    async fn assess(
        &self,
        tenant: &TenantId,
        person: &AadObjectId,
        look: Look,
    ) -> Result<DevicePlan, AssessError>;
}

/// Why a test sign-in link could not be made; the test card says "try again" instead.
#[derive(Debug, thiserror::Error)]
#[error("the test sign-in link could not be made: {0}")]
pub struct LinkError(pub String);

/// Hands out test sign-in links: an authorization request bound to the person and their
/// chat, single use, short-lived. The engine asks only when it shows a test card.
#[async_trait]
pub trait TestLinks: Send + Sync + 'static {
    /// A fresh link for `person` in `conversation`, or `None` when the test sign-in is not
    /// configured. `login_hint` is the person's UPN when the engine knows it.
    async fn test_url(
        &self,
        tenant: &TenantId,
        person: &AadObjectId,
        conversation: &ConversationId,
        login_hint: Option<&str>,
    ) -> Result<Option<String>, LinkError>;
}

/// Why a group add did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("graph: {0}")]
    Graph(#[from] GraphError),
    #[error("no group client is configured: {0}")]
    Unavailable(String),
}

/// How a group add ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Added,
    AlreadyMember,
}

/// Adds people to the enforcement group.
#[async_trait]
pub trait Groups: Send + Sync + 'static {
    async fn add_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<Membership, MembershipError>;
}

#[async_trait]
impl Groups for GraphClient {
    async fn add_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<Membership, MembershipError> {
        Ok(match self.add_group_member(group_id, user_id).await? {
            MembershipChange::AlreadyMember => Membership::AlreadyMember,
            _ => Membership::Added,
        })
    }
}

/// The replaceable parts of the engine.
#[derive(Clone)]
pub struct Ports {
    pub assessor: Arc<dyn Assessor>,
    pub test_links: Arc<dyn TestLinks>,
    pub groups: Arc<dyn Groups>,
}

impl Ports {
    /// With Graph: the readiness assessment of [`GraphAssessor`] and Graph's group add;
    /// without: parts that fail, so the journey says "try again later" instead of guessing.
    /// `test_links`: the test sign-in when it is configured (otherwise [`NoTestLinks`]).
    /// `log_reuse`: how long a person's sign-ins and audits are reused between assessments.
    pub fn from_graph(
        graph: Option<GraphClient>,
        why_not: &str,
        settings: AssessSettings,
        log_reuse: std::time::Duration,
        test_links: Arc<dyn TestLinks>,
    ) -> Ports {
        match graph {
            Some(graph) => Ports {
                assessor: Arc::new(
                    GraphAssessor::new(graph.clone(), settings, system_clock())
                        .with_log_reuse(log_reuse),
                ),
                test_links,
                groups: Arc::new(graph),
            },
            None => Ports {
                assessor: Arc::new(Unavailable(why_not.to_owned())),
                test_links,
                groups: Arc::new(Unavailable(why_not.to_owned())),
            },
        }
    }
}

/// No test sign-in app is configured: the test card says so instead of offering a link.
pub struct NoTestLinks;

#[async_trait]
impl TestLinks for NoTestLinks {
    async fn test_url(
        &self,
        _: &TenantId,
        _: &AadObjectId,
        _: &ConversationId,
        _: Option<&str>,
    ) -> Result<Option<String>, LinkError> {
        Ok(None)
    }
}

/// Graph is not configured.
pub struct Unavailable(pub String);

#[async_trait]
impl Assessor for Unavailable {
    async fn assess(
        &self,
        _: &TenantId,
        _: &AadObjectId,
        _: Look,
    ) -> Result<DevicePlan, AssessError> {
        Err(AssessError::Unavailable(self.0.clone()))
    }
}

#[async_trait]
impl Groups for Unavailable {
    async fn add_member(&self, _: &str, _: &str) -> Result<Membership, MembershipError> {
        Err(MembershipError::Unavailable(self.0.clone()))
    }
}

/// The clock an assessment reads "now" from.
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(jiff::Timestamp::now)
}

/// The readiness assessment of one person from Graph (methods, registered devices,
/// sign-ins and audits of the window, group membership, the tenant's passkey policy), as
/// the journey's device plan.
pub struct GraphAssessor {
    graph: GraphClient,
    settings: AssessSettings,
    clock: Clock,
    /// Each person's sign-ins and registration audits, reused until they are `log_reuse` old.
    logs: moka::future::Cache<String, PersonLogs>,
    log_reuse: jiff::SignedDuration,
}

/// People whose logs are kept at once (a journey needs them for minutes).
const LOG_CACHE_CAPACITY: u64 = 10_000;

impl GraphAssessor {
    /// `settings.now` is replaced by `clock` at each assessment. Logs are read every time
    /// until [`GraphAssessor::with_log_reuse`] says otherwise.
    pub fn new(graph: GraphClient, settings: AssessSettings, clock: Clock) -> GraphAssessor {
        GraphAssessor {
            graph,
            settings,
            clock,
            logs: moka::future::Cache::new(LOG_CACHE_CAPACITY),
            log_reuse: jiff::SignedDuration::ZERO,
        }
    }

    /// Reuses a person's sign-ins and registration audits for `reuse` (by the assessor's
    /// clock) between assessments, except for [`Look::Fresh`] (the look that decides
    /// enforcement reads everything). They are most of an assessment's cost in Graph's
    /// reports scope (5 requests per 10 s for the whole tenant), while what a journey waits
    /// for after "I've done it" (a new passkey) is in the method list, which every look but
    /// [`Look::Cached`] reads again.
    pub fn with_log_reuse(mut self, reuse: std::time::Duration) -> GraphAssessor {
        self.log_reuse = jiff::SignedDuration::try_from(reuse).unwrap_or(jiff::SignedDuration::MAX);
        self
    }
}

#[async_trait]
impl Assessor for GraphAssessor {
    async fn assess(
        &self,
        _tenant: &TenantId,
        person: &AadObjectId,
        look: Look,
    ) -> Result<DevicePlan, AssessError> {
        if look != Look::Cached {
            self.graph.invalidate_user(person.as_str()).await;
        }
        let settings = AssessSettings {
            now: (self.clock)(),
            ..self.settings.clone()
        };
        let now = settings.now;
        let key = person.as_str().to_ascii_lowercase();
        let reusable = match self.logs.get(&key).await {
            Some(l)
                if look != Look::Fresh
                    && !self.log_reuse.is_zero()
                    && now.duration_since(l.read_at) < self.log_reuse =>
            {
                Some(l)
            }
            _ => None,
        };
        let (assessed, logs) =
            assess_person_with_logs(&self.graph, &settings, person.as_str(), reusable)
                .await
                .map_err(|e| match e {
                    crate::assess::AssessError::Graph(e)
                    | crate::assess::AssessError::Policy(e) => AssessError::Graph(e),
                    other => AssessError::Unavailable(other.to_string()),
                })?;
        if !self.log_reuse.is_zero() {
            self.logs.insert(key, logs).await;
        }
        let mut plan = DevicePlan::from_assessment(&assessed.assessment);
        plan.login_hint = Some(assessed.snapshot.user_principal_name).filter(|u| !u.is_empty());
        Ok(plan)
    }
}
