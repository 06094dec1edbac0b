//! Entra ID and Bot Framework identity: run-time RSA signing keys, the channel's OpenID
//! metadata and JWKS (keys endorsed for `msteams`), Entra's per-tenant metadata and JWKS, and
//! the client-credentials token endpoint with Entra's own error bodies, the authorization-code
//! flow of the test sign-in app ([`authorize`]), and token expiry on demand.
//!
//! Issuers and audiences are the real ones (`https://api.botframework.com`,
//! `https://sts.windows.net/{tenant}/`): only the URLs the bot fetches point here.

mod authorize;
mod page;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::clock::SimClock;
use super::signin::SignInDirectory;

pub use authorize::{AuthorizeResponse, CODE_LIFETIME, SignInAppError, TestSignInApp};

/// Issuer of channel tokens (Teams → bot).
pub const CHANNEL_ISSUER: &str = "https://api.botframework.com";
/// The Bot Framework's own tenant: the authority `botframework.com` of multi-tenant bots.
pub const BOTFRAMEWORK_TENANT_ID: &str = "d6d49420-f39b-4df7-a1dc-d59a935871db";
/// Scope and audience of the bot's outbound token (bot → Bot Connector).
pub const BOT_SCOPE: &str = "https://api.botframework.com/.default";
pub const BOT_AUDIENCE: &str = "https://api.botframework.com";
/// Scope and audience of an app-only Microsoft Graph token.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// Channels the current channel key is endorsed for.
pub const CHANNEL_ENDORSEMENTS: &[&str] = &["msteams", "webchat", "directline", "emulator"];
/// The endorsements of the key that may not sign for Teams.
pub const UNENDORSED_ENDORSEMENTS: &[&str] = &["skype"];
/// Lifetime of issued access tokens, as Entra answers it.
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3599;

/// An RSA key generated at run time; its `kid` is the SHA-1 thumbprint of the public key,
/// shaped like Entra's `x5t`.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
}

