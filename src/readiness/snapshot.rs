//! What the assessment reads about one person: plain domain types, not Graph JSON. The Graph
//! client's models are mapped into these, so readiness never depends on wire formats.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One person's data at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonSnapshot {
    /// Entra object id of the user.
    pub user_id: String,
    pub user_principal_name: String,
    pub user_type: UserType,
    /// What the account is for, as far as the caller knows (break-glass and service accounts
    /// are usually known from their exclusion groups or a naming convention).
    pub account_kind: AccountKind,
    pub account_enabled: bool,
    /// Transitive group memberships among the groups that matter (target, excluded, passkey
    /// policy targets), lower-case ids.
    pub group_ids: BTreeSet<String>,
    /// The person's own method list (`/users/{id}/authentication/methods`), when read.
    pub methods: Option<MethodList>,
    /// The registration report row (`userRegistrationDetails`), when read.
    pub registration_report: Option<RegistrationReport>,
    /// Entra devices registered to or owned by the person, plus shared devices they sign in on.
    pub devices: Vec<RegisteredDevice>,
    /// Sign-ins of the last 30 days (interactive and, when read, non-interactive).
    pub sign_ins: Vec<SignIn>,
    /// Recent "Authentication Methods" audit events initiated by the person.
    pub audit_events: Vec<AuditEvent>,
    /// When the snapshot was taken.
    pub taken_at: Timestamp,
}

impl PersonSnapshot {
    /// Whether the person is in a group (ids compared case-insensitively).
    pub fn in_group(&self, group_id: &str) -> bool {
        let g = group_id.trim();
        self.group_ids.iter().any(|x| x.eq_ignore_ascii_case(g))
    }
}

/// Graph's `userType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UserType {
    Member,
    Guest,
}

/// What an account is for; only people are ever migration targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccountKind {
    Person,
    ServiceAccount,
    BreakGlass,
}

/// The person's methods as read from Graph at `fetched_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodList {
    pub fetched_at: Timestamp,
    pub methods: Vec<AuthMethod>,
}

/// One authentication method (`@odata.type` discriminated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AuthMethod {
    Passkey(Passkey),
    WindowsHello(WindowsHello),
    Authenticator(AuthenticatorApp),
    Phone(PhoneMethod),
    PlatformCredential(PlatformCredential),
    TemporaryAccessPass(TemporaryAccessPass),
    Password(Password),
    /// Email, software OATH, external methods: not relevant for passkeys, kept for display.
    Other(OtherMethod),
}

/// A `fido2AuthenticationMethod`: a passkey in an app or password manager, or a security key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Passkey {
    pub id: String,
    pub display_name: Option<String>,
    /// Lower-case AAGUID; `None` or all-zero when the provider did not tell.
    pub aaguid: Option<String>,
    /// `passkeyType`; older rows have none.
    pub passkey_type: Option<PasskeyType>,
    pub model: Option<String>,
    pub attested: Option<bool>,
    pub created: Timestamp,
    /// Beta `lastUsedDateTime`.
    pub last_used: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PasskeyType {
    DeviceBound,
    Synced,
}

/// A `windowsHelloForBusinessAuthenticationMethod`: one per device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsHello {
    pub id: String,
    /// The device's name (Graph puts it in `displayName`).
    pub display_name: Option<String>,
    /// `device.deviceId`, when the device was expanded.
    pub device_id: Option<String>,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

/// A `microsoftAuthenticatorAuthenticationMethod`: the app on one phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorApp {
    pub id: String,
    /// The phone's name.
    pub display_name: Option<String>,
    pub device_id: Option<String>,
    /// `phoneAppVersion`, e.g. `6.2404.2229`.
    pub app_version: Option<String>,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

/// A `phoneAuthenticationMethod`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneMethod {
    pub phone_type: PhoneType,
    /// `smsSignInState == ready`.
    pub sms_sign_in: bool,
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PhoneType {
    Mobile,
    AlternateMobile,
    Office,
}

/// A `platformCredentialAuthenticationMethod` (macOS Platform SSO Secure Enclave key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformCredential {
    pub id: String,
    pub display_name: Option<String>,
    pub device_id: Option<String>,
    pub platform: Option<OsFamily>,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

/// A `temporaryAccessPassAuthenticationMethod`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryAccessPass {
    pub id: String,
    pub created: Timestamp,
    pub start: Option<Timestamp>,
    pub lifetime_minutes: u32,
    pub usable_once: bool,
    pub usable: bool,
}

/// A `passwordAuthenticationMethod`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Password {
    pub created: Option<Timestamp>,
}

/// Any other method, by its `@odata.type` short name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherMethod {
    pub odata_type: String,
    pub created: Option<Timestamp>,
}

/// A `userRegistrationDetails` row; it lags hours behind the method list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationReport {
    /// `methodsRegistered`, an open set of strings.
    pub methods_registered: Vec<String>,
    /// When the report row was refreshed (not when a method was added).
    pub last_updated: Timestamp,
}

