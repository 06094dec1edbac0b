//! The Teams app package (`passkey-pilot manifest --out app.zip`): what an admin uploads to
//! Teams so people can install the bot.
//!
//! The package is a zip with `manifest.json`, `color.png` and `outline.png` at its root. Their
//! sources live in the top-level `manifest/` directory and are compiled into the binary, so it
//! builds a package wherever it runs. `manifest/manifest.json` holds placeholders, strings that
//! are exactly `{{key}}`, filled from the configuration:
//!
//! | placeholder | value |
//! |---|---|
//! | `{{bot.app_id}}` | `bot.app_id` (the app's `id` and the bot's `botId`) |
//! | `{{server.public_url.host}}` | host of `server.public_url`; when unset, the list item is dropped |
//! | `{{manifest.KEY}}` | `manifest.KEY` (`version`, `developer_name`, `*_url`, `accent_color`) |

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use zip::write::SimpleFileOptions;

use crate::config::{Config, ManifestConfig};
use crate::ids::TenantId;

/// `manifest/manifest.json`, with placeholders.
pub const MANIFEST_SOURCE: &str = include_str!("../manifest/manifest.json");
/// `manifest/color.png`: 192×192 full-colour icon.
pub const COLOR_ICON: &[u8] = include_bytes!("../manifest/color.png");
/// `manifest/outline.png`: 32×32 white-on-transparent icon.
pub const OUTLINE_ICON: &[u8] = include_bytes!("../manifest/outline.png");

const MANIFEST_FILE: &str = "manifest.json";
const COLOR_FILE: &str = "color.png";
const OUTLINE_FILE: &str = "outline.png";

/// Teams limits the manifest applies to `developer.name`.
const DEVELOPER_NAME_MAX: usize = 32;
/// Teams limits the manifest applies to URLs.
const URL_MAX: usize = 2048;

/// Why no app package was built.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "`bot.app_id` is not set: the Teams app package needs the bot's Microsoft App ID (a GUID) \
         as its app id and bot id; set bot.app_id in the config file or PASSKEY_PILOT__BOT__APP_ID"
    )]
    MissingAppId,
    #[error("invalid value for `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("the built-in manifest/manifest.json is broken: {0}")]
    Source(String),
    #[error("cannot write the app package {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot build the app package {}: {source}", path.display())]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
}

/// What [`build_package`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSummary {
    /// The zip file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The files in the zip, in order (all at its root).
    pub files: Vec<String>,
    /// The app id and bot id (`bot.app_id`).
    pub app_id: String,
    /// The app version (`manifest.version`).
    pub version: String,
    /// The Teams manifest schema version (`manifestVersion`).
    pub manifest_version: String,
    /// `validDomains` (the host of `server.public_url`, or none).
    pub valid_domains: Vec<String>,
}

impl fmt::Display for PackageSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} ({} bytes: {}): Teams app {} version {}, manifest schema v{}, valid domains: {}",
            self.path.display(),
            self.bytes,
            self.files.join(", "),
            self.app_id,
            self.version,
            self.manifest_version,
            if self.valid_domains.is_empty() {
                "none".to_owned()
            } else {
                self.valid_domains.join(", ")
            }
        )
    }
}

/// Builds the Teams app package into `out` (replaced if it exists).
///
/// Refuses when `bot.app_id` is not set: a package without the bot's id cannot reach the bot.
pub fn build_package(config: &Config, out: &Path) -> Result<PackageSummary, ManifestError> {
    let manifest = render_manifest(config)?;
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ManifestError::Source(format!("cannot serialize: {e}")))?;
    json.push(b'\n');

    let zip_err = |source| ManifestError::Zip {
        path: out.to_owned(),
        source,
    };
    // A fixed timestamp: the same configuration gives the same bytes.
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let files: [(&str, &[u8]); 3] = [
        (MANIFEST_FILE, &json),
        (COLOR_FILE, COLOR_ICON),
        (OUTLINE_FILE, OUTLINE_ICON),
    ];
    for (name, bytes) in files {
        zip.start_file(name, options).map_err(zip_err)?;
        zip.write_all(bytes)
            .map_err(|source| ManifestError::Write {
                path: out.to_owned(),
                source,
            })?;
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    write_replacing(out, &bytes).map_err(|source| ManifestError::Write {
        path: out.to_owned(),
        source,
    })?;

    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(PackageSummary {
        path: out.to_owned(),
        bytes: bytes.len() as u64,
        files: files.iter().map(|(name, _)| (*name).to_owned()).collect(),
        app_id: text(&manifest["id"]),
        version: text(&manifest["version"]),
        manifest_version: text(&manifest["manifestVersion"]),
        valid_domains: manifest["validDomains"]
            .as_array()
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_default(),
    })
}

