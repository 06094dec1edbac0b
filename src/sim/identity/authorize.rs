//! The authorization-code flow with PKCE for the bot's test sign-in app: `/authorize`, the
//! sign-in page where a simulated person picks a method, and code redemption at `/token`.
//!
//! The app behaves as if a Conditional Access policy "Phishing-resistant MFA authentication
//! strength, sign-in frequency every time" targets it: only a passkey, security key or
//! Windows Hello for Business completes the sign-in, and only then do requested
//! authentication contexts (`acrs`) appear in the access token. Codes live 10 minutes on the
//! simulated clock and can be redeemed once.

use std::collections::HashMap;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::page::{self, SignInPage};
use super::{ACCESS_TOKEN_LIFETIME_SECS, EntraError, GRAPH_AUDIENCE, Identity, lock, uuid_for};
use crate::sim::signin::{SignInAttempt, SignInMethod, SignInOption, SignInPerson};

/// How long an authorization code can be redeemed after it was issued.
pub const CODE_LIFETIME: SignedDuration = SignedDuration::from_mins(10);
/// How long a started sign-in (page shown, nothing chosen yet) is kept.
const PENDING_LIFETIME: SignedDuration = SignedDuration::from_hours(1);
/// How long issued codes are remembered (so reuse and expiry give their own errors).
const CODE_MEMORY: SignedDuration = SignedDuration::from_hours(24);
/// Scopes of the OpenID layer rather than of an API.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// A registered test sign-in app (a web or public client with redirect URIs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSignInApp {
    pub client_id: String,
    /// `None` for a public client (no secret at the token endpoint).
    pub secret: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Authentication context ids (`c1`..`c25`) the Conditional Access policy covers.
    pub auth_contexts: Vec<String>,
    pub display_name: String,
}

/// Why a test sign-in app cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInAppError {
    #[error("authentication context id {0:?} is not one of c1..c25")]
    InvalidAuthContext(String),
    #[error("redirect URI {0:?} is not an absolute URL")]
    InvalidRedirectUri(String),
    #[error("a sign-in app needs at least one redirect URI")]
    NoRedirectUri,
}

impl TestSignInApp {
    /// Checks the redirect URIs and context ids as the Entra admin center would.
    pub fn new(
        client_id: &str,
        secret: Option<&str>,
        redirect_uris: &[&str],
        auth_contexts: &[&str],
    ) -> Result<TestSignInApp, SignInAppError> {
        if redirect_uris.is_empty() {
            return Err(SignInAppError::NoRedirectUri);
        }
        for uri in redirect_uris {
            url::Url::parse(uri).map_err(|_| SignInAppError::InvalidRedirectUri((*uri).into()))?;
        }
        for id in auth_contexts {
            let valid = id
                .strip_prefix('c')
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=25).contains(&n) && !id.starts_with("c0"));
            if !valid {
                return Err(SignInAppError::InvalidAuthContext((*id).into()));
            }
        }
        Ok(TestSignInApp {
            client_id: client_id.to_ascii_lowercase(),
            secret: secret.map(str::to_owned),
            redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
            auth_contexts: auth_contexts.iter().map(|c| (*c).to_owned()).collect(),
            display_name: "Passkey sign-in test".to_owned(),
        })
    }
}

/// How the result goes back to the app (`response_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    /// A 302 with the result in the query (the default for `response_type=code`).
    Query,
    /// A 302 with the result in the fragment.
    Fragment,
    /// A page that posts the result to the redirect URI.
    FormPost,
}

impl ResponseMode {
    fn parse(raw: Option<&str>) -> Option<ResponseMode> {
        match raw {
            None | Some("query") => Some(ResponseMode::Query),
            Some("fragment") => Some(ResponseMode::Fragment),
            Some("form_post") => Some(ResponseMode::FormPost),
            Some(_) => None,
        }
    }
}

