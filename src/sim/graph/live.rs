//! Live changes over the generated tenant: passkeys people register while the simulator runs
//! (with Graph's lags), their audit events, sign-ins recorded by the sign-in page, and Teams
//! app installations. Times come from the [`SimClock`](crate::sim::clock::SimClock).

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use super::render;
use crate::sim::population::{
    AuditActivity, AuditEvent, Device, Guid, Method, MethodKind, PasskeyModel, PasskeyState,
    Person, Platform, Population, SignIn, SignInAuth, SignInOutcome,
};

/// Which kind of passkey a person registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PasskeyKind {
    /// A passkey in Microsoft Authenticator on an iOS or Android phone or tablet.
    Authenticator,
    /// An Entra passkey on Windows (Windows Hello).
    WindowsHello,
    /// A synced passkey of the device's platform provider (iCloud Keychain on Apple
    /// devices, Google Password Manager elsewhere).
    Synced,
    /// A FIDO2 security key, used with this device.
    SecurityKey,
}

/// A passkey registration attempt.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasskeyRegistration {
    /// One of the person's devices: object id, device id or display name.
    pub device: String,
    pub kind: PasskeyKind,
    /// Record a failed attempt with this `resultReason` instead of a passkey.
    #[serde(default)]
    pub failure_reason: Option<String>,
}

/// What became of a registration attempt.
#[derive(Debug, Clone)]
pub enum RegistrationOutcome {
    /// The passkey exists; Graph lists it from `visible_at`, the report from `reported_at`.
    Registered {
        method: Method,
        visible_at: Timestamp,
        reported_at: Timestamp,
    },
    /// The attempt failed (asked for, or refused by the passkey policy); a failure audit
    /// event was written.
    Failed { reason: String },
}

/// Why a live change could not be made at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("no person {0:?}")]
    UnknownPerson(String),
    #[error("{0:?} is not one of this person's devices")]
    UnknownDevice(String),
    #[error("a {kind} passkey cannot be registered on a {platform} device")]
    Unsuitable {
        kind: &'static str,
        platform: &'static str,
    },
}

/// A passkey registered at runtime and when.
#[derive(Debug, Clone)]
pub(super) struct LiveMethod {
    pub method: Method,
    pub registered: Timestamp,
}

/// An audit event written at runtime; the reason may be any text.
#[derive(Debug, Clone)]
pub(super) struct LiveAudit {
    pub event: AuditEvent,
    pub reason: Option<String>,
    /// The app that made the change (`initiatedBy.app`), for changes made through Graph.
    pub by_app: Option<String>,
}

/// A sign-in to append to `/auditLogs/signIns` (the sign-in page records one per attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRecord {
    /// Object id or user principal name.
    pub person: String,
    pub app_id: String,
    pub app_display_name: String,
    /// One of the person's devices (object id, device id or display name); `None` for the
    /// first of them.
    pub device: Option<String>,
    /// How the person authenticated.
    pub auth: SignInAuth,
    /// The passkey used, for passkey and security-key sign-ins.
    pub passkey: Option<PasskeyModel>,
    /// `status.errorCode`: 0 for success, e.g. 53003 when Conditional Access blocked it.
    pub error_code: u32,
    pub failure_reason: Option<String>,
    /// When it happened; `None` for the simulated present.
    pub at: Option<Timestamp>,
}

/// A recorded sign-in, resolved to the population.
#[derive(Debug, Clone)]
pub(super) struct LiveSignIn {
    pub id: Guid,
    pub person: u32,
    /// Slot in the person's `devices`.
    pub slot: u8,
    pub record: SignInRecord,
    pub at: Timestamp,
}

/// A Teams app installed in a person's personal scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// `userScopeTeamsAppInstallation.id`.
    pub id: String,
    /// Object id of the person.
    pub user_id: String,
    /// The catalog id of the app (`teamsApp.id`).
    pub teams_app_id: String,
    /// The 1:1 chat between the person and the app (`19:…@unq.gbl.spaces`).
    pub chat_id: String,
    pub installed: Timestamp,
}

