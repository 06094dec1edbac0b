//! What the assessment says: stable keys and evidence, no sentences (the texts for people
//! live in `locales/`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::device::{Channel, DeviceKey, Version, WindowsRelease};
use super::policy::{NotTargetReason, PasskeyBlock, PolicyBlock};
use super::rules::{ProviderKind, StepKind};
use super::snapshot::{OsFamily, TrustType};

/// One person's readiness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    pub user_id: String,
    pub user_principal_name: String,
    pub assessed_at: Timestamp,
    /// Sign-ins from this time on count.
    pub window_start: Timestamp,
    pub person: PersonVerdict,
    /// One per device used in the window, ordered by key.
    pub devices: Vec<DeviceAssessment>,
    /// The person's phishing-resistant credentials; devices refer to them by index.
    pub credentials: Vec<Credential>,
    pub methods: MethodsSummary,
    pub registration: RegistrationSummary,
    /// Set when the passkey policy lets the person use no passkey at all.
    pub passkey_policy_block: Option<PolicyBlock>,
    /// Successful sign-ins of ignored apps (registration, interrupt, the bot's test).
    pub ignored_sign_ins: u32,
    /// The latest phishing-resistant sign-in that counts, from any device or app (the bot's
    /// test included): shows whether the log has caught up with a test sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_phishing_resistant: Option<Timestamp>,
}

/// The verdict for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "camelCase")]
pub enum PersonVerdict {
    /// Every device used in the window has a usable passkey that was used from it.
    SafeToEnforce,
    NotYet {
        reasons: Vec<NotYetReason>,
    },
    /// Some devices cannot use a passkey the policy allows: enforcing needs an exclusion for
    /// them (or their remedies).
    NeedsExclusion {
        devices: Vec<DeviceKey>,
    },
    NotTarget {
        why: NotTargetReason,
    },
}

/// Why a person is not yet safe to enforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum NotYetReason {
    /// No successful sign-in in the window: nothing proves any device works.
    NoSignInsInWindow,
    DeviceNeedsPasskey {
        device: DeviceKey,
    },
    /// A passkey or WHFB covers the device, but no passkey sign-in from it was seen.
    DeviceNotTested {
        device: DeviceKey,
    },
    DeviceUnknown {
        device: DeviceKey,
    },
    /// The latest registration failed and nothing was registered since.
    #[serde(rename_all = "camelCase")]
    RegistrationFailing {
        at: Timestamp,
    },
}

/// One device the person used in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAssessment {
    pub key: DeviceKey,
    pub display_name: Option<String>,
    pub os: OsFacts,
    /// How the device signed in, ordered.
    pub channels: Vec<ChannelUse>,
    pub sign_ins: u32,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The latest successful phishing-resistant sign-in from the device in the window.
    pub last_phishing_resistant: Option<StrongUse>,
    /// Indices into [`Assessment::credentials`] of usable credentials that cover the device.
    pub covered_by: Vec<usize>,
    /// Indices of credentials that would cover it but the policy blocks.
    pub blocked: Vec<usize>,
    pub verdict: DeviceVerdict,
}

/// What is known about a device's operating system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OsFacts {
    pub family: OsFamily,
    /// From the Entra device object, else (iOS, Android) from the user agent.
    pub version: Option<Version>,
    /// Windows release from the device object's build; `None` when the build is unknown
    /// (unregistered Windows: the sign-in log's label cannot tell 10 from 11).
    pub windows: Option<WindowsRelease>,
    /// Whether the device is registered in Entra and found in the snapshot's devices.
    pub registered: bool,
    pub trust_type: Option<TrustType>,
    pub shared: bool,
    pub people_signing_in: Option<u32>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub work_profile: bool,
}

/// Use of one channel on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelUse {
    pub channel: Channel,
    /// Highest browser major seen (browsers only).
    pub browser_major: Option<u32>,
    pub sign_ins: u32,
    pub last_seen: Timestamp,
    /// A usable credential works here, or a phishing-resistant sign-in through it was seen.
    pub covered: bool,
    /// A phishing-resistant sign-in through this channel was seen.
    pub proven: bool,
}

