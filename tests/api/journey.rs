//! The migration journey through the real bot and the simulated tenant: card actions
//! answered with the next card, the effects outbox surviving a crash, redelivered clicks,
//! old cards and the kill switch (the journeys of whole people are in journey_e2e.rs).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use passkey_pilot::app::Application;
use passkey_pilot::config::{self, Config};
use passkey_pilot::conversation::{DevicePlan, Look};
use passkey_pilot::engine::ports::{Assessor, GraphAssessor, LinkError, system_clock};
use passkey_pilot::engine::{
    AssessError, Engine, Groups, Membership, MembershipError, Ports, TestLinks, Who,
};
use passkey_pilot::graph::GraphClient;
use passkey_pilot::ids::{AadObjectId, ConversationId, TenantId};
use passkey_pilot::sim::channel::{TeamsUser, personal_conversation_id};
use passkey_pilot::sim::population::{GroupRole, MethodKind, Platform, Population};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use passkey_pilot::sim::standalone::PRODUCT_GRAPH_ROLES;
use serde_json::{Value, json};

const APP_ID: &str = "00000000-0000-4000-8000-00000000a11e";
const SECRET: &str = "journey-test-bot-secret";
const GRAPH_APP_ID: &str = "00000000-0000-4000-8000-00000000a11f";
const GRAPH_SECRET: &str = "journey-test-graph-secret";
const MAX_ATTEMPTS: i64 = 4;

struct Tenant {
    sim: Simulator,
    pop: Arc<Population>,
    group_id: String,
}

async fn tenant() -> Tenant {
    let pop = Arc::new(Population::generate(60, 11, jiff::Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        tenant_id: pop.tenant_id.to_string(),
        population: Some(pop.clone()),
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    sim.register_graph_app(GRAPH_APP_ID, GRAPH_SECRET, PRODUCT_GRAPH_ROLES);
    let group_id = pop.group(GroupRole::Helpdesk).id.to_string();
    Tenant { sim, pop, group_id }
}

fn bot_config(t: &Tenant, store_url: &str, extra: &[(&str, &str)]) -> Config {
    let mut env = t.sim.bot_env(APP_ID, SECRET);
    for (key, value) in [
        ("SERVER__BIND", "127.0.0.1:0".to_owned()),
        ("SERVER__SHUTDOWN_GRACE_SECS", "1".to_owned()),
        ("STORE__URL", store_url.to_owned()),
        ("LOG__LEVEL", "warn".to_owned()),
        ("GRAPH__BASE_URL", t.sim.base_url().to_owned()),
        ("GRAPH__TENANT_ID", t.sim.tenant_id().to_owned()),
        ("GRAPH__CLIENT_ID", GRAPH_APP_ID.to_owned()),
        ("GRAPH__CLIENT_SECRET", GRAPH_SECRET.to_owned()),
        ("GRAPH__TOKEN_URL", t.sim.token_url()),
        ("ENFORCEMENT__GROUP_ID", t.group_id.clone()),
        // The tests run the worker's rounds themselves, at the times they choose.
        ("EFFECTS__WORKER_INTERVAL_MS", "0".to_owned()),
        ("EFFECTS__MAX_ATTEMPTS", MAX_ATTEMPTS.to_string()),
    ] {
        env.push((format!("PASSKEY_PILOT__{key}"), value));
    }
    for (key, value) in extra {
        env.push((format!("PASSKEY_PILOT__{key}"), (*value).to_owned()));
    }
    config::load_from(None, env).unwrap().0
}

/// A test sign-in link that is always there (the real flow is another module's).
struct FixedLink;

#[async_trait]
impl TestLinks for FixedLink {
    async fn test_url(
        &self,
        _: &TenantId,
        _: &AadObjectId,
        _: &ConversationId,
        _: Option<&str>,
    ) -> Result<Option<String>, LinkError> {
        Ok(Some("https://example.test/test-signin".into()))
    }
}

/// The test sign-in cannot make links just now (its store is down).
struct BrokenLinks;

#[async_trait]
impl TestLinks for BrokenLinks {
    async fn test_url(
        &self,
        _: &TenantId,
        _: &AadObjectId,
        _: &ConversationId,
        _: Option<&str>,
    ) -> Result<Option<String>, LinkError> {
        Err(LinkError("store: connection refused".into()))
    }
}

/// Counts assessments, and until released, hangs in them (a bot stuck mid-effect).
struct Gate {
    inner: GraphAssessor,
    calls: Arc<AtomicUsize>,
    hang: bool,
}

#[async_trait]
impl Assessor for Gate {
    async fn assess(
        &self,
        tenant: &TenantId,
        person: &AadObjectId,
        look: Look,
    ) -> Result<DevicePlan, AssessError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            std::future::pending::<()>().await;
        }
        self.inner.assess(tenant, person, look).await
    }
}

