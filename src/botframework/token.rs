//! The bot's own access token for calling the Bot Connector (outbound authentication).
//!
//! One token per source is cached until five minutes before it expires (MSAL's renewal
//! offset). Only one refresh runs at a time; callers that arrive while it runs wait for it and
//! share its outcome, success or failure, so an outage of the token endpoint costs one request,
//! not one per caller. The connector calls [`TokenSource::invalidate`] when it is answered 401.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::{AppType, BotConfig};

/// A token this close to its expiry counts as expired.
pub const RENEWAL_MARGIN: SignedDuration = SignedDuration::from_secs(300);

/// Per-request timeout towards the token endpoint.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A bearer token and when it expires. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    expires_at: Timestamp,
}

impl AccessToken {
    pub fn new(token: impl Into<String>, expires_at: Timestamp) -> AccessToken {
        AccessToken {
            secret: SecretString::from(token.into()),
            expires_at,
        }
    }

    /// The token itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// Whether the token may still be handed out at `now` (more than five minutes left).
    pub fn is_fresh_at(&self, now: Timestamp) -> bool {
        now.saturating_add(RENEWAL_MARGIN)
            .is_ok_and(|limit| limit < self.expires_at)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why no token could be had. Never carries the client secret or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token endpoint is unreachable: {reason}")]
    Unreachable { reason: String },
    #[error("the token endpoint refused the request: HTTP {status}{}", code_suffix(.code))]
    Rejected { status: u16, code: Option<String> },
    #[error("the token endpoint answered with something that is not a token: {reason}")]
    InvalidResponse { reason: String },
    #[error("outbound authentication is misconfigured: {reason}")]
    Misconfigured { reason: String },
}

impl TokenError {
    /// Whether asking again later may succeed (network trouble, throttling, server errors).
    pub fn is_transient(&self) -> bool {
        match self {
            TokenError::Unreachable { .. } => true,
            TokenError::Rejected { status, .. } => *status == 429 || *status >= 500,
            TokenError::InvalidResponse { .. } | TokenError::Misconfigured { .. } => false,
        }
    }
}

pub(super) fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default()
}

/// Where the connector gets its bearer token.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A token with more than five minutes left, fetched if the cached one is not.
    async fn token(&self) -> Result<AccessToken, TokenError>;
    /// Forgets the cached token (the connector answered 401), so the next call fetches anew.
    async fn invalidate(&self);
}

/// Picks the token source for `bot.app_type`.
pub fn token_source(
    config: &BotConfig,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenSource>, TokenError> {
    Ok(match config.app_type {
        AppType::MultiTenant | AppType::SingleTenant => {
            Arc::new(ClientCredentials::new(config, http)?)
        }
        AppType::UserAssignedMSI => Arc::new(ManagedIdentity::new(config, http)?),
    })
}

/// A token source that cannot work (missing app id or password): the service still starts,
/// and every outbound call fails with the reason.
pub struct Unavailable(pub TokenError);

#[async_trait]
impl TokenSource for Unavailable {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        Err(self.0.clone())
    }
    async fn invalidate(&self) {}
}

/// No credentials at all: outbound calls carry no `Authorization` header. Only for
/// `dev.allow_anonymous` with no app id (the Agents Playground's mock connector takes no token).
pub struct Anonymous;

#[async_trait]
impl TokenSource for Anonymous {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        Ok(AccessToken::new(String::new(), Timestamp::MAX))
    }
    async fn invalidate(&self) {}
}

/// One fetch of a new token from wherever it comes from.
#[async_trait]
trait FetchToken: Send + Sync {
    async fn fetch(&self) -> Result<AccessToken, TokenError>;
}

/// The caching and single-flight rules shared by every token source.
struct CachedToken<F> {
    fetcher: F,
    current: Mutex<Option<AccessToken>>,
    /// Held while a refresh runs; holds the last refresh's failure for the callers that waited.
    refresh: tokio::sync::Mutex<Option<TokenError>>,
    /// Completed refreshes, so a waiter can tell whether one finished while it waited.
    refreshes: AtomicU64,
}

impl<F: FetchToken> CachedToken<F> {
    fn new(fetcher: F) -> Self {
        CachedToken {
            fetcher,
            current: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(None),
            refreshes: AtomicU64::new(0),
        }
    }

