//! The Bot Connector the bot calls back: create conversations, send, reply and update, behind
//! a bearer token the identity module issued for the Bot Framework audience.
//!
//! It keeps a bounded transcript per conversation (both sides: the channel records what the
//! person sent) and enforces Teams' published limits: per conversation 7 operations in 1 s,
//! 8 in 2 s, 60 in 30 s and 1800 in an hour, and 50 requests a second per app and tenant,
//! answering 429 `Throttled` with `Retry-After`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use super::channel::{object_id_of, personal_conversation_id};
use super::identity::{AccessClaims, BOT_AUDIENCE, Identity};

/// The region path the simulated service URL uses, as `https://smba.trafficmanager.net/amer/`.
pub const REGION_PATH: &str = "/amer";
/// Teams' limits per bot per conversation: (window, operations allowed in it).
pub const CONVERSATION_LIMITS: [(Duration, usize); 4] = [
    (Duration::from_secs(1), 7),
    (Duration::from_secs(2), 8),
    (Duration::from_secs(30), 60),
    (Duration::from_secs(3600), 1800),
];
/// Teams' global limit: requests per second per app per tenant.
pub const APP_TENANT_RPS: usize = 50;
/// Entries kept per conversation; older ones are dropped.
pub const TRANSCRIPT_LIMIT: usize = 500;
/// Conversations kept; the oldest is forgotten beyond this.
pub const CONVERSATION_LIMIT: usize = 250_000;

/// Who sent a transcript entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    User,
    Bot,
}

/// One message in a conversation, as the chat shows it now (updates replace `activity`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptEntry {
    pub id: String,
    pub sender: Sender,
    pub reply_to_id: Option<String>,
    pub activity: Value,
    /// How often the bot replaced this message.
    pub updates: u32,
    pub at: jiff::Timestamp,
}

struct Conversation {
    tenant_id: String,
    member: Option<uuid::Uuid>,
    entries: VecDeque<TranscriptEntry>,
    /// Times of the bot's operations in the last hour, oldest first.
    operations: VecDeque<Instant>,
}

#[derive(Default)]
struct ConnectorState {
    conversations: HashMap<String, Conversation>,
    created: VecDeque<String>,
    uninstalled: HashSet<uuid::Uuid>,
    /// Times of requests in the last second per (app id, tenant id).
    app_requests: HashMap<(String, String), VecDeque<Instant>>,
}

/// The simulated Bot Connector.
pub struct Connector {
    service_url: String,
    identity: Arc<Identity>,
    state: Mutex<ConnectorState>,
    activity_ids: AtomicU64,
}

/// An error as the Bot Connector answers it: `{"error":{"code","message"}}`.
#[derive(Debug)]
struct ConnectorError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ConnectorError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ConnectorError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ConnectorError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl Connector {
    /// The connector served at `{base_url}/amer/`.
    pub fn new(base_url: &str, identity: Arc<Identity>) -> Connector {
        let start = u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or_default();
        Connector {
            service_url: format!("{}{REGION_PATH}/", base_url.trim_end_matches('/')),
            identity,
            state: Mutex::new(ConnectorState::default()),
            activity_ids: AtomicU64::new(start),
        }
    }

    /// The `serviceUrl` Teams puts in activities (ends with `/`).
    pub fn service_url(&self) -> &str {
        &self.service_url
    }

    /// A unique message id in Teams' numeric shape.
    pub fn next_activity_id(&self) -> String {
        self.activity_ids
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
    }

    /// Makes a conversation known (the channel calls this before delivering into it).
    pub fn open_conversation(&self, id: &str, tenant_id: &str, member: Option<uuid::Uuid>) {
        let mut state = self.lock();
        open(&mut state, id, tenant_id, member);
    }

    /// Marks the app installed or removed for a person; removed, sends to them get 403.
    pub fn set_installed(&self, object_id: uuid::Uuid, installed: bool) {
        let mut state = self.lock();
        if installed {
            state.uninstalled.remove(&object_id);
        } else {
            state.uninstalled.insert(object_id);
        }
    }