struct Bot {
    engine: Engine,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    channel: Arc<passkey_pilot::sim::channel::Channel>,
    calls: Arc<AtomicUsize>,
}

impl Bot {
    /// Stops the bot as a crash would leave it: nothing more runs, the store stays.
    async fn kill(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.task.take().unwrap().await;
    }
}

async fn launch(t: &Tenant, store_url: &str, hang: bool) -> Bot {
    launch_with(t, store_url, hang, &[], None, None).await
}

async fn launch_with(
    t: &Tenant,
    store_url: &str,
    hang: bool,
    extra: &[(&str, &str)],
    groups: Option<Arc<dyn Groups>>,
    links: Option<Arc<dyn TestLinks>>,
) -> Bot {
    let config = bot_config(t, store_url, extra);
    let graph = GraphClient::from_config(&config.graph, reqwest::Client::new()).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let ports = Ports {
        assessor: Arc::new(Gate {
            inner: GraphAssessor::new(
                graph.clone(),
                passkey_pilot::assess::Settings::from_config(&config, jiff::Timestamp::now()),
                system_clock(),
            ),
            calls: calls.clone(),
            hang,
        }),
        test_links: links.unwrap_or_else(|| Arc::new(FixedLink)),
        groups: groups.unwrap_or_else(|| Arc::new(graph)),
    };
    let store = passkey_pilot::store::open(&config.store.url).await.unwrap();
    let app = Application::build_with_ports(config, store, Some(ports))
        .await
        .unwrap();
    let engine = app.engine();
    let url = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until(async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Bot {
        engine,
        stop: Some(stop),
        task: Some(task),
        channel: Arc::new(t.sim.channel(&format!("{url}/api/messages"), APP_ID)),
        calls,
    }
}

/// A member with no passkey or Windows Hello yet, and a phone to register one on.
fn newcomer(t: &Tenant) -> (TeamsUser, String) {
    let p = t
        .pop
        .people
        .iter()
        .find(|p| {
            p.account_enabled
                && !p.methods.iter().any(|m| {
                    matches!(
                        m.kind,
                        MethodKind::Fido2 { .. } | MethodKind::WindowsHelloForBusiness { .. }
                    )
                })
                && p.devices.iter().any(|d| {
                    matches!(
                        t.pop.devices[*d as usize].platform,
                        Platform::Ios | Platform::Android
                    )
                })
                && !t
                    .pop
                    .group(GroupRole::Helpdesk)
                    .members
                    .iter()
                    .any(|m| t.pop.people[*m as usize].id == p.id)
        })
        .expect("the population has someone to migrate");
    let phone = p
        .devices
        .iter()
        .map(|d| &t.pop.devices[*d as usize])
        .find(|d| matches!(d.platform, Platform::Ios | Platform::Android))
        .unwrap();
    (
        TeamsUser {
            object_id: uuid::Uuid::from_u128(p.id.0),
            name: p.display_name.clone(),
            locale: "en-US".into(),
            time_zone: "Europe/Berlin".into(),
            country: "DE".into(),
            platform: "Web".into(),
        },
        phone.display_name.clone(),
    )
}

fn who(t: &Tenant, user: &TeamsUser) -> Who {
    Who {
        tenant_id: TenantId::parse(t.sim.tenant_id()).unwrap(),
        aad_object_id: AadObjectId::parse(&user.object_id.to_string()).unwrap(),
    }
}

/// The `seq` the card's actions carry.
fn seq_of(card: &Value) -> u64 {
    fn find(v: &Value) -> Option<u64> {
        match v {
            Value::Object(o) => o
                .get("seq")
                .and_then(Value::as_u64)
                .or_else(|| o.values().find_map(find)),
            Value::Array(a) => a.iter().find_map(find),
            _ => None,
        }
    }
    find(card).expect("the card's actions carry seq")
}

/// Clicks an `Action.Execute`; returns the card the invoke was answered with.
async fn click(bot: &Bot, user: &TeamsUser, verb: &str, data: Value) -> Value {
    let activity = bot.channel.card_action(user, None, verb, data);
    let d = bot.channel.deliver(&activity).await.unwrap();
    assert_eq!(d.status, 200, "{:?}", d.body);
    assert_eq!(d.body["statusCode"], 200, "{}", d.body);
    assert_eq!(d.body["type"], "application/vnd.microsoft.card.adaptive");
    d.body["value"].clone()
}

fn text_of(card: &Value) -> String {
    card.to_string()
}

fn transcript_cards(t: &Tenant, user: &TeamsUser) -> Vec<Value> {
    t.sim
        .connector()
        .transcript(&personal_conversation_id(&user.object_id))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.activity["attachments"][0]["content"].as_object().cloned())
        .map(Value::Object)
        .collect()
}

