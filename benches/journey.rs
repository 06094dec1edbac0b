//! Journey benchmark: the median time of one `step` of the pure state machine plus the
//! rendering (data, template expansion, size check) of the card it shows, over the events of a
//! whole journey from welcome to protected, for a person with four devices, in English and
//! German. Target: under 50 µs per step with its card.
//!
//!   cargo bench --bench journey
//!   cargo bench --bench journey -- --rounds 5000

use std::hint::black_box;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use passkey_pilot::cards::Cards;
use passkey_pilot::cards::journey::{View, render};
use passkey_pilot::conversation::{
    Conversation, Ctx, DevicePlan, DeviceStatus, Effect, EnforcementResult, Event, JourneySettings,
    PlanVerdict, PlannedDevice, TestResult, intent, step,
};
use passkey_pilot::i18n::Locales;
use serde_json::json;

fn device(key: &str, label: &str, os: &str, status: DeviceStatus) -> PlannedDevice {
    PlannedDevice {
        key: key.into(),
        label: label.into(),
        os: os.into(),
        status,
    }
}

fn plan(credentials: u32, registered: bool) -> DevicePlan {
    let needs = |options: &[&str]| DeviceStatus::NeedsPasskey {
        options: options.iter().map(|o| (*o).to_owned()).collect(),
    };
    let test = || DeviceStatus::NeedsTest {
        hint: "notTriedSinceRegistration".into(),
    };
    let devices = if registered {
        vec![
            device("device:phone", "iPhone 15", "ios", test()),
            device("device:laptop", "LT-4711", "windows", test()),
            device("device:desktop", "Windows 10 22H2", "windows", test()),
            device("device:mac", "MacBook Air", "macos", test()),
        ]
    } else {
        vec![
            device(
                "device:phone",
                "iPhone 15",
                "ios",
                needs(&["authenticatorPasskey", "securityKey"]),
            ),
            device(
                "device:laptop",
                "LT-4711",
                "windows",
                needs(&[
                    "windowsHelloForBusiness",
                    "authenticatorPasskey",
                    "securityKey",
                ]),
            ),
            device(
                "device:desktop",
                "Windows 10 22H2",
                "windows",
                needs(&["authenticatorPasskey", "securityKey"]),
            ),
            device(
                "device:mac",
                "MacBook Air",
                "macos",
                needs(&["syncedPasskey", "authenticatorPasskey", "securityKey"]),
            ),
        ]
    };
    DevicePlan {
        assessed_at: "2026-11-25T09:00:00Z".parse().unwrap(),
        verdict: PlanVerdict::NotYet,
        devices,
        credentials,
        login_hint: None,
        last_phishing_resistant: None,
    }
}

/// The plan once the test sign-in is in the log: every device signed in with a passkey.
fn proven() -> DevicePlan {
    let mut p = plan(1, true);
    for d in &mut p.devices {
        d.status = DeviceStatus::Ready;
    }
    p.verdict = PlanVerdict::SafeToEnforce;
    p.last_phishing_resistant = Some("2026-11-25T09:03:00Z".parse().unwrap());
    p
}

/// The events of a journey with nothing wrong: welcome to protected.
fn journey() -> Vec<Event> {
    let click = |verb: &str, data: serde_json::Value| Event::Action {
        verb: verb.into(),
        seq: None,
        data,
    };
    vec![
        Event::Installed,
        Event::Text {
            intent: intent::parse("hi"),
        },
        click("start", json!({})),
        Event::Assessed {
            plan: plan(0, false),
        },
        click(
            "register",
            json!({"device": "device:phone", "option": "authenticatorPasskey"}),
        ),
        click("registered", json!({})),
        Event::Assessed {
            plan: plan(1, true),
        },
        Event::TestSignIn {
            result: TestResult::Passed,
        },
        // The sign-in log shows the test: every device proven.
        Event::Assessed { plan: proven() },
        click("enforce", json!({})),
        Event::Assessed { plan: proven() },
        Event::Enforcement {
            result: EnforcementResult::Added,
        },
    ]
}

fn main() {
    let mut rounds = 2_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--rounds" {
            rounds = args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--rounds N");
        }
    }
    let cards = Cards::load().expect("templates load");
    let texts = Locales::load().expect("locales load");
    let settings = JourneySettings::default();
    let events = journey();
    let start: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();

    for lang in ["en", "de"] {
        let view = View {
            first_name: Some("Megan"),
            user_mri: "29:1a2b3c4d-megan",
            test_url: Some("https://passkeys.contoso.com/signin/test/start?t=abc"),
            settings: &settings,
            deadline: Some("2026-12-15T17:00:00Z".parse().unwrap()),
            time_zone: jiff::tz::TimeZone::get("Europe/Berlin").unwrap(),
        };
        let mut samples: Vec<Duration> = Vec::with_capacity(rounds * events.len());
        let mut cards_rendered = 0u64;
        let mut bytes = 0usize;
        let mut enforced = 0;
        for _ in 0..rounds {
            let mut conv = Conversation::default();
            let mut now = start;
            for event in &events {
                let began = Instant::now();
                let ctx = Ctx {
                    now,
                    settings: &settings,
                };
                let stepped = step(&conv, event.clone(), &ctx);
                for effect in &stepped.effects {
                    if let Effect::Show { screen } | Effect::Post { screen } = effect {
                        let card = render(screen, &stepped.next, &view, &cards, &texts, lang)
                            .expect("every screen renders");
                        bytes += black_box(&card).as_object().map_or(0, |o| o.len());
                        cards_rendered += 1;
                    }
                }
                samples.push(began.elapsed());
                conv = stepped.next;
                now += SignedDuration::from_secs(20);
            }
            if conv.state.name() == "enforced" {
                enforced += 1;
            }
        }
        assert_eq!(enforced, rounds, "every journey ends protected");
        samples.sort();
        let median = samples[samples.len() / 2];
        let p99 = samples[samples.len() * 99 / 100];
        println!(
            "journey step + card ({lang}): {} steps, {cards_rendered} cards; median {:.1} µs, p99 {:.1} µs (target < 50 µs){}",
            samples.len(),
            median.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            if bytes == 0 { " (no cards?)" } else { "" },
        );
    }
}
