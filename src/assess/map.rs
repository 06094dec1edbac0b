//! Graph's wire models mapped into readiness's domain types: readiness never sees Graph JSON,
//! and Graph's open-ended strings are read here once.

use jiff::Timestamp;

use crate::graph::models as g;
use crate::readiness::{self as r, PasskeyPolicy};

/// A `user` as the snapshot's identity fields: (user type, enabled).
pub fn user_type(user: &g::User) -> r::UserType {
    match user.user_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("guest") => r::UserType::Guest,
        _ => r::UserType::Member,
    }
}

/// The person's own method list (`/users/{id}/authentication/methods`, beta).
pub fn method_list(methods: &[g::AuthenticationMethod], fetched_at: Timestamp) -> r::MethodList {
    r::MethodList {
        fetched_at,
        methods: methods.iter().map(method).collect(),
    }
}

/// Graph leaves `createdDateTime` out of some rows: such a method counts as old.
fn created(t: Option<Timestamp>) -> Timestamp {
    t.unwrap_or(Timestamp::UNIX_EPOCH)
}

fn lower(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
}

fn device_id_of(d: &Option<g::Device>) -> Option<String> {
    d.as_ref().and_then(|d| lower(&d.device_id))
}

/// One authentication method.
pub fn method(m: &g::AuthenticationMethod) -> r::AuthMethod {
    use g::AuthenticationMethod as M;
    match m {
        M::Fido2(f) => r::AuthMethod::Passkey(r::Passkey {
            id: f.id.clone(),
            display_name: f.display_name.clone(),
            aaguid: lower(&f.aa_guid),
            passkey_type: match f.passkey_type {
                Some(g::PasskeyType::DeviceBound) => Some(r::PasskeyType::DeviceBound),
                Some(g::PasskeyType::Synced) => Some(r::PasskeyType::Synced),
                _ => None,
            },
            model: f.model.clone(),
            attested: f
                .attestation_level
                .as_deref()
                .map(|l| l.eq_ignore_ascii_case("attested")),
            created: created(f.created_date_time),
            last_used: f.last_used_date_time,
        }),
        M::WindowsHello(w) => r::AuthMethod::WindowsHello(r::WindowsHello {
            id: w.id.clone(),
            display_name: w.display_name.clone(),
            device_id: device_id_of(&w.device),
            created: created(w.created_date_time),
            last_used: w.last_used_date_time,
        }),
        M::MicrosoftAuthenticator(a) => r::AuthMethod::Authenticator(r::AuthenticatorApp {
            id: a.id.clone(),
            display_name: a.display_name.clone(),
            device_id: device_id_of(&a.device),
            app_version: a.phone_app_version.clone(),
            created: created(a.created_date_time),
            last_used: a.last_used_date_time,
        }),
        M::Phone(p) => r::AuthMethod::Phone(r::PhoneMethod {
            phone_type: match p.phone_type {
                Some(g::PhoneType::AlternateMobile) => r::PhoneType::AlternateMobile,
                Some(g::PhoneType::Office) => r::PhoneType::Office,
                _ => r::PhoneType::Mobile,
            },
            sms_sign_in: p
                .sms_sign_in_state
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("ready")),
            created: p.created_date_time,
        }),
        M::PlatformCredential(c) => r::AuthMethod::PlatformCredential(r::PlatformCredential {
            id: c.id.clone(),
            display_name: c.display_name.clone(),
            device_id: device_id_of(&c.device),
            platform: c.platform.as_deref().map(r::OsFamily::from_graph),
            created: created(c.created_date_time),
            last_used: c.last_used_date_time,
        }),
        M::TemporaryAccessPass(t) => r::AuthMethod::TemporaryAccessPass(r::TemporaryAccessPass {
            id: t.id.clone(),
            created: created(t.created_date_time),
            start: t.start_date_time,
            lifetime_minutes: t.lifetime_in_minutes.unwrap_or(0),
            usable_once: t.is_usable_once.unwrap_or(false),
            usable: t.is_usable.unwrap_or(false),
        }),
        M::Password(b) => r::AuthMethod::Password(r::Password {
            created: b.created_date_time,
        }),
        M::Email(b) => other("emailAuthenticationMethod", b),
        M::SoftwareOath(b) => other("softwareOathAuthenticationMethod", b),
        M::Unknown { odata_type, base } => other(odata_type, base),
    }
}

