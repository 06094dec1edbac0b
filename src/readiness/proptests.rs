//! Property tests on generated people: the invariants enforcement relies on.

use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;
use proptest::prelude::*;

use super::device::SignInFacts;
use super::tests::{
    ANDROID_AAGUID, IPHONE_AAGUID, MY_SIGN_INS, OFFICE_HOME, TEAMS, YUBIKEY_AAGUID, days_ago, now,
    person,
};
use super::*;

const APPLE_AAGUID: &str = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd";
const GOOGLE_AAGUID: &str = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";
const UNKNOWN_AAGUID: &str = "12345678-1234-4123-8123-123456789abc";
const TARGET_GROUP: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const EXCLUDED_GROUP: &str = "aaaaaaaa-0000-0000-0000-000000000002";

#[derive(Debug, Clone)]
struct GenDevice {
    family: u8,
    version: u32,
    build: u32,
    registered: bool,
    trust: u8,
    shared: bool,
    people: u32,
    samsung_a14: bool,
    browser: u8,
    chromium: u32,
}

fn arb_device() -> impl Strategy<Value = GenDevice> {
    (
        0u8..6,
        (
            9u32..19,
            prop::sample::select(vec![19044u32, 19045, 22000, 22621, 22631, 26100]),
        ),
        (
            any::<bool>(),
            0u8..4,
            any::<bool>(),
            1u32..20,
            any::<bool>(),
        ),
        (0u8..4, 100u32..135),
    )
        .prop_map(
            |(
                family,
                (version, build),
                (registered, trust, shared, people, samsung_a14),
                (browser, chromium),
            )| {
                GenDevice {
                    family,
                    version,
                    build,
                    registered,
                    trust,
                    shared,
                    people,
                    samsung_a14,
                    browser,
                    chromium,
                }
            },
        )
}

#[derive(Debug, Clone)]
struct GenSignIn {
    device: usize,
    via: u8,
    strong: u8,
    with_detail: bool,
    success: bool,
    days: i64,
}

fn arb_sign_in() -> impl Strategy<Value = GenSignIn> {
    (
        0usize..4,
        0u8..5,
        0u8..6,
        any::<bool>(),
        prop::bool::weighted(0.9),
        0i64..36,
    )
        .prop_map(
            |(device, via, strong, with_detail, success, days)| GenSignIn {
                device,
                via,
                strong,
                with_detail,
                success,
                days,
            },
        )
}

#[derive(Debug, Clone)]
struct GenMethod {
    kind: u8,
    device: usize,
    created: i64,
    last_used: Option<i64>,
}

fn arb_method() -> impl Strategy<Value = GenMethod> {
    (0u8..9, 0usize..4, 1i64..400, prop::option::of(0i64..400)).prop_map(
        |(kind, device, created, last_used)| GenMethod {
            kind,
            device,
            created,
            last_used,
        },
    )
}

#[derive(Debug, Clone)]
struct GenPerson {
    devices: Vec<GenDevice>,
    sign_ins: Vec<GenSignIn>,
    methods: Vec<GenMethod>,
    /// 0 member, 1 guest, 2 service account, 3 break-glass, 4 disabled.
    kind: u8,
    in_target: bool,
    in_excluded: bool,
    report: Option<(Vec<u8>, i64)>,
}

fn arb_person() -> impl Strategy<Value = GenPerson> {
    (
        prop::collection::vec(arb_device(), 1..5),
        prop::collection::vec(arb_sign_in(), 0..24),
        prop::collection::vec(arb_method(), 0..5),
        prop::sample::select(vec![0u8, 0, 0, 0, 1, 2, 3, 4]),
        prop::bool::weighted(0.85),
        prop::bool::weighted(0.1),
        prop::option::of((prop::collection::vec(0u8..8, 0..4), 0i64..4)),
    )
        .prop_map(
            |(devices, sign_ins, methods, kind, in_target, in_excluded, report)| GenPerson {
                devices,
                sign_ins,
                methods,
                kind,
                in_target,
                in_excluded,
                report,
            },
        )
}

