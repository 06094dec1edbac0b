//! The journey's cards: one [`Screen`] of a [`Conversation`] as an Adaptive Card.
//!
//! Pure: texts come from `locales/` (English fills in what a language lacks), dates are
//! formatted here in the person's time zone, and the template of the screen (`cards/`) is
//! expanded against the data built here. Every `Action.Execute` carries the conversation's
//! `seq`, so the journey can tell an old card from the current one; every card has a
//! `refresh` for the person's MRI so Teams updates it in place.

use fluent_bundle::{FluentArgs, FluentValue};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::{CardError, Cards, MAX_CARD_BYTES};
use crate::conversation::{
    Conversation, DevicePlan, DeviceStatus, HelpReason, JourneySettings, PlanVerdict,
    PlannedDevice, Screen, State,
};
use crate::i18n::{I18nError, Locales};

/// The security info page, where passkeys and security keys are added.
pub const SECURITY_INFO_URL: &str = "https://mysignins.microsoft.com/security-info";
/// Microsoft Authenticator in Apple's App Store.
pub const AUTHENTICATOR_APP_STORE_URL: &str =
    "https://apps.apple.com/app/microsoft-authenticator/id983156458";
/// Microsoft Authenticator in Google Play.
pub const AUTHENTICATOR_GOOGLE_PLAY_URL: &str =
    "https://play.google.com/store/apps/details?id=com.azure.authenticator";
/// Windows Settings › Accounts › Sign-in options (Windows Hello).
pub const WINDOWS_HELLO_SETTINGS_URL: &str = "ms-settings:signinoptions";

/// What a card shows besides the conversation.
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// The person's first name, when Teams told it.
    pub first_name: Option<&'a str>,
    /// The person's Teams MRI (`29:…`): the card refreshes for them.
    pub user_mri: &'a str,
    /// The test sign-in link (authorization request with this person's `state`); the test
    /// cards need it.
    pub test_url: Option<&'a str>,
    /// Snooze choices and limits, as the journey applies them.
    pub settings: &'a JourneySettings,
    /// When passkeys become required for this person, if a deadline is set.
    pub deadline: Option<Timestamp>,
    /// The person's time zone, for dates on cards.
    pub time_zone: TimeZone,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Card(#[from] CardError),
    #[error(transparent)]
    Text(#[from] I18nError),
    #[error("the card is {bytes} bytes, over Teams' budget")]
    TooBig { bytes: usize },
}

/// The template in `cards/` that shows `screen`.
pub fn template_name(screen: &Screen) -> &'static str {
    match screen {
        Screen::Welcome => "welcome",
        Screen::Checking => "checking",
        Screen::Devices => "devices",
        Screen::Register { .. } => "register",
        Screen::WaitingForGraph { .. } | Screen::ConfirmingTest { .. } => "waiting",
        Screen::Test => "test",
        Screen::TestFailed { .. } => "test-failed",
        Screen::ConfirmEnforce => "confirm-enforce",
        Screen::EnforcementPaused => "enforcement-paused",
        Screen::Protected { .. } => "protected",
        Screen::SnoozeChoices => "snooze",
        Screen::Snoozed { .. } => "snoozed",
        Screen::ExclusionRequest => "exclusion-request",
        Screen::Excluded { .. } => "excluded",
        Screen::Help => "help",
        Screen::HelpdeskAsked { .. } => "helpdesk-asked",
        Screen::NotTarget => "not-target",
        Screen::OutOfDate => "out-of-date",
        Screen::LookupFailed => "lookup-failed",
    }
}

/// The card for `screen` in language `lang` (a shipped language; others get English).
pub fn render(
    screen: &Screen,
    conv: &Conversation,
    view: &View<'_>,
    cards: &Cards,
    texts: &Locales,
    lang: &str,
) -> Result<Value, RenderError> {
    let template = cards.template(template_name(screen))?;
    let card = template.expand(&card_data(screen, conv, view, texts, lang)?)?;
    if *screen != Screen::Devices || card_bytes(&card) <= MAX_CARD_BYTES {
        return Ok(card);
    }
    // Many devices: the steps move to the register card, which every option opens.
    let r = Renderer {
        conv,
        view,
        tx: Tx { texts, lang },
        compact: true,
    };
    let mut data = r.data(screen)?;
    r.common(&mut data)?;
    let card = template.expand(&data)?;
    match card_bytes(&card) {
        bytes if bytes <= MAX_CARD_BYTES => Ok(card),
        bytes => Err(RenderError::TooBig { bytes }),
    }
}

fn card_bytes(card: &Value) -> usize {
    serde_json::to_vec(card).map_or(usize::MAX, |v| v.len())
}

/// The data the template of `screen` is expanded against (for tests and the designer's
/// sample-data pane).
pub fn card_data(
    screen: &Screen,
    conv: &Conversation,
    view: &View<'_>,
    texts: &Locales,
    lang: &str,
) -> Result<Value, RenderError> {
    let r = Renderer {
        conv,
        view,
        tx: Tx { texts, lang },
        compact: false,
    };
    let mut data = r.data(screen)?;
    r.common(&mut data)?;
    Ok(data)
}

/// Texts in one language.
struct Tx<'a> {
    texts: &'a Locales,
    lang: &'a str,
}

