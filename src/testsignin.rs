//! The test sign-in: proves that a person can sign in with a phishing-resistant method before
//! enforcement, through a separate Entra app (authorization code + PKCE).
//!
//! The journey asks [`TestLinks::test_url`] (the engine's port) for a link to our own `/signin/test/start?t=…`,
//! bound to the person and their conversation, single use, expiring after
//! `test_signin.link_ttl_secs`. Opening it starts the Entra sign-in (`state`, `nonce`, PKCE
//! S256, `prompt=login`, `login_hint`, and `claims` asking for the authentication context);
//! the callback redeems the code, validates the id token (and the access token's `acrs`), and
//! hands the [`TestOutcome`] to a [`TestSignInSink`] (the engine, which feeds the journey).
//! Attempts live in the store, so any replica can run either step. Codes, tokens, `state`,
//! the verifier and the secret are never logged or shown.

mod page;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use tokio::sync::{Mutex, OnceCell};

use crate::botframework::auth::KeyStore;
use crate::config::TestSignInConfig;
use crate::conversation::TestResult;
use crate::engine::ports::LinkError;
pub use crate::engine::ports::TestLinks;
use crate::i18n::Locales;
use crate::ids::{AadObjectId, ConversationId, TenantId};
use crate::store::{AttemptClaim, FlowSecrets, NewTestAttempt, Store, StoreError, TestFlow};
use validate::{Expected, Invalid};

/// Where the sign-in starts (the link on the test card).
pub const START_PATH: &str = "/signin/test/start";
/// Where Entra sends the person back (`test_signin.redirect_url` ends with it).
pub const CALLBACK_PATH: &str = "/signin/test/callback";

/// How long a request to Entra may take.
const ENTRA_TIMEOUT: Duration = Duration::from_secs(15);

/// The bot's clock, injectable so tests can move past a link's expiry.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// Why a test sign-in failed, as the stable key the cards and the page have texts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// The method used does not satisfy the phishing-resistant requirement (AADSTS53003).
    StrengthNotMet,
    Expired,
    AlreadyUsed,
    /// Someone other than the person chatting signed in.
    WrongUser,
    Cancelled,
    /// The access token lacks the configured authentication context.
    AuthContextMissing,
    Other,
}

impl FailureReason {
    pub fn key(self) -> &'static str {
        match self {
            FailureReason::StrengthNotMet => "strengthNotMet",
            FailureReason::Expired => "expired",
            FailureReason::AlreadyUsed => "alreadyUsed",
            FailureReason::WrongUser => "wrongUser",
            FailureReason::Cancelled => "cancelled",
            FailureReason::AuthContextMissing => "authContextMissing",
            FailureReason::Other => "other",
        }
    }
}

/// How a test sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Passed,
    Failed(FailureReason),
}

impl From<TestOutcome> for TestResult {
    fn from(outcome: TestOutcome) -> TestResult {
        match outcome {
            TestOutcome::Passed => TestResult::Passed,
            TestOutcome::Failed(reason) => TestResult::Failed {
                reason: reason.key().to_owned(),
            },
        }
    }
}

/// A result for one person's journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDelivery {
    pub tenant_id: TenantId,
    pub aad_object_id: AadObjectId,
    pub conversation_id: ConversationId,
    pub outcome: TestOutcome,
}

/// The sink could not take a result (logged; the person still sees the page).
#[derive(Debug, thiserror::Error)]
#[error("the test result could not be delivered: {0}")]
pub struct DeliveryError(pub String);

/// Where results go: the engine turns them into `Event::TestSignIn` for the journey.
#[async_trait]
pub trait TestSignInSink: Send + Sync + 'static {
    async fn deliver(&self, delivery: TestDelivery) -> Result<(), DeliveryError>;
}

/// A sink that keeps what it got (tests, demos).
#[derive(Debug, Default)]
pub struct MemorySink {
    delivered: std::sync::Mutex<Vec<TestDelivery>>,
}

