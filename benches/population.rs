//! Population benchmark: generates 100,000 people with a fixed seed three times and prints
//! the median generation time, the population's size and the process's peak RSS (VmHWM).
//!
//!   cargo bench --bench population
//!   cargo bench --bench population -- --users 20000

use std::time::{Duration, Instant};

use passkey_pilot::sim::population::{PersonKind, Population};

const SEED: u64 = 20_260_915;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut users = 100_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--users" {
            users = args.next().and_then(|v| v.parse().ok()).expect("--users N");
        }
    }
    let now: jiff::Timestamp = "2026-09-15T08:00:00Z".parse().expect("valid timestamp");
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        drop(last.take());
        let start = Instant::now();
        let population = Population::generate(users, SEED, now);
        times.push(start.elapsed());
        last = Some(population);
    }
    times.sort();
    let p = last.expect("generated");
    let employees = p
        .people
        .iter()
        .filter(|x| x.kind == PersonKind::Employee)
        .count();
    println!("population: {users} people, seed {SEED}");
    println!(
        "  generation: median {:.3} s (min {:.3} s, max {:.3} s)",
        times[1].as_secs_f64(),
        times[0].as_secs_f64(),
        times[2].as_secs_f64()
    );
    println!(
        "  {} employees, {} devices, {} sign-ins, {} audit events",
        employees,
        p.devices.len(),
        p.sign_ins.len(),
        p.audits.len()
    );
    match peak_rss_kib() {
        Some(kib) => println!("  peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("  peak RSS: unavailable (no /proc/self/status)"),
    }
}