impl SigningKey {
    /// A fresh 2048-bit key.
    pub fn generate() -> SigningKey {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA-2048 key generation");
        let pkcs8 = pair.as_der().expect("an RSA key encodes as PKCS#8");
        let base64 = STANDARD.encode(pkcs8.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in base64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("a PKCS#8 RSA PEM");
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let thumbprint = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            public.as_ref(),
        );
        let decoding = DecodingKey::from_rsa_components(&n, &e).expect("valid RSA components");
        SigningKey {
            kid: URL_SAFE_NO_PAD.encode(thumbprint.as_ref()),
            encoding,
            decoding,
            n,
            e,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` with RS256, `kid` and `x5t` in the header, as Microsoft does.
    pub fn sign(&self, claims: &impl Serialize) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.x5t = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("RS256 signing")
    }

    fn jwk(&self) -> Value {
        json!({"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": self.n, "e": self.e})
    }
}

/// The keys of one issuer: the one that signs, the next one (already published, as Microsoft
/// publishes keys before it uses them) and retired ones still published for a grace period.
struct KeySet {
    current: Arc<SigningKey>,
    next: Arc<SigningKey>,
    retired: Vec<(Arc<SigningKey>, Instant)>,
}

impl KeySet {
    fn generate() -> KeySet {
        KeySet {
            current: Arc::new(SigningKey::generate()),
            next: Arc::new(SigningKey::generate()),
            retired: Vec::new(),
        }
    }

    /// Makes the published next key (or, unannounced, a brand-new key) the signing key.
    fn rotate(&mut self, grace: Duration, announced: bool) -> String {
        let replacement = if announced {
            std::mem::replace(&mut self.next, Arc::new(SigningKey::generate()))
        } else {
            Arc::new(SigningKey::generate())
        };
        let old = std::mem::replace(&mut self.current, replacement);
        self.retired.push((old, Instant::now() + grace));
        self.current.kid.clone()
    }

    /// Every published key, retired ones past their grace dropped.
    fn published(&mut self) -> Vec<Arc<SigningKey>> {
        let now = Instant::now();
        self.retired.retain(|(_, until)| *until > now);
        let mut keys = vec![self.current.clone(), self.next.clone()];
        keys.extend(self.retired.iter().map(|(k, _)| k.clone()));
        keys
    }
}

/// An app registration that may use the client-credentials grant.
#[derive(Debug, Clone)]
pub struct ClientApp {
    pub app_id: String,
    pub secret: String,
    /// Application permissions granted on Microsoft Graph (`roles` of Graph tokens).
    pub graph_roles: Vec<String>,
}

/// The claims of an access token the simulator issued, as a resource server reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub appid: String,
    pub tid: String,
    pub exp: i64,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Entra's unique token id; the simulator numbers its tokens in it (see
    /// [`Identity::expire_tokens`]).
    #[serde(default)]
    pub uti: String,
}

/// Why a bearer token was refused by a simulated resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not signed by a published key")]
    UnknownKey,
    #[error("the token is invalid: bad signature, wrong issuer or audience")]
    Invalid,
    #[error("the token has expired (or was expired through the control API)")]
    Expired,
}

/// Entra and Bot Framework identity for one simulated tenant.
pub struct Identity {
    base_url: String,
    tenant_id: String,
    key_grace: Duration,
    channel_keys: Mutex<KeySet>,
    unendorsed: Arc<SigningKey>,
    entra_keys: Mutex<KeySet>,
    clients: Mutex<HashMap<String, ClientApp>>,
    clock: Arc<SimClock>,
    /// People and their ways to sign in, for the sign-in page.
    directory: Option<Arc<dyn SignInDirectory>>,
    test_apps: Mutex<HashMap<String, TestSignInApp>>,
    flows: Mutex<authorize::Flows>,
    /// Number of the next token issued (carried in its `uti`).
    token_seq: AtomicU64,
    /// Tokens numbered below this are expired.
    expired_below: AtomicU64,
}

impl Identity {
    /// Generates the keys; `base_url` is where the simulator is reachable (no trailing slash).
    pub fn new(
        base_url: &str,
        tenant_id: &str,
        key_grace: Duration,
        clock: Arc<SimClock>,
    ) -> Identity {
        Identity {
            clock,
            base_url: base_url.trim_end_matches('/').to_owned(),
            tenant_id: tenant_id.to_ascii_lowercase(),
            key_grace,
            channel_keys: Mutex::new(KeySet::generate()),
            unendorsed: Arc::new(SigningKey::generate()),
            entra_keys: Mutex::new(KeySet::generate()),
            clients: Mutex::new(HashMap::new()),
            directory: None,
            test_apps: Mutex::new(HashMap::new()),
            flows: Mutex::new(authorize::Flows::default()),
            token_seq: AtomicU64::new(1),
            expired_below: AtomicU64::new(0),
        }
    }

    /// Lets the sign-in page find people and their sign-in options.
    pub fn with_sign_in_directory(mut self, directory: Arc<dyn SignInDirectory>) -> Identity {
        self.directory = Some(directory);
        self
    }

    /// The directory the sign-in page reads and records attempts in, if any.
    pub fn sign_in_directory(&self) -> Option<&Arc<dyn SignInDirectory>> {
        self.directory.as_ref()
    }

    /// A fresh `uti`: 16 bytes, base64url like Entra's, the first 8 the token's number.
    fn next_uti(&self) -> String {
        let seq = self.token_seq.fetch_add(1, Ordering::SeqCst);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&seq.to_be_bytes());
        bytes[8..].copy_from_slice(&rand::random::<[u8; 8]>());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Every token issued so far is expired from now on, for every simulated resource; tokens
    /// issued afterwards are not affected.
    pub fn expire_tokens(&self) {
        let next = self.token_seq.load(Ordering::SeqCst);
        self.expired_below.fetch_max(next, Ordering::SeqCst);
    }

    /// Whether a token with this `uti` was issued before the last [`Identity::expire_tokens`].
    fn is_expired_by_control(&self, uti: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(uti) else {
            return false;
        };
        let Ok(seq) = <[u8; 8]>::try_from(bytes.get(..8).unwrap_or_default()) else {
            return false;
        };
        u64::from_be_bytes(seq) < self.expired_below.load(Ordering::SeqCst)
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The simulated clock tokens are issued and checked by.
    pub fn clock(&self) -> &Arc<SimClock> {
        &self.clock
    }

    /// The Bot Framework channel metadata URL (the bot's `openid_metadata_url`).
    pub fn channel_metadata_url(&self) -> String {
        format!("{}/v1/.well-known/openidconfiguration", self.base_url)
    }

    /// The token endpoint of `authority` (a tenant id or `botframework.com`).
    pub fn token_url(&self, authority: &str) -> String {
        format!("{}/{authority}/oauth2/v2.0/token", self.base_url)
    }

    /// Registers (or replaces) an app that may get tokens.
    pub fn register_client(&self, app: ClientApp) {
        lock(&self.clients).insert(app.app_id.to_ascii_lowercase(), app);
    }

    /// The key that signs channel tokens now.
    pub fn channel_key(&self) -> Arc<SigningKey> {
        lock(&self.channel_keys).current.clone()
    }

    /// A key in the channel JWKS endorsed only for `skype`, never for `msteams`.
    pub fn unendorsed_key(&self) -> Arc<SigningKey> {
        self.unendorsed.clone()
    }

    /// Rotates the channel and Entra signing keys to the already-published next keys; the
    /// old ones stay published for the grace period. Returns the new channel `kid`.
    pub fn rotate_keys(&self) -> String {
        lock(&self.entra_keys).rotate(self.key_grace, true);
        lock(&self.channel_keys).rotate(self.key_grace, true)
    }

    /// Rotates to keys nobody has seen before: a cached JWKS does not know the new `kid`.
    pub fn rotate_keys_unannounced(&self) -> String {
        lock(&self.entra_keys).rotate(self.key_grace, false);
        lock(&self.channel_keys).rotate(self.key_grace, false)
    }

    /// `{"keys": [...]}` of the channel: endorsed keys plus the `skype`-only key.
    pub fn channel_jwks(&self) -> Value {
        let mut keys: Vec<Value> = lock(&self.channel_keys)
            .published()
            .iter()
            .map(|k| {
                let mut jwk = k.jwk();
                jwk["endorsements"] = json!(CHANNEL_ENDORSEMENTS);
                jwk
            })
            .collect();
        let mut unendorsed = self.unendorsed.jwk();
        unendorsed["endorsements"] = json!(UNENDORSED_ENDORSEMENTS);
        keys.push(unendorsed);
        json!({ "keys": keys })
    }

    /// `{"keys": [...]}` of Entra for `tenant`.
    pub fn entra_jwks(&self, tenant: &str) -> Value {
        let issuer = format!("https://login.microsoftonline.com/{tenant}/v2.0");
        let keys: Vec<Value> = lock(&self.entra_keys)
            .published()
            .iter()
            .map(|k| {
                let mut jwk = k.jwk();
                jwk["issuer"] = json!(issuer);
                jwk
            })
            .collect();
        json!({ "keys": keys })
    }

    /// Issues an app-only access token as Entra's token endpoint does, or Entra's error.
    pub fn client_credentials(
        &self,
        authority: &str,
        form: &HashMap<String, String>,
    ) -> Result<Value, EntraError> {
        let tid = self
            .tenant_of(authority)
            .ok_or_else(|| EntraError::tenant_not_found(authority))?;
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let grant = field("grant_type").ok_or_else(|| EntraError::missing("grant_type"))?;
        if grant != "client_credentials" {
            return Err(EntraError::unsupported_grant(grant));
        }
        let client_id = field("client_id").ok_or_else(|| EntraError::missing("client_id"))?;
        let scope = field("scope").ok_or_else(|| EntraError::missing("scope"))?;
        let client = lock(&self.clients)
            .get(&client_id.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| EntraError::unknown_client(client_id, &tid))?;
        let secret = field("client_secret").ok_or_else(EntraError::no_credential)?;
        if secret != client.secret {
            return Err(EntraError::invalid_secret(&client.app_id));
        }
        let (audience, roles) = match scope {
            BOT_SCOPE => (BOT_AUDIENCE, Vec::new()),
            GRAPH_SCOPE => (GRAPH_AUDIENCE, client.graph_roles.clone()),
            s if !s.ends_with("/.default") => return Err(EntraError::scope_not_default(s)),
            s => return Err(EntraError::unknown_resource(s, &tid)),
        };
        let now = jiff::Timestamp::now().as_second();
        let issuer = format!("https://sts.windows.net/{tid}/");
        let mut claims = json!({
            "aud": audience, "iss": issuer, "iat": now, "nbf": now,
            "exp": now + ACCESS_TOKEN_LIFETIME_SECS,
            "aio": "sim", "appid": client.app_id, "appidacr": "1", "idp": issuer,
            "oid": uuid_for(&client.app_id), "sub": uuid_for(&client.app_id),
            "tid": tid, "uti": self.next_uti(), "ver": "1.0",
        });
        if !roles.is_empty() {
            claims["roles"] = json!(roles);
        }
        let token = lock(&self.entra_keys).current.sign(&claims);
        Ok(json!({
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
            "ext_expires_in": ACCESS_TOKEN_LIFETIME_SECS,
            "access_token": token,
        }))
    }

    /// Checks a bearer token as a resource (Bot Connector, Graph) would: signed by a
    /// published Entra key, unexpired, for `audience`, from a known tenant's issuer.
    pub fn verify_access_token(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<AccessClaims, TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Invalid)?;
        let kid = header.kid.ok_or(TokenRejection::UnknownKey)?;
        let key = lock(&self.entra_keys)
            .published()
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or(TokenRejection::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.set_audience(&[audience]);
        validation.set_issuer(&[
            format!("https://sts.windows.net/{BOTFRAMEWORK_TENANT_ID}/"),
            format!("https://sts.windows.net/{}/", self.tenant_id),
        ]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Invalid,
            })?;
        if self.is_expired_by_control(&claims.uti) {
            return Err(TokenRejection::Expired);
        }
        Ok(claims)
    }

    /// The tenant id an authority path names, if it is one this simulator serves.
    fn tenant_of(&self, authority: &str) -> Option<String> {
        if authority.eq_ignore_ascii_case("botframework.com")
            || authority.eq_ignore_ascii_case(BOTFRAMEWORK_TENANT_ID)
        {
            Some(BOTFRAMEWORK_TENANT_ID.to_owned())
        } else if authority.eq_ignore_ascii_case(&self.tenant_id) {
            Some(self.tenant_id.clone())
        } else {
            None
        }
    }

    fn entra_metadata(&self, authority: &str, tid: &str) -> Value {
        let base = format!("{}/{authority}", self.base_url);
        json!({
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("https://login.microsoftonline.com/{tid}/v2.0"),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })
    }
}

/// A stable GUID-shaped id derived from a name (an app's service principal object id).
fn uuid_for(name: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// An error of Entra's token endpoint, with its status and `AADSTS` code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl EntraError {
    fn new(status: StatusCode, error: &'static str, code: u32, description: String) -> Self {
        EntraError {
            status,
            error,
            code,
            description,
        }
    }

    fn missing(parameter: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    fn unsupported_grant(grant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }

    fn tenant_not_found(tenant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    fn unknown_client(client_id: &str, tenant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }

    fn no_credential() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        )
    }

    fn invalid_secret(app_id: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app_id}'."
            ),
        )
    }

    fn scope_not_default(scope: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )
    }

    fn unknown_resource(scope: &str, tenant: &str) -> Self {
        let resource = scope.trim_end_matches("/.default");
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        )
    }

    /// Entra's JSON error body: `AADSTS` text with trace, correlation id and time.
    pub fn body(&self) -> Value {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let now = jiff::Timestamp::now();
        let timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ").to_string();
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }
}

impl IntoResponse for EntraError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// The identity routes: channel metadata and keys, Entra metadata, keys and token endpoint.
pub fn routes(identity: Arc<Identity>) -> Router {
    Router::new()
        .route("/v1/.well-known/openidconfiguration", get(channel_metadata))
        .route("/v1/.well-known/keys", get(channel_keys))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(entra_metadata),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(entra_keys))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/login", post(sign_in_step))
        .with_state(identity)
}

async fn channel_metadata(State(identity): State<Arc<Identity>>) -> Json<Value> {
    Json(json!({
        "issuer": CHANNEL_ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": format!("{}/v1/.well-known/keys", identity.base_url),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
}

async fn channel_keys(State(identity): State<Arc<Identity>>) -> Json<Value> {
    Json(identity.channel_jwks())
}

async fn entra_metadata(
    State(identity): State<Arc<Identity>>,
    Path(tenant): Path<String>,
) -> Response {
    match identity.tenant_of(&tenant) {
        Some(tid) => Json(identity.entra_metadata(&tenant, &tid)).into_response(),
        None => EntraError::tenant_not_found(&tenant).into_response(),
    }
}

async fn entra_keys(State(identity): State<Arc<Identity>>, Path(tenant): Path<String>) -> Response {
    match identity.tenant_of(&tenant) {
        Some(tid) => Json(identity.entra_jwks(&tid)).into_response(),
        None => EntraError::tenant_not_found(&tenant).into_response(),
    }
}

async fn token(
    State(identity): State<Arc<Identity>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = if form.get("grant_type").map(String::as_str) == Some("authorization_code") {
        identity.redeem_code(&tenant, &form)
    } else {
        identity.client_credentials(&tenant, &form)
    };
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

impl IntoResponse for AuthorizeResponse {
    fn into_response(self) -> Response {
        match self {
            AuthorizeResponse::Page(status, html) => (status, Html(html)).into_response(),
            // Entra answers 302 Found, not 303/307.
            AuthorizeResponse::Redirect(url) => {
                let mut response = Redirect::to(&url).into_response();
                *response.status_mut() = StatusCode::FOUND;
                response
            }
        }
    }
}

async fn authorize(
    State(identity): State<Arc<Identity>>,
    Path(tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    identity.authorize(&tenant, &query).into_response()
}

async fn sign_in_step(
    State(identity): State<Arc<Identity>>,
    Path(tenant): Path<String>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    identity
        .sign_in_step(&tenant, &form, user_agent)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11";
    const APP: &str = "00000000-0000-4000-8000-00000000b07a";

    fn identity() -> Identity {
        let identity = Identity::new(
            "http://127.0.0.1:1",
            TENANT,
            Duration::from_secs(60),
            Arc::default(),
        );
        identity.register_client(ClientApp {
            app_id: APP.into(),
            secret: "right".into(),
            graph_roles: vec!["User.Read.All".into()],
        });
        identity
    }

    fn form(secret: &str, scope: &str) -> HashMap<String, String> {
        [
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", secret),
            ("scope", scope),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn issued_tokens_verify_for_their_audience_only() {
        let identity = identity();
        let body = identity
            .client_credentials("botframework.com", &form("right", BOT_SCOPE))
            .unwrap();
        let token = body["access_token"].as_str().unwrap();
        let claims = identity.verify_access_token(token, BOT_AUDIENCE).unwrap();
        assert_eq!(claims.appid, APP);
        assert_eq!(claims.tid, BOTFRAMEWORK_TENANT_ID);
        assert_eq!(
            identity.verify_access_token(token, GRAPH_AUDIENCE),
            Err(TokenRejection::Invalid)
        );
        let graph = identity
            .client_credentials(TENANT, &form("right", GRAPH_SCOPE))
            .unwrap();
        let claims = identity
            .verify_access_token(graph["access_token"].as_str().unwrap(), GRAPH_AUDIENCE)
            .unwrap();
        assert_eq!(claims.roles, vec!["User.Read.All"]);
    }

    #[test]
    fn expiring_tokens_rejects_those_issued_before_and_not_after() {
        let identity = identity();
        let issue = || {
            identity
                .client_credentials(TENANT, &form("right", GRAPH_SCOPE))
                .unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let old = issue();
        assert!(identity.verify_access_token(&old, GRAPH_AUDIENCE).is_ok());
        identity.expire_tokens();
        assert_eq!(
            identity.verify_access_token(&old, GRAPH_AUDIENCE),
            Err(TokenRejection::Expired)
        );
        let fresh = issue();
        assert!(identity.verify_access_token(&fresh, GRAPH_AUDIENCE).is_ok());
    }

    #[test]
    fn a_rotated_out_key_is_published_until_its_grace_ends() {
        let identity = Identity::new("http://127.0.0.1:1", TENANT, Duration::ZERO, Arc::default());
        let old = identity.channel_key().kid().to_owned();
        let new = identity.rotate_keys();
        assert_ne!(old, new);
        let kids: Vec<String> = identity.channel_jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        assert!(kids.contains(&new));
        assert!(!kids.contains(&old), "the grace period was zero");
    }

    #[test]
    fn the_channel_jwks_endorses_teams_except_for_the_skype_only_key() {
        let identity = identity();
        let jwks = identity.channel_jwks();
        let endorsements = |kid: &str| {
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == kid)
                .map(|k| k["endorsements"].clone())
        };
        let teams = endorsements(identity.channel_key().kid()).unwrap();
        assert!(teams.as_array().unwrap().contains(&json!("msteams")));
        let skype = endorsements(identity.unendorsed_key().kid()).unwrap();
        assert_eq!(skype, json!(["skype"]));
    }

    #[test]
    fn errors_carry_entra_codes() {
        let identity = identity();
        let wrong = identity
            .client_credentials(TENANT, &form("wrong", BOT_SCOPE))
            .unwrap_err();
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.code, 7000215);
        let mut unknown = form("right", BOT_SCOPE);
        unknown.insert(
            "client_id".into(),
            "11111111-0000-4000-8000-000000000000".into(),
        );
        let err = identity.client_credentials(TENANT, &unknown).unwrap_err();
        assert_eq!(err.code, 700016);
        let err = identity
            .client_credentials("contoso.example", &form("right", BOT_SCOPE))
            .unwrap_err();
        assert_eq!(err.code, 90002);
        let err = identity
            .client_credentials(TENANT, &form("right", "User.Read"))
            .unwrap_err();
        assert_eq!(err.code, 1002012);
    }
}