fn other(odata_type: &str, b: &g::MethodBase) -> r::AuthMethod {
    r::AuthMethod::Other(r::OtherMethod {
        odata_type: odata_type.to_owned(),
        created: b.created_date_time,
    })
}

/// A registration report row; `now` stands in when Graph gives no refresh time.
pub fn registration_report(
    row: &g::UserRegistrationDetails,
    now: Timestamp,
) -> r::RegistrationReport {
    r::RegistrationReport {
        methods_registered: row.methods_registered.clone(),
        last_updated: row.last_updated_date_time.unwrap_or(now),
    }
}

/// An Entra device; `None` without a `deviceId` (nothing in the sign-in log can refer to it).
pub fn registered_device(
    d: &g::Device,
    people_signing_in: Option<u32>,
) -> Option<r::RegisteredDevice> {
    Some(r::RegisteredDevice {
        device_id: lower(&d.device_id)?,
        display_name: d.display_name.clone().unwrap_or_default(),
        operating_system: d.operating_system.clone().unwrap_or_default(),
        operating_system_version: d.operating_system_version.clone(),
        trust_type: d
            .trust_type
            .as_ref()
            .and_then(|t| r::TrustType::from_graph(t.as_str())),
        approximate_last_sign_in: d.approximate_last_sign_in_date_time,
        manufacturer: d.manufacturer.clone(),
        model: d.model.clone(),
        shared: d
            .profile_type
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("shared"))
            || people_signing_in.is_some_and(|n| n > 1),
        people_signing_in,
        work_profile: false,
    })
}

/// The `$select` of bulk sign-in reads: the properties [`sign_in`] reads.
pub const SIGN_IN_FIELDS: &str = "id,createdDateTime,userId,appId,appDisplayName,clientAppUsed,isInteractive,userAgent,status,deviceDetail,authenticationDetails";

/// A beta sign-in.
pub fn sign_in(s: &g::SignIn) -> r::SignIn {
    let d = s.device_detail.as_ref();
    r::SignIn {
        at: s.created_date_time,
        app_id: s.app_id.clone().unwrap_or_default().to_ascii_lowercase(),
        app_display_name: s.app_display_name.clone(),
        interactive: s.is_interactive.unwrap_or(true),
        device: r::SignInDevice {
            device_id: d.and_then(|d| lower(&d.device_id)),
            display_name: d.and_then(|d| d.display_name.clone()),
            operating_system: d.and_then(|d| d.operating_system.clone()),
            browser: d.and_then(|d| d.browser.clone()),
        },
        user_agent: s.user_agent.clone(),
        client_app_used: s.client_app_used.clone(),
        steps: s
            .authentication_details
            .iter()
            .map(|a| r::AuthStep {
                method: a.authentication_method.clone().unwrap_or_default(),
                detail: a.authentication_method_detail.clone(),
                succeeded: a.succeeded.unwrap_or(false),
            })
            .collect(),
        error_code: s.status.as_ref().map_or(0, |st| st.error_code),
    }
}

/// A directory audit event of the "Authentication Methods" service.
pub fn audit_event(a: &g::DirectoryAudit) -> r::AuditEvent {
    let result = match a.result.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("success") => r::AuditResult::Success,
        Some("failure") => r::AuditResult::Failure,
        Some("timeout") => r::AuditResult::Timeout,
        _ => r::AuditResult::Unknown,
    };
    r::AuditEvent {
        activity: a.activity_display_name.clone().unwrap_or_default(),
        result,
        at: a.activity_date_time,
        aaguid: a
            .detail("AAGUID")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase),
        reason: a.result_reason.clone(),
    }
}

/// The id Graph uses for "every user" in method policy targets.
const ALL_USERS: &str = "all_users";

