//! `assess --all` against a 100,000-person simulated tenant, both as release binaries in their
//! own processes: `passkey-pilot sim --users N --graph-throttle-scale S`, then
//! `passkey-pilot assess --all --out FILE.csv` with `graph.limit_scale = S`.
//!
//! Prints people, wall time, people/s, Graph calls per person, report-category requests,
//! 429s, the peak RSS and CPU time of both processes, and the ratio of the wall time to the
//! floor the documented throttling limits set for the requests made (the arithmetic shown).
//!
//!   cargo bench --bench assess
//!   cargo bench --bench assess -- --users 100000 --scale 30 --slices 16

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Graph's reports limit: 5 requests per 10 s per app and tenant (reference/graph.md §15).
const REPORTS_PER_10S: f64 = 5.0;
/// Graph's directory read limit: 8,000 resource units per 10 s per app and tenant.
const DIRECTORY_UNITS_PER_10S: f64 = 8000.0;
/// The dearest directory read `assess --all` makes: a group's members with `$select` (3 − 1);
/// users and devices pages with `$select` cost 1. Counting every read at 2 bounds the units.
const MAX_UNITS_PER_DIRECTORY_READ: f64 = 2.0;

struct Args {
    users: usize,
    scale: f64,
    slices: usize,
    bin: String,
}

fn args() -> Args {
    let mut a = Args {
        users: 100_000,
        scale: 30.0,
        slices: 16,
        bin: env!("CARGO_BIN_EXE_passkey-pilot").to_owned(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--users" => a.users = it.next().unwrap().parse().unwrap(),
            "--scale" => a.scale = it.next().unwrap().parse().unwrap(),
            "--slices" => a.slices = it.next().unwrap().parse().unwrap(),
            "--bin" => a.bin = it.next().unwrap(),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU seconds of a live process (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of /proc/PID/stat; `after` starts at field 3.
    (ticks(11) + ticks(12)) / 100.0
}

/// `KEY='value'` lines of the simulator's env file.
fn read_env(path: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            let v = v
                .strip_prefix('\'')?
                .strip_suffix('\'')?
                .replace(r"'\''", "'");
            Some((k.to_owned(), v))
        })
        .collect()
}

/// The number after `label` in the summary `assess` prints.
fn summary_number(summary: &str, label: &str) -> f64 {
    let at = summary
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in the summary:\n{summary}"));
    summary[at + label.len()..]
        .trim_start()
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?}:\n{summary}"))
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("sim.env");
    println!(
        "assess --all: {} simulated people, throttling limits × {} (sim and client), {} sign-in slices",
        a.users, a.scale, a.slices
    );
    let started = Instant::now();
    let sim = Process(
        Command::new(&a.bin)
            .args(["sim", "--users", &a.users.to_string(), "--seed", "20260915"])
            .args(["--graph-throttle-scale", &a.scale.to_string()])
            .arg("--env-file")
            .arg(&env_file)
            .env("PASSKEY_PILOT__LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the simulator binary"),
    );
    let sim_pid = sim.0.id();
    let env = loop {
        let env = read_env(&env_file);
        if env
            .iter()
            .any(|(k, _)| k == "PASSKEY_PILOT__GRAPH__CLIENT_SECRET")
        {
            break env;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the simulator did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    println!(
        "simulator ready after {:.1} s (generation), RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        status_kib(sim_pid, "VmRSS:") as f64 / 1024.0
    );
    let sim_cpu_before = cpu_seconds(sim_pid);

    let out = dir.path().join("readiness.csv");
    let mut assess = Command::new(&a.bin);
    assess
        .args([
            "assess",
            "--all",
            "--slices",
            &a.slices.to_string(),
            "--out",
        ])
        .arg(&out)
        .env("PASSKEY_PILOT__GRAPH__LIMIT_SCALE", a.scale.to_string())
        .env("PASSKEY_PILOT__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in &env {
        if k.starts_with("PASSKEY_PILOT__GRAPH__") {
            assess.env(k, v);
        }
    }
    let t0 = Instant::now();
    let mut child = assess.spawn().expect("start assess");
    let pid = child.id();
    let (mut peak_kib, mut cpu) = (0, 0.0);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        peak_kib = peak_kib.max(status_kib(pid, "VmHWM:"));
        cpu = f64::max(cpu, cpu_seconds(pid));
        std::thread::sleep(Duration::from_millis(100));
    };
    let wall = t0.elapsed().as_secs_f64();
    let mut stderr = String::new();
    use std::io::Read as _;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "assess failed: {status}\n{stderr}");
    let sim_cpu = cpu_seconds(sim_pid) - sim_cpu_before;
    let sim_peak_kib = status_kib(sim_pid, "VmHWM:");
    drop(sim);

    let people = summary_number(&stderr, "people assessed:");
    let wire = summary_number(&stderr, "Graph requests:");
    let reports = summary_number(&stderr, "reports");
    let directory = summary_number(&stderr, "directory reads");
    let throttled = summary_number(&stderr, "429s seen:");
    let rows = csv::Reader::from_path(&out).unwrap().records().count();
    let s = a.scale;
    let report_burst = REPORTS_PER_10S * s;
    let report_rate = REPORTS_PER_10S * s / 10.0;
    let report_floor = (reports - report_burst).max(0.0) / report_rate;
    let units = directory * MAX_UNITS_PER_DIRECTORY_READ;
    let dir_burst = DIRECTORY_UNITS_PER_10S * s;
    let dir_rate = DIRECTORY_UNITS_PER_10S * s / 10.0;
    let dir_floor = (units - dir_burst).max(0.0) / dir_rate;
    let floor = report_floor.max(dir_floor);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!("\n--- assess's own summary (stderr) ---\n{}", stderr.trim());
    println!("\n--- figures ---");
    println!("people: {people} ({rows} CSV rows)");
    println!("wall time: {wall:.1} s (assess process, start to exit)");
    println!("people/s: {:.0}", people / wall);
    println!(
        "Graph calls per person: {:.4} ({wire} HTTP requests / {people} people)",
        wire / people
    );
    println!("report-category requests: {reports}");
    println!("429s seen: {throttled}");
    println!(
        "peak RSS: assess {:.0} MiB, simulator {:.0} MiB",
        peak_kib as f64 / 1024.0,
        sim_peak_kib as f64 / 1024.0
    );
    println!(
        "CPU: assess {cpu:.1} s, simulator {sim_cpu:.1} s over {wall:.1} s on {cores} cores ({:.0} % of the machine)",
        100.0 * (cpu + sim_cpu) / (wall * cores as f64)
    );
    println!("throttling floor:");
    println!(
        "  reports: ({reports} requests − {report_burst} burst) / ({REPORTS_PER_10S} per 10 s × {s}) = {report_floor:.1} s"
    );
    println!(
        "  directory: ({directory} reads × ≤ {MAX_UNITS_PER_DIRECTORY_READ} units − {dir_burst} burst) / ({DIRECTORY_UNITS_PER_10S} per 10 s × {s}) = {dir_floor:.1} s"
    );
    println!("  floor = max = {floor:.1} s");
    if floor > 0.0 {
        println!(
            "ratio wall / floor: {wall:.1} / {floor:.1} = {:.3}",
            wall / floor
        );
    } else {
        println!("ratio wall / floor: the floor is 0 (everything fits in the first burst)");
    }
    assert_eq!(throttled, 0.0, "a 429 reached the client");
}