async fn kinds(engine: &Engine, who: &Who) -> Vec<String> {
    engine
        .store()
        .events_for(&who.tenant_id, &who.aad_object_id, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.kind)
        .collect()
}

#[tokio::test]
async fn a_pending_effect_saved_before_a_crash_runs_once_after_the_restart() {
    let t = tenant().await;
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}", dir.path().join("bot.db").display());
    let (user, _) = newcomer(&t);
    let who = who(&t, &user);

    let bot = launch(&t, &store_url, true).await;
    bot.channel
        .deliver(&bot.channel.message(&user, "hi"))
        .await
        .unwrap();
    let welcome = transcript_cards(&t, &user).pop().unwrap();
    let click = bot
        .channel
        .card_action(&user, None, "start", json!({"seq": seq_of(&welcome)}));
    let channel = bot.channel.clone();
    let clicked = tokio::spawn(async move { channel.deliver(&click).await });
    // The look at Graph has begun (and hangs): by then state and effect are saved.
    for _ in 0..400 {
        if bot.calls.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(bot.calls.load(Ordering::SeqCst), 1);
    let state = bot.engine.journey(&who).await.unwrap();
    assert_eq!(state.conversation.state.name(), "assessing");
    let pending = bot
        .engine
        .store()
        .pending_effects_for(&who.tenant_id, &who.aad_object_id)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].effect.kind, "journey.assess");
    clicked.abort();
    bot.kill().await;

    let bot = launch(&t, &store_url, false).await;
    let cards_before = transcript_cards(&t, &user).len();
    // After the lease of the crashed attempt ends, the worker takes the effect over.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
    let round = bot.engine.tick(later).await.unwrap();
    assert_eq!(round.claimed, 1, "{round:?}");
    assert_eq!(
        bot.calls.load(Ordering::SeqCst),
        1,
        "assessed once after the restart"
    );
    let round = bot.engine.tick(later).await.unwrap();
    assert_eq!(round.claimed, 0, "nothing runs twice: {round:?}");
    let state = bot.engine.journey(&who).await.unwrap();
    assert_eq!(state.conversation.state.name(), "planned");
    let cards = transcript_cards(&t, &user);
    assert_eq!(
        cards.len(),
        cards_before + 1,
        "the devices card, as a message"
    );
    assert!(text_of(cards.last().unwrap()).contains("\"verb\":\"register\""));
    bot.kill().await;
}

#[tokio::test]
async fn a_card_action_delivered_twice_has_one_effect() {
    let t = tenant().await;
    let bot = launch(&t, "memory://", false).await;
    let (user, _) = newcomer(&t);
    let who = who(&t, &user);
    bot.channel
        .deliver(&bot.channel.message(&user, "hi"))
        .await
        .unwrap();
    let welcome = transcript_cards(&t, &user).pop().unwrap();
    let click = bot
        .channel
        .card_action(&user, None, "start", json!({"seq": seq_of(&welcome)}));
    let first = bot.channel.deliver(&click).await.unwrap();
    let second = bot.channel.deliver(&click).await.unwrap();
    assert_eq!(
        first.body["value"], second.body["value"],
        "both answers show the devices"
    );
    assert_eq!(bot.calls.load(Ordering::SeqCst), 1, "one look at Graph");
    let kinds = kinds(&bot.engine, &who).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "journey.started").count(),
        1,
        "{kinds:?}"
    );
    bot.kill().await;
}