/// The FIDO2 method configuration. Without passkey profiles (tenants not yet moved to them),
/// the deprecated top-level attestation and key restrictions make one profile for everyone.
pub fn passkey_policy(c: &g::Fido2MethodConfiguration) -> PasskeyPolicy {
    let mut profiles: Vec<r::PasskeyProfile> = c
        .passkey_profiles
        .iter()
        .map(|p| {
            let types = p.types();
            r::PasskeyProfile {
                id: p.id.clone(),
                device_bound: types.contains(&g::PasskeyType::DeviceBound),
                synced: types.contains(&g::PasskeyType::Synced),
                attestation_enforced: p
                    .attestation_enforcement
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case("registrationOnly")),
                key_restrictions: key_restrictions(p.key_restrictions.as_ref()),
            }
        })
        .collect();
    let mut default_profile_id = c.default_passkey_profile.clone();
    let legacy = profiles.is_empty()
        && (c.is_attestation_enforced == Some(true)
            || key_restrictions(c.key_restrictions.as_ref()).is_some());
    if legacy {
        profiles.push(r::PasskeyProfile {
            id: "legacy".into(),
            device_bound: true,
            synced: true,
            attestation_enforced: c.is_attestation_enforced == Some(true),
            key_restrictions: key_restrictions(c.key_restrictions.as_ref()),
        });
        default_profile_id = Some("legacy".into());
    }
    PasskeyPolicy {
        enabled: c
            .state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled")),
        self_service_registration: c.is_self_service_registration_allowed.unwrap_or(true),
        include_targets: c
            .include_targets
            .iter()
            .map(|t| r::PolicyTarget {
                group_id: (!t.id.eq_ignore_ascii_case(ALL_USERS))
                    .then(|| t.id.to_ascii_lowercase()),
                allowed_profile_ids: if legacy {
                    Vec::new()
                } else {
                    t.allowed_passkey_profiles.clone()
                },
            })
            .collect(),
        exclude_group_ids: c
            .exclude_targets
            .iter()
            .map(|t| t.id.to_ascii_lowercase())
            .collect(),
        profiles,
        default_profile_id,
    }
}

fn key_restrictions(k: Option<&g::KeyRestrictions>) -> Option<r::KeyRestrictions> {
    let k = k?;
    if k.is_enforced != Some(true) {
        return None;
    }
    let enforcement = match k.enforcement_type.as_ref()? {
        g::EnforcementType::Allow => r::Enforcement::Allow,
        g::EnforcementType::Block => r::Enforcement::Block,
        g::EnforcementType::Unknown(_) => return None,
    };
    Some(r::KeyRestrictions {
        enforcement,
        aaguids: k
            .aa_guids
            .iter()
            .map(|a| a.trim().to_ascii_lowercase())
            .collect(),
    })
}

