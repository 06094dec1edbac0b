//! The typed data of a simulated tenant. Values are compact (indices, small enums, borrowed
//! table strings) so 100,000 people fit in memory; the Graph simulator renders Graph's JSON
//! from them on demand.

use std::fmt;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use super::rng::mix;

/// A Graph-style object id (a GUID), kept as 16 bytes and written in the hyphenated form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub u128);

impl Guid {
    /// A version-4-shaped GUID derived from the seed, a kind of object and an index.
    pub(crate) fn derive(seed: u64, kind: u64, index: u64) -> Guid {
        let hi = mix(seed ^ mix(kind.wrapping_mul(0x9e37_79b9) ^ mix(index)));
        let lo = mix(hi ^ mix(index.wrapping_add(kind << 40)));
        let raw = (u128::from(hi) << 64) | u128::from(lo);
        let versioned = (raw & !(0xf << 76)) | (0x4 << 76);
        Guid((versioned & !(0x3 << 62)) | (0x2 << 62))
    }

    /// Parses the hyphenated form (any case).
    pub fn parse(raw: &str) -> Option<Guid> {
        uuid::Uuid::try_parse(raw.trim())
            .ok()
            .map(|u| Guid(u.as_u128()))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        uuid::Uuid::from_u128(self.0).hyphenated().fmt(f)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What an account is for; only employees are ever migration targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PersonKind {
    Employee,
    Guest,
    ServiceAccount,
    BreakGlass,
}

/// Graph's `userType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum UserType {
    Member,
    Guest,
}

/// A locale the tenant's people use, with the IANA zones its people live in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Locale {
    /// `preferredLanguage`, e.g. `de-AT`.
    pub tag: &'static str,
    /// `usageLocation` (ISO 3166 country).
    pub usage_location: &'static str,
    /// IANA zones with their standard UTC offset in minutes (working hours are placed with it).
    pub zones: &'static [(&'static str, i32)],
    #[serde(skip)]
    pub(crate) names: &'static super::shares::NameTable,
}

/// One person (Graph user) with their devices, methods and sign-in range.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: Guid,
    pub kind: PersonKind,
    pub user_type: UserType,
    pub display_name: String,
    pub given_name: Option<&'static str>,
    pub surname: Option<&'static str>,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub department: Option<&'static str>,
    pub job_title: Option<&'static str>,
    pub preferred_language: &'static str,
    pub usage_location: &'static str,
    /// IANA zone, as `mailboxSettings.timeZone` would give after Windows → IANA mapping.
    pub time_zone: &'static str,
    pub account_enabled: bool,
    pub created: Timestamp,
    /// Indices into [`super::Population::devices`]; shared desktops appear for several people.
    pub devices: Vec<u32>,
    pub methods: Vec<Method>,
    /// Range into [`super::Population::sign_ins`] (start, length).
    pub sign_ins: (u32, u32),
    /// What the generator decided about this person (ground truth for tests and the demo).
    pub traits: Traits,
}

/// Ground-truth facts the data implies; the bot must find them from Graph data alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Traits {
    /// Works shifts on shared desktops (kiosk / shift PCs).
    pub shift_worker: bool,
    /// Has only security keys as strong methods and no phone.
    pub security_key_only: bool,
    /// No sign-ins in the 30-day window (leave, long absence).
    pub no_sign_ins: bool,
    /// Registration failed and never succeeded afterwards.
    pub stuck_registration: bool,
    /// WHFB registered but the PIN is forgotten: sign-ins on that device fall back to push/SMS.
    pub forgotten_whfb_pin: bool,
    /// Authenticator passkey registered in Entra but deleted from the phone.
    pub passkey_deleted_from_phone: bool,
    /// Passkey registered but never used.
    pub passkey_never_used: bool,
}

/// Operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Platform {
    #[serde(rename = "iOS")]
    Ios,
    Android,
    Windows,
    #[serde(rename = "macOS")]
    MacOs,
    Linux,
}

impl Platform {
    /// The Entra device object's `operatingSystem`.
    pub fn device_os(self) -> &'static str {
        match self {
            Platform::Ios => "iOS",
            Platform::Android => "Android",
            Platform::Windows => "Windows",
            Platform::MacOs => "MacMDM",
            Platform::Linux => "Linux",
        }
    }

    /// `deviceDetail.operatingSystem` in sign-ins (parsed from the user agent: Windows 11
    /// shows as "Windows 10").
    pub fn sign_in_os(self) -> &'static str {
        match self {
            Platform::Ios => "Ios",
            Platform::Android => "Android",
            Platform::Windows => "Windows 10",
            Platform::MacOs => "MacOs",
            Platform::Linux => "Linux",
        }
    }

    pub fn is_mobile(self) -> bool {
        matches!(self, Platform::Ios | Platform::Android)
    }
}

