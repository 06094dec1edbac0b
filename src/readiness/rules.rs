//! Compatibility rules as data: minimum versions, Windows builds, the AAGUID → provider table,
//! apps whose sign-ins are not a person's devices, and the log strings readiness reads. The
//! defaults live in one place, the `[readiness.rules]` section of `config/default.toml`, with
//! where each figure comes from (reference/graph.md §6, §7, §8, §14).

use serde::{Deserialize, Serialize};

use super::snapshot::PasskeyType;

/// Everything readiness decides by, except the tenant's policy and the person's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Days of sign-ins that count as "uses this device" (the logs keep 30).
    pub window_days: u32,
    /// iOS major for a passkey in Microsoft Authenticator.
    pub min_ios_authenticator: u32,
    /// iOS major for an iCloud Keychain (synced) passkey.
    pub min_ios_synced: u32,
    /// Android major for a passkey in Microsoft Authenticator.
    pub min_android_authenticator: u32,
    /// Android models that need a later Android for Authenticator passkeys.
    pub android_models_needing_update: Vec<AndroidModel>,
    /// Android major for a Google Password Manager (synced) passkey.
    pub min_android_synced: u32,
    /// macOS major for an iCloud Keychain passkey in Safari and Chrome.
    pub min_macos_synced: u32,
    /// Authenticator app version (iOS) a passkey needs under a profile that allows both
    /// device-bound and synced passkeys.
    pub min_authenticator_version_ios: String,
    /// The same for Android.
    pub min_authenticator_version_android: String,
    /// First Windows 11 build (the version string still starts `10.0.`).
    pub windows_11_build: u32,
    /// Windows build from which a phone passkey works over QR/Bluetooth in every app
    /// (Windows 11 23H2); older builds only in Chrome/Edge.
    pub windows_cross_device_all_apps_build: u32,
    /// Chrome/Edge major from which the QR (cross-device) flow works in the browser.
    pub min_chromium_cross_device: u32,
    /// Windows Hello for Business enrolments a device holds.
    pub max_whfb_per_shared_device: u32,
    /// AAGUID → provider (compare lower-case).
    pub providers: Vec<Provider>,
    /// Apps whose sign-ins do not show a device the person uses.
    pub ignored_apps: Vec<IgnoredApp>,
    /// `authenticationDetails[].authenticationMethod` strings that are phishing-resistant.
    pub phishing_resistant_steps: Vec<StepRule>,
    /// `activityDisplayName` strings of registration audit events.
    pub registration_activities: RegistrationActivities,
}

/// An Android model by `manufacturer` and `model` (compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AndroidModel {
    pub manufacturer: String,
    pub model: String,
    /// The Android major the model needs for Authenticator passkeys.
    pub needs_android: u32,
}

/// One row of the AAGUID table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub aaguid: String,
    /// Product name shown to people (a proper name, not translated).
    pub name: String,
    pub kind: ProviderKind,
    pub certainty: Certainty,
}

/// What kind of authenticator an AAGUID stands for; decides where a passkey can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProviderKind {
    /// Microsoft Authenticator on iOS (device-bound).
    AuthenticatorIos,
    /// Microsoft Authenticator on Android (device-bound).
    AuthenticatorAndroid,
    /// Entra passkey in Windows Hello (device-bound, one Windows device).
    WindowsHello,
    /// macOS Platform SSO Secure Enclave key (counts as WHFB in strengths).
    MacPlatformCredential,
    /// iCloud Keychain / Apple Passwords (synced across the person's Apple devices).
    AppleSynced,
    /// Google Password Manager (synced across Android and Chrome).
    GoogleSynced,
    /// Samsung Pass (synced across Samsung phones).
    SamsungSynced,
    /// Other password managers (Microsoft Password Manager, 1Password, Bitwarden…).
    OtherSynced,
    /// A browser's own passkey store on one computer (Chrome/Edge on Mac).
    BrowserPlatform,
    /// A hardware security key.
    SecurityKey,
}

impl ProviderKind {
    pub fn passkey_type(self) -> PasskeyType {
        match self {
            ProviderKind::AppleSynced
            | ProviderKind::GoogleSynced
            | ProviderKind::SamsungSynced
            | ProviderKind::OtherSynced => PasskeyType::Synced,
            _ => PasskeyType::DeviceBound,
        }
    }

    /// Whether registrations carry attestation (needed where a profile enforces it).
    pub fn attested(self) -> bool {
        matches!(
            self,
            ProviderKind::AuthenticatorIos
                | ProviderKind::AuthenticatorAndroid
                | ProviderKind::MacPlatformCredential
                | ProviderKind::SecurityKey
        )
    }

    pub fn is_authenticator(self) -> bool {
        matches!(
            self,
            ProviderKind::AuthenticatorIos | ProviderKind::AuthenticatorAndroid
        )
    }
}