/// The groups of the policy's targets (not "all users"), for membership checks.
pub fn policy_groups(p: &PasskeyPolicy) -> Vec<String> {
    p.include_targets
        .iter()
        .filter_map(|t| t.group_id.clone())
        .chain(p.exclude_group_ids.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_passkey_keeps_its_aaguid_lower_case_type_and_attestation() {
        let m: g::AuthenticationMethod = fixture("fido2Method.json");
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let list = method_list(&[m], now);
        let r::AuthMethod::Passkey(p) = &list.methods[0] else {
            panic!("{:?}", list.methods[0]);
        };
        assert_eq!(
            p.aaguid.as_deref(),
            Some("90a3ccdf-635c-4729-a248-9b709135078f")
        );
        assert_eq!(p.passkey_type, Some(r::PasskeyType::DeviceBound));
        assert_eq!(p.attested, Some(true));
        assert_eq!(p.model.as_deref(), Some("Microsoft Authenticator - iOS"));
        assert_eq!(
            p.created,
            "2026-09-10T08:01:22Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(list.fetched_at, now);
    }

    #[test]
    fn a_beta_sign_in_keeps_device_user_agent_steps_and_error_code() {
        let s: g::SignIn = fixture("signIn-beta.json");
        let m = sign_in(&s);
        assert_eq!(m.app_id, "1fec8e78-bce4-4aaf-ab1b-5451cc387264");
        assert!(m.interactive);
        assert_eq!(m.error_code, 0);
        assert_eq!(m.device.operating_system.as_deref(), Some("Windows 10"));
        assert_eq!(m.device.browser.as_deref(), Some("Edge 130.0.0"));
        assert_eq!(m.device.display_name.as_deref(), Some("LT-4711"));
        assert!(m.device.device_id.is_some());
        assert_eq!(
            m.user_agent.as_deref(),
            Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
        );
        assert_eq!(
            m.steps,
            vec![r::AuthStep {
                method: "Passkey (device-bound)".into(),
                detail: Some("Microsoft Authenticator - iOS".into()),
                succeeded: true,
            }]
        );
    }

    #[test]
    fn a_failed_registration_audit_keeps_its_aaguid_and_reason() {
        let a: g::DirectoryAudit = fixture("directoryAudit.json");
        let e = audit_event(&a);
        assert_eq!(e.activity, "User registered security info");
        assert_eq!(e.result, r::AuditResult::Failure);
        assert_eq!(
            e.aaguid.as_deref(),
            Some("90a3ccdf-635c-4729-a248-9b709135078f")
        );
        assert_eq!(e.reason.as_deref(), Some("User canceled the flow."));
    }

    #[test]
    fn a_device_keeps_its_build_and_trust_type_and_counts_people() {
        let d: g::Device = fixture("device.json");
        let m = registered_device(&d, Some(3)).unwrap();
        assert_eq!(
            m.device_id,
            d.device_id.clone().unwrap().to_ascii_lowercase()
        );
        assert_eq!(m.operating_system_version, d.operating_system_version);
        assert_eq!(
            m.trust_type,
            d.trust_type
                .as_ref()
                .and_then(|t| r::TrustType::from_graph(t.as_str()))
        );
        assert!(m.shared, "three people sign in on it");
        assert!(!registered_device(&d, Some(1)).unwrap().shared);
        let mut anonymous = d.clone();
        anonymous.device_id = None;
        assert!(registered_device(&anonymous, None).is_none());
    }

    #[test]
    fn the_registration_report_row_keeps_methods_and_refresh_time() {
        let row: g::UserRegistrationDetails = fixture("userRegistrationDetails.json");
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let m = registration_report(&row, now);
        assert_eq!(m.methods_registered, row.methods_registered);
        assert_eq!(m.last_updated, row.last_updated_date_time.unwrap_or(now));
    }

    #[test]
    fn passkey_profiles_become_the_policy_readiness_decides_by() {
        let c: g::Fido2MethodConfiguration = fixture("fido2Configuration.json");
        let p = passkey_policy(&c);
        assert!(p.enabled && p.self_service_registration);
        assert_eq!(p.include_targets.len(), 1);
        assert_eq!(p.include_targets[0].group_id, None, "all_users");
        assert_eq!(p.profiles.len(), 1);
        let profile = &p.profiles[0];
        assert!(profile.device_bound && profile.synced && !profile.attestation_enforced);
        let k = profile.key_restrictions.as_ref().unwrap();
        assert_eq!(k.enforcement, r::Enforcement::Allow);
        assert_eq!(k.aaguids.len(), 2);
        assert!(policy_groups(&p).is_empty());
    }

    #[test]
    fn a_legacy_policy_without_profiles_keeps_its_attestation_and_key_list() {
        let mut c: g::Fido2MethodConfiguration = fixture("fido2Configuration.json");
        c.passkey_profiles.clear();
        c.is_attestation_enforced = Some(true);
        c.key_restrictions = Some(g::KeyRestrictions {
            is_enforced: Some(true),
            enforcement_type: Some(g::EnforcementType::Block),
            aa_guids: vec!["ABC".into()],
        });
        c.include_targets[0].id = "0F0E0D0C-0000-4000-8000-000000000001".into();
        let p = passkey_policy(&c);
        assert_eq!(p.default_profile_id.as_deref(), Some("legacy"));
        assert!(p.profiles[0].attestation_enforced);
        assert_eq!(
            p.profiles[0].key_restrictions.as_ref().unwrap().aaguids,
            vec!["abc".to_owned()]
        );
        assert_eq!(
            policy_groups(&p),
            vec!["0f0e0d0c-0000-4000-8000-000000000001".to_owned()]
        );
        assert!(p.include_targets[0].allowed_profile_ids.is_empty());
    }
}
