//! The test sign-in end to end: the bot's test sign-in routes on a random port, the simulated
//! Entra tenant, and a browser played by reqwest without following redirects (every hop is
//! followed by hand, so each URL is checked).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};
use passkey_pilot::config::{Secret, TestSignInConfig};
use passkey_pilot::i18n::Locales;
use passkey_pilot::ids::{AadObjectId, ConversationId, TenantId};
use passkey_pilot::sim::population::{MethodKind, PasskeyState, Person, Population};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use passkey_pilot::store;
use passkey_pilot::testsignin::{
    FailureReason, MemorySink, TestDelivery, TestLinks, TestOutcome, TestSignIn,
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

const CLIENT_ID: &str = "6f1d2c3b-4a59-4e6f-8a7b-0c1d2e3f4a5b";
const CLIENT_SECRET: &str = "sim-only-test-signin-secret";
const SCOPE: &str = "api://passkey-pilot/Test.Read";

/// The tests of this module run one at a time: the log test needs the test sign-in's log
/// callsites hit by no other thread while it captures (tracing caches their interest).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Setup {
    _serial: tokio::sync::MutexGuard<'static, ()>,
    sim: Simulator,
    pop: Arc<Population>,
    service: Arc<TestSignIn>,
    sink: Arc<MemorySink>,
    /// Seconds added to the bot's clock.
    skew: Arc<AtomicI64>,
    browser: reqwest::Client,
    tenant: TenantId,
}

/// What the bot asks for, and which auth contexts the simulated tenant's policy covers.
struct Options {
    bot_auth_context: &'static str,
    policy_auth_contexts: &'static [&'static str],
}

const WITH_C1: Options = Options {
    bot_auth_context: "c1",
    policy_auth_contexts: &["c1"],
};

async fn setup(options: Options) -> Setup {
    setup_with(options, SERIAL.lock().await).await
}

