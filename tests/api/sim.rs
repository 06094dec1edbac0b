//! The real bot against the simulated tenant: the simulator's channel tokens pass the bot's
//! verifier (and forged ones do not), the bot's replies reach the simulated connector with a
//! simulator-issued token, and the simulator enforces Teams' limits and Entra's errors.

use std::time::Duration;

use passkey_pilot::app::Application;
use passkey_pilot::config;
use passkey_pilot::sim::channel::{Channel, Signing, TeamsUser, personal_conversation_id};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use serde_json::{Value, json};

const APP_ID: &str = "00000000-0000-4000-8000-0000000051a0";
const SECRET: &str = "sim-only-bot-secret";

/// The simulator and the real bot wired together, on random ports.
struct SimBot {
    sim: Simulator,
    channel: Channel,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for SimBot {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start() -> SimBot {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    let mut env = sim.bot_env(APP_ID, SECRET);
    for (key, value) in [
        ("SERVER__BIND", "127.0.0.1:0"),
        ("STORE__URL", "memory://"),
        ("LOG__LEVEL", "warn"),
    ] {
        env.push((format!("PASSKEY_PILOT__{key}"), value.to_owned()));
    }
    let (config, _) = config::load_from(None, env).unwrap();
    let store = passkey_pilot::store::open(&config.store.url).await.unwrap();
    let app = Application::build_with_store(config, store).await.unwrap();
    let url = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await
            && r.status() == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "the bot did not become ready against the simulator");
    let channel = sim.channel(&format!("{url}/api/messages"), APP_ID);
    SimBot {
        sim,
        channel,
        stop: Some(stop),
    }
}

fn person() -> TeamsUser {
    TeamsUser {
        object_id: uuid::Uuid::new_v4(),
        name: "Megan Bowen".into(),
        locale: "en-US".into(),
        time_zone: "Europe/Berlin".into(),
        country: "DE".into(),
        platform: "Windows".into(),
    }
}

fn conversation(user: &TeamsUser) -> String {
    personal_conversation_id(&user.object_id)
}

/// A token from the simulator's Entra for the bot audience, as the bot gets one.
async fn bot_token(sim: &Simulator) -> String {
    let r = reqwest::Client::new()
        .post(sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", SECRET),
            ("scope", "https://api.botframework.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_bot_accepts_simulated_messages_and_its_welcome_card_reaches_the_transcript() {
    let bot = start().await;
    let user = person();
    let message = bot.channel.message(&user, "hello");
    let delivery = bot.channel.deliver(&message).await.unwrap();
    assert_eq!(delivery.status, 200, "{:?}", delivery.body);

    let transcript = bot
        .sim
        .connector()
        .transcript(&conversation(&user))
        .unwrap();
    assert_eq!(transcript.len(), 2, "{transcript:?}");
    assert_eq!(transcript[0].activity["text"], "hello");
    let reply = &transcript[1];
    assert_eq!(reply.reply_to_id.as_deref(), message["id"].as_str());
    let card = &reply.activity["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(
        card["content"]["body"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Hi Megan"),
        "{card}"
    );
}

#[tokio::test]
async fn a_key_not_endorsed_for_teams_is_refused_and_nothing_is_sent() {
    let bot = start().await;
    let user = person();
    let message = bot.channel.message(&user, "hello");
    let delivery = bot
        .channel
        .deliver_signed(&message, &Signing::UnendorsedKey)
        .await
        .unwrap();
    assert_eq!(delivery.status, 401);
    assert!(
        bot.sim
            .connector()
            .bot_messages(&conversation(&user))
            .is_empty()
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let bot = start().await;
    let user = person();
    for audience in [
        "11111111-0000-4000-8000-000000000bad",
        "https://api.botframework.com",
    ] {
        let message = bot.channel.message(&user, "hello");
        let delivery = bot
            .channel
            .deliver_signed(&message, &Signing::Audience(audience.into()))
            .await
            .unwrap();
        assert_eq!(delivery.status, 401, "audience {audience}");
    }
    assert!(
        bot.sim
            .connector()
            .bot_messages(&conversation(&user))
            .is_empty()
    );
}

#[tokio::test]
async fn after_a_key_rotation_new_activities_are_still_accepted() {
    let bot = start().await;
    let user = person();
    let first = bot.channel.message(&user, "hello");
    assert_eq!(bot.channel.deliver(&first).await.unwrap().status, 200);
    let before = bot.sim.identity().channel_key().kid().to_owned();

    let r = reqwest::Client::new()
        .post(format!("{}/_sim/keys/rotate", bot.sim.base_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rotated: Value = r.json().await.unwrap();
    let after = bot.sim.identity().channel_key().kid().to_owned();
    assert_ne!(before, after);
    assert_eq!(rotated["channelKid"], after);

    let invoke = bot
        .channel
        .card_action(&user, None, "journey.refresh", json!({}));
    let delivery = bot.channel.deliver(&invoke).await.unwrap();
    assert_eq!(delivery.status, 200, "{:?}", delivery.body);
    assert_eq!(
        delivery.body["type"],
        "application/vnd.microsoft.card.adaptive"
    );
}

#[tokio::test]
async fn the_connector_throttles_the_eighth_send_within_a_second() {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    sim.register_app(APP_ID, SECRET);
    let token = bot_token(&sim).await;
    let client = reqwest::Client::new();
    let user = uuid::Uuid::new_v4();
    let r = client
        .post(format!("{}v3/conversations", sim.service_url()))
        .bearer_auth(&token)
        .json(&json!({
            "isGroup": false,
            "bot": {"id": format!("28:{APP_ID}")},
            "members": [{"id": user.to_string()}],
            "tenantId": sim.tenant_id(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id, personal_conversation_id(&user));

    // Creating the conversation was the first of seven operations allowed in a second.
    let send = || {
        client
            .post(format!(
                "{}v3/conversations/{id}/activities",
                sim.service_url()
            ))
            .bearer_auth(&token)
            .json(&json!({"type": "message", "text": "hi"}))
            .send()
    };
    for n in 2..=7 {
        assert_eq!(send().await.unwrap().status(), 201, "operation {n}");
    }
    let r = send().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Throttled");
    assert_eq!(sim.connector().bot_messages(&id).len(), 6);
}

#[tokio::test]
async fn the_connector_refuses_requests_without_a_bot_framework_token() {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}v3/conversations", sim.service_url()))
        .bearer_auth("not-a-token")
        .json(&json!({"isGroup": false, "members": [{"id": uuid::Uuid::new_v4()}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Authorization has been denied for this request."
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_wrong_secret_with_entras_error() {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    sim.register_app(APP_ID, SECRET);
    let r = reqwest::Client::new()
        .post(sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", "not-the-secret"),
            ("scope", "https://api.botframework.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with("AADSTS7000215: Invalid client secret provided."),
        "{description}"
    );
    assert!(!description.contains("not-the-secret"));
    assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());
}

#[tokio::test]
async fn an_injected_connector_outage_is_retried_by_the_bot() {
    let bot = start().await;
    let r = reqwest::Client::new()
        .put(format!("{}/_sim/faults/connector", bot.sim.base_url()))
        .json(&json!({"statuses": [503]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let user = person();
    let delivery = bot
        .channel
        .deliver(&bot.channel.message(&user, "hello"))
        .await
        .unwrap();
    assert_eq!(delivery.status, 200);
    assert_eq!(
        bot.sim
            .faults()
            .pending(passkey_pilot::sim::fault::Surface::Connector),
        0
    );
    assert_eq!(
        bot.sim.connector().bot_messages(&conversation(&user)).len(),
        1
    );
}

#[tokio::test]
async fn the_control_api_serves_a_transcript_with_both_sides_and_resets_it() {
    let bot = start().await;
    let user = person();
    let message = bot.channel.message(&user, "hello");
    assert_eq!(bot.channel.deliver(&message).await.unwrap().status, 200);
    let r = reqwest::Client::new()
        .get(format!(
            "{}/_sim/conversations/{}",
            bot.sim.base_url(),
            conversation(&user)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let senders: Vec<&str> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sender"].as_str().unwrap())
        .collect();
    assert_eq!(senders, ["user", "bot"]);
    assert_eq!(body["entries"][1]["replyToId"], message["id"]);

    let r = reqwest::Client::new()
        .post(format!("{}/_sim/reset", bot.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        bot.sim
            .connector()
            .transcript(&conversation(&user))
            .is_none()
    );
}

#[tokio::test]
async fn the_connector_updates_a_sent_card_in_place_and_refuses_unknown_ids() {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    sim.register_app(APP_ID, SECRET);
    let token = bot_token(&sim).await;
    let client = reqwest::Client::new();
    let user = uuid::Uuid::new_v4();
    let created: Value = client
        .post(format!("{}v3/conversations", sim.service_url()))
        .bearer_auth(&token)
        .json(&json!({
            "isGroup": false,
            "members": [{"id": passkey_pilot::sim::channel::user_id(&user)}],
            "tenantId": sim.tenant_id(),
            "activity": {"type": "message", "text": "first"},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let activity_id = created["activityId"].as_str().unwrap();
    let put = |activity: &str| {
        client
            .put(format!(
                "{}v3/conversations/{id}/activities/{activity}",
                sim.service_url()
            ))
            .bearer_auth(&token)
            .json(&json!({"type": "message", "text": "second"}))
            .send()
    };
    assert_eq!(put(activity_id).await.unwrap().status(), 200);
    let sent = sim.connector().bot_messages(id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].activity["text"], "second");
    assert_eq!(sent[0].updates, 1);
    let r = put("1").await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ActivityNotFoundInConversation");
    let r = client
        .post(format!(
            "{}v3/conversations/a:unknown/activities",
            sim.service_url()
        ))
        .bearer_auth(&token)
        .json(&json!({"type": "message"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn entra_metadata_points_at_a_jwks_that_verifies_issued_tokens() {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    sim.register_app(APP_ID, SECRET);
    let client = reqwest::Client::new();
    let metadata: Value = client
        .get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            sim.base_url(),
            sim.tenant_id()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["token_endpoint"], sim.token_url());
    assert_eq!(
        metadata["issuer"],
        format!("https://login.microsoftonline.com/{}/v2.0", sim.tenant_id())
    );
    let jwks: Value = client
        .get(metadata["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = bot_token(&sim).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("the signing key is published");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["https://api.botframework.com"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["appid"], APP_ID);
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", sim.tenant_id())
    );
}

#[tokio::test]
async fn injected_identity_faults_answer_in_entras_shape_after_the_added_latency() {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    sim.register_app(APP_ID, SECRET);
    let client = reqwest::Client::new();
    let r = client
        .put(format!("{}/_sim/faults/identity", sim.base_url()))
        .json(&json!({"statuses": [503], "retry_after_secs": 2, "latency_ms": 150}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let started = std::time::Instant::now();
    let r = client.get(sim.openid_metadata_url()).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // One injected error only; then the real answer, still slowed down.
    assert!(!bot_token(&sim).await.is_empty());
    let r = client
        .delete(format!("{}/_sim/faults/identity", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn the_control_api_moves_simulated_time_forward_and_never_back() {
    let sim = Simulator::start(SimulatorOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let base = sim.base_url().to_owned();
    let before: Value = http
        .get(format!("{base}/_sim/time"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["offsetSeconds"], 0);

    let advanced = http
        .post(format!("{base}/_sim/time/advance"))
        .json(&json!({"seconds": 7200}))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), 200);
    let advanced: Value = advanced.json().await.unwrap();
    assert_eq!(advanced["offsetSeconds"], 7200);
    let then: jiff::Timestamp = before["now"].as_str().unwrap().parse().unwrap();
    let now: jiff::Timestamp = advanced["now"].as_str().unwrap().parse().unwrap();
    let moved = now.duration_since(then).as_secs();
    assert!((7200..7260).contains(&moved), "moved {moved} s");
    assert_eq!(sim.clock().offset().as_secs(), 7200);

    let back = http
        .post(format!("{base}/_sim/time/advance"))
        .json(&json!({"seconds": -60}))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 400);
    assert!(back.text().await.unwrap().contains("only moves forward"));
    assert_eq!(sim.clock().offset().as_secs(), 7200);
}
