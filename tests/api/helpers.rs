//! A test harness: a fake Entra/Bot Framework identity provider (OpenID metadata, JWKS,
//! token endpoint), a fake Bot Connector that records what the bot sends, a token minter
//! with test-only keys, and the real service on a random port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use passkey_pilot::app::Application;
use passkey_pilot::config::{self, Config};
use passkey_pilot::store::Store;
use serde_json::{Value, json};

pub const APP_ID: &str = "00000000-0000-4000-8000-00000000b07a";
pub const TENANT: &str = "5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11";
pub const OTHER_TENANT: &str = "9b1e7c55-0000-4000-8000-0000000000ee";
pub const USER_OID: &str = "7faf8ab2-1111-4000-8000-000000000001";
pub const CHANNEL_KID: &str = "channel-key";
/// Same key material as the channel key, endorsed only for another channel.
pub const SKYPE_ONLY_KID: &str = "skype-only-key";
/// Same key material again, with no endorsements at all.
pub const BARE_KID: &str = "bare-key";
pub const ATTACKER_KID: &str = "attacker-key";

pub const CHANNEL_PEM: &[u8] = include_bytes!("../fixtures/keys/channel.pem");
pub const ATTACKER_PEM: &[u8] = include_bytes!("../fixtures/keys/attacker.pem");
const CHANNEL_JWK: &str = include_str!("../fixtures/keys/channel.jwk.json");

/// Serves a router on 127.0.0.1:0 and returns its address.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// The fake identity provider: metadata, JWKS, client-credentials tokens; counts fetches.
#[derive(Clone, Default)]
pub struct Identity {
    pub metadata_fetches: Arc<AtomicUsize>,
    pub jwks_fetches: Arc<AtomicUsize>,
    pub tokens_issued: Arc<AtomicUsize>,
}