#[derive(Debug, Clone)]
struct GenPolicy {
    device_bound: bool,
    synced: bool,
    restriction: Option<(bool, Vec<u8>)>,
    enabled: bool,
}

fn arb_policy() -> impl Strategy<Value = GenPolicy> {
    (
        prop::bool::weighted(0.9),
        any::<bool>(),
        prop::option::of((any::<bool>(), prop::collection::vec(0u8..6, 0..4))),
        prop::bool::weighted(0.95),
    )
        .prop_map(|(device_bound, synced, restriction, enabled)| GenPolicy {
            device_bound,
            synced,
            restriction,
            enabled,
        })
}

const AAGUIDS: [&str; 6] = [
    IPHONE_AAGUID,
    ANDROID_AAGUID,
    APPLE_AAGUID,
    GOOGLE_AAGUID,
    YUBIKEY_AAGUID,
    UNKNOWN_AAGUID,
];

fn policy_of(g: &GenPolicy) -> PasskeyPolicy {
    let mut p = PasskeyPolicy::allow_all();
    p.enabled = g.enabled;
    p.profiles[0].device_bound = g.device_bound;
    p.profiles[0].synced = g.synced;
    p.profiles[0].key_restrictions = g.restriction.as_ref().map(|(allow, list)| KeyRestrictions {
        enforcement: if *allow {
            Enforcement::Allow
        } else {
            Enforcement::Block
        },
        aaguids: list
            .iter()
            .map(|i| AAGUIDS[*i as usize].to_owned())
            .collect(),
    });
    p
}

fn target() -> TargetPopulation {
    TargetPopulation {
        target_group_id: Some(TARGET_GROUP.into()),
        excluded_group_ids: vec![EXCLUDED_GROUP.into()],
    }
}

fn device_name(i: usize) -> String {
    format!("Device {i}")
}

