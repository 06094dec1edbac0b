//! Table-driven tests over hand-built people: every verdict and the cases the rollout
//! meets (reference/graph.md §14).

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::*;

pub(crate) const IPHONE_AAGUID: &str = "90a3ccdf-635c-4729-a248-9b709135078f";
pub(crate) const ANDROID_AAGUID: &str = "de1e552d-db1d-4423-a619-566b625cdc84";
pub(crate) const YUBIKEY_AAGUID: &str = "2fc0579f-8113-47ea-b116-bb5a8db9202a";
pub(crate) const TEAMS: &str = "1fec8e78-bce4-4aaf-ab1b-5451cc387264";
pub(crate) const OFFICE_HOME: &str = "4765445b-32c6-49b0-83e6-1d93765276ca";
pub(crate) const MY_SIGN_INS: &str = "19db86c3-b2b9-44cc-b339-36da233a3be2";

pub(crate) fn now() -> Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

pub(crate) fn days_ago(d: i64) -> Timestamp {
    now() - SignedDuration::from_hours(24 * d)
}

pub(crate) fn person() -> PersonSnapshot {
    PersonSnapshot {
        user_id: "11111111-2222-3333-4444-555555555555".into(),
        user_principal_name: "anna.mueller@contoso.com".into(),
        user_type: UserType::Member,
        account_kind: AccountKind::Person,
        account_enabled: true,
        group_ids: BTreeSet::new(),
        methods: Some(MethodList {
            fetched_at: now() - SignedDuration::from_hours(1),
            methods: vec![AuthMethod::Password(Password { created: None })],
        }),
        registration_report: None,
        devices: vec![],
        sign_ins: vec![],
        audit_events: vec![],
        taken_at: now(),
    }
}

fn add(p: &mut PersonSnapshot, m: AuthMethod) {
    p.methods.as_mut().unwrap().methods.push(m);
}

pub(crate) fn registered(
    id: &str,
    name: &str,
    os: &str,
    version: &str,
    trust: Option<TrustType>,
) -> RegisteredDevice {
    RegisteredDevice {
        device_id: id.into(),
        display_name: name.into(),
        operating_system: os.into(),
        operating_system_version: Some(version.into()),
        trust_type: trust,
        approximate_last_sign_in: Some(days_ago(1)),
        manufacturer: None,
        model: None,
        shared: false,
        people_signing_in: None,
        work_profile: false,
    }
}

pub(crate) fn passkey(
    aaguid: &str,
    name: &str,
    model: &str,
    created: i64,
    last_used: Option<i64>,
) -> AuthMethod {
    AuthMethod::Passkey(Passkey {
        id: format!("pk-{name}"),
        display_name: Some(name.into()),
        aaguid: Some(aaguid.into()),
        passkey_type: Some(PasskeyType::DeviceBound),
        model: Some(model.into()),
        attested: Some(true),
        created: days_ago(created),
        last_used: last_used.map(days_ago),
    })
}

fn whfb(name: &str, created: i64) -> AuthMethod {
    AuthMethod::WindowsHello(WindowsHello {
        id: format!("whfb-{name}"),
        display_name: Some(name.into()),
        device_id: None,
        created: days_ago(created),
        last_used: None,
    })
}

/// How a sign-in was made.
#[derive(Clone, Copy)]
pub(crate) enum Via {
    /// A desktop or mobile app.
    App,
    /// A browser, by `deviceDetail.browser`.
    Browser(&'static str),
}

/// The methods of a sign-in: `None` is password and push.
pub(crate) fn steps(strong: Option<&str>, detail: Option<&str>) -> Vec<AuthStep> {
    match strong {
        Some(m) => vec![AuthStep {
            method: m.into(),
            detail: detail.map(str::to_owned),
            succeeded: true,
        }],
        None => vec![
            AuthStep {
                method: "Password".into(),
                detail: None,
                succeeded: true,
            },
            AuthStep {
                method: "Mobile app notification".into(),
                detail: None,
                succeeded: true,
            },
        ],
    }
}

pub(crate) fn sign_in(
    device_id: &str,
    os: &str,
    ua: &str,
    via: Via,
    strong: Option<&str>,
    days: i64,
) -> SignIn {
    let (client, browser, app) = match via {
        Via::App => (
            "Mobile Apps and Desktop clients",
            "Rich Client 5.2.0",
            TEAMS,
        ),
        Via::Browser(b) => ("Browser", b, OFFICE_HOME),
    };
    SignIn {
        at: days_ago(days),
        app_id: app.into(),
        app_display_name: None,
        interactive: true,
        device: SignInDevice {
            device_id: Some(device_id.into()),
            display_name: None,
            operating_system: Some(os.into()),
            browser: Some(browser.into()),
        },
        user_agent: Some(ua.into()),
        client_app_used: Some(client.into()),
        steps: steps(strong, None),
        error_code: 0,
    }
}

const WIN_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
const IOS_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1";
const IOS16_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.7 Mobile/15E148 Safari/604.1";
const MAC_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const LINUX_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

fn android_ua(v: u32, model: &str) -> String {
    format!(
        "Mozilla/5.0 (Linux; Android {v}; {model}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"
    )
}

fn device_bound_only() -> PasskeyPolicy {
    let mut p = PasskeyPolicy::allow_all();
    p.profiles[0].synced = false;
    p
}

/// A person with an iPhone 15 (iOS 18) holding a used Authenticator passkey.
fn with_iphone(p: &mut PersonSnapshot) {
    p.devices.push(registered(
        "phone-1",
        "iPhone 15",
        "iOS",
        "18.3",
        Some(TrustType::Workplace),
    ));
    add(
        p,
        passkey(
            IPHONE_AAGUID,
            "iPhone 15",
            "Microsoft Authenticator - iOS",
            40,
            Some(2),
        ),
    );
    for d in [2, 5] {
        p.sign_ins.push(sign_in(
            "phone-1",
            "Ios",
            IOS_UA,
            Via::Browser("Mobile Safari"),
            Some("Passkey (device-bound)"),
            d,
        ));
    }
}

fn run(p: &PersonSnapshot, policy: &PasskeyPolicy) -> Assessment {
    assess(
        p,
        policy,
        &Rules::default(),
        &TargetPopulation::default(),
        now(),
    )
}

fn device<'a>(a: &'a Assessment, id: &str) -> &'a DeviceAssessment {
    a.devices
        .iter()
        .find(|d| {
            d.key
                == DeviceKey::Registered {
                    device_id: id.into(),
                }
        })
        .unwrap_or_else(|| panic!("no device {id} in {:#?}", a.devices))
}

struct Case {
    name: &'static str,
    build: fn() -> (PersonSnapshot, PasskeyPolicy),
    /// Device id → expected verdict name.
    devices: &'static [(&'static str, &'static str)],
    person: &'static str,
    check: fn(&Assessment),
}

