//! The Graph client's transport: URLs, pacing, retries, error classification, paging and
//! caches. The endpoints are in `endpoints.rs`, `$batch` in `batch.rs`.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use moka::future::Cache;
use reqwest::Method;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::budget::{Budget, Category, classify};
use super::counters::{Counters, GraphCounters};
use super::error::{GraphError, permission_in};
use super::models::{
    AuthenticationMethod, Device, ErrorBody, Fido2Method, Fido2MethodConfiguration, Page, User,
    UserRegistrationDetails, WindowsHelloMethod,
};
use crate::botframework::token::TokenSource;
use crate::config::GraphConfig;

/// Graph's largest page of directory objects.
pub(super) const DIRECTORY_PAGE: u32 = 999;
/// Graph's largest page of logs and reports.
pub(super) const LOG_PAGE: u32 = 1000;
/// Longest error message kept from a Graph body.
const MAX_MESSAGE: usize = 300;

/// Graph's API versions. Beta carries what v1.0 lacks (sign-ins' `authenticationDetails`,
/// methods' `lastUsedDateTime`); Microsoft does not support it in production, so only the
/// reads that need it use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    Beta,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

/// How requests are retried and timed out.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff delay when Graph gives no `Retry-After`; doubled per retry, jittered.
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this fails at once with `Throttled`.
    pub max_retry_after: Duration,
    pub request_timeout: Duration,
}

impl RetryPolicy {
    pub fn from_config(config: &GraphConfig) -> RetryPolicy {
        RetryPolicy {
            max_attempts: config.max_attempts.max(1),
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            request_timeout: Duration::from_secs(config.request_timeout_secs.max(1)),
        }
    }

    pub(super) fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            // backon is built without `std`, where its jitter seed would be a constant.
            .with_jitter_seed(rand::random())
            .with_max_times(usize::MAX)
            .build()
    }
}

/// A path below the version root with its query, encoded as Graph wants it: segments
/// percent-encoded (`#EXT#` in guest UPNs), system query options with a literal `$`.
#[derive(Debug, Clone)]
pub(super) struct Target {
    segments: Vec<String>,
    query: Vec<(&'static str, String)>,
}

impl Target {
    pub(super) fn new<S: AsRef<str>>(segments: impl IntoIterator<Item = S>) -> Target {
        Target {
            segments: segments
                .into_iter()
                .map(|s| s.as_ref().to_owned())
                .collect(),
            query: Vec::new(),
        }
    }

    pub(super) fn query(mut self, key: &'static str, value: impl Into<String>) -> Target {
        self.query.push((key, value.into()));
        self
    }

    /// `/users/a%23EXT%23b/…?$filter=…`.
    pub(super) fn relative(&self) -> String {
        let mut url = url::Url::parse("http://graph.invalid/").expect("static URL");
        url.path_segments_mut()
            .expect("http URLs have paths")
            .pop_if_empty()
            .extend(&self.segments);
        let mut out = url.path().to_owned();
        for (i, (k, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            let encoded: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            // `byte_serialize` writes spaces as `+`; Graph's OData parser wants `%20`.
            out.push_str(&encoded.replace('+', "%20"));
        }
        out
    }
}

/// A successful answer.
pub(super) struct Reply {
    pub body: Bytes,
}

/// One request to send (and to resend).
pub(super) struct Call {
    pub method: Method,
    pub url: url::Url,
    pub body: Option<Value>,
}

impl Call {
    /// Method and path, for error messages (no query: filters can hold names).
    pub(super) fn what(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

/// Why one attempt failed, and whether another may succeed.
pub(super) struct Failed {
    pub error: GraphError,
    pub retry_after: Option<Duration>,
    pub retry: bool,
    pub unauthorized: bool,
}

/// The per-user caches; keys are the id or UPN the caller used, lowercased.
pub(super) struct Caches {
    pub(super) users: Cache<String, Arc<User>>,
    pub(super) registration: Cache<String, Arc<UserRegistrationDetails>>,
    pub(super) methods: Cache<String, Arc<Vec<AuthenticationMethod>>>,
    pub(super) fido2: Cache<String, Arc<Vec<Fido2Method>>>,
    pub(super) windows_hello: Cache<String, Arc<Vec<WindowsHelloMethod>>>,
    pub(super) devices: Cache<String, Arc<Vec<Device>>>,
    pub(super) member_groups: Cache<String, Arc<Vec<String>>>,
    pub(super) policy: Cache<(), Arc<Fido2MethodConfiguration>>,
}

impl Caches {
    fn new(config: &GraphConfig) -> Caches {
        let ttl = Duration::from_secs(config.cache_ttl_secs);
        fn cache<K, V>(capacity: u64, ttl: Duration) -> Cache<K, V>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build()
        }
        let n = config.cache_capacity;
        Caches {
            users: cache(n, ttl),
            registration: cache(n, ttl),
            methods: cache(n, ttl),
            fido2: cache(n, ttl),
            windows_hello: cache(n, ttl),
            devices: cache(n, ttl),
            // Invalidated by person prefix, which needs closure support.
            member_groups: Cache::builder()
                .max_capacity(n)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            policy: cache(1, Duration::from_secs(config.policy_cache_ttl_secs)),
        }
    }
}

struct Inner {
    http: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
    /// Graph's root without version or trailing slash.
    base_url: String,
    origin: url::Origin,
    budget: Budget,
    counters: Counters,
    retry: RetryPolicy,
    caches: Caches,
}

/// The Graph client of one tenant. Cheap to clone; clones share budget, caches and counters.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

/// The cache key of a person: the id or UPN as the caller used it, lowercased.
pub(super) fn key(user: &str) -> String {
    user.trim().to_ascii_lowercase()
}

impl GraphClient {
    /// A client for `[graph]` with the token source `graph.auth` names.
    pub fn from_config(
        config: &GraphConfig,
        http: reqwest::Client,
    ) -> Result<GraphClient, GraphError> {
        let tokens = super::token_source(config, http.clone())?;
        GraphClient::new(config, http, tokens, RetryPolicy::from_config(config))
    }

