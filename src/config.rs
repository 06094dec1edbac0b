//! One typed configuration, loaded once and passed down.
//!
//! Layers, later wins: the built-in `config/default.toml` → the `--config` file →
//! environment variables `PASSKEY_PILOT__SECTION__KEY`. The built-in file lists every key,
//! so a key it does not have is unknown wherever it comes from. Every error names the key and
//! where its value came from (file and line, or the environment variable).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;

/// The built-in defaults, compiled into the binary.
pub const DEFAULTS: &str = include_str!("../config/default.toml");
const DEFAULTS_NAME: &str = "built-in config/default.toml";
/// Environment variables with this prefix override keys: `PASSKEY_PILOT__BOT__APP_ID`.
pub const ENV_PREFIX: &str = "PASSKEY_PILOT__";

/// The public Bot Framework channel metadata (inbound tokens).
pub const PUBLIC_OPENID_METADATA_URL: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub bot: BotConfig,
    pub graph: GraphConfig,
    pub store: StoreConfig,
    pub dev: DevConfig,
    pub log: LogConfig,
    pub manifest: ManifestConfig,
    pub readiness: ReadinessConfig,
    pub test_signin: TestSignInConfig,
    pub enforcement: EnforcementConfig,
    pub journey: JourneyConfig,
    pub effects: EffectsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub public_url: String,
    pub shutdown_grace_secs: u64,
    pub request_timeout_secs: u64,
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppType {
    MultiTenant,
    SingleTenant,
    UserAssignedMSI,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    pub app_id: String,
    pub app_password: Secret,
    pub app_type: AppType,
    pub tenant_id: String,
    pub allowed_tenants: Vec<String>,
    pub openid_metadata_url: String,
    pub token_issuer: String,
    pub token_url: String,
    pub token_scope: String,
    pub allow_http_service_url: bool,
    pub service_url_hosts: Vec<String>,
    pub dedupe_ttl_secs: u64,
    pub tenant_rps: u32,
    pub conversation_rps: u32,
    pub max_attempts: u32,
}

/// How the Graph app gets its app-only tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphAuth {
    /// Client credentials with `graph.client_secret`.
    ClientSecret,
    /// An Azure managed identity (user-assigned when `graph.client_id` is set).
    ManagedIdentity,
    /// Workload identity federation (Kubernetes): a federated token file exchanged for a token.
    WorkloadIdentity,
}

/// Microsoft Graph: where it is, how to authenticate, and how fast to read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphConfig {
    pub base_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub token_url: String,
    pub token_scope: String,
    pub auth: GraphAuth,
    pub request_timeout_secs: u64,
    pub max_attempts: u32,
    pub reports_per_10s: u32,
    pub directory_units_per_10s: u32,
    pub directory_write_units_per_150s: u32,
    pub limit_scale: f64,
    pub cache_ttl_secs: u64,
    pub policy_cache_ttl_secs: u64,
    pub cache_capacity: u64,
}

/// National clouds: Graph host → (login host, Graph resource for the token scope).
const GRAPH_CLOUDS: &[(&str, &str)] = &[
    ("graph.microsoft.com", "login.microsoftonline.com"),
    ("graph.microsoft.us", "login.microsoftonline.us"),
    ("dod-graph.microsoft.us", "login.microsoftonline.us"),
    ("microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn"),
];

impl GraphConfig {
    /// The cloud's (Graph host, login host) for `base_url`; the global cloud for any other host
    /// (the simulator, a proxy).
    fn cloud(&self) -> (&'static str, &'static str) {
        let host = url::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        GRAPH_CLOUDS
            .iter()
            .copied()
            .find(|(graph, _)| *graph == host)
            .unwrap_or(GRAPH_CLOUDS[0])
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub url: String,
    pub max_connections: u32,
}

/// Switches for local development and simulation only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevConfig {
    pub allow_anonymous: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// What the Teams app package says about the app (`passkey-pilot manifest`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestConfig {
    pub version: String,
    pub developer_name: String,
    pub website_url: String,
    pub privacy_url: String,
    pub terms_url: String,
    pub accent_color: String,
}

/// The test sign-in app (see `testsignin`). Off while `client_id` is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSignInConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_url: String,
    pub auth_context: String,
    pub tenant_id: String,
    pub authority: String,
    pub scope: String,
    pub link_ttl_secs: u64,
}

impl TestSignInConfig {
    pub fn enabled(&self) -> bool {
        !self.client_id.is_empty()
    }
}

/// Whether `id` names an authentication context (`c1`..`c25`).
pub fn is_auth_context_id(id: &str) -> bool {
    id.strip_prefix('c')
        .filter(|n| !n.starts_with('0'))
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=25).contains(&n))
}