#[tokio::test]
async fn a_click_claimed_before_a_crash_but_never_stepped_is_stepped_when_teams_redelivers_it() {
    let t = tenant().await;
    let bot = launch(&t, "memory://", false).await;
    let (user, _) = newcomer(&t);
    let who = who(&t, &user);
    bot.channel
        .deliver(&bot.channel.message(&user, "hi"))
        .await
        .unwrap();
    let welcome = transcript_cards(&t, &user).pop().unwrap();
    let click = bot
        .channel
        .card_action(&user, None, "start", json!({"seq": seq_of(&welcome)}));
    // The bot claimed the click and stopped before saving its step: only the claim is stored.
    let now = jiff::Timestamp::now();
    let claim = passkey_pilot::store::Inbound {
        conversation_id: passkey_pilot::ids::ConversationId::parse(
            click["conversation"]["id"].as_str().unwrap(),
        )
        .unwrap(),
        activity_id: passkey_pilot::ids::ActivityId::parse(click["id"].as_str().unwrap()).unwrap(),
        received_at: now,
        expires_at: now + jiff::SignedDuration::from_secs(3600),
        conversation_ref: None,
        event: None,
    };
    assert_eq!(
        bot.engine.store().record_inbound(&claim).await.unwrap(),
        passkey_pilot::store::Claim::First
    );
    assert_eq!(
        bot.engine
            .journey(&who)
            .await
            .unwrap()
            .conversation
            .state
            .name(),
        "notStarted"
    );

    // Teams gets no answer and delivers the click again: it takes effect, once.
    let first = bot.channel.deliver(&click).await.unwrap();
    assert_eq!(first.body["statusCode"], 200, "{}", first.body);
    assert!(
        first.body["value"]
            .to_string()
            .contains("\"verb\":\"register\""),
        "the answer is the devices card: {}",
        first.body
    );
    let second = bot.channel.deliver(&click).await.unwrap();
    assert_eq!(first.body["value"], second.body["value"]);
    assert_eq!(bot.calls.load(Ordering::SeqCst), 1, "one look at Graph");
    let kinds = kinds(&bot.engine, &who).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "journey.started").count(),
        1,
        "{kinds:?}"
    );
    bot.kill().await;
}

#[tokio::test]
async fn an_old_card_refreshes_to_out_of_date_silently_and_a_click_on_it_changes_nothing() {
    let t = tenant().await;
    let bot = launch(&t, "memory://", false).await;
    let (user, _) = newcomer(&t);
    let who = who(&t, &user);
    bot.channel
        .deliver(&bot.channel.message(&user, "hi"))
        .await
        .unwrap();
    let welcome = transcript_cards(&t, &user).pop().unwrap();
    let old = seq_of(&welcome);
    let devices = click(&bot, &user, "start", json!({"seq": old})).await;
    let state = bot.engine.journey(&who).await.unwrap();
    let messages = transcript_cards(&t, &user).len();

    // Teams refreshes the old welcome card: out of date, no refresh of its own, no message.
    let mut refresh = bot
        .channel
        .card_action(&user, None, "refresh", json!({"seq": old}));
    refresh["value"]["trigger"] = json!("automatic");
    let d = bot.channel.deliver(&refresh).await.unwrap();
    assert_eq!(d.body["statusCode"], 200);
    assert!(d.body["value"].get("refresh").is_none(), "{}", d.body);
    assert_ne!(d.body["value"], devices);
    assert_eq!(transcript_cards(&t, &user).len(), messages);
    // The current card refreshes to itself.
    let mut refresh = bot.channel.card_action(
        &user,
        None,
        "refresh",
        json!({"seq": state.conversation.seq}),
    );
    refresh["value"]["trigger"] = json!("automatic");
    let d = bot.channel.deliver(&refresh).await.unwrap();
    assert_eq!(d.body["value"], devices);

    // A click on the old card: out of date, the current card posted anew, no transition.
    let answer = click(&bot, &user, "start", json!({"seq": old})).await;
    assert!(answer.get("refresh").is_none(), "{answer}");
    assert_eq!(
        bot.engine.journey(&who).await.unwrap().conversation,
        state.conversation
    );
    assert_eq!(bot.calls.load(Ordering::SeqCst), 1);
    let cards = transcript_cards(&t, &user);
    assert_eq!(cards.len(), messages + 1);
    assert_eq!(cards.last().unwrap(), &devices);
    bot.kill().await;
}

/// Graph refuses every group add.
struct Refusing;