/// How a device is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FormFactor {
    Phone,
    Tablet,
    Laptop,
    Desktop,
    /// A kiosk or shift PC that several people sign in on.
    SharedDesktop,
}

/// Entra `trustType`; `None` on [`Device`] means the device is not registered in Entra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TrustType {
    /// Entra joined.
    AzureAd,
    /// Hybrid joined.
    ServerAd,
    /// Entra registered (personal or BYOD).
    Workplace,
}

/// The browser a device uses for web sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Browser {
    Edge,
    Chrome,
    Firefox,
    Safari,
}

impl Browser {
    pub fn name(self) -> &'static str {
        match self {
            Browser::Edge => "Edge",
            Browser::Chrome => "Chrome",
            Browser::Firefox => "Firefox",
            Browser::Safari => "Safari",
        }
    }
}

/// An OS version in parts: iOS/macOS `major.minor.patch`, Android `major`, Windows
/// `10.0.build.revision` (build 22000 and later is Windows 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct OsVersion {
    pub major: u16,
    pub minor: u16,
    pub build: u32,
    pub revision: u32,
}

/// A device someone signs in from.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Entra object id (`device.id`).
    pub id: Guid,
    /// Entra device id (`device.deviceId`, what sign-ins carry); unregistered devices have
    /// one too but it never appears in Graph.
    pub device_id: Guid,
    pub display_name: String,
    pub platform: Platform,
    pub form: FormFactor,
    pub os: OsVersion,
    pub manufacturer: &'static str,
    pub model: &'static str,
    pub trust_type: Option<TrustType>,
    pub is_compliant: bool,
    pub is_managed: bool,
    /// Android Enterprise work profile next to the personal one.
    pub work_profile: bool,
    /// An Android 14 model whose Authenticator passkey needs Android 15.
    pub needs_android_15: bool,
    pub browser: Browser,
    pub registered: Timestamp,
    /// The owning person (index); `None` for shared desktops.
    pub owner: Option<u32>,
}

impl Device {
    /// Graph's `operatingSystemVersion`.
    pub fn os_version(&self) -> String {
        let v = self.os;
        match self.platform {
            Platform::Windows => format!("10.0.{}.{}", v.build, v.revision),
            Platform::Android => v.major.to_string(),
            Platform::Ios | Platform::MacOs if v.build == 0 => format!("{}.{}", v.major, v.minor),
            Platform::Ios | Platform::MacOs => format!("{}.{}.{}", v.major, v.minor, v.build),
            Platform::Linux => format!("{}.{:02}", v.major, v.minor),
        }
    }

    /// Windows 11 (build 22000 or later).
    pub fn is_windows_11(&self) -> bool {
        self.platform == Platform::Windows && self.os.build >= 22000
    }

    /// Registered in Entra, so it appears in `/devices` and its id in sign-ins.
    pub fn is_registered(&self) -> bool {
        self.trust_type.is_some()
    }
}

/// An authentication method as Graph lists it under `/users/{id}/authentication/methods`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    pub id: Guid,
    pub created: Timestamp,
    pub kind: MethodKind,
}

/// The typed method; device references are indices into [`super::Population::devices`].
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum MethodKind {
    Password,
    #[serde(rename_all = "camelCase")]
    Phone {
        phone_number: String,
        sms_sign_in: bool,
    },
    #[serde(rename_all = "camelCase")]
    MicrosoftAuthenticator {
        device: u32,
        phone_app_version: &'static str,
    },
    #[serde(rename_all = "camelCase")]
    WindowsHelloForBusiness {
        device: u32,
        pin_forgotten: bool,
    },
    #[serde(rename_all = "camelCase")]
    Fido2 {
        passkey: PasskeyModel,
        /// The phone or computer holding it; `None` for security keys.
        device: Option<u32>,
        last_used: Option<Timestamp>,
        state: PasskeyState,
    },
}

/// Whether a registered passkey still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PasskeyState {
    InUse,
    NeverUsed,
    /// Still registered in Entra, but removed from the phone: it cannot sign in any more.
    DeletedFromDevice,
}

/// Kinds of passkey with their real AAGUIDs (reference/graph.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PasskeyModel {
    AuthenticatorIos,
    AuthenticatorAndroid,
    ICloudKeychain,
    GooglePasswordManager,
    SamsungPass,
    YubiKey5,
    YubiKey5Nfc,
    YubiKeyBio,
    /// Entra passkey on Windows (Windows Hello, hardware TPM); registered live only.
    WindowsHello,
}