/// Where enforcement puts people, and the kill switch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforcementConfig {
    /// The Entra group (object id) a Conditional Access policy requiring passkeys targets;
    /// empty: nobody can be added (the journey stops at the confirmation).
    pub group_id: String,
    /// The kill switch: while true nobody is added to the group.
    pub paused: bool,
}

/// How the effects outbox is worked off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectsConfig {
    /// Milliseconds between the worker's rounds; 0: no background worker.
    pub worker_interval_ms: u64,
    /// Attempts before an effect is given up (dead).
    pub max_attempts: u32,
}

/// The journey's timings and limits (`conversation::JourneySettings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JourneyConfig {
    pub snooze_days: Vec<u32>,
    pub max_snoozes: u32,
    pub graph_recheck_secs: Vec<u64>,
    pub exclusion_days: u32,
    pub sign_in_log_skew_mins: u32,
    pub log_reuse_mins: u64,
}

impl Config {
    /// The settings the pure journey decides with.
    pub fn journey_settings(&self) -> crate::conversation::JourneySettings {
        let j = &self.journey;
        crate::conversation::JourneySettings {
            enforcement_paused: self.enforcement.paused,
            snooze_days: j.snooze_days.clone(),
            max_snoozes: j.max_snoozes,
            graph_rechecks: j
                .graph_recheck_secs
                .iter()
                .map(|s| jiff::SignedDuration::from_secs(i64::try_from(*s).unwrap_or(i64::MAX)))
                .collect(),
            exclusion: jiff::SignedDuration::from_hours(i64::from(j.exclusion_days) * 24),
            clock_skew: jiff::SignedDuration::from_mins(i64::from(j.sign_in_log_skew_mins)),
            test_link_ttl: jiff::SignedDuration::from_secs(
                i64::try_from(self.test_signin.link_ttl_secs).unwrap_or(i64::MAX),
            ),
        }
    }
}

/// Who the rollout targets and the compatibility rules readiness decides by.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessConfig {
    /// Empty: every member of the tenant.
    pub target_group_id: String,
    pub excluded_group_ids: Vec<String>,
    /// The bot's test sign-in app, whose sign-ins say nothing about a person's devices;
    /// `test_signin.client_id` when unset.
    pub test_app_id: String,
    pub rules: crate::readiness::Rules,
}

impl ReadinessConfig {
    /// The target population as readiness takes it.
    pub fn target(&self) -> crate::readiness::TargetPopulation {
        crate::readiness::TargetPopulation {
            target_group_id: (!self.target_group_id.is_empty())
                .then(|| self.target_group_id.clone()),
            excluded_group_ids: self.excluded_group_ids.clone(),
        }
    }

    /// The rules with the bot's own test app among the ignored apps.
    pub fn effective_rules(&self) -> crate::readiness::Rules {
        let mut rules = self.rules.clone();
        if !self.test_app_id.is_empty() && rules.ignored_app(&self.test_app_id).is_none() {
            rules.ignored_apps.push(crate::readiness::IgnoredApp {
                app_id: self.test_app_id.clone(),
                name: "passkey-pilot test sign-in".into(),
                why: crate::readiness::IgnoredWhy::BotTest,
                certainty: crate::readiness::Certainty::Verified,
            });
        }
        rules
    }
}

/// A secret setting: never printed, never serialized in clear.
#[derive(Clone, Default)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_empty() {
            "\"\""
        } else {
            "[redacted]"
        })
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_empty() { "" } else { "[redacted]" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Defaults { line: usize },
    File { path: PathBuf, line: usize },
    Env { var: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Defaults { line } => write!(f, "{DEFAULTS_NAME} line {line}"),
            Origin::File { path, line } => write!(f, "{} line {line}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
        }
    }
}

/// A configuration that cannot be used. `passkey-pilot` exits with status 2 on it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {origin} is not valid TOML: {message}")]
    Syntax { origin: Origin, message: String },
    #[error("unknown key `{key}` ({origin})")]
    UnknownKey { key: String, origin: Origin },
    #[error("invalid value for `{key}` ({origin}): {message}")]
    Invalid {
        key: String,
        origin: Origin,
        message: String,
    },
}

/// Leaf key (dotted path) → where its value came from.
type Provenance = BTreeMap<String, Origin>;

/// Loads the configuration from the built-in defaults, an optional file and the process
/// environment.
pub fn load(file: Option<&Path>) -> Result<(Config, Sources), ConfigError> {
    load_from(file, std::env::vars())
}

