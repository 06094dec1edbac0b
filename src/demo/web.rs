//! The chat page and the JSON endpoints behind it. The page, its script and the vendored
//! Adaptive Cards renderer are embedded in the binary.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DemoState, delivery_json};

const INDEX_HTML: &str = include_str!("web/index.html");
const DEMO_JS: &str = include_str!("web/demo.js");
const DEMO_CSS: &str = include_str!("web/demo.css");
/// Microsoft's renderer, npm `adaptivecards` 3.0.6 (MIT), vendored unchanged.
const ADAPTIVECARDS_JS: &str = include_str!("web/adaptivecards.min.js");
const ADAPTIVECARDS_LICENSE: &str = include_str!("web/adaptivecards.LICENSE.txt");

const JS: &str = "text/javascript; charset=utf-8";

pub(super) fn router(state: Arc<DemoState>) -> Router {
    Router::new()
        .route("/", get(|| asset("text/html; charset=utf-8", INDEX_HTML)))
        .route("/demo.js", get(|| asset(JS, DEMO_JS)))
        .route(
            "/demo.css",
            get(|| asset("text/css; charset=utf-8", DEMO_CSS)),
        )
        .route("/adaptivecards.min.js", get(|| asset(JS, ADAPTIVECARDS_JS)))
        .route(
            "/adaptivecards.LICENSE.txt",
            get(|| asset("text/plain; charset=utf-8", ADAPTIVECARDS_LICENSE)),
        )
        .route("/api/people", get(search))
        .route("/api/people/{id}/install", post(install))
        .route("/api/people/{id}/messages", post(send_message))
        .route("/api/people/{id}/actions", post(card_action))
        .route("/api/people/{id}/transcript", get(transcript))
        .route("/api/people/{id}/devices", get(devices))
        .route("/api/people/{id}/passkeys", post(register_passkey))
        .with_state(state)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn unknown_person() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such person in the simulated tenant",
    )
}

fn bot_unreachable(e: &reqwest::Error) -> Response {
    tracing::warn!(error = %e, "the demo could not reach the bot");
    error(StatusCode::BAD_GATEWAY, "the bot could not be reached")
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchQuery {
    q: String,
}

async fn search(State(state): State<Arc<DemoState>>, Query(query): Query<SearchQuery>) -> Response {
    Json(json!({ "people": state.search(&query.q) })).into_response()
}

async fn install(State(state): State<Arc<DemoState>>, Path(id): Path<String>) -> Response {
    let Some(person) = state.person(&id) else {
        return unknown_person();
    };
    match state.install(person).await {
        Ok(sent) => Json(json!({ "sent": sent })).into_response(),
        Err(e) => bot_unreachable(&e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageRequest {
    text: Option<String>,
    /// The data of an `Action.Submit`.
    value: Option<Value>,
}

async fn send_message(
    State(state): State<Arc<DemoState>>,
    Path(id): Path<String>,
    Json(request): Json<MessageRequest>,
) -> Response {
    let Some(person) = state.person(&id) else {
        return unknown_person();
    };
    let text = request.text.as_deref().filter(|t| !t.trim().is_empty());
    if text.is_none() && request.value.is_none() {
        return error(StatusCode::BAD_REQUEST, "a message needs text or a value");
    }
    let activity = state.message(person, text, request.value);
    match state.channel.deliver(&activity).await {
        Ok(d) => Json(delivery_json(d.status, d.body)).into_response(),
        Err(e) => bot_unreachable(&e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ActionRequest {
    /// The transcript id of the message whose card was clicked.
    reply_to_id: Option<String>,
    verb: String,
    #[serde(default)]
    data: Value,
}

async fn card_action(
    State(state): State<Arc<DemoState>>,
    Path(id): Path<String>,
    Json(request): Json<ActionRequest>,
) -> Response {
    let Some(person) = state.person(&id) else {
        return unknown_person();
    };
    let activity = state.channel.card_action(
        &DemoState::teams_user(person),
        request.reply_to_id.as_deref(),
        &request.verb,
        request.data,
    );
    match state.channel.deliver(&activity).await {
        Ok(d) => Json(delivery_json(d.status, d.body)).into_response(),
        Err(e) => bot_unreachable(&e),
    }
}

async fn transcript(State(state): State<Arc<DemoState>>, Path(id): Path<String>) -> Response {
    let Some(person) = state.person(&id) else {
        return unknown_person();
    };
    Json(json!({ "entries": state.transcript(person) })).into_response()
}

async fn devices(State(state): State<Arc<DemoState>>, Path(id): Path<String>) -> Response {
    let Some(person) = state.person(&id) else {
        return unknown_person();
    };
    Json(json!({ "devices": state.devices(person) })).into_response()
}

/// `{"device": "<name>", "kind": "authenticator" | "windowsHello" | "synced" | "securityKey"}`:
/// the person sets up a passkey there, as the register card told them.
async fn register_passkey(
    State(state): State<Arc<DemoState>>,
    Path(id): Path<String>,
    Json(request): Json<crate::sim::graph::PasskeyRegistration>,
) -> Response {
    let Some(person) = state.person(&id) else {
        return unknown_person();
    };
    match state.register_passkey(person, &request) {
        Ok(crate::sim::graph::RegistrationOutcome::Registered { visible_at, .. }) => {
            Json(json!({"result": "registered", "visibleAt": visible_at.to_string()}))
                .into_response()
        }
        Ok(crate::sim::graph::RegistrationOutcome::Failed { reason }) => {
            Json(json!({"result": "failed", "reason": reason})).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, &message),
    }
}
