//! The device plan: what the journey and its cards need from a readiness assessment, as
//! stable keys (the texts live in `locales/`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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

    /// Every device is ready or only waits for a passkey sign-in from it: a passed test
    /// sign-in is what is missing.
    pub fn only_tests_missing(&self) -> bool {
        !self.devices.is_empty()
            && self.devices.iter().all(|d| {
                matches!(
                    d.status,
                    DeviceStatus::Ready | DeviceStatus::NeedsTest { .. }
                )
            })
    }
}