/// As [`load`], with the environment given explicitly (tests).
pub fn load_from(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(Config, Sources), ConfigError> {
    let mut provenance = Provenance::new();
    let mut merged = parse_layer(DEFAULTS, &|line| Origin::Defaults { line }, &mut provenance)?;
    let known: Provenance = provenance.clone();

    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut file_prov = Provenance::new();
        let layer = parse_layer(
            &text,
            &|line| Origin::File {
                path: path.to_owned(),
                line,
            },
            &mut file_prov,
        )?;
        reject_unknown(&file_prov, &known)?;
        overlay(&mut merged, layer);
        provenance.extend(file_prov);
    }

    let mut env_vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    env_vars.sort();
    for (var, raw) in env_vars {
        let key = var[ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(".");
        let origin = Origin::Env { var: var.clone() };
        let Some(default_origin) = known.get(&key) else {
            return Err(ConfigError::UnknownKey { key, origin });
        };
        let _ = default_origin;
        let default_value = lookup(&merged, &key).cloned();
        let value = env_value(&raw, default_value.as_ref());
        set(&mut merged, &key, value);
        provenance.insert(key, origin);
    }

    let config: Config = {
        let de = toml::Value::Table(merged);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let origin = origin_of(&provenance, &key);
            ConfigError::Invalid {
                key,
                origin,
                message: e.into_inner().message().trim().to_owned(),
            }
        })?
    };
    let sources = Sources { provenance };
    let config = config.resolve(&sources)?;
    Ok((config, sources))
}

/// Where each effective setting came from, for error messages and `check-config`.
#[derive(Debug, Clone)]
pub struct Sources {
    provenance: Provenance,
}

impl Sources {
    pub fn origin(&self, key: &str) -> Origin {
        origin_of(&self.provenance, key)
    }
}

fn origin_of(provenance: &Provenance, key: &str) -> Origin {
    let mut k = key;
    loop {
        if let Some(o) = provenance.get(k) {
            return o.clone();
        }
        match k.rfind('.') {
            Some(i) => k = &k[..i],
            None => return Origin::Defaults { line: 1 },
        }
    }
}

fn parse_layer(
    text: &str,
    origin: &dyn Fn(usize) -> Origin,
    provenance: &mut Provenance,
) -> Result<toml::Table, ConfigError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        ConfigError::Syntax {
            origin: origin(line),
            message: e.message().trim().to_owned(),
        }
    })?;
    collect_leaves(text, doc.as_table(), "", origin, provenance);
    toml::from_str::<toml::Table>(text).map_err(|e| ConfigError::Syntax {
        origin: origin(e.span().map(|s| line_of(text, s.start)).unwrap_or(1)),
        message: e.message().trim().to_owned(),
    })
}

