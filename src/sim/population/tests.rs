use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;

use super::*;

fn now() -> Timestamp {
    "2026-09-15T08:00:00Z".parse().unwrap()
}

fn fingerprint(p: &Population) -> u64 {
    let json = serde_json::to_vec(p).unwrap();
    let mut h = DefaultHasher::new();
    json.hash(&mut h);
    h.finish()
}

fn small() -> &'static Population {
    static P: OnceLock<Population> = OnceLock::new();
    P.get_or_init(|| Population::generate(2_000, 42, now()))
}

fn large() -> &'static Population {
    static P: OnceLock<Population> = OnceLock::new();
    P.get_or_init(|| Population::generate(20_000, 7, now()))
}

fn employees(p: &Population) -> impl Iterator<Item = &Person> {
    p.people.iter().filter(|x| x.kind == PersonKind::Employee)
}

#[test]
fn same_seed_gives_identical_population() {
    let a = Population::generate(2_000, 42, now());
    assert_eq!(fingerprint(&a), fingerprint(small()));
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(small()).unwrap()
    );
}

#[test]
fn different_seed_gives_different_population() {
    let b = Population::generate(2_000, 43, now());
    assert_ne!(fingerprint(&b), fingerprint(small()));
    assert_ne!(b.tenant_id, small().tenant_id);
    assert_ne!(b.people[5].id, small().people[5].id);
}

#[test]
fn ids_and_upns_are_unique_and_looked_up() {
    let p = small();
    let ids: HashSet<_> = p.people.iter().map(|x| x.id).collect();
    assert_eq!(ids.len(), p.people.len());
    let upns: HashSet<_> = p
        .people
        .iter()
        .map(|x| x.user_principal_name.to_lowercase())
        .collect();
    assert_eq!(upns.len(), p.people.len());
    for person in p.people.iter().step_by(97) {
        assert_eq!(p.person(&person.id.to_string()).unwrap().id, person.id);
        assert_eq!(
            p.by_upn(&person.user_principal_name.to_uppercase())
                .unwrap()
                .id,
            person.id
        );
    }
    assert!(p.person("not-a-guid").is_none());
}

fn share(count: usize, of: usize) -> f64 {
    count as f64 / of.max(1) as f64
}

fn target<T: PartialEq + Copy>(table: &[(T, u32)], value: T) -> f64 {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let w: u32 = table
        .iter()
        .filter(|(v, _)| *v == value)
        .map(|(_, w)| *w)
        .sum();
    f64::from(w) / f64::from(total)
}

fn near(actual: f64, expected: f64, what: &str) {
    let tolerance = 0.03_f64.max(expected * 0.25);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual:.3} vs {expected:.3}"
    );
}

#[test]
fn shares_land_near_their_targets() {
    let p = large();
    let all = p.people.len();
    let emp: Vec<&Person> = employees(p).collect();
    near(
        share(emp.len(), all),
        target(SHARES.kinds, shares::Kind::Employee),
        "employees",
    );
    let guests = p
        .people
        .iter()
        .filter(|x| x.kind == PersonKind::Guest)
        .count();
    near(
        share(guests, all),
        target(SHARES.kinds, shares::Kind::Guest),
        "guests",
    );

    let phones: Vec<&Device> = emp
        .iter()
        .flat_map(|x| p.devices_of(x))
        .filter(|d| d.form == FormFactor::Phone)
        .collect();
    let ios: Vec<&&Device> = phones
        .iter()
        .filter(|d| d.platform == Platform::Ios)
        .collect();
    near(
        share(ios.len(), phones.len()),
        target(SHARES.phone_platform, Platform::Ios),
        "iOS",
    );
    for (major, _) in SHARES.ios_versions {
        let n = ios.iter().filter(|d| d.os.major == *major).count();
        near(
            share(n, ios.len()),
            target(SHARES.ios_versions, *major),
            "iOS version",
        );
    }
    let android: Vec<&&Device> = phones
        .iter()
        .filter(|d| d.platform == Platform::Android)
        .collect();
    for (major, _) in SHARES.android_versions {
        let n = android.iter().filter(|d| d.os.major == *major).count();
        near(
            share(n, android.len()),
            target(SHARES.android_versions, *major),
            "Android version",
        );
    }
    let own_computers: Vec<&Device> = p
        .devices
        .iter()
        .filter(|d| matches!(d.form, FormFactor::Laptop | FormFactor::Desktop) && d.is_registered())
        .collect();
    let windows: Vec<&&Device> = own_computers
        .iter()
        .filter(|d| d.platform == Platform::Windows)
        .collect();
    for (build, _) in SHARES.windows_builds {
        let n = windows.iter().filter(|d| d.os.build == *build).count();
        near(
            share(n, windows.len()),
            target(SHARES.windows_builds, *build),
            "Windows build",
        );
    }
    let shift = emp.iter().filter(|x| x.traits.shift_worker).count();
    near(
        share(shift, emp.len()),
        f64::from(SHARES.shift_worker_per_mille) / 1000.0,
        "shift workers",
    );
    let quiet = emp.iter().filter(|x| x.traits.no_sign_ins).count();
    near(
        share(quiet, emp.len()),
        f64::from(SHARES.no_sign_ins_per_mille) / 1000.0,
        "no sign-ins",
    );
    let de = emp
        .iter()
        .filter(|x| x.preferred_language == "de-DE")
        .count();
    near(share(de, emp.len()), target(SHARES.locales, 2), "de-DE");
}