/// Writes through a temporary file beside `out`, so a failure never leaves half a zip.
fn write_replacing(out: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, out).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The package's `manifest.json`: the built-in source with its placeholders filled from
/// `config`.
pub fn render_manifest(config: &Config) -> Result<Value, ManifestError> {
    if config.bot.app_id.trim().is_empty() {
        return Err(ManifestError::MissingAppId);
    }
    let app_id = TenantId::parse(&config.bot.app_id)
        .map_err(|_| ManifestError::Invalid {
            key: "bot.app_id",
            message: format!(
                "{:?} is not a GUID (the Microsoft App ID)",
                config.bot.app_id
            ),
        })?
        .to_string();
    check_config(&config.manifest)
        .map_err(|(key, message)| ManifestError::Invalid { key, message })?;
    let host = public_host(&config.server.public_url)?;

    let m = &config.manifest;
    let values: BTreeMap<&str, Option<String>> = [
        ("bot.app_id", Some(app_id)),
        ("server.public_url.host", host),
        ("manifest.version", Some(m.version.clone())),
        ("manifest.developer_name", Some(m.developer_name.clone())),
        ("manifest.website_url", Some(m.website_url.clone())),
        ("manifest.privacy_url", Some(m.privacy_url.clone())),
        ("manifest.terms_url", Some(m.terms_url.clone())),
        ("manifest.accent_color", Some(m.accent_color.clone())),
    ]
    .into_iter()
    .collect();

    let mut manifest: Value = serde_json::from_str(MANIFEST_SOURCE)
        .map_err(|e| ManifestError::Source(format!("not JSON: {e}")))?;
    fill(&mut manifest, &values)?;
    Ok(manifest)
}

/// The host of `server.public_url`, or `None` when it is not set.
fn public_host(public_url: &str) -> Result<Option<String>, ManifestError> {
    if public_url.is_empty() {
        return Ok(None);
    }
    let invalid = |message: String| ManifestError::Invalid {
        key: "server.public_url",
        message,
    };
    let url = url::Url::parse(public_url)
        .map_err(|e| invalid(format!("{public_url:?} is not a URL: {e}")))?;
    match url.host_str() {
        Some(host) if !host.is_empty() => Ok(Some(host.to_ascii_lowercase())),
        _ => Err(invalid(format!("{public_url:?} has no host"))),
    }
}

