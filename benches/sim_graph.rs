//! Simulated Graph benchmark: generates 100,000 people, starts the simulator with raised
//! throttling limits and, with a few concurrent clients, pages through `/users`, the
//! registration report and the whole 30-day beta sign-in log (`$top=1000`), and reads 1,000
//! people's methods. Prints requests/s, MB/s and the peak RSS (VmHWM) after generation and
//! after serving, to show the tenant is served from memory without per-request blow-ups.
//!
//!   cargo bench --bench sim_graph
//!   cargo bench --bench sim_graph -- --users 20000 --clients 4

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use passkey_pilot::sim::population::Population;
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use serde::Deserialize;

const SEED: u64 = 20_260_915;
const APP_ID: &str = "00000000-0000-4000-8000-0000000be4c4";
const SECRET: &str = "bench-only-secret";
const METHOD_READS: usize = 1000;

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn print_memory(when: &str) {
    match (proc_status_kib("VmHWM:"), proc_status_kib("VmRSS:")) {
        (Some(peak), Some(now)) => println!(
            "  {when}: peak RSS (VmHWM) {:.1} MiB, RSS {:.1} MiB",
            peak as f64 / 1024.0,
            now as f64 / 1024.0
        ),
        _ => println!("  {when}: RSS unavailable (no /proc/self/status)"),
    }
}

/// What a page says about the next one; the rest is skipped while parsing.
#[derive(Deserialize)]
struct PageLink {
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
}

/// Requests and bytes served, shared by the clients.
#[derive(Default)]
struct Served {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl Served {
    async fn get(&self, http: &reqwest::Client, token: &str, url: &str) -> bytes::Bytes {
        let response = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("the simulator answers");
        let status = response.status();
        let body = response.bytes().await.expect("a body");
        assert!(
            status.is_success(),
            "{url}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        body
    }

    /// Follows `@odata.nextLink` from `first` to the end; returns the number of pages.
    async fn page_all(&self, http: &reqwest::Client, token: &str, first: String) -> u64 {
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next {
            let body = self.get(http, token, &url).await;
            next = serde_json::from_slice::<PageLink>(&body)
                .expect("a Graph page")
                .next;
            pages += 1;
        }
        pages
    }
}

/// Runs one client's work and prints how many requests it made and how long it took.
async fn timed<F: std::future::Future<Output = u64>>(name: &str, f: F) {
    let start = Instant::now();
    let requests = f.await;
    let secs = start.elapsed().as_secs_f64();
    println!("  {name}: {requests} requests in {secs:.2} s");
}

#[tokio::main]
async fn main() {
    let mut users = 100_000;
    let mut clients = 4;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--users" => users = args.next().and_then(|v| v.parse().ok()).expect("--users N"),
            "--clients" => {
                clients = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--clients N")
            }
            _ => {}
        }
    }
    println!("simulated Graph: {users} people, seed {SEED}, {clients} concurrent clients");
    let start = Instant::now();
    let population = Arc::new(Population::generate(users, SEED, jiff::Timestamp::now()));
    println!(
        "  generation: {:.2} s ({} devices, {} sign-ins, {} audit events)",
        start.elapsed().as_secs_f64(),
        population.devices.len(),
        population.sign_ins.len(),
        population.audits.len()
    );
    print_memory("after generation");

    let sim = Simulator::start(SimulatorOptions {
        population: Some(population.clone()),
        graph_throttle_scale: 1_000_000.0,
        ..SimulatorOptions::default()
    })
    .await
    .expect("the simulator starts");
    sim.register_graph_app(
        APP_ID,
        SECRET,
        &[
            "User.Read.All",
            "AuditLog.Read.All",
            "UserAuthenticationMethod.Read.All",
        ],
    );
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("a token")
        .json()
        .await
        .expect("a token body");
    let token = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let base = sim.base_url().to_owned();
    let served = Arc::new(Served::default());

    let started = Instant::now();
    let mut tasks = Vec::new();
    let streams = [
        (
            "users ($top=999)",
            format!(
                "{base}/v1.0/users?$select=id,userPrincipalName,displayName,department,preferredLanguage&$top=999"
            ),
        ),
        (
            "userRegistrationDetails",
            format!("{base}/v1.0/reports/authenticationMethods/userRegistrationDetails"),
        ),
        (
            "beta sign-ins, 30 days ($top=1000)",
            format!("{base}/beta/auditLogs/signIns?$top=1000"),
        ),
    ];
    for (name, first) in streams {
        let (served, http, token) = (served.clone(), http.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            timed(name, served.page_all(&http, &token, first)).await;
        }));
    }
    let step = (population.people.len() / METHOD_READS).max(1);
    let ids: Vec<String> = population
        .people
        .iter()
        .step_by(step)
        .take(METHOD_READS)
        .map(|p| p.id.to_string())
        .collect();
    let ids = Arc::new(ids);
    for c in 0..clients.max(1) {
        let (served, http, token, ids, base) = (
            served.clone(),
            http.clone(),
            token.clone(),
            ids.clone(),
            base.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mine = ids.iter().skip(c).step_by(clients.max(1));
            let name = format!("methods client {c}");
            timed(&name, async {
                let mut n = 0;
                for id in mine {
                    served
                        .get(
                            &http,
                            &token,
                            &format!("{base}/v1.0/users/{id}/authentication/methods"),
                        )
                        .await;
                    n += 1;
                }
                n
            })
            .await;
        }));
    }
    for task in tasks {
        task.await.expect("a client finished");
    }
    let secs = started.elapsed().as_secs_f64();
    let requests = served.requests.load(Ordering::Relaxed);
    let bytes = served.bytes.load(Ordering::Relaxed) as f64;
    println!(
        "  served {requests} requests, {:.1} MB in {secs:.2} s: {:.0} requests/s, {:.1} MB/s",
        bytes / 1e6,
        requests as f64 / secs,
        bytes / 1e6 / secs
    );
    print_memory("after serving");
    sim.stop().await.expect("the simulator stops");
}