/// A checked `/authorize` request.
#[derive(Debug, Clone)]
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    mode: ResponseMode,
    scopes: Vec<String>,
    state: Option<String>,
    nonce: Option<String>,
    /// `(challenge, method)`, method `S256` or `plain`.
    challenge: Option<(String, String)>,
    /// `acrs` values asked for in `claims.access_token`.
    acrs: Vec<String>,
}

/// A sign-in page that is open.
struct Pending {
    request: AuthRequest,
    started: Timestamp,
}

/// An authorization code and what it grants.
struct IssuedCode {
    request: AuthRequest,
    person: SignInPerson,
    method: SignInMethod,
    issued: Timestamp,
    redeemed: bool,
}

/// Open sign-ins and issued codes.
#[derive(Default)]
pub(super) struct Flows {
    pending: HashMap<String, Pending>,
    codes: HashMap<String, IssuedCode>,
}

/// What the browser gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeResponse {
    /// An HTML page with its status.
    Page(StatusCode, String),
    /// A 302 to this URL (the app's redirect URI with a code or an error).
    Redirect(String),
}

/// An error `/authorize` sends back to the app's redirect URI.
struct RedirectError {
    error: &'static str,
    code: u32,
    description: String,
}

impl RedirectError {
    fn new(error: &'static str, code: u32, description: impl Into<String>) -> Self {
        RedirectError {
            error,
            code,
            description: description.into(),
        }
    }
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

fn trace_suffix() -> (String, String) {
    let correlation = uuid::Uuid::new_v4().to_string();
    let timestamp = Timestamp::now().strftime("%Y-%m-%d %H:%M:%SZ").to_string();
    (correlation, timestamp)
}

fn error_page(code: u32, description: &str) -> AuthorizeResponse {
    let (correlation, timestamp) = trace_suffix();
    AuthorizeResponse::Page(
        StatusCode::BAD_REQUEST,
        page::error(code, description, &correlation, &timestamp),
    )
}

/// Sends `pairs` back to `redirect_uri` the way `mode` asks.
fn respond(redirect_uri: &str, mode: ResponseMode, pairs: &[(&str, &str)]) -> AuthorizeResponse {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return AuthorizeResponse::Redirect(redirect_uri.to_owned());
    };
    match mode {
        ResponseMode::Query => {
            url.query_pairs_mut().extend_pairs(pairs);
            AuthorizeResponse::Redirect(url.to_string())
        }
        ResponseMode::Fragment => {
            let fragment = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            url.set_fragment(Some(&fragment));
            AuthorizeResponse::Redirect(url.to_string())
        }
        ResponseMode::FormPost => {
            AuthorizeResponse::Page(StatusCode::OK, page::form_post(redirect_uri, pairs))
        }
    }
}

fn redirect_error(
    request_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    e: &RedirectError,
) -> AuthorizeResponse {
    let trace = uuid::Uuid::new_v4();
    let (correlation, timestamp) = trace_suffix();
    let description = format!(
        "AADSTS{}: {} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}",
        e.code, e.description
    );
    let mut pairs = vec![
        ("error", e.error),
        ("error_description", description.as_str()),
    ];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    respond(request_uri, mode, &pairs)
}

/// The `acrs` values of `claims.access_token.acrs` (`value` or `values`).
fn requested_acrs(claims: &str) -> Result<Vec<String>, ()> {
    let parsed: Value = serde_json::from_str(claims).map_err(|_| ())?;
    let acrs = &parsed["access_token"]["acrs"];
    let mut out: Vec<String> = Vec::new();
    if let Some(v) = acrs["value"].as_str() {
        out.push(v.to_owned());
    }
    if let Some(values) = acrs["values"].as_array() {
        out.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
    }
    Ok(out)
}

