//! The webhook as Teams and attackers see it: authentication, tenant check, bad bodies,
//! dedupe, and the welcome card.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use passkey_pilot::ids::{AadObjectId, TenantId};
use serde_json::{Value, json};

use crate::helpers::*;

fn b64(v: &Value) -> String {
    B64.encode(v.to_string())
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(key);
    } else {
        claims[key] = value;
    }
    claims
}

/// One forged or broken request: what goes in the Authorization header, how the activity
/// differs, and the status the bot must answer.
struct Case {
    name: &'static str,
    authorization: Option<String>,
    activity: Box<dyn Fn(Value) -> Value>,
    expect: u16,
}

fn case(name: &'static str, authorization: Option<String>, expect: u16) -> Case {
    Case {
        name,
        authorization,
        activity: Box::new(|a| a),
        expect,
    }
}

fn bearer(token: String) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn cases(bot: &TestBot) -> Vec<Case> {
    let su = bot.service_url.clone();
    let now = jiff::Timestamp::now().as_second();
    let valid = bot.token();
    let (vh, vp, vs) = {
        let p: Vec<&str> = valid.split('.').collect();
        (p[0].to_owned(), p[1].to_owned(), p[2].to_owned())
    };
    let n_as_secret = {
        let jwk: Value =
            serde_json::from_str(include_str!("../fixtures/keys/channel.jwk.json")).unwrap();
        jwk["n"].as_str().unwrap().to_owned()
    };
    let hs256 = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(CHANNEL_KID.into());
        jsonwebtoken::encode(
            &h,
            &claims(&su),
            &EncodingKey::from_secret(n_as_secret.as_bytes()),
        )
        .unwrap()
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": CHANNEL_KID})),
        b64(&claims(&su))
    );
    let tampered_payload = format!(
        "{vh}.{}.{vs}",
        b64(&with(claims(&su), "aud", json!(APP_ID))
            .as_object()
            .map(|_| with(claims(&su), "exp", json!(now + 86_400)))
            .unwrap())
    );
    let tampered_signature = {
        let mut sig = B64.decode(&vs).unwrap();
        sig[10] ^= 0x01;
        format!("{vh}.{vp}.{}", B64.encode(sig))
    };
    let mut no_kid_header = Header::new(Algorithm::RS256);
    no_kid_header.kid = None;
    let no_kid = jsonwebtoken::encode(
        &no_kid_header,
        &claims(&su),
        &EncodingKey::from_rsa_pem(CHANNEL_PEM).unwrap(),
    )
    .unwrap();

    vec![
        case("no Authorization header", None, 401),
        case(
            "Basic scheme",
            Some(format!("Basic {}", B64.encode("bot:secret"))),
            401,
        ),
        case(
            "Bearer with three parts",
            Some(format!("Bearer {valid} extra")),
            401,
        ),
        case(
            "lower-case bearer scheme",
            Some(format!("bearer {valid}")),
            401,
        ),
        case("empty bearer token", Some("Bearer ".into()), 401),
        case("garbage", bearer("garbage".into()), 401),
        case(
            "JSON garbage in three parts",
            bearer(format!(
                "{}.{}.{}",
                B64.encode("{"),
                B64.encode("[]"),
                B64.encode("x")
            )),
            401,
        ),
        case("alg none", bearer(alg_none), 401),
        case("HS256 keyed with the public key", bearer(hs256), 401),
        case(
            "RS384 is not allowed",
            bearer(mint_alg(
                &claims(&su),
                CHANNEL_KID,
                CHANNEL_PEM,
                Algorithm::RS384,
            )),
            401,
        ),
        case("no kid", bearer(no_kid), 401),
        case(
            "unknown kid (attacker key and kid)",
            bearer(mint(&claims(&su), ATTACKER_KID, ATTACKER_PEM)),
            401,
        ),
        case(
            "attacker key with the real kid",
            bearer(mint(&claims(&su), CHANNEL_KID, ATTACKER_PEM)),
            401,
        ),
        case("tampered payload", bearer(tampered_payload), 401),
        case("tampered signature", bearer(tampered_signature), 401),
        case(
            "expired beyond the 5-minute skew",
            bearer(mint(
                &with(claims(&su), "exp", json!(now - 360)),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "exp missing",
            bearer(mint(
                &with(claims(&su), "exp", Value::Null),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "not yet valid beyond the skew",
            bearer(mint(
                &with(claims(&su), "nbf", json!(now + 360)),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "another bot's audience",
            bearer(mint(
                &with(
                    claims(&su),
                    "aud",
                    json!("11111111-2222-4333-8444-555555555555"),
                ),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "connector audience (replayed outbound token)",
            bearer(mint(
                &with(claims(&su), "aud", json!("https://api.botframework.com")),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "audience as an array",
            bearer(mint(
                &with(claims(&su), "aud", json!([APP_ID])),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "audience missing",
            bearer(mint(
                &with(claims(&su), "aud", Value::Null),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "issuer with a trailing slash",
            bearer(mint(
                &with(claims(&su), "iss", json!("https://api.botframework.com/")),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "Entra issuer",
            bearer(mint(
                &with(
                    claims(&su),
                    "iss",
                    json!("https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"),
                ),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "serviceurl claim missing",
            bearer(mint(
                &with(claims(&su), "serviceurl", Value::Null),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "serviceurl claim of another host",
            bearer(mint(
                &with(
                    claims(&su),
                    "serviceurl",
                    json!("https://evil.example.com/amer/"),
                ),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "serviceurl claim without the trailing slash",
            bearer(mint(
                &with(claims(&su), "serviceurl", json!(su.trim_end_matches('/'))),
                CHANNEL_KID,
                CHANNEL_PEM,
            )),
            401,
        ),
        case(
            "key endorsed only for another channel",
            bearer(mint(&claims(&su), SKYPE_ONLY_KID, CHANNEL_PEM)),
            401,
        ),
        case(
            "key with no endorsements",
            bearer(mint(&claims(&su), BARE_KID, CHANNEL_PEM)),
            401,
        ),
        Case {
            name: "activity from webchat, key endorsed for it",
            authorization: bearer(valid.clone()),
            activity: Box::new(|mut a| {
                a["channelId"] = json!("webchat");
                a
            }),
            expect: 401,
        },
        Case {
            name: "activity without channelId",
            authorization: bearer(valid.clone()),
            activity: Box::new(|mut a| {
                a.as_object_mut().unwrap().remove("channelId");
                a
            }),
            expect: 401,
        },
        Case {
            name: "activity serviceUrl differs from the claim",
            authorization: bearer(valid.clone()),
            activity: Box::new(|mut a| {
                a["serviceUrl"] = json!("https://smba.trafficmanager.net/amer/");
                a
            }),
            expect: 401,
        },
        Case {
            name: "another tenant",
            authorization: bearer(valid.clone()),
            activity: Box::new(|mut a| {
                a["channelData"]["tenant"]["id"] = json!(OTHER_TENANT);
                a["conversation"]["tenantId"] = json!(OTHER_TENANT);
                a
            }),
            expect: 403,
        },
        Case {
            name: "tenant ids that disagree",
            authorization: bearer(valid.clone()),
            activity: Box::new(|mut a| {
                a["conversation"]["tenantId"] = json!(OTHER_TENANT);
                a
            }),
            expect: 403,
        },
        Case {
            name: "no tenant at all",
            authorization: bearer(valid),
            activity: Box::new(|mut a| {
                a.as_object_mut().unwrap().remove("channelData");
                a["conversation"]
                    .as_object_mut()
                    .unwrap()
                    .remove("tenantId");
                a
            }),
            expect: 403,
        },
    ]
}

#[tokio::test]
async fn forged_and_broken_tokens_are_rejected_with_no_side_effect() {
    let bot = TestBot::start().await;
    let client = reqwest::Client::new();
    let table = cases(&bot);
    assert!(table.len() >= 15);
    let mut failures = Vec::new();
    for (i, c) in table.iter().enumerate() {
        let activity = (c.activity)(bot.message(&format!("forged-{i}"), "hello"));
        let mut req = client
            .post(format!("{}/api/messages", bot.url))
            .header("content-type", "application/json")
            .body(activity.to_string());
        if let Some(a) = &c.authorization {
            req = req.header("authorization", a);
        }
        let status = req.send().await.unwrap().status().as_u16();
        if status != c.expect {
            failures.push(format!("{}: expected {}, got {status}", c.name, c.expect));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // No side effect at all: nothing sent, nothing stored.
    assert_eq!(
        bot.connector.count(),
        0,
        "a rejected request reached the connector"
    );
    let tenant = TenantId::parse(TENANT).unwrap();
    let user = AadObjectId::parse(USER_OID).unwrap();
    assert_eq!(
        bot.store.conversation_ref(&tenant, &user).await.unwrap(),
        None
    );
    assert!(
        bot.store
            .events_for(&tenant, &user, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        bot.identity
            .tokens_issued
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn duplicate_authorization_headers_are_rejected() {
    let bot = TestBot::start().await;
    let token = bot.token();
    let status = reqwest::Client::new()
        .post(format!("{}/api/messages", bot.url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {token}"))
        .body(bot.message("dup-header", "hi").to_string())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    assert_eq!(bot.connector.count(), 0);
}

#[tokio::test]
async fn a_token_within_the_clock_skew_is_accepted() {
    let bot = TestBot::start().await;
    let now = jiff::Timestamp::now().as_second();
    let mut c = claims(&bot.service_url);
    c["exp"] = json!(now - 240);
    c["nbf"] = json!(now + 240);
    let token = mint(&c, CHANNEL_KID, CHANNEL_PEM);
    let r = bot.post(Some(&token), &bot.message("skew-1", "hi")).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn unknown_kids_refetch_the_keys_at_most_once_a_minute() {
    let bot = TestBot::start().await;
    let before = bot
        .identity
        .jwks_fetches
        .load(std::sync::atomic::Ordering::SeqCst);
    for i in 0..20 {
        let token = mint(
            &claims(&bot.service_url),
            &format!("unknown-{i}"),
            ATTACKER_PEM,
        );
        assert_eq!(
            bot.post(Some(&token), &bot.message(&format!("u{i}"), "x"))
                .await
                .status(),
            401
        );
    }
    let after = bot
        .identity
        .jwks_fetches
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        after - before <= 1,
        "{} JWKS fetches for 20 unknown kids",
        after - before
    );
}

#[tokio::test]
async fn a_message_gets_one_welcome_card_reply_with_an_outbound_token() {
    let bot = TestBot::start().await;
    let r = bot
        .post(Some(&bot.token()), &bot.message("m-1", "hello"))
        .await;
    assert_eq!(r.status(), 200);
    let sent = bot.connector.all();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].path,
        "/amer/v3/conversations/a:1test-conversation/activities/m-1"
    );
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some("Bearer outbound-test-token")
    );
    let card = &sent[0].body["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["version"], "1.5");
    assert!(
        card["content"]["body"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Hi Megan,")
    );
    assert!(
        sent[0].body.get("text").is_none(),
        "card and text must not be mixed"
    );
    // The conversation reference is stored for proactive messages later.
    let stored = bot
        .store
        .conversation_ref(
            &TenantId::parse(TENANT).unwrap(),
            &AadObjectId::parse(USER_OID).unwrap(),
        )
        .await
        .unwrap()
        .expect("conversation reference stored");
    assert_eq!(stored.service_url, bot.service_url);
    assert_eq!(stored.conversation_id.as_str(), "a:1test-conversation");
}

#[tokio::test]
async fn a_german_locale_gets_the_german_welcome() {
    let bot = TestBot::start().await;
    let mut m = bot.message("de-1", "hallo");
    m["locale"] = json!("de-DE");
    assert_eq!(bot.post(Some(&bot.token()), &m).await.status(), 200);
    let sent = bot.connector.all();
    let title = sent[0].body["attachments"][0]["content"]["body"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(title.starts_with("Hallo Megan"), "{title}");
}

#[tokio::test]
async fn a_redelivered_activity_has_one_effect_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bot.db").display());
    let bot = TestBot::start_with_store_url(&url).await;
    let msg = bot.message("redelivered-1", "hello");
    assert_eq!(bot.post(Some(&bot.token()), &msg).await.status(), 200);
    assert_eq!(bot.post(Some(&bot.token()), &msg).await.status(), 200);
    assert_eq!(bot.connector.count(), 1);
    let (identity, connector, service_url, config) = bot.stop().await;
    let bot = TestBot::launch(identity, connector, service_url, config).await;
    assert_eq!(bot.post(Some(&bot.token()), &msg).await.status(), 200);
    assert_eq!(
        bot.connector.count(),
        1,
        "the redelivery after a restart was answered again"
    );
    // A new activity id is a new message.
    assert_eq!(
        bot.post(Some(&bot.token()), &bot.message("fresh-2", "again"))
            .await
            .status(),
        200
    );
    assert_eq!(bot.connector.count(), 2);
}

#[tokio::test]
async fn install_sends_one_welcome_for_both_install_activities() {
    let bot = TestBot::start().await;
    let mut update = bot.message("install-cu", "");
    update["type"] = json!("conversationUpdate");
    update["membersAdded"] =
        json!([{"id": format!("28:{APP_ID}")}, {"id": "29:1test-user", "aadObjectId": USER_OID}]);
    let mut install = bot.message("install-iu", "");
    install["type"] = json!("installationUpdate");
    install["action"] = json!("add");
    // Teams' install activities name no one in `from`.
    for a in [&mut update, &mut install] {
        a["from"].as_object_mut().unwrap().remove("name");
    }
    assert_eq!(bot.post(Some(&bot.token()), &update).await.status(), 200);
    assert_eq!(bot.post(Some(&bot.token()), &install).await.status(), 200);
    let sent = bot.connector.all();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].path,
        "/amer/v3/conversations/a:1test-conversation/activities"
    );
    // The install activity carries no name: the greeting must not read "Hi ,".
    let title = sent[0].body["attachments"][0]["content"]["body"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(title, "Hi, let's move you to passkeys");
}

#[tokio::test]
async fn malformed_json_is_400_and_oversized_bodies_are_413() {
    let bot = TestBot::start().await;
    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(format!("{}/api/messages", bot.url))
            .header("authorization", format!("Bearer {}", bot.token()))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = post("{\"type\": \"message\",".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["message"], "body is not valid JSON");
    assert_eq!(
        post("{}".into()).await.unwrap().status(),
        400,
        "an activity without a type"
    );
    assert_eq!(post("[1,2]".into()).await.unwrap().status(), 400);
    let mut big = bot.message("big-1", "hello");
    big["text"] = json!("x".repeat(300 * 1024));
    assert_eq!(post(big.to_string()).await.unwrap().status(), 413);
    // Chunked (no Content-Length) oversized bodies are cut off too.
    let chunks =
        futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b' '; 8 * 1024])));
    let r = client
        .post(format!("{}/api/messages", bot.url))
        .header("authorization", format!("Bearer {}", bot.token()))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(bot.connector.count(), 0);
}

#[tokio::test]
async fn unknown_activity_types_are_acknowledged_and_ignored() {
    let bot = TestBot::start().await;
    let mut a = bot.message("odd-1", "");
    a["type"] = json!("somethingNew");
    assert_eq!(bot.post(Some(&bot.token()), &a).await.status(), 200);
    let mut r = bot.message("reaction-1", "");
    r["type"] = json!("messageReaction");
    r["reactionsAdded"] = json!([{"type": "like"}]);
    assert_eq!(bot.post(Some(&bot.token()), &r).await.status(), 200);
    assert_eq!(bot.connector.count(), 0);
}

#[tokio::test]
async fn card_actions_are_answered_with_a_card_in_the_invoke_response() {
    let bot = TestBot::start().await;
    let mut invoke = bot.message("invoke-1", "");
    invoke["type"] = json!("invoke");
    invoke["name"] = json!("adaptiveCard/action");
    invoke["value"] = json!({"action": {"type": "Action.Execute", "verb": "journey.refresh", "data": {}}, "trigger": "manual"});
    let r = bot.post(Some(&bot.token()), &invoke).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["statusCode"], 200);
    assert_eq!(body["type"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(body["value"]["type"], "AdaptiveCard");
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let bot = TestBot::start().await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/healthz", bot.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let ready: Value = client
        .get(format!("{}/readyz", bot.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({"store": "ok", "signing_keys": "loaded"}));
    assert_eq!(
        bot.post(None, &bot.message("m-metrics", "x"))
            .await
            .status(),
        401
    );
    let metrics = client
        .get(format!("{}/metrics", bot.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("passkey_pilot_auth_rejections_total{reason=\"missing_authorization\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("passkey_pilot_http_requests_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("passkey_pilot_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert_eq!(
        client
            .get(format!("{}/api/messages", bot.url))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let bot = TestBot::start().await;
    bot.connector
        .delay_ms
        .store(700, std::sync::atomic::Ordering::SeqCst);
    let (url, token, msg) = (
        bot.url.clone(),
        bot.token(),
        bot.message("inflight-1", "hi"),
    );
    let request = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{url}/api/messages"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(msg.to_string())
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, connector, _, _) = bot.stop().await;
    assert_eq!(
        request.await.unwrap().unwrap(),
        200,
        "the in-flight request was cut off"
    );
    assert_eq!(connector.count(), 1);
}

#[tokio::test]
async fn shutdown_does_not_wait_beyond_the_grace_period() {
    let identity = Identity::default();
    let connector = ConnectorFake::default();
    let identity_addr = identity.start().await;
    let connector_addr = connector.start().await;
    let mut config = test_config(identity_addr, "memory://");
    config.server.shutdown_grace_secs = 1;
    let bot = TestBot::launch(
        identity,
        connector,
        format!("http://{connector_addr}/amer/"),
        config,
    )
    .await;
    bot.connector
        .delay_ms
        .store(8_000, std::sync::atomic::Ordering::SeqCst);
    let (url, token, msg) = (bot.url.clone(), bot.token(), bot.message("stuck-1", "hi"));
    tokio::spawn(async move {
        let _ = reqwest::Client::new()
            .post(format!("{url}/api/messages"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(msg.to_string())
            .send()
            .await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    bot.stop().await;
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(4),
        "shutdown took {took:?} with a 1 s grace period"
    );
}

#[tokio::test]
async fn a_slow_connector_does_not_hold_the_answer_to_teams_past_the_budget() {
    let bot = TestBot::start().await;
    bot.connector
        .delay_ms
        .store(9_500, std::sync::atomic::Ordering::SeqCst);
    let started = std::time::Instant::now();
    let r = bot
        .post(Some(&bot.token()), &bot.message("slow-1", "hi"))
        .await;
    let took = started.elapsed();
    assert_eq!(r.status(), 200);
    assert!(
        took < std::time::Duration::from_millis(9_400),
        "answered after {took:?}"
    );
    // The reply still arrives once the connector answers.
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    assert_eq!(bot.connector.count(), 1);
}

#[tokio::test]
async fn anonymous_mode_accepts_tokenless_activities_and_still_checks_tokens_that_are_sent() {
    let identity = Identity::default();
    let connector = ConnectorFake::default();
    let identity_addr = identity.start().await;
    let connector_addr = connector.start().await;
    let mut config = test_config(identity_addr, "memory://");
    config.dev.allow_anonymous = true;
    config.bot.app_id = String::new();
    config.bot.app_password = passkey_pilot::config::Secret::default();
    let bot = TestBot::launch(
        identity,
        connector,
        format!("http://{connector_addr}/amer/"),
        config,
    )
    .await;
    let r = bot.post(None, &bot.message("anon-1", "hi")).await;
    assert_eq!(r.status(), 200);
    let sent = bot.connector.all();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].authorization, None,
        "no credentials: no Authorization header"
    );
    // A token that is sent is still checked (and none can be valid without an app id).
    assert_eq!(
        bot.post(Some("garbage"), &bot.message("anon-2", "hi"))
            .await
            .status(),
        401
    );
    // The tenant is still checked.
    let mut other = bot.message("anon-3", "hi");
    other["channelData"]["tenant"]["id"] = json!(OTHER_TENANT);
    other["conversation"]["tenantId"] = json!(OTHER_TENANT);
    assert_eq!(bot.post(None, &other).await.status(), 403);
    assert_eq!(bot.connector.count(), 1);
}