/// A successful phishing-resistant sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StrongUse {
    pub at: Timestamp,
    pub kind: StepKind,
    pub channel: Channel,
}

/// The verdict for a device. Ordered from worst to best by [`DeviceVerdict::rank`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "camelCase")]
pub enum DeviceVerdict {
    /// A usable passkey covers every way the device signs in, and one was used from it.
    #[serde(rename_all = "camelCase")]
    Ready {
        last_used: Timestamp,
        kind: StepKind,
    },
    /// A passkey or WHFB covers the device, but no passkey sign-in from it was seen in the
    /// window: ask the person to test.
    RegisteredButUnused { hint: UnusedHint },
    /// The device can use a passkey the person does not have yet; best option first.
    NeedsPasskey { options: Vec<RankedOption> },
    /// No allowed passkey works on the device as it is.
    Incompatible {
        reason: IncompatibleReason,
        remedies: Vec<Remedy>,
    },
    /// Readiness cannot tell without asking the person.
    Unknown { ask: Vec<Question> },
}

impl DeviceVerdict {
    /// The order the property tests check: Incompatible (0) < Unknown (1) < NeedsPasskey (2)
    /// < RegisteredButUnused (3) < Ready (4). Unknown ranks above Incompatible because asking
    /// may still reveal a way; a device's verdict never drops in this order when evidence of
    /// a passkey sign-in is added.
    pub fn rank(&self) -> u8 {
        match self {
            DeviceVerdict::Incompatible { .. } => 0,
            DeviceVerdict::Unknown { .. } => 1,
            DeviceVerdict::NeedsPasskey { .. } => 2,
            DeviceVerdict::RegisteredButUnused { .. } => 3,
            DeviceVerdict::Ready { .. } => 4,
        }
    }
}

/// Why a covered device shows no passkey sign-in, as far as the data tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hint", rename_all = "camelCase")]
pub enum UnusedHint {
    /// WHFB is set up on the device but it keeps signing in with password and MFA: the PIN
    /// is probably forgotten.
    #[serde(rename_all = "camelCase")]
    WhfbPinPossiblyForgotten { registered: Timestamp },
    /// The passkey was used before the window but not since, while the person keeps signing
    /// in with other methods: probably deleted from the phone (or the app reinstalled).
    #[serde(rename_all = "camelCase")]
    PasskeyPossiblyDeleted { last_used: Timestamp },
    /// The passkey was never used anywhere.
    PasskeyNeverUsed,
    /// Registered after the device's last sign-in: not tried yet.
    NotTriedSinceRegistration,
    /// The passkey is used elsewhere, never from this device (e.g. QR flow not tried).
    NotUsedFromThisDevice,
}

/// One way to get a passkey on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RankedOption {
    pub option: PasskeyOption,
    /// Covers every uncovered way the device signs in (else only some).
    pub covers_all: bool,
    pub caveats: Vec<Caveat>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "option", rename_all = "camelCase")]
pub enum PasskeyOption {
    /// A passkey in Microsoft Authenticator, on this phone or from a phone nearby (QR).
    #[serde(rename_all = "camelCase")]
    AuthenticatorPasskey {
        on_this_device: bool,
    },
    WindowsHelloForBusiness,
    /// A passkey of the platform itself (macOS Platform SSO, Entra passkey on Windows).
    PlatformPasskey {
        provider: ProviderKind,
        name: String,
    },
    /// A synced passkey of a password manager (iCloud Keychain, Google Password Manager…).
    SyncedPasskey {
        provider: ProviderKind,
        name: String,
    },
    SecurityKey,
}

