//! The simulator as one server: identity, connector, Graph (with a population) and the
//! `/_sim/` control API on one listener, and the configuration that points the bot at it.
//!
//! Graph's part of the control API (with a population):
//! - `POST /_sim/people/{id-or-upn}/passkeys {"device": "<object id, device id or name>",
//!   "kind": "authenticator" | "windowsHello" | "synced" | "securityKey", "failureReason"?}`:
//!   the person registers a passkey now (201 with `methodId`, `visibleAt`, `reportedAt`), or
//!   the attempt fails (200 `{"result": "failed"}`, also when the passkey policy refuses it);
//!   either way the audit events appear at once.
//! - `GET`/`PUT /_sim/policies/fido2`: the tenant's passkey policy
//!   ([`Fido2Policy`], camelCase JSON; missing fields take the defaults).
//! - `GET /_sim/groups/{group}/members`: current direct members.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::channel::Channel;
use super::clock::SimClock;
use super::connector::{self, Connector, REGION_PATH};
use super::fault::{self, FaultPlan, Faults, Surface};
use super::graph::policy::Fido2Policy;
use super::graph::{self, Graph, GraphOptions, PasskeyRegistration, RegistrationOutcome};
use super::identity::{self, ClientApp, Identity, SignInAppError, TestSignInApp};
use super::population::Population;
use super::signin::{PopulationDirectory, SignInAttempt};

/// The simulated organisation's Entra tenant id unless another is chosen.
pub const DEFAULT_TENANT_ID: &str = "5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11";

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    pub bind: SocketAddr,
    pub tenant_id: String,
    /// How long a rotated-out signing key stays published.
    pub key_grace: Duration,
    /// The tenant Graph serves; without one, `/v1.0` and `/beta` are not served.
    pub population: Option<Arc<Population>>,
    /// Multiplies Graph's throttling limits (benchmarks raise them).
    pub graph_throttle_scale: f64,
    /// Simulated time from a live passkey registration to Graph's per-user methods.
    pub graph_method_lag: jiff::SignedDuration,
    /// Simulated time from a live passkey registration to the registration report.
    pub graph_report_lag: jiff::SignedDuration,
    /// The tenant's passkey policy at start (`PUT /_sim/policies/fido2` changes it).
    pub fido2_policy: Fido2Policy,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        SimulatorOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tenant_id: DEFAULT_TENANT_ID.to_owned(),
            key_grace: Duration::from_secs(3600),
            population: None,
            graph_throttle_scale: 1.0,
            graph_method_lag: graph::DEFAULT_METHOD_LAG,
            graph_report_lag: graph::DEFAULT_REPORT_LAG,
            fido2_policy: Fido2Policy::default(),
        }
    }
}

/// Everything the HTTP handlers share.
#[derive(Clone)]
struct Shared {
    clock: Arc<SimClock>,
    identity: Arc<Identity>,
    connector: Arc<Connector>,
    faults: Arc<Faults>,
    graph: Option<Arc<Graph>>,
}