/// `(audience, scp, granted scope string)` of the access token for the requested scopes.
fn resource_of(scopes: &[String]) -> Result<(String, String, String), RedirectError> {
    let api: Vec<&String> = scopes
        .iter()
        .filter(|s| !OIDC_SCOPES.contains(&s.as_str()))
        .collect();
    if api.is_empty() {
        return Ok((
            GRAPH_AUDIENCE.to_owned(),
            "email openid profile User.Read".to_owned(),
            "User.Read profile openid email".to_owned(),
        ));
    }
    let split = |s: &str| -> (String, String) {
        match s.rsplit_once('/') {
            Some((resource, name)) => (resource.to_owned(), name.to_owned()),
            None => (GRAPH_AUDIENCE.to_owned(), s.to_owned()),
        }
    };
    let (resource, _) = split(api[0]);
    let mut names = Vec::new();
    for scope in &api {
        let (r, name) = split(scope);
        if r != resource {
            return Err(RedirectError::new(
                "invalid_request",
                28000,
                "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ".to_owned()
                    + &scopes.join(" ")
                    + " is not valid.",
            ));
        }
        names.push(if name == ".default" {
            "user_impersonation".to_owned()
        } else {
            name
        });
    }
    let granted = names
        .iter()
        .map(|n| format!("{resource}/{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    Ok((resource, names.join(" "), granted))
}

impl Identity {
    /// Registers (or replaces) the bot's test sign-in app.
    pub fn register_test_signin_app(&self, app: TestSignInApp) {
        lock(&self.test_apps).insert(app.client_id.clone(), app);
    }

    fn test_app(&self, client_id: &str) -> Option<TestSignInApp> {
        lock(&self.test_apps)
            .get(&client_id.to_ascii_lowercase())
            .cloned()
    }

    fn login_path(&self, authority: &str) -> String {
        format!("/{authority}/login")
    }

    /// `GET /{tenant}/oauth2/v2.0/authorize`: the sign-in page, Entra's error page, or an
    /// error sent to the app.
    pub fn authorize(&self, authority: &str, query: &HashMap<String, String>) -> AuthorizeResponse {
        let Some(_tid) = self.tenant_of(authority) else {
            let e = EntraError::tenant_not_found(authority);
            return error_page(e.code, &e.description);
        };
        let field = |name: &str| {
            query
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let Some(client_id) = field("client_id") else {
            let e = EntraError::missing("client_id");
            return error_page(e.code, &e.description);
        };
        let Some(app) = self.test_app(client_id) else {
            let e = EntraError::unknown_client(client_id, &self.tenant_id);
            return error_page(e.code, &e.description);
        };
        let redirect_uri = match field("redirect_uri") {
            Some(uri) if app.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
            Some(uri) => {
                return error_page(
                    50011,
                    &format!(
                        "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
                        app.client_id
                    ),
                );
            }
            None => app.redirect_uris[0].clone(),
        };
        let state = field("state");
        let Some(mode) = ResponseMode::parse(field("response_mode")) else {
            let e = RedirectError::new(
                "invalid_request",
                90100,
                "response_mode parameter is empty or not valid.",
            );
            return redirect_error(&redirect_uri, ResponseMode::Query, state, &e);
        };
        let request = match self.check_request(&app, &redirect_uri, mode, query) {
            Ok(request) => request,
            Err(e) => return redirect_error(&redirect_uri, mode, state, &e),
        };
        if field("prompt") == Some("none") {
            let e = RedirectError::new(
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            );
            return redirect_error(&redirect_uri, mode, state, &e);
        }
        let context = random_token(24);
        let now = self.clock.now();
        {
            let mut flows = lock(&self.flows);
            flows
                .pending
                .retain(|_, p| now.duration_since(p.started) < PENDING_LIFETIME);
            flows.pending.insert(
                context.clone(),
                Pending {
                    request,
                    started: now,
                },
            );
        }
        let hint = field("login_hint").unwrap_or_default();
        self.render(authority, &context, &app, hint, None, None)
    }

    fn check_request(
        &self,
        app: &TestSignInApp,
        redirect_uri: &str,
        mode: ResponseMode,
        query: &HashMap<String, String>,
    ) -> Result<AuthRequest, RedirectError> {
        let field = |name: &str| {
            query
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let missing = |name: &str| {
            RedirectError::new(
                "invalid_request",
                900144,
                format!("The request body must contain the following parameter: '{name}'."),
            )
        };
        let response_type = field("response_type").ok_or_else(|| missing("response_type"))?;
        if response_type != "code" {
            return Err(RedirectError::new(
                "unsupported_response_type",
                700054,
                format!("response_type '{response_type}' is not enabled for the application."),
            ));
        }
        let scope = field("scope").ok_or_else(|| missing("scope"))?;
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
        resource_of(&scopes)?;
        let challenge = match field("code_challenge") {
            None => None,
            Some(challenge) => {
                let method = field("code_challenge_method").unwrap_or("plain");
                if method != "S256" && method != "plain" {
                    return Err(RedirectError::new(
                        "invalid_request",
                        50147,
                        format!(
                            "The code_challenge_method '{method}' is not supported. Supported values are 'S256' and 'plain'."
                        ),
                    ));
                }
                if !(43..=128).contains(&challenge.len()) {
                    return Err(RedirectError::new(
                        "invalid_request",
                        501491,
                        "Invalid size of Code_Challenge parameter.",
                    ));
                }
                Some((challenge.to_owned(), method.to_owned()))
            }
        };
        let acrs = match field("claims") {
            None => Vec::new(),
            Some(claims) => requested_acrs(claims).map_err(|()| {
                RedirectError::new(
                    "invalid_request",
                    90100,
                    "claims parameter is empty or not valid.",
                )
            })?,
        };
        Ok(AuthRequest {
            client_id: app.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            mode,
            scopes,
            state: field("state").map(str::to_owned),
            nonce: field("nonce").map(str::to_owned),
            challenge,
            acrs,
        })
    }

    /// The sign-in page for `login` (a UPN or nothing yet).
    fn render(
        &self,
        authority: &str,
        context: &str,
        app: &TestSignInApp,
        login: &str,
        failed: Option<(&SignInOption, crate::sim::signin::OptionFailure)>,
        from: Option<&str>,
    ) -> AuthorizeResponse {
        let action = self.login_path(authority);
        let person = match (&self.directory, login.trim()) {
            (_, "") => None,
            (Some(directory), login) => directory.find_person(login),
            (None, _) => None,
        };
        let notice = match (&person, login.trim()) {
            (None, "") => None,
            (None, _) => Some(
                "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.".to_owned(),
            ),
            (Some(p), _) if !p.account_enabled => Some(
                "Your account has been locked. Contact your support person to unlock it, then try again.".to_owned(),
            ),
            _ => None,
        };
        let options: Vec<SignInOption> = match (&self.directory, &person) {
            (Some(directory), Some(p)) if p.account_enabled => directory
                .sign_in_options(&p.id)
                .into_iter()
                .filter(|o| failed.is_none_or(|(f, _)| f.id != o.id))
                .collect(),
            _ => Vec::new(),
        };
        let shown = person.as_ref().filter(|p| p.account_enabled);
        let devices = match (&self.directory, shown) {
            (Some(directory), Some(p)) => directory.device_names(&p.id),
            _ => Vec::new(),
        };
        let from = from
            .filter(|f| devices.iter().any(|d| d == f))
            .or(devices.first().map(String::as_str));
        let html = page::sign_in(&SignInPage {
            action: &action,
            context,
            app_name: &app.display_name,
            login,
            person: shown,
            options: &options,
            notice,
            failed,
            devices: &devices,
            from,
        });
        AuthorizeResponse::Page(StatusCode::OK, html)
    }

    /// `POST /{tenant}/login`: the person entered their account (`login`) or chose a way to
    /// sign in (`option`). The browser's `user_agent` tells which of the person's devices the
    /// sign-in comes from: a phone's passkey used from a computer (the QR/Bluetooth flow) is
    /// logged on the computer, as Entra logs it.
    pub fn sign_in_step(
        &self,
        authority: &str,
        form: &HashMap<String, String>,
        user_agent: Option<&str>,
    ) -> AuthorizeResponse {
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let pending = field("ctx").and_then(|ctx| {
            lock(&self.flows)
                .pending
                .get(ctx)
                .map(|p| (ctx.to_owned(), p.request.clone()))
        });
        let Some((context, request)) = pending else {
            return error_page(
                50089,
                "Authentication failed due to flow token expired. Start the sign-in again from the application.",
            );
        };
        let Some(app) = self.test_app(&request.client_id) else {
            let e = EntraError::unknown_client(&request.client_id, &self.tenant_id);
            return error_page(e.code, &e.description);
        };
        let login = field("login").unwrap_or_default();
        let from = field("from");
        let Some(option_id) = field("option") else {
            return self.render(authority, &context, &app, login, None, from);
        };
        let person = self
            .directory
            .as_ref()
            .and_then(|d| d.find_person(login))
            .filter(|p| p.account_enabled);
        let (Some(directory), Some(person)) = (self.directory.as_ref(), person) else {
            return self.render(authority, &context, &app, login, None, from);
        };
        let Some(option) = directory
            .sign_in_options(&person.id)
            .into_iter()
            .find(|o| o.id == option_id)
        else {
            return self.render(authority, &context, &app, login, None, from);
        };
        // The device the browser runs on: as the page was told, or by its user agent.
        let on = from
            .filter(|f| directory.device_names(&person.id).iter().any(|d| d == f))
            .map(str::to_owned)
            .or_else(|| user_agent.and_then(|ua| directory.device_for_user_agent(&person.id, ua)));
        let failure = option.failure.or_else(|| {
            let on = on.as_deref()?;
            let elsewhere = option.device.as_deref().is_some_and(|d| d != on);
            match option.method {
                SignInMethod::WindowsHelloForBusiness if elsewhere => {
                    Some(crate::sim::signin::OptionFailure::WhfbOnAnotherDevice)
                }
                SignInMethod::Passkey
                    if elsewhere && directory.is_mobile_device(&person.id, on) == Some(true) =>
                {
                    Some(crate::sim::signin::OptionFailure::PasskeyOnAnotherPhone)
                }
                _ => None,
            }
        });
        let mut attempt = SignInAttempt {
            app_id: app.client_id.clone(),
            user_id: person.id.clone(),
            user_principal_name: person.user_principal_name.clone(),
            method: option.method,
            option: option.id.clone(),
            device: match option.method {
                SignInMethod::Passkey | SignInMethod::SecurityKey => {
                    on.clone().or_else(|| option.device.clone())
                }
                _ => option.device.clone(),
            },
            succeeded: false,
            error_code: 0,
            failure_reason: None,
            at: self.clock.now(),
        };
        if let Some(failure) = failure {
            attempt.error_code = 500121;
            attempt.failure_reason = Some(failure.reason().to_owned());
            directory.record_attempt(attempt);
            return self.render(
                authority,
                &context,
                &app,
                login,
                Some((&option, failure)),
                from,
            );
        }
        lock(&self.flows).pending.remove(&context);
        let state = request.state.clone();
        if !option.method.is_phishing_resistant() {
            let e = strength_not_met();
            attempt.error_code = e.code;
            attempt.failure_reason = Some(e.description.clone());
            directory.record_attempt(attempt);
            return redirect_error(&request.redirect_uri, request.mode, state.as_deref(), &e);
        }
        attempt.succeeded = true;
        directory.record_attempt(attempt);
        let code = format!("1.{}", random_token(96));
        let now = self.clock.now();
        let (redirect_uri, mode) = (request.redirect_uri.clone(), request.mode);
        {
            let mut flows = lock(&self.flows);
            flows
                .codes
                .retain(|_, c| now.duration_since(c.issued) < CODE_MEMORY);
            flows.codes.insert(
                code.clone(),
                IssuedCode {
                    request,
                    person,
                    method: option.method,
                    issued: now,
                    redeemed: false,
                },
            );
        }
        let session_state = uuid::Uuid::new_v4().to_string();
        let mut pairs = vec![("code", code.as_str())];
        if let Some(state) = state.as_deref() {
            pairs.push(("state", state));
        }
        pairs.push(("session_state", session_state.as_str()));
        respond(&redirect_uri, mode, &pairs)
    }

    /// `grant_type=authorization_code` at the token endpoint.
    pub fn redeem_code(
        &self,
        authority: &str,
        form: &HashMap<String, String>,
    ) -> Result<Value, EntraError> {
        let tid = self
            .tenant_of(authority)
            .ok_or_else(|| EntraError::tenant_not_found(authority))?;
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let client_id = field("client_id").ok_or_else(|| EntraError::missing("client_id"))?;
        let app = self
            .test_app(client_id)
            .ok_or_else(|| EntraError::unknown_client(client_id, &tid))?;
        match (&app.secret, field("client_secret")) {
            (Some(_), None) => return Err(EntraError::no_credential()),
            (Some(secret), Some(given)) if secret != given => {
                return Err(EntraError::invalid_secret(&app.client_id));
            }
            (None, Some(_)) => return Err(EntraError::public_client_with_secret()),
            _ => {}
        }
        let code = field("code").ok_or_else(|| EntraError::missing("code"))?;
        let redirect_uri =
            field("redirect_uri").ok_or_else(|| EntraError::missing("redirect_uri"))?;
        let now = self.clock.now();
        let mut flows = lock(&self.flows);
        let issued = flows
            .codes
            .get_mut(code)
            .filter(|c| c.request.client_id == app.client_id)
            .ok_or_else(EntraError::malformed_grant)?;
        if issued.redeemed {
            return Err(EntraError::code_redeemed());
        }
        if now.duration_since(issued.issued) > CODE_LIFETIME {
            return Err(EntraError::code_expired());
        }
        if issued.request.redirect_uri != redirect_uri {
            return Err(EntraError::reply_address_mismatch(
                redirect_uri,
                &issued.request.redirect_uri,
            ));
        }
        if let Some((challenge, method)) = &issued.request.challenge {
            let verifier = field("code_verifier").unwrap_or_default();
            let computed = if method == "S256" {
                URL_SAFE_NO_PAD.encode(
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes())
                        .as_ref(),
                )
            } else {
                verifier.to_owned()
            };
            if computed != *challenge {
                return Err(EntraError::verifier_mismatch());
            }
        }
        issued.redeemed = true;
        let request = issued.request.clone();
        let person = issued.person.clone();
        let method = issued.method;
        drop(flows);
        Ok(self.user_tokens(&tid, &app, &request, &person, method))
    }

    /// The token response: a v1.0 access token for the requested API and, with `openid`,
    /// a v2.0 id_token for the app.
    fn user_tokens(
        &self,
        tid: &str,
        app: &TestSignInApp,
        request: &AuthRequest,
        person: &SignInPerson,
        method: SignInMethod,
    ) -> Value {
        let (audience, scp, granted) = resource_of(&request.scopes)
            .unwrap_or_else(|_| (GRAPH_AUDIENCE.into(), String::new(), String::new()));
        let now = Timestamp::now().as_second();
        let exp = now + ACCESS_TOKEN_LIFETIME_SECS;
        let sts = format!("https://sts.windows.net/{tid}/");
        let mut access = json!({
            "aud": audience, "iss": sts, "iat": now, "nbf": now, "exp": exp,
            "aio": "sim", "appid": app.client_id,
            "appidacr": if app.secret.is_some() { "1" } else { "0" },
            "idp": sts, "name": person.display_name, "oid": person.id,
            "scp": scp, "sub": uuid_for(&format!("{}|{audience}", person.id)), "tid": tid,
            "unique_name": person.user_principal_name, "upn": person.user_principal_name,
            "uti": self.next_uti(), "ver": "1.0",
        });
        let acrs: Vec<&String> = request
            .acrs
            .iter()
            .filter(|c| method.is_phishing_resistant() && app.auth_contexts.contains(c))
            .collect();
        if !acrs.is_empty() {
            access["acrs"] = json!(acrs);
        }
        let keys = lock(&self.entra_keys);
        let mut body = json!({
            "token_type": "Bearer",
            "scope": granted,
            "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
            "ext_expires_in": ACCESS_TOKEN_LIFETIME_SECS,
            "access_token": keys.current.sign(&access),
        });
        if request.scopes.iter().any(|s| s == "openid") {
            let mut id = json!({
                "aud": app.client_id,
                "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"),
                "iat": now, "nbf": now, "exp": exp,
                "name": person.display_name, "oid": person.id,
                "preferred_username": person.user_principal_name,
                "rh": "sim", "sub": uuid_for(&format!("{}|{}", person.id, app.client_id)),
                "tid": tid, "uti": self.next_uti(), "ver": "2.0",
            });
            if let Some(nonce) = &request.nonce {
                id["nonce"] = json!(nonce);
            }
            body["id_token"] = json!(keys.current.sign(&id));
        }
        body
    }
}

/// What Entra sends back when the Conditional Access policy's authentication strength is not
/// satisfied by the method used: a Conditional Access block (`AADSTS53003`).
///
/// Microsoft documents no strength-specific code (entra-docs `reference-error-codes.md` lists
/// 53003 `BlockedByConditionalAccess` as the code for "the access policy does not allow token
/// issuance"; `troubleshoot-authentication-strengths.md` only says the user "is blocked"), and
/// clients seen in public code read a Conditional Access block on the authorize redirect as
/// `error=access_denied` with `AADSTS53003` [C]. Interactively, Entra first shows its own "Let's
/// try something else / Another sign-in method is required" page; the simulator skips to the
/// redirect the app then sees.
fn strength_not_met() -> RedirectError {
    RedirectError::new(
        "access_denied",
        53003,
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    )
}

impl EntraError {
    fn malformed_grant() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.".into(),
        )
    }

    fn code_redeemed() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".into(),
        )
    }

    fn code_expired() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.".into(),
        )
    }

    fn reply_address_mismatch(given: &str, original: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50011,
            format!(
                "The reply address '{given}' does not match the reply address '{original}' provided when requesting Authorization code."
            ),
        )
    }

    fn verifier_mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.".into(),
        )
    }

    fn public_client_with_secret() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_context_ids_must_be_c1_to_c25() {
        let ok = TestSignInApp::new("a", None, &["https://app.example/cb"], &["c1", "c25"]);
        assert!(ok.is_ok());
        for bad in ["c0", "c26", "c01", "C1", "x1", ""] {
            assert_eq!(
                TestSignInApp::new("a", None, &["https://app.example/cb"], &[bad]),
                Err(SignInAppError::InvalidAuthContext(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            TestSignInApp::new("a", None, &[], &[]),
            Err(SignInAppError::NoRedirectUri)
        );
    }

    #[test]
    fn the_essential_acrs_claim_is_read_as_value_or_values() {
        let one = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        assert_eq!(requested_acrs(one), Ok(vec!["c1".to_owned()]));
        let many = r#"{"access_token":{"acrs":{"essential":true,"values":["c2","c3"]}}}"#;
        assert_eq!(
            requested_acrs(many),
            Ok(vec!["c2".to_owned(), "c3".to_owned()])
        );
        assert_eq!(requested_acrs("{not json"), Err(()));
    }

    #[test]
    fn api_scopes_give_their_resource_as_audience() {
        let scopes: Vec<String> = ["openid", "api://bot/Test.Read", "offline_access"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let (aud, scp, granted) = resource_of(&scopes).ok().unwrap();
        assert_eq!(aud, "api://bot");
        assert_eq!(scp, "Test.Read");
        assert_eq!(granted, "api://bot/Test.Read");
        let two: Vec<String> = ["api://bot/A", "api://other/B"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert!(resource_of(&two).is_err());
    }
}