impl PasskeyModel {
    pub fn aaguid(self) -> &'static str {
        match self {
            // entra-docs how-to-enable-authenticator-passkey [V]
            PasskeyModel::AuthenticatorIos => "90a3ccdf-635c-4729-a248-9b709135078f",
            PasskeyModel::AuthenticatorAndroid => "de1e552d-db1d-4423-a619-566b625cdc84",
            // passkeydeveloper/passkey-authenticator-aaguids [C]
            PasskeyModel::ICloudKeychain => "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
            PasskeyModel::GooglePasswordManager => "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
            PasskeyModel::SamsungPass => "53414d53-554e-4700-0000-000000000000",
            // FIDO Metadata Service entries for Yubico keys, as mirrored by public AAGUID lists [C]
            PasskeyModel::YubiKey5 => "cb69481e-8ff7-4039-93ec-0a2729a154a8",
            PasskeyModel::YubiKey5Nfc => "2fc0579f-8113-47ea-b116-bb5a8db9202a",
            PasskeyModel::YubiKeyBio => "d8522d9f-575b-4866-88a9-ba99fa02f35b",
            // entra-docs how-to-authentication-entra-passkeys-on-windows [V]
            PasskeyModel::WindowsHello => "08987058-cadc-4b81-b6e1-30de50dcbe96",
        }
    }

    /// Graph's `model` for the fido2 method.
    pub fn model(self) -> &'static str {
        match self {
            PasskeyModel::AuthenticatorIos => "Microsoft Authenticator - iOS",
            PasskeyModel::AuthenticatorAndroid => "Microsoft Authenticator - Android",
            PasskeyModel::ICloudKeychain => "iCloud Keychain",
            PasskeyModel::GooglePasswordManager => "Google Password Manager",
            PasskeyModel::SamsungPass => "Samsung Pass",
            PasskeyModel::YubiKey5 => "YubiKey 5 Series",
            PasskeyModel::YubiKey5Nfc => "YubiKey 5 Series with NFC",
            PasskeyModel::YubiKeyBio => "YubiKey Bio Series",
            // The AAGUID's name in public AAGUID lists [C].
            PasskeyModel::WindowsHello => "Windows Hello Hardware Authenticator",
        }
    }

    pub fn is_synced(self) -> bool {
        matches!(
            self,
            PasskeyModel::ICloudKeychain
                | PasskeyModel::GooglePasswordManager
                | PasskeyModel::SamsungPass
        )
    }

    pub fn is_security_key(self) -> bool {
        matches!(
            self,
            PasskeyModel::YubiKey5 | PasskeyModel::YubiKey5Nfc | PasskeyModel::YubiKeyBio
        )
    }

    /// Graph's `passkeyType`.
    pub fn passkey_type(self) -> &'static str {
        if self.is_synced() {
            "synced"
        } else {
            "deviceBound"
        }
    }
}

/// The application a sign-in was for, with its well-known first-party app id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum App {
    TeamsDesktop,
    TeamsMobile,
    TeamsWeb,
    OfficeDesktop,
    OutlookMobile,
    OutlookWeb,
    OfficeHome,
    OneDriveSync,
    WindowsSignIn,
    Authenticator,
    MySignIns,
    AzurePortal,
}

impl App {
    /// `appId` as seen in sign-in logs (well-known first-party ids [C]).
    pub fn app_id(self) -> &'static str {
        match self {
            App::TeamsDesktop | App::TeamsMobile => "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            App::TeamsWeb => "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
            App::OfficeDesktop => "d3590ed6-52b3-4102-aeff-aad2292ab01c",
            App::OutlookMobile => "27922004-5251-4030-b22d-91ecd9a37ea4",
            App::OutlookWeb => "9199bf20-a13f-4107-85dc-02114787ef48",
            App::OfficeHome => "4765445b-32c6-49b0-83e6-1d93765276ca",
            App::OneDriveSync => "ab9b8c07-8f02-4f72-87fa-80105867a763",
            App::WindowsSignIn => "38aa3b87-a06d-4817-b275-7a316988d93b",
            App::Authenticator => "4813382a-8fa7-425e-ab75-3b753aab3abb",
            App::MySignIns => "19db86c3-b2b9-44cc-b339-36da233a3be2",
            App::AzurePortal => "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        }
    }

    /// `appDisplayName`.
    pub fn display_name(self) -> &'static str {
        match self {
            App::TeamsDesktop | App::TeamsMobile => "Microsoft Teams",
            App::TeamsWeb => "Microsoft Teams Web Client",
            App::OfficeDesktop => "Microsoft Office",
            App::OutlookMobile => "Outlook Mobile",
            App::OutlookWeb => "One Outlook Web",
            App::OfficeHome => "OfficeHome",
            App::OneDriveSync => "OneDrive SyncEngine",
            App::WindowsSignIn => "Windows Sign In",
            App::Authenticator => "Microsoft Authenticator App",
            App::MySignIns => "My Signins",
            App::AzurePortal => "Azure Portal",
        }
    }

    /// Native (desktop or mobile) client rather than a browser.
    pub fn is_native(self) -> bool {
        matches!(
            self,
            App::TeamsDesktop
                | App::TeamsMobile
                | App::OfficeDesktop
                | App::OutlookMobile
                | App::OneDriveSync
                | App::WindowsSignIn
                | App::Authenticator
        )
    }

    /// `clientAppUsed`.
    pub fn client_app_used(self) -> &'static str {
        if self.is_native() {
            "Mobile Apps and Desktop clients"
        } else {
            "Browser"
        }
    }
}