    fn cached(&self) -> Option<AccessToken> {
        let now = Timestamp::now();
        self.current
            .lock()
            .expect("token cache lock")
            .as_ref()
            .filter(|t| t.is_fresh_at(now))
            .cloned()
    }

    async fn get(&self) -> Result<AccessToken, TokenError> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let seen = self.refreshes.load(Ordering::Acquire);
        let mut last_failure = self.refresh.lock().await;
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        if self.refreshes.load(Ordering::Acquire) != seen
            && let Some(failure) = last_failure.as_ref()
        {
            return Err(failure.clone());
        }
        let outcome = self.fetcher.fetch().await;
        match &outcome {
            Ok(token) => {
                *self.current.lock().expect("token cache lock") = Some(token.clone());
                *last_failure = None;
            }
            Err(e) => *last_failure = Some(e.clone()),
        }
        self.refreshes.fetch_add(1, Ordering::Release);
        outcome
    }

    fn invalidate(&self) {
        *self.current.lock().expect("token cache lock") = None;
    }
}

/// OAuth2 client credentials (app id + secret) against Entra ID, for multi- and single-tenant
/// bots.
pub struct ClientCredentials {
    cache: CachedToken<ClientCredentialsFetch>,
}

struct ClientCredentialsFetch {
    http: reqwest::Client,
    token_url: url::Url,
    client_id: String,
    client_secret: SecretString,
    scope: String,
}

/// The settings of a client credentials grant, and the config keys they come from (for
/// error messages).
pub struct ClientCredentialSettings<'a> {
    pub client_id: (&'static str, &'a str),
    pub client_secret: (&'static str, &'a crate::config::Secret),
    pub token_url: (&'static str, &'a str),
    pub scope: (&'static str, &'a str),
}

impl ClientCredentials {
    /// Uses `bot.token_url`, `bot.app_id`, `bot.app_password` and `bot.token_scope`.
    pub fn new(config: &BotConfig, http: reqwest::Client) -> Result<ClientCredentials, TokenError> {
        ClientCredentials::with_settings(
            ClientCredentialSettings {
                client_id: ("bot.app_id", &config.app_id),
                client_secret: ("bot.app_password", &config.app_password),
                token_url: ("bot.token_url", &config.token_url),
                scope: ("bot.token_scope", &config.token_scope),
            },
            http,
        )
    }

    /// Any app's client credentials (the Graph client uses `[graph]`).
    pub fn with_settings(
        settings: ClientCredentialSettings<'_>,
        http: reqwest::Client,
    ) -> Result<ClientCredentials, TokenError> {
        let misconfigured = |reason: String| TokenError::Misconfigured { reason };
        for (key, value) in [
            settings.client_id,
            (settings.client_secret.0, settings.client_secret.1.expose()),
            settings.scope,
        ] {
            if value.is_empty() {
                return Err(misconfigured(format!("{key} is not set")));
            }
        }
        let token_url = url::Url::parse(settings.token_url.1)
            .map_err(|_| misconfigured(format!("{} is not a URL", settings.token_url.0)))?;
        Ok(ClientCredentials {
            cache: CachedToken::new(ClientCredentialsFetch {
                http,
                token_url,
                client_id: settings.client_id.1.to_owned(),
                client_secret: SecretString::from(settings.client_secret.1.expose().to_owned()),
                scope: settings.scope.1.to_owned(),
            }),
        })
    }
}

#[async_trait]
impl TokenSource for ClientCredentials {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        self.cache.get().await
    }

    async fn invalidate(&self) {
        self.cache.invalidate();
    }
}

/// The token endpoint's success body. Not `Debug`: it holds the token.
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token_type: Option<String>,
    expires_in: ExpiresIn,
    access_token: String,
}

/// Entra sends a number; some older endpoints send the number as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExpiresIn {
    Seconds(i64),
    Text(String),
}

/// The token endpoint's error body (only the parts worth logging).
#[derive(Deserialize)]
struct AadErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_codes: Vec<i64>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
}

