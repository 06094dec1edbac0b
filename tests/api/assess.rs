//! `passkey-pilot assess` against the simulated tenant: one person's verdicts for the cases
//! of the acceptance table (people picked by their data), the tenant-wide report agreeing with
//! per-person assessments, its nudge lists, and the command's exit codes.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use passkey_pilot::assess::{self, Settings};
use passkey_pilot::config::{Config, Secret};
use passkey_pilot::graph::{GraphClient, RetryPolicy};
use passkey_pilot::readiness::{
    Assessment, AuthMethod, Caveat, Channel, Client, DeviceAssessment, DeviceVerdict,
    IncompatibleReason, NotYetReason, PasskeyOption, PasskeyPolicy, PersonVerdict, RankedOption,
    UnusedHint,
};
use passkey_pilot::sim::population::{
    Device, FormFactor, GroupRole, MethodKind, Person, PersonKind, Platform, Population,
};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};

const APP_ID: &str = "00000000-0000-4000-8000-00000000a55e";
const SECRET: &str = "sim-only-assess-secret";
const PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "Device.Read.All",
    "GroupMember.ReadWrite.All",
    "AuditLog.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "Policy.Read.AuthenticationMethod",
];

struct Tenant {
    sim: Simulator,
    pop: Arc<Population>,
    graph: GraphClient,
    config: Config,
}

async fn tenant(users: usize) -> Tenant {
    let pop = Arc::new(Population::generate(users, 11, Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        population: Some(pop.clone()),
        graph_throttle_scale: 200.0,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    sim.register_graph_app(APP_ID, SECRET, PERMISSIONS);
    let mut config = Config::defaults();
    let g = &mut config.graph;
    g.base_url = sim.base_url().to_owned();
    g.tenant_id = sim.tenant_id().to_owned();
    g.client_id = APP_ID.to_owned();
    g.client_secret = Secret::new(SECRET);
    g.token_url = sim.token_url();
    g.limit_scale = 200.0;
    config.readiness.target_group_id = pop.group(GroupRole::Target).id.to_string();
    config.readiness.excluded_group_ids = [
        GroupRole::ExcludedGuests,
        GroupRole::ExcludedServiceAccounts,
        GroupRole::ExcludedBreakGlass,
    ]
    .iter()
    .map(|r| pop.group(*r).id.to_string())
    .collect();
    let http = reqwest::Client::new();
    let tokens = passkey_pilot::graph::token_source(&config.graph, http.clone()).unwrap();
    let retry = RetryPolicy {
        max_attempts: 4,
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(15),
        request_timeout: Duration::from_secs(20),
    };
    let graph = GraphClient::new(&config.graph, http, tokens, retry).unwrap();
    Tenant {
        sim,
        pop,
        graph,
        config,
    }
}

/// Only device-bound passkeys (the stricter of the two policies of the acceptance table).
fn device_bound_only() -> PasskeyPolicy {
    let mut p = PasskeyPolicy::allow_all();
    p.profiles[0].synced = false;
    p
}

impl Tenant {
    fn settings(&self, policy: PasskeyPolicy) -> Settings {
        let mut s = Settings::from_config(&self.config, self.pop.now);
        s.policy = Some(policy);
        s
    }

    /// Target employees with sign-ins, matching `wanted`.
    fn people(&self, wanted: impl Fn(&Population, &Person) -> bool) -> Vec<&Person> {
        let target = self.pop.group(GroupRole::Target);
        self.pop
            .people
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                p.kind == PersonKind::Employee
                    && p.account_enabled
                    && target.members.contains(&(*i as u32))
                    && wanted(&self.pop, p)
            })
            .map(|(_, p)| p)
            .collect()
    }

    async fn assess(&self, p: &Person, policy: PasskeyPolicy) -> Assessment {
        assess::assess_person(&self.graph, &self.settings(policy), &p.user_principal_name)
            .await
            .unwrap()
            .assessment
    }
}

