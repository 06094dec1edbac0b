//! The tenant-wide readiness report: one row per person (stage, methods, devices and their
//! verdicts) and the nudge lists, written as CSV or JSON without ever leaving a half-written
//! file.

use std::io::Write as _;
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::AssessError;
use crate::readiness::{Assessment, CredentialKind, DeviceAssessment, OsFamily, PersonVerdict};

/// Where a person is in the migration, from their verdicts and methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// Guest, service or break-glass account, disabled, or outside the target group.
    NotTarget,
    /// No passkey and no registration attempt in the window.
    NotStarted,
    /// A registration began in the window, none finished.
    Started,
    /// The latest registration failed and nothing was registered since.
    Stuck,
    /// A passkey is registered, but not every device is ready.
    Registered,
    /// Every device used in the window is ready: safe to enforce.
    Ready,
    /// In `enforcement.group_id`: Conditional Access requires phishing-resistant sign-ins.
    Enforced,
}

impl Stage {
    /// `enforced`: the person is in the enforcement group.
    pub fn of(a: &Assessment, enforced: bool) -> Stage {
        match &a.person {
            PersonVerdict::NotTarget { .. } => Stage::NotTarget,
            _ if enforced => Stage::Enforced,
            PersonVerdict::SafeToEnforce => Stage::Ready,
            _ if has_passkey(a) => Stage::Registered,
            _ if a.registration.stuck => Stage::Stuck,
            _ if a.registration.last_started.is_some() => Stage::Started,
            _ => Stage::NotStarted,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::NotTarget => "notTarget",
            Stage::NotStarted => "notStarted",
            Stage::Started => "started",
            Stage::Stuck => "stuck",
            Stage::Registered => "registered",
            Stage::Ready => "ready",
            Stage::Enforced => "enforced",
        }
    }
}

fn has_passkey(a: &Assessment) -> bool {
    a.credentials
        .iter()
        .any(|c| matches!(c.kind, CredentialKind::Passkey { .. }))
}

fn has_platform_method(a: &Assessment) -> bool {
    a.credentials.iter().any(|c| {
        matches!(
            c.kind,
            CredentialKind::WindowsHelloForBusiness | CredentialKind::PlatformCredential
        )
    })
}

/// Which nudge list a target without a passkey belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Nudge {
    /// Signs in with Authenticator push or SMS (or has no MFA at all).
    PushOrSms,
    /// Has Windows Hello for Business or a macOS platform credential, but no passkey.
    PlatformMethod,
}

impl Nudge {
    pub fn of(a: &Assessment, enforced: bool) -> Option<Nudge> {
        if enforced || matches!(a.person, PersonVerdict::NotTarget { .. }) || has_passkey(a) {
            return None;
        }
        Some(if has_platform_method(a) {
            Nudge::PlatformMethod
        } else {
            Nudge::PushOrSms
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Nudge::PushOrSms => "pushOrSms",
            Nudge::PlatformMethod => "platformMethod",
        }
    }
}

/// One device of a person's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRow {
    pub key: String,
    pub name: String,
    pub os: String,
    pub sign_ins: u32,
    /// `ready`, `registeredButUnused`, `needsPasskey`, `incompatible`, `unknown`.
    pub verdict: String,
    /// The verdict's evidence (options, reason and remedies, hint, questions).
    pub detail: String,
}

/// One person's row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRow {
    pub user_id: String,
    pub user_principal_name: String,
    pub stage: Stage,
    /// `safeToEnforce`, `notYet`, `needsExclusion`, `notTarget`.
    pub verdict: String,
    pub reasons: String,
    pub methods: Vec<String>,
    pub devices: Vec<DeviceRow>,
    pub nudge: Option<Nudge>,
}

impl PersonRow {
    /// `enforced`: the person is in the enforcement group ([`super::Settings::enforced`]).
    pub fn of(a: &Assessment, enforced: bool) -> PersonRow {
        let (verdict, reasons) = tag_and_detail(&a.person, "verdict");
        PersonRow {
            user_id: a.user_id.clone(),
            user_principal_name: a.user_principal_name.clone(),
            stage: Stage::of(a, enforced),
            verdict,
            reasons,
            methods: method_labels(a),
            devices: a.devices.iter().map(device_row).collect(),
            nudge: Nudge::of(a, enforced),
        }
    }
}