    /// Appends an activity to a conversation's transcript; returns its id.
    pub fn record(&self, conversation: &str, sender: Sender, activity: Value) -> String {
        let id = activity["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| self.next_activity_id());
        let mut state = self.lock();
        if let Some(c) = state.conversations.get_mut(conversation) {
            push(c, id.clone(), sender, activity);
        }
        id
    }

    /// The transcript of a conversation, oldest first; `None` if it is unknown.
    pub fn transcript(&self, conversation: &str) -> Option<Vec<TranscriptEntry>> {
        let state = self.lock();
        state
            .conversations
            .get(conversation)
            .map(|c| c.entries.iter().cloned().collect())
    }

    /// What the bot has sent into a conversation, oldest first.
    pub fn bot_messages(&self, conversation: &str) -> Vec<TranscriptEntry> {
        self.transcript(conversation)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.sender == Sender::Bot)
            .collect()
    }

    /// Forgets every conversation, installation and rate-limit window.
    pub fn reset(&self) {
        *self.lock() = ConnectorState::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ConnectorState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The claims of the request's bearer token, if it is one the identity module issued
    /// for the Bot Framework audience.
    fn authorize(&self, headers: &HeaderMap) -> Option<AccessClaims> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))?;
        self.identity.verify_access_token(token, BOT_AUDIENCE).ok()
    }

    /// Counts one operation of `app` in `conversation`, or says how long to wait.
    fn admit(
        state: &mut ConnectorState,
        app: &str,
        tenant: &str,
        conversation: &str,
    ) -> Result<(), ConnectorError> {
        let now = Instant::now();
        let throttled = |wait: Duration, message: String| {
            let mut e = ConnectorError::new(StatusCode::TOO_MANY_REQUESTS, "Throttled", message);
            e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
            e
        };
        let global = state
            .app_requests
            .entry((app.to_owned(), tenant.to_owned()))
            .or_default();
        prune(global, now, Duration::from_secs(1));
        if global.len() >= APP_TENANT_RPS {
            let wait = (global[global.len() - APP_TENANT_RPS] + Duration::from_secs(1))
                .saturating_duration_since(now);
            return Err(throttled(
                wait,
                format!("The app exceeded {APP_TENANT_RPS} requests per second in this tenant."),
            ));
        }
        if let Some(c) = state.conversations.get_mut(conversation) {
            prune(&mut c.operations, now, Duration::from_secs(3600));
            for (window, limit) in CONVERSATION_LIMITS {
                let first = c
                    .operations
                    .partition_point(|t| now.saturating_duration_since(*t) >= window);
                let in_window = c.operations.len() - first;
                if in_window >= limit {
                    let wait = (c.operations[c.operations.len() - limit] + window)
                        .saturating_duration_since(now);
                    return Err(throttled(
                        wait,
                        format!(
                            "The bot exceeded {limit} operations in {} s in this conversation.",
                            window.as_secs()
                        ),
                    ));
                }
            }
            c.operations.push_back(now);
        }
        let global = state
            .app_requests
            .entry((app.to_owned(), tenant.to_owned()))
            .or_default();
        global.push_back(now);
        Ok(())
    }

    /// Send or reply: the conversation must exist and still have the bot in it.
    fn post_activity(
        &self,
        claims: &AccessClaims,
        conversation: &str,
        reply_to_id: Option<String>,
        activity: Value,
    ) -> Result<Response, ConnectorError> {
        if activity["type"].as_str().is_none_or(str::is_empty) {
            return Err(ConnectorError::new(
                StatusCode::BAD_REQUEST,
                "BadArgument",
                "Activity type is required.",
            ));
        }
        let mut state = self.lock();
        let (tenant, member) = match state.conversations.get(conversation) {
            Some(c) => (c.tenant_id.clone(), c.member),
            None => return Err(not_found_conversation()),
        };
        if member.is_some_and(|m| state.uninstalled.contains(&m)) {
            return Err(ConnectorError::new(
                StatusCode::FORBIDDEN,
                "BotNotInConversationRoster",
                "The bot is not part of the conversation roster.",
            ));
        }
        Self::admit(&mut state, &claims.appid, &tenant, conversation)?;
        let id = self.next_activity_id();
        let mut activity = activity;
        activity["id"] = json!(id);
        if let Some(reply_to) = &reply_to_id {
            activity["replyToId"] = json!(reply_to);
        }
        let c = state
            .conversations
            .get_mut(conversation)
            .expect("checked above under the same lock");
        push(c, id.clone(), Sender::Bot, activity);
        Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
    }

    fn update_activity(
        &self,
        claims: &AccessClaims,
        conversation: &str,
        activity_id: &str,
        activity: Value,
    ) -> Result<Response, ConnectorError> {
        let mut state = self.lock();
        let tenant = match state.conversations.get(conversation) {
            Some(c) => c.tenant_id.clone(),
            None => return Err(not_found_conversation()),
        };
        let known = state.conversations[conversation]
            .entries
            .iter()
            .any(|e| e.id == activity_id && e.sender == Sender::Bot);
        if !known {
            return Err(ConnectorError::new(
                StatusCode::NOT_FOUND,
                "ActivityNotFoundInConversation",
                "The activity was not found in the conversation.",
            ));
        }
        Self::admit(&mut state, &claims.appid, &tenant, conversation)?;
        let c = state
            .conversations
            .get_mut(conversation)
            .expect("checked above under the same lock");
        if let Some(entry) = c.entries.iter_mut().find(|e| e.id == activity_id) {
            let mut activity = activity;
            activity["id"] = json!(activity_id);
            entry.activity = activity;
            entry.updates += 1;
        }
        Ok((StatusCode::OK, Json(json!({ "id": activity_id }))).into_response())
    }

    fn create_conversation(
        &self,
        claims: &AccessClaims,
        params: Value,
    ) -> Result<Response, ConnectorError> {
        let tenant = params["tenantId"]
            .as_str()
            .or_else(|| {
                params
                    .pointer("/channelData/tenant/id")
                    .and_then(Value::as_str)
            })
            .unwrap_or(self.identity.tenant_id())
            .to_ascii_lowercase();
        let channel = params
            .pointer("/channelData/channel/id")
            .and_then(Value::as_str);
        let mut state = self.lock();
        let (conversation, member, activity_id) = match (params["isGroup"].as_bool(), channel) {
            (Some(true), Some(channel)) => {
                let root = self.next_activity_id();
                (format!("{channel};messageid={root}"), None, Some(root))
            }
            _ => {
                let members = params["members"].as_array().map(Vec::as_slice);
                let Some([member]) = members else {
                    return Err(ConnectorError::new(
                        StatusCode::BAD_REQUEST,
                        "BadArgument",
                        "A 1:1 conversation needs exactly one member.",
                    ));
                };
                let raw = member["id"].as_str().unwrap_or_default();
                let oid = uuid::Uuid::parse_str(raw)
                    .ok()
                    .or_else(|| object_id_of(raw))
                    .ok_or_else(|| {
                        ConnectorError::new(
                            StatusCode::BAD_REQUEST,
                            "BadArgument",
                            "Invalid user identity in provided tenant.",
                        )
                    })?;
                if state.uninstalled.contains(&oid) {
                    return Err(ConnectorError::new(
                        StatusCode::FORBIDDEN,
                        "ForbiddenOperationException",
                        "Bot is not installed in user's personal scope",
                    ));
                }
                let activity_id = params["activity"]
                    .is_object()
                    .then(|| self.next_activity_id());
                (personal_conversation_id(&oid), Some(oid), activity_id)
            }
        };
        open(&mut state, &conversation, &tenant, member);
        Self::admit(&mut state, &claims.appid, &tenant, &conversation)?;
        let mut body = json!({ "id": conversation });
        if let (Some(id), Some(activity)) = (activity_id, params.get("activity"))
            && activity.is_object()
        {
            let mut activity = activity.clone();
            activity["id"] = json!(id);
            let c = state
                .conversations
                .get_mut(&conversation)
                .expect("opened above under the same lock");
            push(c, id.clone(), Sender::Bot, activity);
            body["activityId"] = json!(id);
        }
        Ok((StatusCode::CREATED, Json(body)).into_response())
    }
}

