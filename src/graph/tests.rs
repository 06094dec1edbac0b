//! The client against a small fake Graph, for what the simulator does not do: Graph's real
//! 403 bodies, a 503 inside a `$batch`, a refused token, Teams installations and the passkey
//! policy. (The simulator-backed tests are in tests/api/graph_client.rs.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::botframework::token::{AccessToken, TokenError, TokenSource};
use crate::config::Config;

/// Hands out `token-N`, N counting invalidations.
#[derive(Default)]
struct Tokens {
    invalidations: AtomicUsize,
}

#[async_trait]
impl TokenSource for Tokens {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        let n = self.invalidations.load(Ordering::SeqCst);
        Ok(AccessToken::new(format!("token-{n}"), Timestamp::MAX))
    }
    async fn invalidate(&self) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the fake saw.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<String>>,
    batch_rounds: AtomicUsize,
    installs: AtomicUsize,
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message,
            "innerError": {"request-id": "r", "date": "2026-09-14T06:12:41", "client-request-id": "c"}}})),
    )
        .into_response()
}

async fn fake(State(seen): State<Arc<Seen>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let auth = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let method = request.method().clone();
    seen.requests
        .lock()
        .unwrap()
        .push(format!("{method} {path}?{query} [{auth}]"));
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    match path.as_str() {
        // Graph's real 403 bodies (reference/graph.md; microsoft-graph-explorer-v4#2731).
        "/beta/auditLogs/signIns" => graph_error(
            StatusCode::FORBIDDEN,
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        ),
        "/v1.0/devices" => graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        // The first token is refused.
        "/v1.0/users/expired" if auth == "Bearer token-0" => graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        ),
        "/v1.0/users/expired" => Json(json!({"id": "expired"})).into_response(),
        // Graph's warning that 120 % of a quota is used.
        "/v1.0/users/hot" => (
            [("x-ms-throttle-limit-percentage", "1.2")],
            Json(json!({"id": "hot"})),
        )
            .into_response(),
        p if p.starts_with("/v1.0/users/cool") => Json(json!({"id": "cool"})).into_response(),
        "/v1.0/$batch" => {
            let round = seen.batch_rounds.fetch_add(1, Ordering::SeqCst);
            let requests: Value = serde_json::from_slice(&body).unwrap();
            let responses: Vec<Value> = requests["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let id = r["id"].as_str().unwrap();
                    match (id, round) {
                        ("b", 0) => json!({"id": id, "status": 503, "headers": {"Retry-After": "0"},
                            "body": {"error": {"code": "serviceNotAvailable", "message": "busy"}}}),
                        ("c", 0) => json!({"id": id, "status": 424, "headers": {},
                            "body": {"error": {"code": "FailedDependency", "message": "dependency failed"}}}),
                        ("d", _) => json!({"id": id, "status": 404, "headers": {},
                            "body": {"error": {"code": "Request_ResourceNotFound", "message": "no such user"}}}),
                        _ => json!({"id": id, "status": 200, "headers": {"Content-Type": "application/json"},
                            "body": {"id": id, "round": round}}),
                    }
                })
                .collect();
            Json(json!({"responses": responses})).into_response()
        }
        "/v1.0/users/u1/teamwork/installedApps" if method == axum::http::Method::POST => {
            if seen.installs.fetch_add(1, Ordering::SeqCst) == 0 {
                StatusCode::CREATED.into_response()
            } else {
                graph_error(StatusCode::CONFLICT, "Conflict", "App is already installed.")
            }
        }
        "/v1.0/users/u1/teamwork/installedApps" => Json(json!({"value": [
            {"id": "inst-1", "teamsApp": {"id": "cat-1", "externalId": "manifest-1", "displayName": "Passkey Pilot"}}
        ]}))
        .into_response(),
        "/v1.0/users/u1/teamwork/installedApps/inst-1/chat" => {
            Json(json!({"id": "19:u1_cat-1@unq.gbl.spaces", "chatType": "oneOnOne"})).into_response()
        }
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2" => {
            if query.contains("expand") {
                graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "Could not find a property named 'passkeyProfiles'.",
                )
            } else {
                Json(json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                    "id": "Fido2", "state": "enabled",
                    "passkeyProfiles": [{"id": "p1", "passkeyTypes": "deviceBound"}]}))
                .into_response()
            }
        }
        _ => graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound", "nothing here"),
    }
}

async fn client() -> (GraphClient, Arc<Seen>, Arc<Tokens>) {
    client_with(|_| {}).await
}

async fn client_with(
    tweak: impl FnOnce(&mut crate::config::GraphConfig),
) -> (GraphClient, Arc<Seen>, Arc<Tokens>) {
    let seen = Arc::new(Seen::default());
    let app = axum::Router::new().fallback(fake).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = Config::defaults().graph;
    config.base_url = format!("http://{addr}");
    tweak(&mut config);
    let tokens = Arc::new(Tokens::default());
    let retry = RetryPolicy {
        max_attempts: 4,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
    };
    let client = GraphClient::new(&config, reqwest::Client::new(), tokens.clone(), retry).unwrap();
    (client, seen, tokens)
}