fn has_passkey(p: &Person) -> bool {
    p.methods
        .iter()
        .any(|m| matches!(m.kind, MethodKind::Fido2 { .. }))
}

/// Whether the person signed in from the device in the window.
fn signs_in_on(pop: &Population, p: &Person, d: &Device) -> bool {
    pop.sign_ins_of(p)
        .iter()
        .any(|s| std::ptr::eq(pop.sign_in_device(p, s), d))
}

fn used_devices<'a>(pop: &'a Population, p: &'a Person) -> impl Iterator<Item = &'a Device> {
    pop.devices_of(p).filter(move |d| signs_in_on(pop, p, d))
}

/// The assessment of a registered device.
fn device<'a>(a: &'a Assessment, d: &Device) -> &'a DeviceAssessment {
    let id = d.device_id.to_string();
    a.devices
        .iter()
        .find(|x| x.key.to_string() == format!("device:{id}"))
        .unwrap_or_else(|| panic!("device {id} not assessed: {:#?}", a.devices))
}

fn options(v: &DeviceVerdict) -> &[RankedOption] {
    match v {
        DeviceVerdict::NeedsPasskey { options } => options,
        other => panic!("not NeedsPasskey: {other:?}"),
    }
}

/// The Authenticator passkey option, absent when the person's phone cannot hold one.
fn authenticator_option(v: &DeviceVerdict) -> Option<&RankedOption> {
    options(v)
        .iter()
        .find(|o| matches!(o.option, PasskeyOption::AuthenticatorPasskey { .. }))
}

/// People with a registered device they use in the window, matching `device`, and no
/// passkey yet.
fn without_passkey_using(
    t: &Tenant,
    device: impl Fn(&Device) -> bool + Copy,
) -> Vec<(&Person, &Device)> {
    t.people(|pop, p| {
        !has_passkey(p) && used_devices(pop, p).any(|d| d.trust_type.is_some() && device(d))
    })
    .into_iter()
    .map(|p| {
        let d = used_devices(&t.pop, p)
            .find(|d| d.trust_type.is_some() && device(d))
            .unwrap();
        (p, d)
    })
    .take(3)
    .collect()
}

#[tokio::test]
async fn phones_too_old_or_needing_an_update_get_incompatible_with_the_way_out() {
    let t = tenant(1500).await;
    let ios16 = without_passkey_using(&t, |d| d.platform == Platform::Ios && d.os.major == 16);
    assert!(!ios16.is_empty());
    for (p, d) in ios16 {
        let a = t.assess(p, device_bound_only()).await;
        match &device(&a, d).verdict {
            DeviceVerdict::Incompatible {
                reason: IncompatibleReason::IosTooOld { needs: 17, .. },
                ..
            } => {}
            other => panic!("{}: {other:?}", p.user_principal_name),
        }
        assert!(!matches!(a.person, PersonVerdict::SafeToEnforce));
        // Where synced passkeys are allowed, iCloud Keychain works on iOS 16.
        let a = t.assess(p, PasskeyPolicy::allow_all()).await;
        let v = &device(&a, d).verdict;
        assert!(
            options(v)
                .iter()
                .any(|o| matches!(o.option, PasskeyOption::SyncedPasskey { .. })),
            "{v:?}"
        );
    }
    let android13 =
        without_passkey_using(&t, |d| d.platform == Platform::Android && d.os.major == 13);
    assert!(!android13.is_empty());
    for (p, d) in android13 {
        let a = t.assess(p, device_bound_only()).await;
        assert!(
            matches!(
                device(&a, d).verdict,
                DeviceVerdict::Incompatible {
                    reason: IncompatibleReason::AndroidTooOld { needs: 14, .. },
                    ..
                }
            ),
            "{:?}",
            device(&a, d).verdict
        );
    }
    let needs15 = without_passkey_using(&t, |d| d.needs_android_15);
    assert!(!needs15.is_empty());
    for (p, d) in needs15 {
        let a = t.assess(p, device_bound_only()).await;
        assert!(
            matches!(
                device(&a, d).verdict,
                DeviceVerdict::Incompatible {
                    reason: IncompatibleReason::AndroidModelNeedsUpdate { needs: 15, .. },
                    ..
                }
            ),
            "{}: {:?}",
            d.model,
            device(&a, d).verdict
        );
        assert!(matches!(
            a.person,
            PersonVerdict::NeedsExclusion { .. } | PersonVerdict::NotYet { .. }
        ));
    }
}

