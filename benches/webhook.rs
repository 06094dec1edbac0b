//! Webhook benchmark: the real `passkey-pilot serve` binary (SQLite store) receives
//! authenticated Teams message activities with unique ids, for a fixed time at each
//! concurrency, and replies to a local fake Bot Connector. Prints requests/s, p50/p99 latency
//! and the bot's peak RSS.
//!
//!   cargo bench --bench webhook                    # 10 s per run at 1, 16 and 64 connections
//!   cargo bench --bench webhook -- --duration 5 --conns 64
//!
//! The bot runs as its own process; this process is the load generator, the identity
//! provider (OpenID metadata, JWKS, token endpoint) and the fake connector. Teams' outbound
//! rate limits are lifted for the run (one tenant at thousands of replies per second).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const APP_ID: &str = "00000000-0000-4000-8000-00000000b07a";
const TENANT: &str = "5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11";
const USER_OID: &str = "9a3e6c2d-7b41-4e58-8f0c-1d2e3f4a5b6c";
const KID: &str = "bench-key";
const PEM: &[u8] = include_bytes!("../tests/fixtures/keys/channel.pem");
const JWK: &str = include_str!("../tests/fixtures/keys/channel.jwk.json");

struct Args {
    duration: Duration,
    warmup: Duration,
    conns: Vec<usize>,
    bin: String,
}

