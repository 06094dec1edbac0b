//! A sample person's journey, screen by screen, for reviewing the cards: `passkey-pilot cards`
//! writes them as JSON (open them in the Adaptive Cards Designer), and the browser test renders
//! them to the screenshots in docs/cards/.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::journey::{RenderError, View, render};
use super::{CardError, Cards};
use crate::conversation::{
    Conversation, DevicePlan, DeviceStatus, JourneySettings, PlanVerdict, PlannedDevice, Screen,
    State,
};
use crate::i18n::{I18nError, Locales};

/// One card of the sample journey.
pub struct Sample {
    /// File name stem, ordered as the journey goes (`01-welcome`).
    pub name: &'static str,
    pub card: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error(transparent)]
    Text(#[from] I18nError),
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("a valid sample time")
}

fn device(key: &str, label: &str, os: &str, status: DeviceStatus) -> PlannedDevice {
    PlannedDevice {
        key: key.into(),
        label: label.into(),
        os: os.into(),
        status,
    }
}

/// Megan: an iPhone without a passkey, a Windows 11 laptop that can use it, and an old iPad.
fn plan(registered: bool) -> DevicePlan {
    let phone = if registered {
        DeviceStatus::NeedsTest {
            hint: "notTriedSinceRegistration".into(),
        }
    } else {
        DeviceStatus::NeedsPasskey {
            options: vec!["authenticatorPasskey".into(), "securityKey".into()],
        }
    };
    let laptop = if registered {
        DeviceStatus::NeedsTest {
            hint: "notUsedFromThisDevice".into(),
        }
    } else {
        DeviceStatus::NeedsPasskey {
            options: vec![
                "windowsHelloForBusiness".into(),
                "authenticatorPasskey".into(),
                "securityKey".into(),
            ],
        }
    };
    DevicePlan {
        assessed_at: at("2026-11-25T09:00:00Z"),
        verdict: PlanVerdict::NeedsExclusion,
        credentials: u32::from(registered),
        login_hint: None,
        last_phishing_resistant: None,
        devices: vec![
            device("device:phone", "iPhone 15", "ios", phone),
            device("device:laptop", "LT-4711", "windows", laptop),
            device(
                "device:ipad",
                "iPad (iOS 15.8)",
                "ios",
                DeviceStatus::Incompatible {
                    reason: "iosTooOld".into(),
                    remedies: vec!["upgradeOs".into(), "securityKey".into(), "exclusion".into()],
                },
            ),
        ],
    }
}

/// The main cards of the journey in `lang`, in the order a person meets them.
pub fn journey(lang: &str) -> Result<Vec<Sample>, SampleError> {
    let cards = Cards::load()?;
    let texts = Locales::load()?;
    let settings = JourneySettings::default();
    let view = View {
        first_name: Some(if lang == "de" { "Jürgen" } else { "Megan" }),
        user_mri: "29:1a2b3c4d5e6f-sample",
        test_url: Some("https://passkeys.contoso.com/signin/test/start?t=sample"),
        settings: &settings,
        deadline: Some(at("2026-12-15T16:00:00Z")),
        time_zone: TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC),
    };
    let conv = |state: State, registered: bool| Conversation {
        state,
        seq: 4,
        snoozes: 0,
        plan: Some(plan(registered)),
        tested_at: None,
    };
    let since = at("2026-11-25T09:02:00Z");
    let screens: Vec<(&'static str, Screen, Conversation)> = vec![
        ("01-welcome", Screen::Welcome, Conversation::default()),
        ("02-devices", Screen::Devices, conv(State::Planned, false)),
        (
            "03-register",
            Screen::Register {
                device: "device:phone".into(),
                option: "authenticatorPasskey".into(),
            },
            conv(
                State::Registering {
                    device: "device:phone".into(),
                    option: "authenticatorPasskey".into(),
                    since,
                },
                false,
            ),
        ),
        (
            "04-waiting",
            Screen::WaitingForGraph { attempt: 1 },
            conv(
                State::AwaitingGraph {
                    device: Some("device:phone".into()),
                    since,
                    attempt: 1,
                    known_credentials: 0,
                },
                false,
            ),
        ),
        (
            "05-test",
            Screen::Test,
            conv(State::Testing { since }, true),
        ),
        (
            "06-confirm",
            Screen::ConfirmEnforce,
            conv(State::ReadyToEnforce, true),
        ),
        (
            "07-protected",
            Screen::Protected {
                at: at("2026-11-25T09:06:00Z"),
            },
            conv(
                State::Enforced {
                    at: at("2026-11-25T09:06:00Z"),
                },
                true,
            ),
        ),
        (
            "08-snooze",
            Screen::SnoozeChoices,
            conv(State::Planned, false),
        ),
        (
            "09-exclusion",
            Screen::ExclusionRequest,
            conv(State::Planned, false),
        ),
        ("10-help", Screen::Help, conv(State::Planned, false)),
    ];
    screens
        .into_iter()
        .map(|(name, screen, conv)| {
            Ok(Sample {
                name,
                card: render(&screen, &conv, &view, &cards, &texts, lang)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_journey_renders_in_both_languages() {
        for lang in ["en", "de"] {
            let samples = journey(lang).unwrap();
            assert_eq!(samples.len(), 10);
            for s in &samples {
                assert_eq!(s.card["type"], "AdaptiveCard", "{}", s.name);
                assert!(!s.card.to_string().contains("${"), "{}", s.name);
            }
        }
        let de = journey("de").unwrap();
        assert!(de[0].card.to_string().contains("Jürgen"));
    }
}