#[tokio::test]
async fn a_403_names_the_missing_permission_from_graphs_message_or_the_endpoint() {
    let (client, _, _) = client().await;
    let mut pages = client.sign_ins(&SignInQuery::since(Timestamp::now()));
    let err = futures::StreamExt::next(&mut pages)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        err.missing_permission(),
        Some("AuditLog.Read.All"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("grant the app the Microsoft Graph application permission AuditLog.Read.All"),
        "{err}"
    );
    // "Insufficient privileges" names nothing: the endpoint's least permission is named.
    let mut pages = client.devices();
    let err = futures::StreamExt::next(&mut pages)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Forbidden { code: Some(c), permission: Some(p), .. }
            if c == "Authorization_RequestDenied" && p == "Device.Read.All"),
        "{err:?}"
    );
    assert_eq!(client.counters().retries, 0, "a 403 is not retried");
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_request_repeated() {
    let (client, seen, tokens) = client().await;
    let user = client.user("expired").await.unwrap();
    assert_eq!(user.id, "expired");
    assert_eq!(tokens.invalidations.load(Ordering::SeqCst), 1);
    let requests = seen.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[1].ends_with("[Bearer token-1]"), "{requests:?}");
}

#[tokio::test]
async fn a_503_inside_a_batch_is_retried_with_its_dependents_only() {
    let (client, seen, _) = client().await;
    let mut c = BatchRequest::get("c", "/users/c");
    c.depends_on = vec!["b".into()];
    let answers = client
        .batch(
            ApiVersion::V1,
            vec![
                BatchRequest::get("a", "/users/a"),
                BatchRequest::get("b", "/users/b"),
                c,
                BatchRequest::get("d", "/users/d"),
            ],
        )
        .await
        .unwrap();
    let ids: Vec<&str> = answers.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d"]);
    let round = |i: usize| answers[i].json::<Value>().unwrap()["round"].clone();
    assert_eq!(round(0), 0);
    assert_eq!(round(1), 1, "b was sent again");
    assert_eq!(round(2), 1, "c followed b");
    assert!(matches!(
        answers[3].result,
        Err(GraphError::NotFound { .. })
    ));
    assert_eq!(seen.batch_rounds.load(Ordering::SeqCst), 2);
    let counters = client.counters();
    assert_eq!((counters.batches, counters.batch_items), (2, 6));
    assert_eq!((counters.retries, counters.server_errors), (2, 1));
}

#[tokio::test]
async fn the_bot_is_installed_once_and_its_chat_found() {
    let (client, _, _) = client().await;
    assert_eq!(
        client.install_app_for_user("u1", "cat-1").await.unwrap(),
        InstallOutcome::Installed
    );
    assert_eq!(
        client.install_app_for_user("u1", "cat-1").await.unwrap(),
        InstallOutcome::AlreadyInstalled
    );
    let apps = client.installed_apps("u1", Some("cat-1")).await.unwrap();
    assert_eq!(apps[0].teams_app.as_ref().unwrap().id, "cat-1");
    let chat = client.installed_app_chat("u1", &apps[0].id).await.unwrap();
    assert_eq!(chat.id, "19:u1_cat-1@unq.gbl.spaces");
}

#[tokio::test]
async fn the_passkey_policy_is_read_without_expand_when_graph_refuses_it_and_cached() {
    let (client, seen, _) = client().await;
    let policy = client.fido2_policy().await.unwrap();
    assert_eq!(
        policy.passkey_profiles[0].types(),
        [models::PasskeyType::DeviceBound]
    );
    let again = client.fido2_policy().await.unwrap();
    assert!(Arc::ptr_eq(&policy, &again));
    assert_eq!(seen.requests.lock().unwrap().len(), 2);
    assert_eq!(client.counters().cache_hits, 1);
}

#[tokio::test]
async fn a_nearly_used_quota_header_slows_the_next_request_down() {
    // 10 resource units per 10 s: a burst of 9, then 0.9 per second.
    let (client, _, _) = client_with(|c| c.directory_units_per_10s = 10).await;
    let quick = std::time::Instant::now();
    client.user("cool-1").await.unwrap();
    client.user("cool-2").await.unwrap();
    assert!(
        quick.elapsed() < Duration::from_millis(500),
        "{:?}",
        quick.elapsed()
    );
    client.user("hot").await.unwrap();
    let slowed = std::time::Instant::now();
    client.user("cool-3").await.unwrap();
    assert!(
        slowed.elapsed() >= Duration::from_millis(900),
        "{:?}",
        slowed.elapsed()
    );
}

#[test]
fn the_configured_token_source_names_what_is_missing() {
    let mut config = Config::defaults().graph;
    let err = token_source(&config, reqwest::Client::new()).err().unwrap();
    assert!(err.to_string().contains("graph.tenant_id"), "{err}");
    config.token_url = "https://login.microsoftonline.com/t/oauth2/v2.0/token".into();
    config.client_id = "00000000-0000-4000-8000-00000000c11e".into();
    let err = token_source(&config, reqwest::Client::new()).err().unwrap();
    assert!(err.to_string().contains("graph.client_secret"), "{err}");
    let err = GraphClient::from_config(&config, reqwest::Client::new()).unwrap_err();
    assert!(matches!(err, GraphError::Config { .. }), "{err:?}");
    config.client_secret = crate::config::Secret::new("s");
    assert!(GraphClient::from_config(&config, reqwest::Client::new()).is_ok());
    config.auth = crate::config::GraphAuth::ManagedIdentity;
    assert!(token_source(&config, reqwest::Client::new()).is_ok());
}
