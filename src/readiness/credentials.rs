//! The person's phishing-resistant credentials, from their own method list or, when that is
//! missing or older, from the registration report row, classified by the AAGUID table and
//! checked against the passkey policy.

use super::policy::EffectivePolicy;
use super::rules::{ProviderKind, Rules};
use super::snapshot::{AuthMethod, OsFamily, PasskeyType, PersonSnapshot};
use super::verdict::{Credential, CredentialKind, MethodSource, MethodsSummary};

/// A credential with what ties it to a device.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub credential: Credential,
    pub bind: Binding,
}

/// Which device a device-bound credential lives on, as far as known.
#[derive(Debug, Clone, Default)]
pub(crate) struct Binding {
    pub device_id: Option<String>,
    pub display_name: Option<String>,
    /// The OS family it must be on when neither id nor name tells.
    pub family: Option<OsFamily>,
}

/// Coarse class used to merge the report row into an older method list.
fn class(kind: CredentialKind) -> u8 {
    match kind {
        CredentialKind::WindowsHelloForBusiness => 0,
        CredentialKind::PlatformCredential => 1,
        CredentialKind::Passkey { provider, .. } => match provider {
            ProviderKind::AuthenticatorIos | ProviderKind::AuthenticatorAndroid => 2,
            ProviderKind::WindowsHello => 3,
            ProviderKind::SecurityKey => 4,
            ProviderKind::MacPlatformCredential => 1,
            _ => 5,
        },
    }
}

pub(crate) fn collect(
    person: &PersonSnapshot,
    rules: &Rules,
    policy: &EffectivePolicy<'_>,
) -> (Vec<Held>, MethodsSummary) {
    let mut summary = MethodsSummary {
        source: None,
        fetched_at: person.methods.as_ref().map(|m| m.fetched_at),
        report_updated_at: person.registration_report.as_ref().map(|r| r.last_updated),
        authenticator_app: false,
        phone: false,
        temporary_access_pass: false,
        password: false,
    };
    let mut held = Vec::new();
    let report_newer = match (&person.methods, &person.registration_report) {
        (Some(l), Some(r)) => r.last_updated > l.fetched_at,
        (None, Some(_)) => true,
        _ => false,
    };
    if let Some(list) = &person.methods {
        summary.source = Some(MethodSource::MethodList);
        for m in &list.methods {
            from_method(m, rules, &mut held, &mut summary);
        }
    }
    if report_newer && let Some(report) = &person.registration_report {
        if summary.source.is_none() {
            summary.source = Some(MethodSource::RegistrationReport);
        }
        let have: Vec<u8> = held.iter().map(|h| class(h.credential.kind)).collect();
        let phone_family = phone_family(person);
        let mut extra = Vec::new();
        for m in &report.methods_registered {
            from_report(m, phone_family, rules, &mut extra, &mut summary);
        }
        extra.retain(|h: &Held| !have.contains(&class(h.credential.kind)));
        extra.sort_by_key(|h| h.credential.kind);
        extra.dedup_by_key(|h| h.credential.kind);
        held.extend(extra);
    }
    for h in &mut held {
        if let CredentialKind::Passkey { provider, .. } = h.credential.kind {
            let passkey_type = provider.passkey_type();
            h.credential.blocked = policy
                .allows(passkey_type, h.credential.aaguid.as_deref(), Some(provider))
                .err();
        }
    }
    held.sort_by(|a, b| {
        (
            a.credential.kind,
            &a.credential.created,
            &a.credential.aaguid,
            &a.credential.display_name,
        )
            .cmp(&(
                b.credential.kind,
                &b.credential.created,
                &b.credential.aaguid,
                &b.credential.display_name,
            ))
    });
    (held, summary)
}

/// The phone platform an Authenticator passkey from the report most likely lives on.
fn phone_family(person: &PersonSnapshot) -> OsFamily {
    let mut families = person
        .devices
        .iter()
        .map(|d| OsFamily::from_graph(&d.operating_system))
        .filter(|f| f.is_mobile());
    families.next().unwrap_or(OsFamily::Ios)
}