/// Whether the person has WHFB on this device.
fn whfb_on(pop: &Population, p: &Person, d: &Device) -> bool {
    p.methods.iter().any(|m| {
        matches!(m.kind, MethodKind::WindowsHelloForBusiness { device, .. }
            if std::ptr::eq(&pop.devices[device as usize], d))
    })
}

#[tokio::test]
async fn windows_10_desktop_apps_need_the_browser_where_windows_11_23h2_does_not() {
    let t = tenant(1500).await;
    let uses = |p: &Person, d: &Device, wanted: fn(&Channel) -> bool, a: &Assessment| {
        let _ = p;
        device(a, d).channels.iter().any(|c| wanted(&c.channel))
    };
    let win10: Vec<_> = t
        .people(|pop, p| {
            !has_passkey(p)
                && used_devices(pop, p).any(|d| {
                    d.platform == Platform::Windows
                        && d.os.build < 22000
                        && d.trust_type.is_some()
                        && !whfb_on(pop, p, d)
                })
        })
        .into_iter()
        .take(12)
        .collect();
    let mut checked = 0;
    for p in win10 {
        let d = used_devices(&t.pop, p)
            .find(|d| {
                d.platform == Platform::Windows
                    && d.os.build < 22000
                    && d.trust_type.is_some()
                    && !whfb_on(&t.pop, p, d)
            })
            .unwrap();
        let a = t.assess(p, device_bound_only()).await;
        let app = uses(p, d, |c| *c == Channel::App, &a);
        let edge = uses(
            p,
            d,
            |c| {
                *c == Channel::Browser {
                    browser: Client::Edge,
                }
            },
            &a,
        );
        if !(app && edge) {
            continue;
        }
        let w = device(&a, d).os.windows.clone().unwrap();
        assert!(!w.windows_11, "build {}", w.build);
        // The QR-code flow works in Edge only: the desktop apps cannot use a phone passkey.
        let Some(auth) = authenticator_option(&device(&a, d).verdict) else {
            continue;
        };
        assert!(auth.caveats.contains(&Caveat::BrowserOnly), "{auth:?}");
        checked += 1;
    }
    assert!(
        checked > 0,
        "no Windows 10 person using both the desktop app and Edge"
    );

    let win11 = without_passkey_using(&t, |d| {
        d.platform == Platform::Windows && d.os.build == 22631
    });
    assert!(!win11.is_empty());
    for (p, d) in win11 {
        let a = t.assess(p, device_bound_only()).await;
        let da = device(&a, d);
        let w = da.os.windows.clone().unwrap();
        assert!(
            w.windows_11 && w.feature_update.as_deref() == Some("23H2"),
            "{w:?}"
        );
        if whfb_on(&t.pop, p, d) {
            continue;
        }
        if let Some(auth) = authenticator_option(&da.verdict) {
            assert!(!auth.caveats.contains(&Caveat::BrowserOnly), "{auth:?}");
        }
        assert!(
            options(&da.verdict)
                .iter()
                .any(|o| o.option == PasskeyOption::WindowsHelloForBusiness)
        );
    }
}

