//! The simulated tenant's people, mapped straight from the generator's model (not through
//! Graph JSON), against the ground truth the generator recorded for them.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::*;
use crate::sim::population as sim;

fn now() -> Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn browser_detail(d: &sim::Device, app: sim::App) -> String {
    if app.is_native() {
        return "Rich Client 5.2.0".into();
    }
    match (d.browser, d.platform) {
        (sim::Browser::Safari, sim::Platform::Ios) => "Mobile Safari".into(),
        (sim::Browser::Safari, _) => "Safari 18.1".into(),
        (sim::Browser::Firefox, _) => "Firefox 132.0".into(),
        (sim::Browser::Edge, _) => "Edge 130.0.0".into(),
        (sim::Browser::Chrome, p) if p.is_mobile() => "Chrome Mobile 130.0.0".into(),
        (sim::Browser::Chrome, _) => "Chrome 130.0.0".into(),
    }
}

fn user_agent(d: &sim::Device, app: sim::App) -> String {
    if app == sim::App::WindowsSignIn {
        return "Windows-AzureAD-Authentication-Provider/1.0".into();
    }
    let v = d.os;
    match d.platform {
        sim::Platform::Windows => {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0.0.0 Edg/130.0.0.0".into()
        }
        sim::Platform::MacOs => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15".into()
        }
        sim::Platform::Linux => "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0.0.0".into(),
        sim::Platform::Android => format!(
            "Mozilla/5.0 (Linux; Android {}; {}) Chrome/130.0.0.0 Mobile",
            v.major, d.model
        ),
        sim::Platform::Ios => format!(
            "Mozilla/5.0 (iPhone; CPU iPhone OS {}_{} like Mac OS X) Safari/604.1",
            v.major, v.minor
        ),
    }
}

