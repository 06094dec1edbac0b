//! HTTP routes: the Bot Framework webhook and the operational endpoints.
//!
//! `POST /api/messages`: token → body → activity ↔ token binding → tenant → engine. Every
//! rejection happens before anything is stored or sent, and is one log line with the reason.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::botframework::Activity;
use crate::botframework::auth::{ChannelAuthenticator, Rejection};
use crate::engine::{Engine, Outcome};
use crate::ids::TenantId;

const REQUEST_ID: &str = "x-request-id";

/// Everything a request handler needs; built once at start-up.
pub struct AppState {
    pub auth: ChannelAuthenticator,
    pub engine: Engine,
    /// Lower-case tenant GUIDs whose traffic is accepted.
    pub allowed_tenants: HashSet<String>,
    pub max_body_bytes: usize,
    /// `dev.allow_anonymous`: a request with no `Authorization` header skips the token check.
    pub allow_anonymous: bool,
    /// The test sign-in's routes, when `test_signin.client_id` is set.
    pub test_signin: Option<Arc<crate::testsignin::TestSignIn>>,
}

/// The whole HTTP surface, apart from `main` so tests can serve it on port 0.
pub fn router(state: Arc<AppState>, request_timeout: Duration) -> Router {
    let test_signin = state.test_signin.clone();
    let mut routes = Router::new()
        .route("/api/messages", post(messages))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(state);
    if let Some(service) = test_signin {
        routes = routes.merge(crate::testsignin::routes(service));
    }
    routes
        .layer(middleware::from_fn(record_metrics))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::new(header::HeaderName::from_static(REQUEST_ID)))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let request_id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %request_id)
        }))
        .layer(SetRequestIdLayer::new(header::HeaderName::from_static(REQUEST_ID), MakeRequestUuid))
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("passkey_pilot_http_requests_total", "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("passkey_pilot_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

fn reject(rejection: Rejection) -> Response {
    metrics::counter!("passkey_pilot_auth_rejections_total", "reason" => rejection.reason())
        .increment(1);
    tracing::warn!(
        reason = rejection.reason(),
        status = rejection.status().as_u16(),
        "request rejected"
    );
    let mut response = rejection.status().into_response();
    if rejection.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn bad_request(status: StatusCode, reason: &str) -> Response {
    tracing::warn!(reason, status = status.as_u16(), "request refused");
    (
        status,
        Json(json!({ "error": { "code": "BadRequest", "message": reason } })),
    )
        .into_response()
}

async fn messages(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let too_large = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > state.max_body_bytes as u64);
    if too_large {
        return bad_request(StatusCode::PAYLOAD_TOO_LARGE, "body exceeds the size limit");
    }
    let anonymous = state.allow_anonymous && !headers.contains_key(header::AUTHORIZATION);
    let token = if anonymous {
        tracing::warn!("anonymous request accepted: dev.allow_anonymous is on");
        None
    } else {
        match state.auth.verify(&headers).await {
            Ok(token) => Some(token),
            Err(rejection) => return reject(rejection),
        }
    };
    let bytes = match axum::body::to_bytes(body, state.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let too_big = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if too_big {
                bad_request(StatusCode::PAYLOAD_TOO_LARGE, "body exceeds the size limit")
            } else {
                bad_request(StatusCode::BAD_REQUEST, "body could not be read")
            };
        }
    };
    let activity: Activity = match serde_json::from_slice(&bytes) {
        Ok(activity) => activity,
        Err(e) => {
            let reason = match e.classify() {
                serde_json::error::Category::Data => "body is not a Bot Framework activity",
                _ => "body is not valid JSON",
            };
            return bad_request(StatusCode::BAD_REQUEST, reason);
        }
    };
    if let Some(token) = &token
        && let Err(rejection) = token.check_activity(&activity)
    {
        return reject(rejection);
    }
    let tenant_id = match tenant_of(&activity, &state.allowed_tenants) {
        Ok(t) => t,
        Err(rejection) => return reject(rejection),
    };
    match state.engine.handle(&activity, &tenant_id).await {
        Ok(Outcome::Ack) => StatusCode::OK.into_response(),
        Ok(Outcome::InvokeResponse(body)) => (StatusCode::OK, Json(body)).into_response(),
        Err(e) => {
            // The request was valid; the failure is ours. Teams redelivers on errors, and the
            // activity is claimed only once stored, so answering 500 loses nothing.
            tracing::error!(error = %e, "activity handling failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The activity's tenant, which must be allowed: `channelData.tenant.id` and
/// `conversation.tenantId` must agree where both are present, and one must be.
fn tenant_of(activity: &Activity, allowed: &HashSet<String>) -> Result<TenantId, Rejection> {
    let (from_channel_data, from_conversation) = activity.tenant_ids();
    let parse = |t: Option<&str>| t.filter(|t| !t.is_empty()).map(TenantId::parse).transpose();
    let (a, b) = (
        parse(from_channel_data).map_err(|_| Rejection::TenantNotAllowed)?,
        parse(from_conversation).map_err(|_| Rejection::TenantNotAllowed)?,
    );
    let tenant = match (a, b) {
        (Some(a), Some(b)) if a == b => a,
        (Some(a), None) | (None, Some(a)) => a,
        _ => return Err(Rejection::TenantNotAllowed),
    };
    if allowed.contains(tenant.as_str()) {
        Ok(tenant)
    } else {
        Err(Rejection::TenantNotAllowed)
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let store = state.engine.store().ping().await;
    let keys = state.auth.keys().is_loaded().await;
    let ready = store.is_ok() && keys;
    let body = json!({
        "store": if store.is_ok() { "ok" } else { "unreachable" },
        "signing_keys": if keys { "loaded" } else { "not loaded" },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::metrics().render(),
    )
        .into_response()
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}
