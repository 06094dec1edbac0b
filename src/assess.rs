//! `passkey-pilot assess`: readiness from Microsoft Graph, for one person (`--user`, from
//! their own method list and sign-ins) or for the whole tenant (`--all`, from bulk report
//! reads only: a per-person fan-out over the reports API would need days at its documented
//! 5 requests / 10 s).
//!
//! Graph's models are mapped into readiness's snapshot in [`map`]; readiness itself stays
//! pure.

pub mod map;
mod person;
mod report;
mod tenant;

use jiff::{SignedDuration, Timestamp};

use crate::config::Config;
use crate::graph::{GraphClient, GraphError};
use crate::readiness::{PasskeyPolicy, PersonSnapshot, Rules, TargetPopulation};

pub use person::{
    PersonAssessment, PersonLogs, assess_person, assess_person_with_logs, render_person,
};
pub use report::{
    CSV_HEADER, DeviceRow, NudgeLists, OutputFormat, PersonRow, Stage, TenantReport, print_report,
    write_report,
};
pub use tenant::{BulkSummary, assess_all};

/// What an assessment decides by, besides each person's own data.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rules: Rules,
    pub target: TargetPopulation,
    /// The tenant's FIDO2 policy; read from Graph when `None`.
    pub policy: Option<PasskeyPolicy>,
    /// `enforcement.group_id` (lower case): its members are at the `enforced` stage.
    pub enforcement_group_id: Option<String>,
    pub now: Timestamp,
}

impl Settings {
    /// From `[readiness]`, at `now`, with the policy read from Graph.
    pub fn from_config(config: &Config, now: Timestamp) -> Settings {
        Settings {
            rules: config.readiness.effective_rules(),
            target: config.readiness.target(),
            policy: None,
            enforcement_group_id: (!config.enforcement.group_id.is_empty())
                .then(|| config.enforcement.group_id.to_ascii_lowercase()),
            now,
        }
    }

    /// Whether the person is in the enforcement group (their snapshot's memberships come from
    /// [`Settings::population_groups`], which include it).
    pub fn enforced(&self, snapshot: &PersonSnapshot) -> bool {
        in_group(self.enforcement_group_id.as_deref(), snapshot)
    }

    /// Sign-ins from here on count (`readiness.rules.window_days` back from `now`).
    pub fn window_start(&self) -> Timestamp {
        self.now - SignedDuration::from_hours(24 * i64::from(self.rules.window_days))
    }

    /// The groups whose membership the report needs: target, excluded and enforcement groups.
    fn population_groups(&self) -> Vec<String> {
        self.target
            .target_group_id
            .iter()
            .chain(&self.target.excluded_group_ids)
            .chain(&self.enforcement_group_id)
            .map(|g| g.to_ascii_lowercase())
            .collect()
    }

    /// The policy given, or the tenant's as Graph says.
    async fn policy(&self, graph: &GraphClient) -> Result<PasskeyPolicy, AssessError> {
        if let Some(p) = &self.policy {
            return Ok(p.clone());
        }
        let c = graph.fido2_policy().await.map_err(AssessError::Policy)?;
        Ok(map::passkey_policy(&c))
    }
}

/// Why an assessment could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("no such person: {upn}")]
    NoSuchPerson { upn: String },
    #[error("cannot read the tenant's passkey (FIDO2) policy: {0}")]
    Policy(GraphError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("--out {path}: the report is written as .csv or .json, by the file's extension")]
    OutExtension { path: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the assessment task failed: {reason}")]
    Task { reason: String },
}

impl AssessError {
    /// The process exit status: 2 for unusable arguments, 1 for failures at run time.
    pub fn exit_code(&self) -> u8 {
        match self {
            AssessError::OutExtension { .. } => 2,
            AssessError::Graph(GraphError::Config { .. }) => 2,
            _ => 1,
        }
    }
}

/// Whether the snapshot's memberships include `group` (none: no).
pub(crate) fn in_group(group: Option<&str>, snapshot: &PersonSnapshot) -> bool {
    group.is_some_and(|g| snapshot.group_ids.iter().any(|m| m.eq_ignore_ascii_case(g)))
}