fn person_name(v: &PersonVerdict) -> &'static str {
    match v {
        PersonVerdict::SafeToEnforce => "SafeToEnforce",
        PersonVerdict::NotYet { .. } => "NotYet",
        PersonVerdict::NeedsExclusion { .. } => "NeedsExclusion",
        PersonVerdict::NotTarget { .. } => "NotTarget",
    }
}

fn iphone16(p: &mut PersonSnapshot) {
    p.devices.push(registered(
        "phone-16",
        "iPhone 8",
        "iOS",
        "16.7.2",
        Some(TrustType::Workplace),
    ));
    p.sign_ins.push(sign_in(
        "phone-16",
        "Ios",
        IOS16_UA,
        Via::Browser("Mobile Safari"),
        None,
        3,
    ));
    p.sign_ins.push(sign_in(
        "phone-16",
        "Ios",
        "Outlook-iOS/2.0 (iOS 16.7)",
        Via::App,
        None,
        4,
    ));
}

fn android(p: &mut PersonSnapshot, version: u32, manufacturer: &str, model: &str) {
    let mut d = registered(
        "android-1",
        model,
        "Android",
        &version.to_string(),
        Some(TrustType::Workplace),
    );
    d.manufacturer = Some(manufacturer.into());
    d.model = Some(model.into());
    p.devices.push(d);
    p.sign_ins.push(sign_in(
        "android-1",
        "Android",
        &android_ua(version, model),
        Via::Browser("Chrome Mobile 130.0.0"),
        None,
        2,
    ));
}

fn windows(p: &mut PersonSnapshot, id: &str, build: &str, trust: Option<TrustType>) {
    p.devices
        .push(registered(id, &format!("LT-{id}"), "Windows", build, trust));
}

/// An iPhone on iOS 18 with a new Authenticator passkey, never signed in with from the phone,
/// and a Windows 11 PC that signed in with it through the QR/Bluetooth flow yesterday.
fn iphone_passkey_used_only_from_the_pc() -> (PersonSnapshot, PasskeyPolicy) {
    let mut p = person();
    p.devices.push(registered(
        "phone-1",
        "iPhone 15",
        "iOS",
        "18.3",
        Some(TrustType::Workplace),
    ));
    add(
        &mut p,
        passkey(
            IPHONE_AAGUID,
            "iPhone 15",
            "Microsoft Authenticator - iOS",
            2,
            None,
        ),
    );
    p.sign_ins
        .push(sign_in("phone-1", "Ios", IOS_UA, Via::App, None, 3));
    windows(&mut p, "pc-11", "10.0.22631.4890", Some(TrustType::AzureAd));
    p.sign_ins
        .push(sign_in("pc-11", "Windows 10", WIN_UA, Via::App, None, 3));
    let mut cross = sign_in(
        "pc-11",
        "Windows 10",
        WIN_UA,
        Via::Browser("Edge 130.0.0"),
        Some("Passkey (device-bound)"),
        1,
    );
    cross.steps = steps(
        Some("Passkey (device-bound)"),
        Some("Microsoft Authenticator - iOS"),
    );
    p.sign_ins.push(cross);
    (p, device_bound_only())
}