/// The person's methods, readable: phishing-resistant credentials first.
pub fn method_labels(a: &Assessment) -> Vec<String> {
    let mut out: Vec<String> = a
        .credentials
        .iter()
        .map(|c| {
            let kind = match c.kind {
                CredentialKind::Passkey { .. } => "passkey",
                CredentialKind::WindowsHelloForBusiness => "windowsHello",
                CredentialKind::PlatformCredential => "platformCredential",
            };
            match c
                .provider_name
                .as_deref()
                .or(c.model.as_deref())
                .or(c.display_name.as_deref())
            {
                Some(name) if kind == "passkey" => format!("{kind} ({name})"),
                _ => match c.display_name.as_deref() {
                    Some(name) => format!("{kind} ({name})"),
                    None => kind.to_owned(),
                },
            }
        })
        .collect();
    let m = &a.methods;
    for (has, label) in [
        (m.authenticator_app, "authenticatorApp"),
        (m.phone, "phone"),
        (m.temporary_access_pass, "temporaryAccessPass"),
        (m.password, "password"),
    ] {
        if has {
            out.push(label.to_owned());
        }
    }
    out
}

/// A device's name for people: its display name, else what the sign-ins said about it.
pub fn device_name(d: &DeviceAssessment) -> String {
    if let Some(name) = &d.display_name {
        return name.clone();
    }
    match &d.key {
        crate::readiness::DeviceKey::Registered { device_id } => device_id.clone(),
        crate::readiness::DeviceKey::Unregistered {
            os,
            client,
            platform,
        } => {
            let platform = if platform.is_empty() {
                format!("{os:?}")
            } else {
                platform.clone()
            };
            format!("unregistered {platform} ({client:?})")
        }
    }
}

/// The operating system, with the version or Windows release that decides.
pub fn os_label(d: &DeviceAssessment) -> String {
    let os = &d.os;
    if let Some(w) = &os.windows {
        let name = if w.windows_11 {
            "Windows 11"
        } else {
            "Windows 10"
        };
        return match &w.feature_update {
            Some(u) => format!("{name} {u} (build {})", w.build),
            None => format!("{name} (build {})", w.build),
        };
    }
    let family = match os.family {
        OsFamily::Windows => "Windows",
        OsFamily::MacOs => "macOS",
        OsFamily::Ios => "iOS",
        OsFamily::Android => "Android",
        OsFamily::Linux => "Linux",
        OsFamily::Other => "other",
    };
    let mut out = match &os.version {
        Some(v) => format!("{family} {v}"),
        None => family.to_owned(),
    };
    if let Some(model) = &os.model {
        out.push_str(&format!(" ({model})"));
    }
    out
}

fn device_row(d: &DeviceAssessment) -> DeviceRow {
    let (verdict, detail) = tag_and_detail(&d.verdict, "verdict");
    DeviceRow {
        key: d.key.to_string(),
        name: device_name(d),
        os: os_label(d),
        sign_ins: d.sign_ins,
        verdict,
        detail,
    }
}

/// An internally tagged enum as (tag, the rest in brief).
fn tag_and_detail(v: &impl Serialize, tag: &str) -> (String, String) {
    let mut value = serde_json::to_value(v).unwrap_or(Value::Null);
    let name = value
        .as_object_mut()
        .and_then(|m| m.remove(tag))
        .and_then(|t| t.as_str().map(str::to_owned))
        .unwrap_or_default();
    (name, brief(&value))
}

/// JSON in brief: `key=value` pairs, lists in brackets, no quotes.
pub fn brief(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(brief).filter(|s| !s.is_empty()).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    Value::Object(_) => format!("{k}({})", brief(v)),
                    _ => format!("{k}={}", brief(v)),
                })
                .collect();
            parts.join(" ")
        }
    }
}

/// Targets without a passkey, by what they sign in with today.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NudgeLists {
    /// User principal names of people on push or SMS (or no MFA).
    pub push_or_sms: Vec<String>,
    /// User principal names of people with WHFB or a platform credential but no passkey.
    pub platform_method: Vec<String>,
}

impl NudgeLists {
    pub fn of(rows: &[PersonRow]) -> NudgeLists {
        let mut lists = NudgeLists::default();
        for r in rows {
            match r.nudge {
                Some(Nudge::PushOrSms) => lists.push_or_sms.push(r.user_principal_name.clone()),
                Some(Nudge::PlatformMethod) => {
                    lists.platform_method.push(r.user_principal_name.clone())
                }
                None => {}
            }
        }
        lists
    }
}

/// The tenant-wide report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantReport {
    pub generated_at: Timestamp,
    pub window_start: Timestamp,
    pub people: Vec<PersonRow>,
    pub nudges: NudgeLists,
}

