//! Whole journeys of simulated people, end to end: the real bot on a random port, the
//! simulated tenant (Teams channel, Bot Connector, Entra with its sign-in page, Graph with
//! live passkey registration and its lag, the simulated clock), real tokens, the real
//! readiness assessment and the real test sign-in. Each test plays one person: it reads the
//! cards the person gets, clicks the buttons on them, signs in on the simulated sign-in page,
//! and asserts what the person saw, in order, and whether Graph shows them in the enforcement
//! group at the end.
//!
//! People are picked from the generated population by their devices and the generator's
//! ground truth (an iPhone on iOS 17, a passkey deleted from the phone, a forgotten Windows
//! Hello PIN); what the bot makes of them is only read from the cards.

use std::sync::Arc;
use std::time::Duration;

use passkey_pilot::app::Application;
use passkey_pilot::config;
use passkey_pilot::engine::{Engine, Who};
use passkey_pilot::ids::{AadObjectId, TenantId};
use passkey_pilot::sim::channel::{Channel, TeamsUser, personal_conversation_id};
use passkey_pilot::sim::connector::Sender;
use passkey_pilot::sim::population::{
    Device, GroupRole, MethodKind, Person, PersonKind, Platform, Population,
};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use passkey_pilot::sim::standalone::PRODUCT_GRAPH_ROLES;
use serde_json::{Value, json};

const BOT_APP_ID: &str = "00000000-0000-4000-8000-00000000e2e0";
const BOT_SECRET: &str = "e2e-bot-secret";
const GRAPH_APP_ID: &str = "00000000-0000-4000-8000-00000000e2e1";
const GRAPH_SECRET: &str = "e2e-graph-secret";
const TEST_APP_ID: &str = "00000000-0000-4000-8000-00000000e2e2";
const TEST_APP_SECRET: &str = "e2e-test-signin-secret";
const TEST_SCOPE: &str = "api://passkey-pilot/Test.Read";