const CASES: &[Case] = &[
    Case {
        name: "synced_passkey_sign_in_proves_nothing_once_the_policy_allows_only_device_bound",
        build: || {
            let mut p = person();
            iphone16(&mut p);
            // Signed in with an iCloud Keychain passkey while synced ones were allowed; the
            // method list no longer shows it, so only the policy can say it stopped working.
            p.methods = None;
            p.sign_ins[0].steps = steps(Some("Passkey (synced)"), Some("iCloud Keychain"));
            (p, device_bound_only())
        },
        devices: &[("phone-16", "Incompatible")],
        person: "NeedsExclusion",
        check: |a| {
            assert!(device(a, "phone-16").channels.iter().all(|c| !c.proven));
        },
    },
    Case {
        name: "synced_passkey_sign_in_makes_the_phone_ready_where_synced_passkeys_are_allowed",
        build: || {
            let mut p = person();
            iphone16(&mut p);
            p.methods = None;
            for s in &mut p.sign_ins {
                s.steps = steps(Some("Passkey (synced)"), Some("iCloud Keychain"));
            }
            (p, PasskeyPolicy::allow_all())
        },
        devices: &[("phone-16", "Ready")],
        person: "SafeToEnforce",
        check: |_| {},
    },
    Case {
        name: "ios_16_phone_is_incompatible_where_only_device_bound_passkeys_are_allowed",
        build: || {
            let mut p = person();
            iphone16(&mut p);
            (p, device_bound_only())
        },
        devices: &[("phone-16", "Incompatible")],
        person: "NeedsExclusion",
        check: |a| {
            let DeviceVerdict::Incompatible { reason, remedies } = &device(a, "phone-16").verdict
            else {
                unreachable!()
            };
            assert_eq!(
                *reason,
                IncompatibleReason::IosTooOld {
                    version: Version::parse("16.7.2"),
                    needs: 17
                }
            );
            assert_eq!(
                *remedies,
                vec![
                    Remedy::UpgradeOs {
                        os: OsFamily::Ios,
                        to: 17
                    },
                    Remedy::AllowSyncedPasskeys,
                    Remedy::SecurityKey,
                    Remedy::Exclusion
                ]
            );
        },
    },
    Case {
        name: "ios_16_phone_needs_a_synced_passkey_where_synced_passkeys_are_allowed",
        build: || {
            let mut p = person();
            iphone16(&mut p);
            (p, PasskeyPolicy::allow_all())
        },
        devices: &[("phone-16", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            let DeviceVerdict::NeedsPasskey { options } = &device(a, "phone-16").verdict else {
                unreachable!()
            };
            assert_eq!(
                options[0].option,
                PasskeyOption::SyncedPasskey {
                    provider: ProviderKind::AppleSynced,
                    name: "Apple Passwords".into()
                }
            );
            assert!(options[0].covers_all);
            assert_eq!(options.last().unwrap().option, PasskeyOption::SecurityKey);
            assert!(
                !options
                    .iter()
                    .any(|o| matches!(o.option, PasskeyOption::AuthenticatorPasskey { .. }))
            );
        },
    },
    Case {
        name: "android_13_is_incompatible_with_device_bound_only_and_can_allow_synced",
        build: || {
            let mut p = person();
            android(&mut p, 13, "Google", "Pixel 4a");
            (p, device_bound_only())
        },
        devices: &[("android-1", "Incompatible")],
        person: "NeedsExclusion",
        check: |a| {
            let DeviceVerdict::Incompatible { reason, remedies } = &device(a, "android-1").verdict
            else {
                unreachable!()
            };
            assert_eq!(
                *reason,
                IncompatibleReason::AndroidTooOld {
                    version: Version::parse("13"),
                    needs: 14
                }
            );
            assert!(remedies.contains(&Remedy::AllowSyncedPasskeys));
        },
    },
    Case {
        name: "android_13_needs_a_google_synced_passkey_where_synced_is_allowed",
        build: || {
            let mut p = person();
            android(&mut p, 13, "Google", "Pixel 4a");
            (p, PasskeyPolicy::allow_all())
        },
        devices: &[("android-1", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            let DeviceVerdict::NeedsPasskey { options } = &device(a, "android-1").verdict else {
                unreachable!()
            };
            assert!(matches!(
                options[0].option,
                PasskeyOption::SyncedPasskey {
                    provider: ProviderKind::GoogleSynced,
                    ..
                }
            ));
        },
    },
    Case {
        name: "android_14_model_that_needs_15_is_incompatible_and_says_update",
        build: || {
            let mut p = person();
            android(&mut p, 14, "samsung", "Galaxy A14");
            (p, device_bound_only())
        },
        devices: &[("android-1", "Incompatible")],
        person: "NeedsExclusion",
        check: |a| {
            let DeviceVerdict::Incompatible { reason, remedies } = &device(a, "android-1").verdict
            else {
                unreachable!()
            };
            assert_eq!(
                *reason,
                IncompatibleReason::AndroidModelNeedsUpdate {
                    model: "Galaxy A14".into(),
                    version: Version::parse("14"),
                    needs: 15
                }
            );
            assert_eq!(
                remedies[0],
                Remedy::UpgradeOs {
                    os: OsFamily::Android,
                    to: 15
                }
            );
        },
    },
    Case {
        name: "android_14_of_a_good_model_needs_an_authenticator_passkey_on_the_phone",
        build: || {
            let mut p = person();
            android(&mut p, 14, "Google", "Pixel 8");
            (p, device_bound_only())
        },
        devices: &[("android-1", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            let DeviceVerdict::NeedsPasskey { options } = &device(a, "android-1").verdict else {
                unreachable!()
            };
            assert_eq!(
                options[0].option,
                PasskeyOption::AuthenticatorPasskey {
                    on_this_device: true
                }
            );
        },
    },
    Case {
        name: "windows_10_desktop_app_cannot_use_the_phone_passkey_that_edge_on_the_same_pc_uses",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            windows(
                &mut p,
                "pc-10",
                "10.0.19045.5011",
                Some(TrustType::Workplace),
            );
            p.sign_ins.push(sign_in(
                "pc-10",
                "Windows 10",
                WIN_UA,
                Via::Browser("Edge 130.0.0"),
                Some("Passkey (device-bound)"),
                2,
            ));
            p.sign_ins
                .push(sign_in("pc-10", "Windows 10", WIN_UA, Via::App, None, 1));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready"), ("pc-10", "Incompatible")],
        person: "NeedsExclusion",
        check: |a| {
            let pc = device(a, "pc-10");
            let DeviceVerdict::Incompatible { reason, remedies } = &pc.verdict else {
                unreachable!()
            };
            assert_eq!(
                *reason,
                IncompatibleReason::DesktopAppsNeedNewerWindows {
                    build: 19045,
                    needs: 22631
                }
            );
            assert_eq!(
                *remedies,
                vec![
                    Remedy::UpgradeOs {
                        os: OsFamily::Windows,
                        to: 22631
                    },
                    Remedy::UseBrowser { min_chromium: 108 },
                    Remedy::SecurityKey,
                    Remedy::Exclusion
                ]
            );
            let edge = pc
                .channels
                .iter()
                .find(|c| matches!(c.channel, Channel::Browser { .. }))
                .unwrap();
            assert!(edge.covered && edge.proven && edge.browser_major == Some(130));
            let app = pc
                .channels
                .iter()
                .find(|c| c.channel == Channel::App)
                .unwrap();
            assert!(!app.covered);
            assert!(!pc.os.windows.as_ref().unwrap().windows_11);
            assert_eq!(
                a.person,
                PersonVerdict::NeedsExclusion {
                    devices: vec![pc.key.clone()]
                }
            );
        },
    },
    Case {
        name: "windows_10_edge_only_with_a_used_phone_passkey_is_ready",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            windows(
                &mut p,
                "pc-10",
                "10.0.19045.5011",
                Some(TrustType::Workplace),
            );
            p.sign_ins.push(sign_in(
                "pc-10",
                "Windows 10",
                WIN_UA,
                Via::Browser("Edge 130.0.0"),
                Some("Passkey (device-bound)"),
                2,
            ));
            p.sign_ins.push(sign_in(
                "pc-10",
                "Windows 10",
                WIN_UA,
                Via::Browser("Edge 130.0.0"),
                None,
                1,
            ));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready"), ("pc-10", "Ready")],
        person: "SafeToEnforce",
        check: |_| {},
    },
    Case {
        name: "joined_windows_10_with_desktop_apps_needs_whfb_first",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            windows(
                &mut p,
                "pc-10",
                "10.0.19045.5011",
                Some(TrustType::ServerAd),
            );
            p.sign_ins
                .push(sign_in("pc-10", "Windows 10", WIN_UA, Via::App, None, 1));
            p.sign_ins.push(sign_in(
                "pc-10",
                "Windows 10",
                WIN_UA,
                Via::Browser("Edge 130.0.0"),
                None,
                1,
            ));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready"), ("pc-10", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            let DeviceVerdict::NeedsPasskey { options } = &device(a, "pc-10").verdict else {
                unreachable!()
            };
            assert_eq!(options[0].option, PasskeyOption::WindowsHelloForBusiness);
            assert!(options[0].covers_all);
            // Edge is already covered by the phone passkey (QR); only the desktop app is not.
            let pc = device(a, "pc-10");
            assert!(
                pc.channels
                    .iter()
                    .any(|c| matches!(c.channel, Channel::Browser { .. })
                        && c.covered
                        && !c.proven)
            );
            assert!(
                !options
                    .iter()
                    .any(|o| matches!(o.option, PasskeyOption::AuthenticatorPasskey { .. }))
            );
            assert_eq!(options.last().unwrap().option, PasskeyOption::SecurityKey);
        },
    },
    Case {
        name: "windows_11_23h2_is_told_by_build_and_lets_a_phone_passkey_cover_desktop_apps",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            windows(&mut p, "pc-11", "10.0.22631.4890", Some(TrustType::AzureAd));
            // The sign-in log says "Windows 10" for Windows 11.
            p.sign_ins
                .push(sign_in("pc-11", "Windows 10", WIN_UA, Via::App, None, 1));
            p.sign_ins.push(sign_in(
                "pc-11",
                "Windows 10",
                WIN_UA,
                Via::Browser("Firefox 132.0"),
                None,
                1,
            ));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready"), ("pc-11", "RegisteredButUnused")],
        person: "NotYet",
        check: |a| {
            let pc = device(a, "pc-11");
            let w = pc.os.windows.as_ref().unwrap();
            assert!(w.windows_11);
            assert_eq!(w.feature_update.as_deref(), Some("23H2"));
            assert!(pc.channels.iter().all(|c| c.covered));
            assert_eq!(
                pc.verdict,
                DeviceVerdict::RegisteredButUnused {
                    hint: UnusedHint::NotUsedFromThisDevice
                }
            );
        },
    },
    Case {
        name: "busy_shared_desktop_gets_a_security_key_first_and_no_whfb",
        build: || {
            let mut p = person();
            windows(&mut p, "kiosk", "10.0.22631.4890", Some(TrustType::AzureAd));
            p.devices[0].shared = true;
            p.devices[0].people_signing_in = Some(14);
            p.sign_ins.push(sign_in(
                "kiosk",
                "Windows 10",
                WIN_UA,
                Via::Browser("Edge 130.0.0"),
                None,
                1,
            ));
            p.sign_ins
                .push(sign_in("kiosk", "Windows 10", WIN_UA, Via::App, None, 2));
            (p, device_bound_only())
        },
        devices: &[("kiosk", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            let DeviceVerdict::NeedsPasskey { options } = &device(a, "kiosk").verdict else {
                unreachable!()
            };
            assert_eq!(options[0].option, PasskeyOption::SecurityKey);
            assert!(options[0].caveats.contains(&Caveat::SharedDevice));
            assert!(
                !options
                    .iter()
                    .any(|o| o.option == PasskeyOption::WindowsHelloForBusiness)
            );
        },
    },
    Case {
        name: "shared_desktop_with_room_offers_whfb_and_a_used_whfb_there_is_ready",
        build: || {
            let mut p = person();
            windows(&mut p, "kiosk", "10.0.19045.5011", Some(TrustType::AzureAd));
            p.devices[0].shared = true;
            p.devices[0].people_signing_in = Some(6);
            windows(
                &mut p,
                "kiosk2",
                "10.0.19045.5011",
                Some(TrustType::AzureAd),
            );
            p.devices[1].shared = true;
            p.devices[1].people_signing_in = Some(6);
            add(&mut p, whfb("LT-kiosk", 20));
            p.sign_ins.push(sign_in(
                "kiosk",
                "Windows 10",
                WIN_UA,
                Via::App,
                Some("Windows Hello for Business"),
                1,
            ));
            p.sign_ins
                .push(sign_in("kiosk2", "Windows 10", WIN_UA, Via::App, None, 1));
            (p, device_bound_only())
        },
        devices: &[("kiosk", "Ready"), ("kiosk2", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            let DeviceVerdict::NeedsPasskey { options } = &device(a, "kiosk2").verdict else {
                unreachable!()
            };
            assert_eq!(options[0].option, PasskeyOption::WindowsHelloForBusiness);
        },
    },
    Case {
        name: "passkey_deleted_from_the_phone_is_registered_but_unused_with_that_hint",
        build: || {
            let mut p = person();
            p.devices.push(registered(
                "phone-1",
                "iPhone 15",
                "iOS",
                "18.3",
                Some(TrustType::Workplace),
            ));
            add(
                &mut p,
                passkey(
                    IPHONE_AAGUID,
                    "iPhone 15",
                    "Microsoft Authenticator - iOS",
                    120,
                    Some(90),
                ),
            );
            p.sign_ins.push(sign_in(
                "phone-1",
                "Ios",
                IOS_UA,
                Via::Browser("Mobile Safari"),
                None,
                3,
            ));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "RegisteredButUnused")],
        person: "NotYet",
        check: |a| {
            assert_eq!(
                device(a, "phone-1").verdict,
                DeviceVerdict::RegisteredButUnused {
                    hint: UnusedHint::PasskeyPossiblyDeleted {
                        last_used: days_ago(90)
                    }
                }
            );
        },
    },
    Case {
        name: "passkey_never_used_is_registered_but_unused_with_that_hint",
        build: || {
            let mut p = person();
            p.devices.push(registered(
                "phone-1",
                "iPhone 15",
                "iOS",
                "18.3",
                Some(TrustType::Workplace),
            ));
            add(
                &mut p,
                passkey(
                    IPHONE_AAGUID,
                    "iPhone 15",
                    "Microsoft Authenticator - iOS",
                    20,
                    None,
                ),
            );
            p.sign_ins.push(sign_in(
                "phone-1",
                "Ios",
                IOS_UA,
                Via::Browser("Mobile Safari"),
                None,
                3,
            ));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "RegisteredButUnused")],
        person: "NotYet",
        check: |a| {
            assert_eq!(
                device(a, "phone-1").verdict,
                DeviceVerdict::RegisteredButUnused {
                    hint: UnusedHint::PasskeyNeverUsed
                }
            );
            assert_eq!(
                a.person,
                PersonVerdict::NotYet {
                    reasons: vec![NotYetReason::DeviceNotTested {
                        device: device(a, "phone-1").key.clone()
                    }]
                }
            );
        },
    },
    Case {
        name: "forgotten_whfb_pin_is_registered_but_unused_with_that_hint",
        build: || {
            let mut p = person();
            windows(&mut p, "pc-1", "10.0.26100.3000", Some(TrustType::AzureAd));
            add(&mut p, whfb("LT-pc-1", 100));
            let mut logon = sign_in(
                "pc-1",
                "Windows 10",
                "Windows-AzureAD-Authentication-Provider/1.0",
                Via::App,
                None,
                2,
            );
            logon.app_id = WINDOWS_SIGN_IN_APP_ID.into();
            p.sign_ins.push(logon);
            p.sign_ins
                .push(sign_in("pc-1", "Windows 10", WIN_UA, Via::App, None, 2));
            (p, device_bound_only())
        },
        devices: &[("pc-1", "RegisteredButUnused")],
        person: "NotYet",
        check: |a| {
            assert_eq!(
                device(a, "pc-1").verdict,
                DeviceVerdict::RegisteredButUnused {
                    hint: UnusedHint::WhfbPinPossiblyForgotten {
                        registered: days_ago(100)
                    }
                }
            );
        },
    },
    Case {
        name: "security_key_only_person_who_uses_the_key_everywhere_is_safe_to_enforce",
        build: || {
            let mut p = person();
            windows(
                &mut p,
                "pc-1",
                "10.0.19045.5011",
                Some(TrustType::Workplace),
            );
            add(
                &mut p,
                passkey(
                    YUBIKEY_AAGUID,
                    "YubiKey",
                    "YubiKey 5 Series with NFC",
                    200,
                    Some(1),
                ),
            );
            p.sign_ins.push(sign_in(
                "pc-1",
                "Windows 10",
                WIN_UA,
                Via::App,
                Some("FIDO2 security key"),
                1,
            ));
            p.sign_ins.push(sign_in(
                "pc-1",
                "Windows 10",
                WIN_UA,
                Via::Browser("Edge 130.0.0"),
                Some("FIDO2 security key"),
                3,
            ));
            (p, device_bound_only())
        },
        devices: &[("pc-1", "Ready")],
        person: "SafeToEnforce",
        check: |a| {
            assert_eq!(
                device(a, "pc-1").verdict,
                DeviceVerdict::Ready {
                    last_used: days_ago(1),
                    kind: StepKind::SecurityKey
                }
            );
            assert_eq!(device(a, "pc-1").covered_by, vec![0]);
        },
    },
    Case {
        name: "person_with_no_sign_ins_is_not_yet_safe_whatever_they_registered",
        build: || {
            let mut p = person();
            p.devices.push(registered(
                "phone-1",
                "iPhone 15",
                "iOS",
                "18.3",
                Some(TrustType::Workplace),
            ));
            add(
                &mut p,
                passkey(
                    IPHONE_AAGUID,
                    "iPhone 15",
                    "Microsoft Authenticator - iOS",
                    20,
                    Some(40),
                ),
            );
            // Older than the window.
            p.sign_ins.push(sign_in(
                "phone-1",
                "Ios",
                IOS_UA,
                Via::Browser("Mobile Safari"),
                Some("Passkey (device-bound)"),
                40,
            ));
            (p, device_bound_only())
        },
        devices: &[],
        person: "NotYet",
        check: |a| {
            assert!(a.devices.is_empty());
            assert_eq!(
                a.person,
                PersonVerdict::NotYet {
                    reasons: vec![NotYetReason::NoSignInsInWindow]
                }
            );
        },
    },
    Case {
        name: "linux_needs_a_security_key",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            let mut s = sign_in(
                "",
                "Linux",
                LINUX_UA,
                Via::Browser("Chrome 130.0.0"),
                None,
                1,
            );
            s.device.device_id = None;
            p.sign_ins.push(s);
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready")],
        person: "NotYet",
        check: |a| {
            let linux = a
                .devices
                .iter()
                .find(|d| d.os.family == OsFamily::Linux)
                .unwrap();
            assert!(matches!(
                linux.key,
                DeviceKey::Unregistered {
                    os: OsFamily::Linux,
                    client: Client::Chrome,
                    ..
                }
            ));
            let DeviceVerdict::NeedsPasskey { options } = &linux.verdict else {
                panic!("{:?}", linux.verdict)
            };
            assert_eq!(
                options.iter().map(|o| o.option.clone()).collect::<Vec<_>>(),
                vec![PasskeyOption::SecurityKey]
            );
        },
    },
    Case {
        name: "macos_offers_the_phone_passkey_and_platform_sso_and_names_the_broker",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            p.devices.push(registered(
                "mac-1",
                "MacBook Pro",
                "MacMDM",
                "14.5",
                Some(TrustType::Workplace),
            ));
            p.sign_ins.push(sign_in(
                "mac-1",
                "MacOs",
                MAC_UA,
                Via::Browser("Safari 18.1"),
                None,
                1,
            ));
            p.sign_ins
                .push(sign_in("mac-1", "MacOs", MAC_UA, Via::App, None, 1));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready"), ("mac-1", "RegisteredButUnused")],
        person: "NotYet",
        check: |a| {
            // The phone passkey covers Safari and (with the broker) the apps.
            let mac = device(a, "mac-1");
            assert!(mac.channels.iter().all(|c| c.covered));
            assert_eq!(mac.os.family, OsFamily::MacOs);
        },
    },
    Case {
        name: "macos_without_a_phone_needs_platform_sso_first",
        build: || {
            let mut p = person();
            p.devices.push(registered(
                "mac-1",
                "MacBook Pro",
                "MacMDM",
                "14.5",
                Some(TrustType::Workplace),
            ));
            p.sign_ins.push(sign_in(
                "mac-1",
                "MacOs",
                MAC_UA,
                Via::Browser("Safari 18.1"),
                None,
                1,
            ));
            (p, PasskeyPolicy::allow_all())
        },
        devices: &[("mac-1", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            let DeviceVerdict::NeedsPasskey { options } = &device(a, "mac-1").verdict else {
                unreachable!()
            };
            assert!(matches!(
                options[0].option,
                PasskeyOption::PlatformPasskey {
                    provider: ProviderKind::MacPlatformCredential,
                    ..
                }
            ));
            assert!(options.iter().any(|o| matches!(
                o.option,
                PasskeyOption::SyncedPasskey {
                    provider: ProviderKind::AppleSynced,
                    ..
                }
            )));
        },
    },
    Case {
        name: "a_passkey_whose_aaguid_is_blocked_covers_nothing_and_its_sign_ins_do_not_count",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            for s in &mut p.sign_ins {
                s.steps = steps(
                    Some("Passkey (device-bound)"),
                    Some("Microsoft Authenticator - iOS"),
                );
            }
            let mut policy = device_bound_only();
            policy.profiles[0].key_restrictions = Some(KeyRestrictions {
                enforcement: Enforcement::Block,
                aaguids: vec![IPHONE_AAGUID.to_uppercase()],
            });
            (p, policy)
        },
        devices: &[("phone-1", "NeedsPasskey")],
        person: "NotYet",
        check: |a| {
            assert_eq!(
                a.credentials[0].blocked,
                Some(PasskeyBlock::AaguidNotAllowed)
            );
            let phone = device(a, "phone-1");
            assert_eq!(phone.blocked, vec![0]);
            assert!(phone.last_phishing_resistant.is_none());
            let DeviceVerdict::NeedsPasskey { options } = &phone.verdict else {
                unreachable!()
            };
            assert_eq!(options[0].option, PasskeyOption::SecurityKey);
        },
    },
    Case {
        name: "an_allow_list_without_any_usable_aaguid_makes_the_phone_incompatible_by_policy",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            for s in &mut p.sign_ins {
                s.steps = steps(
                    Some("Passkey (device-bound)"),
                    Some("Microsoft Authenticator - iOS"),
                );
            }
            let mut policy = device_bound_only();
            policy.profiles[0].key_restrictions = Some(KeyRestrictions {
                enforcement: Enforcement::Allow,
                aaguids: vec![ANDROID_AAGUID.into()],
            });
            (p, policy)
        },
        devices: &[("phone-1", "Incompatible")],
        person: "NeedsExclusion",
        check: |a| {
            let DeviceVerdict::Incompatible { reason, remedies } = &device(a, "phone-1").verdict
            else {
                unreachable!()
            };
            assert_eq!(
                *reason,
                IncompatibleReason::PolicyAllowsNoOption {
                    block: Some(PasskeyBlock::AaguidNotAllowed)
                }
            );
            assert_eq!(*remedies, vec![Remedy::Exclusion]);
        },
    },
    Case {
        name: "unregistered_windows_with_desktop_apps_asks_which_windows",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            let mut s = sign_in("", "Windows 10", WIN_UA, Via::App, None, 1);
            s.device.device_id = Some(String::new());
            p.sign_ins.push(s);
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready")],
        person: "NotYet",
        check: |a| {
            let pc = a
                .devices
                .iter()
                .find(|d| d.os.family == OsFamily::Windows)
                .unwrap();
            assert!(pc.os.windows.is_none());
            assert_eq!(
                pc.verdict,
                DeviceVerdict::Unknown {
                    ask: vec![Question::WindowsVersion]
                }
            );
        },
    },
    Case {
        name: "a_phone_without_a_version_asks_for_it",
        build: || {
            let mut p = person();
            let mut s = sign_in("", "Ios", "Outlook-iOS/2.0", Via::App, None, 1);
            s.device.device_id = None;
            p.sign_ins.push(s);
            (p, device_bound_only())
        },
        devices: &[],
        person: "NotYet",
        check: |a| {
            assert_eq!(a.devices.len(), 1);
            assert_eq!(
                a.devices[0].verdict,
                DeviceVerdict::Unknown {
                    ask: vec![Question::OsVersion]
                }
            );
        },
    },
    Case {
        name: "phone_and_whfb_laptop_both_used_make_the_person_safe_to_enforce",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            windows(&mut p, "pc-1", "10.0.26100.3000", Some(TrustType::AzureAd));
            add(&mut p, whfb("LT-pc-1", 300));
            p.sign_ins.push(sign_in(
                "pc-1",
                "Windows 10",
                WIN_UA,
                Via::App,
                Some("Windows Hello for Business"),
                1,
            ));
            p.sign_ins.push(sign_in(
                "pc-1",
                "Windows 10",
                WIN_UA,
                Via::Browser("Chrome 129.0.0"),
                Some("Previously satisfied"),
                1,
            ));
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready"), ("pc-1", "Ready")],
        person: "SafeToEnforce",
        check: |_| {},
    },
    Case {
        name: "a_phone_passkey_used_from_the_pc_proves_the_pc_and_the_phone_that_holds_it",
        build: || {
            let (p, policy) = iphone_passkey_used_only_from_the_pc();
            (p, policy)
        },
        devices: &[("phone-1", "Ready"), ("pc-11", "Ready")],
        person: "SafeToEnforce",
        check: |a| {
            let phone = device(a, "phone-1");
            assert!(
                phone.channels.iter().all(|c| !c.proven),
                "nothing was signed in from the phone itself: {phone:#?}"
            );
            assert!(matches!(
                phone.verdict,
                DeviceVerdict::Ready {
                    kind: StepKind::PasskeyDeviceBound,
                    ..
                }
            ));
        },
    },
    Case {
        name: "registration_and_interrupt_apps_do_not_make_a_device",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            let mut s = sign_in(
                "",
                "Linux",
                LINUX_UA,
                Via::Browser("Chrome 130.0.0"),
                None,
                1,
            );
            s.device.device_id = None;
            s.app_id = MY_SIGN_INS.into();
            p.sign_ins.push(s);
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready")],
        person: "SafeToEnforce",
        check: |a| {
            assert_eq!(a.devices.len(), 1);
            assert_eq!(a.ignored_sign_ins, 1);
        },
    },
    Case {
        name: "the_method_list_wins_over_an_older_report_row",
        build: || {
            let mut p = person();
            with_iphone(&mut p);
            p.registration_report = Some(RegistrationReport {
                methods_registered: vec!["mobilePhone".into(), "fido2SecurityKey".into()],
                last_updated: days_ago(1),
            });
            (p, device_bound_only())
        },
        devices: &[("phone-1", "Ready")],
        person: "SafeToEnforce",
        check: |a| {
            assert_eq!(a.methods.source, Some(MethodSource::MethodList));
            assert_eq!(a.credentials.len(), 1);
            assert_eq!(a.credentials[0].source, MethodSource::MethodList);
            assert_eq!(
                a.credentials[0].provider_name.as_deref(),
                Some("Microsoft Authenticator")
            );
            assert!(!a.methods.phone);
        },
    },
    Case {
        name: "a_newer_report_row_adds_what_an_older_method_list_misses",
        build: || {
            let mut p = person();
            p.methods.as_mut().unwrap().fetched_at = days_ago(3);
            p.devices.push(registered(
                "phone-1",
                "iPhone 15",
                "iOS",
                "18.3",
                Some(TrustType::Workplace),
            ));
            p.sign_ins.push(sign_in(
                "phone-1",
                "Ios",
                IOS_UA,
                Via::Browser("Mobile Safari"),
                None,
                1,
            ));
            p.registration_report = Some(RegistrationReport {
                methods_registered: vec![
                    "microsoftAuthenticatorPush".into(),
                    "passKeyDeviceBoundAuthenticator".into(),
                ],
                last_updated: days_ago(0),
            });
            (p, device_bound_only())
        },
        devices: &[("phone-1", "RegisteredButUnused")],
        person: "NotYet",
        check: |a| {
            assert_eq!(a.credentials.len(), 1);
            assert_eq!(a.credentials[0].source, MethodSource::RegistrationReport);
            assert_eq!(
                a.credentials[0].kind,
                CredentialKind::Passkey {
                    provider: ProviderKind::AuthenticatorIos,
                    known_provider: false
                }
            );
            assert!(a.methods.authenticator_app);
        },
    },
];