fn snapshot(pop: &sim::Population, index: usize, people_on: &BTreeMap<u32, u32>) -> PersonSnapshot {
    let p = &pop.people[index];
    let group_ids = pop
        .groups
        .iter()
        .filter(|g| g.members.contains(&(index as u32)))
        .map(|g| g.id.to_string())
        .collect();
    let device_name = |d: u32| pop.devices[d as usize].display_name.clone();
    let methods = p
        .methods
        .iter()
        .map(|m| match &m.kind {
            sim::MethodKind::Password => AuthMethod::Password(Password {
                created: Some(m.created),
            }),
            sim::MethodKind::Phone { sms_sign_in, .. } => AuthMethod::Phone(PhoneMethod {
                phone_type: PhoneType::Mobile,
                sms_sign_in: *sms_sign_in,
                created: Some(m.created),
            }),
            sim::MethodKind::MicrosoftAuthenticator {
                device,
                phone_app_version,
            } => AuthMethod::Authenticator(AuthenticatorApp {
                id: m.id.to_string(),
                display_name: Some(device_name(*device)),
                device_id: None,
                app_version: Some((*phone_app_version).into()),
                created: m.created,
                last_used: None,
            }),
            // Graph does not say whether the PIN is remembered.
            sim::MethodKind::WindowsHelloForBusiness { device, .. } => {
                AuthMethod::WindowsHello(WindowsHello {
                    id: m.id.to_string(),
                    display_name: Some(device_name(*device)),
                    device_id: None,
                    created: m.created,
                    last_used: None,
                })
            }
            // Graph does not say whether the passkey is still on the phone.
            sim::MethodKind::Fido2 {
                passkey,
                device,
                last_used,
                ..
            } => AuthMethod::Passkey(Passkey {
                id: m.id.to_string(),
                display_name: Some(
                    device
                        .map(device_name)
                        .unwrap_or_else(|| passkey.model().into()),
                ),
                aaguid: Some(passkey.aaguid().into()),
                passkey_type: Some(if passkey.is_synced() {
                    PasskeyType::Synced
                } else {
                    PasskeyType::DeviceBound
                }),
                model: Some(passkey.model().into()),
                attested: Some(!passkey.is_synced()),
                created: m.created,
                last_used: *last_used,
            }),
        })
        .collect();
    let devices = p
        .devices
        .iter()
        .map(|&i| (i, &pop.devices[i as usize]))
        .filter(|(_, d)| d.is_registered())
        .map(|(i, d)| RegisteredDevice {
            device_id: d.device_id.to_string(),
            display_name: d.display_name.clone(),
            operating_system: d.platform.device_os().into(),
            operating_system_version: Some(d.os_version()),
            trust_type: d.trust_type.map(|t| match t {
                sim::TrustType::AzureAd => TrustType::AzureAd,
                sim::TrustType::ServerAd => TrustType::ServerAd,
                sim::TrustType::Workplace => TrustType::Workplace,
            }),
            approximate_last_sign_in: None,
            manufacturer: Some(d.manufacturer.into()),
            model: Some(d.model.into()),
            shared: d.form == sim::FormFactor::SharedDesktop,
            people_signing_in: people_on.get(&i).copied(),
            work_profile: d.work_profile,
        })
        .collect();
    let sign_ins = pop
        .sign_ins_of(p)
        .iter()
        .map(|s| {
            let d = pop.sign_in_device(p, s);
            let passkey = p.methods.get(s.method as usize).and_then(|m| match m.kind {
                sim::MethodKind::Fido2 { passkey, .. } => Some(passkey),
                _ => None,
            });
            let synced = passkey.is_some_and(|k| k.is_synced());
            let failed = s.outcome != sim::SignInOutcome::Success;
            SignIn {
                at: pop.sign_in_time(s),
                app_id: s.app.app_id().into(),
                app_display_name: Some(s.app.display_name().into()),
                interactive: s.interactive,
                device: SignInDevice {
                    device_id: d.is_registered().then(|| d.device_id.to_string()),
                    display_name: d.is_registered().then(|| d.display_name.clone()),
                    operating_system: Some(d.platform.sign_in_os().into()),
                    browser: Some(browser_detail(d, s.app)),
                },
                user_agent: Some(user_agent(d, s.app)),
                client_app_used: Some(s.app.client_app_used().into()),
                steps: s
                    .auth
                    .steps(synced)
                    .iter()
                    .map(|m| AuthStep {
                        method: (*m).into(),
                        detail: passkey.map(|k| k.model().into()),
                        succeeded: !failed,
                    })
                    .collect(),
                error_code: i64::from(s.outcome.error_code()),
            }
        })
        .collect();
    let audit_events = pop
        .audits
        .iter()
        .filter(|e| e.person == index as u32)
        .map(|e| AuditEvent {
            activity: e.activity.display_name().into(),
            result: if e.succeeded {
                AuditResult::Success
            } else {
                AuditResult::Failure
            },
            at: e.at,
            aaguid: e.passkey.map(|k| k.aaguid().into()),
            reason: e.reason.map(str::to_owned),
        })
        .collect();
    PersonSnapshot {
        user_id: p.id.to_string(),
        user_principal_name: p.user_principal_name.clone(),
        user_type: match p.user_type {
            sim::UserType::Member => UserType::Member,
            sim::UserType::Guest => UserType::Guest,
        },
        account_kind: match p.kind {
            sim::PersonKind::ServiceAccount => AccountKind::ServiceAccount,
            sim::PersonKind::BreakGlass => AccountKind::BreakGlass,
            _ => AccountKind::Person,
        },
        account_enabled: p.account_enabled,
        group_ids,
        methods: Some(MethodList {
            fetched_at: now(),
            methods,
        }),
        registration_report: None,
        devices,
        sign_ins,
        audit_events,
        taken_at: now(),
    }
}

