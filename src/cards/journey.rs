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

use super::{CardError, Cards};
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
    #[error("the {0} card needs a test sign-in URL")]
    NoTestUrl(&'static str),
}

/// The template in `cards/` that shows `screen`.
pub fn template_name(screen: &Screen) -> &'static str {
    match screen {
        Screen::Welcome => "welcome",
        Screen::Checking => "checking",
        Screen::Devices => "devices",
        Screen::Register { .. } => "register",
        Screen::WaitingForGraph { .. } => "waiting",
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
    let r = Renderer {
        conv,
        view,
        tx: Tx { texts, lang },
    };
    let mut data = r.data(screen)?;
    let title = data["title"].as_str().unwrap_or_default().to_owned();
    data["fallback"] = json!(r.tx.args("card-fallback", &[("title", title.into())])?);
    data["seq"] = json!(conv.seq);
    data["userMri"] = json!(view.user_mri);
    Ok(cards.template(template_name(screen))?.expand(&data)?)
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
}

/// Phones and tablets get app steps; everything else is a computer.
fn device_class(os: &str) -> &'static str {
    match os {
        "ios" | "android" => "phone",
        _ => "computer",
    }
}

impl Renderer<'_> {
    fn t(&self, id: &str) -> Result<String, I18nError> {
        self.tx.t(id)
    }

    fn date(&self, at: Timestamp) -> Result<String, I18nError> {
        let z = self.view.time_zone.to_datetime(at);
        let weekday = self.t(&format!(
            "weekday-{}",
            z.weekday().to_monday_one_offset()
        ))?;
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

    fn test_url(&self, card: &'static str) -> Result<&str, RenderError> {
        self.view.test_url.ok_or(RenderError::NoTestUrl(card))
    }

    fn data(&self, screen: &Screen) -> Result<Value, RenderError> {
        Ok(match screen {
            Screen::Welcome => self.welcome()?,
            Screen::Checking => self.simple("checking")?,
            Screen::Devices => self.devices()?,
            Screen::Register { device, option } => self.register(device, option)?,
            Screen::WaitingForGraph { attempt } => json!({
                "title": self.t("waiting-title")?,
                "body": if *attempt == 0 {
                    self.t("waiting-body")?
                } else {
                    self.tx.args("waiting-body-again", &[("attempt", (*attempt).into())])?
                },
                "note": self.t("waiting-note")?,
                "labels": self.labels(&[("help", "action-help")])?,
            }),
            Screen::Test => json!({
                "title": self.t("test-title")?,
                "body": self.t("test-body")?,
                "crossDevice": self.t("test-cross-device")?,
                "note": self.t("test-note")?,
                "testUrl": self.test_url("test")?,
                "labels": self.labels(&[
                    ("open", "test-open"),
                    ("devices", "action-devices"),
                    ("help", "action-help"),
                ])?,
            }),
            Screen::TestFailed { reason } => json!({
                "title": self.t("test-failed-title")?,
                "reason": self.tx.keyed("test-failed", reason)?,
                "next": self.t("test-failed-next")?,
                "testUrl": self.test_url("test-failed")?,
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
        let mut data = json!({
            "title": self.t("devices-title")?,
            "intro": self.t(intro)?,
            "none": self.t("devices-none")?,
            "devices": devices.iter().map(|d| self.device(d)).collect::<Result<Vec<_>, _>>()?,
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
                        self.tx.args("devices-recommended", &[("option", name.into())])?
                    } else {
                        name
                    };
                    options.push(json!({
                        "key": key,
                        "device": d.key,
                        "title": title,
                        "steps": self.steps(key, &d.os)?,
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
                link("link-authenticator-google-play", AUTHENTICATOR_GOOGLE_PLAY_URL)?,
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