/// Replaces every `{{key}}` string in `value`. A key without a value drops its list item.
fn fill(value: &mut Value, values: &BTreeMap<&str, Option<String>>) -> Result<(), ManifestError> {
    match value {
        Value::String(s) => match placeholder(s, values)? {
            Some(Some(v)) => *s = v.clone(),
            Some(None) => {
                return Err(ManifestError::Source(format!(
                    "{s} has no value and is not a list item"
                )));
            }
            None => {}
        },
        Value::Array(items) => {
            let mut kept = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                if let Value::String(s) = &item
                    && let Some(None) = placeholder(s, values)?
                {
                    continue;
                }
                fill(&mut item, values)?;
                kept.push(item);
            }
            *items = kept;
        }
        Value::Object(map) => {
            for v in map.values_mut() {
                fill(v, values)?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// `Some(value)` when `s` is a placeholder, `None` when it is plain text.
fn placeholder<'a>(
    s: &str,
    values: &'a BTreeMap<&str, Option<String>>,
) -> Result<Option<&'a Option<String>>, ManifestError> {
    if !s.contains("{{") && !s.contains("}}") {
        return Ok(None);
    }
    let key = s
        .strip_prefix("{{")
        .and_then(|k| k.strip_suffix("}}"))
        .filter(|k| !k.contains("{{") && !k.contains("}}"))
        .ok_or_else(|| {
            ManifestError::Source(format!(
                "{s:?}: a placeholder must be a whole string {{{{key}}}}"
            ))
        })?;
    values
        .get(key.trim())
        .map(Some)
        .ok_or_else(|| ManifestError::Source(format!("unknown placeholder {s}")))
}

/// Checks the `[manifest]` settings; on error, the key (`manifest.…`) and what is wrong.
/// [`Config`] loading calls it, so `check-config` reports these with the value's origin.
pub fn check_config(m: &ManifestConfig) -> Result<(), (&'static str, String)> {
    if !is_version(&m.version) {
        return Err((
            "manifest.version",
            format!(
                "{:?} must be MAJOR.MINOR.PATCH, numbers only without leading zeros (e.g. \"1.0.0\")",
                m.version
            ),
        ));
    }
    let name = m.developer_name.trim();
    if name.is_empty() {
        return Err(("manifest.developer_name", "must not be empty".into()));
    }
    if m.developer_name.chars().count() > DEVELOPER_NAME_MAX {
        return Err((
            "manifest.developer_name",
            format!(
                "{:?} is longer than {DEVELOPER_NAME_MAX} characters",
                m.developer_name
            ),
        ));
    }
    for (key, value) in [
        ("manifest.website_url", &m.website_url),
        ("manifest.privacy_url", &m.privacy_url),
        ("manifest.terms_url", &m.terms_url),
    ] {
        check_https_url(value).map_err(|message| (key, message))?;
    }
    if !is_hex_color(&m.accent_color) {
        return Err((
            "manifest.accent_color",
            format!(
                "{:?} must be a colour #rrggbb (e.g. \"#0F6CBD\")",
                m.accent_color
            ),
        ));
    }
    Ok(())
}

fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    v.len() <= 256
        && parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

fn is_hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_https_url(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must be set to an https URL".into());
    }
    if value.len() > URL_MAX {
        return Err(format!("is longer than {URL_MAX} characters"));
    }
    let url = url::Url::parse(value).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    if url.scheme() != "https" {
        return Err(format!("{value:?} must be an https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{value:?} has no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<&'static str, Option<String>> {
        [("a", Some("A".to_owned())), ("gone", None)]
            .into_iter()
            .collect()
    }

    #[test]
    fn placeholders_fill_and_unset_list_items_drop() {
        let mut v = serde_json::json!({
            "x": "{{a}}", "list": ["{{gone}}", "{{a}}", "plain"], "n": 1, "deep": [{"y": "{{a}}"}]
        });
        fill(&mut v, &values()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"x": "A", "list": ["A", "plain"], "n": 1, "deep": [{"y": "A"}]})
        );
    }

    #[test]
    fn unknown_partial_and_misplaced_placeholders_are_errors() {
        for bad in [
            serde_json::json!({"x": "{{nope}}"}),
            serde_json::json!({"x": "id-{{a}}"}),
            serde_json::json!({"x": "{{a}"}),
            serde_json::json!({"x": "{{gone}}"}),
        ] {
            let mut v = bad.clone();
            assert!(
                matches!(fill(&mut v, &values()), Err(ManifestError::Source(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_built_in_source_is_json_and_uses_only_known_placeholders() {
        let mut config = Config::defaults();
        config.bot.app_id = "6f1c3c1e-2a4b-4c7e-9d61-3b0f2a9e8c11".into();
        let m = render_manifest(&config).unwrap();
        assert!(!m.to_string().contains("{{"), "{m}");
    }

    #[test]
    fn versions_are_numeric_semver() {
        for ok in ["1.0.0", "0.1.0", "10.20.30", "1.0.102"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in [
            "1.0",
            "1.0.0-beta",
            "v1.0.0",
            "1.01.0",
            "1..0",
            "",
            "1.0.0.0",
            " 1.0.0",
        ] {
            assert!(!is_version(bad), "{bad}");
        }
    }

    #[test]
    fn accent_colors_are_hash_rrggbb() {
        assert!(is_hex_color("#0F6CBD"));
        assert!(is_hex_color("#abcdef"));
        for bad in ["0F6CBD", "#0F6CB", "#0F6CBDD", "#GGGGGG", "blue", "#ÿÿÿ"] {
            assert!(!is_hex_color(bad), "{bad}");
        }
    }
}