    /// A client with a given token source and retry policy (tests shorten the delays).
    pub fn new(
        config: &GraphConfig,
        http: reqwest::Client,
        tokens: Arc<dyn TokenSource>,
        retry: RetryPolicy,
    ) -> Result<GraphClient, GraphError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        let origin = url::Url::parse(&base_url)
            .map_err(|e| GraphError::Config {
                reason: format!("graph.base_url is not a URL: {e}"),
            })?
            .origin();
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                tokens,
                base_url,
                origin,
                budget: Budget::from_config(config),
                counters: Counters::default(),
                retry,
                caches: Caches::new(config),
            }),
        })
    }

    /// What the client has sent so far.
    pub fn counters(&self) -> GraphCounters {
        self.inner.counters.snapshot()
    }

    /// Forgets everything cached about a person (id or UPN, as used for the reads), so the
    /// next reads are fresh: after they say "I've done it".
    pub async fn invalidate_user(&self, user: &str) {
        let k = key(user);
        let c = &self.inner.caches;
        c.users.invalidate(&k).await;
        c.registration.invalidate(&k).await;
        c.methods.invalidate(&k).await;
        c.fido2.invalidate(&k).await;
        c.windows_hello.invalidate(&k).await;
        c.devices.invalidate(&k).await;
        let prefix = format!("{k}|");
        // Membership answers are keyed by person and group list.
        c.member_groups
            .invalidate_entries_if(move |key, _| key.starts_with(&prefix))
            .expect("the membership cache supports invalidation closures");
    }

    pub(super) fn caches(&self) -> &Caches {
        &self.inner.caches
    }

    /// Graph's root without version or trailing slash.
    pub(super) fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub(super) fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    pub(super) fn counters_mut(&self) -> &Counters {
        &self.inner.counters
    }

    pub(super) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub(super) fn url(&self, version: ApiVersion, target: &Target) -> Result<url::Url, GraphError> {
        let raw = format!(
            "{}/{}{}",
            self.inner.base_url,
            version.as_str(),
            target.relative()
        );
        url::Url::parse(&raw).map_err(|e| GraphError::Config {
            reason: format!("cannot build a Graph URL: {e}"),
        })
    }

    /// A next link, only if it points at the configured Graph (the token never leaves it).
    fn next_link(&self, link: &str) -> Result<url::Url, GraphError> {
        let url = url::Url::parse(link).map_err(|e| GraphError::InvalidResponse {
            what: "a page".into(),
            reason: format!("@odata.nextLink is not a URL: {e}"),
        })?;
        if url.origin() != self.inner.origin {
            return Err(GraphError::InvalidResponse {
                what: "a page".into(),
                reason: "@odata.nextLink points outside the configured Graph base URL".into(),
            });
        }
        Ok(url)
    }

    /// Sends `call` within the budget, retrying 429/503/504 and network errors: `Retry-After`
    /// when given, jittered exponential backoff otherwise; a 401 refreshes the token once.
    pub(super) async fn send(&self, call: &Call) -> Result<Reply, GraphError> {
        let (category, cost) = classify(&call.method, call.url.path());
        let retry = &self.inner.retry;
        let mut backoff = retry.backoff();
        let (mut attempt, mut sent) = (0, 0);
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = match self.inner.tokens.token().await {
                Ok(token) => token,
                Err(e) if e.is_transient() && attempt < retry.max_attempts => {
                    let delay = backoff.next().unwrap_or(retry.max_delay);
                    tracing::debug!(error = %e, ?delay, "no Graph token yet; retrying");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            self.inner.budget.acquire(category, cost).await;
            // A `$batch` envelope is counted by the batch, its items by category.
            if !call.url.path().ends_with("/$batch") {
                self.inner.counters.request(category, false);
            }
            if sent > 0 {
                self.inner.counters.retry();
            }
            sent += 1;
            let failed = match self.attempt(call, category, token.expose()).await {
                Ok(reply) => return Ok(reply),
                Err(failed) => failed,
            };
            if failed.unauthorized && !refreshed {
                refreshed = true;
                self.inner.tokens.invalidate().await;
                continue;
            }
            if !failed.retry || attempt >= retry.max_attempts {
                return Err(failed.error);
            }
            let delay = failed
                .retry_after
                .or_else(|| backoff.next())
                .unwrap_or(retry.max_delay);
            if delay > retry.max_retry_after {
                return Err(failed.error);
            }
            tracing::debug!(request = %call.what(), error = %failed.error, ?delay, attempt, "retrying a Graph request");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, call: &Call, category: Category, token: &str) -> Result<Reply, Failed> {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token)
            .timeout(self.inner.retry.request_timeout);
        if let Some(body) = &call.body {
            request = request.json(body);
        } else if call.method != Method::GET && call.method != Method::DELETE {
            request = request.header(reqwest::header::CONTENT_LENGTH, "0");
        }
        let transient = |reason: String| Failed {
            error: GraphError::Transient {
                status: None,
                reason,
            },
            retry_after: None,
            retry: true,
            unauthorized: false,
        };
        let response = request
            .send()
            .await
            .map_err(|e| transient(error_chain(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(used) = header_f64(&headers, THROTTLE_PERCENTAGE) {
            self.inner.budget.quota_used(category, used);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| transient(error_chain(&e)))?;
        if (200..300).contains(&status) {
            return Ok(Reply { body });
        }
        let what = call.what();
        let retry_after = retry_after(&headers);
        Err(self.failure(status, &body, retry_after, category, what))
    }

    /// Classifies an error status (top-level or inside a batch) and counts it.
    pub(super) fn failure(
        &self,
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        category: Category,
        what: String,
    ) -> Failed {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let code = parsed
            .error
            .code
            .as_deref()
            .and_then(crate::botframework::token::sanitized_code);
        let message = parsed.error.message.map(|m| {
            let mut m: String = m.chars().take(MAX_MESSAGE).collect();
            m.retain(|c| !c.is_control());
            m
        });
        let retryable = |error| Failed {
            error,
            retry_after,
            retry: true,
            unauthorized: false,
        };
        let fatal = |error| Failed {
            error,
            retry_after: None,
            retry: false,
            unauthorized: false,
        };
        match status {
            429 => {
                self.inner.counters.throttled();
                self.inner.budget.throttled(category);
                retryable(GraphError::Throttled { retry_after })
            }
            503 | 504 => {
                self.inner.counters.server_error();
                retryable(GraphError::Transient {
                    status: Some(status),
                    reason: format!("HTTP {status} from {what}"),
                })
            }
            401 => Failed {
                error: GraphError::Auth {
                    reason: format!(
                        "Graph refused the token for {what}{}",
                        code.as_deref()
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default()
                    ),
                },
                retry_after: None,
                retry: false,
                unauthorized: true,
            },
            403 => fatal(GraphError::Forbidden {
                permission: permission_in(code.as_deref(), message.as_deref())
                    .or_else(|| required_permission(&what).map(str::to_owned)),
                code,
                what,
            }),
            404 => fatal(GraphError::NotFound { what, code }),
            s if s >= 500 => {
                self.inner.counters.server_error();
                fatal(GraphError::Transient {
                    status: Some(s),
                    reason: format!("HTTP {s} from {what}"),
                })
            }
            s => fatal(GraphError::Rejected {
                what,
                status: s,
                code,
                message,
            }),
        }
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        version: ApiVersion,
        target: &Target,
    ) -> Result<T, GraphError> {
        let call = Call {
            method: Method::GET,
            url: self.url(version, target)?,
            body: None,
        };
        let reply = self.send(&call).await?;
        decode(&call.what(), &reply.body)
    }

    /// The pages of a collection, one `Vec` at a time: a 100,000-user listing never sits in
    /// memory as a whole, let alone as raw JSON.
    pub fn pages<T: DeserializeOwned + Send + 'static>(
        &self,
        first: url::Url,
    ) -> BoxStream<'static, Result<Vec<T>, GraphError>> {
        let client = self.clone();
        futures::stream::try_unfold(Some(first), move |next| {
            let client = client.clone();
            async move {
                let Some(url) = next else {
                    return Ok(None);
                };
                let call = Call {
                    method: Method::GET,
                    url,
                    body: None,
                };
                let reply = client.send(&call).await?;
                let page: Page<T> = decode(&call.what(), &reply.body)?;
                let next = page
                    .next_link
                    .as_deref()
                    .map(|l| client.next_link(l))
                    .transpose()?;
                Ok(Some((page.value, next)))
            }
        })
        .boxed()
    }

    /// Every page of a (small) collection.
    pub(super) async fn all<T: DeserializeOwned + Send + 'static>(
        &self,
        version: ApiVersion,
        target: &Target,
    ) -> Result<Vec<T>, GraphError> {
        let mut pages = self.pages::<T>(self.url(version, target)?);
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            out.extend(page?);
        }
        Ok(out)
    }

    pub(super) async fn cached<K, V, F>(
        &self,
        cache: &Cache<K, Arc<V>>,
        k: K,
        load: F,
    ) -> Result<Arc<V>, GraphError>
    where
        K: std::hash::Hash + Eq + Send + Sync + Clone + 'static,
        V: Send + Sync + 'static,
        F: Future<Output = Result<V, GraphError>>,
    {
        if let Some(hit) = cache.get(&k).await {
            self.inner.counters.cache_hit();
            return Ok(hit);
        }
        cache
            .try_get_with(k, async { load.await.map(Arc::new) })
            .await
            .map_err(|e| (*e).clone())
    }
}

