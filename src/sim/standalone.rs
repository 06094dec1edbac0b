//! `passkey-pilot sim`: the simulated tenant on its own, for pointing a separately started
//! bot, `assess` or a benchmark at it. It prints the settings (`PASSKEY_PILOT__…` variables)
//! that make the bot use it, and optionally writes them to a file for `set -a; . FILE`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rand::Rng as _;

use super::population::Population;
use super::server::{Simulator, SimulatorOptions};
use crate::config::ENV_PREFIX;

/// The bot's Bot Framework app registration in the standalone simulator.
pub const BOT_APP_ID: &str = "00000000-0000-4000-8000-00000000b07a";
/// The bot's Microsoft Graph app registration in the standalone simulator.
pub const GRAPH_APP_ID: &str = "00000000-0000-4000-8000-00000000c4a9";
/// The application permissions passkey-pilot asks for (reference/graph.md §1), granted to
/// [`GRAPH_APP_ID`].
pub const PRODUCT_GRAPH_ROLES: &[&str] = &[
    "User.Read.All",
    "AuditLog.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "Device.Read.All",
    "GroupMember.ReadWrite.All",
    "Policy.Read.AuthenticationMethod",
    "TeamsAppInstallation.ReadWriteSelfForUser.All",
];

/// How to start the standalone simulator.
#[derive(Debug, Clone)]
pub struct StandaloneOptions {
    pub users: usize,
    pub seed: u64,
    pub bind: SocketAddr,
    /// Multiplies Graph's throttling limits (benchmarks raise them).
    pub graph_throttle_scale: f64,
    /// Also write the settings to this file.
    pub env_file: Option<PathBuf>,
}

/// A running standalone simulator and the settings that point the bot at it.
pub struct Standalone {
    pub sim: Simulator,
    /// `(PASSKEY_PILOT__…, value)` pairs for the bot and its Graph client.
    pub env: Vec<(String, String)>,
}

/// Generates the tenant, starts the simulator and registers the bot's two apps with fresh
/// secrets (valid only against this process).
pub async fn start(options: &StandaloneOptions) -> std::io::Result<Standalone> {
    let population = Arc::new(Population::generate(
        options.users,
        options.seed,
        jiff::Timestamp::now(),
    ));
    let sim = Simulator::start(SimulatorOptions {
        bind: options.bind,
        tenant_id: population.tenant_id.to_string(),
        population: Some(population),
        graph_throttle_scale: options.graph_throttle_scale,
        ..SimulatorOptions::default()
    })
    .await?;
    let bot_secret = fresh_secret();
    let graph_secret = fresh_secret();
    let mut env = sim.bot_env(BOT_APP_ID, &bot_secret);
    sim.register_graph_app(GRAPH_APP_ID, &graph_secret, PRODUCT_GRAPH_ROLES);
    for (key, value) in [
        ("GRAPH__BASE_URL", sim.base_url().to_owned()),
        ("GRAPH__TENANT_ID", sim.tenant_id().to_owned()),
        ("GRAPH__CLIENT_ID", GRAPH_APP_ID.to_owned()),
        ("GRAPH__CLIENT_SECRET", graph_secret),
        ("GRAPH__TOKEN_URL", sim.token_url()),
    ] {
        env.push((format!("{ENV_PREFIX}{key}"), value));
    }
    Ok(Standalone { sim, env })
}

/// Shell lines (`KEY=value`) for the settings; values are quoted for POSIX shells.
pub fn env_lines(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}='{}'\n", v.replace('\'', r"'\''")))
        .collect()
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(options: StandaloneOptions) -> anyhow::Result<()> {
    let standalone = start(&options).await?;
    let lines = env_lines(&standalone.env);
    if let Some(path) = &options.env_file {
        std::fs::write(path, &lines)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    println!(
        "passkey-pilot sim: {} simulated people at {} (Ctrl-C stops)",
        options.users,
        standalone.sim.base_url()
    );
    println!("# settings for the bot and `assess` (secrets are valid only against this process):");
    print!("{lines}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    crate::app::shutdown_signal().await;
    standalone.sim.stop().await?;
    Ok(())
}

fn fresh_secret() -> String {
    let bytes: [u8; 18] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_quote_values_for_the_shell() {
        let lines = env_lines(&[("A".into(), "plain".into()), ("B".into(), "it's".into())]);
        assert_eq!(lines, "A='plain'\nB='it'\\''s'\n");
    }
}