#[test]
fn table_of_people_gives_the_expected_verdicts() {
    for case in CASES {
        let (p, policy) = (case.build)();
        let a = run(&p, &policy);
        for (id, expected) in case.devices {
            let got = device(&a, id).verdict.name();
            assert_eq!(
                got,
                *expected,
                "{}: device {id}: {:#?}",
                case.name,
                device(&a, id)
            );
        }
        assert_eq!(
            person_name(&a.person),
            case.person,
            "{}: {:#?}",
            case.name,
            a.person
        );
        (case.check)(&a);
    }
}

#[test]
fn the_table_covers_every_verdict() {
    let mut devices = BTreeSet::new();
    let mut people = BTreeSet::new();
    for case in CASES {
        let (p, policy) = (case.build)();
        let a = run(&p, &policy);
        devices.extend(a.devices.iter().map(|d| d.verdict.name()));
        people.insert(person_name(&a.person));
    }
    assert_eq!(devices.len(), 5, "{devices:?}");
    // NotTarget is covered by not_targets_are_named_and_never_safe.
    assert_eq!(people.len(), 3, "{people:?}");
}

#[test]
fn not_targets_are_named_and_never_safe() {
    let ready = || {
        let mut p = person();
        with_iphone(&mut p);
        p
    };
    let safe = run(&ready(), &PasskeyPolicy::allow_all());
    assert_eq!(safe.person, PersonVerdict::SafeToEnforce);

    let mut guest = ready();
    guest.user_type = UserType::Guest;
    let mut external = ready();
    external.user_principal_name = "anna_partner.example#EXT#@contoso.onmicrosoft.com".into();
    let mut glass = ready();
    glass.account_kind = AccountKind::BreakGlass;
    let mut service = ready();
    service.account_kind = AccountKind::ServiceAccount;
    let mut disabled = ready();
    disabled.account_enabled = false;
    for (p, why) in [
        (guest, NotTargetReason::Guest),
        (external, NotTargetReason::Guest),
        (glass, NotTargetReason::BreakGlass),
        (service, NotTargetReason::ServiceAccount),
        (disabled, NotTargetReason::AccountDisabled),
    ] {
        let a = run(&p, &PasskeyPolicy::allow_all());
        assert_eq!(a.person, PersonVerdict::NotTarget { why });
    }

    let target = TargetPopulation {
        target_group_id: Some("AAAAAAAA-0000-0000-0000-000000000001".into()),
        excluded_group_ids: vec!["aaaaaaaa-0000-0000-0000-000000000002".into()],
    };
    let outside = ready();
    let a = assess(
        &outside,
        &PasskeyPolicy::allow_all(),
        &Rules::default(),
        &target,
        now(),
    );
    assert_eq!(
        a.person,
        PersonVerdict::NotTarget {
            why: NotTargetReason::NotInTargetGroup {
                group_id: "aaaaaaaa-0000-0000-0000-000000000001".into()
            }
        }
    );
    let mut inside = ready();
    inside
        .group_ids
        .insert("aaaaaaaa-0000-0000-0000-000000000001".into());
    let a = assess(
        &inside,
        &PasskeyPolicy::allow_all(),
        &Rules::default(),
        &target,
        now(),
    );
    assert_eq!(a.person, PersonVerdict::SafeToEnforce);
    inside
        .group_ids
        .insert("aaaaaaaa-0000-0000-0000-000000000002".into());
    let a = assess(
        &inside,
        &PasskeyPolicy::allow_all(),
        &Rules::default(),
        &target,
        now(),
    );
    assert_eq!(
        a.person,
        PersonVerdict::NotTarget {
            why: NotTargetReason::InExcludedGroup {
                group_id: "aaaaaaaa-0000-0000-0000-000000000002".into()
            }
        }
    );
}

