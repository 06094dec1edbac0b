//! No request, however malformed or unauthenticated, makes the service answer 5xx or stop.
//! (The official SDK answers 500 to a bad signature and crashes on `{}`.)

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::{Value, json};

use crate::helpers::*;

/// Mutations of a real activity: fields removed, replaced with odd types, or added.
fn mutate(activity: &Value, ops: &[(u8, String, u8)]) -> Value {
    let mut a = activity.clone();
    let keys: Vec<String> = a.as_object().unwrap().keys().cloned().collect();
    for (op, text, pick) in ops {
        let key = &keys[*pick as usize % keys.len()];
        let odd = match op % 8 {
            0 => Value::Null,
            1 => json!(text),
            2 => json!(12345678901234567i64),
            3 => json!([text, {"id": text}]),
            4 => {
                json!({"id": text, "tenantId": text, "aadObjectId": text, "conversationType": "personal"})
            }
            5 => json!(true),
            6 => json!(-1.5e300),
            _ => json!({"tenant": {"id": text}}),
        };
        if op % 3 == 0 {
            a.as_object_mut().unwrap().remove(key);
        } else {
            a[key] = odd;
        }
    }
    a
}

fn arb_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "\\PC{0,300}".prop_map(String::into_bytes),
        Just(b"{}".to_vec()),
        Just(b"null".to_vec()),
        Just(b"{\"type\":null}".to_vec()),
        Just(b"{\"type\":\"message\",\"channelId\":\"msteams\"}".to_vec()),
    ]
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Raw(String),
    Bearer(String),
    /// A valid token with bytes flipped.
    Flipped(Vec<usize>),
    /// A validly signed token whose claims are replaced with arbitrary values.
    SignedClaims(Vec<(String, String)>),
    Valid,
}

fn arb_auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::None),
        "\\PC{0,100}".prop_map(Auth::Raw),
        "[A-Za-z0-9._~+/=-]{0,400}".prop_map(Auth::Bearer),
        proptest::collection::vec(any::<usize>(), 1..4).prop_map(Auth::Flipped),
        proptest::collection::vec(("(iss|aud|exp|nbf|serviceurl|kid|x)", "\\PC{0,40}"), 0..6)
            .prop_map(Auth::SignedClaims),
        Just(Auth::Valid),
    ]
}

#[test]
fn random_requests_never_get_a_5xx_and_never_stop_the_service() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bot = rt.block_on(TestBot::start());
    let client = reqwest::Client::new();
    let valid_activity = bot.message("prop-base", "hello");
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        arb_auth(),
        prop_oneof![
            arb_body().prop_map(Err),
            proptest::collection::vec((any::<u8>(), "\\PC{0,30}", any::<u8>()), 0..5).prop_map(Ok),
        ],
        proptest::option::of("\\PC{0,40}"),
        any::<u32>(),
    );
    runner
        .run(&strategy, |(auth, body, content_type, n)| {
            let body: Vec<u8> = match body {
                Err(raw) => raw,
                Ok(ops) => {
                    let mut a = mutate(&valid_activity, &ops);
                    if a.is_object() {
                        a["id"] = json!(format!("prop-{n}"));
                    }
                    a.to_string().into_bytes()
                }
            };
            let token = bot.token();
            let header = match &auth {
                Auth::None => None,
                Auth::Raw(s) => Some(s.clone()),
                Auth::Bearer(s) => Some(format!("Bearer {s}")),
                Auth::Flipped(positions) => {
                    let mut bytes = token.clone().into_bytes();
                    for p in positions {
                        let i = p % bytes.len();
                        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                    }
                    Some(format!("Bearer {}", String::from_utf8(bytes).unwrap()))
                }
                Auth::SignedClaims(pairs) => {
                    let mut c = claims(&bot.service_url);
                    for (k, v) in pairs {
                        c[k.as_str()] = serde_json::from_str(v).unwrap_or(json!(v));
                    }
                    Some(format!("Bearer {}", mint(&c, CHANNEL_KID, CHANNEL_PEM)))
                }
                Auth::Valid => Some(format!("Bearer {token}")),
            };
            let status = rt.block_on(async {
                let mut req = client
                    .post(format!("{}/api/messages", bot.url))
                    .body(body.clone());
                if let Some(h) = &header
                    && let Ok(v) = http::HeaderValue::from_str(h)
                {
                    req = req.header("authorization", v);
                }
                if let Some(ct) = &content_type
                    && let Ok(v) = http::HeaderValue::from_str(ct)
                {
                    req = req.header("content-type", v);
                }
                req.send().await.expect("the service answers").status()
            });
            prop_assert!(
                !status.is_server_error(),
                "status {status} for auth {auth:?} and body {}",
                String::from_utf8_lossy(&body)
            );
            Ok(())
        })
        .unwrap();
    let health = rt.block_on(async {
        client
            .get(format!("{}/healthz", bot.url))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(health, 200, "the service stopped answering");
}