#[async_trait]
impl FetchToken for ClientCredentialsFetch {
    async fn fetch(&self) -> Result<AccessToken, TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("scope", self.scope.as_str()),
        ];
        let response = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| TokenError::Unreachable {
                reason: error_chain(&e),
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| TokenError::Unreachable {
                reason: error_chain(&e),
            })?;
        if !status.is_success() {
            let parsed: Option<AadErrorBody> = serde_json::from_slice(&body).ok();
            let code = parsed
                .as_ref()
                .and_then(|b| b.error.as_deref())
                .and_then(sanitized_code);
            tracing::warn!(
                status = status.as_u16(),
                code = code.as_deref(),
                error_codes = ?parsed.as_ref().map(|b| &b.error_codes),
                trace_id = parsed.as_ref().and_then(|b| b.trace_id.as_deref()),
                correlation_id = parsed.as_ref().and_then(|b| b.correlation_id.as_deref()),
                "token endpoint refused the client credentials request"
            );
            return Err(TokenError::Rejected {
                status: status.as_u16(),
                code,
            });
        }
        parse_token_response(&body, Timestamp::now())
    }
}

/// Reads a success body into a token expiring `expires_in` seconds after `now`.
fn parse_token_response(body: &[u8], now: Timestamp) -> Result<AccessToken, TokenError> {
    let invalid = |reason: String| TokenError::InvalidResponse { reason };
    // The serde error's text could quote the body; only its position is kept.
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "body is not a token response (line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    if let Some(kind) = parsed.token_type.as_deref()
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(invalid(format!(
            "token_type is {:?}, not Bearer",
            kind.chars().take(32).collect::<String>()
        )));
    }
    if parsed.access_token.is_empty() {
        return Err(invalid("access_token is empty".into()));
    }
    let seconds = match parsed.expires_in {
        ExpiresIn::Seconds(s) => Some(s),
        ExpiresIn::Text(s) => s.trim().parse().ok(),
    }
    .filter(|s| *s > 0)
    .ok_or_else(|| invalid("expires_in is not a positive number of seconds".into()))?;
    let expires_at = now
        .saturating_add(SignedDuration::from_secs(seconds))
        .map_err(|_| invalid("expires_in is out of range".into()))?;
    Ok(AccessToken::new(parsed.access_token, expires_at))
}

/// An error code from a remote body, kept only if it looks like one (no log injection).
pub(crate) fn sanitized_code(code: &str) -> Option<String> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then(|| code.to_owned())
}

/// An error and its causes on one line ("error sending request: connection refused").
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

/// A user-assigned managed identity (`bot.app_id` is its client id), through the platform's
/// identity endpoint (App Service or IMDS).
pub struct ManagedIdentity {
    cache: CachedToken<ManagedIdentityFetch>,
}

struct ManagedIdentityFetch {
    credential: Arc<dyn TokenCredential>,
    scope: String,
}

impl ManagedIdentity {
    /// Builds the credential; nothing is fetched until the first [`TokenSource::token`].
    pub fn new(config: &BotConfig, http: reqwest::Client) -> Result<ManagedIdentity, TokenError> {
        if config.app_id.is_empty() {
            return Err(TokenError::Misconfigured {
                reason: "bot.app_id (the managed identity's client id) is not set".into(),
            });
        }
        ManagedIdentity::for_scope(Some(&config.app_id), &config.token_scope, http).map_err(|e| {
            match e {
                TokenError::Misconfigured { reason } if reason == "no token scope is set" => {
                    TokenError::Misconfigured {
                        reason: "bot.token_scope is not set".into(),
                    }
                }
                e => e,
            }
        })
    }

    /// A managed identity for any resource: user-assigned when `client_id` is given,
    /// system-assigned otherwise.
    pub fn for_scope(
        client_id: Option<&str>,
        scope: &str,
        http: reqwest::Client,
    ) -> Result<ManagedIdentity, TokenError> {
        if scope.is_empty() {
            return Err(TokenError::Misconfigured {
                reason: "no token scope is set".into(),
            });
        }
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id
                .filter(|id| !id.is_empty())
                .map(|id| UserAssignedId::ClientId(id.to_owned())),
            client_options: azure_core::http::ClientOptions {
                transport: Some(azure_core::http::Transport::new(Arc::new(http))),
                ..Default::default()
            },
        };
        let credential = ManagedIdentityCredential::new(Some(options)).map_err(|e| {
            TokenError::Misconfigured {
                reason: e.to_string(),
            }
        })?;
        Ok(ManagedIdentity {
            cache: CachedToken::new(ManagedIdentityFetch {
                credential,
                scope: scope.to_owned(),
            }),
        })
    }
}