/// Everything that changes at runtime.
#[derive(Debug, Default)]
pub(super) struct LiveState {
    pub methods: HashMap<u32, Vec<LiveMethod>>,
    /// Methods deleted through Graph (generated or live), with when.
    pub deleted: HashMap<u32, Vec<(Guid, Timestamp)>>,
    pub audits: Vec<LiveAudit>,
    pub sign_ins: Vec<LiveSignIn>,
    pub installations: Vec<(u32, Installation)>,
}

/// Finds one of a person's devices by object id, device id or display name.
pub(super) fn find_device(pop: &Population, person: &Person, wanted: &str) -> Option<(u8, u32)> {
    let guid = Guid::parse(wanted);
    person
        .devices
        .iter()
        .enumerate()
        .find(|&(_, &d)| {
            let dev = &pop.devices[d as usize];
            guid.is_some_and(|g| dev.id == g || dev.device_id == g)
                || dev.display_name.eq_ignore_ascii_case(wanted)
        })
        .map(|(slot, &d)| (slot as u8, d))
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Ios => "iOS",
        Platform::Android => "Android",
        Platform::Windows => "Windows",
        Platform::MacOs => "macOS",
        Platform::Linux => "Linux",
    }
}

/// The passkey model a kind of registration on `device` creates.
pub(super) fn model_for(kind: PasskeyKind, device: &Device) -> Result<PasskeyModel, LiveError> {
    let unsuitable = |kind| LiveError::Unsuitable {
        kind,
        platform: platform_name(device.platform),
    };
    Ok(match (kind, device.platform) {
        (PasskeyKind::Authenticator, Platform::Ios) => PasskeyModel::AuthenticatorIos,
        (PasskeyKind::Authenticator, Platform::Android) => PasskeyModel::AuthenticatorAndroid,
        (PasskeyKind::Authenticator, _) => return Err(unsuitable("Microsoft Authenticator")),
        (PasskeyKind::WindowsHello, Platform::Windows) => PasskeyModel::WindowsHello,
        (PasskeyKind::WindowsHello, _) => return Err(unsuitable("Windows Hello")),
        (PasskeyKind::Synced, Platform::Ios | Platform::MacOs) => PasskeyModel::ICloudKeychain,
        (PasskeyKind::Synced, _) => PasskeyModel::GooglePasswordManager,
        (PasskeyKind::SecurityKey, p) if p.is_mobile() => {
            return Err(unsuitable("security key"));
        }
        (PasskeyKind::SecurityKey, _) => PasskeyModel::YubiKey5Nfc,
    })
}

/// A new fido2 method for a passkey created now.
pub(super) fn new_method(model: PasskeyModel, device: u32, now: Timestamp) -> Method {
    Method {
        id: Guid(uuid::Uuid::new_v4().as_u128()),
        created: now,
        kind: MethodKind::Fido2 {
            passkey: model,
            device: (!model.is_security_key()).then_some(device),
            last_used: None,
            state: PasskeyState::NeverUsed,
        },
    }
}

/// The audit trail of one attempt, as the generator writes it: started, then registered
/// (success or failure) and for a passkey the "Add Passkey" event.
pub(super) fn audit_trail(
    person: u32,
    model: PasskeyModel,
    now: Timestamp,
    failure: Option<&str>,
) -> Vec<LiveAudit> {
    let event = |at: Timestamp, activity, succeeded: bool| AuditEvent {
        id: Guid(uuid::Uuid::new_v4().as_u128()),
        at,
        person,
        activity,
        succeeded,
        reason: None,
        passkey: Some(model),
    };
    let started = now - SignedDuration::from_secs(40);
    let mut out = vec![LiveAudit {
        event: AuditEvent {
            passkey: None,
            ..event(started, AuditActivity::StartedRegistration, true)
        },
        reason: None,
        by_app: None,
    }];
    match failure {
        Some(reason) => out.push(LiveAudit {
            event: event(now, AuditActivity::RegisteredSecurityInfo, false),
            reason: Some(reason.to_owned()),
            by_app: None,
        }),
        None => {
            out.push(LiveAudit {
                event: event(now, AuditActivity::RegisteredSecurityInfo, true),
                reason: None,
                by_app: None,
            });
            let add = if model.is_synced() {
                AuditActivity::AddPasskeySynced
            } else {
                AuditActivity::AddPasskeyDeviceBound
            };
            out.push(LiveAudit {
                event: event(now, add, true),
                reason: None,
                by_app: None,
            });
        }
    }
    out
}