impl Tx<'_> {
    fn t(&self, id: &str) -> Result<String, I18nError> {
        self.texts.text(self.lang, id, None)
    }

    fn args(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> Result<String, I18nError> {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        self.texts.text(self.lang, id, Some(&a))
    }

    /// The first of `ids` that exists (the last is the catch-all and must exist).
    fn first_of(&self, ids: &[String]) -> Result<String, I18nError> {
        for id in &ids[..ids.len() - 1] {
            match self.t(id) {
                Err(I18nError::Missing { .. }) => continue,
                other => return other,
            }
        }
        self.t(&ids[ids.len() - 1])
    }

    /// Text for a stable key (`hint`, `reason`, …) with a catch-all for keys added later.
    fn keyed(&self, prefix: &str, key: &str) -> Result<String, I18nError> {
        self.first_of(&[format!("{prefix}-{key}"), format!("{prefix}-other")])
    }

    /// A Markdown bullet list.
    fn bullets(items: &[String]) -> String {
        items
            .iter()
            .map(|i| format!("- {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

struct Renderer<'a> {
    conv: &'a Conversation,
    view: &'a View<'a>,
    tx: Tx<'a>,
    /// Leave the steps out of the devices card (they are on the register card too).
    compact: bool,
}

/// Phones and tablets get app steps; everything else is a computer.
fn device_class(os: &str) -> &'static str {
    match os {
        "ios" | "android" => "phone",
        _ => "computer",
    }
}

impl Renderer<'_> {
    /// What every card binds: fallback text, seq and the person's MRI.
    fn common(&self, data: &mut Value) -> Result<(), I18nError> {
        if data.get("fallback").is_none() {
            let title = data["title"].as_str().unwrap_or_default().to_owned();
            data["fallback"] = json!(self.tx.args("card-fallback", &[("title", title.into())])?);
        }
        data["seq"] = json!(self.conv.seq);
        data["userMri"] = json!(self.view.user_mri);
        Ok(())
    }

    fn t(&self, id: &str) -> Result<String, I18nError> {
        self.tx.t(id)
    }

    fn date(&self, at: Timestamp) -> Result<String, I18nError> {
        let z = self.view.time_zone.to_datetime(at);
        let weekday = self.t(&format!("weekday-{}", z.weekday().to_monday_one_offset()))?;
        let month = self.t(&format!("month-{}", z.month()))?;
        self.tx.args(
            "date-time",
            &[
                ("weekday", weekday.into()),
                ("day", z.day().to_string().into()),
                ("month", month.into()),
                ("year", z.year().to_string().into()),
                ("time", format!("{:02}:{:02}", z.hour(), z.minute()).into()),
            ],
        )
    }

    /// `hasDeadline` and `deadline` (a sentence) for cards that mention the deadline.
    fn deadline(&self, data: &mut Value, id: &str) -> Result<(), I18nError> {
        let text = match self.view.deadline {
            Some(at) => self.tx.args(id, &[("date", self.date(at)?.into())])?,
            None => String::new(),
        };
        data["hasDeadline"] = json!(self.view.deadline.is_some());
        data["deadline"] = json!(text);
        Ok(())
    }

    fn labels(&self, pairs: &[(&str, &str)]) -> Result<Value, I18nError> {
        let mut out = serde_json::Map::new();
        for (name, id) in pairs {
            out.insert((*name).to_owned(), json!(self.t(id)?));
        }
        Ok(Value::Object(out))
    }

    fn plan(&self) -> Option<&DevicePlan> {
        self.conv.plan.as_ref()
    }

    fn option_name(&self, option: &str) -> Result<String, I18nError> {
        self.tx.keyed("option", option)
    }

    fn os_name(&self, os: &str) -> Result<String, I18nError> {
        self.tx.keyed("os", os)
    }

    /// Numbered steps for adding `option` on a device with `os`.
    fn steps(&self, option: &str, os: &str) -> Result<String, I18nError> {
        self.tx.first_of(&[
            format!("steps-{option}-{os}"),
            format!("steps-{option}-{}", device_class(os)),
            format!("steps-{option}"),
            "steps-other".to_owned(),
        ])
    }

    /// Says why the test cannot start when there is no link (empty when there is one).
    fn unavailable(&self) -> Result<String, I18nError> {
        match self.view.test_url {
            Some(_) => Ok(String::new()),
            None => self.t("test-unavailable"),
        }
    }

    /// The waiting card (the `waiting` template) with the texts under `prefix`: Graph has not
    /// shown the new passkey yet, or the sign-in log the passed test.
    fn waiting(&self, prefix: &str, attempt: u32) -> Result<Value, I18nError> {
        Ok(json!({
            "title": self.t(&format!("{prefix}-title"))?,
            "body": if attempt == 0 {
                self.t(&format!("{prefix}-body"))?
            } else {
                self.tx
                    .args(&format!("{prefix}-body-again"), &[("attempt", attempt.into())])?
            },
            "note": self.t("waiting-note")?,
            "labels": self.labels(&[("help", "action-help")])?,
        }))
    }

    /// Which device to test from: the first that has not signed in with a passkey yet,
    /// computers first (empty when none is known).
    fn test_where(&self) -> Result<String, I18nError> {
        match self.plan().and_then(|p| p.to_test().first().copied()) {
            Some(d) => self
                .tx
                .args("test-where", &[("device", d.label.clone().into())]),
            None => Ok(String::new()),
        }
    }

    /// After a failed test: set a passkey up again on a device that has one but has not
    /// signed in with it (deleted from the phone, a forgotten Windows Hello PIN), at most
    /// two, phones first.
    fn redo_choices(&self) -> Result<Vec<Value>, I18nError> {
        let Some(plan) = self.plan() else {
            return Ok(Vec::new());
        };
        let mut choices: Vec<(u8, Value)> = Vec::new();
        for d in &plan.devices {
            if !matches!(d.status, DeviceStatus::NeedsTest { .. }) {
                continue;
            }
            let (rank, option) = match d.os.as_str() {
                "ios" | "android" => (0, "authenticatorPasskey"),
                "windows" => (1, "windowsHelloForBusiness"),
                _ => continue,
            };
            choices.push((
                rank,
                json!({
                    "device": d.key,
                    "option": option,
                    "title": self.tx.args("test-failed-redo", &[("device", d.label.clone().into())])?,
                }),
            ));
        }
        choices.sort_by_key(|(rank, _)| *rank);
        Ok(choices.into_iter().take(2).map(|(_, c)| c).collect())
    }

    fn data(&self, screen: &Screen) -> Result<Value, RenderError> {
        Ok(match screen {
            Screen::Welcome => self.welcome()?,
            Screen::Checking => self.simple("checking")?,
            Screen::Devices => self.devices()?,
            Screen::Register { device, option } => self.register(device, option)?,
            Screen::WaitingForGraph { attempt } => self.waiting("waiting", *attempt)?,
            Screen::ConfirmingTest { attempt } => self.waiting("confirming", *attempt)?,
            Screen::Test => json!({
                "title": self.t("test-title")?,
                "body": self.t("test-body")?,
                "testOn": self.test_where()?,
                "crossDevice": self.t("test-cross-device")?,
                "note": self.t("test-note")?,
                "testUrl": self.view.test_url.unwrap_or_default(),
                "unavailable": self.unavailable()?,
                "labels": self.labels(&[
                    ("open", "test-open"),
                    ("retry", "test-retry"),
                    ("devices", "action-devices"),
                    ("help", "action-help"),
                ])?,
            }),
            Screen::TestFailed { reason } => json!({
                "title": self.t("test-failed-title")?,
                "reason": self.tx.keyed("test-failed", reason)?,
                "next": self.t("test-failed-next")?,
                "testUrl": self.view.test_url.unwrap_or_default(),
                "unavailable": self.unavailable()?,
                "redo": self.redo_choices()?,
                "labels": self.labels(&[
                    ("retry", "test-retry"),
                    ("devices", "action-devices"),
                    ("helpdesk", "action-helpdesk"),
                ])?,
            }),
            Screen::ConfirmEnforce => {
                let body = match self.conv.tested_at {
                    Some(at) => self
                        .tx
                        .args("confirm-body-tested", &[("date", self.date(at)?.into())])?,
                    None => self.t("confirm-body")?,
                };
                let mut data = json!({
                    "title": self.t("confirm-title")?,
                    "body": body,
                    "changes": self.t("confirm-changes")?,
                    "when": self.t("confirm-when")?,
                    "labels": self.labels(&[
                        ("enforce", "action-enforce"),
                        ("snooze", "action-snooze"),
                        ("devices", "action-devices"),
                    ])?,
                });
                self.deadline(&mut data, "deadline-sentence")?;
                data
            }
            Screen::EnforcementPaused => json!({
                "title": self.t("paused-title")?,
                "body": self.t("paused-body")?,
                "labels": self.labels(&[("devices", "action-devices"), ("help", "action-help")])?,
            }),
            Screen::Protected { at } => json!({
                "title": self.t("protected-title")?,
                "body": self.tx.args("protected-body", &[("date", self.date(*at)?.into())])?,
                "changes": self.t("protected-changes")?,
                "lost": self.t("protected-lost")?,
                "labels": self.labels(&[("help", "action-help")])?,
            }),
            Screen::SnoozeChoices => self.snooze_choices()?,
            Screen::Snoozed { until } => {
                let mut data = json!({
                    "title": self.t("snoozed-title")?,
                    "body": self.tx.args("snoozed-body", &[("date", self.date(*until)?.into())])?,
                    "labels": self.labels(&[("start", "action-continue")])?,
                });
                self.deadline(&mut data, "deadline-sentence")?;
                data
            }
            Screen::ExclusionRequest => json!({
                "title": self.t("exclusion-title")?,
                "body": self.t("exclusion-body")?,
                "devices": self.incompatible_list(None)?,
                "note": self.t("exclusion-note")?,
                "labels": self.labels(&[
                    ("reason", "exclusion-reason-label"),
                    ("placeholder", "exclusion-reason-placeholder"),
                    ("error", "exclusion-reason-error"),
                    ("send", "exclusion-send"),
                    ("devices", "action-devices"),
                ])?,
            }),
            Screen::Excluded { until } => {
                let devices = match &self.conv.state {
                    State::Excluded { devices, .. } => Some(devices.as_slice()),
                    _ => None,
                };
                json!({
                    "title": self.t("excluded-title")?,
                    "body": self.tx.args("excluded-body", &[("date", self.date(*until)?.into())])?,
                    "devices": self.incompatible_list(devices)?,
                    "note": self.t("excluded-note")?,
                    "labels": self.labels(&[("help", "action-help"), ("helpdesk", "action-helpdesk")])?,
                })
            }
            Screen::Help => self.help()?,
            Screen::HelpdeskAsked { reason } => {
                let key = match reason {
                    HelpReason::Asked => "asked",
                    HelpReason::RegistrationNotFound => "registrationNotFound",
                    HelpReason::LookupFailing => "lookupFailing",
                    HelpReason::EnforcementFailed => "enforcementFailed",
                    HelpReason::NewPhone => "newPhone",
                };
                json!({
                    "title": self.t("helpdesk-title")?,
                    "body": self.t(&format!("helpdesk-{key}"))?,
                    "note": self.t("helpdesk-note")?,
                    "labels": self.labels(&[("help", "action-help")])?,
                })
            }
            Screen::NotTarget => self.simple("not-target")?,
            Screen::OutOfDate => self.simple("out-of-date")?,
            Screen::LookupFailed => json!({
                "title": self.t("lookup-failed-title")?,
                "body": self.t("lookup-failed-body")?,
                "labels": self.labels(&[("recheck", "action-recheck"), ("helpdesk", "action-helpdesk")])?,
            }),
        })
    }

    /// A card with only `<id>-title` and `<id>-body`.
    fn simple(&self, id: &str) -> Result<Value, I18nError> {
        Ok(json!({
            "title": self.t(&format!("{id}-title"))?,
            "body": self.t(&format!("{id}-body"))?,
        }))
    }

    fn welcome(&self) -> Result<Value, I18nError> {
        let name = self
            .view
            .first_name
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let title = match name {
            Some(name) => self
                .tx
                .args("welcome-title", &[("name", name.to_owned().into())])?,
            None => self.t("welcome-title-unnamed")?,
        };
        Ok(json!({
            "title": title,
            "fallback": self.t("welcome-fallback")?,
            "body": self.t("welcome-body")?,
            "steps": self.t("welcome-steps")?,
            "privacy": self.t("welcome-privacy")?,
            "about": {
                "title": self.t("welcome-about-title")?,
                "what": self.t("welcome-about-what")?,
                "password": self.t("welcome-about-password")?,
                "pin": self.t("welcome-about-pin")?,
                "lost": self.t("welcome-about-lost")?,
            },
            "labels": self.labels(&[("start", "action-start")])?,
        }))
    }

    fn devices(&self) -> Result<Value, I18nError> {
        let plan = self.plan();
        let devices = plan.map(|p| p.devices.as_slice()).unwrap_or_default();
        let intro = match plan.map(|p| &p.verdict) {
            Some(PlanVerdict::SafeToEnforce) => "devices-intro-safe",
            Some(PlanVerdict::NeedsExclusion) => "devices-intro-exclusion",
            _ => "devices-intro-not-yet",
        };
        let can_test = devices.iter().any(|d| {
            matches!(
                d.status,
                DeviceStatus::Ready | DeviceStatus::NeedsTest { .. }
            )
        });
        let can_exclude = plan.is_some_and(|p| !p.incompatible().is_empty());
        // The first device that needs a passkey, with its best option, one click away.
        let next = match plan.and_then(DevicePlan::next_registration) {
            Some((d, option)) => json!({
                "has": true,
                "title": self.tx.args("devices-next", &[("device", d.label.clone().into())])?,
                "device": d.key,
                "option": option,
            }),
            None => json!({"has": false, "title": "", "device": "", "option": ""}),
        };
        let mut data = json!({
            "next": next,
            "title": self.t("devices-title")?,
            "intro": self.t(intro)?,
            "none": self.t("devices-none")?,
            "devices": devices
                .iter()
                .filter(|d| !(self.compact && d.status == DeviceStatus::Ready))
                .map(|d| self.device(d))
                .collect::<Result<Vec<_>, _>>()?,
            "more": match devices.iter().filter(|d| d.status == DeviceStatus::Ready).count() {
                ready if self.compact && ready > 0 => {
                    self.tx.args("devices-more-ready", &[("count", ready.into())])?
                }
                _ => String::new(),
            },
            "canTest": can_test,
            "canExclude": can_exclude,
            "labels": self.labels(&[
                ("test", "action-test"),
                ("exclude", "action-exclude"),
                ("recheck", "action-recheck"),
                ("snooze", "action-snooze"),
                ("help", "action-help"),
            ])?,
        });
        self.deadline(&mut data, "deadline-sentence")?;
        Ok(data)
    }

    fn device(&self, d: &PlannedDevice) -> Result<Value, I18nError> {
        let (status, color) = match &d.status {
            DeviceStatus::Ready => ("ready", "Good"),
            DeviceStatus::NeedsTest { .. } => ("needsTest", "Warning"),
            DeviceStatus::NeedsPasskey { .. } => ("needsPasskey", "Attention"),
            DeviceStatus::Incompatible { .. } => ("incompatible", "Attention"),
            DeviceStatus::Unknown { .. } => ("unknown", "Warning"),
        };
        let mut explain = String::new();
        let mut remedies = String::new();
        let mut options = Vec::new();
        let mut redo = "";
        match &d.status {
            DeviceStatus::Ready => {}
            DeviceStatus::NeedsTest { hint } => {
                explain = self.tx.keyed("hint", hint)?;
                // A credential that may be gone can be set up again right away.
                redo = match (hint.as_str(), d.os.as_str()) {
                    ("whfbPinPossiblyForgotten", _) => "windowsHelloForBusiness",
                    ("passkeyPossiblyDeleted", "ios" | "android") => "authenticatorPasskey",
                    _ => "",
                };
            }
            DeviceStatus::NeedsPasskey { options: keys } => {
                for (i, key) in keys.iter().enumerate() {
                    let name = self.option_name(key)?;
                    let title = if i == 0 {
                        self.tx
                            .args("devices-recommended", &[("option", name.into())])?
                    } else {
                        name
                    };
                    options.push(json!({
                        "key": key,
                        "device": d.key,
                        "title": title,
                        "steps": if self.compact {
                            self.t("devices-steps-next")?
                        } else {
                            self.steps(key, &d.os)?
                        },
                        "register": self.t("devices-register")?,
                    }));
                }
            }
            DeviceStatus::Incompatible {
                reason,
                remedies: keys,
            } => {
                explain = self.tx.keyed("reason", reason)?;
                let items = keys
                    .iter()
                    .map(|k| self.tx.keyed("remedy", k))
                    .collect::<Result<Vec<_>, _>>()?;
                remedies = Tx::bullets(&items);
            }
            DeviceStatus::Unknown { ask } => {
                explain = self.t("unknown-explain")?;
                let items = ask
                    .iter()
                    .map(|k| self.tx.keyed("ask", k))
                    .collect::<Result<Vec<_>, _>>()?;
                remedies = Tx::bullets(&items);
            }
        }
        Ok(json!({
            "key": d.key,
            "label": d.label,
            "osName": self.os_name(&d.os)?,
            "verdict": self.t(&format!("status-{status}"))?,
            "color": color,
            "explain": explain,
            "todo": self.t(&format!("todo-{status}"))?,
            "remedies": remedies,
            "options": options,
            "redo": redo,
            "redoTitle": if redo.is_empty() { String::new() } else { self.t("devices-redo")? },
        }))
    }

    fn register(&self, device: &str, option: &str) -> Result<Value, I18nError> {
        let planned = self.plan().and_then(|p| p.device(device));
        let (label, os) = planned.map_or((device, "other"), |d| (d.label.as_str(), d.os.as_str()));
        let link = |id: &str, url: &str| -> Result<Value, I18nError> {
            Ok(json!({"title": self.t(id)?, "url": url}))
        };
        let security_info = link("link-security-info", SECURITY_INFO_URL)?;
        let links = match (option, os) {
            ("authenticatorPasskey", "ios") => vec![
                link("link-authenticator-app-store", AUTHENTICATOR_APP_STORE_URL)?,
                security_info,
            ],
            ("authenticatorPasskey", "android") => vec![
                link(
                    "link-authenticator-google-play",
                    AUTHENTICATOR_GOOGLE_PLAY_URL,
                )?,
                security_info,
            ],
            ("windowsHelloForBusiness", _) => {
                vec![link("link-windows-hello", WINDOWS_HELLO_SETTINGS_URL)?]
            }
            _ => vec![security_info],
        };
        Ok(json!({
            "title": self.tx.args("register-title", &[
                ("option", self.option_name(option)?.into()),
                ("device", label.to_owned().into()),
            ])?,
            "intro": self.t("register-intro")?,
            "steps": self.steps(option, os)?,
            "after": self.t("register-after")?,
            "links": links,
            "labels": self.labels(&[("done", "action-registered"), ("back", "action-devices")])?,
        }))
    }

    fn snooze_choices(&self) -> Result<Value, I18nError> {
        let settings = self.view.settings;
        let left = self.conv.snoozes < settings.max_snoozes;
        let choices = if left {
            settings
                .snooze_days
                .iter()
                .map(|days| {
                    Ok(json!({
                        "days": days,
                        "title": self.tx.args("snooze-days", &[("days", (*days).into())])?,
                    }))
                })
                .collect::<Result<Vec<_>, I18nError>>()?
        } else {
            Vec::new()
        };
        let mut data = json!({
            "title": self.t("snooze-title")?,
            "body": self.t("snooze-body")?,
            "none": self.t("snooze-none")?,
            "choices": choices,
            "labels": self.labels(&[("devices", "action-devices")])?,
        });
        self.deadline(&mut data, "deadline-sentence")?;
        Ok(data)
    }

    /// The incompatible devices (or the given keys) as a bullet list with why.
    fn incompatible_list(&self, keys: Option<&[String]>) -> Result<String, I18nError> {
        let Some(plan) = self.plan() else {
            return Ok(String::new());
        };
        let mut items = Vec::new();
        for d in &plan.devices {
            let listed = keys.map_or(
                matches!(d.status, DeviceStatus::Incompatible { .. }),
                |keys| keys.contains(&d.key),
            );
            if !listed {
                continue;
            }
            items.push(match &d.status {
                DeviceStatus::Incompatible { reason, .. } => {
                    format!("**{}**: {}", d.label, self.tx.keyed("reason", reason)?)
                }
                _ => format!("**{}**", d.label),
            });
        }
        Ok(Tx::bullets(&items))
    }

    fn help(&self) -> Result<Value, I18nError> {
        let items = ["passkey", "password", "pin", "lost", "time"]
            .iter()
            .map(|k| {
                Ok(json!({
                    "q": self.t(&format!("help-q-{k}"))?,
                    "a": self.t(&format!("help-a-{k}"))?,
                }))
            })
            .collect::<Result<Vec<_>, I18nError>>()?;
        Ok(json!({
            "title": self.t("help-title")?,
            "body": self.t("help-body")?,
            "faq": {"title": self.t("help-faq-title")?, "items": items},
            "labels": self.labels(&[
                ("devices", "action-devices"),
                ("snooze", "action-snooze"),
                ("helpdesk", "action-helpdesk"),
            ])?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::VERBS;

    const MRI: &str = "29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB39ATiQWA85gQtHieVkKilBZ9XHoq9j7Zaqt7CZ-NJWi7me2kHTL3Bw";

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn device(key: &str, label: &str, os: &str, status: DeviceStatus) -> PlannedDevice {
        PlannedDevice {
            key: key.into(),
            label: label.into(),
            os: os.into(),
            status,
        }
    }

    /// A person with one device in every status.
    fn plan() -> DevicePlan {
        DevicePlan {
            assessed_at: at("2026-11-25T09:00:00Z"),
            verdict: PlanVerdict::NeedsExclusion,
            credentials: 1,
            login_hint: None,
            last_phishing_resistant: None,
            devices: vec![
                device(
                    "iphone",
                    "Jürgen's \"work\" iPhone",
                    "ios",
                    DeviceStatus::NeedsPasskey {
                        options: vec!["authenticatorPasskey".into(), "securityKey".into()],
                    },
                ),
                device(
                    "pc",
                    "LT-4711",
                    "windows",
                    DeviceStatus::NeedsTest {
                        hint: "whfbPinPossiblyForgotten".into(),
                    },
                ),
                device("mac", "MacBook", "macos", DeviceStatus::Ready),
                device(
                    "old",
                    "iPhone 8",
                    "ios",
                    DeviceStatus::Incompatible {
                        reason: "iosTooOld".into(),
                        remedies: vec![
                            "upgradeOs".into(),
                            "securityKey".into(),
                            "exclusion".into(),
                        ],
                    },
                ),
                device(
                    "tablet",
                    "Tablet",
                    "other",
                    DeviceStatus::Unknown {
                        ask: vec!["osVersion".into()],
                    },
                ),
            ],
        }
    }

    fn conversation(state: State) -> Conversation {
        Conversation {
            state,
            seq: 42,
            snoozes: 1,
            plan: Some(plan()),
            tested_at: Some(at("2026-11-25T09:05:00Z")),
        }
    }

    fn every_screen() -> Vec<Screen> {
        vec![
            Screen::Welcome,
            Screen::Checking,
            Screen::Devices,
            Screen::Register {
                device: "iphone".into(),
                option: "authenticatorPasskey".into(),
            },
            Screen::WaitingForGraph { attempt: 0 },
            Screen::WaitingForGraph { attempt: 3 },
            Screen::ConfirmingTest { attempt: 0 },
            Screen::ConfirmingTest { attempt: 2 },
            Screen::Test,
            Screen::TestFailed {
                reason: "strengthNotMet".into(),
            },
            Screen::ConfirmEnforce,
            Screen::EnforcementPaused,
            Screen::Protected {
                at: at("2026-11-25T10:00:00Z"),
            },
            Screen::SnoozeChoices,
            Screen::Snoozed {
                until: at("2026-11-28T09:00:00Z"),
            },
            Screen::ExclusionRequest,
            Screen::Excluded {
                until: at("2026-12-25T09:00:00Z"),
            },
            Screen::Help,
            Screen::HelpdeskAsked {
                reason: HelpReason::NewPhone,
            },
            Screen::NotTarget,
            Screen::OutOfDate,
            Screen::LookupFailed,
        ]
    }

    struct Fixture {
        cards: Cards,
        texts: Locales,
        settings: JourneySettings,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                cards: Cards::load().unwrap(),
                texts: Locales::load().unwrap(),
                settings: JourneySettings::default(),
            }
        }

        fn view(&self) -> View<'_> {
            View {
                first_name: Some("Jürgen"),
                user_mri: MRI,
                test_url: Some("https://login.example/authorize?state=abc&nonce=x"),
                settings: &self.settings,
                deadline: Some(at("2026-12-31T23:00:00Z")),
                time_zone: TimeZone::fixed(jiff::tz::offset(1)),
            }
        }

        fn render(&self, screen: &Screen, conv: &Conversation, lang: &str) -> Value {
            render(screen, conv, &self.view(), &self.cards, &self.texts, lang)
                .unwrap_or_else(|e| panic!("{screen:?} in {lang}: {e}"))
        }
    }

    /// Every `Action.Execute` in the card, the refresh action included.
    fn executes(v: &Value, out: &mut Vec<Value>) {
        of_type(v, "Action.Execute", out);
    }

    /// Every object of `kind` anywhere in the card.
    fn of_type(v: &Value, kind: &str, out: &mut Vec<Value>) {
        match v {
            Value::Object(map) => {
                if map.get("type") == Some(&json!(kind)) {
                    out.push(v.clone());
                }
                map.values().for_each(|v| of_type(v, kind, out));
            }
            Value::Array(items) => items.iter().for_each(|v| of_type(v, kind, out)),
            _ => {}
        }
    }

    fn all_text(v: &Value) -> String {
        v.to_string()
    }

    #[test]
    fn every_screen_renders_in_english_and_german_with_the_current_seq_on_every_action() {
        let f = Fixture::new();
        let conv = conversation(State::Planned);
        for screen in every_screen() {
            let en = f.render(&screen, &conv, "en");
            let de = f.render(&screen, &conv, "de");
            assert_ne!(en["body"], de["body"], "{screen:?}: German equals English");
            for card in [&en, &de] {
                let text = all_text(card);
                assert!(
                    !text.contains("${"),
                    "{screen:?}: leftover binding in {text}"
                );
                assert!(card["fallbackText"].as_str().is_some_and(|t| !t.is_empty()));
                assert!(serde_json::to_vec(card).unwrap().len() <= MAX_CARD_BYTES);
                let mut actions = Vec::new();
                executes(card, &mut actions);
                for action in &actions {
                    assert_eq!(action["data"]["seq"], json!(42), "{screen:?}: {action}");
                    let verb = action["verb"].as_str().unwrap();
                    assert!(VERBS.contains(&verb), "{screen:?}: unknown verb {verb}");
                }
                if screen == Screen::OutOfDate {
                    // An old card must not refresh itself back into a live one.
                    assert!(card.get("refresh").is_none());
                } else {
                    assert_eq!(card["refresh"]["userIds"], json!([MRI]), "{screen:?}");
                    assert_eq!(card["refresh"]["action"]["verb"], "refresh");
                }
            }
        }
    }

    #[test]
    fn an_unknown_language_gets_english() {
        let f = Fixture::new();
        let conv = conversation(State::Planned);
        assert_eq!(
            f.render(&Screen::Help, &conv, "fr"),
            f.render(&Screen::Help, &conv, "en")
        );
    }

    #[test]
    fn every_option_has_its_own_steps_on_every_operating_system_in_both_languages() {
        let f = Fixture::new();
        let options = [
            "authenticatorPasskey",
            "windowsHelloForBusiness",
            "platformPasskey",
            "syncedPasskey",
            "securityKey",
        ];
        for lang in ["en", "de"] {
            let other = f.texts.text(lang, "steps-other", None).unwrap();
            let tx = Tx {
                texts: &f.texts,
                lang,
            };
            let conv = conversation(State::Planned);
            let view = f.view();
            let r = Renderer {
                conv: &conv,
                view: &view,
                tx,
                compact: false,
            };
            for option in options {
                for os in ["ios", "android", "windows", "macos", "linux", "other"] {
                    let steps = r.steps(option, os).unwrap();
                    assert_ne!(steps, other, "{lang}: {option} on {os}");
                    assert!(steps.starts_with("1. "), "{lang}: {option} on {os}");
                }
            }
            assert_ne!(
                r.steps("authenticatorPasskey", "ios").unwrap(),
                r.steps("authenticatorPasskey", "windows").unwrap()
            );
        }
    }

    #[test]
    fn the_register_card_links_to_the_right_place_for_each_case() {
        let f = Fixture::new();
        let mut conv = conversation(State::Planned);
        conv.plan.as_mut().unwrap().devices.push(device(
            "droid",
            "Pixel",
            "android",
            DeviceStatus::NeedsPasskey {
                options: vec!["authenticatorPasskey".into()],
            },
        ));
        let urls = |device: &str, option: &str| -> Vec<String> {
            let card = f.render(
                &Screen::Register {
                    device: device.into(),
                    option: option.into(),
                },
                &conv,
                "en",
            );
            let mut links = Vec::new();
            of_type(&card, "Action.OpenUrl", &mut links);
            links
                .iter()
                .map(|a| a["url"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            urls("iphone", "authenticatorPasskey"),
            [AUTHENTICATOR_APP_STORE_URL, SECURITY_INFO_URL]
        );
        assert_eq!(
            urls("droid", "authenticatorPasskey"),
            [AUTHENTICATOR_GOOGLE_PLAY_URL, SECURITY_INFO_URL]
        );
        assert_eq!(
            urls("pc", "windowsHelloForBusiness"),
            [WINDOWS_HELLO_SETTINGS_URL]
        );
        assert_eq!(urls("pc", "authenticatorPasskey"), [SECURITY_INFO_URL]);
        assert_eq!(urls("iphone", "securityKey"), [SECURITY_INFO_URL]);
        let card = f.render(
            &Screen::Register {
                device: "pc".into(),
                option: "windowsHelloForBusiness".into(),
            },
            &conv,
            "de",
        );
        assert_eq!(
            card["body"][0]["text"],
            "Windows Hello for Business auf LT-4711 einrichten"
        );
        let done = card["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["verb"] == "registered");
        assert!(done.is_some(), "{card}");
    }

    #[test]
    fn the_devices_card_puts_the_best_option_first_with_a_register_action_each() {
        let f = Fixture::new();
        let card = f.render(&Screen::Devices, &conversation(State::Planned), "en");
        let text = all_text(&card);
        for needle in [
            "Recommended: Passkey in Microsoft Authenticator",
            "Security key (USB or NFC)",
            "iOS version older than 17",
            "Set it up again",
            "Passkeys become required for your account on Friday 1 January 2027, 00:00.",
            "Jürgen's \\\"work\\\" iPhone",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in {text}");
        }
        let mut actions = Vec::new();
        executes(&card, &mut actions);
        let registers: Vec<_> = actions
            .iter()
            .filter(|a| a["verb"] == "register")
            .map(|a| (a["data"]["device"].clone(), a["data"]["option"].clone()))
            .collect();
        assert_eq!(
            registers,
            [
                (json!("iphone"), json!("authenticatorPasskey")),
                (json!("iphone"), json!("authenticatorPasskey")),
                (json!("iphone"), json!("securityKey")),
                (json!("pc"), json!("windowsHelloForBusiness")),
            ]
        );
        let verbs: Vec<_> = card["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["verb"].as_str().unwrap())
            .collect();
        assert_eq!(
            verbs,
            [
                "register",
                "test",
                "exclude",
                "recheck",
                "snoozeMenu",
                "help"
            ]
        );
        assert_eq!(
            card["actions"][0]["title"],
            "Set up Jürgen's \"work\" iPhone"
        );
        assert_eq!(
            card["actions"][0]["data"],
            json!({"seq": 42, "device": "iphone", "option": "authenticatorPasskey"})
        );
    }

    #[test]
    fn the_devices_card_without_a_plan_says_no_device_was_found() {
        let f = Fixture::new();
        let mut conv = conversation(State::Planned);
        conv.plan = None;
        let card = f.render(&Screen::Devices, &conv, "de");
        assert!(all_text(&card).contains("Ich habe kein Gerät gefunden"));
        assert!(!all_text(&card).contains("\"Container\""));
        let verbs: Vec<_> = card["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["verb"].as_str().unwrap())
            .collect();
        assert_eq!(verbs, ["recheck", "snoozeMenu", "help"]);
    }

    #[test]
    fn dates_are_shown_in_the_persons_time_zone_and_language() {
        let f = Fixture::new();
        let conv = conversation(State::Enforced {
            at: at("2026-11-25T23:30:00Z"),
        });
        let screen = Screen::Protected {
            at: at("2026-11-25T23:30:00Z"),
        };
        let de = f.render(&screen, &conv, "de");
        assert_eq!(
            de["body"][1]["text"],
            "Seit Donnerstag, 26. November 2026, 00:30 Uhr verlangt Ihr Konto einen Passkey."
        );
        let en = f.render(&screen, &conv, "en");
        assert_eq!(
            en["body"][1]["text"],
            "Since Thursday 26 November 2026, 00:30, your account requires a passkey."
        );
        assert!(all_text(&en).contains("Within the hour"));
    }

    #[test]
    fn the_test_cards_open_the_test_sign_in_url_and_offer_to_try_again_without_one() {
        let f = Fixture::new();
        let conv = conversation(State::Testing {
            since: at("2026-11-25T09:00:00Z"),
        });
        let card = f.render(&Screen::Test, &conv, "en");
        // The fixture's PC needs a test: the card says to test there.
        assert!(
            all_text(&card).contains("Do this test on **LT-4711**."),
            "{card}"
        );
        assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
        assert_eq!(
            card["actions"][0]["url"],
            "https://login.example/authorize?state=abc&nonce=x"
        );
        assert!(!all_text(&card).contains("cannot start"), "{card}");
        let mut view = f.view();
        view.test_url = None;
        for screen in [
            Screen::Test,
            Screen::TestFailed {
                reason: "expired".into(),
            },
        ] {
            let card = render(&screen, &conv, &view, &f.cards, &f.texts, "en").unwrap();
            let actions = card["actions"].as_array().unwrap();
            assert!(
                actions.iter().all(|a| a["type"] != "Action.OpenUrl"),
                "{card}"
            );
            assert_eq!(actions[0]["verb"], "test", "{card}");
            assert_eq!(actions[0]["title"], "Try again", "{card}");
            assert!(
                all_text(&card).contains("The test sign-in cannot start just now"),
                "{card}"
            );
        }
    }

    #[test]
    fn a_failed_test_offers_to_set_the_passkey_up_again_on_devices_that_have_one() {
        let f = Fixture::new();
        let conv = conversation(State::Testing {
            since: at("2026-11-25T09:00:00Z"),
        });
        let card = f.render(
            &Screen::TestFailed {
                reason: "strengthNotMet".into(),
            },
            &conv,
            "en",
        );
        let redo: Vec<_> = card["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["verb"] == "register")
            .map(|a| (a["data"]["device"].clone(), a["data"]["option"].clone()))
            .collect();
        let expected: Vec<_> = conv
            .plan
            .as_ref()
            .unwrap()
            .devices
            .iter()
            .filter(|d| matches!(d.status, DeviceStatus::NeedsTest { .. }))
            .filter(|d| matches!(d.os.as_str(), "ios" | "android" | "windows"))
            .map(|d| d.key.clone())
            .collect();
        assert!(!expected.is_empty(), "the fixture has a device to redo");
        assert_eq!(
            redo.iter()
                .map(|(d, _)| d.as_str().unwrap().to_owned())
                .collect::<Vec<_>>(),
            expected.into_iter().take(2).collect::<Vec<_>>()
        );
        assert!(all_text(&card).contains("Set it up again on"), "{card}");
    }

    #[test]
    fn snooze_offers_the_configured_days_until_none_are_left() {
        let f = Fixture::new();
        let mut conv = conversation(State::Planned);
        let card = f.render(&Screen::SnoozeChoices, &conv, "en");
        let snoozes: Vec<_> = card["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["verb"] == "snooze")
            .map(|a| (a["title"].clone(), a["data"]["days"].clone()))
            .collect();
        assert_eq!(
            snoozes,
            [
                (json!("Tomorrow"), json!(1)),
                (json!("In 3 days"), json!(3)),
                (json!("In 7 days"), json!(7))
            ]
        );
        conv.snoozes = f.settings.max_snoozes;
        let card = f.render(&Screen::SnoozeChoices, &conv, "de");
        assert!(
            !card["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["verb"] == "snooze")
        );
        assert!(all_text(&card).contains("so oft wie möglich verschoben"));
    }

    #[test]
    fn the_exclusion_request_asks_for_a_required_reason_of_at_most_500_characters() {
        let f = Fixture::new();
        let card = f.render(
            &Screen::ExclusionRequest,
            &conversation(State::Planned),
            "en",
        );
        let input = card["body"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "Input.Text")
            .unwrap();
        assert_eq!(input["id"], "reason");
        assert_eq!(input["isRequired"], true);
        assert_eq!(input["maxLength"], 500);
        assert!(all_text(&card).contains("**iPhone 8**: This iPhone or iPad runs an iOS version"));
        assert_eq!(card["actions"][0]["verb"], "requestExclusion");
    }

    #[test]
    fn keys_added_later_get_the_catch_all_text() {
        let f = Fixture::new();
        let mut conv = conversation(State::Planned);
        conv.plan.as_mut().unwrap().devices = vec![
            device(
                "a",
                "A",
                "plan9",
                DeviceStatus::NeedsTest {
                    hint: "brandNewHint".into(),
                },
            ),
            device(
                "b",
                "B",
                "windows",
                DeviceStatus::NeedsPasskey {
                    options: vec!["quantumKey".into()],
                },
            ),
        ];
        let text = all_text(&f.render(&Screen::Devices, &conv, "en"));
        assert!(text.contains("Other device"), "{text}");
        assert!(text.contains("Another kind of passkey"), "{text}");
        assert!(text.contains("has not been used from it yet"), "{text}");
        let failed = f.render(
            &Screen::TestFailed {
                reason: "somethingNew".into(),
            },
            &conv,
            "de",
        );
        assert!(all_text(&failed).contains("nicht durchgegangen"));
    }

    #[test]
    fn the_welcome_greets_by_first_name_or_without_one() {
        let f = Fixture::new();
        let conv = Conversation::default();
        let card = f.render(&Screen::Welcome, &conv, "de");
        assert!(
            card["body"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("Hallo Jürgen")
        );
        assert_eq!(card["actions"][0]["verb"], "start");
        let mut view = f.view();
        view.first_name = Some("  ");
        let card = render(&Screen::Welcome, &conv, &view, &f.cards, &f.texts, "en").unwrap();
        assert_eq!(card["body"][0]["text"], "Hi, let's move you to passkeys");
    }

    #[test]
    fn a_person_with_very_many_devices_gets_a_devices_card_within_teams_budget() {
        let f = Fixture::new();
        let mut conv = conversation(State::Planned);
        let p = conv.plan.as_mut().unwrap();
        let base = p.devices.clone();
        for i in 0..5 {
            for d in &base {
                let mut d = d.clone();
                d.key = format!("{}-{i}", d.key);
                d.label = format!(
                    "{} with a long name that wraps over several lines {i}",
                    d.label
                );
                p.devices.push(d);
            }
        }
        for lang in ["en", "de"] {
            let full = card_data(&Screen::Devices, &conv, &f.view(), &f.texts, lang).unwrap();
            let full = f.cards.template("devices").unwrap().expand(&full).unwrap();
            assert!(
                card_bytes(&full) > MAX_CARD_BYTES,
                "the case must be too big in full"
            );
            let card = f.render(&Screen::Devices, &conv, lang);
            assert!(card_bytes(&card) <= MAX_CARD_BYTES);
            let text = all_text(&card);
            assert!(text.contains("iPhone 8 with a long name that wraps over several lines 4"));
            let mut actions = Vec::new();
            executes(&card, &mut actions);
            // One per option of each device that needs a passkey or a fresh setup, and the next step.
            assert_eq!(
                actions.iter().filter(|a| a["verb"] == "register").count(),
                19
            );
            assert!(
                !text.contains("MacBook with"),
                "ready devices are summed up"
            );
        }
    }
}