/// Conditions attached to an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Caveat {
    /// Works in Chrome/Edge only, not in desktop apps.
    BrowserOnly,
    /// QR/Bluetooth flow: Bluetooth must be allowed on both devices.
    NeedsBluetooth,
    /// Native Microsoft apps on macOS need Company Portal with the Enterprise SSO plug-in.
    NeedsSsoBroker,
    /// Android work profile: register in the profile the apps run in.
    PerWorkProfile,
    /// Samsung may offer Samsung Pass instead of Authenticator as provider [C].
    SamsungProviderMayIntercept,
    /// The Authenticator app on the phone is older than passkeys need under the person's
    /// profiles: update it first.
    UpdateAuthenticator,
    /// Shared device: a key the person carries works on every kiosk.
    SharedDevice,
    /// Needs an NFC or USB-C key on a phone.
    NfcOrUsbKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum IncompatibleReason {
    /// iOS below what Authenticator passkeys need (and synced passkeys not allowed or too old).
    #[serde(rename_all = "camelCase")]
    IosTooOld {
        version: Option<Version>,
        needs: u32,
    },
    #[serde(rename_all = "camelCase")]
    AndroidTooOld {
        version: Option<Version>,
        needs: u32,
    },
    /// A model that needs a later Android for Authenticator passkeys.
    #[serde(rename_all = "camelCase")]
    AndroidModelNeedsUpdate {
        model: String,
        version: Option<Version>,
        needs: u32,
    },
    /// Desktop apps on Windows before 23H2 cannot use a phone passkey, and WHFB is not
    /// available on this device.
    #[serde(rename_all = "camelCase")]
    DesktopAppsNeedNewerWindows { build: u32, needs: u32 },
    /// A browser that cannot do the QR flow on this Windows (Firefox, or Chrome/Edge < 108).
    #[serde(rename_all = "camelCase")]
    BrowserCannotUsePhonePasskey {
        browser: Channel,
        major: Option<u32>,
    },
    /// The passkey policy allows no passkey this device could hold or reach.
    #[serde(rename_all = "camelCase")]
    PolicyAllowsNoOption { block: Option<PasskeyBlock> },
    /// An operating system passkeys are not supported on.
    UnsupportedOs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "remedy", rename_all = "camelCase")]
pub enum Remedy {
    /// Update the operating system to at least this version (Windows: build).
    UpgradeOs {
        os: OsFamily,
        to: u32,
    },
    /// Use Chrome or Edge (at least this major) instead of the desktop app or other browser.
    UseBrowser {
        min_chromium: u32,
    },
    /// Admin: allow synced passkeys in a passkey profile.
    AllowSyncedPasskeys,
    SecurityKey,
    /// Exclude the device (or person) from enforcement.
    Exclusion,
}

/// What to ask the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Question {
    /// Which device this is (unrecognised operating system).
    WhichDevice,
    /// The phone's iOS or Android version.
    OsVersion,
    /// Windows 10 or 11 (and which update): the build is unknown for unregistered PCs.
    WindowsVersion,
}

/// A phishing-resistant credential of the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub kind: CredentialKind,
    /// Provider name from the AAGUID table, when known.
    pub provider_name: Option<String>,
    pub aaguid: Option<String>,
    pub display_name: Option<String>,
    pub model: Option<String>,
    pub created: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    pub source: MethodSource,
    /// Why the passkey policy does not let it sign in, if it does not.
    pub blocked: Option<PasskeyBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CredentialKind {
    Passkey {
        provider: ProviderKind,
        /// The AAGUID was in the table (else the kind is inferred from the passkey type).
        known_provider: bool,
    },
    WindowsHelloForBusiness,
    /// macOS Platform SSO key (counts as WHFB in authentication strengths).
    PlatformCredential,
}

/// Where the method facts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MethodSource {
    /// The person's own method list.
    MethodList,
    /// The registration report (coarse: no AAGUIDs, no devices).
    RegistrationReport,
}

/// The person's other methods, for guidance and the nudge lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodsSummary {
    /// Which source won: the method list when it is at least as fresh as the report row.
    pub source: Option<MethodSource>,
    pub fetched_at: Option<Timestamp>,
    pub report_updated_at: Option<Timestamp>,
    pub authenticator_app: bool,
    pub phone: bool,
    pub temporary_access_pass: bool,
    pub password: bool,
}

/// Registration attempts from the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationSummary {
    pub last_started: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    pub last_failure: Option<RegistrationFailure>,
    /// The latest attempt failed and no passkey was added since.
    pub stuck: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationFailure {
    pub at: Timestamp,
    pub aaguid: Option<String>,
    pub provider: Option<ProviderKind>,
    pub reason: Option<String>,
}