#[test]
fn a_person_excluded_from_the_passkey_method_still_counts_whfb() {
    let mut p = person();
    windows(&mut p, "pc-1", "10.0.26100.3000", Some(TrustType::AzureAd));
    add(&mut p, whfb("LT-pc-1", 300));
    add(
        &mut p,
        passkey(
            YUBIKEY_AAGUID,
            "YubiKey",
            "YubiKey 5 Series with NFC",
            200,
            None,
        ),
    );
    p.sign_ins.push(sign_in(
        "pc-1",
        "Windows 10",
        WIN_UA,
        Via::App,
        Some("Windows Hello for Business"),
        1,
    ));
    p.group_ids
        .insert("bbbbbbbb-0000-0000-0000-000000000001".into());
    let mut policy = PasskeyPolicy::allow_all();
    policy.exclude_group_ids = vec!["bbbbbbbb-0000-0000-0000-000000000001".into()];
    let a = run(&p, &policy);
    assert_eq!(a.passkey_policy_block, Some(PolicyBlock::PersonExcluded));
    assert_eq!(
        a.credentials.iter().filter(|c| c.blocked.is_some()).count(),
        1
    );
    assert_eq!(a.person, PersonVerdict::SafeToEnforce);
}

#[test]
fn a_failed_registration_with_nothing_since_is_reported_as_stuck() {
    let mut p = person();
    android(&mut p, 14, "samsung", "Galaxy A14");
    p.audit_events = vec![
        AuditEvent {
            activity: "User started security info registration".into(),
            result: AuditResult::Success,
            at: days_ago(5),
            aaguid: None,
            reason: None,
        },
        AuditEvent {
            activity: "User registered security info".into(),
            result: AuditResult::Failure,
            at: days_ago(5),
            aaguid: Some(ANDROID_AAGUID.into()),
            reason: Some("The passkey provider on this device isn't supported.".into()),
        },
    ];
    let a = run(&p, &PasskeyPolicy::allow_all());
    assert!(a.registration.stuck);
    let failure = a.registration.last_failure.as_ref().unwrap();
    assert_eq!(failure.provider, Some(ProviderKind::AuthenticatorAndroid));
    let PersonVerdict::NotYet { reasons } = &a.person else {
        panic!("{:?}", a.person)
    };
    assert!(reasons.contains(&NotYetReason::RegistrationFailing { at: days_ago(5) }));
}