/// How well a fact is sourced (reference/graph.md markers [V], [C], [U]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Certainty {
    /// Checked against Microsoft's documentation.
    Verified,
    /// Community sources only.
    Community,
    /// Not verifiable; kept because ignoring it is harmless.
    Unverified,
}

/// An app whose sign-ins say nothing about the devices a person works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoredApp {
    pub app_id: String,
    pub name: String,
    pub why: IgnoredWhy,
    pub certainty: Certainty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IgnoredWhy {
    /// Security-info registration (My Sign-Ins and the services behind it).
    Registration,
    /// The registration interrupt shown at sign-in.
    Interrupt,
    /// The bot's own test sign-in app.
    BotTest,
}

/// A sign-in step string and what kind of phishing-resistant method it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRule {
    pub method: String,
    pub kind: StepKind,
}

/// Phishing-resistant methods as the sign-in log names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    PasskeyDeviceBound,
    PasskeySynced,
    SecurityKey,
    WindowsHello,
    PlatformCredential,
}

/// Audit `activityDisplayName`s of registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationActivities {
    /// A registration began.
    pub started: Vec<String>,
    /// A method was added (with `result` success or failure).
    pub registered: Vec<String>,
}

impl Default for Rules {
    /// The built-in rules of `config/default.toml`.
    fn default() -> Rules {
        let table: toml::Table =
            toml::from_str(crate::config::DEFAULTS).expect("built-in defaults are TOML");
        let rules = table
            .get("readiness")
            .and_then(|r| r.get("rules"))
            .cloned()
            .expect("built-in defaults have [readiness.rules]");
        rules
            .try_into()
            .expect("built-in readiness rules are valid")
    }
}

impl Rules {
    /// The provider of an AAGUID.
    pub fn provider(&self, aaguid: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|p| p.aaguid.eq_ignore_ascii_case(aaguid.trim()))
    }

    /// The first provider of a kind (for names of options).
    pub fn provider_of_kind(&self, kind: ProviderKind) -> Option<&Provider> {
        self.providers.iter().find(|p| p.kind == kind)
    }

    pub fn ignored_app(&self, app_id: &str) -> Option<&IgnoredApp> {
        self.ignored_apps
            .iter()
            .find(|a| a.app_id.eq_ignore_ascii_case(app_id.trim()))
    }

    /// The phishing-resistant kind of a sign-in step string, if it is one.
    pub fn step_kind(&self, method: &str) -> Option<StepKind> {
        self.phishing_resistant_steps
            .iter()
            .find(|s| s.method.eq_ignore_ascii_case(method.trim()))
            .map(|s| s.kind)
    }

    /// The Android major a model needs for Authenticator passkeys, if listed.
    pub fn android_model_needs(
        &self,
        manufacturer: Option<&str>,
        model: Option<&str>,
    ) -> Option<u32> {
        let model = model?.trim();
        self.android_models_needing_update
            .iter()
            .find(|m| {
                m.model.eq_ignore_ascii_case(model)
                    && manufacturer.is_none_or(|x| m.manufacturer.eq_ignore_ascii_case(x.trim()))
            })
            .map(|m| m.needs_android)
    }

    /// Normalises ids to lower case and checks them; the error names the key and the value.
    pub fn validate(&mut self) -> Result<(), (&'static str, String)> {
        for p in &mut self.providers {
            p.aaguid = guid(&p.aaguid).ok_or_else(|| {
                (
                    "readiness.rules.providers",
                    format!("{:?} is not an AAGUID (GUID)", p.aaguid),
                )
            })?;
        }
        for a in &mut self.ignored_apps {
            a.app_id = guid(&a.app_id).ok_or_else(|| {
                (
                    "readiness.rules.ignored_apps",
                    format!("{:?} is not an app id (GUID)", a.app_id),
                )
            })?;
        }
        for (key, value) in [
            (
                "readiness.rules.min_authenticator_version_ios",
                &self.min_authenticator_version_ios,
            ),
            (
                "readiness.rules.min_authenticator_version_android",
                &self.min_authenticator_version_android,
            ),
        ] {
            if super::device::Version::parse(value).is_none() {
                return Err((key, format!("{value:?} is not a version like 6.2507.4749")));
            }
        }
        for (key, value) in [
            ("readiness.rules.window_days", self.window_days),
            (
                "readiness.rules.max_whfb_per_shared_device",
                self.max_whfb_per_shared_device,
            ),
        ] {
            if value == 0 {
                return Err((key, "must be at least 1".into()));
            }
        }
        Ok(())
    }
}

/// A GUID in lower-case hyphenated form.
pub(crate) fn guid(raw: &str) -> Option<String> {
    uuid::Uuid::try_parse(raw.trim())
        .ok()
        .map(|u| u.hyphenated().to_string())
}