fn from_method(m: &AuthMethod, rules: &Rules, held: &mut Vec<Held>, summary: &mut MethodsSummary) {
    let base = |kind, source| Credential {
        kind,
        provider_name: None,
        aaguid: None,
        display_name: None,
        model: None,
        created: None,
        last_used: None,
        source,
        blocked: None,
    };
    match m {
        AuthMethod::Passkey(p) => {
            let aaguid = p
                .aaguid
                .as_deref()
                .map(|a| a.trim().to_ascii_lowercase())
                .filter(|a| !a.is_empty() && a.chars().any(|c| c != '0' && c != '-'));
            let provider = aaguid.as_deref().and_then(|a| rules.provider(a));
            let (kind, known) = match (provider, p.passkey_type) {
                (Some(prov), _) => (prov.kind, true),
                (None, Some(PasskeyType::Synced)) => (ProviderKind::OtherSynced, false),
                (None, _) => (ProviderKind::SecurityKey, false),
            };
            let family = match kind {
                ProviderKind::AuthenticatorIos => Some(OsFamily::Ios),
                ProviderKind::AuthenticatorAndroid => Some(OsFamily::Android),
                ProviderKind::WindowsHello => Some(OsFamily::Windows),
                ProviderKind::MacPlatformCredential | ProviderKind::BrowserPlatform => {
                    Some(OsFamily::MacOs)
                }
                _ => None,
            };
            let mut c = base(
                CredentialKind::Passkey {
                    provider: kind,
                    known_provider: known,
                },
                MethodSource::MethodList,
            );
            c.provider_name = provider.map(|p| p.name.clone());
            c.aaguid = aaguid;
            c.display_name = p.display_name.clone();
            c.model = p.model.clone();
            c.created = Some(p.created);
            c.last_used = p.last_used;
            held.push(Held {
                credential: c,
                bind: Binding {
                    device_id: None,
                    display_name: family.and(p.display_name.clone()),
                    family,
                },
            });
        }
        AuthMethod::WindowsHello(w) => {
            let mut c = base(
                CredentialKind::WindowsHelloForBusiness,
                MethodSource::MethodList,
            );
            c.display_name = w.display_name.clone();
            c.created = Some(w.created);
            c.last_used = w.last_used;
            held.push(Held {
                credential: c,
                bind: Binding {
                    device_id: w.device_id.as_ref().map(|d| d.trim().to_ascii_lowercase()),
                    display_name: w.display_name.clone(),
                    family: Some(OsFamily::Windows),
                },
            });
        }
        AuthMethod::PlatformCredential(p) => {
            let mut c = base(CredentialKind::PlatformCredential, MethodSource::MethodList);
            c.display_name = p.display_name.clone();
            c.created = Some(p.created);
            c.last_used = p.last_used;
            held.push(Held {
                credential: c,
                bind: Binding {
                    device_id: p.device_id.as_ref().map(|d| d.trim().to_ascii_lowercase()),
                    display_name: p.display_name.clone(),
                    family: Some(p.platform.unwrap_or(OsFamily::MacOs)),
                },
            });
        }
        AuthMethod::Authenticator(_) => summary.authenticator_app = true,
        AuthMethod::Phone(_) => summary.phone = true,
        AuthMethod::TemporaryAccessPass(t) => summary.temporary_access_pass |= t.usable,
        AuthMethod::Password(_) => summary.password = true,
        AuthMethod::Other(_) => {}
    }
}

/// A `methodsRegistered` value (an open set: unknown strings are skipped).
fn from_report(
    m: &str,
    phone_family: OsFamily,
    rules: &Rules,
    held: &mut Vec<Held>,
    summary: &mut MethodsSummary,
) {
    let passkey = |provider: ProviderKind, family: Option<OsFamily>| Held {
        credential: Credential {
            kind: CredentialKind::Passkey {
                provider,
                known_provider: false,
            },
            provider_name: rules.provider_of_kind(provider).map(|p| p.name.clone()),
            aaguid: None,
            display_name: None,
            model: None,
            created: None,
            last_used: None,
            source: MethodSource::RegistrationReport,
            blocked: None,
        },
        bind: Binding {
            family,
            ..Binding::default()
        },
    };
    let other = |kind, family| Held {
        credential: Credential {
            kind,
            provider_name: None,
            aaguid: None,
            display_name: None,
            model: None,
            created: None,
            last_used: None,
            source: MethodSource::RegistrationReport,
            blocked: None,
        },
        bind: Binding {
            family: Some(family),
            ..Binding::default()
        },
    };
    match m {
        "passKeyDeviceBoundAuthenticator" => {
            let (kind, family) = if phone_family == OsFamily::Android {
                (ProviderKind::AuthenticatorAndroid, OsFamily::Android)
            } else {
                (ProviderKind::AuthenticatorIos, OsFamily::Ios)
            };
            held.push(passkey(kind, Some(family)));
        }
        "passKeyDeviceBoundWindowsHello" => {
            held.push(passkey(ProviderKind::WindowsHello, Some(OsFamily::Windows)))
        }
        "passKeyDeviceBound" | "fido2SecurityKey" => {
            held.push(passkey(ProviderKind::SecurityKey, None))
        }
        "passKeySynced" => held.push(passkey(ProviderKind::OtherSynced, None)),
        "windowsHelloForBusiness" => held.push(other(
            CredentialKind::WindowsHelloForBusiness,
            OsFamily::Windows,
        )),
        "macOsSecureEnclaveKey" => {
            held.push(other(CredentialKind::PlatformCredential, OsFamily::MacOs))
        }
        "microsoftAuthenticatorPush" | "microsoftAuthenticatorPasswordless" => {
            summary.authenticator_app = true
        }
        "mobilePhone" | "alternateMobilePhone" | "officePhone" => summary.phone = true,
        "temporaryAccessPass" => summary.temporary_access_pass = true,
        _ => {}
    }
}