impl MemorySink {
    pub fn delivered(&self) -> Vec<TestDelivery> {
        self.delivered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl TestSignInSink for MemorySink {
    async fn deliver(&self, delivery: TestDelivery) -> Result<(), DeliveryError> {
        self.delivered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(delivery);
        Ok(())
    }
}

/// A sink that records each result in the event log (`test_signin.result`), for the audit
/// trail; the engine's sink feeds the journey instead.
pub struct EventLogSink {
    store: Arc<dyn Store>,
}

impl EventLogSink {
    pub fn new(store: Arc<dyn Store>) -> Self {
        EventLogSink { store }
    }
}

#[async_trait]
impl TestSignInSink for EventLogSink {
    async fn deliver(&self, delivery: TestDelivery) -> Result<(), DeliveryError> {
        let result = match delivery.outcome {
            TestOutcome::Passed => "passed",
            TestOutcome::Failed(reason) => reason.key(),
        };
        self.store
            .append_event(&crate::store::NewEvent {
                at: Timestamp::now(),
                tenant_id: delivery.tenant_id,
                aad_object_id: Some(delivery.aad_object_id),
                kind: "test_signin.result".to_owned(),
                data: serde_json::json!({
                    "result": result,
                    "conversationId": delivery.conversation_id.as_str(),
                }),
            })
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(e.to_string()))
    }
}

/// Errors of the test sign-in, for the log.
#[derive(Debug, thiserror::Error)]
pub enum TestSignInError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("Entra metadata from {url}: {message}")]
    Metadata { url: String, message: String },
    #[error("token endpoint: {0}")]
    Token(String),
    #[error("signing key: {0}")]
    Key(&'static str),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The endpoints of the authority, from its OpenID metadata.
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

/// The test sign-in service: links, the two HTTP steps, validation and delivery.
pub struct TestSignIn {
    config: TestSignInConfig,
    public_url: String,
    store: Arc<dyn Store>,
    sink: Arc<dyn TestSignInSink>,
    locales: Arc<Locales>,
    http: reqwest::Client,
    keys: KeyStore,
    metadata: OnceCell<Metadata>,
    /// Serialises metadata fetches after a failure.
    metadata_fetch: Mutex<()>,
    clock: Clock,
}

impl TestSignIn {
    /// `config` as resolved by `config::load` (`public_url` = `server.public_url`).
    pub fn new(
        config: TestSignInConfig,
        public_url: &str,
        store: Arc<dyn Store>,
        sink: Arc<dyn TestSignInSink>,
        locales: Arc<Locales>,
        http: reqwest::Client,
        clock: Clock,
    ) -> TestSignIn {
        let keys = KeyStore::new(metadata_url(&config.authority), http.clone());
        TestSignIn {
            config,
            public_url: public_url.trim_end_matches('/').to_owned(),
            store,
            sink,
            locales,
            http,
            keys,
            metadata: OnceCell::new(),
            metadata_fetch: Mutex::new(()),
            clock,
        }
    }

    fn ttl(&self) -> SignedDuration {
        SignedDuration::from_secs(i64::try_from(self.config.link_ttl_secs).unwrap_or(i64::MAX))
    }

    async fn metadata(&self) -> Result<&Metadata, TestSignInError> {
        if let Some(m) = self.metadata.get() {
            return Ok(m);
        }
        let _guard = self.metadata_fetch.lock().await;
        let url = metadata_url(&self.config.authority);
        let error = |message: String| TestSignInError::Metadata {
            url: url.clone(),
            message,
        };
        self.metadata
            .get_or_try_init(|| async {
                let r = self
                    .http
                    .get(&url)
                    .timeout(ENTRA_TIMEOUT)
                    .send()
                    .await
                    .map_err(|e| error(e.to_string()))?;
                if !r.status().is_success() {
                    return Err(error(format!("HTTP {}", r.status())));
                }
                r.json::<Metadata>().await.map_err(|e| error(e.to_string()))
            })
            .await
    }

    /// `GET /signin/test/start?t=…`: claims the link and sends the browser to Entra.
    async fn start(&self, token: &str, lang: &'static str) -> Response {
        let now = (self.clock)();
        let metadata = match self.metadata().await {
            Ok(m) => m.clone(),
            Err(e) => {
                tracing::error!(error = %e, "test sign-in cannot start");
                return self.page(
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    PageResult::Unavailable,
                );
            }
        };
        let state = random_token(32);
        let verifier = random_token(32);
        let flow = TestFlow {
            state_hash: sha256_hex(&state),
            secrets: FlowSecrets {
                nonce: random_token(24),
                pkce_verifier: verifier.clone(),
            },
            expires_at: now + self.ttl(),
        };
        let claim = match self
            .store
            .start_test_attempt(&sha256_hex(token), &flow, now)
            .await
        {
            Ok(claim) => claim,
            Err(e) => {
                tracing::error!(error = %e, "test sign-in: store");
                return self.page(
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    PageResult::Unavailable,
                );
            }
        };
        let attempt = match claim {
            AttemptClaim::Claimed(attempt) => attempt,
            AttemptClaim::Unknown => {
                tracing::warn!("test sign-in link not known");
                return self.page(lang, StatusCode::NOT_FOUND, PageResult::Unknown);
            }
            AttemptClaim::Expired(attempt) => {
                return self
                    .refuse_link(&attempt, FailureReason::Expired, lang)
                    .await;
            }
            AttemptClaim::AlreadyUsed(attempt) => {
                return self
                    .refuse_link(&attempt, FailureReason::AlreadyUsed, lang)
                    .await;
            }
        };
        let mut scope = "openid profile".to_owned();
        if !self.config.scope.is_empty() {
            scope.push(' ');
            scope.push_str(&self.config.scope);
        }
        let Ok(mut url) = url::Url::parse(&metadata.authorization_endpoint) else {
            tracing::error!("the authority's authorization_endpoint is not a URL");
            return self.page(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                PageResult::Unavailable,
            );
        };
        let challenge = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.config.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", &self.config.redirect_url)
                .append_pair("response_mode", "query")
                .append_pair("scope", &scope)
                .append_pair("state", &state)
                .append_pair("nonce", &flow.secrets.nonce)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("prompt", "login");
            if let Some(hint) = attempt.login_hint.as_deref() {
                q.append_pair("login_hint", hint);
            }
            if !self.config.auth_context.is_empty() {
                let claims = serde_json::json!({
                    "access_token": { "acrs": { "essential": true, "value": self.config.auth_context } }
                });
                q.append_pair("claims", &claims.to_string());
            }
        }
        tracing::info!(person = %attempt.aad_object_id, "test sign-in started");
        let mut response =
            (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response();
        private(response.headers_mut());
        response
    }

    /// A link that can no longer start a sign-in: the journey hears why, the person too.
    async fn refuse_link(
        &self,
        attempt: &crate::store::TestAttempt,
        reason: FailureReason,
        lang: &'static str,
    ) -> Response {
        let outcome = TestOutcome::Failed(reason);
        self.deliver(attempt, outcome).await;
        self.page(lang, StatusCode::GONE, PageResult::Outcome(outcome))
    }

    /// `GET /signin/test/callback`: claims the state, checks Entra's answer, delivers.
    async fn callback(&self, query: CallbackQuery, lang: &'static str) -> Response {
        let now = (self.clock)();
        let Some(state) = query.state.as_deref().filter(|s| !s.is_empty()) else {
            tracing::warn!("test sign-in callback without state");
            return self.page(lang, StatusCode::BAD_REQUEST, PageResult::Unknown);
        };
        let claim = match self
            .store
            .finish_test_attempt(&sha256_hex(state), now)
            .await
        {
            Ok(claim) => claim,
            Err(e) => {
                tracing::error!(error = %e, "test sign-in: store");
                return self.page(
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    PageResult::Unavailable,
                );
            }
        };
        let attempt = match claim {
            AttemptClaim::Claimed(attempt) => attempt,
            AttemptClaim::Unknown => {
                tracing::warn!("test sign-in callback with an unknown state");
                return self.page(lang, StatusCode::BAD_REQUEST, PageResult::Unknown);
            }
            AttemptClaim::AlreadyUsed(_) => {
                // The first callback already delivered this attempt's result.
                let outcome = TestOutcome::Failed(FailureReason::AlreadyUsed);
                return self.page(lang, StatusCode::GONE, PageResult::Outcome(outcome));
            }
            AttemptClaim::Expired(attempt) => {
                let outcome = TestOutcome::Failed(FailureReason::Expired);
                self.deliver(&attempt, outcome).await;
                return self.page(lang, StatusCode::GONE, PageResult::Outcome(outcome));
            }
        };
        let outcome = match self.judge(&query, &attempt).await {
            Ok(()) => TestOutcome::Passed,
            Err(reason) => TestOutcome::Failed(reason),
        };
        self.deliver(&attempt, outcome).await;
        self.page(lang, StatusCode::OK, PageResult::Outcome(outcome))
    }

    /// Decides the outcome of a claimed callback.
    async fn judge(
        &self,
        query: &CallbackQuery,
        attempt: &crate::store::TestAttempt,
    ) -> Result<(), FailureReason> {
        if let Some(error) = query.error.as_deref() {
            let description = query.error_description.as_deref().unwrap_or_default();
            let reason = validate::reason_for_error(error, description);
            tracing::info!(
                error,
                aadsts = aadsts(description),
                reason = reason.key(),
                "test sign-in: Entra refused"
            );
            return Err(reason);
        }
        let Some(code) = query.code.as_deref().filter(|c| !c.is_empty()) else {
            tracing::warn!("test sign-in callback without code or error");
            return Err(FailureReason::Other);
        };
        let Some(secrets) = attempt.flow.as_ref() else {
            tracing::error!("test sign-in attempt finished without its flow");
            return Err(FailureReason::Other);
        };
        let tokens = match self.redeem(code, secrets).await {
            Ok(tokens) => tokens,
            Err(e) => {
                tracing::warn!(error = %e, "test sign-in: code redemption failed");
                return Err(FailureReason::Other);
            }
        };
        match self.check_tokens(&tokens, secrets, attempt).await {
            Ok(()) => Ok(()),
            Err(CheckError::Invalid(invalid)) => {
                tracing::warn!(why = %invalid, "test sign-in: tokens refused");
                Err(invalid.reason())
            }
            Err(CheckError::Internal(e)) => {
                tracing::error!(error = %e, "test sign-in: tokens could not be checked");
                Err(FailureReason::Other)
            }
        }
    }

    async fn redeem(&self, code: &str, secrets: &FlowSecrets) -> Result<Tokens, TestSignInError> {
        let metadata = self.metadata().await?;
        let mut scope = "openid profile".to_owned();
        if !self.config.scope.is_empty() {
            scope.push(' ');
            scope.push_str(&self.config.scope);
        }
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", self.config.client_id.as_str()),
            ("code", code),
            ("redirect_uri", self.config.redirect_url.as_str()),
            ("code_verifier", secrets.pkce_verifier.as_str()),
            ("scope", scope.as_str()),
        ];
        if !self.config.client_secret.is_empty() {
            form.push(("client_secret", self.config.client_secret.expose()));
        }
        let r = self
            .http
            .post(&metadata.token_endpoint)
            .timeout(ENTRA_TIMEOUT)
            .form(&form)
            .send()
            .await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await?;
        if !status.is_success() {
            let error = body["error"].as_str().unwrap_or("unknown");
            let description = body["error_description"].as_str().unwrap_or_default();
            return Err(TestSignInError::Token(format!(
                "HTTP {status} {error} {}",
                aadsts(description).unwrap_or_default()
            )));
        }
        let field = |name: &str| body[name].as_str().map(str::to_owned);
        Ok(Tokens {
            id_token: field("id_token")
                .ok_or_else(|| TestSignInError::Token("no id_token".into()))?,
            access_token: field("access_token"),
        })
    }

    async fn check_tokens(
        &self,
        tokens: &Tokens,
        secrets: &FlowSecrets,
        attempt: &crate::store::TestAttempt,
    ) -> Result<(), CheckError> {
        let metadata = self.metadata().await.map_err(CheckError::Internal)?;
        let expected = Expected {
            issuer: &metadata.issuer,
            client_id: &self.config.client_id,
            tenant_id: &self.config.tenant_id,
            nonce: &secrets.nonce,
            person: attempt.aad_object_id.as_str(),
        };
        let key = self.key_for(&tokens.id_token).await?;
        validate::check_id_token(&tokens.id_token, &key, &expected)?;
        if self.config.auth_context.is_empty() {
            return Ok(());
        }
        let access = tokens
            .access_token
            .as_deref()
            .ok_or_else(|| Invalid::AccessToken("no access token".into()))?;
        let key = self.key_for(access).await?;
        validate::check_access_token(
            access,
            &key,
            validate::scope_resource(&self.config.scope),
            &expected,
            &self.config.auth_context,
        )?;
        Ok(())
    }

    async fn key_for(&self, token: &str) -> Result<jsonwebtoken::DecodingKey, CheckError> {
        let kid = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.kid)
            .ok_or_else(|| Invalid::IdToken("no kid in the header".into()))?;
        self.keys
            .decoding_key(&kid)
            .await
            .map_err(|r| CheckError::Internal(TestSignInError::Key(r.reason())))
    }

    async fn deliver(&self, attempt: &crate::store::TestAttempt, outcome: TestOutcome) {
        let result = match outcome {
            TestOutcome::Passed => "passed",
            TestOutcome::Failed(reason) => reason.key(),
        };
        tracing::info!(person = %attempt.aad_object_id, result, "test sign-in result");
        let delivery = TestDelivery {
            tenant_id: attempt.tenant_id.clone(),
            aad_object_id: attempt.aad_object_id.clone(),
            conversation_id: attempt.conversation_id.clone(),
            outcome,
        };
        if let Err(e) = self.sink.deliver(delivery).await {
            tracing::error!(error = %e, person = %attempt.aad_object_id, "test sign-in result lost");
        }
    }

    fn page(&self, lang: &'static str, status: StatusCode, result: PageResult) -> Response {
        let html = page::render(&self.locales, lang, result);
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response();
        private(response.headers_mut());
        response
    }
}

