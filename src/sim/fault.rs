//! Fault injection: per surface, a queue of error statuses for the next responses and an
//! added latency, so tests and demos can show how the bot copes with a misbehaving Microsoft.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One simulated Microsoft service, as the bot sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// Entra and Bot Framework login: OpenID metadata, JWKS and the token endpoint.
    Identity,
    /// The Bot Connector (`/amer/v3/...`).
    Connector,
    /// Microsoft Graph (`/v1.0/...`, `/beta/...`).
    Graph,
}

impl Surface {
    pub fn parse(raw: &str) -> Option<Surface> {
        match raw {
            "identity" => Some(Surface::Identity),
            "connector" => Some(Surface::Connector),
            "graph" => Some(Surface::Graph),
            _ => None,
        }
    }
}

/// What a surface should do to the next requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultPlan {
    /// HTTP statuses (429, 500, 503, …) answered to the next requests, one each, in order.
    pub statuses: Vec<u16>,
    /// `Retry-After` seconds sent with an injected 429 or 503.
    pub retry_after_secs: u64,
    /// Delay added to every request until the plan is cleared.
    pub latency_ms: u64,
}

#[derive(Debug, Default)]
struct SurfaceFaults {
    statuses: VecDeque<u16>,
    retry_after_secs: u64,
    latency: Duration,
}

/// The fault plans of all surfaces.
#[derive(Debug, Default)]
pub struct Faults {
    surfaces: Mutex<HashMap<Surface, SurfaceFaults>>,
}

/// What to do with one request.
struct Decision {
    latency: Duration,
    status: Option<u16>,
    retry_after_secs: u64,
}

impl Faults {
    /// Replaces the plan of `surface`.
    pub fn set(&self, surface: Surface, plan: FaultPlan) {
        let faults = SurfaceFaults {
            statuses: plan.statuses.into(),
            retry_after_secs: plan.retry_after_secs,
            latency: Duration::from_millis(plan.latency_ms),
        };
        self.lock().insert(surface, faults);
    }

    /// Removes the plan of `surface`.
    pub fn clear(&self, surface: Surface) {
        self.lock().remove(&surface);
    }

    /// Removes every plan.
    pub fn clear_all(&self) {
        self.lock().clear();
    }

    /// How many injected errors are still queued for `surface`.
    pub fn pending(&self, surface: Surface) -> usize {
        self.lock().get(&surface).map_or(0, |f| f.statuses.len())
    }

    fn next(&self, surface: Surface) -> Decision {
        let mut surfaces = self.lock();
        match surfaces.get_mut(&surface) {
            Some(f) => Decision {
                latency: f.latency,
                status: f.statuses.pop_front(),
                retry_after_secs: f.retry_after_secs,
            },
            None => Decision {
                latency: Duration::ZERO,
                status: None,
                retry_after_secs: 0,
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Surface, SurfaceFaults>> {
        self.surfaces.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Axum middleware: waits the surface's latency, then answers an injected error in that
/// surface's own error shape or passes the request on.
pub async fn inject(
    State((faults, surface)): State<(Arc<Faults>, Surface)>,
    request: Request,
    next: Next,
) -> Response {
    let decision = faults.next(surface);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let Some(status) = decision.status else {
        return next.run(request).await;
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match surface {
        Surface::Connector => {
            let code = match status {
                StatusCode::TOO_MANY_REQUESTS => "Throttled",
                StatusCode::PRECONDITION_FAILED => "PreconditionFailed",
                _ => "ServiceError",
            };
            json!({"error": {"code": code, "message": format!("Injected fault: HTTP {}", status.as_u16())}})
        }
        Surface::Graph => {
            let code = match status {
                StatusCode::TOO_MANY_REQUESTS => "TooManyRequests",
                StatusCode::SERVICE_UNAVAILABLE => "serviceNotAvailable",
                StatusCode::GATEWAY_TIMEOUT => "gatewayTimeout",
                _ => "generalException",
            };
            json!({"error": {
                "code": code,
                "message": format!("Injected fault: HTTP {}", status.as_u16()),
                "innerError": {
                    "date": jiff::Timestamp::now().to_string(),
                    "request-id": uuid::Uuid::new_v4().to_string(),
                    "client-request-id": uuid::Uuid::new_v4().to_string(),
                },
            }})
        }
        Surface::Identity => json!({
            "error": "temporarily_unavailable",
            "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
            "error_codes": [90033],
        }),
    };
    let mut response = (status, Json(body)).into_response();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) && decision.retry_after_secs > 0
    {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(decision.retry_after_secs));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_statuses_are_used_once_each_in_order() {
        let faults = Faults::default();
        faults.set(
            Surface::Connector,
            FaultPlan {
                statuses: vec![503, 429],
                ..FaultPlan::default()
            },
        );
        assert_eq!(faults.next(Surface::Connector).status, Some(503));
        assert_eq!(faults.next(Surface::Identity).status, None);
        assert_eq!(faults.next(Surface::Connector).status, Some(429));
        assert_eq!(faults.next(Surface::Connector).status, None);
        assert_eq!(faults.pending(Surface::Connector), 0);
    }
}