fn snapshot_of(g: &GenPerson) -> PersonSnapshot {
    let mut p = person();
    match g.kind {
        1 => p.user_type = UserType::Guest,
        2 => p.account_kind = AccountKind::ServiceAccount,
        3 => p.account_kind = AccountKind::BreakGlass,
        4 => p.account_enabled = false,
        _ => {}
    }
    if g.in_target {
        p.group_ids.insert(TARGET_GROUP.into());
    }
    if g.in_excluded {
        p.group_ids.insert(EXCLUDED_GROUP.into());
    }
    for (i, d) in g.devices.iter().enumerate() {
        if !d.registered {
            continue;
        }
        let (os, version) = match d.family {
            0 => ("iOS", format!("{}.1", d.version.clamp(15, 18))),
            1 => ("Android", d.version.clamp(9, 15).to_string()),
            2 | 5 => ("Windows", format!("10.0.{}.100", d.build)),
            3 => ("MacMDM", format!("{}.1", d.version.clamp(12, 15))),
            _ => ("Linux", "22.04".to_owned()),
        };
        p.devices.push(RegisteredDevice {
            device_id: format!("dev-{i}"),
            display_name: device_name(i),
            operating_system: os.into(),
            operating_system_version: Some(version),
            trust_type: [
                Some(TrustType::AzureAd),
                Some(TrustType::ServerAd),
                Some(TrustType::Workplace),
                None,
            ][d.trust as usize],
            approximate_last_sign_in: None,
            manufacturer: d.samsung_a14.then(|| "samsung".to_owned()),
            model: d.samsung_a14.then(|| "Galaxy A14".to_owned()),
            shared: d.shared,
            people_signing_in: Some(d.people),
            work_profile: false,
        });
    }
    for s in &g.sign_ins {
        let i = s.device % g.devices.len();
        let d = &g.devices[i];
        let (os_label, ua) = match d.family {
            0 => (
                "Ios",
                format!(
                    "Mozilla/5.0 (iPhone; CPU iPhone OS {}_1 like Mac OS X) Safari/604.1",
                    d.version.clamp(15, 18)
                ),
            ),
            1 => (
                "Android",
                format!(
                    "Mozilla/5.0 (Linux; Android {}; Phone {i}) Chrome/130.0.0.0 Mobile Safari/537.36",
                    d.version.clamp(9, 15)
                ),
            ),
            2 | 5 => (
                "Windows 10",
                format!(
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; dev {i}) Chrome/{}.0.0.0",
                    d.chromium
                ),
            ),
            3 => (
                "MacOs",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15".to_owned(),
            ),
            _ => (
                "Linux",
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0.0.0".to_owned(),
            ),
        };
        let browser = match d.browser {
            0 => format!("Edge {}.0.0", d.chromium),
            1 => format!("Chrome {}.0.0", d.chromium),
            2 => "Safari 18.1".to_owned(),
            _ => "Firefox 132.0".to_owned(),
        };
        let (app, client, browser, ua) = match s.via {
            0 => (
                TEAMS,
                "Mobile Apps and Desktop clients",
                "Rich Client 5.2.0".to_owned(),
                ua,
            ),
            1 | 2 => (OFFICE_HOME, "Browser", browser, ua),
            3 => (
                WINDOWS_SIGN_IN_APP_ID,
                "Mobile Apps and Desktop clients",
                "Rich Client 5.2.0".to_owned(),
                "Windows-AzureAD-Authentication-Provider/1.0".to_owned(),
            ),
            _ => (MY_SIGN_INS, "Browser", browser, ua),
        };
        let method = [
            None,
            Some("Passkey (device-bound)"),
            Some("Passkey (synced)"),
            Some("FIDO2 security key"),
            Some("Windows Hello for Business"),
            Some("Previously satisfied"),
        ][s.strong as usize];
        let mut steps = super::tests::steps(
            method,
            s.with_detail.then_some("Microsoft Authenticator - iOS"),
        );
        if !s.success {
            steps[0].succeeded = false;
        }
        p.sign_ins.push(SignIn {
            at: days_ago(s.days) - SignedDuration::from_mins(i as i64 * 7 + s.strong as i64),
            app_id: app.into(),
            app_display_name: None,
            interactive: true,
            device: SignInDevice {
                device_id: d.registered.then(|| format!("dev-{i}")),
                display_name: d.registered.then(|| device_name(i)),
                operating_system: Some(os_label.into()),
                browser: Some(browser),
            },
            user_agent: Some(ua),
            client_app_used: Some(client.into()),
            steps,
            error_code: if s.success { 0 } else { 50126 },
        });
    }
    let methods = &mut p.methods.as_mut().unwrap().methods;
    for m in &g.methods {
        let name = device_name(m.device % g.devices.len());
        let (aaguid, model, passkey_type) = match m.kind {
            0 => (
                IPHONE_AAGUID,
                "Microsoft Authenticator - iOS",
                PasskeyType::DeviceBound,
            ),
            1 => (
                ANDROID_AAGUID,
                "Microsoft Authenticator - Android",
                PasskeyType::DeviceBound,
            ),
            2 => (APPLE_AAGUID, "iCloud Keychain", PasskeyType::Synced),
            3 => (
                GOOGLE_AAGUID,
                "Google Password Manager",
                PasskeyType::Synced,
            ),
            4 => (
                YUBIKEY_AAGUID,
                "YubiKey 5 Series with NFC",
                PasskeyType::DeviceBound,
            ),
            5 => (UNKNOWN_AAGUID, "Some key", PasskeyType::DeviceBound),
            6 => {
                methods.push(AuthMethod::WindowsHello(WindowsHello {
                    id: format!("whfb-{}", methods.len()),
                    display_name: Some(name),
                    device_id: None,
                    created: days_ago(m.created),
                    last_used: None,
                }));
                continue;
            }
            7 => {
                methods.push(AuthMethod::PlatformCredential(PlatformCredential {
                    id: format!("psso-{}", methods.len()),
                    display_name: Some(name),
                    device_id: None,
                    platform: Some(OsFamily::MacOs),
                    created: days_ago(m.created),
                    last_used: None,
                }));
                continue;
            }
            _ => {
                methods.push(AuthMethod::Phone(PhoneMethod {
                    phone_type: PhoneType::Mobile,
                    sms_sign_in: false,
                    created: None,
                }));
                continue;
            }
        };
        methods.push(AuthMethod::Passkey(Passkey {
            id: format!("pk-{}", methods.len()),
            display_name: Some(name),
            aaguid: Some(aaguid.into()),
            passkey_type: Some(passkey_type),
            model: Some(model.into()),
            attested: None,
            created: days_ago(m.created),
            last_used: m.last_used.map(days_ago),
        }));
    }
    if let Some((strings, age)) = &g.report {
        const REPORT: [&str; 8] = [
            "mobilePhone",
            "microsoftAuthenticatorPush",
            "passKeyDeviceBoundAuthenticator",
            "passKeySynced",
            "fido2SecurityKey",
            "windowsHelloForBusiness",
            "macOsSecureEnclaveKey",
            "passKeyDeviceBoundWindowsHello",
        ];
        p.registration_report = Some(RegistrationReport {
            methods_registered: strings
                .iter()
                .map(|i| REPORT[*i as usize].to_owned())
                .collect(),
            last_updated: days_ago(*age),
        });
    }
    p
}