impl TestSignIn {
    /// A fresh single-use link for `person` in `conversation`, or `None` when the test
    /// sign-in is not configured. `login_hint` is the person's UPN when known.
    pub async fn link(
        &self,
        tenant: &TenantId,
        person: &AadObjectId,
        conversation: &ConversationId,
        login_hint: Option<&str>,
    ) -> Result<Option<String>, TestSignInError> {
        if !self.config.enabled() {
            return Ok(None);
        }
        let token = random_token(32);
        let now = (self.clock)();
        self.store
            .insert_test_attempt(&NewTestAttempt {
                token_hash: sha256_hex(&token),
                tenant_id: tenant.clone(),
                aad_object_id: person.clone(),
                conversation_id: conversation.clone(),
                login_hint: login_hint.filter(|h| !h.is_empty()).map(str::to_owned),
                created_at: now,
                expires_at: now + self.ttl(),
            })
            .await?;
        Ok(Some(format!("{}{START_PATH}?t={token}", self.public_url)))
    }
}

#[async_trait]
impl TestLinks for TestSignIn {
    async fn test_url(
        &self,
        tenant: &TenantId,
        person: &AadObjectId,
        conversation: &ConversationId,
        login_hint: Option<&str>,
    ) -> Result<Option<String>, LinkError> {
        self.link(tenant, person, conversation, login_hint)
            .await
            .map_err(|e| LinkError(e.to_string()))
    }
}

