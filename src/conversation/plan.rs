//! The device plan: what the journey and its cards need from a readiness assessment, as
//! stable keys (the texts live in `locales/`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::readiness;

/// One person's devices and what each needs, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePlan {
    pub assessed_at: Timestamp,
    pub verdict: PlanVerdict,
    pub devices: Vec<PlannedDevice>,
    /// How many phishing-resistant credentials (passkeys, WHFB, platform credentials) the
    /// person has; a new one shows that a registration reached Graph.
    pub credentials: u32,
    /// The person's sign-in name (UPN), the test sign-in's login hint, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The latest phishing-resistant sign-in the logs show, from anywhere (a passed test
    /// sign-in is confirmed once this is no older than the test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_phishing_resistant: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "camelCase")]
pub enum PlanVerdict {
    SafeToEnforce,
    NotYet,
    NeedsExclusion,
    NotTarget { why: String },
}

/// One device the person used, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedDevice {
    /// Stable key of the device within the plan.
    pub key: String,
    /// What the person calls it ("iPhone", "LT-4711").
    pub label: String,
    /// Operating system family key (`ios`, `android`, `windows`, `macos`, `linux`, `other`).
    pub os: String,
    pub status: DeviceStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum DeviceStatus {
    Ready,
    /// A passkey or Windows Hello covers it but was not used from it: test.
    NeedsTest {
        hint: String,
    },
    /// Ways to add a passkey, best first (option keys).
    NeedsPasskey {
        options: Vec<String>,
    },
    Incompatible {
        reason: String,
        remedies: Vec<String>,
    },
    Unknown {
        ask: Vec<String>,
    },
}

impl DevicePlan {
    /// The first device that needs a passkey and its best option.
    pub fn next_registration(&self) -> Option<(&PlannedDevice, &str)> {
        self.devices.iter().find_map(|d| match &d.status {
            DeviceStatus::NeedsPasskey { options } => options.first().map(|o| (d, o.as_str())),
            _ => None,
        })
    }

    pub fn device(&self, key: &str) -> Option<&PlannedDevice> {
        self.devices.iter().find(|d| d.key == key)
    }

    /// Keys of devices no allowed passkey works on.
    pub fn incompatible(&self) -> Vec<String> {
        self.devices
            .iter()
            .filter(|d| matches!(d.status, DeviceStatus::Incompatible { .. }))
            .map(|d| d.key.clone())
            .collect()
    }

    /// Devices that have a passkey but have not signed in with one yet, computers first: a
    /// test on a computer with the phone's passkey (QR code and Bluetooth) proves the
    /// computer and the phone at once.
    pub fn to_test(&self) -> Vec<&PlannedDevice> {
        let mut devices: Vec<&PlannedDevice> = self
            .devices
            .iter()
            .filter(|d| matches!(d.status, DeviceStatus::NeedsTest { .. }))
            .collect();
        devices.sort_by_key(|d| matches!(d.os.as_str(), "ios" | "android"));
        devices
    }
}

/// The name of a serde-tagged enum value (`{"reason": "iosTooOld", …}` → `iosTooOld`), or of
/// a unit variant (`"guest"` → `guest`).
fn tag_of(value: &impl Serialize, tag: &str) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => map
            .get(tag)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .or_else(|| map.keys().next().cloned())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// A short, language-neutral label of a device from its facts: product names and versions
/// only ("iOS 16.7", "Windows 11 23H2 · Edge"); sentences about it live in `locales/`.
fn device_label(d: &readiness::DeviceAssessment) -> String {
    use readiness::{Channel, Client, OsFamily};
    if let Some(name) = d.display_name.as_deref().filter(|n| !n.trim().is_empty()) {
        return name.trim().to_owned();
    }
    let os = match d.os.family {
        OsFamily::Ios => "iOS",
        OsFamily::Android => "Android",
        OsFamily::Windows => "Windows",
        OsFamily::MacOs => "macOS",
        OsFamily::Linux => "Linux",
        _ => "",
    };
    let mut label = match (&d.os.windows, &d.os.version) {
        (Some(w), _) => {
            let release = if w.windows_11 {
                "Windows 11"
            } else {
                "Windows 10"
            };
            match &w.feature_update {
                Some(update) => format!("{release} {update}"),
                None => release.to_owned(),
            }
        }
        (None, Some(v)) if !os.is_empty() => format!("{os} {v}"),
        _ => os.to_owned(),
    };
    if let Some(model) = d.os.model.as_deref().filter(|m| !m.is_empty()) {
        label = if label.is_empty() {
            model.to_owned()
        } else {
            format!("{label} · {model}")
        };
    }
    let browsers: Vec<&str> = d
        .channels
        .iter()
        .filter_map(|c| match c.channel {
            Channel::Browser { browser } => Some(match browser {
                Client::Edge => "Edge",
                Client::Chrome => "Chrome",
                Client::Safari => "Safari",
                Client::Firefox => "Firefox",
                _ => "",
            }),
            _ => None,
        })
        .filter(|b| !b.is_empty())
        .collect();
    if !d.os.registered && !browsers.is_empty() && d.channels.len() == browsers.len() {
        label = format!("{label} · {}", browsers.join(", "));
    }
    label
}

fn os_key(family: readiness::OsFamily) -> &'static str {
    use readiness::OsFamily;
    match family {
        OsFamily::Ios => "ios",
        OsFamily::Android => "android",
        OsFamily::Windows => "windows",
        OsFamily::MacOs => "macos",
        OsFamily::Linux => "linux",
        _ => "other",
    }
}

impl DevicePlan {
    /// The plan a readiness assessment gives: the journey's and the cards' view of it.
    pub fn from_assessment(a: &readiness::Assessment) -> DevicePlan {
        use readiness::{DeviceVerdict, PersonVerdict};
        let devices = a
            .devices
            .iter()
            .map(|d| PlannedDevice {
                key: d.key.to_string(),
                label: device_label(d),
                os: os_key(d.os.family).to_owned(),
                status: match &d.verdict {
                    DeviceVerdict::Ready { .. } => DeviceStatus::Ready,
                    DeviceVerdict::RegisteredButUnused { hint } => DeviceStatus::NeedsTest {
                        hint: tag_of(hint, "hint"),
                    },
                    DeviceVerdict::NeedsPasskey { options } => DeviceStatus::NeedsPasskey {
                        options: options
                            .iter()
                            .map(|o| tag_of(&o.option, "option"))
                            .collect(),
                    },
                    DeviceVerdict::Incompatible { reason, remedies } => {
                        DeviceStatus::Incompatible {
                            reason: tag_of(reason, "reason"),
                            remedies: remedies.iter().map(|r| tag_of(r, "remedy")).collect(),
                        }
                    }
                    DeviceVerdict::Unknown { ask } => DeviceStatus::Unknown {
                        ask: ask.iter().map(|q| tag_of(q, "")).collect(),
                    },
                },
            })
            .collect();
        DevicePlan {
            assessed_at: a.assessed_at,
            verdict: match &a.person {
                PersonVerdict::SafeToEnforce => PlanVerdict::SafeToEnforce,
                PersonVerdict::NotYet { .. } => PlanVerdict::NotYet,
                PersonVerdict::NeedsExclusion { .. } => PlanVerdict::NeedsExclusion,
                PersonVerdict::NotTarget { why } => PlanVerdict::NotTarget {
                    why: tag_of(why, "why"),
                },
            },
            devices,
            credentials: a.credentials.iter().filter(|c| c.blocked.is_none()).count() as u32,
            login_hint: None,
            last_phishing_resistant: a.last_phishing_resistant,
        }
    }
}