/// The least permission an endpoint needs (reference/graph.md §1), for 403s whose message
/// does not name one.
fn required_permission(what: &str) -> Option<&'static str> {
    let p = what.to_ascii_lowercase();
    let write = !p.starts_with("get ");
    Some(if p.contains("/auditlogs/") || p.contains("/reports/") {
        "AuditLog.Read.All"
    } else if p.contains("/temporaryaccesspassmethods") {
        "UserAuthenticationMethod.ReadWrite.All"
    } else if p.contains("/fido2methods") {
        if write {
            "UserAuthMethod-Passkey.ReadWrite.All"
        } else {
            "UserAuthMethod-Passkey.Read.All"
        }
    } else if p.contains("/authentication/") {
        "UserAuthenticationMethod.Read.All"
    } else if p.contains("/teamwork/") {
        if write {
            "TeamsAppInstallation.ReadWriteSelfForUser.All"
        } else {
            "TeamsAppInstallation.ReadSelfForUser.All"
        }
    } else if p.contains("/policies/authenticationmethodspolicy") {
        "Policy.Read.AuthenticationMethod"
    } else if p.contains("/members/$ref") {
        "GroupMember.ReadWrite.All"
    } else if p.contains("checkmembergroups") || p.contains("memberof") || p.contains("/groups/") {
        "GroupMember.Read.All"
    } else if p.contains("devices") {
        "Device.Read.All"
    } else if p.contains("/users") {
        "User.Read.All"
    } else {
        return None;
    })
}