#[async_trait]
impl Groups for Refusing {
    async fn add_member(&self, _: &str, _: &str) -> Result<Membership, MembershipError> {
        Err(MembershipError::Unavailable("refused".into()))
    }
}

/// Puts a group add for the person in the outbox, as a confirmed enforcement would.
async fn enqueue_group_add(engine: &Engine, who: &Who) {
    let now = jiff::Timestamp::now();
    engine
        .store()
        .enqueue_effect(&passkey_pilot::store::NewEffect {
            tenant_id: who.tenant_id.clone(),
            aad_object_id: who.aad_object_id.clone(),
            kind: "enforcement.add".into(),
            payload: json!({}),
            created_at: now,
            not_before: now,
            idempotency_key: None,
        })
        .await
        .unwrap()
        .unwrap();
}

async fn members(t: &Tenant) -> String {
    reqwest::get(format!(
        "{}/_sim/groups/{}/members",
        t.sim.base_url(),
        t.group_id
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap()
}

#[tokio::test]
async fn the_kill_switch_holds_every_group_add_without_giving_up_on_it() {
    let t = tenant().await;
    let bot = launch_with(
        &t,
        "memory://",
        false,
        &[("ENFORCEMENT__PAUSED", "true")],
        None,
        None,
    )
    .await;
    let (user, _) = newcomer(&t);
    let who = who(&t, &user);
    enqueue_group_add(&bot.engine, &who).await;
    let mut at = jiff::Timestamp::now();
    for _ in 0..(MAX_ATTEMPTS + 2) {
        at += jiff::SignedDuration::from_secs(3600);
        let round = bot.engine.tick(at).await.unwrap();
        assert_eq!(round.claimed, 1, "{round:?}");
    }
    assert!(!members(&t).await.contains(&user.object_id.to_string()));
    let counts = bot.engine.store().effect_counts().await.unwrap();
    assert_eq!((counts.failed, counts.dead), (1, 0), "{counts:?}");
    bot.kill().await;
}

#[tokio::test]
async fn a_group_add_that_keeps_failing_is_given_up_after_the_attempt_cap() {
    let t = tenant().await;
    let bot = launch_with(&t, "memory://", false, &[], Some(Arc::new(Refusing)), None).await;
    let (user, _) = newcomer(&t);
    let who = who(&t, &user);
    enqueue_group_add(&bot.engine, &who).await;
    let mut at = jiff::Timestamp::now();
    let mut rounds = 0;
    while bot.engine.store().effect_counts().await.unwrap().dead == 0 {
        at += jiff::SignedDuration::from_secs(3600);
        let round = bot.engine.tick(at).await.unwrap();
        let counts = bot.engine.store().effect_counts().await.unwrap();
        assert_eq!(round.claimed, 1, "round {rounds}: {counts:?}");
        rounds += 1;
        assert!(rounds <= MAX_ATTEMPTS, "never given up");
    }
    assert_eq!(rounds, MAX_ATTEMPTS);
    at += jiff::SignedDuration::from_secs(3600);
    assert_eq!(
        bot.engine.tick(at).await.unwrap().claimed,
        0,
        "dead stays dead"
    );
    bot.kill().await;
}

#[tokio::test]
async fn without_a_test_link_the_test_card_says_so_and_offers_to_try_again() {
    let t = tenant().await;
    let bot = launch_with(
        &t,
        "memory://",
        false,
        &[],
        None,
        Some(Arc::new(BrokenLinks)),
    )
    .await;
    let (user, _) = newcomer(&t);
    bot.channel
        .deliver(&bot.channel.message(&user, "hi"))
        .await
        .unwrap();
    let welcome = transcript_cards(&t, &user).pop().unwrap();
    let devices = click(&bot, &user, "start", json!({"seq": seq_of(&welcome)})).await;
    let test = click(&bot, &user, "test", json!({"seq": seq_of(&devices)})).await;
    let text = text_of(&test);
    assert!(
        text.contains("The test sign-in cannot start just now"),
        "{test}"
    );
    assert!(!text.contains("Action.OpenUrl"), "{test}");
    assert!(!text.contains("connection refused"), "no internals: {test}");
    // "Try again" asks for a new link: still none, still the same card, nothing breaks.
    let again = click(&bot, &user, "test", json!({"seq": seq_of(&test)})).await;
    assert!(
        text_of(&again).contains("The test sign-in cannot start just now"),
        "{again}"
    );
    bot.kill().await;
}
