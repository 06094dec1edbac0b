//! What the engine needs from the outside world besides the store and the Bot Connector,
//! as small traits: a readiness assessment of one person, the person's test sign-in link and
//! adding someone to a group. The application plugs real implementations in; tests plug in
//! fakes or point these at the simulator.

use std::sync::Arc;

use async_trait::async_trait;

use crate::conversation::{DevicePlan, DeviceStatus, PlanVerdict, PlannedDevice};
use crate::graph::models::AuthenticationMethod;
use crate::graph::{GraphClient, GraphError, MembershipChange};
use crate::ids::{AadObjectId, TenantId};

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
    /// `fresh`: bypass caches (after "I've done it", before enforcing).
    async fn assess(
        &self,
        tenant: &TenantId,
        person: &AadObjectId,
        fresh: bool,
    ) -> Result<DevicePlan, AssessError>;
}

/// The test sign-in link of a person (an authorization request bound to their chat).
pub trait TestLinks: Send + Sync + 'static {
    fn test_url(&self, tenant: &TenantId, person: &AadObjectId) -> Option<String>;
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
    /// With Graph: the interim [`MethodsAssessor`] and Graph's group add; without: parts
    /// that fail, so the journey says "try again later" instead of guessing.
    pub fn from_graph(graph: Option<GraphClient>, why_not: &str) -> Ports {
        match graph {
            Some(graph) => Ports {
                assessor: Arc::new(MethodsAssessor {
                    graph: graph.clone(),
                }),
                test_links: Arc::new(NoTestLinks),
                groups: Arc::new(graph),
            },
            None => Ports {
                assessor: Arc::new(Unavailable(why_not.to_owned())),
                test_links: Arc::new(NoTestLinks),
                groups: Arc::new(Unavailable(why_not.to_owned())),
            },
        }
    }
}

/// No test sign-in app is wired in: the test card says so instead of offering a link.
pub struct NoTestLinks;

impl TestLinks for NoTestLinks {
    fn test_url(&self, _: &TenantId, _: &AadObjectId) -> Option<String> {
        None
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
        _: bool,
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

/// An interim assessment from the person's authentication methods alone (the full one reads
/// devices and sign-ins too): no phishing-resistant credential → one phone that needs a
/// passkey in Authenticator; one or more → only a test sign-in is missing.
pub struct MethodsAssessor {
    pub graph: GraphClient,
}

#[async_trait]
impl Assessor for MethodsAssessor {
    async fn assess(
        &self,
        _tenant: &TenantId,
        person: &AadObjectId,
        fresh: bool,
    ) -> Result<DevicePlan, AssessError> {
        if fresh {
            self.graph.invalidate_user(person.as_str()).await;
        }
        let methods = self.graph.authentication_methods(person.as_str()).await?;
        let credentials = methods
            .iter()
            .filter(|m| {
                matches!(
                    m,
                    AuthenticationMethod::Fido2(_)
                        | AuthenticationMethod::WindowsHello(_)
                        | AuthenticationMethod::PlatformCredential(_)
                )
            })
            .count() as u32;
        Ok(methods_plan(credentials, jiff::Timestamp::now()))
    }
}

/// The plan [`MethodsAssessor`] gives for a number of phishing-resistant credentials.
pub fn methods_plan(credentials: u32, at: jiff::Timestamp) -> DevicePlan {
    let status = if credentials == 0 {
        DeviceStatus::NeedsPasskey {
            options: vec!["authenticatorPasskey".into()],
        }
    } else {
        DeviceStatus::NeedsTest {
            hint: "notTriedSinceRegistration".into(),
        }
    };
    DevicePlan {
        assessed_at: at,
        verdict: PlanVerdict::NotYet,
        devices: vec![PlannedDevice {
            key: "phone".into(),
            label: "Phone".into(),
            os: "ios".into(),
            status,
        }],
        credentials,
    }
}