async fn setup_with(options: Options, serial: tokio::sync::MutexGuard<'static, ()>) -> Setup {
    let pop = Arc::new(Population::generate(300, 7, Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        population: Some(pop.clone()),
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", listener.local_addr().unwrap());
    let redirect_url = format!("{public_url}/signin/test/callback");
    sim.register_test_signin_app(
        CLIENT_ID,
        Some(CLIENT_SECRET),
        &[&redirect_url],
        options.policy_auth_contexts,
    )
    .unwrap();
    let config = TestSignInConfig {
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        redirect_url,
        auth_context: options.bot_auth_context.to_owned(),
        tenant_id: sim.tenant_id().to_owned(),
        authority: format!("{}/{}/v2.0", sim.base_url(), sim.tenant_id()),
        scope: SCOPE.to_owned(),
        link_ttl_secs: 600,
    };
    let skew = Arc::new(AtomicI64::new(0));
    let clock_skew = skew.clone();
    let sink = Arc::new(MemorySink::default());
    let service = Arc::new(TestSignIn::new(
        config,
        &public_url,
        store::open("memory://").await.unwrap(),
        sink.clone(),
        Arc::new(Locales::load().unwrap()),
        reqwest::Client::new(),
        Arc::new(move || {
            Timestamp::now() + SignedDuration::from_secs(clock_skew.load(Ordering::SeqCst))
        }),
    ));
    let app = passkey_pilot::testsignin::routes(service.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tenant = TenantId::parse(sim.tenant_id()).unwrap();
    Setup {
        _serial: serial,
        sim,
        pop,
        service,
        sink,
        skew,
        browser,
        tenant,
    }
}

fn working_passkey(p: &Person) -> Option<String> {
    p.methods.iter().find_map(|m| match &m.kind {
        MethodKind::Fido2 {
            passkey,
            device: Some(_),
            state,
            ..
        } if *state != PasskeyState::DeletedFromDevice && !passkey.is_security_key() => {
            Some(format!("passkey:{}", m.id))
        }
        _ => None,
    })
}

fn push_only(p: &Person) -> Option<String> {
    let strong = p.methods.iter().any(|m| {
        matches!(
            m.kind,
            MethodKind::Fido2 { .. } | MethodKind::WindowsHelloForBusiness { .. }
        )
    });
    if strong {
        return None;
    }
    p.methods.iter().find_map(|m| {
        matches!(m.kind, MethodKind::MicrosoftAuthenticator { .. })
            .then(|| format!("push:{}", m.id))
    })
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::FOUND, "expected a redirect");
    r.headers()["location"].to_str().unwrap().to_owned()
}

impl Setup {
    /// The `n`-th enabled person `wanted` picks, with the option it names.
    fn person(&self, nth: usize, wanted: impl Fn(&Person) -> Option<String>) -> (&Person, String) {
        self.pop
            .people
            .iter()
            .filter(|p| p.account_enabled)
            .filter_map(|p| wanted(p).map(|o| (p, o)))
            .nth(nth)
            .expect("such a person in the population")
    }

    fn ids(&self, person: &Person) -> (AadObjectId, ConversationId) {
        (
            AadObjectId::parse(&person.id.to_string()).unwrap(),
            ConversationId::parse(&format!("a:1-personal-{}", person.id)).unwrap(),
        )
    }

    async fn link_for(&self, person: &Person) -> String {
        let (oid, conversation) = self.ids(person);
        self.service
            .test_url(
                &self.tenant,
                &oid,
                &conversation,
                Some(&person.user_principal_name),
            )
            .await
            .unwrap()
            .expect("the test sign-in is configured")
    }

    /// Opens the link: returns the authorize URL the bot redirects to.
    async fn open_link(&self, link: &str) -> String {
        let r = self.browser.get(link).send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store");
        location(&r)
    }

    /// Follows the authorize URL to Entra's page and signs in there as `login` with `option`;
    /// returns the redirect back to the bot.
    async fn sign_in(&self, authorize: &str, login: &Person, option: &str) -> String {
        let r = self.browser.get(authorize).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        let ctx = html
            .split("name=\"ctx\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the sign-in page carries its context")
            .to_owned();
        let r = self
            .browser
            .post(format!(
                "{}/{}/login",
                self.sim.base_url(),
                self.sim.tenant_id()
            ))
            .form(&[
                ("ctx", ctx.as_str()),
                ("login", login.user_principal_name.as_str()),
                ("option", option),
            ])
            .send()
            .await
            .unwrap();
        location(&r)
    }

    /// Opens `url` (the callback) as a browser asking for `language`.
    async fn page(&self, url: &str, language: &str) -> (StatusCode, String) {
        let r = self
            .browser
            .get(url)
            .header("accept-language", language)
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        (status, r.text().await.unwrap())
    }

    fn delivered(&self) -> Vec<TestDelivery> {
        self.sink.delivered()
    }

    fn expect_one(&self, person: &Person, outcome: TestOutcome) {
        let (oid, conversation) = self.ids(person);
        assert_eq!(
            self.delivered(),
            vec![TestDelivery {
                tenant_id: self.tenant.clone(),
                aad_object_id: oid,
                conversation_id: conversation,
                outcome,
            }]
        );
    }
}

#[tokio::test]
async fn a_person_with_a_working_passkey_passes_and_the_journey_hears_it() {
    let t = setup(WITH_C1).await;
    let (person, option) = t.person(0, working_passkey);
    let link = t.link_for(person).await;
    assert!(link.contains("/signin/test/start?t="), "{link}");

    let authorize = t.open_link(&link).await;
    assert!(authorize.starts_with(&t.sim.authorize_url()), "{authorize}");
    let q = query_of(&authorize);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["prompt"], "login");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert_eq!(q["login_hint"], person.user_principal_name);
    assert_eq!(q["scope"], format!("openid profile {SCOPE}"));
    let claims: Value = serde_json::from_str(&q["claims"]).unwrap();
    assert_eq!(claims["access_token"]["acrs"]["essential"], true);
    assert_eq!(claims["access_token"]["acrs"]["value"], "c1");
    assert!(!authorize.contains("verifier"), "{authorize}");

    let back = t.sign_in(&authorize, person, &option).await;
    assert!(back.contains("/signin/test/callback?"), "{back}");
    let (status, html) = t.page(&back, "en-GB,en;q=0.9").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your passkey works"), "{html}");
    assert!(html.contains("go back to Teams"), "{html}");
    let code = query_of(&back)["code"].clone();
    assert!(!html.contains(&code), "the code never appears on the page");
    t.expect_one(person, TestOutcome::Passed);
}

#[tokio::test]
async fn a_missing_auth_context_in_the_access_token_fails_the_test() {
    // The bot asks for c1, but no Conditional Access policy in the tenant covers it: Entra
    // issues the tokens without `acrs`.
    let t = setup(Options {
        bot_auth_context: "c1",
        policy_auth_contexts: &[],
    })
    .await;
    let (person, option) = t.person(0, working_passkey);
    let authorize = t.open_link(&t.link_for(person).await).await;
    let back = t.sign_in(&authorize, person, &option).await;
    let (_, html) = t.page(&back, "en").await;
    assert!(
        html.contains("did not meet the passkey requirement"),
        "{html}"
    );
    t.expect_one(
        person,
        TestOutcome::Failed(FailureReason::AuthContextMissing),
    );
}

#[tokio::test]
async fn without_an_auth_context_the_apps_policy_is_the_proof() {
    let t = setup(Options {
        bot_auth_context: "",
        policy_auth_contexts: &[],
    })
    .await;
    let (person, option) = t.person(1, working_passkey);
    let authorize = t.open_link(&t.link_for(person).await).await;
    assert!(!query_of(&authorize).contains_key("claims"), "{authorize}");
    let back = t.sign_in(&authorize, person, &option).await;
    let (status, _) = t.page(&back, "en").await;
    assert_eq!(status, StatusCode::OK);
    t.expect_one(person, TestOutcome::Passed);
}

#[tokio::test]
async fn a_push_only_person_fails_with_strength_not_met_told_in_german() {
    let t = setup(WITH_C1).await;
    let (person, option) = t.person(0, push_only);
    let authorize = t.open_link(&t.link_for(person).await).await;
    let back = t.sign_in(&authorize, person, &option).await;
    assert_eq!(query_of(&back)["error"], "access_denied");
    let (status, html) = t.page(&back, "de-DE,de;q=0.9,en;q=0.5").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    assert!(
        html.contains("Die Testanmeldung hat nicht geklappt"),
        "{html}"
    );
    assert!(html.contains("kein Passkey"), "{html}");
    assert!(!html.contains("AADSTS"), "{html}");
    t.expect_one(person, TestOutcome::Failed(FailureReason::StrengthNotMet));
}

#[tokio::test]
async fn a_reused_link_is_already_used() {
    let t = setup(WITH_C1).await;
    let (person, _) = t.person(0, working_passkey);
    let link = t.link_for(person).await;
    t.open_link(&link).await;
    assert!(t.delivered().is_empty(), "starting delivers nothing");
    let (status, html) = t.page(&link, "en").await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("already used"), "{html}");
    t.expect_one(person, TestOutcome::Failed(FailureReason::AlreadyUsed));
}