/// A running simulator; stops when dropped.
pub struct Simulator {
    base_url: String,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Simulator {
    /// Binds `options.bind` (port 0 picks a free port) and serves until stopped.
    pub async fn start(options: SimulatorOptions) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(options.bind).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let clock = Arc::new(SimClock::new());
        let mut identity = Identity::new(
            &base_url,
            &options.tenant_id,
            options.key_grace,
            clock.clone(),
        );
        let directory = options
            .population
            .as_ref()
            .map(|population| Arc::new(PopulationDirectory::new(population.clone())));
        if let Some(directory) = &directory {
            identity = identity.with_sign_in_directory(directory.clone());
        }
        let identity = Arc::new(identity);
        let graph = options.population.map(|population| {
            Arc::new(Graph::new(
                &base_url,
                population,
                identity.clone(),
                GraphOptions {
                    throttle_scale: options.graph_throttle_scale,
                    method_lag: options.graph_method_lag,
                    report_lag: options.graph_report_lag,
                    fido2_policy: options.fido2_policy,
                },
            ))
        });
        if let (Some(directory), Some(graph)) = (&directory, &graph) {
            directory.attach_graph(graph);
        }
        let shared = Shared {
            clock,
            graph,
            connector: Arc::new(Connector::new(&base_url, identity.clone())),
            identity,
            faults: Arc::new(Faults::default()),
        };
        let app = router(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Simulator {
            base_url,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn tenant_id(&self) -> &str {
        self.shared.identity.tenant_id()
    }

    pub fn identity(&self) -> &Arc<Identity> {
        &self.shared.identity
    }

    pub fn connector(&self) -> &Arc<Connector> {
        &self.shared.connector
    }

    /// Graph, when the simulator was started with a population.
    pub fn graph(&self) -> Option<&Arc<Graph>> {
        self.shared.graph.as_ref()
    }

    /// Graph's v1.0 root (`…/v1.0`); `…/beta` is served next to it.
    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.base_url)
    }

    /// Registers an app that may get Graph tokens with this secret.
    pub fn register_graph_app(&self, app_id: &str, secret: &str, roles: &[&str]) {
        self.shared.identity.register_client(ClientApp {
            app_id: app_id.to_owned(),
            secret: secret.to_owned(),
            graph_roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        });
    }

    pub fn faults(&self) -> &Arc<Faults> {
        &self.shared.faults
    }

    /// The `serviceUrl` of simulated activities.
    pub fn service_url(&self) -> &str {
        self.shared.connector.service_url()
    }

    /// The Bot Framework channel metadata URL (`bot.openid_metadata_url`).
    pub fn openid_metadata_url(&self) -> String {
        self.shared.identity.channel_metadata_url()
    }

    /// The single-tenant token endpoint of the simulated tenant (`bot.token_url`).
    pub fn token_url(&self) -> String {
        self.shared.identity.token_url(self.tenant_id())
    }

    /// Registers the bot's test sign-in app: the authorization-code flow (with PKCE) at
    /// `/{tenant}/oauth2/v2.0/authorize` behaves as if a Conditional Access policy requiring
    /// the phishing-resistant MFA strength, with sign-in frequency every time, targets it;
    /// `auth_contexts` (`c1`..`c25`) are satisfied only by phishing-resistant methods.
    /// `secret` is `None` for a public client.
    pub fn register_test_signin_app(
        &self,
        client_id: &str,
        secret: Option<&str>,
        redirect_uris: &[&str],
        auth_contexts: &[&str],
    ) -> Result<(), SignInAppError> {
        let app = TestSignInApp::new(client_id, secret, redirect_uris, auth_contexts)?;
        self.shared.identity.register_test_signin_app(app);
        Ok(())
    }

    /// The sign-in endpoint of the simulated tenant (`…/oauth2/v2.0/authorize`).
    pub fn authorize_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/authorize",
            self.base_url,
            self.tenant_id()
        )
    }

    /// Every attempt made on the sign-in page, oldest first (empty without a population).
    pub fn sign_in_attempts(&self) -> Vec<SignInAttempt> {
        sign_in_attempts_of(&self.shared)
    }

    /// Makes every token issued so far expired for Graph and the Bot Connector.
    pub fn expire_tokens(&self) {
        self.shared.identity.expire_tokens();
    }

    /// Registers an app that may get tokens with this secret.
    pub fn register_app(&self, app_id: &str, secret: &str) {
        self.shared.identity.register_client(ClientApp {
            app_id: app_id.to_owned(),
            secret: secret.to_owned(),
            graph_roles: Vec::new(),
        });
    }

    /// Registers the bot's app and returns the `PASSKEY_PILOT__…` settings that point a
    /// single-tenant bot at this simulator.
    pub fn bot_env(&self, app_id: &str, app_password: &str) -> Vec<(String, String)> {
        self.register_app(app_id, app_password);
        [
            ("BOT__APP_ID", app_id.to_owned()),
            ("BOT__APP_PASSWORD", app_password.to_owned()),
            ("BOT__APP_TYPE", "SingleTenant".to_owned()),
            ("BOT__TENANT_ID", self.tenant_id().to_owned()),
            ("BOT__OPENID_METADATA_URL", self.openid_metadata_url()),
            ("BOT__TOKEN_URL", self.token_url()),
            ("BOT__ALLOW_HTTP_SERVICE_URL", "true".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (format!("{}{key}", crate::config::ENV_PREFIX), value))
        .collect()
    }

    /// The Teams channel in front of the bot listening at `bot_endpoint` (`…/api/messages`).
    pub fn channel(&self, bot_endpoint: &str, bot_app_id: &str) -> Channel {
        Channel::new(
            self.shared.identity.clone(),
            self.shared.connector.clone(),
            bot_endpoint,
            bot_app_id,
        )
    }

    /// The simulated clock every surface reads.
    pub fn clock(&self) -> &Arc<SimClock> {
        &self.shared.clock
    }

    /// Clears transcripts, installations, rate-limit windows and faults (keys stay).
    pub fn reset(&self) {
        self.shared.connector.reset();
        self.shared.faults.clear_all();
        if let Some(graph) = &self.shared.graph {
            graph.reset_throttling();
        }
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// All routes: identity at the root, the connector under its region path, control under
/// `/_sim/` (keys, faults, transcripts, groups, reset, time, token expiry, the test sign-in
/// app and its recorded sign-in attempts). Each surface has its own fault injection.
fn router(shared: Shared) -> Router {
    let identity =
        identity::routes(shared.identity.clone()).layer(axum::middleware::from_fn_with_state(
            (shared.faults.clone(), Surface::Identity),
            fault::inject,
        ));
    let connector =
        connector::routes(shared.connector.clone()).layer(axum::middleware::from_fn_with_state(
            (shared.faults.clone(), Surface::Connector),
            fault::inject,
        ));
    let control = Router::new()
        .route("/_sim/keys/rotate", post(rotate_keys))
        .route("/_sim/tokens/expire", post(expire_tokens))
        .route("/_sim/apps/test-signin", post(register_test_signin_app))
        .route("/_sim/sign-in-attempts", get(sign_in_attempts))
        .route(
            "/_sim/faults/{surface}",
            put(set_faults).delete(clear_faults),
        )
        .route("/_sim/conversations/{conversation}", get(transcript))
        .route("/_sim/groups/{group}/members", get(group_members))
        .route("/_sim/reset", post(reset))
        .route("/_sim/time", get(time))
        .route("/_sim/time/advance", post(advance_time))
        .route("/_sim/people/{person}/passkeys", post(register_passkey))
        .route(
            "/_sim/policies/fido2",
            get(fido2_policy).put(set_fido2_policy),
        )
        .with_state(shared.clone());
    let mut app = Router::new()
        .merge(identity)
        .nest(REGION_PATH, connector)
        .merge(control);
    if let Some(graph) = &shared.graph {
        app = app.merge(
            graph::routes(graph.clone()).layer(axum::middleware::from_fn_with_state(
                (shared.faults.clone(), Surface::Graph),
                fault::inject,
            )),
        );
    }
    app
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RotateRequest {
    /// Rotate to keys that were not published before (clients must refetch).
    unannounced: bool,
}

async fn rotate_keys(State(shared): State<Shared>, body: Option<Json<RotateRequest>>) -> Response {
    let request = body.map(|Json(r)| r).unwrap_or_default();
    let kid = if request.unannounced {
        shared.identity.rotate_keys_unannounced()
    } else {
        shared.identity.rotate_keys()
    };
    Json(json!({ "channelKid": kid })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TestSignInAppRequest {
    client_id: String,
    /// Absent for a public client.
    #[serde(default)]
    secret: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    auth_contexts: Vec<String>,
}

/// Registers the test sign-in app from outside (`passkey-pilot sim` runs the bot separately).
async fn register_test_signin_app(
    State(shared): State<Shared>,
    Json(request): Json<TestSignInAppRequest>,
) -> Response {
    let uris: Vec<&str> = request.redirect_uris.iter().map(String::as_str).collect();
    let contexts: Vec<&str> = request.auth_contexts.iter().map(String::as_str).collect();
    match TestSignInApp::new(
        &request.client_id,
        request.secret.as_deref(),
        &uris,
        &contexts,
    ) {
        Ok(app) => {
            shared.identity.register_test_signin_app(app);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn expire_tokens(State(shared): State<Shared>) -> Response {
    shared.identity.expire_tokens();
    Json(json!({ "expiredAt": jiff::Timestamp::now().to_string() })).into_response()
}

fn sign_in_attempts_of(shared: &Shared) -> Vec<SignInAttempt> {
    shared
        .identity
        .sign_in_directory()
        .map(|d| d.attempts())
        .unwrap_or_default()
}

async fn sign_in_attempts(State(shared): State<Shared>) -> Response {
    Json(json!({ "value": sign_in_attempts_of(&shared) })).into_response()
}

fn unknown_surface(raw: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("unknown surface {raw:?}: identity, connector or graph")})),
    )
        .into_response()
}

async fn set_faults(
    State(shared): State<Shared>,
    Path(raw): Path<String>,
    Json(plan): Json<FaultPlan>,
) -> Response {
    let Some(surface) = Surface::parse(&raw) else {
        return unknown_surface(&raw);
    };
    shared.faults.set(surface, plan);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(shared): State<Shared>, Path(raw): Path<String>) -> Response {
    let Some(surface) = Surface::parse(&raw) else {
        return unknown_surface(&raw);
    };
    shared.faults.clear(surface);
    StatusCode::NO_CONTENT.into_response()
}

async fn transcript(State(shared): State<Shared>, Path(conversation): Path<String>) -> Response {
    match shared.connector.transcript(&conversation) {
        Some(entries) => Json(json!({"id": conversation, "entries": entries})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown conversation"})),
        )
            .into_response(),
    }
}

async fn group_members(State(shared): State<Shared>, Path(group): Path<String>) -> Response {
    match shared.graph.as_ref().and_then(|g| g.group_members(&group)) {
        Some(members) => Json(json!({"id": group, "members": members})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown group (or no population)"})),
        )
            .into_response(),
    }
}

async fn reset(State(shared): State<Shared>) -> StatusCode {
    shared.connector.reset();
    shared.faults.clear_all();
    if let Some(graph) = &shared.graph {
        graph.reset_throttling();
    }
    StatusCode::NO_CONTENT
}

async fn time(State(shared): State<Shared>) -> Response {
    time_body(&shared.clock)
}

fn time_body(clock: &SimClock) -> Response {
    Json(json!({
        "now": clock.now().to_string(),
        "offsetSeconds": clock.offset().as_secs(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    /// How far to move simulated time forward.
    seconds: i64,
}

async fn advance_time(
    State(shared): State<Shared>,
    Json(request): Json<AdvanceRequest>,
) -> Response {
    match shared
        .clock
        .advance(jiff::SignedDuration::from_secs(request.seconds))
    {
        Ok(_) => time_body(&shared.clock),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

fn no_population() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "the simulator serves no population"})),
    )
        .into_response()
}

/// `POST /_sim/people/{id-or-upn}/passkeys {"device": "…", "kind": "authenticator"}`: the
/// person registers a passkey now (201), or the attempt fails (`failureReason`, or refused
/// by the passkey policy: 200 with the reason); both write audit events.
async fn register_passkey(
    State(shared): State<Shared>,
    Path(person): Path<String>,
    Json(request): Json<PasskeyRegistration>,
) -> Response {
    let Some(graph) = &shared.graph else {
        return no_population();
    };
    match graph.register_passkey(&person, &request) {
        Ok(RegistrationOutcome::Registered {
            method,
            visible_at,
            reported_at,
        }) => {
            let model = match method.kind {
                crate::sim::population::MethodKind::Fido2 { passkey, .. } => Some(passkey),
                _ => None,
            };
            (
                StatusCode::CREATED,
                Json(json!({
                    "result": "registered",
                    "methodId": method.id,
                    "aaGuid": model.map(|m| m.aaguid()),
                    "model": model.map(|m| m.model()),
                    "passkeyType": model.map(|m| m.passkey_type()),
                    "visibleAt": visible_at.to_string(),
                    "reportedAt": reported_at.to_string(),
                })),
            )
                .into_response()
        }
        Ok(RegistrationOutcome::Failed { reason }) => {
            Json(json!({"result": "failed", "reason": reason})).into_response()
        }
        Err(e @ graph::LiveError::UnknownPerson(_)) => {
            (StatusCode::NOT_FOUND, Json(json!({"error": e.to_string()}))).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn fido2_policy(State(shared): State<Shared>) -> Response {
    match &shared.graph {
        Some(graph) => Json(graph.fido2_policy()).into_response(),
        None => no_population(),
    }
}

/// `PUT /_sim/policies/fido2` with a whole [`Fido2Policy`] (missing fields take defaults).
async fn set_fido2_policy(
    State(shared): State<Shared>,
    Json(policy): Json<Fido2Policy>,
) -> Response {
    match &shared.graph {
        Some(graph) => {
            graph.set_fido2_policy(policy);
            StatusCode::NO_CONTENT.into_response()
        }
        None => no_population(),
    }
}