/// Workload identity federation (AKS and other Kubernetes): the pod's federated service
/// account token, read from `AZURE_FEDERATED_TOKEN_FILE`, is exchanged for an Entra token.
pub struct WorkloadIdentity {
    cache: CachedToken<ManagedIdentityFetch>,
}

impl WorkloadIdentity {
    /// Builds the credential for `tenant_id` and `client_id` (empty: `AZURE_TENANT_ID`,
    /// `AZURE_CLIENT_ID`); nothing is read or fetched until the first token.
    pub fn for_scope(
        tenant_id: &str,
        client_id: &str,
        scope: &str,
        http: reqwest::Client,
    ) -> Result<WorkloadIdentity, TokenError> {
        if scope.is_empty() {
            return Err(TokenError::Misconfigured {
                reason: "no token scope is set".into(),
            });
        }
        let options = azure_identity::WorkloadIdentityCredentialOptions {
            credential_options: azure_identity::ClientAssertionCredentialOptions {
                client_options: azure_core::http::ClientOptions {
                    transport: Some(azure_core::http::Transport::new(Arc::new(http))),
                    ..Default::default()
                },
            },
            client_id: (!client_id.is_empty()).then(|| client_id.to_owned()),
            tenant_id: (!tenant_id.is_empty()).then(|| tenant_id.to_owned()),
            ..Default::default()
        };
        let credential =
            azure_identity::WorkloadIdentityCredential::new(Some(options)).map_err(|e| {
                TokenError::Misconfigured {
                    reason: format!("workload identity: {e}"),
                }
            })?;
        Ok(WorkloadIdentity {
            cache: CachedToken::new(ManagedIdentityFetch {
                credential,
                scope: scope.to_owned(),
            }),
        })
    }
}

#[async_trait]
impl TokenSource for WorkloadIdentity {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        self.cache.get().await
    }

    async fn invalidate(&self) {
        self.cache.invalidate();
    }
}

#[async_trait]
impl TokenSource for ManagedIdentity {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        self.cache.get().await
    }

    async fn invalidate(&self) {
        self.cache.invalidate();
    }
}

#[async_trait]
impl FetchToken for ManagedIdentityFetch {
    async fn fetch(&self) -> Result<AccessToken, TokenError> {
        let token = self
            .credential
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| managed_identity_error(&e))?;
        let expires_at =
            Timestamp::from_second(token.expires_on.unix_timestamp()).map_err(|_| {
                TokenError::InvalidResponse {
                    reason: "the managed identity token's expiry is out of range".into(),
                }
            })?;
        Ok(AccessToken::new(token.token.secret(), expires_at))
    }
}