#[tokio::test]
async fn a_link_opened_after_ten_minutes_has_expired() {
    let t = setup(WITH_C1).await;
    let (person, _) = t.person(0, working_passkey);
    let link = t.link_for(person).await;
    t.skew.store(601, Ordering::SeqCst);
    let (status, html) = t.page(&link, "en").await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("expired"), "{html}");
    t.expect_one(person, TestOutcome::Failed(FailureReason::Expired));
}

#[tokio::test]
async fn a_sign_in_finished_after_the_deadline_has_expired() {
    let t = setup(WITH_C1).await;
    let (person, option) = t.person(0, working_passkey);
    let authorize = t.open_link(&t.link_for(person).await).await;
    let back = t.sign_in(&authorize, person, &option).await;
    t.skew.store(601, Ordering::SeqCst);
    let (status, _) = t.page(&back, "en").await;
    assert_eq!(status, StatusCode::GONE);
    t.expect_one(person, TestOutcome::Failed(FailureReason::Expired));
}

#[tokio::test]
async fn another_account_signing_in_is_the_wrong_user() {
    let t = setup(WITH_C1).await;
    let (person, _) = t.person(0, working_passkey);
    let (colleague, colleague_option) = t.person(1, working_passkey);
    assert_ne!(person.id, colleague.id);
    let authorize = t.open_link(&t.link_for(person).await).await;
    let back = t.sign_in(&authorize, colleague, &colleague_option).await;
    let (_, html) = t.page(&back, "en").await;
    assert!(html.contains("different account"), "{html}");
    t.expect_one(person, TestOutcome::Failed(FailureReason::WrongUser));
}

#[tokio::test]
async fn a_tampered_state_is_refused_without_delivering_anything() {
    let t = setup(WITH_C1).await;
    let (person, option) = t.person(0, working_passkey);
    let authorize = t.open_link(&t.link_for(person).await).await;
    let back = t.sign_in(&authorize, person, &option).await;
    let mut url = url::Url::parse(&back).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let (status, html) = t.page(url.as_str(), "en").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("This link does not work"), "{html}");
    assert!(t.delivered().is_empty(), "{:?}", t.delivered());

    // The genuine callback still completes once, and replaying it delivers nothing more.
    let (status, _) = t.page(&back, "en").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = t.page(&back, "en").await;
    assert_eq!(status, StatusCode::GONE);
    t.expect_one(person, TestOutcome::Passed);
}