#[tokio::test]
async fn shared_desktops_are_marked_shared_and_offer_whfb_per_person() {
    let t = tenant(1500).await;
    let shift = t.people(|pop, p| {
        p.traits.shift_worker && used_devices(pop, p).any(|d| d.form == FormFactor::SharedDesktop)
    });
    assert!(!shift.is_empty());
    let mut checked = 0;
    for p in shift.into_iter().take(15) {
        let a = t.assess(p, device_bound_only()).await;
        for d in used_devices(&t.pop, p).filter(|d| d.form == FormFactor::SharedDesktop) {
            let da = device(&a, d);
            assert!(da.os.shared, "{:?}", da.os);
            if !whfb_on(&t.pop, p, d) && !has_passkey(p) {
                checked += 1;
                // WHFB is enrolled per person on a shared PC: an option with its caveat.
                let whfb = options(&da.verdict)
                    .iter()
                    .find(|o| o.option == PasskeyOption::WindowsHelloForBusiness)
                    .expect("WHFB is an option on a joined shared desktop");
                assert!(whfb.caveats.contains(&Caveat::SharedDevice), "{whfb:?}");
            }
        }
    }
    assert!(checked > 0);
}

#[tokio::test]
async fn broken_or_missing_credentials_are_told_apart() {
    let t = tenant(1500).await;
    // Passkey deleted from the phone: registered, not used since.
    let deleted = t.people(|_, p| p.traits.passkey_deleted_from_phone);
    let mut hints = 0;
    for p in deleted.iter().take(5) {
        let a = t.assess(p, device_bound_only()).await;
        assert!(
            !matches!(a.person, PersonVerdict::SafeToEnforce),
            "{}",
            p.user_principal_name
        );
        hints += a
            .devices
            .iter()
            .filter(|d| {
                matches!(
                    d.verdict,
                    DeviceVerdict::RegisteredButUnused {
                        hint: UnusedHint::PasskeyPossiblyDeleted { .. }
                    }
                )
            })
            .count();
    }
    assert!(hints > 0, "no deleted-passkey hint");
    // Forgotten WHFB PIN: WHFB set up, the device keeps signing in with push.
    let pin = t.people(|_, p| p.traits.forgotten_whfb_pin && !has_passkey(p));
    let mut hints = 0;
    for p in pin.iter().take(5) {
        let snapshot = assess::assess_person(
            &t.graph,
            &t.settings(device_bound_only()),
            &p.user_principal_name,
        )
        .await
        .unwrap()
        .snapshot;
        // Each WHFB key is bound to its very device (`$expand=device`), not only by name.
        for m in &p.methods {
            if let MethodKind::WindowsHelloForBusiness { device, .. } = m.kind {
                let id = t.pop.devices[device as usize].device_id.to_string();
                let bound = snapshot.methods.as_ref().unwrap().methods.iter().any(|m| {
                    matches!(m, AuthMethod::WindowsHello(w) if w.device_id.as_deref() == Some(id.as_str()))
                });
                assert!(bound, "{}: {id}", p.user_principal_name);
            }
        }
        let a = t.assess(p, device_bound_only()).await;
        assert!(!matches!(a.person, PersonVerdict::SafeToEnforce));
        hints += a
            .devices
            .iter()
            .filter(|d| {
                matches!(
                    d.verdict,
                    DeviceVerdict::RegisteredButUnused {
                        hint: UnusedHint::WhfbPinPossiblyForgotten { .. }
                    }
                )
            })
            .count();
    }
    assert!(hints > 0, "no forgotten-PIN hint");
    // Security keys only: every device covered by the key.
    let keys = t.people(|_, p| p.traits.security_key_only && !p.traits.no_sign_ins);
    assert!(!keys.is_empty());
    for p in keys.iter().take(5) {
        let a = t.assess(p, device_bound_only()).await;
        assert!(!a.devices.is_empty());
        for d in &a.devices {
            assert!(
                matches!(
                    d.verdict,
                    DeviceVerdict::Ready { .. } | DeviceVerdict::RegisteredButUnused { .. }
                ),
                "{}: {:?}",
                p.user_principal_name,
                d.verdict
            );
        }
    }
    // No sign-ins: nothing proves any device works.
    let idle = t.people(|_, p| p.traits.no_sign_ins);
    assert!(!idle.is_empty());
    for p in idle.iter().take(3) {
        let a = t.assess(p, device_bound_only()).await;
        assert!(a.devices.is_empty());
        assert_eq!(
            a.person,
            PersonVerdict::NotYet {
                reasons: vec![NotYetReason::NoSignInsInWindow]
            }
        );
        let table = assess::render_person(&a, false);
        assert!(table.contains("no sign-ins"), "{table}");
    }
}