#[test]
fn simulated_people_get_the_verdicts_their_ground_truth_implies() {
    let pop = sim::Population::generate(3000, 7, now());
    let mut people_on: BTreeMap<u32, u32> = BTreeMap::new();
    for p in &pop.people {
        for &d in &p.devices {
            *people_on.entry(d).or_default() += 1;
        }
    }
    let target = TargetPopulation {
        target_group_id: Some(pop.group(sim::GroupRole::Target).id.to_string()),
        excluded_group_ids: [
            sim::GroupRole::ExcludedGuests,
            sim::GroupRole::ExcludedServiceAccounts,
            sim::GroupRole::ExcludedBreakGlass,
        ]
        .iter()
        .map(|r| pop.group(*r).id.to_string())
        .collect(),
    };
    let mut policy = PasskeyPolicy::allow_all();
    policy.profiles[0].synced = false;
    let rules = Rules::default();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut hints: BTreeMap<&str, u32> = BTreeMap::new();
    for (i, p) in pop.people.iter().enumerate() {
        let s = snapshot(&pop, i, &people_on);
        let a = assess(&s, &policy, &rules, &target, now());
        if p.kind != sim::PersonKind::Employee || !p.account_enabled {
            assert!(
                matches!(a.person, PersonVerdict::NotTarget { .. }),
                "{}: {:?}",
                p.user_principal_name,
                a.person
            );
            continue;
        }
        for d in &a.devices {
            seen.insert(d.verdict.name());
        }
        if p.traits.no_sign_ins {
            assert_eq!(
                a.person,
                PersonVerdict::NotYet {
                    reasons: vec![NotYetReason::NoSignInsInWindow]
                }
            );
        }
        let by_id = |dev: &sim::Device| {
            a.devices.iter().find(|x| {
                x.key
                    == DeviceKey::Registered {
                        device_id: dev.device_id.to_string(),
                    }
            })
        };
        for m in &p.methods {
            match m.kind {
                sim::MethodKind::WindowsHelloForBusiness {
                    device,
                    pin_forgotten: true,
                } => {
                    let Some(d) = by_id(&pop.devices[device as usize]) else {
                        continue;
                    };
                    assert!(
                        !matches!(
                            d.verdict,
                            DeviceVerdict::Ready {
                                kind: StepKind::WindowsHello,
                                ..
                            }
                        ),
                        "{:?}",
                        d.verdict
                    );
                    if let DeviceVerdict::RegisteredButUnused {
                        hint: UnusedHint::WhfbPinPossiblyForgotten { .. },
                    } = d.verdict
                    {
                        *hints.entry("pin").or_default() += 1;
                    }
                }
                sim::MethodKind::Fido2 {
                    device: Some(device),
                    state: sim::PasskeyState::DeletedFromDevice,
                    ..
                } => {
                    let Some(d) = by_id(&pop.devices[device as usize]) else {
                        continue;
                    };
                    assert!(
                        !matches!(d.verdict, DeviceVerdict::Ready { .. }),
                        "{:?}",
                        d.verdict
                    );
                    if let DeviceVerdict::RegisteredButUnused {
                        hint: UnusedHint::PasskeyPossiblyDeleted { .. },
                    } = d.verdict
                    {
                        *hints.entry("deleted").or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        let has_passkey = p
            .methods
            .iter()
            .any(|m| matches!(m.kind, sim::MethodKind::Fido2 { .. }));
        for &di in &p.devices {
            let dev = &pop.devices[di as usize];
            let Some(d) = by_id(dev) else { continue };
            if dev.needs_android_15 && !has_passkey {
                assert!(
                    matches!(
                        d.verdict,
                        DeviceVerdict::Incompatible {
                            reason: IncompatibleReason::AndroidModelNeedsUpdate { needs: 15, .. },
                            ..
                        }
                    ),
                    "{:?}",
                    d.verdict
                );
                *hints.entry("needs15").or_default() += 1;
            }
            if dev.platform == sim::Platform::Ios && dev.os.major == 15 && !has_passkey {
                assert!(
                    matches!(
                        d.verdict,
                        DeviceVerdict::Incompatible {
                            reason: IncompatibleReason::IosTooOld { needs: 17, .. },
                            ..
                        }
                    ),
                    "{:?}",
                    d.verdict
                );
            }
        }
        if p.traits.security_key_only {
            for d in &a.devices {
                assert!(
                    matches!(
                        d.verdict,
                        DeviceVerdict::Ready { .. } | DeviceVerdict::RegisteredButUnused { .. }
                    ),
                    "{}: {:#?}",
                    p.user_principal_name,
                    d
                );
            }
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    for h in ["pin", "deleted", "needs15"] {
        assert!(hints.get(h).is_some_and(|n| *n > 0), "{h}: {hints:?}");
    }
}
