//! The Bot Connector REST client: send, reply, update, create conversations, post to channels.
//!
//! Every call goes through the same path: the service URL is checked against the allow-list
//! before anything else (a forged `serviceUrl` must never receive the bot's token), then the
//! per-tenant and per-conversation pacers are waited on, then the request is sent with the
//! bearer token and retried on throttling and transient failures within `bot.max_attempts`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Jitter, Quota, RateLimiter};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use url::{Host, Url};

use super::activity::{
    Activity, ChannelAccount, ConversationParameters, ConversationResourceResponse,
    ResourceResponse,
};
use super::token::{TokenError, TokenSource, code_suffix, error_chain, sanitized_code};
use crate::config::BotConfig;

/// Per-request timeout: a call made while answering Teams stays within its 15 s.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The response header that identifies a call in Microsoft's logs.
const CORRELATION_HEADER: &str = "x-correlating-operationid";

/// Why an outbound call failed. Never carries a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The service URL is not one the bot may send its token to; nothing was sent.
    #[error("service URL {url:?} is not allowed: {reason}")]
    ServiceUrlNotAllowed { url: String, reason: &'static str },
    /// A conversation or activity id that cannot be a path segment (empty, `.`, `..`).
    #[error("{what} is not a usable id")]
    InvalidId { what: &'static str },
    #[error("no token for the Bot Connector: {0}")]
    Token(#[from] TokenError),
    /// 429 after the last attempt, or with a `Retry-After` too long to wait for inline.
    #[error("throttled by the Bot Connector{}", retry_after_suffix(.retry_after))]
    Throttled { retry_after: Option<Duration> },
    /// 403: the bot is blocked, uninstalled or not allowed there. Terminal for that recipient.
    #[error("forbidden by the Bot Connector{}", code_suffix(.code))]
    Forbidden { code: Option<String> },
    /// 404: the conversation or activity does not exist (any more).
    #[error("not found by the Bot Connector{}", code_suffix(.code))]
    NotFound { code: Option<String> },
    /// 413: the activity is too large.
    #[error("the activity is too large for the Bot Connector")]
    TooLarge,
    #[error("the Bot Connector refused the request: HTTP {status}{}", code_suffix(.code))]
    Rejected { status: u16, code: Option<String> },
    /// 412 or 5xx after the last attempt.
    #[error("the Bot Connector failed transiently: HTTP {status}")]
    Transient { status: u16 },
    #[error("the Bot Connector is unreachable: {reason}")]
    Unreachable { reason: String },
    /// A success status with a body that is not the expected answer (the call did happen).
    #[error("the Bot Connector answered with an unexpected body: {reason}")]
    InvalidResponse { reason: String },
}

impl ConnectorError {
    /// Whether the same call may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            ConnectorError::Throttled { .. }
            | ConnectorError::Transient { .. }
            | ConnectorError::Unreachable { .. } => true,
            ConnectorError::Token(e) => e.is_transient(),
            _ => false,
        }
    }
}

fn retry_after_suffix(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|d| format!(" (retry after {} s)", d.as_secs_f64().ceil()))
        .unwrap_or_default()
}

/// Which service URLs may receive the bot's token: https on an allow-listed host, plus http
/// and loopback hosts when `bot.allow_http_service_url` is set (local simulation).
#[derive(Debug, Clone)]
pub struct ServiceUrlPolicy {
    hosts: Vec<String>,
    allow_http_and_loopback: bool,
}

impl ServiceUrlPolicy {
    pub fn from_config(config: &BotConfig) -> ServiceUrlPolicy {
        ServiceUrlPolicy {
            hosts: config
                .service_url_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            allow_http_and_loopback: config.allow_http_service_url,
        }
    }