fn run(p: &PersonSnapshot, policy: &PasskeyPolicy) -> Assessment {
    assess(p, policy, &Rules::default(), &target(), now())
}

fn counts(s: &SignIn, rules: &Rules) -> bool {
    let window_start = now() - SignedDuration::from_hours(24 * i64::from(rules.window_days));
    s.error_code == 0
        && s.at >= window_start
        && s.at <= now()
        && rules.ignored_app(&s.app_id).is_none()
}

/// The machine an unregistered key belongs to: its OS and user-agent platform, when it has
/// one (a passkey sign-in from one browser or app of it proves the machine).
fn machine(key: &DeviceKey) -> Option<(OsFamily, String)> {
    match key {
        DeviceKey::Unregistered { os, platform, .. } if !platform.is_empty() => {
            Some((*os, platform.clone()))
        }
        _ => None,
    }
}

fn strong(s: &SignIn, rules: &Rules) -> bool {
    s.steps
        .iter()
        .any(|st| st.succeeded && rules.step_kind(&st.method).is_some())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// SafeToEnforce needs, for every device with a counted sign-in, a phishing-resistant
    /// sign-in from it in the window, and every way it signs in proven or covered by a
    /// credential the policy allows.
    #[test]
    fn nobody_is_safe_to_enforce_while_a_used_device_lacks_a_usable_passkey(g in arb_person(), pol in arb_policy()) {
        let snapshot = snapshot_of(&g);
        let a = run(&snapshot, &policy_of(&pol));
        if a.person != PersonVerdict::SafeToEnforce {
            return Ok(());
        }
        let rules = Rules::default();
        let mut used: BTreeMap<DeviceKey, BTreeSet<Channel>> = BTreeMap::new();
        let mut proven: BTreeSet<DeviceKey> = BTreeSet::new();
        let mut proven_machines: BTreeSet<(OsFamily, String)> = BTreeSet::new();
        let window_start = now() - SignedDuration::from_hours(24 * i64::from(rules.window_days));
        for s in &snapshot.sign_ins {
            let f = SignInFacts::of(s);
            // A passkey sign-in in an ignored app (registration, the bot's test) still proves
            // the passkey on a device that is used.
            if s.error_code == 0 && s.at >= window_start && s.at <= now() && strong(s, &rules) {
                proven.insert(f.key.clone());
                proven_machines.extend(machine(&f.key));
            }
            if counts(s, &rules) {
                used.entry(f.key).or_default().insert(f.channel);
            }
        }
        prop_assert!(!used.is_empty());
        for (key, channels) in &used {
            prop_assert!(
                proven.contains(key) || machine(key).is_some_and(|m| proven_machines.contains(&m)),
                "{key} used without a passkey sign-in"
            );
            let d = a.devices.iter().find(|d| &d.key == key).expect("every used device is assessed");
            prop_assert!(matches!(d.verdict, DeviceVerdict::Ready { .. }), "{:?}", d.verdict);
            for i in &d.covered_by {
                prop_assert!(a.credentials[*i].blocked.is_none());
            }
            for c in channels {
                let use_ = d.channels.iter().find(|u| u.channel == *c).unwrap();
                if *c != Channel::DeviceLogon || channels.len() == 1 {
                    prop_assert!(use_.proven || !d.covered_by.is_empty(), "{key} {c:?} uncovered");
                }
            }
        }
    }

    /// Adding a successful passkey sign-in from a used device never lowers that device's
    /// verdict in the order of [`DeviceVerdict::rank`], nor that of the other browsers and
    /// apps of the same unregistered machine, and changes no other device.
    #[test]
    fn a_passkey_sign_in_never_makes_a_device_worse(g in arb_person(), pol in arb_policy(), pick in any::<prop::sample::Index>()) {
        let snapshot = snapshot_of(&g);
        let policy = policy_of(&pol);
        let rules = Rules::default();
        let candidates: Vec<&SignIn> = snapshot.sign_ins.iter().filter(|s| counts(s, &rules)).collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let mut extra: SignIn = (*pick.get(&candidates)).clone();
        extra.steps = super::tests::steps(Some("Passkey (device-bound)"), None);
        extra.error_code = 0;
        extra.at = now() - SignedDuration::from_mins(30);
        let key = SignInFacts::of(&extra).key;
        let before = run(&snapshot, &policy);
        let mut more = snapshot.clone();
        more.sign_ins.push(extra);
        let after = run(&more, &policy);
        prop_assert_eq!(before.devices.len(), after.devices.len());
        for (b, a) in before.devices.iter().zip(&after.devices) {
            prop_assert_eq!(&b.key, &a.key);
            let same_machine = machine(&key).is_some_and(|m| machine(&b.key) == Some(m));
            if b.key == key || same_machine {
                prop_assert!(a.verdict.rank() >= b.verdict.rank(), "{:?} -> {:?}", b.verdict, a.verdict);
            } else {
                prop_assert_eq!(&b.verdict, &a.verdict);
            }
        }
    }

    #[test]
    fn non_targets_are_never_safe_to_enforce(g in arb_person(), pol in arb_policy()) {
        let snapshot = snapshot_of(&g);
        let a = run(&snapshot, &policy_of(&pol));
        let target = g.kind == 0 && g.in_target && !g.in_excluded;
        if !target {
            prop_assert!(matches!(a.person, PersonVerdict::NotTarget { .. }), "{:?}", a.person);
        } else {
            prop_assert!(!matches!(a.person, PersonVerdict::NotTarget { .. }), "{:?}", a.person);
        }
    }

    #[test]
    fn the_assessment_does_not_depend_on_the_order_of_sign_ins(
        (g, order) in arb_person().prop_flat_map(|g| {
            let n = g.sign_ins.len();
            (Just(g), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        }),
        pol in arb_policy(),
    ) {
        let snapshot = snapshot_of(&g);
        let policy = policy_of(&pol);
        let mut shuffled = snapshot.clone();
        shuffled.sign_ins = order.iter().map(|i| snapshot.sign_ins[*i].clone()).collect();
        prop_assert_eq!(run(&snapshot, &policy), run(&shuffled, &policy));
    }
}