impl Identity {
    pub async fn start(&self) -> SocketAddr {
        let jwk: Value = serde_json::from_str(CHANNEL_JWK).unwrap();
        let key = |kid: &str, endorsements: Option<Vec<&str>>| {
            let mut k =
                json!({"kty": "RSA", "use": "sig", "kid": kid, "n": jwk["n"], "e": jwk["e"]});
            if let Some(e) = endorsements {
                k["endorsements"] = json!(e);
            }
            k
        };
        let jwks = json!({"keys": [
            key(CHANNEL_KID, Some(vec!["msteams", "webchat"])),
            key(SKYPE_ONLY_KID, Some(vec!["skype"])),
            key(BARE_KID, None),
        ]});
        let me = self.clone();
        let addr_cell: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let cell = addr_cell.clone();
        let router = Router::new()
            .route(
                "/v1/.well-known/openidconfiguration",
                get({
                    let me = me.clone();
                    move || async move {
                        me.metadata_fetches.fetch_add(1, Ordering::SeqCst);
                        let addr = cell.lock().unwrap().unwrap();
                        Json(json!({
                            "issuer": "https://api.botframework.com",
                            "jwks_uri": format!("http://{addr}/v1/.well-known/keys"),
                            "id_token_signing_alg_values_supported": ["RS256"],
                        }))
                    }
                }),
            )
            .route(
                "/v1/.well-known/keys",
                get({
                    let me = me.clone();
                    move || async move {
                        me.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                        Json(jwks)
                    }
                }),
            )
            .route(
                "/botframework.com/oauth2/v2.0/token",
                post(move || async move {
                    me.tokens_issued.fetch_add(1, Ordering::SeqCst);
                    Json(json!({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": "outbound-test-token"}))
                }),
            );
        let addr = serve(router).await;
        *addr_cell.lock().unwrap() = Some(addr);
        addr
    }
}

/// One request the bot made to the fake connector.
#[derive(Debug, Clone)]
pub struct Sent {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// The fake Bot Connector; records every request.
#[derive(Clone, Default)]
pub struct ConnectorFake {
    pub sent: Arc<Mutex<Vec<Sent>>>,
    /// Milliseconds the fake waits before answering (a slow Bot Connector).
    pub delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl ConnectorFake {
    pub async fn start(&self) -> SocketAddr {
        let sent = self.sent.clone();
        let delay = self.delay_ms.clone();
        let record = move |path: String, headers: http::HeaderMap, body: Value| {
            sent.lock().unwrap().push(Sent {
                path,
                authorization: headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                body,
            });
            let n = sent.lock().unwrap().len();
            Json(json!({"id": format!("sent-{n}")}))
        };
        let r1 = record.clone();
        let router = Router::new()
            .route(
                "/amer/v3/conversations/{conversation}/activities",
                post({
                    let delay = delay.clone();
                    move |Path(c): Path<String>,
                          headers: http::HeaderMap,
                          Json(body): Json<Value>| async move {
                        pause(&delay).await;
                        r1(
                            format!("/amer/v3/conversations/{c}/activities"),
                            headers,
                            body,
                        )
                    }
                }),
            )
            .route(
                "/amer/v3/conversations/{conversation}/activities/{id}",
                post(
                    move |Path((c, id)): Path<(String, String)>,
                          headers: http::HeaderMap,
                          Json(body): Json<Value>| async move {
                        pause(&delay).await;
                        record(
                            format!("/amer/v3/conversations/{c}/activities/{id}"),
                            headers,
                            body,
                        )
                    },
                ),
            );
        serve(router).await
    }

    pub fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }

    pub fn all(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }
}

async fn pause(delay: &std::sync::atomic::AtomicU64) {
    let ms = delay.load(Ordering::SeqCst);
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// The real service, started on 127.0.0.1:0 against the fakes.
pub struct TestBot {
    pub url: String,
    pub service_url: String,
    pub identity: Identity,
    pub connector: ConnectorFake,
    pub store: Arc<dyn Store>,
    pub config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A config pointing at the fakes; `store_url` picks the store.
pub fn test_config(identity: SocketAddr, store_url: &str) -> Config {
    let env = vec![
        ("PASSKEY_PILOT__SERVER__BIND", "127.0.0.1:0".to_owned()),
        ("PASSKEY_PILOT__BOT__APP_ID", APP_ID.to_owned()),
        (
            "PASSKEY_PILOT__BOT__APP_PASSWORD",
            "test-only-secret".to_owned(),
        ),
        ("PASSKEY_PILOT__BOT__TENANT_ID", TENANT.to_owned()),
        (
            "PASSKEY_PILOT__BOT__OPENID_METADATA_URL",
            format!("http://{identity}/v1/.well-known/openidconfiguration"),
        ),
        (
            "PASSKEY_PILOT__BOT__TOKEN_URL",
            format!("http://{identity}/botframework.com/oauth2/v2.0/token"),
        ),
        (
            "PASSKEY_PILOT__BOT__ALLOW_HTTP_SERVICE_URL",
            "true".to_owned(),
        ),
        ("PASSKEY_PILOT__STORE__URL", store_url.to_owned()),
        ("PASSKEY_PILOT__LOG__LEVEL", "warn".to_owned()),
    ];
    config::load_from(None, env.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .unwrap()
        .0
}

impl TestBot {
    /// Starts the fakes and the bot with an in-memory store.
    pub async fn start() -> TestBot {
        Self::start_with_store_url("memory://").await
    }

    pub async fn start_with_store_url(store_url: &str) -> TestBot {
        let identity = Identity::default();
        let connector = ConnectorFake::default();
        let identity_addr = identity.start().await;
        let connector_addr = connector.start().await;
        let config = test_config(identity_addr, store_url);
        Self::launch(
            identity,
            connector,
            format!("http://{connector_addr}/amer/"),
            config,
        )
        .await
    }

    /// Starts a bot on `config` against already running fakes (restarts).
    pub async fn launch(
        identity: Identity,
        connector: ConnectorFake,
        service_url: String,
        config: Config,
    ) -> TestBot {
        let store = passkey_pilot::store::open(&config.store.url).await.unwrap();
        let app = Application::build_with_store(config.clone(), store.clone())
            .await
            .unwrap();
        let url = format!("http://{}", app.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            app.run_until(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let bot = TestBot {
            url,
            service_url,
            identity,
            connector,
            store,
            config,
            stop: Some(tx),
            task: Some(task),
        };
        bot.wait_ready().await;
        bot
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/readyz", self.url)).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the bot did not become ready");
    }

    /// Stops the service (graceful) and waits for it.
    pub async fn stop(mut self) -> (Identity, ConnectorFake, String, Config) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        (
            self.identity.clone(),
            self.connector.clone(),
            self.service_url.clone(),
            self.config.clone(),
        )
    }

    /// A valid channel token for this bot and its service URL.
    pub fn token(&self) -> String {
        mint(&claims(&self.service_url), CHANNEL_KID, CHANNEL_PEM)
    }

    /// A 1:1 message activity from the test user.
    pub fn message(&self, id: &str, text: &str) -> Value {
        json!({
            "type": "message", "id": id, "text": text, "textFormat": "plain",
            "timestamp": "2026-11-25T10:00:00.000Z", "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": "29:1test-user", "name": "Megan Bowen", "aadObjectId": USER_OID},
            "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": "a:1test-conversation"},
            "recipient": {"id": format!("28:{APP_ID}"), "name": "Passkey Pilot"},
            "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "Europe/Berlin"}],
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US"
        })
    }

    pub async fn post(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = reqwest::Client::new()
            .post(format!("{}/api/messages", self.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        req.send().await.unwrap()
    }
}

/// The claims Teams puts in a channel token.
pub fn claims(service_url: &str) -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 5,
        "exp": now + 3600,
    })
}

/// Signs `claims` with RS256 and the given `kid` and key.
pub fn mint(claims: &Value, kid: &str, pem: &[u8]) -> String {
    mint_alg(claims, kid, pem, Algorithm::RS256)
}

pub fn mint_alg(claims: &Value, kid: &str, pem: &[u8], alg: Algorithm) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
}

/// An app-only Microsoft Graph token from the simulator for a registered Graph app.
pub async fn graph_token(
    http: &reqwest::Client,
    sim: &passkey_pilot::sim::server::Simulator,
    app: &str,
    secret: &str,
) -> String {
    let token: Value = http
        .post(sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"]
        .as_str()
        .expect("the simulator issues a Graph token")
        .to_owned()
}