fn collect_leaves(
    text: &str,
    table: &toml_edit::Table,
    prefix: &str,
    origin: &dyn Fn(usize) -> Origin,
    provenance: &mut Provenance,
) {
    for (key, item) in table.iter() {
        let path = if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        };
        match item {
            toml_edit::Item::Table(t) => collect_leaves(text, t, &path, origin, provenance),
            _ => {
                let line = table
                    .key(key)
                    .and_then(|k| k.span())
                    .or_else(|| item.span())
                    .map(|s| line_of(text, s.start))
                    .unwrap_or(1);
                provenance.insert(path, origin(line));
            }
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn reject_unknown(layer: &Provenance, known: &Provenance) -> Result<(), ConfigError> {
    for (key, origin) in layer {
        if !known.contains_key(key) {
            return Err(ConfigError::UnknownKey {
                key: key.clone(),
                origin: origin.clone(),
            });
        }
    }
    Ok(())
}

fn overlay(base: &mut toml::Table, layer: toml::Table) {
    for (k, v) in layer {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(l)) => overlay(b, l),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut current = table.get(parts.next()?)?;
    for p in parts {
        current = current.as_table()?.get(p)?;
    }
    Some(current)
}

fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    let parts: Vec<&str> = key.split('.').collect();
    let mut current = table;
    for p in &parts[..parts.len() - 1] {
        current = current
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .expect("config sections are tables");
    }
    current.insert(parts[parts.len() - 1].to_owned(), value);
}

/// An environment value takes the type of the key's default: strings stay verbatim, other
/// types are read as a TOML value (`true`, `40`, `["a", "b"]`). What does not parse stays a
/// string, so the type error names the key and the variable.
fn env_value(raw: &str, default: Option<&toml::Value>) -> toml::Value {
    match default {
        Some(toml::Value::String(_)) | None => toml::Value::String(raw.to_owned()),
        Some(_) => toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
    }
}

impl Config {
    /// The configuration from built-in defaults only.
    pub fn defaults() -> Config {
        load_from(None, std::iter::empty())
            .expect("built-in defaults are valid")
            .0
    }

    /// Checks values serde cannot, and fills the derived defaults (empty = derived).
    fn resolve(mut self, sources: &Sources) -> Result<Config, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_owned(),
            origin: sources.origin(key),
            message,
        };
        if !self.bot.app_id.is_empty() {
            self.bot.app_id = TenantId::parse(&self.bot.app_id)
                .map_err(|_| invalid("bot.app_id", "must be a GUID (the Microsoft App ID)".into()))?
                .to_string();
        }
        if !self.bot.tenant_id.is_empty() {
            self.bot.tenant_id = TenantId::parse(&self.bot.tenant_id)
                .map_err(|_| {
                    invalid(
                        "bot.tenant_id",
                        "must be a GUID (the Entra tenant id)".into(),
                    )
                })?
                .to_string();
        }
        if self.bot.app_type == AppType::SingleTenant && self.bot.tenant_id.is_empty() {
            return Err(invalid(
                "bot.tenant_id",
                "must be set when bot.app_type is SingleTenant".into(),
            ));
        }
        let mut allowed = Vec::new();
        for t in &self.bot.allowed_tenants {
            let parsed = TenantId::parse(t).map_err(|_| {
                invalid(
                    "bot.allowed_tenants",
                    format!("{t:?} is not a tenant id (GUID)"),
                )
            })?;
            allowed.push(parsed.to_string());
        }
        if allowed.is_empty() && !self.bot.tenant_id.is_empty() {
            allowed.push(self.bot.tenant_id.clone());
        }
        self.bot.allowed_tenants = allowed;
        for (key, value) in [
            ("bot.openid_metadata_url", &self.bot.openid_metadata_url),
            ("bot.token_url", &self.bot.token_url),
            ("server.public_url", &self.server.public_url),
        ] {
            if value.is_empty() {
                continue;
            }
            let url = url::Url::parse(value)
                .map_err(|e| invalid(key, format!("{value:?} is not a URL: {e}")))?;
            if !matches!(url.scheme(), "https" | "http") {
                return Err(invalid(key, format!("{value:?} must be an http(s) URL")));
            }
        }
        if self.bot.token_url.is_empty() {
            self.bot.token_url = match self.bot.app_type {
                AppType::MultiTenant => {
                    "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token".into()
                }
                AppType::SingleTenant => format!(
                    "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                    self.bot.tenant_id
                ),
                // Managed identity uses the platform's endpoint, not a login URL.
                AppType::UserAssignedMSI => String::new(),
            };
        }
        self.resolve_graph(sources)?;
        self.resolve_test_signin(sources)?;
        for (key, value) in [
            ("bot.tenant_rps", self.bot.tenant_rps),
            ("bot.conversation_rps", self.bot.conversation_rps),
            ("bot.max_attempts", self.bot.max_attempts),
            ("store.max_connections", self.store.max_connections),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1".into()));
            }
        }
        // Teams' limit; only a local simulation or benchmark (http service URLs) may lift it.
        if self.bot.tenant_rps > 50 && !self.bot.allow_http_service_url {
            return Err(invalid(
                "bot.tenant_rps",
                "Teams allows at most 50 requests per second per app per tenant".into(),
            ));
        }
        if self.dev.allow_anonymous && !self.server.bind.ip().is_loopback() {
            return Err(invalid(
                "dev.allow_anonymous",
                format!(
                    "refused: server.bind {} is not a loopback address, and unauthenticated \
                     activities may only be accepted from this machine",
                    self.server.bind
                ),
            ));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid(
                "server.max_body_bytes",
                "must be at least 1024".into(),
            ));
        }
        if self.server.request_timeout_secs == 0 {
            return Err(invalid(
                "server.request_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level).map_err(|e| {
            invalid(
                "log.level",
                format!("{:?} is not a log filter: {e}", self.log.level),
            )
        })?;
        self.bot.service_url_hosts = self
            .bot
            .service_url_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        crate::manifest::check_config(&self.manifest)
            .map_err(|(key, message)| invalid(key, message))?;
        let guid = |key: &str, value: &str| {
            uuid::Uuid::try_parse(value.trim())
                .map(|u| u.hyphenated().to_string())
                .map_err(|_| invalid(key, format!("{value:?} is not an object id (GUID)")))
        };
        let r = &mut self.readiness;
        if !r.target_group_id.is_empty() {
            r.target_group_id = guid("readiness.target_group_id", &r.target_group_id)?;
        }
        if r.test_app_id.trim().is_empty() {
            // The bot's own test sign-ins are not a person's devices.
            r.test_app_id = self.test_signin.client_id.trim().to_owned();
        }
        if !r.test_app_id.is_empty() {
            r.test_app_id = guid("readiness.test_app_id", &r.test_app_id)?;
        }
        r.excluded_group_ids = r
            .excluded_group_ids
            .iter()
            .map(|g| guid("readiness.excluded_group_ids", g))
            .collect::<Result<_, _>>()?;
        r.rules
            .validate()
            .map_err(|(key, message)| invalid(key, message))?;
        if !self.enforcement.group_id.is_empty() {
            self.enforcement.group_id = guid("enforcement.group_id", &self.enforcement.group_id)?;
        }
        if self.journey.snooze_days.contains(&0) {
            return Err(invalid(
                "journey.snooze_days",
                "every snooze lasts at least one day".into(),
            ));
        }
        Ok(self)
    }

    /// Checks `[graph]` and fills its derived defaults (token URL and scope of the cloud).
    fn resolve_graph(&mut self, sources: &Sources) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_owned(),
            origin: sources.origin(key),
            message,
        };
        let g = &mut self.graph;
        g.base_url = g.base_url.trim_end_matches('/').to_owned();
        for (key, value) in [
            ("graph.base_url", &g.base_url),
            ("graph.token_url", &g.token_url),
        ] {
            if value.is_empty() && key == "graph.token_url" {
                continue;
            }
            let url = url::Url::parse(value)
                .map_err(|e| invalid(key, format!("{value:?} is not a URL: {e}")))?;
            if !matches!(url.scheme(), "https" | "http") {
                return Err(invalid(key, format!("{value:?} must be an http(s) URL")));
            }
        }
        if !g.tenant_id.is_empty() {
            g.tenant_id = TenantId::parse(&g.tenant_id)
                .map_err(|_| {
                    invalid(
                        "graph.tenant_id",
                        "must be a GUID (the Entra tenant id)".into(),
                    )
                })?
                .to_string();
        }
        if !g.client_id.is_empty() {
            g.client_id = TenantId::parse(&g.client_id)
                .map_err(|_| {
                    invalid(
                        "graph.client_id",
                        "must be a GUID (the application or identity client id)".into(),
                    )
                })?
                .to_string();
        }
        let (graph_host, login_host) = g.cloud();
        if g.token_scope.is_empty() {
            g.token_scope = format!("https://{graph_host}/.default");
        } else if !g.token_scope.ends_with("/.default") {
            return Err(invalid(
                "graph.token_scope",
                "app-only tokens need a scope ending in /.default".into(),
            ));
        }
        if g.token_url.is_empty() && !g.tenant_id.is_empty() {
            g.token_url = format!("https://{login_host}/{}/oauth2/v2.0/token", g.tenant_id);
        }
        for (key, value) in [
            ("graph.request_timeout_secs", g.request_timeout_secs),
            ("graph.max_attempts", u64::from(g.max_attempts)),
            ("graph.reports_per_10s", u64::from(g.reports_per_10s)),
            (
                "graph.directory_units_per_10s",
                u64::from(g.directory_units_per_10s),
            ),
            (
                "graph.directory_write_units_per_150s",
                u64::from(g.directory_write_units_per_150s),
            ),
            ("graph.cache_capacity", g.cache_capacity),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1".into()));
            }
        }
        if !(g.limit_scale.is_finite() && g.limit_scale > 0.0) {
            return Err(invalid(
                "graph.limit_scale",
                "must be a positive number".into(),
            ));
        }
        Ok(())
    }

    /// Checks `[test_signin]` and fills its derived defaults (tenant, authority, redirect URL).
    fn resolve_test_signin(&mut self, sources: &Sources) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_owned(),
            origin: sources.origin(key),
            message,
        };
        let public_url = self.server.public_url.trim_end_matches('/').to_owned();
        let tenant = [&self.bot.tenant_id, &self.graph.tenant_id]
            .into_iter()
            .find(|t| !t.is_empty())
            .cloned()
            .unwrap_or_default();
        let t = &mut self.test_signin;
        if !t.enabled() {
            return Ok(());
        }
        t.client_id = TenantId::parse(&t.client_id)
            .map_err(|_| {
                invalid(
                    "test_signin.client_id",
                    "must be a GUID (the test app's client id)".into(),
                )
            })?
            .to_string();
        if t.tenant_id.is_empty() {
            t.tenant_id = tenant;
        }
        t.tenant_id = TenantId::parse(&t.tenant_id)
            .map_err(|_| {
                invalid(
                    "test_signin.tenant_id",
                    "must be a tenant GUID (or set bot.tenant_id / graph.tenant_id)".into(),
                )
            })?
            .to_string();
        if public_url.is_empty() {
            return Err(invalid(
                "server.public_url",
                "must be set when test_signin.client_id is (the sign-in comes back to it)".into(),
            ));
        }
        if t.redirect_url.is_empty() {
            t.redirect_url = format!("{public_url}/signin/test/callback");
        }
        if !t.redirect_url.starts_with(&format!("{public_url}/"))
            || !t.redirect_url.ends_with(crate::testsignin::CALLBACK_PATH)
        {
            return Err(invalid(
                "test_signin.redirect_url",
                format!(
                    "{:?} must be {public_url}{}",
                    t.redirect_url,
                    crate::testsignin::CALLBACK_PATH
                ),
            ));
        }
        if !t.auth_context.is_empty() && !is_auth_context_id(&t.auth_context) {
            return Err(invalid(
                "test_signin.auth_context",
                format!(
                    "{:?} is not an authentication context id (c1..c25)",
                    t.auth_context
                ),
            ));
        }
        if !t.auth_context.is_empty() && t.scope.is_empty() {
            return Err(invalid(
                "test_signin.scope",
                "must name an API scope when test_signin.auth_context is set (acrs is in its access token)".into(),
            ));
        }
        if t.authority.is_empty() {
            t.authority = format!("https://login.microsoftonline.com/{}/v2.0", t.tenant_id);
        }
        t.authority = t.authority.trim_end_matches('/').to_owned();
        let url = url::Url::parse(&t.authority)
            .map_err(|e| invalid("test_signin.authority", format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(invalid(
                "test_signin.authority",
                "must be an http(s) URL".into(),
            ));
        }
        if t.link_ttl_secs < 60 {
            return Err(invalid(
                "test_signin.link_ttl_secs",
                "must be at least 60".into(),
            ));
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_match_the_contract() {
        let c = Config::defaults();
        assert_eq!(c.server.bind.to_string(), "127.0.0.1:3978");
        assert_eq!(c.store.url, "sqlite://passkey-pilot.db");
        assert_eq!(c.bot.app_type, AppType::MultiTenant);
        assert_eq!(c.bot.openid_metadata_url, PUBLIC_OPENID_METADATA_URL);
        assert!(!c.bot.allow_http_service_url);
        assert_eq!(
            c.bot.token_url,
            "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
        );
        assert_eq!(c.log.format, LogFormat::Pretty);
    }

    #[test]
    fn env_overrides_file_and_takes_the_default_type() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[bot]\ntenant_id = \"11111111-1111-1111-1111-111111111111\"\n",
        )
        .unwrap();
        let (c, sources) = load_from(
            Some(&file),
            env(&[
                ("PASSKEY_PILOT__BOT__ALLOW_HTTP_SERVICE_URL", "true"),
                ("PASSKEY_PILOT__BOT__APP_PASSWORD", "12345"),
                ("PASSKEY_PILOT__SERVER__BIND", "127.0.0.1:0"),
            ]),
        )
        .unwrap();
        assert!(c.bot.allow_http_service_url);
        assert_eq!(c.bot.app_password.expose(), "12345");
        assert_eq!(
            c.bot.allowed_tenants,
            vec!["11111111-1111-1111-1111-111111111111"]
        );
        assert_eq!(
            sources.origin("bot.tenant_id"),
            Origin::File {
                path: file.clone(),
                line: 2
            }
        );
    }

    #[test]
    fn a_bad_value_in_a_file_names_the_key_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "# comment\n[bot]\n\napp_type = \"Sometimes\"\n").unwrap();
        let err = load_from(Some(&file), vec![]).unwrap_err().to_string();
        assert!(err.contains("`bot.app_type`"), "{err}");
        assert!(err.contains(&format!("{} line 4", file.display())), "{err}");
    }

    #[test]
    fn a_bad_env_value_names_the_variable() {
        let err = load_from(None, env(&[("PASSKEY_PILOT__SERVER__BIND", "everywhere")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`server.bind`"), "{err}");
        assert!(err.contains("PASSKEY_PILOT__SERVER__BIND"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[bot]\napp_idd = \"x\"\n").unwrap();
        let err = load_from(Some(&file), vec![]).unwrap_err().to_string();
        assert!(err.contains("unknown key `bot.app_idd`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        let err = load_from(None, env(&[("PASSKEY_PILOT__STORE__URI", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key `store.uri`"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let (c, _) = load_from(
            None,
            env(&[("PASSKEY_PILOT__BOT__APP_PASSWORD", "hunter2-very-secret")]),
        )
        .unwrap();
        assert!(!c.to_redacted_toml().contains("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(c.to_redacted_toml().contains("[redacted]"));
    }

    #[test]
    fn single_tenant_needs_a_tenant_and_gets_its_login_url() {
        let err = load_from(
            None,
            env(&[("PASSKEY_PILOT__BOT__APP_TYPE", "SingleTenant")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`bot.tenant_id`"), "{err}");
        let (c, _) = load_from(
            None,
            env(&[
                ("PASSKEY_PILOT__BOT__APP_TYPE", "SingleTenant"),
                (
                    "PASSKEY_PILOT__BOT__TENANT_ID",
                    "22222222-2222-2222-2222-222222222222",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.bot.token_url,
            "https://login.microsoftonline.com/22222222-2222-2222-2222-222222222222/oauth2/v2.0/token"
        );
    }

    #[test]
    fn anonymous_mode_is_refused_off_loopback() {
        let err = load_from(
            None,
            env(&[
                ("PASSKEY_PILOT__DEV__ALLOW_ANONYMOUS", "true"),
                ("PASSKEY_PILOT__SERVER__BIND", "0.0.0.0:3978"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`dev.allow_anonymous`") && err.contains("loopback"),
            "{err}"
        );
        let (c, _) = load_from(
            None,
            env(&[("PASSKEY_PILOT__DEV__ALLOW_ANONYMOUS", "true")]),
        )
        .unwrap();
        assert!(c.dev.allow_anonymous);
    }

    #[test]
    fn readiness_defaults_match_the_reference() {
        let c = Config::defaults();
        let r = &c.readiness.rules;
        assert_eq!(r.window_days, 30);
        assert_eq!((r.min_ios_authenticator, r.min_ios_synced), (17, 16));
        assert_eq!((r.min_android_authenticator, r.min_android_synced), (14, 9));
        assert_eq!(r.windows_cross_device_all_apps_build, 22631);
        assert_eq!(r.windows_11_build, 22000);
        assert_eq!(r.min_chromium_cross_device, 108);
        assert_eq!(r.max_whfb_per_shared_device, 10);
        assert_eq!(
            r.provider("90A3CCDF-635C-4729-A248-9B709135078F")
                .map(|p| p.kind),
            Some(crate::readiness::ProviderKind::AuthenticatorIos)
        );
        assert!(
            r.ignored_app("19db86c3-b2b9-44cc-b339-36da233a3be2")
                .is_some()
        );
        assert_eq!(*r, crate::readiness::Rules::default());
        assert!(c.readiness.target().target_group_id.is_none());
    }

    #[test]
    fn the_effective_config_with_readiness_rules_prints_and_reads_back() {
        let c = Config::defaults();
        let text = c.to_redacted_toml();
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back.readiness.rules, c.readiness.rules);
    }

    #[test]
    fn readiness_ids_must_be_guids_and_the_test_app_is_ignored() {
        let err = load_from(
            None,
            env(&[("PASSKEY_PILOT__READINESS__TARGET_GROUP_ID", "all-staff")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`readiness.target_group_id`"), "{err}");
        assert!(
            err.contains("PASSKEY_PILOT__READINESS__TARGET_GROUP_ID"),
            "{err}"
        );
        let (c, _) = load_from(
            None,
            env(&[
                (
                    "PASSKEY_PILOT__READINESS__TEST_APP_ID",
                    "AAAAAAAA-1111-2222-3333-444444444444",
                ),
                (
                    "PASSKEY_PILOT__READINESS__RULES__MIN_IOS_AUTHENTICATOR",
                    "18",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(c.readiness.rules.min_ios_authenticator, 18);
        let rules = c.readiness.effective_rules();
        assert_eq!(
            rules
                .ignored_app("aaaaaaaa-1111-2222-3333-444444444444")
                .map(|a| a.why),
            Some(crate::readiness::IgnoredWhy::BotTest)
        );
    }

    #[test]
    fn a_bad_aaguid_in_the_rules_names_the_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[readiness.rules]\nproviders = [{ aaguid = \"nope\", name = \"X\", kind = \"securityKey\", certainty = \"community\" }]\n",
        )
        .unwrap();
        let err = load_from(Some(&file), vec![]).unwrap_err().to_string();
        assert!(err.contains("`readiness.rules.providers`"), "{err}");
        assert!(err.contains(&format!("{} line 2", file.display())), "{err}");
    }

    #[test]
    fn graph_defaults_follow_the_contract_and_derive_the_clouds_endpoints() {
        let g = Config::defaults().graph;
        assert_eq!(g.base_url, "https://graph.microsoft.com");
        assert_eq!(g.auth, GraphAuth::ClientSecret);
        assert_eq!(g.token_scope, "https://graph.microsoft.com/.default");
        assert_eq!(g.token_url, "", "no tenant, no token URL");
        assert_eq!((g.reports_per_10s, g.directory_units_per_10s), (5, 8000));

        let tenant = "33333333-3333-3333-3333-333333333333";
        let (c, _) = load_from(
            None,
            env(&[
                (
                    "PASSKEY_PILOT__GRAPH__BASE_URL",
                    "https://graph.microsoft.us/",
                ),
                ("PASSKEY_PILOT__GRAPH__TENANT_ID", tenant),
                ("PASSKEY_PILOT__GRAPH__AUTH", "WorkloadIdentity"),
                ("PASSKEY_PILOT__GRAPH__LIMIT_SCALE", "100"),
            ]),
        )
        .unwrap();
        assert_eq!(c.graph.base_url, "https://graph.microsoft.us");
        assert_eq!(c.graph.token_scope, "https://graph.microsoft.us/.default");
        assert_eq!(
            c.graph.token_url,
            format!("https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token")
        );
        assert_eq!(c.graph.auth, GraphAuth::WorkloadIdentity);
        assert_eq!(c.graph.limit_scale, 100.0);

        // The simulator keeps the global cloud's scope.
        let (c, _) = load_from(
            None,
            env(&[
                ("PASSKEY_PILOT__GRAPH__BASE_URL", "http://127.0.0.1:4000"),
                ("PASSKEY_PILOT__GRAPH__TENANT_ID", tenant),
            ]),
        )
        .unwrap();
        assert_eq!(c.graph.token_scope, "https://graph.microsoft.com/.default");
    }

    #[test]
    fn bad_graph_settings_name_the_key_and_the_secret_never_prints() {
        let err = load_from(None, env(&[("PASSKEY_PILOT__GRAPH__CLIENT_ID", "my-app")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`graph.client_id`"), "{err}");
        assert!(err.contains("PASSKEY_PILOT__GRAPH__CLIENT_ID"), "{err}");
        let err = load_from(None, env(&[("PASSKEY_PILOT__GRAPH__AUTH", "Password")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`graph.auth`"), "{err}");
        let err = load_from(None, env(&[("PASSKEY_PILOT__GRAPH__LIMIT_SCALE", "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`graph.limit_scale`"), "{err}");
        let (c, _) = load_from(
            None,
            env(&[("PASSKEY_PILOT__GRAPH__CLIENT_SECRET", "graph-hunter2")]),
        )
        .unwrap();
        assert_eq!(c.graph.client_secret.expose(), "graph-hunter2");
        assert!(!c.to_redacted_toml().contains("graph-hunter2"));
        assert!(!format!("{c:?}").contains("graph-hunter2"));
    }

    #[test]
    fn test_signin_is_off_by_default_and_derives_its_authority_and_redirect() {
        let c = Config::defaults();
        assert!(!c.test_signin.enabled());
        assert_eq!(c.test_signin.link_ttl_secs, 600);
        let (c, _) = load_from(
            None,
            env(&[
                ("PASSKEY_PILOT__SERVER__PUBLIC_URL", "https://bot.example/"),
                (
                    "PASSKEY_PILOT__BOT__TENANT_ID",
                    "11111111-1111-1111-1111-111111111111",
                ),
                (
                    "PASSKEY_PILOT__TEST_SIGNIN__CLIENT_ID",
                    "6F1D2C3B-4A59-4E6F-8A7B-0C1D2E3F4A5B",
                ),
                ("PASSKEY_PILOT__TEST_SIGNIN__AUTH_CONTEXT", "c1"),
                (
                    "PASSKEY_PILOT__TEST_SIGNIN__SCOPE",
                    "api://passkey-pilot/Test.Read",
                ),
            ]),
        )
        .unwrap();
        let t = &c.test_signin;
        assert!(t.enabled());
        assert_eq!(t.client_id, "6f1d2c3b-4a59-4e6f-8a7b-0c1d2e3f4a5b");
        assert_eq!(t.tenant_id, "11111111-1111-1111-1111-111111111111");
        assert_eq!(
            t.authority,
            "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/v2.0"
        );
        assert_eq!(t.redirect_url, "https://bot.example/signin/test/callback");
        // The bot's own test sign-ins are not a device the person works on.
        assert_eq!(c.readiness.test_app_id, t.client_id);
        assert!(
            c.readiness
                .effective_rules()
                .ignored_app(&t.client_id)
                .is_some()
        );
        assert_eq!(Config::defaults().readiness.test_app_id, "");
    }

    #[test]
    fn bad_test_signin_settings_name_the_key() {
        let base = [
            ("PASSKEY_PILOT__SERVER__PUBLIC_URL", "https://bot.example"),
            (
                "PASSKEY_PILOT__BOT__TENANT_ID",
                "11111111-1111-1111-1111-111111111111",
            ),
            (
                "PASSKEY_PILOT__TEST_SIGNIN__CLIENT_ID",
                "6f1d2c3b-4a59-4e6f-8a7b-0c1d2e3f4a5b",
            ),
        ];
        let cases = [
            (
                "PASSKEY_PILOT__TEST_SIGNIN__AUTH_CONTEXT",
                "c26",
                "test_signin.auth_context",
            ),
            (
                "PASSKEY_PILOT__TEST_SIGNIN__AUTH_CONTEXT",
                "c1",
                "test_signin.scope",
            ),
            (
                "PASSKEY_PILOT__TEST_SIGNIN__REDIRECT_URL",
                "https://evil.example/signin/test/callback",
                "test_signin.redirect_url",
            ),
            (
                "PASSKEY_PILOT__TEST_SIGNIN__LINK_TTL_SECS",
                "5",
                "test_signin.link_ttl_secs",
            ),
            ("PASSKEY_PILOT__SERVER__PUBLIC_URL", "", "server.public_url"),
        ];
        for (var, value, key) in cases {
            let mut vars = base.to_vec();
            vars.retain(|(v, _)| *v != var);
            vars.push((var, value));
            let err = load_from(None, env(&vars)).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{var}={value}: {err}");
        }
        for (id, ok) in [
            ("c1", true),
            ("c25", true),
            ("c0", false),
            ("c01", false),
            ("C1", false),
        ] {
            assert_eq!(is_auth_context_id(id), ok, "{id}");
        }
    }

    #[test]
    fn a_toml_syntax_error_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[bot]\napp_id = \n").unwrap();
        let err = load_from(Some(&file), vec![]).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