/// The simulated tenant and the bot, wired as in production.
struct World {
    sim: Simulator,
    pop: Arc<Population>,
    engine: Engine,
    channel: Channel,
    /// A browser that does not follow redirects, so every hop is checked.
    browser: reqwest::Client,
    group_id: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A port nobody listens on now (the bot's public URL must be known before it binds).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn world() -> World {
    let pop = Arc::new(Population::generate(800, 5, jiff::Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        tenant_id: pop.tenant_id.to_string(),
        population: Some(pop.clone()),
        // The journey reads the reports API per person; the test tenant is not throttled.
        graph_throttle_scale: 1000.0,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    sim.register_graph_app(GRAPH_APP_ID, GRAPH_SECRET, PRODUCT_GRAPH_ROLES);
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let callback = format!("{public_url}/signin/test/callback");
    sim.register_test_signin_app(TEST_APP_ID, Some(TEST_APP_SECRET), &[&callback], &["c1"])
        .unwrap();
    let group_id = sim.graph().unwrap().enforced_group_id();
    let mut env = sim.bot_env(BOT_APP_ID, BOT_SECRET);
    for (key, value) in [
        ("SERVER__BIND", format!("127.0.0.1:{port}")),
        ("SERVER__PUBLIC_URL", public_url.clone()),
        ("SERVER__SHUTDOWN_GRACE_SECS", "1".to_owned()),
        ("STORE__URL", "memory://".to_owned()),
        ("LOG__LEVEL", "warn".to_owned()),
        ("GRAPH__BASE_URL", sim.base_url().to_owned()),
        ("GRAPH__TENANT_ID", sim.tenant_id().to_owned()),
        ("GRAPH__CLIENT_ID", GRAPH_APP_ID.to_owned()),
        ("GRAPH__CLIENT_SECRET", GRAPH_SECRET.to_owned()),
        ("GRAPH__TOKEN_URL", sim.token_url()),
        // Graph's reports budget (5 requests in 10 s) allows about one assessment every
        // 9 s per tenant; the simulated tenant's limits are raised as far as the bot's.
        ("GRAPH__REPORTS_PER_10S", "5000".to_owned()),
        ("ENFORCEMENT__GROUP_ID", group_id.clone()),
        ("TEST_SIGNIN__CLIENT_ID", TEST_APP_ID.to_owned()),
        ("TEST_SIGNIN__CLIENT_SECRET", TEST_APP_SECRET.to_owned()),
        ("TEST_SIGNIN__AUTH_CONTEXT", "c1".to_owned()),
        ("TEST_SIGNIN__SCOPE", TEST_SCOPE.to_owned()),
        (
            "TEST_SIGNIN__AUTHORITY",
            format!("{}/{}/v2.0", sim.base_url(), sim.tenant_id()),
        ),
        // The tests run the worker's rounds themselves, at the times they choose.
        ("EFFECTS__WORKER_INTERVAL_MS", "0".to_owned()),
    ] {
        env.push((format!("{}{key}", config::ENV_PREFIX), value));
    }
    let (config, _) = config::load_from(None, env).unwrap();
    let store = passkey_pilot::store::open(&config.store.url).await.unwrap();
    let app = Application::build_with_store(config, store).await.unwrap();
    let engine = app.engine();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{public_url}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    World {
        channel: sim.channel(&format!("{public_url}/api/messages"), BOT_APP_ID),
        sim,
        pop,
        engine,
        browser: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        group_id,
        stop: Some(stop),
    }
}

impl World {
    /// The first person the test would migrate who matches `wanted`: an enabled employee,
    /// not helpdesk or admin.
    fn person(&self, wanted: impl Fn(&Population, &Person) -> bool) -> &Person {
        let staff: Vec<u32> = [GroupRole::Helpdesk, GroupRole::Admins]
            .into_iter()
            .flat_map(|r| self.pop.group(r).members.clone())
            .collect();
        self.pop
            .people
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                p.kind == PersonKind::Employee && p.account_enabled && !staff.contains(&(*i as u32))
            })
            .map(|(_, p)| p)
            .find(|p| wanted(&self.pop, p))
            .expect("the population has such a person")
    }

    fn devices<'a>(&'a self, p: &'a Person) -> Vec<&'a Device> {
        self.pop.devices_of(p).collect()
    }

    /// Is the person a direct member of the enforcement group, as Graph says now?
    async fn enforced(&self, p: &Person) -> bool {
        let r = reqwest::get(format!(
            "{}/_sim/groups/{}/members",
            self.sim.base_url(),
            self.group_id
        ))
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap().contains(&p.id.to_string())
    }

    /// The person adds a passkey of `kind` on their device `device` (display name), as the
    /// register card told them; Graph lists it only after its lag. Returns the method id.
    async fn register_passkey(&self, p: &Person, device: &str, kind: &str) -> String {
        self.try_register(p, device, kind)
            .await
            .unwrap_or_else(|| panic!("the simulated tenant refused {kind} on {device}"))
    }

    /// Moves the simulated tenant's clock (Graph's lags, log windows) forward.
    async fn advance(&self, by: jiff::SignedDuration) {
        let r = reqwest::Client::new()
            .post(format!("{}/_sim/time/advance", self.sim.base_url()))
            .json(&json!({"seconds": by.as_secs()}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// One round of the effects worker, as it would run at `at`.
    async fn worker_round(&self, at: jiff::Timestamp) {
        self.engine.tick(at).await.unwrap();
    }
}

/// One person's chat with the bot: what they did and what they saw.
struct Chat<'a> {
    w: &'a World,
    person: &'a Person,
    user: TeamsUser,
    /// Every card the person saw, in order: messages, and the cards clicks turned into.
    seen: Vec<Value>,
    /// Clicks, messages and test sign-ins the person made.
    inputs: usize,
    /// Messages of the conversation already read.
    read: usize,
}

impl<'a> Chat<'a> {
    fn new(w: &'a World, person: &'a Person) -> Chat<'a> {
        Chat {
            w,
            person,
            user: TeamsUser {
                object_id: uuid::Uuid::from_u128(person.id.0),
                name: person.display_name.clone(),
                locale: person.preferred_language.to_owned(),
                time_zone: person.time_zone.to_owned(),
                country: person.usage_location.to_owned(),
                platform: "Web".to_owned(),
            },
            seen: Vec::new(),
            inputs: 0,
            read: 0,
        }
    }

    fn who(&self) -> Who {
        Who {
            tenant_id: TenantId::parse(self.w.sim.tenant_id()).unwrap(),
            aad_object_id: AadObjectId::parse(&self.person.id.to_string()).unwrap(),
        }
    }

    /// Reads the bot's new messages into what the person saw.
    fn sync(&mut self) {
        let entries = self
            .w
            .sim
            .connector()
            .transcript(&personal_conversation_id(&self.user.object_id))
            .unwrap_or_default();
        for e in &entries[self.read.min(entries.len())..] {
            if e.sender == Sender::Bot
                && let Some(card) = e.activity["attachments"][0]["content"].as_object()
            {
                self.seen.push(Value::Object(card.clone()));
            }
        }
        self.read = entries.len();
    }

    /// Adds the app (Teams sends both activities for one install).
    async fn install(&mut self) {
        for activity in [
            self.w.channel.members_added(&self.user),
            self.w
                .channel
                .installation_update(&self.user, passkey_pilot::sim::channel::Installation::Add),
        ] {
            let d = self.w.channel.deliver(&activity).await.unwrap();
            assert_eq!(d.status, 200);
        }
        self.sync();
    }

    /// The card the person looks at: the latest one.
    fn current(&self) -> &Value {
        self.seen.last().expect("the person has a card")
    }

    /// Clicks the first `Action.Execute` with `verb` on the current card that `which`
    /// accepts; returns the card it turned into.
    async fn click_where(&mut self, verb: &str, which: impl Fn(&Value) -> bool) -> Value {
        let card = self.current().clone();
        let action = actions(&card)
            .into_iter()
            .find(|a| a["type"] == "Action.Execute" && a["verb"] == verb && which(a))
            .unwrap_or_else(|| panic!("no {verb:?} button on the card: {card}"));
        self.inputs += 1;
        let activity = self
            .w
            .channel
            .card_action(&self.user, None, verb, action["data"].clone());
        let d = self.w.channel.deliver(&activity).await.unwrap();
        assert_eq!(d.status, 200, "{:?}", d.body);
        assert_eq!(d.body["statusCode"], 200, "{}", d.body);
        assert_eq!(d.body["type"], "application/vnd.microsoft.card.adaptive");
        self.sync();
        let answer = d.body["value"].clone();
        self.seen.push(answer.clone());
        answer
    }

    async fn click(&mut self, verb: &str) -> Value {
        self.click_where(verb, |_| true).await
    }

    /// Types a reason into the card's input and clicks `verb` (Teams sends the inputs as
    /// action data).
    async fn submit(&mut self, verb: &str, input: &str, value: &str) -> Value {
        let card = self.current().clone();
        let action = actions(&card)
            .into_iter()
            .find(|a| a["type"] == "Action.Execute" && a["verb"] == verb)
            .unwrap_or_else(|| panic!("no {verb:?} button on the card: {card}"));
        let mut data = action["data"].clone();
        data[input] = json!(value);
        self.inputs += 1;
        let activity = self.w.channel.card_action(&self.user, None, verb, data);
        let d = self.w.channel.deliver(&activity).await.unwrap();
        assert_eq!(d.body["statusCode"], 200, "{}", d.body);
        self.sync();
        let answer = d.body["value"].clone();
        self.seen.push(answer.clone());
        answer
    }

    /// Opens the test link of the current card on the device the card says to test on (the
    /// phone when it names none) and signs in on the simulated sign-in page with the options
    /// `choose` picks, one after another, until Entra sends the browser back to the bot;
    /// returns the bot's result page, once the bot has looked for the test in the sign-in log.
    async fn test_sign_in(&mut self, choose: &[&dyn Fn(&SignInButton) -> bool]) -> String {
        let card = self.current().clone();
        let devices = self.w.devices(self.person);
        let says = text(&card);
        let on: &Device = devices
            .iter()
            .copied()
            .find(|d| says.contains(&format!("**{}**", d.display_name)))
            // An unregistered device goes by its system's name ("macOS · Chrome").
            .or_else(|| {
                let mut unregistered_first = devices.clone();
                unregistered_first.sort_by_key(|d| d.is_registered());
                unregistered_first.into_iter().find(|d| {
                    let system = match d.platform {
                        Platform::Windows => "Windows",
                        Platform::MacOs => "macOS",
                        Platform::Linux => "Linux",
                        Platform::Ios => "iOS",
                        Platform::Android => "Android",
                    };
                    says.contains(&format!("**{system}"))
                })
            })
            .or_else(|| {
                devices
                    .iter()
                    .copied()
                    .find(|d| matches!(d.platform, Platform::Ios | Platform::Android))
            })
            .expect("a device to test on");
        let ua = browser_on(on);
        let link = actions(&card)
            .into_iter()
            .find(|a| a["type"] == "Action.OpenUrl")
            .and_then(|a| a["url"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no test link on the card: {card}"));
        self.inputs += 1;
        let browser = &self.w.browser;
        let r = browser
            .get(&link)
            .header(reqwest::header::USER_AGENT, ua)
            .send()
            .await
            .unwrap();
        let authorize = location(&r);
        // The bot knows who is chatting: Entra's page opens with their account filled in.
        let hint = url::Url::parse(&authorize)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "login_hint")
            .map(|(_, v)| v.into_owned());
        assert_eq!(
            hint.as_deref(),
            Some(self.person.user_principal_name.as_str())
        );
        let r = browser
            .get(&authorize)
            .header(reqwest::header::USER_AGENT, ua)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let mut html = r.text().await.unwrap();
        let login_url = format!("{}/{}/login", self.w.sim.base_url(), self.w.sim.tenant_id());
        for pick in choose {
            let ctx = between(&html, "name=\"ctx\" value=\"", "\"").expect("a sign-in context");
            let buttons = sign_in_buttons(&html);
            let button = buttons
                .iter()
                .find(|b| pick(b))
                .unwrap_or_else(|| panic!("no such way to sign in: {buttons:?}"));
            let r = browser
                .post(&login_url)
                .header(reqwest::header::USER_AGENT, ua)
                .form(&[
                    ("ctx", ctx.as_str()),
                    ("login", self.person.user_principal_name.as_str()),
                    // Which device the browser is on, as the page asks.
                    ("from", on.display_name.as_str()),
                    ("option", button.id.as_str()),
                ])
                .send()
                .await
                .unwrap();
            if r.status() == 302 {
                let back = location(&r);
                assert!(back.contains("/signin/test/callback?"), "{back}");
                let r = browser
                    .get(&back)
                    .header(reqwest::header::USER_AGENT, ua)
                    .send()
                    .await
                    .unwrap();
                let page = r.text().await.unwrap();
                // A passed test counts once the sign-in log shows it: the bot looks again, on
                // its backoff, until it does or gives up.
                self.run_worker_while("confirmingTest", 12, 200).await;
                return page;
            }
            assert_eq!(r.status(), 200);
            html = r.text().await.unwrap();
        }
        panic!("the sign-in never went back to the bot: {html}");
    }

    /// Runs the bot's worker, `every` seconds apart on its clock, at most `rounds` times while
    /// the journey is in `state`; then reads the cards it sent.
    async fn run_worker_while(&mut self, state: &str, rounds: usize, every: i64) {
        let mut at = jiff::Timestamp::now();
        for _ in 0..rounds {
            if self.state().await != state {
                break;
            }
            at += jiff::SignedDuration::from_secs(every);
            self.w.worker_round(at).await;
        }
        self.sync();
    }

    /// The person says "I've done it"; Graph lists the new passkey after its lag (30 s in the
    /// simulated tenant) and the bot looks until it does.
    async fn registered_and_wait(&mut self) {
        self.click("registered").await;
        self.w.advance(jiff::SignedDuration::from_secs(31)).await;
        self.run_worker_while("awaitingGraph", 6, 60).await;
    }

    /// The title of every card the person saw, in order.
    fn titles(&self) -> Vec<String> {
        self.seen.iter().map(title).collect()
    }

    /// Where the journey is now (for failure messages).
    async fn state(&self) -> String {
        self.w
            .engine
            .journey(&self.who())
            .await
            .unwrap()
            .conversation
            .state
            .name()
            .to_owned()
    }
}

/// A browser's user agent on `d`.
fn browser_on(d: &Device) -> &'static str {
    match d.platform {
        Platform::Windows => {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
        }
        Platform::MacOs => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
        }
        Platform::Linux => {
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        }
        Platform::Ios => {
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
        }
        Platform::Android => {
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
        }
    }
}

/// One way to sign in on the simulated sign-in page.
#[derive(Debug)]
struct SignInButton {
    id: String,
    method: String,
    label: String,
}

fn sign_in_buttons(html: &str) -> Vec<SignInButton> {
    html.split("name=\"option\" value=\"")
        .skip(1)
        .map(|rest| SignInButton {
            id: rest.split('"').next().unwrap().to_owned(),
            method: between(rest, "data-method=\"", "\"").unwrap_or_default(),
            label: between(rest, ">", "</button>").unwrap_or_default(),
        })
        .collect()
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let rest = s.split_once(start)?.1;
    Some(rest.split_once(end)?.0.to_owned())
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 302, "expected a redirect");
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Every action of a card, ShowCard contents and action sets included.
fn actions(card: &Value) -> Vec<Value> {
    fn walk(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Object(o) => {
                if o.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.starts_with("Action."))
                {
                    out.push(v.clone());
                }
                for (k, child) in o {
                    if k != "refresh" {
                        walk(child, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(card, &mut out);
    out
}

/// The heading of a card: its first text.
fn title(card: &Value) -> String {
    fn first(v: &Value) -> Option<String> {
        match v {
            Value::Object(o) if o.get("type") == Some(&json!("TextBlock")) => {
                o.get("text").and_then(Value::as_str).map(str::to_owned)
            }
            Value::Object(o) => o.get("body").and_then(first),
            Value::Array(a) => a.iter().find_map(first),
            _ => None,
        }
    }
    first(card).unwrap_or_default()
}

/// All text of a card, for "says …" checks.
fn text(card: &Value) -> String {
    card.to_string()
}

fn is_phone_on(d: &Device, platform: Platform, major: u16) -> bool {
    d.platform == platform && d.os.major == major
}

fn has_strong_method(p: &Person) -> bool {
    p.methods.iter().any(|m| {
        matches!(
            m.kind,
            MethodKind::Fido2 { .. } | MethodKind::WindowsHelloForBusiness { .. }
        )
    })
}

/// Push-only today, with an iPhone on iOS 17 and a Windows 11 PC, and nothing else.
fn iphone_ios17_and_windows11(w: &World, lang: &str) -> impl Fn(&Population, &Person) -> bool {
    let lang = lang.to_owned();
    let _ = w;
    move |pop: &Population, p: &Person| {
        let devices: Vec<&Device> = pop.devices_of(p).collect();
        p.preferred_language.starts_with(lang.as_str())
            && !has_strong_method(p)
            && devices.len() == 2
            && devices.iter().any(|d| is_phone_on(d, Platform::Ios, 17))
            && devices.iter().any(|d| d.is_windows_11())
    }
}

fn iphone_of<'a>(w: &'a World, p: &'a Person) -> &'a Device {
    w.devices(p)
        .into_iter()
        .find(|d| d.platform == Platform::Ios)
        .expect("an iPhone")
}

/// The card titles, in order, of a journey with nothing wrong: a passkey in Authenticator on
/// the iPhone, tested, enforced.
fn iphone_journey_titles(w: &World, person: &Person) -> Vec<String> {
    let first = person.given_name.unwrap_or_default();
    vec![
        format!("Hi {first}, let's move you to passkeys"),
        "Your devices".to_owned(),
        format!(
            "Set up Passkey in Microsoft Authenticator on {}",
            iphone_of(w, person).display_name
        ),
        "Looking for your new passkey…".to_owned(),
        "Test your passkey sign-in".to_owned(),
        "Your passkey works: checking your devices…".to_owned(),
        "Ready to switch your account to passkeys".to_owned(),
        "You're protected".to_owned(),
    ]
}

/// Starts and registers the recommended passkey on the iPhone; returns with the test card
/// on screen.
async fn register_on_iphone(chat: &mut Chat<'_>) {
    let iphone = iphone_of(chat.w, chat.person).display_name.clone();
    chat.click("start").await;
    assert!(text(chat.current()).contains(&iphone), "{}", chat.current());
    // The one-click "next" on the devices card: the iPhone and its best option.
    chat.click_where("register", |a| {
        a["data"]["option"] == "authenticatorPasskey"
    })
    .await;
    assert!(
        title(chat.current()).contains(&iphone),
        "{}",
        chat.current()
    );
    register_and_wait(chat, &iphone, "authenticator").await;
}

/// The person sets the passkey up on `device` as the register card says, says so, and the
/// bot looks until Graph shows it (the simulated Graph lists new methods after 30 s).
async fn register_and_wait(chat: &mut Chat<'_>, device: &str, kind: &str) -> String {
    let method = chat.w.register_passkey(chat.person, device, kind).await;
    chat.registered_and_wait().await;
    method
}

fn authenticator_passkey(b: &SignInButton) -> bool {
    b.method == "passkey" && b.label.contains("Authenticator")
}

#[tokio::test]
async fn an_iphone_on_ios_17_and_a_windows_11_pc_reach_the_enforcement_group_in_five_steps() {
    let w = world().await;
    let person = w.person(iphone_ios17_and_windows11(&w, "en"));
    let mut chat = Chat::new(&w, person);
    chat.install().await;
    register_on_iphone(&mut chat).await;
    let page = chat.test_sign_in(&[&authenticator_passkey]).await;
    assert!(page.contains("Your passkey works"), "{page}");
    chat.click("enforce").await;

    assert_eq!(
        chat.titles(),
        iphone_journey_titles(&w, person),
        "state: {}",
        chat.state().await
    );
    assert!(
        chat.inputs <= 5,
        "welcome to protected took {} clicks",
        chat.inputs
    );
    assert!(
        w.enforced(person).await,
        "Graph lists the person in the group"
    );
}

/// What a person does on the sign-in page when their passkey is gone: try it, then fall back
/// to the app notification they are used to.
fn push(b: &SignInButton) -> bool {
    b.method == "authenticatorPush"
}

fn the_method(id: String) -> impl Fn(&SignInButton) -> bool {
    move |b: &SignInButton| b.id.ends_with(&id)
}

#[tokio::test]
async fn an_iphone_on_ios_16_gets_a_temporary_exclusion_and_stays_out_of_the_group() {
    let w = world().await;
    let person = w.person(|pop, p| {
        let devices: Vec<&Device> = pop.devices_of(p).collect();
        devices.len() == 2
            && devices.iter().any(|d| is_phone_on(d, Platform::Ios, 16))
            && devices.iter().any(|d| d.platform == Platform::Windows)
    });
    let iphone = iphone_of(&w, person).display_name.clone();
    let mut chat = Chat::new(&w, person);
    chat.install().await;
    let devices = chat.click("start").await;
    assert!(
        text(&devices).contains(
            "This iPhone or iPad runs an iOS version older than 17, which cannot keep a passkey in Microsoft Authenticator."
        ),
        "the devices card says why the iPhone cannot: {devices}"
    );
    let request = chat.click("exclude").await;
    assert!(text(&request).contains(&iphone), "{request}");
    // Without a reason nothing is lost: the request comes back.
    let again = chat.submit("requestExclusion", "reason", "  ").await;
    assert_eq!(title(&again), "Ask for a temporary exclusion");
    let excluded = chat
        .submit(
            "requestExclusion",
            "reason",
            "My company iPhone 8 cannot update; a new one is ordered.",
        )
        .await;
    assert!(text(&excluded).contains(&iphone), "{excluded}");

    let first = person.given_name.unwrap_or_default();
    assert_eq!(
        chat.titles(),
        [
            format!("Hi {first}, let's move you to passkeys"),
            "Your devices".to_owned(),
            "Ask for a temporary exclusion".to_owned(),
            "Ask for a temporary exclusion".to_owned(),
            "Exclusion granted".to_owned(),
        ]
    );
    let who = chat.who();
    let events = w
        .engine
        .store()
        .events_for(&who.tenant_id, &who.aad_object_id, 200)
        .await
        .unwrap();
    let granted = events
        .iter()
        .find(|e| e.event.kind == "exclusion.granted")
        .expect("the exclusion is stored");
    assert_eq!(
        granted.event.data["reason"],
        "My company iPhone 8 cannot update; a new one is ordered."
    );
    assert!(
        !w.enforced(person).await,
        "an excluded person is not enforced"
    );
}

#[tokio::test]
async fn a_passkey_deleted_from_the_phone_fails_the_test_is_set_up_again_and_passes() {
    let w = world().await;
    // An iPhone whose passkey is gone, and at most one computer: one test on the computer
    // proves both once the passkey is set up again.
    let person = w.person(|pop, p| {
        let devices: Vec<&Device> = pop.devices_of(p).collect();
        p.traits.passkey_deleted_from_phone
            && devices.len() <= 2
            && devices
                .iter()
                .any(|d| d.platform == Platform::Ios && d.os.major >= 17)
            && !devices.iter().any(|d| d.platform == Platform::Android)
            && devices
                .iter()
                .filter(|d| d.platform != Platform::Ios)
                .count()
                <= 1
    });
    let iphone = iphone_of(&w, person).display_name.clone();
    let mut chat = Chat::new(&w, person);
    chat.install().await;
    let devices = chat.click("start").await;
    assert!(
        text(&devices).contains("it may have been deleted from the phone"),
        "{devices}"
    );
    chat.click("test").await;
    // The passkey is not on the phone any more; the app notification does not count.
    let page = chat
        .test_sign_in(&[&|b: &SignInButton| b.method == "passkey", &push])
        .await;
    assert!(page.contains("did not use a passkey"), "{page}");
    let failed = chat.current().clone();
    assert!(
        text(&failed).contains(&format!("Set it up again on {iphone}")),
        "{failed}"
    );
    chat.click_where("register", |a| {
        a["title"]
            .as_str()
            .is_some_and(|t| t.ends_with(iphone.as_str()))
    })
    .await;
    let method = register_and_wait(&mut chat, &iphone, "authenticator").await;
    // The card asks for the test on the Mac: the phone's new passkey, through the QR code.
    assert!(
        text(chat.current()).contains("Do this test on **macOS"),
        "{}",
        chat.current()
    );
    let page = chat.test_sign_in(&[&the_method(method.clone())]).await;
    assert!(page.contains("Your passkey works"), "{page}");
    // The Mac is proven. The phone holds the old passkey and the new one, of the same
    // model: which of them the Mac used the log cannot tell, so the phone tests itself.
    let devices = chat.current().clone();
    assert_eq!(title(&devices), "Your devices");
    assert!(text(&devices).contains(&iphone), "{devices}");
    let test = chat.click("test").await;
    assert!(
        text(&test).contains(&format!("Do this test on **{iphone}**")),
        "{test}"
    );
    let page = chat.test_sign_in(&[&the_method(method)]).await;
    assert!(page.contains("Your passkey works"), "{page}");
    chat.click("enforce").await;

    let first = person.given_name.unwrap_or_default();
    assert_eq!(
        chat.titles(),
        [
            format!("Hi {first}, let's move you to passkeys"),
            "Your devices".to_owned(),
            "Test your passkey sign-in".to_owned(),
            "The test sign-in did not work".to_owned(),
            format!("Set up Passkey in Microsoft Authenticator on {iphone}"),
            "Looking for your new passkey…".to_owned(),
            "Test your passkey sign-in".to_owned(),
            "Your passkey works: checking your devices…".to_owned(),
            "Your devices".to_owned(),
            "Test your passkey sign-in".to_owned(),
            "Your passkey works: checking your devices…".to_owned(),
            "Ready to switch your account to passkeys".to_owned(),
            "You're protected".to_owned(),
        ],
        "state: {}",
        chat.state().await
    );
    assert!(w.enforced(person).await);
}

#[tokio::test]
async fn a_forgotten_windows_hello_pin_is_set_up_again_from_the_failed_test() {
    let w = world().await;
    // Windows Hello with a forgotten PIN on the one PC, which never signed in with a passkey
    // (the generated history sometimes has it use the phone's; then the PIN is moot).
    let person = w.person(|pop, p| {
        let devices: Vec<&Device> = pop.devices_of(p).collect();
        let pcs: Vec<&&Device> = devices
            .iter()
            .filter(|d| d.platform == Platform::Windows)
            .collect();
        let strong_on_pc = |pc: &Device| {
            pop.sign_ins_of(p).iter().any(|s| {
                s.auth.is_phishing_resistant() && std::ptr::eq(pop.sign_in_device(p, s), pc)
            })
        };
        // Phones that can hold a passkey in Authenticator: nothing needs an exclusion.
        let capable = devices.iter().all(|d| match d.platform {
            Platform::Ios => d.os.major >= 17,
            Platform::Android => d.os.major >= 14,
            _ => true,
        });
        p.traits.forgotten_whfb_pin
            && devices.len() <= 3
            && capable
            && pcs.len() == 1
            && !strong_on_pc(pcs[0])
    });
    let pc = w
        .devices(person)
        .into_iter()
        .find(|d| d.platform == Platform::Windows)
        .unwrap()
        .display_name
        .clone();
    let mut chat = Chat::new(&w, person);
    let de = chat.user.locale.starts_with("de");
    chat.install().await;
    let devices = chat.click("start").await;
    let hint = if de {
        "die PIN wurde lange nicht benutzt"
    } else {
        "its PIN has not been used for a long time"
    };
    assert!(text(&devices).contains(hint), "{devices}");
    chat.click("test").await;
    // At the PC, Windows Hello asks for the PIN the person no longer knows.
    assert!(
        text(chat.current()).contains(&format!("**{pc}**")),
        "the test is asked for on the PC: {}",
        chat.current()
    );
    let page = chat
        .test_sign_in(&[
            &|b: &SignInButton| b.method == "windowsHelloForBusiness",
            &push,
        ])
        .await;
    assert!(page.contains("did not use a passkey"), "{page}");
    chat.click_where("register", |a| {
        a["data"]["option"] == "windowsHelloForBusiness"
            && a["title"].as_str().is_some_and(|t| t.contains(pc.as_str()))
    })
    .await;
    let method = register_and_wait(&mut chat, &pc, "windowsHello").await;
    let page = chat.test_sign_in(&[&the_method(method)]).await;
    assert!(page.contains("Your passkey works"), "{page}");
    // Whatever else the person's other devices need, the cards lead there.
    let end = follow(&mut chat).await;
    assert_eq!(end, Ok(Ending::Enforced), "state: {}", chat.state().await);

    let first = person.given_name.unwrap_or_default();
    let expected: Vec<String> = if de {
        vec![
            format!("Hallo {first}, jetzt geht es zu Passkeys"),
            "Ihre Geräte".to_owned(),
            "Testen Sie Ihre Anmeldung mit Passkey".to_owned(),
            "Die Testanmeldung hat nicht geklappt".to_owned(),
            format!("Windows Hello for Business auf {pc} einrichten"),
            "Ich suche Ihren neuen Passkey…".to_owned(),
            "Testen Sie Ihre Anmeldung mit Passkey".to_owned(),
            "Ihr Passkey funktioniert: Ich prüfe Ihre Geräte…".to_owned(),
        ]
    } else {
        vec![
            format!("Hi {first}, let's move you to passkeys"),
            "Your devices".to_owned(),
            "Test your passkey sign-in".to_owned(),
            "The test sign-in did not work".to_owned(),
            format!("Set up Windows Hello for Business on {pc}"),
            "Looking for your new passkey…".to_owned(),
            "Test your passkey sign-in".to_owned(),
            "Your passkey works: checking your devices…".to_owned(),
        ]
    };
    let titles = chat.titles();
    assert_eq!(titles[..expected.len()], expected[..], "{titles:?}");
    assert_eq!(
        titles.last().map(String::as_str),
        Some(if de {
            "Sie sind geschützt"
        } else {
            "You're protected"
        }),
        "{titles:?}"
    );
    assert!(w.enforced(person).await);
}

#[tokio::test]
async fn a_person_who_ignores_the_welcome_for_days_starts_from_it_later() {
    let w = world().await;
    let person = w.person(iphone_ios17_and_windows11(&w, "en"));
    let mut chat = Chat::new(&w, person);
    chat.install().await;
    // Four days pass for the bot's worker, which runs meanwhile. (The simulated tenant's
    // clock stays with the bot's assessments, which read the system clock: a sign-in log
    // four days ahead of them would be a log from the future.)
    w.worker_round(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(4 * 24))
        .await;
    chat.sync();
    assert_eq!(chat.seen.len(), 1, "nothing but the welcome meanwhile");
    // Back at work, the person clicks the button on the welcome card they got days ago.
    register_on_iphone(&mut chat).await;
    let page = chat.test_sign_in(&[&authenticator_passkey]).await;
    assert!(page.contains("Your passkey works"), "{page}");
    chat.click("enforce").await;

    assert_eq!(
        chat.titles(),
        iphone_journey_titles(&w, person),
        "state: {}",
        chat.state().await
    );
    assert!(w.enforced(person).await);
}

#[tokio::test]
async fn a_german_speaking_person_gets_every_card_in_german() {
    let w = world().await;
    let person = w.person(iphone_ios17_and_windows11(&w, "de"));
    let mut chat = Chat::new(&w, person);
    assert!(chat.user.locale.starts_with("de"));
    chat.install().await;
    register_on_iphone(&mut chat).await;
    let page = chat.test_sign_in(&[&authenticator_passkey]).await;
    assert!(page.contains("Your passkey works"), "{page}");
    chat.click("enforce").await;

    let first = person.given_name.unwrap_or_default();
    assert_eq!(
        chat.titles(),
        [
            format!("Hallo {first}, jetzt geht es zu Passkeys"),
            "Ihre Geräte".to_owned(),
            format!(
                "Passkey in Microsoft Authenticator auf {} einrichten",
                iphone_of(&w, person).display_name
            ),
            "Ich suche Ihren neuen Passkey…".to_owned(),
            "Testen Sie Ihre Anmeldung mit Passkey".to_owned(),
            "Ihr Passkey funktioniert: Ich prüfe Ihre Geräte…".to_owned(),
            "Bereit, Ihr Konto auf Passkeys umzustellen".to_owned(),
            "Sie sind geschützt".to_owned(),
        ],
        "state: {}",
        chat.state().await
    );
    assert!(chat.inputs <= 5, "{} steps", chat.inputs);
    assert!(w.enforced(person).await);
}

/// How a robot's journey ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ending {
    Enforced,
    Excluded,
    Helpdesk,
    NotTarget,
}

/// The simulated device a plan's device key names: by device id, or by the system of an
/// unregistered one.
fn sim_device<'a>(w: &'a World, p: &'a Person, key: &str) -> Option<&'a Device> {
    let devices = w.devices(p);
    if let Some(id) = key.strip_prefix("device:") {
        return devices
            .into_iter()
            .find(|d| d.device_id.to_string().eq_ignore_ascii_case(id));
    }
    let os = key.split(':').nth(1)?;
    devices.into_iter().find(|d| {
        matches!(
            (os, d.platform),
            ("Ios", Platform::Ios)
                | ("Android", Platform::Android)
                | ("Windows", Platform::Windows)
                | ("MacOs", Platform::MacOs)
                | ("Linux", Platform::Linux)
        )
    })
}

/// Plays one person as the cards direct: the first "set up" the card offers, set up on the
/// device it names (a phone for a passkey in Authenticator), the test on the device the test
/// card names with the strongest way the sign-in page offers, an exclusion where the card
/// offers one, and the confirmation. Returns how it ended, or the card it got stuck on.
async fn follow_the_cards(w: &World, person: &Person) -> Result<Ending, String> {
    let mut chat = Chat::new(w, person);
    chat.install().await;
    chat.click("start").await;
    follow(&mut chat).await
}

/// [`follow_the_cards`] from the card on screen.
async fn follow(chat: &mut Chat<'_>) -> Result<Ending, String> {
    let (w, person) = (chat.w, chat.person);
    for _ in 0..24 {
        let card = chat.current().clone();
        let acts = actions(&card);
        let has = |verb: &str| {
            acts.iter()
                .any(|a| a["type"] == "Action.Execute" && a["verb"] == verb)
        };
        let state = chat.state().await;
        match state.as_str() {
            "enforced" => return Ok(Ending::Enforced),
            "excluded" => return Ok(Ending::Excluded),
            "needsHelpdesk" => return Ok(Ending::Helpdesk),
            "notTarget" => return Ok(Ending::NotTarget),
            _ => {}
        }
        if has("enforce") {
            chat.click("enforce").await;
        } else if has("requestExclusion") {
            chat.submit("requestExclusion", "reason", "Waiting for a new phone.")
                .await;
        } else if has("exclude") {
            chat.click("exclude").await;
        } else if has("registered") {
            let device = card_device(w, person, chat)?;
            let (target, kind) = device;
            if w.try_register(person, &target, kind).await.is_none() {
                return Err(format!(
                    "the simulated tenant refused {kind} on {target}: {card}"
                ));
            }
            chat.registered_and_wait().await;
        } else if has("register") {
            chat.click("register").await;
        } else if acts.iter().any(|a| {
            a["type"] == "Action.OpenUrl"
                && a["url"]
                    .as_str()
                    .is_some_and(|u| u.contains("/signin/test/"))
        }) {
            // The strongest way first, then each other way once.
            let tried = std::cell::RefCell::new(Vec::<String>::new());
            let untried = |b: &SignInButton| {
                let mut tried = tried.borrow_mut();
                let new = !tried.contains(&b.id);
                if new {
                    tried.push(b.id.clone());
                }
                new
            };
            let untried: &dyn Fn(&SignInButton) -> bool = &untried;
            chat.test_sign_in(&[untried; 8]).await;
        } else if has("test") {
            chat.click("test").await;
        } else {
            return Err(format!(
                "stuck in {state} on {}: {}",
                title(&card),
                text(&card)
            ));
        }
    }
    let plan = w
        .engine
        .journey(&chat.who())
        .await
        .ok()
        .and_then(|j| j.conversation.plan)
        .map(|p| {
            p.devices
                .iter()
                .map(|d| format!("{} ({}): {:?}", d.key, d.label, d.status))
                .collect::<Vec<_>>()
        });
    let attempts: Vec<String> = w
        .sim
        .sign_in_attempts()
        .into_iter()
        .filter(|a| a.user_id == person.id.to_string())
        .map(|a| {
            format!(
                "{:?} {} on {:?}: {}",
                a.method, a.option, a.device, a.succeeded
            )
        })
        .collect();
    let who = chat.who();
    let events: Vec<String> = w
        .engine
        .store()
        .events_for(&who.tenant_id, &who.aad_object_id, 200)
        .await
        .map(|es| {
            es.iter()
                .map(|e| format!("{} {}", e.event.kind, e.event.data))
                .collect()
        })
        .unwrap_or_default();
    Err(format!(
        "no end after 24 inputs, in {}: {:?}; events {events:#?}; sign-ins {attempts:#?}; devices {plan:#?}; the person's devices {:?}",
        chat.state().await,
        chat.titles(),
        w.devices(person)
            .iter()
            .map(|d| format!("{} {:?} {}", d.display_name, d.platform, d.device_id))
            .collect::<Vec<_>>()
    ))
}

/// The device and kind of passkey the register card on screen asks for.
fn card_device<'a>(
    w: &'a World,
    person: &'a Person,
    chat: &Chat<'_>,
) -> Result<(String, &'static str), String> {
    let register = chat
        .seen
        .iter()
        .rev()
        .find(|c| actions(c).iter().any(|a| a["verb"] == "registered"))
        .cloned()
        .unwrap_or_default();
    // The journey knows which device and option it is registering.
    let (key, option) = chat
        .seen
        .iter()
        .rev()
        .flat_map(actions)
        .find(|a| a["verb"] == "register")
        .map(|a| {
            (
                a["data"]["device"].as_str().unwrap_or_default().to_owned(),
                a["data"]["option"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .ok_or_else(|| format!("no register action before {register}"))?;
    let device =
        sim_device(w, person, &key).ok_or_else(|| format!("no simulated device for {key}"))?;
    let phone = || {
        w.devices(person)
            .into_iter()
            .find(|d| d.platform.is_mobile())
    };
    Ok(match option.as_str() {
        "authenticatorPasskey" => {
            let on = if device.platform.is_mobile() {
                Some(device)
            } else {
                phone()
            };
            (
                on.ok_or("an Authenticator passkey but no phone")?
                    .display_name
                    .clone(),
                "authenticator",
            )
        }
        "windowsHelloForBusiness" | "platformPasskey" if device.platform == Platform::Windows => {
            (device.display_name.clone(), "windowsHello")
        }
        "syncedPasskey" => (device.display_name.clone(), "synced"),
        "securityKey" => (device.display_name.clone(), "securityKey"),
        other => return Err(format!("no way to set up {other} on {key}")),
    })
}

impl World {
    /// [`World::register_passkey`], or `None` when the simulated tenant refuses it.
    async fn try_register(&self, p: &Person, device: &str, kind: &str) -> Option<String> {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/_sim/people/{}/passkeys",
                self.sim.base_url(),
                p.id
            ))
            .json(&json!({"device": device, "kind": kind}))
            .send()
            .await
            .ok()?;
        if r.status() != 201 {
            return None;
        }
        let body: Value = r.json().await.ok()?;
        body["methodId"].as_str().map(str::to_owned)
    }
}

/// The acceptance "in the demo the journey works for any simulated person", checked on the
/// first 30 employees of the tenant: following the cards, each one ends enforced, excluded
/// (an incompatible device) or with the helpdesk, never stuck; and everyone enforced is in
/// the group.
#[tokio::test]
async fn every_person_who_follows_the_cards_reaches_an_end() {
    let first = world().await;
    let staff: Vec<u32> = [GroupRole::Helpdesk, GroupRole::Admins]
        .into_iter()
        .flat_map(|r| first.pop.group(r).members.clone())
        .collect();
    let people: Vec<usize> = first
        .pop
        .people
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            p.kind == PersonKind::Employee && p.account_enabled && !staff.contains(&(*i as u32))
        })
        .filter(|(_, p)| {
            std::env::var("ROBOT_ONLY")
                .map(|only| p.user_principal_name.starts_with(&only))
                .unwrap_or(true)
        })
        .map(|(i, _)| i)
        .take(30)
        .collect();
    drop(first);
    let mut endings: std::collections::BTreeMap<Ending, usize> = Default::default();
    let mut stuck = Vec::new();
    for i in &people {
        // A tenant of their own each: registrations move the simulated clock on (Graph's
        // lag), and the bot's assessments read the system clock.
        let w = world().await;
        let p = &w.pop.people[*i];
        match follow_the_cards(&w, p).await {
            Ok(end) => {
                *endings.entry(end).or_default() += 1;
                assert_eq!(
                    w.enforced(p).await,
                    end == Ending::Enforced,
                    "{}: {end:?} but the group says otherwise",
                    p.user_principal_name
                );
            }
            Err(why) => stuck.push(format!("{}: {why}", p.user_principal_name)),
        }
    }
    eprintln!("endings of {} journeys: {endings:?}", people.len());
    assert!(
        stuck.is_empty(),
        "{} stuck:\n{}",
        stuck.len(),
        stuck.join("\n\n")
    );
    assert!(
        endings.get(&Ending::Enforced).copied().unwrap_or(0) * 2 >= people.len(),
        "most people end protected: {endings:?}"
    );
}