/// The methods a sign-in was completed with (`authenticationDetails`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SignInAuth {
    PasswordPush,
    PasswordSms,
    /// Password, with MFA satisfied earlier in the session.
    PasswordPreviouslySatisfied,
    WindowsHello,
    /// Phone or synced passkey; [`SignIn::method`] says which.
    Passkey,
    SecurityKey,
}

impl SignInAuth {
    /// `authenticationDetails[].authenticationMethod` for each step; `synced` matters for
    /// passkeys only.
    pub fn steps(self, synced: bool) -> &'static [&'static str] {
        match self {
            SignInAuth::PasswordPush => &["Password", "Mobile app notification"],
            SignInAuth::PasswordSms => &["Password", "Text message"],
            SignInAuth::PasswordPreviouslySatisfied => &["Password", "Previously satisfied"],
            SignInAuth::WindowsHello => &["Windows Hello for Business"],
            SignInAuth::Passkey if synced => &["Passkey (synced)"],
            SignInAuth::Passkey => &["Passkey (device-bound)"],
            SignInAuth::SecurityKey => &["FIDO2 security key"],
        }
    }

    pub fn is_phishing_resistant(self) -> bool {
        matches!(
            self,
            SignInAuth::WindowsHello | SignInAuth::Passkey | SignInAuth::SecurityKey
        )
    }
}

/// Result of a sign-in (`status.errorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SignInOutcome {
    Success,
    InvalidPassword,
    MfaDenied,
}

impl SignInOutcome {
    pub fn error_code(self) -> u32 {
        match self {
            SignInOutcome::Success => 0,
            SignInOutcome::InvalidPassword => 50126,
            SignInOutcome::MfaDenied => 500121,
        }
    }

    pub fn failure_reason(self) -> &'static str {
        match self {
            SignInOutcome::Success => "",
            SignInOutcome::InvalidPassword => {
                "Error validating credentials due to invalid username or password."
            }
            SignInOutcome::MfaDenied => {
                "Authentication failed during strong authentication request."
            }
        }
    }
}

/// One sign-in, 12 bytes: the person is implied by where it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    /// Seconds after [`super::Population::window_start`].
    pub at: u32,
    /// Index into the person's `devices`.
    pub device: u8,
    pub app: App,
    pub auth: SignInAuth,
    /// Index into the person's `methods` for passkey and security-key sign-ins, else
    /// [`SignIn::NO_METHOD`].
    pub method: u8,
    pub outcome: SignInOutcome,
    pub interactive: bool,
}

impl SignIn {
    pub const NO_METHOD: u8 = u8::MAX;
}

/// A directory audit event of the "Authentication Methods" service.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: Guid,
    pub at: Timestamp,
    /// Person index.
    pub person: u32,
    pub activity: AuditActivity,
    pub succeeded: bool,
    /// `resultReason` for failures.
    pub reason: Option<&'static str>,
    /// The passkey concerned, if any (its AAGUID goes to `additionalDetails`).
    pub passkey: Option<PasskeyModel>,
}

/// `activityDisplayName` values (reference/graph.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AuditActivity {
    StartedRegistration,
    RegisteredSecurityInfo,
    CancelledRegistration,
    AddPasskeyDeviceBound,
    AddPasskeySynced,
    /// An admin (or an app such as the bot) removed a method; written live only.
    AdminDeletedSecurityInfo,
}

impl AuditActivity {
    pub fn display_name(self) -> &'static str {
        match self {
            AuditActivity::StartedRegistration => "User started security info registration",
            AuditActivity::RegisteredSecurityInfo => "User registered security info",
            AuditActivity::CancelledRegistration => "User cancelled security info registration",
            AuditActivity::AddPasskeyDeviceBound => "Add Passkey (device-bound)",
            AuditActivity::AddPasskeySynced => "Add Passkey (synced)",
            AuditActivity::AdminDeletedSecurityInfo => "Admin deleted security info",
        }
    }
}

/// What a group is for in the rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GroupRole {
    /// Everyone to migrate.
    Target,
    ExcludedGuests,
    ExcludedServiceAccounts,
    ExcludedBreakGlass,
    Helpdesk,
    Admins,
}

/// An Entra security group with its direct members (person indices).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: Guid,
    pub display_name: &'static str,
    pub role: GroupRole,
    pub members: Vec<u32>,
}