#[test]
fn the_assessment_serialises_with_stable_keys() {
    let mut p = person();
    iphone16(&mut p);
    let a = run(&p, &device_bound_only());
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["person"]["verdict"], "needsExclusion");
    assert_eq!(json["devices"][0]["verdict"]["verdict"], "incompatible");
    assert_eq!(
        json["devices"][0]["verdict"]["reason"]["reason"],
        "iosTooOld"
    );
    let back: Assessment = serde_json::from_value(json).unwrap();
    assert_eq!(back, a);
}

#[test]
fn whfb_of_a_laptop_no_longer_used_does_not_cover_the_new_one() {
    let mut p = person();
    windows(
        &mut p,
        "pc-new",
        "10.0.26100.3000",
        Some(TrustType::AzureAd),
    );
    add(&mut p, whfb("LT-old", 400));
    p.sign_ins
        .push(sign_in("pc-new", "Windows 10", WIN_UA, Via::App, None, 1));
    let a = run(&p, &device_bound_only());
    let pc = device(&a, "pc-new");
    assert!(pc.covered_by.is_empty());
    let DeviceVerdict::NeedsPasskey { options } = &pc.verdict else {
        panic!("{:?}", pc.verdict)
    };
    assert_eq!(options[0].option, PasskeyOption::WindowsHelloForBusiness);
}