#[tokio::test]
async fn an_unknown_link_is_refused_without_delivering_anything() {
    let t = setup(WITH_C1).await;
    let (person, _) = t.person(0, working_passkey);
    let link = t.link_for(person).await;
    let forged = format!("{}x", link);
    let (status, _) = t.page(&forged, "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(t.delivered().is_empty());
}

/// The real service (`Application`) with `[test_signin]` configured: its router serves the
/// test sign-in, and without an engine sink the result lands in the event log.
#[tokio::test]
async fn the_service_serves_the_test_sign_in_and_logs_the_result() {
    const PUBLIC: &str = "https://bot.example";
    let t = setup(WITH_C1).await;
    t.sim
        .register_test_signin_app(
            CLIENT_ID,
            Some(CLIENT_SECRET),
            &[&format!("{PUBLIC}/signin/test/callback")],
            &["c1"],
        )
        .unwrap();
    let mut config = crate::helpers::test_config("127.0.0.1:9".parse().unwrap(), "memory://");
    config.server.public_url = PUBLIC.to_owned();
    config.test_signin = TestSignInConfig {
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        redirect_url: format!("{PUBLIC}/signin/test/callback"),
        auth_context: "c1".to_owned(),
        tenant_id: t.sim.tenant_id().to_owned(),
        authority: format!("{}/{}/v2.0", t.sim.base_url(), t.sim.tenant_id()),
        scope: SCOPE.to_owned(),
        link_ttl_secs: 600,
    };
    let store = store::open("memory://").await.unwrap();
    let app = passkey_pilot::app::Application::build_with_store(config.clone(), store.clone())
        .await
        .unwrap();
    let bot = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    // The browser reaches the public URL through a reverse proxy: here, straight to the bot.
    let via_proxy = |url: &str| url.replace(PUBLIC, &bot);

    let (status, html) = t
        .page(&format!("{bot}/signin/test/start?t=nope"), "en")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("This link does not work"), "{html}");

    let (person, option) = t.person(0, working_passkey);
    let (oid, conversation) = t.ids(person);
    let links = TestSignIn::new(
        config.test_signin.clone(),
        PUBLIC,
        store.clone(),
        Arc::new(MemorySink::default()),
        Arc::new(Locales::load().unwrap()),
        reqwest::Client::new(),
        passkey_pilot::testsignin::system_clock(),
    );
    let link = links
        .test_url(
            &t.tenant,
            &oid,
            &conversation,
            Some(&person.user_principal_name),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(
        link.starts_with(&format!("{PUBLIC}/signin/test/start?t=")),
        "{link}"
    );
    let authorize = t.open_link(&via_proxy(&link)).await;
    let back = t.sign_in(&authorize, person, &option).await;
    let (status, html) = t.page(&via_proxy(&back), "en").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Your passkey works"), "{html}");
    let events = store.events_for(&t.tenant, &oid, 10).await.unwrap();
    let result = events
        .iter()
        .find(|e| e.event.kind == "test_signin.result")
        .expect("the result is in the event log");
    assert_eq!(result.event.data["result"], "passed");
    assert_eq!(result.event.data["conversationId"], conversation.as_str());
    // The running service hands the result to the person's journey.
    assert!(
        events.iter().any(|e| e.event.kind == "journey.test_passed"),
        "{:?}",
        events.iter().map(|e| &e.event.kind).collect::<Vec<_>>()
    );
}

/// Collects the log lines written while it is the thread's default subscriber.
#[derive(Clone, Default)]
struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime: the bot's tasks run on this thread, under the capturing subscriber.
#[tokio::test(flavor = "current_thread")]
async fn codes_states_nonces_links_and_the_secret_never_reach_the_log() {
    let serial = SERIAL.lock().await;
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("passkey_pilot::testsignin=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Callsites other tests' threads hit first may hold an interest computed without this
    // subscriber; recompute it now that the subscriber exists.
    tracing::callsite::rebuild_interest_cache();

    let t = setup_with(WITH_C1, serial).await;
    let (person, option) = t.person(0, working_passkey);
    let link = t.link_for(person).await;
    let authorize = t.open_link(&link).await;
    let back = t.sign_in(&authorize, person, &option).await;
    let (status, _) = t.page(&back, "en").await;
    assert_eq!(status, StatusCode::OK);
    let (pushed, push) = t.person(0, push_only);
    let authorize_push = t.open_link(&t.link_for(pushed).await).await;
    t.page(&t.sign_in(&authorize_push, pushed, &push).await, "en")
        .await;

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("test sign-in result"), "{log}");
    assert!(
        log.contains("AADSTS53003"),
        "the Entra code is logged: {log}"
    );
    let token = link.split("t=").nth(1).unwrap();
    let q = query_of(&authorize);
    let back_q = query_of(&back);
    for secret in [
        token,
        q["state"].as_str(),
        q["nonce"].as_str(),
        q["code_challenge"].as_str(),
        back_q["code"].as_str(),
        CLIENT_SECRET,
    ] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}