#[test]
fn sign_ins_only_use_the_persons_own_devices() {
    let p = small();
    for person in &p.people {
        for s in p.sign_ins_of(person) {
            assert!(
                (s.device as usize) < person.devices.len(),
                "{}",
                person.user_principal_name
            );
            let d = p.sign_in_device(person, s);
            assert!(d.owner.is_none_or(|o| p.people[o as usize].id == person.id));
            assert!(s.at < 30 * 86_400);
        }
        let times: Vec<u32> = p.sign_ins_of(person).iter().map(|s| s.at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn every_passkey_sign_in_references_a_registered_working_passkey() {
    let p = small();
    let mut seen = 0;
    for person in &p.people {
        for s in p.sign_ins_of(person) {
            if !matches!(s.auth, SignInAuth::Passkey | SignInAuth::SecurityKey) {
                assert_eq!(s.method, SignIn::NO_METHOD);
                continue;
            }
            seen += 1;
            let m = &person.methods[s.method as usize];
            let MethodKind::Fido2 {
                passkey,
                state,
                last_used,
                ..
            } = m.kind
            else {
                panic!("passkey sign-in without a fido2 method");
            };
            assert_eq!(state, PasskeyState::InUse);
            assert_eq!(passkey.is_security_key(), s.auth == SignInAuth::SecurityKey);
            assert!(m.created <= p.sign_in_time(s));
            assert!(last_used.is_some_and(|u| u >= p.sign_in_time(s)));
        }
    }
    assert!(seen > 0);
}

#[test]
fn excluded_accounts_are_excluded_and_never_targets() {
    let p = small();
    let target: HashSet<u32> = p.group(GroupRole::Target).members.iter().copied().collect();
    for (i, person) in p.people.iter().enumerate() {
        let i = i as u32;
        let role = match person.kind {
            PersonKind::Employee => {
                assert!(target.contains(&i));
                continue;
            }
            PersonKind::Guest => GroupRole::ExcludedGuests,
            PersonKind::ServiceAccount => GroupRole::ExcludedServiceAccounts,
            PersonKind::BreakGlass => GroupRole::ExcludedBreakGlass,
        };
        assert!(
            p.group(role).members.contains(&i),
            "{}",
            person.user_principal_name
        );
        assert!(!target.contains(&i), "{}", person.user_principal_name);
    }
    assert_eq!(p.group(GroupRole::ExcludedBreakGlass).members.len(), 2);
    assert!(!p.group(GroupRole::Helpdesk).members.is_empty());
    assert!(!p.group(GroupRole::Admins).members.is_empty());
    let ids: HashSet<Guid> = p.groups.iter().map(|g| g.id).collect();
    assert_eq!(ids.len(), p.groups.len());
}

#[test]
fn every_special_case_occurs_in_two_thousand_people() {
    let p = small();
    let emp: Vec<&Person> = employees(p).collect();
    let any = |f: &dyn Fn(&Person) -> bool| emp.iter().any(|x| f(x));
    assert!(any(&|x| x.traits.security_key_only
        && p.sign_ins_of(x)
            .iter()
            .any(|s| s.auth == SignInAuth::SecurityKey)));
    assert!(any(&|x| x.traits.no_sign_ins && p.sign_ins_of(x).is_empty()));
    // Forgotten WHFB PIN: registered on a device whose sign-ins fall back to push.
    assert!(any(&|x| x.methods.iter().any(|m| match m.kind {
        MethodKind::WindowsHelloForBusiness {
            device,
            pin_forgotten: true,
        } => p
            .sign_ins_of(x)
            .iter()
            .any(|s| x.devices[s.device as usize] == device && s.auth == SignInAuth::PasswordPush),
        _ => false,
    })));
    assert!(any(&|x| x.methods.iter().any(|m| matches!(
        m.kind,
        MethodKind::Fido2 {
            state: PasskeyState::DeletedFromDevice,
            ..
        }
    ))));
    assert!(any(&|x| x.methods.iter().any(|m| matches!(
        m.kind,
        MethodKind::Fido2 {
            state: PasskeyState::NeverUsed,
            last_used: None,
            ..
        }
    ))));
    assert!(any(&|x| p
        .devices_of(x)
        .any(|d| d.needs_android_15 && d.os.major == 14)));
    assert!(any(&|x| p
        .devices_of(x)
        .any(|d| d.platform == Platform::Android && d.work_profile)));
    assert!(any(&|x| p.sign_ins_of(x).iter().any(|s| {
        let d = p.sign_in_device(x, s);
        d.platform == Platform::Windows
            && !d.is_windows_11()
            && s.app.is_native()
            && s.app != App::WindowsSignIn
    })));
    assert!(any(&|x| p
        .devices_of(x)
        .any(|d| d.form == FormFactor::SharedDesktop)));
    assert!(any(&|x| p
        .devices_of(x)
        .any(|d| d.platform == Platform::Ios && d.os.major == 16)));
    assert!(any(&|x| x.traits.stuck_registration));
    for build in [19044, 19045, 22000, 22621, 22631, 26100] {
        assert!(
            p.devices
                .iter()
                .any(|d| d.platform == Platform::Windows && d.os.build == build)
        );
    }
    for platform in [Platform::MacOs, Platform::Linux] {
        assert!(p.devices.iter().any(|d| d.platform == platform));
    }
    for passkey in [
        PasskeyModel::AuthenticatorIos,
        PasskeyModel::ICloudKeychain,
        PasskeyModel::YubiKey5Nfc,
    ] {
        assert!(emp.iter().flat_map(|x| &x.methods).any(|m| matches!(
            m.kind, MethodKind::Fido2 { passkey: k, .. } if k == passkey
        )));
    }
}

#[test]
fn stuck_people_have_a_failure_and_no_later_success() {
    let p = small();
    let mut stuck = 0;
    for (i, person) in p.people.iter().enumerate() {
        let events: Vec<&AuditEvent> = p.audits.iter().filter(|a| a.person == i as u32).collect();
        let failed = events.iter().any(|a| !a.succeeded);
        let last_failure = events.iter().filter(|a| !a.succeeded).map(|a| a.at).max();
        let success_after = events.iter().any(|a| {
            a.succeeded
                && a.activity == AuditActivity::RegisteredSecurityInfo
                && last_failure.is_some_and(|f| a.at > f)
        });
        if person.traits.stuck_registration {
            stuck += 1;
            assert!(failed && !success_after, "{}", person.user_principal_name);
        }
    }
    assert!(stuck > 0);
    assert!(p.audits.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(
        p.audits
            .iter()
            .all(|a| a.at >= p.window_start && a.at <= p.now)
    );
}

#[test]
fn locales_and_time_zones_match() {
    let p = small();
    for person in employees(p) {
        let locale = LOCALES
            .iter()
            .find(|l| l.tag == person.preferred_language)
            .unwrap();
        assert!(locale.zones.iter().any(|(z, _)| *z == person.time_zone));
        assert!(jiff::tz::TimeZone::get(person.time_zone).is_ok());
    }
    for tag in ["en-US", "en-GB", "de-DE", "de-AT", "de-CH"] {
        assert!(employees(p).any(|x| x.preferred_language == tag), "{tag}");
    }
}

#[test]
fn device_versions_render_like_graph() {
    let p = small();
    let win = p.devices.iter().find(|d| d.os.build == 22631).unwrap();
    assert!(win.os_version().starts_with("10.0.22631."));
    assert!(win.is_windows_11());
    let ios = p
        .devices
        .iter()
        .find(|d| d.platform == Platform::Ios && d.os.major == 17)
        .unwrap();
    assert!(ios.os_version().starts_with("17."));
}