    /// Parses `raw` and accepts it only if the bot may call it.
    pub fn check(&self, raw: &str) -> Result<Url, ConnectorError> {
        let refuse = |reason| ConnectorError::ServiceUrlNotAllowed {
            url: raw.chars().take(200).collect(),
            reason,
        };
        let url = Url::parse(raw).map_err(|_| refuse("not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http_and_loopback => {}
            _ => return Err(refuse("scheme is not https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("carries credentials"));
        }
        let allowed = match url.host() {
            Some(Host::Domain(domain)) => {
                self.hosts.iter().any(|h| h.eq_ignore_ascii_case(domain))
                    || (self.allow_http_and_loopback && domain.eq_ignore_ascii_case("localhost"))
            }
            Some(Host::Ipv4(ip)) => {
                self.allow_http_and_loopback && ip == std::net::Ipv4Addr::LOCALHOST
            }
            Some(Host::Ipv6(ip)) => self.allow_http_and_loopback && ip.is_loopback(),
            None => false,
        };
        if allowed {
            Ok(url)
        } else {
            Err(refuse("host is not in bot.service_url_hosts"))
        }
    }
}

/// Checks a service URL against the configuration (for the inbound side to refuse early).
pub fn check_service_url(config: &BotConfig, url: &str) -> Result<Url, ConnectorError> {
    ServiceUrlPolicy::from_config(config).check(url)
}

/// How calls are retried and timed out. [`RetryPolicy::from_config`] gives the production
/// values; tests shorten the delays.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff delay; doubled per retry, plus up to as much again of jitter.
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// A 429 asking for a longer wait fails at once with `Throttled`, for the caller to requeue.
    pub max_retry_after: Duration,
    pub request_timeout: Duration,
}

impl RetryPolicy {
    pub fn from_config(config: &BotConfig) -> RetryPolicy {
        RetryPolicy {
            max_attempts: config.max_attempts.max(1),
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(30),
            request_timeout: REQUEST_TIMEOUT,
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        let retries = self.max_attempts.saturating_sub(1) as usize;
        ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            // backon is built without `std`, where its jitter seed would be a constant.
            .with_jitter_seed(rand::random())
            .with_max_times(retries)
    }
}

/// The shared HTTP client for outbound calls: a keep-alive pool, no redirects (a bearer token
/// never follows one) and a 10 s timeout per request.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("passkey-pilot/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Paces each key to `rps` requests per second, one at a time (burst 1), so no one-second
/// window sees more than `rps + 1`. Every [`Pacer::PRUNE_EVERY`] uses, keys idle for two
/// periods are dropped, which bounds memory however many conversations there are. It reads the
/// same monotonic clock as the timers it waits on.
struct Pacer {
    limiter: RateLimiter<
        String,
        DefaultKeyedStateStore<String>,
        MonotonicClock,
        NoOpMiddleware<Instant>,
    >,
    uses: AtomicU64,
}

impl Pacer {
    const PRUNE_EVERY: u64 = 1024;

    fn new(rps: u32) -> Pacer {
        let rps = NonZeroU32::new(rps).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rps).allow_burst(NonZeroU32::MIN);
        Pacer {
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), MonotonicClock),
            uses: AtomicU64::new(0),
        }
    }

    async fn wait(&self, key: &str) {
        let key = key.to_owned();
        self.limiter
            .until_key_ready_with_jitter(&key, Jitter::up_to(Duration::from_millis(5)))
            .await;
        if self.uses.fetch_add(1, Ordering::Relaxed) % Self::PRUNE_EVERY == Self::PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }
}

/// One call, prepared once and sent on every attempt.
struct Call {
    operation: &'static str,
    method: Method,
    url: Url,
    body: Bytes,
    tenant: String,
    conversation: Option<String>,
}

/// The Bot Connector client. One per process: it holds the pacers shared by all callers.
pub struct Connector {
    http: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
    policy: ServiceUrlPolicy,
    retry: RetryPolicy,
    per_tenant: Pacer,
    per_conversation: Pacer,
}

impl Connector {
    pub fn new(
        config: &BotConfig,
        tokens: Arc<dyn TokenSource>,
        http: reqwest::Client,
    ) -> Connector {
        Connector {
            http,
            tokens,
            policy: ServiceUrlPolicy::from_config(config),
            retry: RetryPolicy::from_config(config),
            per_tenant: Pacer::new(config.tenant_rps),
            per_conversation: Pacer::new(config.conversation_rps),
        }
    }