/// Reads a success body; the error keeps only where decoding failed (a body could hold a
/// temporary access pass).
pub(super) fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, GraphError> {
    serde_json::from_slice(body).map_err(|e| GraphError::InvalidResponse {
        what: what.to_owned(),
        reason: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// `Retry-After` in seconds (Graph sends seconds).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?;
    retry_after_value(raw)
}

pub(super) fn retry_after_value(raw: &str) -> Option<Duration> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// `x-ms-throttle-limit-percentage`: the share of a quota used, sent from 80 % on.
pub(super) const THROTTLE_PERCENTAGE: &str = "x-ms-throttle-limit-percentage";

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// An error and its causes on one line.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_encode_segments_and_keep_dollar_signs() {
        let t = Target::new([
            "users",
            "ann_contoso.com#EXT#@fabrikam.com",
            "authentication",
            "methods",
        ])
        .query(
            "$filter",
            "userId eq 'a' and createdDateTime ge 2026-08-20T00:00:00Z",
        )
        .query("$top", "1000");
        assert_eq!(
            t.relative(),
            "/users/ann_contoso.com%23EXT%23@fabrikam.com/authentication/methods?$filter=userId%20eq%20%27a%27%20and%20createdDateTime%20ge%202026-08-20T00%3A00%3A00Z&$top=1000"
        );
    }

    #[test]
    fn endpoints_name_their_least_permission() {
        assert_eq!(
            required_permission("GET /beta/users/u/authentication/fido2Methods"),
            Some("UserAuthMethod-Passkey.Read.All")
        );
        assert_eq!(
            required_permission("POST /v1.0/groups/g/members/$ref"),
            Some("GroupMember.ReadWrite.All")
        );
        assert_eq!(
            required_permission("GET /beta/auditLogs/signIns"),
            Some("AuditLog.Read.All")
        );
    }

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(retry_after_value("7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after_value("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(retry_after_value("soon"), None);
    }
}