fn args() -> Args {
    let mut a = Args {
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(3),
        conns: vec![1, 16, 64],
        bin: env!("CARGO_BIN_EXE_passkey-pilot").to_owned(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--duration" => {
                a.duration = Duration::from_secs_f64(it.next().unwrap().parse().unwrap())
            }
            "--warmup" => a.warmup = Duration::from_secs_f64(it.next().unwrap().parse().unwrap()),
            "--conns" => {
                a.conns = it
                    .next()
                    .unwrap()
                    .split(',')
                    .map(|c| c.parse().unwrap())
                    .collect()
            }
            "--bin" => a.bin = it.next().unwrap(),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

/// Identity provider and connector in one server.
async fn start_fakes(replies: Arc<AtomicU64>) -> SocketAddr {
    let jwk: Value = serde_json::from_str(JWK).unwrap();
    let jwks = json!({"keys": [{"kty": "RSA", "use": "sig", "kid": KID, "n": jwk["n"], "e": jwk["e"], "endorsements": ["msteams"]}]});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route(
            "/v1/.well-known/openidconfiguration",
            get(move || async move { Json(json!({"issuer": "https://api.botframework.com", "jwks_uri": format!("http://{addr}/v1/.well-known/keys")})) }),
        )
        .route("/v1/.well-known/keys", get(move || async move { Json(jwks) }))
        .route(
            "/botframework.com/oauth2/v2.0/token",
            post(|| async { Json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": "bench-outbound-token"})) }),
        )
        .route(
            "/amer/v3/conversations/{c}/activities/{id}",
            post(move |body: Bytes| async move {
                let n = replies.fetch_add(1, Ordering::Relaxed);
                let _ = body;
                Json(json!({"id": format!("reply-{n}")}))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn token(service_url: &str) -> String {
    let now = jiff::Timestamp::now().as_second();
    let claims = json!({"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": service_url, "nbf": now - 5, "exp": now + 3600});
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(PEM).unwrap()).unwrap()
}

fn activity(service_url: &str, id: &str, conversation: usize) -> Vec<u8> {
    json!({
        "type": "message", "id": id, "text": format!("bench {id}"), "textFormat": "plain",
        "attachments": [{"contentType": "text/html", "content": format!("<p>bench {id}</p>")}],
        "timestamp": "2026-11-25T10:00:00.000Z", "localTimestamp": "2026-11-25T11:00:00.000+01:00",
        "channelId": "msteams", "serviceUrl": service_url,
        "from": {"id": "29:1Zh2bKWpGx0jUX1nxvC5Ve4hHGq6cYz8BKD7F0xzr9CWfVYKBaQ3kLbrbdtN3PXz8nHC0rY1gRlnk0Q2mBsVtEw", "name": "Bench User", "aadObjectId": USER_OID},
        "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": format!("a:1bench-conversation-{conversation}")},
        "recipient": {"id": format!("28:{APP_ID}"), "name": "Passkey Pilot"},
        "entities": [{"locale": "en-US", "country": "US", "platform": "Web", "timezone": "Europe/Berlin", "type": "clientInfo"}],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US", "localTimezone": "Europe/Berlin"
    })
    .to_string()
    .into_bytes()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct RunResult {
    requests: u64,
    ok: u64,
    non_2xx: u64,
    errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

async fn run_load(
    bot: SocketAddr,
    service_url: &str,
    conns: usize,
    duration: Duration,
    tag: &str,
) -> RunResult {
    let token = Arc::new(format!("Bearer {}", token(service_url)));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let token = token.clone();
        let stop = stop.clone();
        let service_url = service_url.to_owned();
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(100_000);
            let (mut ok, mut non_2xx, mut errors, mut n) = (0u64, 0u64, 0u64, 0u64);
            let stream = tokio::net::TcpStream::connect(bot).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = activity(&service_url, &format!("{tag}-{c}-{n}"), c);
                let req = http::Request::post("/api/messages")
                    .header("host", "127.0.0.1")
                    .header("content-type", "application/json")
                    .header("authorization", token.as_str())
                    .body(Full::new(Bytes::from(body)))
                    .unwrap();
                let t = Instant::now();
                if sender.ready().await.is_err() {
                    errors += 1;
                    break;
                }
                match sender.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = resp.into_body().collect().await;
                        latencies.push(t.elapsed().as_micros() as u32);
                        if status.is_success() {
                            ok += 1
                        } else {
                            non_2xx += 1
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (latencies, ok, non_2xx, errors)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut result = RunResult {
        requests: 0,
        ok: 0,
        non_2xx: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
    };
    for t in tasks {
        let (lat, ok, non, err) = t.await.unwrap();
        result.latencies_us.extend(lat);
        result.ok += ok;
        result.non_2xx += non;
        result.errors += err;
    }
    result.elapsed = started.elapsed();
    result.requests = result.latencies_us.len() as u64;
    result.latencies_us.sort_unstable();
    result
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

struct BotProcess(Child);

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let args = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let replies = Arc::new(AtomicU64::new(0));
        let fakes = start_fakes(replies.clone()).await;
        let service_url = format!("http://{fakes}/amer/");
        let port = free_port();
        let db = tempfile::tempdir().unwrap();
        let child = Command::new(&args.bin)
            .arg("serve")
            .env("PASSKEY_PILOT__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("PASSKEY_PILOT__BOT__APP_ID", APP_ID)
            .env("PASSKEY_PILOT__BOT__APP_PASSWORD", "bench-only-secret")
            .env("PASSKEY_PILOT__BOT__TENANT_ID", TENANT)
            .env("PASSKEY_PILOT__BOT__OPENID_METADATA_URL", format!("http://{fakes}/v1/.well-known/openidconfiguration"))
            .env("PASSKEY_PILOT__BOT__TOKEN_URL", format!("http://{fakes}/botframework.com/oauth2/v2.0/token"))
            .env("PASSKEY_PILOT__BOT__ALLOW_HTTP_SERVICE_URL", "true")
            .env("PASSKEY_PILOT__BOT__TENANT_RPS", "1000000")
            .env("PASSKEY_PILOT__BOT__CONVERSATION_RPS", "1000000")
            .env("PASSKEY_PILOT__STORE__URL", std::env::var("BENCH_STORE_URL").unwrap_or_else(|_| format!("sqlite://{}", db.path().join("bench.db").display())))
            .env("PASSKEY_PILOT__LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the bot binary");
        let pid = child.id();
        let _bot = BotProcess(child);
        let bot: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let client = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..400 {
            if let Ok(r) = client.get(format!("http://{bot}/readyz")).send().await
                && r.status() == 200
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(ready, "the bot did not become ready");
        println!("passkey-pilot webhook benchmark: {} ({} cores), bot pid {pid}, SQLite store", args.bin, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
        println!("idle RSS: {:.1} MiB", proc_status_kib(pid, "VmRSS:") as f64 / 1024.0);
        let _ = run_load(bot, &service_url, 16, args.warmup, "warmup").await;
        println!();
        println!("| conns | req/s | p50 ms | p99 ms | max ms | 2xx | non-2xx | errors | replies at connector | RSS after MiB | peak RSS MiB |");
        println!("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for &c in &args.conns {
            let before = replies.load(Ordering::Relaxed);
            let r = run_load(bot, &service_url, c, args.duration, &format!("c{c}")).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let sent = replies.load(Ordering::Relaxed) - before;
            let rps = r.requests as f64 / r.elapsed.as_secs_f64();
            println!(
                "| {c} | {rps:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {sent} | {:.1} | {:.1} |",
                percentile(&r.latencies_us, 0.50),
                percentile(&r.latencies_us, 0.99),
                percentile(&r.latencies_us, 1.0),
                r.ok,
                r.non_2xx,
                r.errors,
                proc_status_kib(pid, "VmRSS:") as f64 / 1024.0,
                proc_status_kib(pid, "VmHWM:") as f64 / 1024.0,
            );
            println!(
                "BENCH_JSON {}",
                json!({"conns": c, "rps": rps, "p50_ms": percentile(&r.latencies_us, 0.5), "p99_ms": percentile(&r.latencies_us, 0.99),
                       "ok": r.ok, "non_2xx": r.non_2xx, "errors": r.errors, "replies": sent,
                       "peak_rss_mib": proc_status_kib(pid, "VmHWM:") as f64 / 1024.0})
            );
        }
    });
}