    /// Replaces the retry timings (tests use milliseconds).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Connector {
        self.retry = retry;
        self
    }

    pub fn service_url_policy(&self) -> &ServiceUrlPolicy {
        &self.policy
    }

    /// `POST /v3/conversations/{conversationId}/activities`: a new message at the end of the
    /// conversation.
    pub async fn send_to_conversation(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ConnectorError> {
        const OP: &str = "send_to_conversation";
        let base = self.allowed(OP, service_url)?;
        let url = endpoint(
            &base,
            &[("conversation id", conversation_id), ("", "activities")],
        )?;
        let call = self.call(OP, Method::POST, url, activity, activity_tenant(activity));
        self.execute(Call {
            conversation: Some(conversation_id.to_owned()),
            ..call
        })
        .await
    }

    /// `POST /v3/conversations/{conversationId}/activities/{activityId}`: a reply (in a channel,
    /// in the thread of `reply_to_id`). Sets `replyToId`.
    pub async fn reply_to_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        reply_to_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ConnectorError> {
        const OP: &str = "reply_to_activity";
        let base = self.allowed(OP, service_url)?;
        let url = endpoint(
            &base,
            &[
                ("conversation id", conversation_id),
                ("", "activities"),
                ("activity id", reply_to_id),
            ],
        )?;
        let activity = Activity {
            reply_to_id: Some(reply_to_id.to_owned()),
            ..activity.clone()
        };
        let call = self.call(OP, Method::POST, url, &activity, activity_tenant(&activity));
        self.execute(Call {
            conversation: Some(conversation_id.to_owned()),
            ..call
        })
        .await
    }

    /// `PUT /v3/conversations/{conversationId}/activities/{activityId}`: replaces a message the
    /// bot sent (e.g. a card after a click). The body carries the activity id.
    pub async fn update_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ConnectorError> {
        const OP: &str = "update_activity";
        let base = self.allowed(OP, service_url)?;
        let url = endpoint(
            &base,
            &[
                ("conversation id", conversation_id),
                ("", "activities"),
                ("activity id", activity_id),
            ],
        )?;
        let activity = Activity {
            id: Some(activity_id.to_owned()),
            ..activity.clone()
        };
        let call = self.call(OP, Method::PUT, url, &activity, activity_tenant(&activity));
        self.execute(Call {
            conversation: Some(conversation_id.to_owned()),
            ..call
        })
        .await
    }

    /// `POST /v3/conversations`: creates a conversation (and sends `params.activity` in it).
    pub async fn create_conversation(
        &self,
        service_url: &str,
        params: &ConversationParameters,
    ) -> Result<ConversationResourceResponse, ConnectorError> {
        self.create("create_conversation", service_url, params, None)
            .await
    }

    /// Creates (or finds) the 1:1 chat between the bot and a user, by the user's Entra object
    /// id or `29:` id, optionally sending a first activity in the same call.
    pub async fn create_personal_conversation(
        &self,
        service_url: &str,
        tenant_id: &str,
        user_id: &str,
        bot_id: &str,
        activity: Option<Activity>,
    ) -> Result<ConversationResourceResponse, ConnectorError> {
        let params = ConversationParameters {
            is_group: false,
            bot: Some(ChannelAccount {
                id: bot_id.to_owned(),
                ..ChannelAccount::default()
            }),
            members: vec![ChannelAccount {
                id: user_id.to_owned(),
                ..ChannelAccount::default()
            }],
            tenant_id: Some(tenant_id.to_owned()),
            channel_data: Some(serde_json::json!({ "tenant": { "id": tenant_id } })),
            activity,
        };
        self.create("create_conversation", service_url, &params, None)
            .await
    }

    /// Starts a new thread in a Teams channel with `activity` as its first message. The answer's
    /// `id` is the thread's conversation id (`19:…;messageid=…`), to reply in it.
    pub async fn send_to_channel(
        &self,
        service_url: &str,
        tenant_id: &str,
        channel_id: &str,
        activity: &Activity,
    ) -> Result<ConversationResourceResponse, ConnectorError> {
        let params = ConversationParameters {
            is_group: true,
            tenant_id: Some(tenant_id.to_owned()),
            channel_data: Some(serde_json::json!({
                "channel": { "id": channel_id },
                "tenant": { "id": tenant_id },
            })),
            activity: Some(activity.clone()),
            ..ConversationParameters::default()
        };
        self.create("send_to_channel", service_url, &params, Some(channel_id))
            .await
    }

    async fn create(
        &self,
        op: &'static str,
        service_url: &str,
        params: &ConversationParameters,
        conversation: Option<&str>,
    ) -> Result<ConversationResourceResponse, ConnectorError> {
        let base = self.allowed(op, service_url)?;
        let url = endpoint(&base, &[])?;
        let tenant = params.tenant_id.clone().or_else(|| {
            params
                .channel_data
                .as_ref()
                .and_then(|c| c.pointer("/tenant/id"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        });
        let call = self.call(op, Method::POST, url, params, tenant);
        self.execute(Call {
            conversation: conversation.map(str::to_owned),
            ..call
        })
        .await
    }

    /// The service URL if allowed; counts a refusal.
    fn allowed(&self, op: &'static str, service_url: &str) -> Result<Url, ConnectorError> {
        self.policy.check(service_url).inspect_err(|e| {
            count(op, "service_url_not_allowed");
            tracing::warn!(operation = op, error = %e, "outbound call refused");
        })
    }

    fn call(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        body: &impl serde::Serialize,
        tenant: Option<String>,
    ) -> Call {
        // Plain structs with string keys: serialising them cannot fail.
        let body = serde_json::to_vec(body).expect("request bodies serialise to JSON");
        let tenant = tenant
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| url.host_str().unwrap_or_default().to_owned())
            .to_ascii_lowercase();
        Call {
            operation,
            method,
            url,
            body: Bytes::from(body),
            tenant,
            conversation: None,
        }
    }

    /// Sends `call` with retries: 429 waits `Retry-After` when given, 412/5xx/network errors
    /// back off exponentially with jitter, 401 refreshes the token and retries once.
    async fn execute<T: DeserializeOwned>(&self, call: Call) -> Result<T, ConnectorError> {
        let mut refreshed_after_401 = false;
        let max_retry_after = self.retry.max_retry_after;
        (|| self.attempt::<T>(&call))
            .retry(self.retry.backoff())
            .sleep(tokio::time::sleep)
            .when(|e| match e {
                ConnectorError::Rejected { status: 401, .. } => {
                    !std::mem::replace(&mut refreshed_after_401, true)
                }
                e => e.is_transient(),
            })
            .adjust(|e, next| match e {
                ConnectorError::Rejected { status: 401, .. } => next.map(|_| Duration::ZERO),
                ConnectorError::Throttled {
                    retry_after: Some(wait),
                } if *wait > max_retry_after => None,
                ConnectorError::Throttled {
                    retry_after: Some(wait),
                } => next.map(|_| *wait),
                _ => next,
            })
            .notify(|e, delay| {
                tracing::debug!(operation = call.operation, error = %e, ?delay, "retrying");
            })
            .await
    }

    async fn attempt<T: DeserializeOwned>(&self, call: &Call) -> Result<T, ConnectorError> {
        let op = call.operation;
        self.per_tenant.wait(&call.tenant).await;
        if let Some(conversation) = &call.conversation {
            self.per_conversation.wait(conversation).await;
        }
        let token = self.tokens.token().await.map_err(|e| {
            count(op, "token_error");
            tracing::warn!(operation = op, error = %e, "no token for an outbound call");
            ConnectorError::Token(e)
        })?;
        let started = Instant::now();
        let mut request = self.http.request(call.method.clone(), call.url.clone());
        // An empty token comes only from the anonymous development mode.
        if !token.expose().is_empty() {
            request = request.bearer_auth(token.expose());
        }
        let sent = request
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(call.body.clone())
            .timeout(self.retry.request_timeout)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                metrics::histogram!("passkey_pilot_outbound_request_duration_seconds", "operation" => op)
                    .record(started.elapsed().as_secs_f64());
                count(
                    op,
                    if e.is_timeout() {
                        "timeout"
                    } else {
                        "unreachable"
                    },
                );
                let reason = error_chain(&e.without_url());
                tracing::warn!(operation = op, host = call.url.host_str(), %reason, "connector unreachable");
                return Err(ConnectorError::Unreachable { reason });
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await;
        metrics::histogram!("passkey_pilot_outbound_request_duration_seconds", "operation" => op)
            .record(started.elapsed().as_secs_f64());
        count(op, status.as_str());
        let correlation_id = headers
            .get(CORRELATION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);

        if status.is_success() {
            // The call happened even if its answer is unreadable: never retried from here.
            let body = body.map_err(|e| ConnectorError::InvalidResponse {
                reason: error_chain(&e.without_url()),
            })?;
            return parse_success(&body).inspect_err(|e| {
                tracing::warn!(operation = op, correlation_id, error = %e, "unexpected connector answer");
            });
        }

        let body = body.unwrap_or_default();
        let code = error_code(&body);
        if status.as_u16() == 401 {
            self.tokens.invalidate().await;
        }
        let error = classify(status.as_u16(), code, &headers);
        tracing::warn!(
            operation = op,
            status = status.as_u16(),
            correlation_id,
            host = call.url.host_str(),
            error = %error,
            "connector call failed"
        );
        Err(error)
    }
}

fn count(op: &'static str, status: &str) {
    metrics::counter!(
        "passkey_pilot_outbound_requests_total",
        "operation" => op,
        "status" => status.to_owned()
    )
    .increment(1);
}

/// The tenant an activity belongs to, for pacing.
fn activity_tenant(activity: &Activity) -> Option<String> {
    let (channel_data, conversation) = activity.tenant_ids();
    channel_data.or(conversation).map(str::to_owned)
}

/// `base` + `v3/conversations` + the given segments, each percent-encoded like the SDKs'
/// `encodeURIComponent`, whether or not `base` ends with a slash. Literal segments have an
/// empty `what`.
fn endpoint(base: &Url, segments: &[(&'static str, &str)]) -> Result<Url, ConnectorError> {
    let mut path = base.path().trim_end_matches('/').to_owned();
    path.push_str("/v3/conversations");
    for (what, segment) in segments {
        // No encoding survives URL normalisation of `.` and `..` (WHATWG treats `%2e` as `.`).
        if segment.is_empty() || *segment == "." || *segment == ".." {
            return Err(ConnectorError::InvalidId { what });
        }
        path.push('/');
        encode_segment(segment, &mut path);
    }
    let mut url = base.clone();
    url.set_path(&path);
    Ok(url)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(segment: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

fn parse_success<T: DeserializeOwned>(body: &[u8]) -> Result<T, ConnectorError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ConnectorError::InvalidResponse {
        reason: format!(
            "body is not the expected answer (line {} column {})",
            e.line(),
            e.column()
        ),
    })
}

/// The error code of a connector error body: `{"error":{"code":…}}`, or the older
/// `{"errorCode":209,"message":"{\"subCode\":\"MessageWritesBlocked\"…}"}`.
fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if let Some(code) = value.pointer("/error/code").and_then(|c| c.as_str()) {
        return sanitized_code(code);
    }
    let sub_code = value
        .get("message")
        .and_then(|m| m.as_str())
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|m| m.get("subCode")?.as_str().map(str::to_owned));
    if let Some(sub_code) = sub_code {
        return sanitized_code(&sub_code);
    }
    match value.get("errorCode")? {
        serde_json::Value::Number(n) => sanitized_code(&n.to_string()),
        serde_json::Value::String(s) => sanitized_code(s),
        _ => None,
    }
}

fn classify(status: u16, code: Option<String>, headers: &HeaderMap) -> ConnectorError {
    match status {
        429 => ConnectorError::Throttled {
            retry_after: retry_after(headers, jiff::Timestamp::now()),
        },
        403 => ConnectorError::Forbidden { code },
        404 => ConnectorError::NotFound { code },
        413 => ConnectorError::TooLarge,
        412 | 500 | 502 | 503 | 504 => ConnectorError::Transient { status },
        _ => ConnectorError::Rejected { status, code },
    }
}

/// `Retry-After` as seconds or as an HTTP date (a date in the past means now).
fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use jiff::{SignedDuration, Timestamp};
    use serde_json::json;

    use crate::botframework::token::AccessToken;
    use crate::config::Config;

    /// A token source that hands out `token-<generation>` and counts what it is asked.
    #[derive(Default)]
    struct FakeTokens {
        generation: AtomicUsize,
        handed_out: AtomicUsize,
        invalidations: AtomicUsize,
    }

    #[async_trait]
    impl TokenSource for FakeTokens {
        async fn token(&self) -> Result<AccessToken, TokenError> {
            self.handed_out.fetch_add(1, Ordering::SeqCst);
            let generation = self.generation.load(Ordering::SeqCst);
            Ok(AccessToken::new(
                format!("token-{generation}"),
                Timestamp::now() + SignedDuration::from_hours(1),
            ))
        }

        async fn invalidate(&self) {
            self.invalidations.fetch_add(1, Ordering::SeqCst);
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// One request as the fake connector saw it; `path` is raw (still percent-encoded).
    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        path: String,
        authorization: String,
        body: serde_json::Value,
        at: Instant,
    }

    type Script = dyn Fn(usize) -> Response + Send + Sync;

    struct FakeConnector {
        /// The service URL, with the regional path and trailing slash Teams sends.
        service_url: String,
        seen: Arc<Mutex<Vec<Seen>>>,
    }

    impl FakeConnector {
        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }
    }

    /// Starts a fake Bot Connector on 127.0.0.1:0 that answers the n-th request (from 0)
    /// with `script(n)`.
    async fn fake_connector(
        script: impl Fn(usize) -> Response + Send + Sync + 'static,
    ) -> FakeConnector {
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let script: Arc<Script> = Arc::new(script);
        let recorded = seen.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let recorded = recorded.clone();
            let script = script.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let n = {
                    let mut seen = recorded.lock().unwrap();
                    seen.push(Seen {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_owned(),
                        authorization: parts
                            .headers
                            .get("authorization")
                            .map(|v| v.to_str().unwrap().to_owned())
                            .unwrap_or_default(),
                        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                        at: Instant::now(),
                    });
                    seen.len() - 1
                };
                script(n)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeConnector {
            service_url: format!("http://{addr}/amer/"),
            seen,
        }
    }

    fn ok(body: serde_json::Value) -> Response {
        (StatusCode::CREATED, axum::Json(body)).into_response()
    }

    fn failure(status: StatusCode, code: &str) -> Response {
        (
            status,
            [(CORRELATION_HEADER, "op-123")],
            axum::Json(json!({ "error": { "code": code, "message": "…" } })),
        )
            .into_response()
    }

    fn bot_config() -> BotConfig {
        let mut bot = Config::defaults().bot;
        bot.allow_http_service_url = true;
        bot.tenant_rps = 50;
        bot.conversation_rps = 50;
        bot.max_attempts = 3;
        bot
    }

    fn fast_retries(bot: &BotConfig) -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            ..RetryPolicy::from_config(bot)
        }
    }

    fn connector_with(bot: &BotConfig) -> (Connector, Arc<FakeTokens>) {
        let tokens = Arc::new(FakeTokens::default());
        let connector = Connector::new(bot, tokens.clone(), http_client().unwrap())
            .with_retry_policy(fast_retries(bot));
        (connector, tokens)
    }

    fn connector() -> (Connector, Arc<FakeTokens>) {
        connector_with(&bot_config())
    }

    const TENANT: &str = "72f9a1b2-0000-4000-8000-000000000001";

    fn card() -> Activity {
        let mut activity = Activity::adaptive_card(json!({ "type": "AdaptiveCard" }));
        activity.conversation = Some(crate::botframework::ConversationAccount {
            id: "a:1".into(),
            tenant_id: Some(TENANT.into()),
            ..Default::default()
        });
        activity
    }

    #[test]
    fn connector_calls_can_run_on_spawned_tasks() {
        fn send<T: Send>(_: T) {}
        let (connector, _) = connector();
        let params = ConversationParameters::default();
        let a = card();
        send(connector.send_to_conversation("", "", &a));
        send(connector.reply_to_activity("", "", "", &a));
        send(connector.update_activity("", "", "", &a));
        send(connector.create_conversation("", &params));
        send(connector.create_personal_conversation("", "", "", "", None));
        send(connector.send_to_channel("", "", "", &a));
    }

    #[tokio::test]
    async fn send_posts_the_activity_with_the_bearer_token_and_encodes_the_id() {
        let fake = fake_connector(|_| ok(json!({ "id": "1575667808184" }))).await;
        let (connector, _) = connector();
        let sent = connector
            .send_to_conversation(&fake.service_url, "a:1qhN/x?y#z", &card())
            .await
            .unwrap();
        assert_eq!(sent.id, "1575667808184");
        let seen = fake.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, "POST");
        assert_eq!(
            seen[0].path,
            "/amer/v3/conversations/a%3A1qhN%2Fx%3Fy%23z/activities"
        );
        assert_eq!(seen[0].authorization, "Bearer token-0");
        assert_eq!(seen[0].body["type"], "message");
        assert_eq!(
            seen[0].body["attachments"][0]["contentType"],
            super::super::activity::ADAPTIVE_CARD
        );
    }

    #[tokio::test]
    async fn a_service_url_without_trailing_slash_gives_the_same_path() {
        let fake = fake_connector(|_| ok(json!({ "id": "1" }))).await;
        let (connector, _) = connector();
        let base = fake.service_url.trim_end_matches('/').to_owned();
        connector
            .send_to_conversation(&base, "a:1", &Activity::message())
            .await
            .unwrap();
        assert_eq!(
            fake.seen()[0].path,
            "/amer/v3/conversations/a%3A1/activities"
        );
    }

    #[tokio::test]
    async fn reply_posts_to_the_activity_and_sets_reply_to_id() {
        let fake = fake_connector(|_| ok(json!({ "id": "2" }))).await;
        let (connector, _) = connector();
        let thread = "19:abc@thread.tacv2;messageid=1759881511856";
        connector
            .reply_to_activity(&fake.service_url, thread, "1759881511856", &card())
            .await
            .unwrap();
        let seen = &fake.seen()[0];
        assert_eq!(seen.method, "POST");
        assert_eq!(
            seen.path,
            "/amer/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D1759881511856/activities/1759881511856"
        );
        assert_eq!(seen.body["replyToId"], "1759881511856");
        assert_eq!(seen.authorization, "Bearer token-0");
    }

    #[tokio::test]
    async fn update_puts_the_full_activity_with_its_id() {
        let fake =
            fake_connector(|_| (StatusCode::OK, axum::Json(json!({ "id": "3" }))).into_response())
                .await;
        let (connector, _) = connector();
        let updated = connector
            .update_activity(&fake.service_url, "a:1", "3", &card())
            .await
            .unwrap();
        assert_eq!(updated.id, "3");
        let seen = &fake.seen()[0];
        assert_eq!(seen.method, "PUT");
        assert_eq!(seen.path, "/amer/v3/conversations/a%3A1/activities/3");
        assert_eq!(seen.body["id"], "3");
        assert_eq!(seen.body["type"], "message");
        assert_eq!(seen.authorization, "Bearer token-0");
    }

    #[tokio::test]
    async fn an_id_that_url_normalisation_would_eat_is_refused() {
        let fake = fake_connector(|_| ok(json!({ "id": "1" }))).await;
        let (connector, _) = connector();
        let err = connector
            .update_activity(&fake.service_url, "a:1", "..", &card())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ConnectorError::InvalidId {
                what: "activity id"
            }
        );
        assert!(fake.seen().is_empty());
    }

    #[tokio::test]
    async fn create_personal_conversation_posts_the_parameters() {
        let fake = fake_connector(|_| ok(json!({ "id": "a:1new", "activityId": "9" }))).await;
        let (connector, _) = connector();
        let user = "7faf8ab2-0000-4000-8000-000000000001";
        let created = connector
            .create_personal_conversation(&fake.service_url, TENANT, user, "28:bot", Some(card()))
            .await
            .unwrap();
        assert_eq!(created.id, "a:1new");
        assert_eq!(created.activity_id.as_deref(), Some("9"));
        let seen = &fake.seen()[0];
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, "/amer/v3/conversations");
        assert_eq!(seen.authorization, "Bearer token-0");
        assert_eq!(seen.body["isGroup"], false);
        assert_eq!(seen.body["bot"]["id"], "28:bot");
        assert_eq!(seen.body["members"], json!([{ "id": user }]));
        assert_eq!(seen.body["tenantId"], TENANT);
        assert_eq!(seen.body["channelData"]["tenant"]["id"], TENANT);
        assert_eq!(seen.body["activity"]["type"], "message");
    }

    #[tokio::test]
    async fn create_conversation_posts_given_parameters_as_they_are() {
        let fake = fake_connector(|_| ok(json!({ "id": "a:2" }))).await;
        let (connector, _) = connector();
        let params = ConversationParameters {
            members: vec![ChannelAccount {
                id: "29:1XJK".into(),
                ..Default::default()
            }],
            tenant_id: Some(TENANT.into()),
            ..Default::default()
        };
        let created = connector
            .create_conversation(&fake.service_url, &params)
            .await
            .unwrap();
        assert_eq!(created.id, "a:2");
        let seen = &fake.seen()[0];
        assert_eq!(seen.path, "/amer/v3/conversations");
        assert_eq!(seen.body, serde_json::to_value(&params).unwrap());
    }

    #[tokio::test]
    async fn send_to_channel_creates_a_group_conversation_in_the_channel() {
        let fake = fake_connector(|_| {
            ok(json!({ "id": "19:c@thread.tacv2;messageid=17", "activityId": "17" }))
        })
        .await;
        let (connector, _) = connector();
        let thread = connector
            .send_to_channel(&fake.service_url, TENANT, "19:c@thread.tacv2", &card())
            .await
            .unwrap();
        assert_eq!(thread.id, "19:c@thread.tacv2;messageid=17");
        let seen = &fake.seen()[0];
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, "/amer/v3/conversations");
        assert_eq!(seen.authorization, "Bearer token-0");
        assert_eq!(seen.body["isGroup"], true);
        assert_eq!(
            seen.body["channelData"]["channel"]["id"],
            "19:c@thread.tacv2"
        );
        assert_eq!(
            seen.body["activity"]["attachments"][0]["content"]["type"],
            "AdaptiveCard"
        );
    }

    #[tokio::test]
    async fn a_429_with_retry_after_is_retried_after_that_wait() {
        let fake = fake_connector(|n| match n {
            0 => (
                StatusCode::TOO_MANY_REQUESTS,
                [(RETRY_AFTER.as_str(), "1")],
                axum::Json(json!({ "error": { "code": "Throttled" } })),
            )
                .into_response(),
            _ => ok(json!({ "id": "1" })),
        })
        .await;
        let (connector, _) = connector();
        let started = Instant::now();
        connector
            .send_to_conversation(&fake.service_url, "a:1", &card())
            .await
            .unwrap();
        let seen = fake.seen();
        assert_eq!(seen.len(), 2);
        assert!(seen[1].at - seen[0].at >= Duration::from_secs(1));
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_retry_after_longer_than_the_inline_limit_fails_at_once() {
        let fake = fake_connector(|_| {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(RETRY_AFTER.as_str(), "600")],
            )
                .into_response()
        })
        .await;
        let (connector, _) = connector();
        let err = connector
            .send_to_conversation(&fake.service_url, "a:1", &card())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ConnectorError::Throttled {
                retry_after: Some(Duration::from_secs(600))
            }
        );
        assert_eq!(fake.seen().len(), 1);
    }

    #[tokio::test]
    async fn a_503_is_retried_up_to_max_attempts_then_transient() {
        let fake =
            fake_connector(|_| failure(StatusCode::SERVICE_UNAVAILABLE, "ServiceError")).await;
        let (connector, _) = connector();
        let err = connector
            .send_to_conversation(&fake.service_url, "a:1", &card())
            .await
            .unwrap_err();
        assert_eq!(err, ConnectorError::Transient { status: 503 });
        assert!(err.is_transient());
        assert_eq!(fake.seen().len(), 3);
    }

    #[tokio::test]
    async fn a_412_is_retried_and_may_then_succeed() {
        let fake = fake_connector(|n| match n {
            0 => failure(StatusCode::PRECONDITION_FAILED, "PreconditionFailed"),
            _ => ok(json!({ "id": "1" })),
        })
        .await;
        let (connector, _) = connector();
        connector
            .send_to_conversation(&fake.service_url, "a:1", &card())
            .await
            .unwrap();
        assert_eq!(fake.seen().len(), 2);
    }

    #[tokio::test]
    async fn a_403_is_terminal_and_not_retried() {
        let fake =
            fake_connector(|_| failure(StatusCode::FORBIDDEN, "ConversationBlockedByUser")).await;
        let (connector, _) = connector();
        let err = connector
            .send_to_conversation(&fake.service_url, "a:1", &card())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ConnectorError::Forbidden {
                code: Some("ConversationBlockedByUser".into())
            }
        );
        assert!(!err.is_transient());
        assert_eq!(fake.seen().len(), 1);
    }

    #[tokio::test]
    async fn other_client_errors_fail_at_once_with_their_kind() {
        for (status, code, expected) in [
            (
                StatusCode::NOT_FOUND,
                "ConversationNotFound",
                ConnectorError::NotFound {
                    code: Some("ConversationNotFound".into()),
                },
            ),
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "MessageSizeTooBig",
                ConnectorError::TooLarge,
            ),
            (
                StatusCode::BAD_REQUEST,
                "BadArgument",
                ConnectorError::Rejected {
                    status: 400,
                    code: Some("BadArgument".into()),
                },
            ),
        ] {
            let fake = fake_connector(move |_| failure(status, code)).await;
            let (connector, _) = connector();
            let err = connector
                .send_to_conversation(&fake.service_url, "a:1", &card())
                .await
                .unwrap_err();
            assert_eq!(err, expected);
            assert_eq!(fake.seen().len(), 1, "{status}");
        }
    }

    #[tokio::test]
    async fn a_401_invalidates_the_token_and_retries_once_with_a_fresh_one() {
        let fake = fake_connector(|n| match n {
            0 => failure(StatusCode::UNAUTHORIZED, "Unauthorized"),
            _ => ok(json!({ "id": "1" })),
        })
        .await;
        let (connector, tokens) = connector();
        connector
            .send_to_conversation(&fake.service_url, "a:1", &card())
            .await
            .unwrap();
        let seen = fake.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].authorization, "Bearer token-0");
        assert_eq!(seen[1].authorization, "Bearer token-1");
        assert_eq!(tokens.invalidations.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_second_401_is_not_retried() {
        let fake = fake_connector(|_| failure(StatusCode::UNAUTHORIZED, "BotNotRegistered")).await;
        let mut bot = bot_config();
        bot.max_attempts = 4;
        let (connector, _) = connector_with(&bot);
        let err = connector
            .send_to_conversation(&fake.service_url, "a:1", &card())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ConnectorError::Rejected {
                status: 401,
                code: Some("BotNotRegistered".into())
            }
        );
        assert_eq!(fake.seen().len(), 2);
    }

    #[tokio::test]
    async fn a_service_url_off_the_allow_list_gets_no_request_and_no_token() {
        let fake = fake_connector(|_| ok(json!({ "id": "1" }))).await;
        let mut bot = bot_config();
        bot.allow_http_service_url = false;
        let (connector, tokens) = connector_with(&bot);
        for url in [
            "https://evil.example.com/",
            "http://smba.trafficmanager.net/amer/",
            fake.service_url.as_str(),
        ] {
            let err = connector
                .send_to_conversation(url, "a:1", &card())
                .await
                .unwrap_err();
            assert!(
                matches!(err, ConnectorError::ServiceUrlNotAllowed { .. }),
                "{url}: {err:?}"
            );
            let err = connector
                .send_to_channel(url, TENANT, "19:c@thread.tacv2", &card())
                .await
                .unwrap_err();
            assert!(
                matches!(err, ConnectorError::ServiceUrlNotAllowed { .. }),
                "{url}: {err:?}"
            );
        }
        assert!(fake.seen().is_empty());
        assert_eq!(tokens.handed_out.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_service_url_policy_matches_hosts_exactly_and_ignores_case() {
        let mut bot = bot_config();
        bot.allow_http_service_url = false;
        let policy = ServiceUrlPolicy::from_config(&bot);
        for allowed in [
            "https://smba.trafficmanager.net/amer/",
            "https://SMBA.TrafficManager.NET/teams",
            "https://smba.infra.gcc.teams.microsoft.com/",
        ] {
            assert!(policy.check(allowed).is_ok(), "{allowed}");
        }
        for refused in [
            "https://evil.example.com/",
            "https://smba.trafficmanager.net.evil.example.com/",
            "https://evil.smba.trafficmanager.net/",
            "https://user:pw@smba.trafficmanager.net/",
            "http://smba.trafficmanager.net/",
            "http://127.0.0.1:3978/",
            "https://localhost/",
            "ftp://smba.trafficmanager.net/",
            "smba.trafficmanager.net/amer",
        ] {
            assert!(policy.check(refused).is_err(), "{refused}");
        }

        bot.allow_http_service_url = true;
        let local = ServiceUrlPolicy::from_config(&bot);
        for allowed in [
            "http://127.0.0.1:3978/",
            "http://[::1]:3978/",
            "http://localhost:3978/amer/",
            "http://smba.trafficmanager.net/",
        ] {
            assert!(local.check(allowed).is_ok(), "{allowed}");
        }
        for refused in [
            "http://10.0.0.1/",
            "http://evil.example.com/",
            "http://127.0.0.2/",
        ] {
            assert!(local.check(refused).is_err(), "{refused}");
        }
        assert!(check_service_url(&bot, "https://smba.trafficmanager.net/emea/").is_ok());
    }

    #[tokio::test]
    async fn sends_to_one_conversation_are_paced_at_conversation_rps() {
        let fake = fake_connector(|_| ok(json!({ "id": "1" }))).await;
        let mut bot = bot_config();
        bot.conversation_rps = 10;
        let (connector, _) = connector_with(&bot);
        let started = Instant::now();
        for _ in 0..6 {
            connector
                .send_to_conversation(&fake.service_url, "a:1", &card())
                .await
                .unwrap();
        }
        assert!(
            started.elapsed() >= Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(fake.seen().len(), 6);
    }

    #[tokio::test]
    async fn the_pacer_forgets_idle_keys() {
        let pacer = Pacer::new(5);
        for i in 0..200 {
            pacer.wait(&format!("old-{i}")).await;
        }
        // governor drops a key two periods (2 × 200 ms) after its last use.
        tokio::time::sleep(Duration::from_millis(450)).await;
        for i in 200..Pacer::PRUNE_EVERY {
            pacer.wait(&format!("new-{i}")).await;
        }
        assert!(pacer.limiter.len() < 1024 - 199, "{}", pacer.limiter.len());
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_after_max_attempts() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let (connector, tokens) = connector();
        let err = connector
            .send_to_conversation(&format!("http://{addr}/"), "a:1", &card())
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err:?}");
        assert_eq!(tokens.handed_out.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_success_without_the_expected_body_is_invalid_and_not_retried() {
        let fake = fake_connector(|_| ok(json!({ "unexpected": true }))).await;
        let (connector, _) = connector();
        let err = connector
            .create_conversation(&fake.service_url, &ConversationParameters::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectorError::InvalidResponse { .. }),
            "{err:?}"
        );
        assert_eq!(fake.seen().len(), 1);
    }

    #[test]
    fn error_codes_are_read_from_both_body_forms() {
        assert_eq!(
            error_code(br#"{"error":{"code":"BotDisabledByAdmin","message":"x"}}"#).as_deref(),
            Some("BotDisabledByAdmin")
        );
        assert_eq!(
            error_code(
                br#"{"errorCode":209,"message":"{\"message\":\"x\",\"code\":\"Forbidden\",\"subCode\":\"MessageWritesBlocked\"}"}"#
            )
            .as_deref(),
            Some("MessageWritesBlocked")
        );
        assert_eq!(
            error_code(br#"{"errorCode":209,"message":"plain"}"#).as_deref(),
            Some("209")
        );
        assert_eq!(error_code(b"<html>oops</html>"), None);
        assert_eq!(error_code(br#"{"error":{"code":"bad\ncode"}}"#), None);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = Timestamp::from_second(1_445_412_470).unwrap(); // 2015-10-21T07:27:50Z
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
    }
}
