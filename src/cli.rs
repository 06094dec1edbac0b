//! The command line: `demo`, `sim`, `serve`, `assess`, `check-config`, `migrate`, `manifest`,
//! `--version`.
//!
//! Exit status: 0 success, 1 failure at run time, 2 unusable configuration or arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, ConfigError};

#[derive(Debug, Parser)]
#[command(
    name = "passkey-pilot",
    version,
    about = "Moves every employee to Entra ID passkeys, from a Teams chat"
)]
pub struct Cli {
    /// Configuration file (TOML) layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the bot against a simulated tenant and serve a chat page to try it (prints its URL).
    Demo {
        /// How many people the simulated tenant has.
        #[arg(long, default_value_t = 2_000)]
        users: usize,
        /// Seed of the simulated tenant (the same seed gives the same people).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run the simulated tenant alone and print the settings that point the bot at it.
    Sim {
        /// How many people the simulated tenant has.
        #[arg(long, default_value_t = 2_000)]
        users: usize,
        /// Seed of the simulated tenant (the same seed gives the same people).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where the simulator listens (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: std::net::SocketAddr,
        /// Multiplies Graph's throttling limits (for benchmarks).
        #[arg(long, default_value_t = 1.0)]
        graph_throttle_scale: f64,
        /// Also write the settings to this file (`set -a; . FILE` loads them).
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
    },
    /// Write the journey's main cards, with a sample person, as JSON files for review (open them
    /// in the Adaptive Cards Designer).
    Cards {
        /// The folder to write `NN-screen.json` into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The language of the cards: en or de.
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Run the bot's HTTP service (applies pending migrations first).
    Serve,
    /// Readiness from Microsoft Graph: one person's devices and verdicts, or the tenant-wide
    /// report.
    Assess {
        /// One person, by user principal name (or object id).
        #[arg(
            long,
            value_name = "UPN",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        user: Option<String>,
        /// Everyone, from bulk reads only.
        #[arg(long)]
        all: bool,
        /// Print JSON instead of a table (`--user`) or CSV (`--all` without `--out`).
        #[arg(long)]
        json: bool,
        /// Write the tenant-wide report here; `.csv` or `.json` by the extension.
        #[arg(long, value_name = "FILE", requires = "all")]
        out: Option<PathBuf>,
        /// How many time slices of the sign-in log `--all` reads at once (enough to keep the
        /// reports budget busy; many more bunch requests and provoke the odd 429).
        #[arg(long, default_value_t = 16, requires = "all")]
        slices: usize,
    },
    /// Print the effective configuration with secrets redacted, or why it is unusable.
    CheckConfig,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Build the Teams app package (manifest.json and icons) from the configuration.
    Manifest {
        /// Where to write the .zip package.
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::load(cli.config.as_deref()) {
        Ok((config, _)) => config,
        Err(e) => return config_failure(&e),
    };
    match cli.command {
        Command::CheckConfig => {
            print!("{}", config.to_redacted_toml());
            ExitCode::SUCCESS
        }
        Command::Manifest { out } => match crate::manifest::build_package(&config, &out) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("passkey-pilot: {e}");
                ExitCode::from(2)
            }
        },
        Command::Migrate => run(config, |config| async move {
            let applied = crate::store::migrate(&config.store.url).await?;
            println!(
                "{applied} migrations applied to {}",
                redact_url(&config.store.url)
            );
            Ok(())
        }),
        Command::Demo { users, seed } => {
            let mut config = config;
            if std::env::var_os(format!("{}LOG__LEVEL", config::ENV_PREFIX)).is_none() {
                config.log.level = "warn".to_owned();
            }
            let options = crate::demo::DemoOptions {
                users,
                seed,
                ..Default::default()
            };
            run(config, |_| crate::demo::run(options))
        }
        Command::Sim {
            users,
            seed,
            bind,
            graph_throttle_scale,
            env_file,
        } => {
            if !(graph_throttle_scale.is_finite() && graph_throttle_scale > 0.0) {
                eprintln!("passkey-pilot: --graph-throttle-scale must be a positive number");
                return ExitCode::from(2);
            }
            let mut config = config;
            if std::env::var_os(format!("{}LOG__LEVEL", config::ENV_PREFIX)).is_none() {
                config.log.level = "warn".to_owned();
            }
            let options = crate::sim::standalone::StandaloneOptions {
                users,
                seed,
                bind,
                graph_throttle_scale,
                env_file,
            };
            run(config, |_| crate::sim::standalone::run(options))
        }
        Command::Cards { out, lang } => {
            if !matches!(lang.as_str(), "en" | "de") {
                eprintln!("passkey-pilot: --lang must be en or de");
                return ExitCode::from(2);
            }
            match write_sample_cards(&out, &lang) {
                Ok(n) => {
                    println!("{n} cards written to {}", out.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("passkey-pilot: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Assess {
            user,
            all: _,
            json,
            out,
            slices,
        } => {
            if let Some(path) = &out
                && let Err(e) = crate::assess::OutputFormat::for_path(path)
            {
                eprintln!("passkey-pilot: {e}");
                return ExitCode::from(2);
            }
            let mut config = config;
            if std::env::var_os(format!("{}LOG__LEVEL", config::ENV_PREFIX)).is_none() {
                config.log.level = "warn".to_owned();
            }
            assess(config, user, json, out, slices)
        }
        Command::Serve => run(config, |config| async move {
            let app = crate::app::Application::build(config).await?;
            tracing::info!(address = %app.local_addr(), "passkey-pilot listening");
            app.run_until(crate::app::shutdown_signal()).await?;
            Ok(())
        }),
    }
}

/// Writes the sample journey's cards; returns how many.
fn write_sample_cards(out: &std::path::Path, lang: &str) -> anyhow::Result<usize> {
    let samples = crate::cards::samples::journey(lang)?;
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    for s in &samples {
        let path = out.join(format!("{}.json", s.name));
        let text = serde_json::to_string_pretty(&s.card)?;
        std::fs::write(&path, text + "\n")
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(samples.len())
}

/// `assess`: exit 0 when done, 2 for unusable configuration or arguments, 1 for Graph errors.
fn assess(
    config: Config,
    user: Option<String>,
    json: bool,
    out: Option<PathBuf>,
    slices: usize,
) -> ExitCode {
    use crate::assess::{AssessError, Settings};
    crate::telemetry::init_logging(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("passkey-pilot: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), AssessError> = runtime.block_on(async {
        let graph = crate::graph::GraphClient::from_config(&config.graph, reqwest::Client::new())?;
        let settings = Settings::from_config(&config, jiff::Timestamp::now());
        match user {
            Some(upn) => {
                let person = crate::assess::assess_person(&graph, &settings, &upn).await?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&person.assessment)
                            .expect("an assessment serialises")
                    );
                } else {
                    print!(
                        "{}",
                        crate::assess::render_person(&person.assessment, person.enforced)
                    );
                }
            }
            None => {
                let progress = progress_bar();
                let (report, mut summary) =
                    crate::assess::assess_all(&graph, &settings, slices, &progress).await?;
                progress.set_message("writing");
                let written = match &out {
                    Some(path) => crate::assess::write_report(&report, path),
                    None => crate::assess::print_report(&report, json),
                };
                progress.finish_and_clear();
                written?;
                summary.wall = summary.wall.max(progress.elapsed());
                eprintln!("{summary}");
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("passkey-pilot: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn config_failure(e: &ConfigError) -> ExitCode {
    eprintln!("passkey-pilot: configuration error: {e}");
    ExitCode::from(2)
}

fn run<F, Fut>(config: Config, f: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    crate::telemetry::init_logging(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("passkey-pilot: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(f(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "passkey-pilot stopped");
            eprintln!("passkey-pilot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("[redacted]"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
