//! `passkey-pilot demo`: the simulated tenant and the real bot wired together on 127.0.0.1,
//! with a chat page where anyone can pick a simulated employee and talk to the bot as them.
//!
//! The bot is configured only through the simulator's settings (`Simulator::bot_env`), keeps
//! its state in SQLite in a temporary directory, and is reached through the simulated Teams
//! channel, so every message is signed exactly as Teams signs it.

mod web;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::app::Application;
use crate::config;
use crate::sim::channel::{Channel, TeamsUser, personal_conversation_id};
use crate::sim::connector::{Connector, TranscriptEntry};
use crate::sim::population::{GroupRole, Guid, Person, Population};
use crate::sim::server::{Simulator, SimulatorOptions};

/// The bot's app registration in the simulated tenant.
const BOT_APP_ID: &str = "00000000-0000-4000-8000-00000000de30";
/// Only valid against this process's simulator.
const BOT_APP_SECRET: &str = "demo-only-bot-secret";
/// The bot's Graph app registration in the simulated tenant.
const GRAPH_APP_ID: &str = "00000000-0000-4000-8000-00000000de31";
/// Only valid against this process's simulator.
const GRAPH_APP_SECRET: &str = "demo-only-graph-secret";
/// The bot's test sign-in app in the simulated tenant.
const TEST_APP_ID: &str = "00000000-0000-4000-8000-00000000de32";
/// Only valid against this process's simulator.
const TEST_APP_SECRET: &str = "demo-only-test-signin-secret";
/// The API scope whose access token carries the authentication context.
const TEST_SCOPE: &str = "api://passkey-pilot/Test.Read";
/// The authentication context the simulated Conditional Access policy requires a passkey for.
const TEST_AUTH_CONTEXT: &str = "c1";
/// How long the simulated Graph takes to list a new passkey (Entra takes about a minute).
const METHOD_LAG: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);
/// How long start-up waits for the bot to load the simulator's signing keys.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many people are returned by one search.
const SEARCH_LIMIT: usize = 30;