/// The report's file format, by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    Json,
}

impl OutputFormat {
    pub fn for_path(path: &Path) -> Result<OutputFormat, AssessError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(OutputFormat::Csv),
            Some("json") => Ok(OutputFormat::Json),
            _ => Err(AssessError::OutExtension {
                path: path.display().to_string(),
            }),
        }
    }
}

/// Writes the report to a temporary file next to `path` and renames it into place.
pub fn write_report(report: &TenantReport, path: &Path) -> Result<(), AssessError> {
    let format = OutputFormat::for_path(path)?;
    let failed = |source: std::io::Error| AssessError::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        match format {
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut out, report).map_err(|e| failed(e.into()))?;
                out.write_all(b"\n").map_err(failed)?;
            }
            OutputFormat::Csv => write_csv(report, &mut out).map_err(failed)?,
        }
        out.flush().map_err(failed)?;
    }
    tmp.as_file().sync_all().map_err(failed)?;
    tmp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// Prints the report on stdout: CSV, or JSON when asked.
pub fn print_report(report: &TenantReport, json: bool) -> Result<(), AssessError> {
    let failed = |source: std::io::Error| AssessError::Write {
        path: "stdout".into(),
        source,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, report).map_err(|e| failed(e.into()))?;
        out.write_all(b"\n").map_err(failed)?;
    } else {
        write_csv(report, &mut out).map_err(failed)?;
    }
    out.flush().map_err(failed)
}

/// The columns of the CSV report, one row per person.
pub const CSV_HEADER: [&str; 9] = [
    "userId",
    "userPrincipalName",
    "stage",
    "verdict",
    "reasons",
    "methods",
    "devices",
    "deviceVerdicts",
    "nudge",
];

fn write_csv(report: &TenantReport, out: impl std::io::Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for r in &report.people {
        let devices: Vec<String> = r
            .devices
            .iter()
            .map(|d| format!("{} [{}]", d.name, d.os))
            .collect();
        let verdicts: Vec<String> = r
            .devices
            .iter()
            .map(|d| {
                if d.detail.is_empty() {
                    d.verdict.clone()
                } else {
                    format!("{}: {}", d.verdict, d.detail)
                }
            })
            .collect();
        w.write_record([
            r.user_id.as_str(),
            &r.user_principal_name,
            r.stage.as_str(),
            &r.verdict,
            &r.reasons,
            &r.methods.join("; "),
            &devices.join("; "),
            &verdicts.join("; "),
            r.nudge.map_or("", Nudge::as_str),
        ])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> TenantReport {
        let row = |upn: &str, nudge| PersonRow {
            user_id: format!("id-{upn}"),
            user_principal_name: upn.into(),
            stage: Stage::NotStarted,
            verdict: "notYet".into(),
            reasons: "reasons=[reason=noSignInsInWindow]".into(),
            methods: vec!["authenticatorApp".into(), "phone".into()],
            devices: vec![DeviceRow {
                key: "device:1".into(),
                name: "LT, \"big\"".into(),
                os: "Windows 11 23H2 (build 22631)".into(),
                sign_ins: 3,
                verdict: "needsPasskey".into(),
                detail: "options=[…]".into(),
            }],
            nudge,
        };
        let people = vec![
            row("a@x", Some(Nudge::PushOrSms)),
            row("b@x", Some(Nudge::PlatformMethod)),
            row("c@x", None),
        ];
        TenantReport {
            generated_at: Timestamp::UNIX_EPOCH,
            window_start: Timestamp::UNIX_EPOCH,
            nudges: NudgeLists::of(&people),
            people,
        }
    }

    #[test]
    fn nudge_lists_split_targets_without_passkeys_by_current_method() {
        let r = report();
        assert_eq!(r.nudges.push_or_sms, vec!["a@x".to_owned()]);
        assert_eq!(r.nudges.platform_method, vec!["b@x".to_owned()]);
    }

    #[test]
    fn csv_rows_quote_commas_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        write_report(&report(), &path).unwrap();
        let mut rd = csv::Reader::from_path(&path).unwrap();
        assert_eq!(rd.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
        let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(&rows[0][6], "LT, \"big\" [Windows 11 23H2 (build 22631)]");
        assert_eq!(&rows[1][8], "platformMethod");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn another_extension_is_refused_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.xlsx");
        let e = write_report(&report(), &path).unwrap_err();
        assert!(matches!(e, AssessError::OutExtension { .. }), "{e}");
        assert_eq!(e.exit_code(), 2);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
