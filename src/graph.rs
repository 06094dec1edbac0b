//! Microsoft Graph: a typed client for the few endpoints the product uses
//! (reference/graph.md), with app-only tokens, paging, `$batch`, retries that honour
//! `Retry-After`, a per-tenant budget that paces requests *before* they are sent so bulk
//! reads stay under Graph's documented limits, short-lived caches of per-user reads, and
//! counters of what was sent.
//!
//! The base URL is configuration: the global cloud, a national cloud or the simulator.

mod batch;
pub mod budget;
mod client;
mod counters;
mod endpoints;
pub mod error;
pub mod models;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::botframework::token::{
    ClientCredentialSettings, ClientCredentials, ManagedIdentity, TokenError, TokenSource,
    WorkloadIdentity,
};
use crate::config::{GraphAuth, GraphConfig};

pub use self::batch::{BatchRequest, BatchResponse};
pub use self::budget::Category;
pub use self::client::{ApiVersion, GraphClient, RetryPolicy};
pub use self::counters::GraphCounters;
pub use self::endpoints::{
    InstallOutcome, MAX_CHECK_GROUPS, MembershipChange, SignInQuery, UserQuery,
};
pub use self::error::GraphError;

/// The token source `graph.auth` asks for, with the Graph scope of the configured cloud.
pub fn token_source(
    config: &GraphConfig,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenSource>, TokenError> {
    Ok(match config.auth {
        GraphAuth::ClientSecret => {
            if config.token_url.is_empty() {
                return Err(TokenError::Misconfigured {
                    reason: "graph.tenant_id (or graph.token_url) is not set".into(),
                });
            }
            Arc::new(ClientCredentials::with_settings(
                ClientCredentialSettings {
                    client_id: ("graph.client_id", &config.client_id),
                    client_secret: ("graph.client_secret", &config.client_secret),
                    token_url: ("graph.token_url", &config.token_url),
                    scope: ("graph.token_scope", &config.token_scope),
                },
                http,
            )?)
        }
        GraphAuth::ManagedIdentity => Arc::new(ManagedIdentity::for_scope(
            Some(&config.client_id),
            &config.token_scope,
            http,
        )?),
        GraphAuth::WorkloadIdentity => Arc::new(WorkloadIdentity::for_scope(
            &config.tenant_id,
            &config.client_id,
            &config.token_scope,
            http,
        )?),
    })
}