/// Operating system family, as far as readiness cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OsFamily {
    Windows,
    #[serde(rename = "macOS")]
    MacOs,
    #[serde(rename = "iOS")]
    Ios,
    Android,
    Linux,
    Other,
}

impl OsFamily {
    /// Reads Graph's `operatingSystem` of devices and `deviceDetail.operatingSystem` of
    /// sign-ins (`Windows`, `Windows 10`, `MacMDM`, `MacOs`, `Ios`, `iPadOS`, `Android`…).
    pub fn from_graph(raw: &str) -> OsFamily {
        let s = raw.trim().to_ascii_lowercase();
        if s.starts_with("windows") {
            OsFamily::Windows
        } else if s.starts_with("mac") || s.starts_with("os x") {
            OsFamily::MacOs
        } else if s.starts_with("ios") || s.starts_with("ipados") || s.starts_with("iphone") {
            OsFamily::Ios
        } else if s.starts_with("android") {
            OsFamily::Android
        } else if s.starts_with("linux") || s.contains("ubuntu") {
            OsFamily::Linux
        } else {
            OsFamily::Other
        }
    }

    pub fn is_mobile(self) -> bool {
        matches!(self, OsFamily::Ios | OsFamily::Android)
    }
}

/// Entra `trustType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrustType {
    /// Entra joined.
    AzureAd,
    /// Hybrid joined.
    ServerAd,
    /// Entra registered (personal or BYOD).
    Workplace,
}

impl TrustType {
    /// Reads the device object's (`AzureAd`) or the sign-in log's (`Azure AD joined`) wording.
    pub fn from_graph(raw: &str) -> Option<TrustType> {
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        match s.as_str() {
            "azuread" | "azureadjoined" | "microsoftentrajoined" => Some(TrustType::AzureAd),
            "serverad" | "hybridazureadjoined" | "microsoftentrahybridjoined" => {
                Some(TrustType::ServerAd)
            }
            "workplace" | "azureadregistered" | "microsoftentraregistered" => {
                Some(TrustType::Workplace)
            }
            _ => None,
        }
    }

    /// Joined or hybrid joined: Windows Hello for Business can be provisioned.
    pub fn is_joined(self) -> bool {
        matches!(self, TrustType::AzureAd | TrustType::ServerAd)
    }
}

/// An Entra device object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredDevice {
    /// `deviceId` (what sign-ins carry), not the object id.
    pub device_id: String,
    pub display_name: String,
    /// `operatingSystem` (`Windows`, `iOS`, `Android`, `MacMDM`…).
    pub operating_system: String,
    /// `operatingSystemVersion` (`10.0.22631.4890`, `17.5.1`, `14`).
    pub operating_system_version: Option<String>,
    pub trust_type: Option<TrustType>,
    pub approximate_last_sign_in: Option<Timestamp>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    /// A shared device (kiosk, shift PC; `profileType` `Shared` or known otherwise).
    pub shared: bool,
    /// Distinct people seen signing in on this device tenant-wide, when known: each of them
    /// would need a WHFB enrolment on it.
    pub people_signing_in: Option<u32>,
    /// An Android device with a work profile next to the personal one.
    pub work_profile: bool,
}

/// One sign-in log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub at: Timestamp,
    pub app_id: String,
    pub app_display_name: Option<String>,
    pub interactive: bool,
    pub device: SignInDevice,
    pub user_agent: Option<String>,
    /// `clientAppUsed`: `Browser`, `Mobile Apps and Desktop clients`, …
    pub client_app_used: Option<String>,
    /// Beta `authenticationDetails`.
    pub steps: Vec<AuthStep>,
    /// `status.errorCode`; 0 is success.
    pub error_code: i64,
}

/// `deviceDetail` of a sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInDevice {
    /// Entra device id; empty or absent for unregistered devices.
    pub device_id: Option<String>,
    pub display_name: Option<String>,
    /// Parsed from the user agent by Entra: Windows 11 usually shows as "Windows 10".
    pub operating_system: Option<String>,
    /// `Edge 130.0.0`, `Chrome Mobile 128.0.0`, `Mobile Safari`, `Rich Client 5.2.0`…
    pub browser: Option<String>,
}

/// One `authenticationDetails` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthStep {
    /// `authenticationMethod`: `Password`, `Passkey (device-bound)`, `FIDO2 security key`…
    pub method: String,
    /// `authenticationMethodDetail`: for passkeys the model, e.g. `Microsoft Authenticator - iOS`.
    pub detail: Option<String>,
    pub succeeded: bool,
}

/// A directory audit event of the "Authentication Methods" service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// `activityDisplayName`.
    pub activity: String,
    pub result: AuditResult,
    pub at: Timestamp,
    /// The AAGUID from `additionalDetails`, if any.
    pub aaguid: Option<String>,
    /// `resultReason`.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuditResult {
    Success,
    Failure,
    Timeout,
    Unknown,
}
