//! The simulator as one server: identity, connector, Graph (with a population) and the
//! `/_sim/` control API on one listener, and the configuration that points the bot at it.

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
use super::graph::{self, Graph, GraphOptions};
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
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        SimulatorOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tenant_id: DEFAULT_TENANT_ID.to_owned(),
            key_grace: Duration::from_secs(3600),
            population: None,
            graph_throttle_scale: 1.0,
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
        if let Some(population) = &options.population {
            identity = identity
                .with_sign_in_directory(Arc::new(PopulationDirectory::new(population.clone())));
        }
        let identity = Arc::new(identity);
        let graph = options.population.map(|population| {
            Arc::new(Graph::new(
                &base_url,
                population,
                identity.clone(),
                GraphOptions {
                    throttle_scale: options.graph_throttle_scale,
                },
            ))
        });
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