fn not_found_conversation() -> ConnectorError {
    ConnectorError::new(
        StatusCode::NOT_FOUND,
        "ConversationNotFound",
        "Conversation not found.",
    )
}

fn open(state: &mut ConnectorState, id: &str, tenant_id: &str, member: Option<uuid::Uuid>) {
    if let Some(c) = state.conversations.get_mut(id) {
        if member.is_some() {
            c.member = member;
        }
        return;
    }
    state.conversations.insert(
        id.to_owned(),
        Conversation {
            tenant_id: tenant_id.to_ascii_lowercase(),
            member,
            entries: VecDeque::new(),
            operations: VecDeque::new(),
        },
    );
    state.created.push_back(id.to_owned());
    while state.created.len() > CONVERSATION_LIMIT {
        if let Some(old) = state.created.pop_front() {
            state.conversations.remove(&old);
        }
    }
}

fn push(c: &mut Conversation, id: String, sender: Sender, activity: Value) {
    let reply_to_id = activity["replyToId"].as_str().map(str::to_owned);
    c.entries.push_back(TranscriptEntry {
        id,
        sender,
        reply_to_id,
        activity,
        updates: 0,
        at: jiff::Timestamp::now(),
    });
    while c.entries.len() > TRANSCRIPT_LIMIT {
        c.entries.pop_front();
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

/// The connector routes, relative to the service URL's region path.
pub fn routes(connector: Arc<Connector>) -> Router {
    Router::new()
        .route("/v3/conversations", post(create))
        .route("/v3/conversations/{conversation}/activities", post(send))
        .route(
            "/v3/conversations/{conversation}/activities/{activity}",
            post(reply).put(update),
        )
        .layer(axum::middleware::map_response(correlate))
        .with_state(connector)
}

/// Every connector response carries an operation id, as Teams' does.
async fn correlate(mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response
            .headers_mut()
            .insert("x-correlating-operationid", value);
    }
    response
}

/// The connector's 401, in the shape of its ASP.NET front end.
fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Authorization has been denied for this request."})),
    )
        .into_response()
}