#[test]
fn an_old_authenticator_app_must_be_updated_where_a_profile_allows_both_passkey_types() {
    let build = || {
        let mut p = person();
        android(&mut p, 14, "Google", "Pixel 8");
        add(
            &mut p,
            AuthMethod::Authenticator(AuthenticatorApp {
                id: "app-1".into(),
                display_name: Some("Pixel 8".into()),
                device_id: None,
                app_version: Some("6.2409.6094".into()),
                created: days_ago(300),
                last_used: None,
            }),
        );
        p
    };
    let caveats = |policy: &PasskeyPolicy| {
        let a = run(&build(), policy);
        let DeviceVerdict::NeedsPasskey { options } = &device(&a, "android-1").verdict else {
            panic!("{:?}", device(&a, "android-1").verdict)
        };
        assert_eq!(
            options[0].option,
            PasskeyOption::AuthenticatorPasskey {
                on_this_device: true
            }
        );
        options[0].caveats.clone()
    };
    assert!(caveats(&PasskeyPolicy::allow_all()).contains(&Caveat::UpdateAuthenticator));
    assert!(!caveats(&device_bound_only()).contains(&Caveat::UpdateAuthenticator));
}

#[test]
fn the_journeys_device_plan_carries_the_verdicts_as_stable_keys() {
    use crate::conversation::{DevicePlan, DeviceStatus, PlanVerdict};
    let mut p = person();
    iphone16(&mut p);
    let plan = DevicePlan::from_assessment(&run(&p, &device_bound_only()));
    assert_eq!(plan.verdict, PlanVerdict::NeedsExclusion);
    assert_eq!(plan.devices.len(), 1);
    let phone = &plan.devices[0];
    assert_eq!(phone.key, "device:phone-16");
    assert_eq!(phone.label, "iPhone 8");
    assert_eq!(phone.os, "ios");
    let DeviceStatus::Incompatible { reason, remedies } = &phone.status else {
        panic!("{phone:?}")
    };
    assert_eq!(reason, "iosTooOld");
    assert!(remedies.iter().any(|r| r == "securityKey"), "{remedies:?}");
    assert!(remedies.iter().any(|r| r == "exclusion"), "{remedies:?}");
    assert_eq!(plan.incompatible(), ["device:phone-16"]);

    // Where synced passkeys are allowed, the same phone needs one: best option first.
    let plan = DevicePlan::from_assessment(&run(&p, &PasskeyPolicy::allow_all()));
    let DeviceStatus::NeedsPasskey { options } = &plan.devices[0].status else {
        panic!("{:?}", plan.devices[0])
    };
    assert_eq!(options[0], "syncedPasskey");
    assert_eq!(plan.credentials, 0);

    // A person who uses an Authenticator passkey on their iPhone is safe.
    let mut p = person();
    with_iphone(&mut p);
    let plan = DevicePlan::from_assessment(&run(&p, &PasskeyPolicy::allow_all()));
    assert_eq!(plan.verdict, PlanVerdict::SafeToEnforce);
    assert_eq!(plan.devices[0].status, DeviceStatus::Ready);
    assert_eq!(plan.credentials, 1);

    // Guests are named by their reason.
    let mut p = person();
    p.user_type = UserType::Guest;
    let plan = DevicePlan::from_assessment(&run(&p, &PasskeyPolicy::allow_all()));
    assert_eq!(
        plan.verdict,
        PlanVerdict::NotTarget {
            why: "guest".into()
        }
    );
}