/// The routes of the test sign-in, to merge into the service's router.
pub fn routes(service: Arc<TestSignIn>) -> Router {
    Router::new()
        .route(START_PATH, get(start))
        .route(CALLBACK_PATH, get(callback))
        .with_state(service)
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    t: String,
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn start(
    State(service): State<Arc<TestSignIn>>,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Response {
    let lang = language(&service.locales, &headers);
    service.start(&query.t, lang).await
}

async fn callback(
    State(service): State<Arc<TestSignIn>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let lang = language(&service.locales, &headers);
    service.callback(query, lang).await
}

/// The page's language: the first shipped language of `Accept-Language` in the order given
/// (q-values ignored; browsers list by preference), else English.
fn language(locales: &Locales, headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    for tag in accept.split(',') {
        let tag = tag.split(';').next().unwrap_or_default().trim();
        let lang = locales.language(Some(tag));
        if tag.to_ascii_lowercase().starts_with(lang) && !tag.is_empty() {
            return lang;
        }
    }
    locales.language(None)
}

/// Pages and redirects carry codes or secrets in URLs: never cached, never sent as referrer.
fn private(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// What the page tells the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageResult {
    Outcome(TestOutcome),
    /// A link or state we do not know (mistyped, tampered or purged).
    Unknown,
    /// Something on our side failed.
    Unavailable,
}

struct Tokens {
    id_token: String,
    access_token: Option<String>,
}

enum CheckError {
    Invalid(Invalid),
    Internal(TestSignInError),
}

impl From<Invalid> for CheckError {
    fn from(invalid: Invalid) -> Self {
        CheckError::Invalid(invalid)
    }
}

fn metadata_url(authority: &str) -> String {
    format!("{authority}/.well-known/openid-configuration")
}

/// `AADSTS12345` from an Entra error description (safe to log; the rest may echo input).
fn aadsts(description: &str) -> Option<&str> {
    let start = description.find("AADSTS")?;
    let rest = &description[start..];
    let end = rest
        .char_indices()
        .skip(6)
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(rest.len(), |(i, _)| i);
    Some(&rest[..end])
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

fn sha256_hex(value: &str) -> String {
    sha256(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_codes_are_cut_out_of_descriptions() {
        assert_eq!(
            aadsts("AADSTS53003: Access has been blocked. Trace ID: x"),
            Some("AADSTS53003")
        );
        assert_eq!(aadsts("no code here"), None);
    }

    #[test]
    fn every_reason_key_has_a_card_text() {
        let locales = Locales::load().unwrap();
        for reason in [
            FailureReason::StrengthNotMet,
            FailureReason::Expired,
            FailureReason::AlreadyUsed,
            FailureReason::WrongUser,
            FailureReason::Cancelled,
            FailureReason::AuthContextMissing,
            FailureReason::Other,
        ] {
            for lang in ["en", "de"] {
                let id = format!("test-failed-{}", reason.key());
                assert!(locales.text(lang, &id, None).is_ok(), "{lang} {id}");
            }
        }
    }

    #[test]
    fn outcomes_become_journey_test_results() {
        assert_eq!(TestResult::from(TestOutcome::Passed), TestResult::Passed);
        assert_eq!(
            TestResult::from(TestOutcome::Failed(FailureReason::WrongUser)),
            TestResult::Failed {
                reason: "wrongUser".into()
            }
        );
    }

    #[test]
    fn the_page_language_is_the_first_shipped_one_asked_for() {
        let locales = Locales::load().unwrap();
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
            language(&locales, &h)
        };
        assert_eq!(with("de-DE,de;q=0.9,en;q=0.8"), "de");
        assert_eq!(with("fr-FR,de;q=0.5"), "de");
        assert_eq!(with("fr-FR"), "en");
        assert_eq!(language(&locales, &HeaderMap::new()), "en");
    }

    #[test]
    fn link_tokens_are_stored_only_as_hashes() {
        let token = random_token(32);
        assert_eq!(token.len(), 43);
        let hash = sha256_hex(&token);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&token));
    }
}