/// A live audit event in Graph's shape.
pub(super) fn render_audit(pop: &Population, a: &LiveAudit) -> Value {
    let mut v = render::audit(pop, &a.event);
    if let Some(reason) = &a.reason {
        v["resultReason"] = json!(reason);
    }
    if let Some(app) = &a.by_app {
        v["initiatedBy"] = json!({
            "user": Value::Null,
            "app": {"appId": app, "displayName": Value::Null, "servicePrincipalId": Value::Null, "servicePrincipalName": Value::Null},
        });
    }
    v
}

/// The population-shaped sign-in a recorded one is rendered from.
fn as_sign_in(s: &LiveSignIn) -> SignIn {
    SignIn {
        at: 0,
        device: s.slot,
        app: crate::sim::population::App::MySignIns,
        auth: s.record.auth,
        method: SignIn::NO_METHOD,
        outcome: if s.record.error_code == 0 {
            SignInOutcome::Success
        } else {
            SignInOutcome::MfaDenied
        },
        interactive: true,
    }
}

/// A recorded sign-in in Graph's v1.0 or beta shape.
pub(super) fn render_sign_in(pop: &Population, s: &LiveSignIn, beta: bool) -> Value {
    let person = &pop.people[s.person as usize];
    let mut v = render::sign_in(pop, person, 0, &as_sign_in(s), beta);
    let at = render::time(s.at);
    v["id"] = json!(s.id);
    v["correlationId"] = json!(s.id);
    v["createdDateTime"] = json!(at);
    v["appId"] = json!(s.record.app_id);
    v["appDisplayName"] = json!(s.record.app_display_name);
    v["status"] = json!({
        "errorCode": s.record.error_code,
        "failureReason": s.record.failure_reason.as_deref().unwrap_or(if s.record.error_code == 0 { "Other." } else { "" }),
        "additionalDetails": Value::Null,
    });
    if beta {
        let synced = s.record.passkey.is_some_and(PasskeyModel::is_synced);
        let steps = s.record.auth.steps(synced);
        if let Some(details) = v["authenticationDetails"].as_array_mut() {
            for (d, step) in details.iter_mut().zip(steps.iter()) {
                // The recorded passkey says synced or device-bound, not the population's.
                d["authenticationMethod"] = json!(step);
                d["authenticationStepDateTime"] = json!(at);
                if let Some(model) = s.record.passkey {
                    d["authenticationMethodDetail"] = json!(model.model());
                }
            }
        }
        v["authenticationMethodsUsed"] = json!(steps);
        v["sessionId"] = json!(Guid(s.id.0.rotate_left(64)));
    }
    v
}

/// What `$filter` sees of a recorded sign-in.
pub(super) fn sign_in_field<'a>(
    pop: &'a Population,
    s: &'a LiveSignIn,
    name: &str,
) -> Option<super::odata::FieldValue<'a>> {
    use super::odata::FieldValue;
    let person = &pop.people[s.person as usize];
    Some(match name {
        "createdDateTime" => FieldValue::Time(s.at),
        "appId" => FieldValue::Str(&s.record.app_id),
        "status/errorCode" => FieldValue::Number(i64::from(s.record.error_code)),
        _ => return render::sign_in_field(pop, person, &as_sign_in(s), name),
    })
}

/// `userScopeTeamsAppInstallation.id`: Graph's ids are base64 of the app and user ids.
pub(super) fn installation_id(user: &str, app: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}##{app}"))
}