/// How to start the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub users: usize,
    pub seed: u64,
    /// Where the chat page listens (port 0 picks a free port).
    pub bind: SocketAddr,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            users: 2_000,
            seed: 1,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error("simulator: {0}")]
    Simulator(std::io::Error),
    #[error("bot configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("bot store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("bot: {0}")]
    Start(#[from] crate::app::StartError),
    #[error("the bot did not become ready within {0:?}")]
    NotReady(Duration),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running demo; everything stops (and the temporary store is removed) when dropped.
pub struct DemoHandle {
    /// The chat page, e.g. `http://127.0.0.1:40123/`.
    pub url: String,
    /// Where the bot listens, e.g. `http://127.0.0.1:40124`.
    pub bot_url: String,
    sim: Simulator,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _store_dir: tempfile::TempDir,
}

impl DemoHandle {
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    /// Stops the page and the bot (letting in-flight requests finish), then the simulator.
    pub async fn stop(mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for DemoHandle {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}

/// The people of the tenant and the channel to talk to the bot as any of them.
pub(crate) struct DemoState {
    pub(crate) population: Arc<Population>,
    pub(crate) channel: Channel,
    pub(crate) connector: Arc<Connector>,
    /// The simulated Graph, where people "set up" passkeys on their devices.
    graph: Option<Arc<crate::sim::graph::Graph>>,
    /// Lower-case display names and UPNs, for search.
    search_keys: Vec<String>,
    helpdesk: HashSet<u32>,
    admins: HashSet<u32>,
    /// People whose install has been sent to the bot.
    installed: Mutex<HashSet<Guid>>,
}

/// One of a person's devices, as the page offers it for setting up a passkey.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DemoDevice {
    pub name: String,
    pub os: String,
    /// The `kind` of `POST /_sim/people/{id}/passkeys` that fits the device.
    pub kind: Option<&'static str>,
}

/// One search result, as the page lists it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PersonSummary {
    pub id: String,
    pub name: String,
    pub upn: String,
    pub department: Option<&'static str>,
    pub locale: &'static str,
    pub helpdesk: bool,
    pub admin: bool,
}

impl DemoState {
    fn new(
        population: Arc<Population>,
        channel: Channel,
        connector: Arc<Connector>,
        graph: Option<Arc<crate::sim::graph::Graph>>,
    ) -> DemoState {
        let search_keys = population
            .people
            .iter()
            .map(|p| format!("{}\n{}", p.display_name, p.user_principal_name).to_lowercase())
            .collect();
        let members = |role| {
            population
                .group(role)
                .members
                .iter()
                .copied()
                .collect::<HashSet<u32>>()
        };
        DemoState {
            helpdesk: members(GroupRole::Helpdesk),
            admins: members(GroupRole::Admins),
            search_keys,
            population,
            channel,
            connector,
            graph,
            installed: Mutex::new(HashSet::new()),
        }
    }

    /// People whose name or UPN contains every word of `query`, helpdesk and admins first
    /// when the query is empty.
    pub(crate) fn search(&self, query: &str) -> Vec<PersonSummary> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let matching = self
            .search_keys
            .iter()
            .enumerate()
            .filter(|(_, key)| words.iter().all(|w| key.contains(w.as_str())))
            .map(|(i, _)| i as u32);
        let mut chosen: Vec<u32> = Vec::with_capacity(SEARCH_LIMIT);
        if words.is_empty() {
            let mut marked: Vec<u32> = self.helpdesk.union(&self.admins).copied().collect();
            marked.sort_unstable();
            chosen.extend(marked.into_iter().take(SEARCH_LIMIT));
        }
        for i in matching {
            if chosen.len() >= SEARCH_LIMIT {
                break;
            }
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.into_iter().map(|i| self.summary(i)).collect()
    }

    fn summary(&self, index: u32) -> PersonSummary {
        let p = &self.population.people[index as usize];
        PersonSummary {
            id: p.id.to_string(),
            name: p.display_name.clone(),
            upn: p.user_principal_name.clone(),
            department: p.department,
            locale: p.preferred_language,
            helpdesk: self.helpdesk.contains(&index),
            admin: self.admins.contains(&index),
        }
    }

    pub(crate) fn person(&self, id: &str) -> Option<&Person> {
        self.population.person(id)
    }

    /// The person as the Teams web client presents them to the bot.
    pub(crate) fn teams_user(person: &Person) -> TeamsUser {
        TeamsUser {
            object_id: uuid::Uuid::from_u128(person.id.0),
            name: person.display_name.clone(),
            locale: person.preferred_language.to_owned(),
            time_zone: person.time_zone.to_owned(),
            country: person.usage_location.to_owned(),
            platform: "Web".to_owned(),
        }
    }

    /// Sends the install activities Teams sends when the person adds the app, once.
    pub(crate) async fn install(&self, person: &Person) -> Result<bool, reqwest::Error> {
        if !self
            .installed
            .lock()
            .expect("not poisoned")
            .insert(person.id)
        {
            return Ok(false);
        }
        let user = Self::teams_user(person);
        let activities = [
            self.channel.members_added(&user),
            self.channel
                .installation_update(&user, crate::sim::channel::Installation::Add),
        ];
        for activity in &activities {
            if let Err(e) = self.channel.deliver(activity).await {
                self.installed
                    .lock()
                    .expect("not poisoned")
                    .remove(&person.id);
                return Err(e);
            }
        }
        Ok(true)
    }

    /// A message typed by the person (`text`) or sent by an `Action.Submit` (`value`).
    pub(crate) fn message(
        &self,
        person: &Person,
        text: Option<&str>,
        value: Option<Value>,
    ) -> Value {
        let mut activity = self
            .channel
            .message(&Self::teams_user(person), text.unwrap_or_default());
        if text.is_none()
            && let Some(object) = activity.as_object_mut()
        {
            object.remove("text");
        }
        if let Some(value) = value {
            activity["value"] = value;
        }
        activity
    }

    /// The person's devices, with the kind of passkey each can hold (`None`: none the demo
    /// can set up there).
    pub(crate) fn devices(&self, person: &Person) -> Vec<DemoDevice> {
        use crate::sim::population::Platform;
        self.population
            .devices_of(person)
            .map(|d| DemoDevice {
                name: d.display_name.clone(),
                os: format!("{} {}", d.platform.device_os(), d.os_version()),
                kind: match d.platform {
                    Platform::Ios | Platform::Android => Some("authenticator"),
                    Platform::Windows => Some("windowsHello"),
                    Platform::MacOs => Some("synced"),
                    Platform::Linux => None,
                },
            })
            .collect()
    }

    /// The person sets up a passkey on one of their devices, as the register card tells
    /// them to (the simulated Graph lists it after its lag).
    pub(crate) fn register_passkey(
        &self,
        person: &Person,
        registration: &crate::sim::graph::PasskeyRegistration,
    ) -> Result<crate::sim::graph::RegistrationOutcome, String> {
        let graph = self.graph.as_ref().ok_or("the simulator has no Graph")?;
        graph
            .register_passkey(&person.id.to_string(), registration)
            .map_err(|e| e.to_string())
    }

    pub(crate) fn transcript(&self, person: &Person) -> Vec<TranscriptEntry> {
        let conversation = personal_conversation_id(&uuid::Uuid::from_u128(person.id.0));
        self.connector.transcript(&conversation).unwrap_or_default()
    }
}

/// Generates the tenant, starts the simulator, the bot and the chat page.
pub async fn start(options: DemoOptions) -> Result<DemoHandle, DemoError> {
    let population = Arc::new(Population::generate(
        options.users,
        options.seed,
        jiff::Timestamp::now(),
    ));
    let sim = Simulator::start(SimulatorOptions {
        tenant_id: population.tenant_id.to_string(),
        population: Some(population.clone()),
        // One person at a time clicks through the demo; Graph's reports budget (one
        // assessment every 9 s per tenant) would make every click wait.
        graph_throttle_scale: 100.0,
        graph_method_lag: METHOD_LAG,
        ..SimulatorOptions::default()
    })
    .await
    .map_err(DemoError::Simulator)?;

    let store_dir = tempfile::Builder::new()
        .prefix("passkey-pilot-demo-")
        .tempdir()
        .map_err(DemoError::TempDir)?;
    let store_url = format!("sqlite://{}", store_dir.path().join("demo.db").display());
    let mut env = sim.bot_env(BOT_APP_ID, BOT_APP_SECRET);
    // The journey reads the simulated tenant's Graph with the product's permissions.
    sim.register_graph_app(
        GRAPH_APP_ID,
        GRAPH_APP_SECRET,
        crate::sim::standalone::PRODUCT_GRAPH_ROLES,
    );
    // The test sign-in comes back to the bot, so its address is fixed before it starts.
    let bot_addr = free_local_addr().map_err(DemoError::Simulator)?;
    let public_url = format!("http://{bot_addr}");
    let callback = format!("{public_url}{}", crate::testsignin::CALLBACK_PATH);
    sim.register_test_signin_app(
        TEST_APP_ID,
        Some(TEST_APP_SECRET),
        &[&callback],
        &[TEST_AUTH_CONTEXT],
    )
    .map_err(|e| DemoError::Simulator(std::io::Error::other(e.to_string())))?;
    let enforcement_group = sim
        .graph()
        .map(|g| g.enforced_group_id())
        .unwrap_or_default();
    for (key, value) in [
        ("GRAPH__BASE_URL", sim.base_url().to_owned()),
        ("GRAPH__TENANT_ID", sim.tenant_id().to_owned()),
        ("GRAPH__CLIENT_ID", GRAPH_APP_ID.to_owned()),
        ("GRAPH__CLIENT_SECRET", GRAPH_APP_SECRET.to_owned()),
        ("GRAPH__TOKEN_URL", sim.token_url()),
        ("GRAPH__REPORTS_PER_10S", "500".to_owned()),
        ("SERVER__BIND", bot_addr.to_string()),
        ("SERVER__PUBLIC_URL", public_url.clone()),
        ("TEST_SIGNIN__CLIENT_ID", TEST_APP_ID.to_owned()),
        ("TEST_SIGNIN__CLIENT_SECRET", TEST_APP_SECRET.to_owned()),
        ("TEST_SIGNIN__AUTH_CONTEXT", TEST_AUTH_CONTEXT.to_owned()),
        ("TEST_SIGNIN__SCOPE", TEST_SCOPE.to_owned()),
        (
            "TEST_SIGNIN__AUTHORITY",
            format!("{}/{}/v2.0", sim.base_url(), sim.tenant_id()),
        ),
        ("ENFORCEMENT__GROUP_ID", enforcement_group),
    ] {
        env.push((format!("{}{key}", config::ENV_PREFIX), value));
    }
    env.push((format!("{}STORE__URL", config::ENV_PREFIX), store_url));
    let (config, _) = config::load_from(None, env)?;
    let store = crate::store::open(&config.store.url).await?;
    let app = Application::build_with_store(config, store).await?;
    let bot_url = format!("http://{}", app.local_addr());
    let (bot_stop, bot_stopped) = tokio::sync::oneshot::channel::<()>();
    let bot_task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = bot_stopped.await;
        };
        if let Err(e) = app.run_until(shutdown).await {
            tracing::error!(error = %e, "the demo's bot stopped");
        }
    });
    wait_until_ready(&bot_url).await?;

    let channel = sim.channel(&format!("{bot_url}/api/messages"), BOT_APP_ID);
    let state = Arc::new(DemoState::new(
        population,
        channel,
        sim.connector().clone(),
        sim.graph().cloned(),
    ));
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|source| DemoError::Bind {
            addr: options.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| DemoError::Bind {
        addr: options.bind,
        source,
    })?;
    let (page_stop, page_stopped) = tokio::sync::oneshot::channel::<()>();
    let page_task = tokio::spawn(async move {
        let served = axum::serve(listener, web::router(state))
            .with_graceful_shutdown(async move {
                let _ = page_stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the demo's chat page stopped");
        }
    });
    Ok(DemoHandle {
        url: format!("http://{addr}/"),
        bot_url,
        sim,
        stops: vec![page_stop, bot_stop],
        tasks: vec![page_task, bot_task],
        _store_dir: store_dir,
    })
}

/// Starts the demo, prints its URL and serves until Ctrl-C or SIGTERM.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let users = options.users;
    let demo = start(options).await?;
    println!(
        "passkey-pilot demo: {users} simulated people; open {} (Ctrl-C stops)",
        demo.url
    );
    crate::app::shutdown_signal().await;
    demo.stop().await;
    Ok(())
}

/// A local address nothing listens on now (the bot binds it right after).
fn free_local_addr() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()
}

/// Waits until the bot has loaded the simulator's signing keys (`/readyz` answers 200).
async fn wait_until_ready(bot_url: &str) -> Result<(), DemoError> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < READY_TIMEOUT {
        if let Ok(r) = client.get(format!("{bot_url}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(DemoError::NotReady(READY_TIMEOUT))
}

/// The JSON the page gets for a delivery to the bot.
pub(crate) fn delivery_json(status: u16, body: Value) -> Value {
    json!({"status": status, "body": body})
}