#[test]
fn a_passkey_used_from_the_pc_proves_no_phone_when_two_phones_hold_that_model() {
    let (mut p, policy) = iphone_passkey_used_only_from_the_pc();
    p.devices.push(registered(
        "phone-2",
        "iPhone 13",
        "iOS",
        "17.6",
        Some(TrustType::Workplace),
    ));
    add(
        &mut p,
        passkey(
            IPHONE_AAGUID,
            "iPhone 13",
            "Microsoft Authenticator - iOS",
            2,
            None,
        ),
    );
    p.sign_ins
        .push(sign_in("phone-2", "Ios", IOS_UA, Via::App, None, 3));
    let a = run(&p, &policy);
    assert_eq!(device(&a, "pc-11").verdict.name(), "Ready");
    for phone in ["phone-1", "phone-2"] {
        assert!(
            matches!(
                device(&a, phone).verdict,
                DeviceVerdict::RegisteredButUnused { .. }
            ),
            "either phone may hold the passkey used: {:#?}",
            device(&a, phone)
        );
    }
    assert_eq!(person_name(&a.person), "NotYet");
}

#[test]
fn a_passkey_sign_in_in_one_browser_proves_the_unregistered_mac_for_its_other_browser() {
    let mut p = person();
    with_iphone(&mut p);
    let mac = |browser: &'static str, strong: Option<&str>| {
        let mut s = sign_in("", "MacOs", MAC_UA, Via::Browser(browser), strong, 1);
        s.device.device_id = None;
        s
    };
    p.sign_ins
        .push(mac("Safari 18.1", Some("Passkey (device-bound)")));
    p.sign_ins.push(mac("Chrome 130.0.0", None));
    let a = run(&p, &device_bound_only());
    let macs: Vec<&DeviceAssessment> = a
        .devices
        .iter()
        .filter(|d| matches!(d.key, DeviceKey::Unregistered { .. }))
        .collect();
    assert_eq!(macs.len(), 2, "one key per browser: {:#?}", a.devices);
    for d in &macs {
        assert_eq!(d.verdict.name(), "Ready", "{d:#?}");
    }
    assert_eq!(person_name(&a.person), "SafeToEnforce");

    // Without the Safari sign-in neither browser is proven.
    p.sign_ins.retain(|s| {
        s.steps
            .iter()
            .all(|st| st.method != "Passkey (device-bound)")
            || s.device.device_id.is_some()
    });
    let a = run(&p, &device_bound_only());
    assert!(
        a.devices
            .iter()
            .filter(|d| matches!(d.key, DeviceKey::Unregistered { .. }))
            .all(|d| d.verdict.name() == "RegisteredButUnused"),
        "{:#?}",
        a.devices
    );
}

#[test]
fn a_phone_passkey_used_in_a_browser_seen_nowhere_else_still_proves_the_phone() {
    let (mut p, policy) = iphone_passkey_used_only_from_the_pc();
    // The QR sign-in came from a browser that gave no device id, in an app that makes no
    // device of its own (as the bot's test app does).
    let cross = p
        .sign_ins
        .iter_mut()
        .find(|s| s.steps.iter().any(|st| st.detail.is_some()))
        .unwrap();
    cross.device.device_id = None;
    cross.app_id = MY_SIGN_INS.into();
    let a = run(&p, &policy);
    assert!(
        matches!(device(&a, "phone-1").verdict, DeviceVerdict::Ready { .. }),
        "{:#?}",
        a.devices
    );
    // The PC itself is not proven by a browser that did not say it was the PC.
    assert_eq!(device(&a, "pc-11").verdict.name(), "RegisteredButUnused");
    assert_eq!(a.last_phishing_resistant, Some(days_ago(1)));
}