fn answer(result: Result<Response, ConnectorError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

fn json_body(body: &[u8]) -> Result<Value, ConnectorError> {
    serde_json::from_slice(body).map_err(|_| {
        ConnectorError::new(
            StatusCode::BAD_REQUEST,
            "BadSyntax",
            "The request body is not valid JSON.",
        )
    })
}

async fn create(
    State(connector): State<Arc<Connector>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(claims) = connector.authorize(&headers) else {
        return denied();
    };
    answer(json_body(&body).and_then(|params| connector.create_conversation(&claims, params)))
}

async fn send(
    State(connector): State<Arc<Connector>>,
    Path(conversation): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(claims) = connector.authorize(&headers) else {
        return denied();
    };
    answer(
        json_body(&body)
            .and_then(|activity| connector.post_activity(&claims, &conversation, None, activity)),
    )
}

async fn reply(
    State(connector): State<Arc<Connector>>,
    Path((conversation, reply_to)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(claims) = connector.authorize(&headers) else {
        return denied();
    };
    answer(json_body(&body).and_then(|activity| {
        connector.post_activity(&claims, &conversation, Some(reply_to), activity)
    }))
}

async fn update(
    State(connector): State<Arc<Connector>>,
    Path((conversation, activity_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(claims) = connector.authorize(&headers) else {
        return denied();
    };
    answer(json_body(&body).and_then(|activity| {
        connector.update_activity(&claims, &conversation, &activity_id, activity)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with(conversation: &str) -> ConnectorState {
        let mut state = ConnectorState::default();
        open(&mut state, conversation, "t", None);
        state
    }

    #[test]
    fn the_eighth_operation_in_a_second_is_throttled() {
        let mut state = state_with("a:1");
        for _ in 0..7 {
            Connector::admit(&mut state, "app", "t", "a:1").unwrap();
        }
        let err = Connector::admit(&mut state, "app", "t", "a:1").unwrap_err();
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(err.code, "Throttled");
        assert_eq!(err.retry_after, Some(1));
        // Another conversation is not affected.
        open(&mut state, "a:2", "t", None);
        Connector::admit(&mut state, "app", "t", "a:2").unwrap();
    }

    #[test]
    fn fifty_requests_a_second_per_app_and_tenant() {
        let mut state = ConnectorState::default();
        for i in 0..50 {
            let id = format!("a:{i}");
            open(&mut state, &id, "t", None);
            Connector::admit(&mut state, "app", "t", &id).unwrap();
        }
        open(&mut state, "a:50", "t", None);
        let err = Connector::admit(&mut state, "app", "t", "a:50").unwrap_err();
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        Connector::admit(&mut state, "other-app", "t", "a:50").unwrap();
    }

    #[test]
    fn transcripts_are_bounded() {
        let mut state = state_with("a:1");
        let c = state.conversations.get_mut("a:1").unwrap();
        for i in 0..TRANSCRIPT_LIMIT + 10 {
            push(c, i.to_string(), Sender::Bot, json!({"type": "message"}));
        }
        assert_eq!(c.entries.len(), TRANSCRIPT_LIMIT);
        assert_eq!(c.entries[0].id, "10");
    }
}