#[tokio::test]
async fn the_tenant_report_agrees_with_per_person_assessments_and_lists_who_to_nudge() {
    let t = tenant(400).await;
    let settings = t.settings(PasskeyPolicy::allow_all());
    let (report, summary) =
        assess::assess_all(&t.graph, &settings, 4, &indicatif::ProgressBar::hidden())
            .await
            .unwrap();
    assert_eq!(summary.graph.throttled, 0);
    // Enabled members only.
    let members = t
        .pop
        .people
        .iter()
        .filter(|p| p.account_enabled && p.kind != PersonKind::Guest)
        .count();
    assert_eq!(report.people.len(), members);
    assert_eq!(summary.people, members);

    let mut differ = Vec::new();
    let sample: Vec<&Person> = t.people(|_, _| true).into_iter().step_by(9).collect();
    for p in &sample {
        let row = report
            .people
            .iter()
            .find(|r| r.user_principal_name == p.user_principal_name)
            .unwrap();
        let a = t.assess(p, PasskeyPolicy::allow_all()).await;
        let one = assess::PersonRow::of(&a, false);
        let devices = |r: &assess::PersonRow| {
            r.devices
                .iter()
                .map(|d| (d.key.clone(), d.verdict.clone()))
                .collect::<Vec<_>>()
        };
        // The registration report names no AAGUID: a synced passkey's provider (and so the
        // devices it covers) is known only from the person's own method list.
        let synced = p
            .methods
            .iter()
            .any(|m| matches!(m.kind, MethodKind::Fido2 { passkey, .. } if passkey.is_synced()));
        let same = (one.stage, &one.verdict) == (row.stage, &row.verdict)
            && (synced || devices(&one) == devices(row));
        if !same {
            differ.push(format!("{one:#?}\n{row:#?}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {}:\n{}",
        differ.len(),
        sample.len(),
        differ.join("\n")
    );

    // Nudge lists: targets without a passkey, split by whether they have a platform method.
    let mut push = Vec::new();
    let mut platform = Vec::new();
    for p in t.people(|_, _| true) {
        if has_passkey(p) {
            continue;
        }
        let whfb = p
            .methods
            .iter()
            .any(|m| matches!(m.kind, MethodKind::WindowsHelloForBusiness { .. }));
        if whfb { &mut platform } else { &mut push }.push(p.user_principal_name.clone());
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert!(!push.is_empty() && !platform.is_empty());
    assert_eq!(sorted(report.nudges.push_or_sms.clone()), sorted(push));
    assert_eq!(
        sorted(report.nudges.platform_method.clone()),
        sorted(platform)
    );

    // The same rows as CSV and as JSON.
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("readiness.csv");
    let json_path = dir.path().join("readiness.json");
    assess::write_report(&report, &csv_path).unwrap();
    assess::write_report(&report, &json_path).unwrap();
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        assess::CSV_HEADER
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let people = json["people"].as_array().unwrap();
    assert_eq!(rows.len(), report.people.len());
    assert_eq!(people.len(), report.people.len());
    for ((csv_row, json_row), row) in rows.iter().zip(people).zip(&report.people) {
        assert_eq!(&csv_row[1], row.user_principal_name);
        assert_eq!(
            json_row["userPrincipalName"],
            row.user_principal_name.as_str()
        );
        assert_eq!(&csv_row[2], json_row["stage"].as_str().unwrap());
        assert_eq!(&csv_row[3], json_row["verdict"].as_str().unwrap());
        assert_eq!(
            csv_row[7].matches("; ").count() + usize::from(!csv_row[7].is_empty()),
            json_row["devices"].as_array().unwrap().len()
        );
    }
    assert_eq!(
        json["nudges"]["pushOrSms"].as_array().unwrap().len(),
        report.nudges.push_or_sms.len()
    );
}

impl Tenant {
    /// The binary pointed at the simulator as the app `client_id` with `secret`.
    fn bin(&self, client_id: &str, secret: &str) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_passkey-pilot"));
        for (k, _) in std::env::vars() {
            if k.starts_with("PASSKEY_PILOT__") {
                c.env_remove(k);
            }
        }
        let g = &self.config.graph;
        for (k, v) in [
            ("GRAPH__BASE_URL", g.base_url.clone()),
            ("GRAPH__TENANT_ID", g.tenant_id.clone()),
            ("GRAPH__CLIENT_ID", client_id.to_owned()),
            ("GRAPH__CLIENT_SECRET", secret.to_owned()),
            ("GRAPH__TOKEN_URL", g.token_url.clone()),
            ("GRAPH__LIMIT_SCALE", "200".to_owned()),
            ("GRAPH__MAX_ATTEMPTS", "2".to_owned()),
        ] {
            c.env(format!("PASSKEY_PILOT__{k}"), v);
        }
        c.arg("assess");
        c
    }
}

#[tokio::test]
async fn assess_exits_1_for_no_such_person_and_names_a_missing_permission_never_a_secret() {
    let t = tenant(200).await;
    let out = t
        .bin(APP_ID, SECRET)
        .args(["--user", "nobody@contoso.com"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no such person: nobody@contoso.com"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET));

    // An app without AuditLog.Read.All cannot read sign-ins.
    const NARROW_APP: &str = "00000000-0000-4000-8000-00000000a55f";
    const NARROW_SECRET: &str = "sim-only-narrow-secret";
    t.sim.register_graph_app(
        NARROW_APP,
        NARROW_SECRET,
        &[
            "User.Read.All",
            "Device.Read.All",
            "GroupMember.ReadWrite.All",
            "UserAuthenticationMethod.ReadWrite.All",
            "Policy.Read.AuthenticationMethod",
        ],
    );
    let p = t.people(|_, p| !p.traits.no_sign_ins)[0];
    let out = t
        .bin(NARROW_APP, NARROW_SECRET)
        .args(["--user", &p.user_principal_name])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("AuditLog.Read.All"), "{stderr}");
    assert!(!stderr.contains(NARROW_SECRET) && !stderr.contains(SECRET));
}

#[tokio::test]
async fn assess_all_refuses_an_out_file_of_another_kind_with_exit_2_and_writes_nothing() {
    let t = tenant(50).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("readiness.xlsx");
    let out = t
        .bin(APP_ID, SECRET)
        .args(["--all", "--out"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(".csv or .json"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // Neither a person nor everyone: a usage error.
    let out = t.bin(APP_ID, SECRET).output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(t.graph.counters().graph_requests(), 0);
}

#[tokio::test]
async fn assess_user_reads_the_tenants_policy_so_ios_16_turns_from_incompatible_to_synced() {
    let t = tenant(1500).await;
    let (p, d) = without_passkey_using(&t, |d| d.platform == Platform::Ios && d.os.major == 16)[0];
    let run = |json: bool| {
        let mut c = t.bin(APP_ID, SECRET);
        c.args(["--user", &p.user_principal_name]);
        if json {
            c.arg("--json");
        }
        c.output()
    };
    let verdict = |out: &std::process::Output| {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a: Assessment = serde_json::from_slice(&out.stdout).unwrap();
        device(&a, d).verdict.clone()
    };
    // The simulated tenant allows device-bound passkeys only.
    let v = verdict(&run(true).await.unwrap());
    assert!(
        matches!(
            v,
            DeviceVerdict::Incompatible {
                reason: IncompatibleReason::IosTooOld { needs: 17, .. },
                ..
            }
        ),
        "{v:?}"
    );
    let table = run(false).await.unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains(&p.user_principal_name), "{table}");
    assert!(
        table.contains(&d.display_name) && table.contains("incompatible"),
        "{table}"
    );

    let r = reqwest::Client::new()
        .put(format!("{}/_sim/policies/fido2", t.sim.base_url()))
        .json(&serde_json::json!({
            "allowSynced": true,
            "keyRestrictions": {"isEnforced": false, "enforcementType": "allow", "aaGuids": []}
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let v = verdict(&run(true).await.unwrap());
    assert!(
        options(&v)
            .iter()
            .any(|o| matches!(o.option, PasskeyOption::SyncedPasskey { .. })),
        "{v:?}"
    );
}

#[tokio::test]
async fn assess_all_writes_the_csv_report_and_a_summary_without_a_429() {
    let t = tenant(300).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("readiness.csv");
    let out = t
        .bin(APP_ID, SECRET)
        .args(["--all", "--slices", "3", "--out"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let members = t
        .pop
        .people
        .iter()
        .filter(|p| p.account_enabled && p.kind != PersonKind::Guest)
        .count();
    let rows = csv::Reader::from_path(&path).unwrap().records().count();
    assert_eq!(rows, members);
    assert!(
        stderr.contains(&format!("people assessed: {members}")),
        "{stderr}"
    );
    assert!(stderr.contains("429s seen: 0"), "{stderr}");
    assert!(stderr.contains("people/s"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[tokio::test]
async fn people_in_the_enforcement_group_are_at_the_enforced_stage_and_never_nudged() {
    let t = tenant(300).await;
    let group = t.sim.graph().unwrap().enforced_group_id();
    let mut settings = t.settings(PasskeyPolicy::allow_all());
    settings.enforcement_group_id = Some(group.clone());
    // One person still on push or SMS, one with a passkey: both already enforced.
    let pushy = t.people(|_, p| !has_passkey(p))[0];
    let keyed = t.people(|_, p| has_passkey(p))[0];
    for p in [pushy, keyed] {
        t.graph
            .add_group_member(&group, &p.id.to_string())
            .await
            .unwrap();
    }

    let (report, _) = assess::assess_all(&t.graph, &settings, 2, &indicatif::ProgressBar::hidden())
        .await
        .unwrap();
    let stage = |p: &Person| {
        report
            .people
            .iter()
            .find(|r| r.user_principal_name == p.user_principal_name)
            .unwrap()
            .stage
    };
    assert_eq!(stage(pushy), assess::Stage::Enforced);
    assert_eq!(stage(keyed), assess::Stage::Enforced);
    let enforced = report
        .people
        .iter()
        .filter(|r| r.stage == assess::Stage::Enforced)
        .count();
    assert_eq!(enforced, 2, "nobody else is in the group");
    assert!(
        !report
            .nudges
            .push_or_sms
            .contains(&pushy.user_principal_name)
    );

    let one = assess::assess_person(&t.graph, &settings, &pushy.user_principal_name)
        .await
        .unwrap();
    assert!(one.enforced);
    let table = assess::render_person(&one.assessment, one.enforced);
    assert!(table.contains("stage:   enforced"), "{table}");
    // Without the setting, the same person is back to where their methods put them.
    let plain = assess::assess_person(
        &t.graph,
        &t.settings(PasskeyPolicy::allow_all()),
        &pushy.user_principal_name,
    )
    .await
    .unwrap();
    assert!(!plain.enforced);
}

/// The journey's assessor: a person's logs are reused for a while, their method list never.
#[tokio::test]
async fn the_journeys_assessor_reuses_a_persons_logs_but_always_rereads_their_methods() {
    use passkey_pilot::conversation::Look;
    use passkey_pilot::engine::Assessor;
    use passkey_pilot::engine::ports::GraphAssessor;
    use passkey_pilot::ids::{AadObjectId, TenantId};

    let t = tenant(300).await;
    // Someone with a phone of their own, no passkey yet, and sign-ins in the window.
    let (person, phone) = t
        .people(|pop, p| !has_passkey(p) && p.sign_ins.1 > 0 && own_ios(pop, p).is_some())
        .into_iter()
        .map(|p| (p, own_ios(&t.pop, p).unwrap()))
        .next()
        .expect("such a person");
    let now = Arc::new(std::sync::Mutex::new(Timestamp::now()));
    let clock = {
        let now = now.clone();
        Arc::new(move || *now.lock().unwrap())
    };
    let reusing = GraphAssessor::new(
        t.graph.clone(),
        t.settings(PasskeyPolicy::allow_all()),
        clock.clone(),
    )
    .with_log_reuse(Duration::from_secs(15 * 60));
    let tenant_id = TenantId::parse(&t.config.graph.tenant_id).unwrap();
    let who = AadObjectId::parse(&person.id.to_string()).unwrap();
    let reports = || t.graph.counters().reports;

    let first = reusing
        .assess(&tenant_id, &who, Look::Cached)
        .await
        .unwrap();
    assert_eq!(first.credentials, 0);

    // The person registers a passkey in Authenticator; Graph lists it 30 s later.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/_sim/people/{}/passkeys",
            t.sim.base_url(),
            person.user_principal_name
        ))
        .json(&serde_json::json!({"device": phone, "kind": "authenticator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/time/advance", t.sim.base_url()))
        .json(&serde_json::json!({"seconds": 31}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    *now.lock().unwrap() += jiff::SignedDuration::from_secs(31);

    let before = reports();
    let second = reusing
        .assess(&tenant_id, &who, Look::FreshMethods)
        .await
        .unwrap();
    let reused_cost = reports() - before;
    assert_eq!(second.credentials, 1, "the new passkey is seen at once");
    assert!(
        reused_cost <= 2,
        "a fresh look with the logs reused costs the method list only: {reused_cost}"
    );

    // The look that decides enforcement reads everything, reuse or not.
    let before = reports();
    let deciding = reusing.assess(&tenant_id, &who, Look::Fresh).await.unwrap();
    assert_eq!(deciding.credentials, 1);
    assert!(reports() - before >= reused_cost + 2);

    // Without reuse the same fresh look reads the sign-ins and audits again.
    let reading = GraphAssessor::new(
        t.graph.clone(),
        t.settings(PasskeyPolicy::allow_all()),
        clock.clone(),
    );
    let before = reports();
    let third = reading
        .assess(&tenant_id, &who, Look::FreshMethods)
        .await
        .unwrap();
    assert_eq!(third.credentials, 1);
    assert_eq!(third.verdict, second.verdict);
    assert!(reports() - before >= reused_cost + 2);

    // Once the logs are older than the reuse, they are read again.
    *now.lock().unwrap() += jiff::SignedDuration::from_mins(16);
    let before = reports();
    reusing
        .assess(&tenant_id, &who, Look::Cached)
        .await
        .unwrap();
    assert!(reports() - before >= 2);
}

/// The person's own iOS device, if any.
fn own_ios(pop: &Population, p: &Person) -> Option<String> {
    p.devices
        .iter()
        .map(|&d| &pop.devices[d as usize])
        .find(|d| d.platform == Platform::Ios && d.owner.is_some())
        .map(|d| d.id.to_string())
}