/// Maps an Azure SDK error to ours: an HTTP status anywhere in its chain means the identity
/// endpoint answered and refused; anything else means it could not be reached.
fn managed_identity_error(e: &azure_core::Error) -> TokenError {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(azure) = err.downcast_ref::<azure_core::Error>()
            && let azure_core::error::ErrorKind::HttpResponse {
                status, error_code, ..
            } = azure.kind()
        {
            return TokenError::Rejected {
                status: u16::from(*status),
                code: error_code.as_deref().and_then(sanitized_code),
            };
        }
        current = err.source();
    }
    TokenError::Unreachable {
        reason: error_chain(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use crate::config::{Config, Secret};

    const SECRET: &str = "s3cr3t-client-password";

    /// A fake Entra token endpoint: answers with `reply(n)` for the n-th request (from 0),
    /// after `delay`, and remembers every form body it got.
    #[derive(Clone)]
    struct FakeAad {
        hits: Arc<AtomicUsize>,
        forms: Arc<Mutex<Vec<Form>>>,
        delay: Duration,
        reply: Arc<Reply>,
    }

    type Form = Vec<(String, String)>;
    type Reply = dyn Fn(usize) -> (StatusCode, String) + Send + Sync;

    async fn token_endpoint(
        State(fake): State<FakeAad>,
        axum::Form(form): axum::Form<Vec<(String, String)>>,
    ) -> impl IntoResponse {
        let n = fake.hits.fetch_add(1, Ordering::SeqCst);
        fake.forms.lock().unwrap().push(form);
        tokio::time::sleep(fake.delay).await;
        let (status, body) = (fake.reply)(n);
        (status, [("content-type", "application/json")], body)
    }

    /// Starts the fake on 127.0.0.1:0; returns it and its token URL.
    async fn fake_aad(
        delay: Duration,
        reply: impl Fn(usize) -> (StatusCode, String) + Send + Sync + 'static,
    ) -> (FakeAad, String) {
        let fake = FakeAad {
            hits: Arc::new(AtomicUsize::new(0)),
            forms: Arc::new(Mutex::new(Vec::new())),
            delay,
            reply: Arc::new(reply),
        };
        let app = axum::Router::new()
            .route(
                "/botframework.com/oauth2/v2.0/token",
                axum::routing::post(token_endpoint),
            )
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (
            fake,
            format!("http://{addr}/botframework.com/oauth2/v2.0/token"),
        )
    }

    fn token_body(n: usize, expires_in: i64) -> (StatusCode, String) {
        (
            StatusCode::OK,
            format!(
                r#"{{"token_type":"Bearer","expires_in":{expires_in},"ext_expires_in":{expires_in},"access_token":"token-{n}"}}"#
            ),
        )
    }

    fn bot_config(token_url: &str) -> BotConfig {
        let mut bot = Config::defaults().bot;
        bot.app_id = "00000000-0000-4000-8000-00000000b07a".into();
        bot.app_password = Secret::new(SECRET);
        bot.token_url = token_url.into();
        bot
    }

    fn client_credentials(token_url: &str) -> ClientCredentials {
        ClientCredentials::new(&bot_config(token_url), reqwest::Client::new()).unwrap()
    }

    #[tokio::test]
    async fn fifty_concurrent_callers_share_one_token_request() {
        let (fake, url) = fake_aad(Duration::from_millis(100), |n| token_body(n, 3600)).await;
        let source = Arc::new(client_credentials(&url));
        let calls = (0..50).map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await })
        });
        let tokens = futures::future::join_all(calls).await;
        for token in tokens {
            assert_eq!(token.unwrap().unwrap().expose(), "token-0");
        }
        assert_eq!(source.token().await.unwrap().expose(), "token-0");
        assert_eq!(fake.hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_request_is_a_client_credentials_grant_for_the_configured_scope() {
        let (fake, url) = fake_aad(Duration::ZERO, |n| token_body(n, 3600)).await;
        let token = client_credentials(&url).token().await.unwrap();
        let lifetime = token.expires_at().duration_since(Timestamp::now());
        assert!(lifetime > SignedDuration::from_secs(3590), "{lifetime:?}");
        let form = fake.forms.lock().unwrap()[0].clone();
        let get = |k: &str| {
            form.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("grant_type"), Some("client_credentials"));
        assert_eq!(
            get("client_id"),
            Some("00000000-0000-4000-8000-00000000b07a")
        );
        assert_eq!(get("client_secret"), Some(SECRET));
        assert_eq!(get("scope"), Some("https://api.botframework.com/.default"));
    }

    #[tokio::test]
    async fn a_token_within_five_minutes_of_expiry_is_refreshed() {
        let (fake, url) = fake_aad(Duration::ZERO, |n| token_body(n, 299)).await;
        let source = client_credentials(&url);
        assert_eq!(source.token().await.unwrap().expose(), "token-0");
        assert_eq!(source.token().await.unwrap().expose(), "token-1");
        assert_eq!(fake.hits.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn freshness_ends_five_minutes_before_expiry() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let at = |secs: i64| AccessToken::new("t", now + SignedDuration::from_secs(secs));
        assert!(at(301).is_fresh_at(now));
        assert!(!at(300).is_fresh_at(now));
        assert!(!at(-1).is_fresh_at(now));
    }

    #[tokio::test]
    async fn invalidate_drops_the_cached_token() {
        let (fake, url) = fake_aad(Duration::ZERO, |n| token_body(n, 3600)).await;
        let source = client_credentials(&url);
        assert_eq!(source.token().await.unwrap().expose(), "token-0");
        source.invalidate().await;
        assert_eq!(source.token().await.unwrap().expose(), "token-1");
        assert_eq!(source.token().await.unwrap().expose(), "token-1");
        assert_eq!(fake.hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_aad_error_becomes_a_typed_error_without_the_secret() {
        let (_, url) = fake_aad(Duration::ZERO, |_| {
            (
                StatusCode::UNAUTHORIZED,
                format!(
                    r#"{{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. ({SECRET})","error_codes":[7000215],"trace_id":"t","correlation_id":"c"}}"#
                ),
            )
        })
        .await;
        let err = client_credentials(&url).token().await.unwrap_err();
        assert_eq!(
            err,
            TokenError::Rejected {
                status: 401,
                code: Some("invalid_client".into())
            }
        );
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("invalid_client"), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn waiters_share_a_failed_refresh_but_the_failure_is_not_cached() {
        let (fake, url) = fake_aad(Duration::from_millis(100), |_| {
            (StatusCode::SERVICE_UNAVAILABLE, String::new())
        })
        .await;
        let source = Arc::new(client_credentials(&url));
        let calls = (0..20).map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await })
        });
        for outcome in futures::future::join_all(calls).await {
            assert_eq!(
                outcome.unwrap().unwrap_err(),
                TokenError::Rejected {
                    status: 503,
                    code: None
                }
            );
        }
        assert_eq!(fake.hits.load(Ordering::SeqCst), 1);
        assert!(source.token().await.unwrap_err().is_transient());
        assert_eq!(fake.hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_token_is_an_invalid_response() {
        let (_, url) = fake_aad(Duration::ZERO, |_| {
            (
                StatusCode::OK,
                r#"{"token_type":"Bearer","access_token":"leaky"}"#.into(),
            )
        })
        .await;
        let err = client_credentials(&url).token().await.unwrap_err();
        assert!(matches!(err, TokenError::InvalidResponse { .. }), "{err:?}");
        assert!(!err.to_string().contains("leaky"));
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = client_credentials(&format!("http://{addr}/token"))
            .token()
            .await
            .unwrap_err();
        assert!(matches!(err, TokenError::Unreachable { .. }), "{err:?}");
        assert!(err.is_transient());
    }

    #[test]
    fn expires_in_may_be_a_string_and_must_be_positive() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let token =
            parse_token_response(br#"{"expires_in":"3599","access_token":"a"}"#, now).unwrap();
        assert_eq!(token.expires_at(), now + SignedDuration::from_secs(3599));
        let err = parse_token_response(br#"{"expires_in":0,"access_token":"a"}"#, now);
        assert!(matches!(err, Err(TokenError::InvalidResponse { .. })));
        let err = parse_token_response(
            br#"{"token_type":"pop","expires_in":10,"access_token":"a"}"#,
            now,
        );
        assert!(matches!(err, Err(TokenError::InvalidResponse { .. })));
    }

    #[test]
    fn access_tokens_never_print_their_value() {
        let token = AccessToken::new("eyJ-very-secret", Timestamp::UNIX_EPOCH);
        assert!(!format!("{token:?}").contains("eyJ"));
    }

    #[test]
    fn token_source_picks_by_app_type() {
        let mut bot =
            bot_config("https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token");
        assert!(token_source(&bot, reqwest::Client::new()).is_ok());

        bot.app_type = AppType::UserAssignedMSI;
        bot.app_password = Secret::default();
        bot.token_url = String::new();
        assert!(token_source(&bot, reqwest::Client::new()).is_ok());

        bot.app_type = AppType::MultiTenant;
        let err = token_source(&bot, reqwest::Client::new()).err().unwrap();
        assert!(matches!(err, TokenError::Misconfigured { .. }), "{err:?}");

        bot.app_id = String::new();
        bot.app_type = AppType::UserAssignedMSI;
        let err = token_source(&bot, reqwest::Client::new()).err().unwrap();
        assert!(matches!(err, TokenError::Misconfigured { .. }), "{err:?}");
    }
}
