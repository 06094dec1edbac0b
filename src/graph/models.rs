//! Graph's JSON as typed records (reference/graph.md §3–§13).
//!
//! Every record tolerates fields it does not name (Graph adds properties without notice) and
//! missing optional ones. Strings Microsoft extends without notice (`methodsRegistered`,
//! authentication method names in sign-ins, audit activity names) stay strings; the few
//! enumerations the product branches on are `open_enum!`s that keep an unknown member as
//! `Unknown(String)` instead of failing the whole page.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::config::Secret;

/// An enumeration whose unknown members survive as `Unknown(String)`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A member this version does not know, as Graph sent it.
            Unknown(String),
        }

        impl $name {
            /// Graph's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown(raw) => raw,
                }
            }

            /// Reads Graph's spelling (case-insensitively); anything else is `Unknown`.
            pub fn parse(raw: &str) -> $name {
                $(if raw.eq_ignore_ascii_case($text) {
                    return $name::$variant;
                })+
                $name::Unknown(raw.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(|s| $name::parse(&s))
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

open_enum!(
    /// Whether a passkey can leave the device it was made on.
    PasskeyType {
        DeviceBound = "deviceBound",
        Synced = "synced",
    }
);

open_enum!(
    /// Strength of a Windows Hello or platform credential key.
    KeyStrength {
        Normal = "normal",
        Weak = "weak",
        /// Graph itself does not know the strength.
        Unspecified = "unknown",
    }
);

open_enum!(
    /// Kind of phone number of a phone method.
    PhoneType {
        Mobile = "mobile",
        AlternateMobile = "alternateMobile",
        Office = "office",
    }
);

open_enum!(
    /// How a device is joined to Entra (`device.trustType`).
    TrustType {
        /// Entra joined.
        AzureAd = "AzureAd",
        /// Hybrid joined.
        ServerAd = "ServerAd",
        /// Entra registered (personal or work profile).
        Workplace = "Workplace",
    }
);

open_enum!(
    /// Whether a passkey policy profile's key list allows or blocks the AAGUIDs.
    EnforcementType {
        Allow = "allow",
        Block = "block",
    }
);

/// Reads `""` as `None` (the sign-in log leaves `deviceId` empty for unregistered devices).
fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// Reads `null` as an empty list.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// One page of a collection.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}

/// A `microsoft.graph.user` with the properties the product selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub usage_location: Option<String>,
    /// ISO tag such as `en-US`; may be null.
    #[serde(default)]
    pub preferred_language: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// `Member` or `Guest`.
    #[serde(default)]
    pub user_type: Option<String>,
}

/// The properties [`User`] reads, for `$select`.
pub const USER_SELECT: &str = "id,userPrincipalName,displayName,mail,department,jobTitle,usageLocation,preferredLanguage,accountEnabled,userType";

/// A row of the registration report (`userRegistrationDetails`); lags hours behind reality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistrationDetails {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub user_display_name: Option<String>,
    /// `member` or `guest`.
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    #[serde(default)]
    pub is_mfa_capable: Option<bool>,
    #[serde(default)]
    pub is_mfa_registered: Option<bool>,
    #[serde(default)]
    pub is_passwordless_capable: Option<bool>,
    #[serde(default)]
    pub is_sspr_capable: Option<bool>,
    #[serde(default)]
    pub is_sspr_enabled: Option<bool>,
    #[serde(default)]
    pub is_sspr_registered: Option<bool>,
    #[serde(default)]
    pub is_system_preferred_authentication_method_enabled: Option<bool>,
    /// An open set of names (`passKeyDeviceBoundAuthenticator`, `mobilePhone`, …).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub methods_registered: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub system_preferred_authentication_methods: Vec<String>,
    /// push, oath, sms, voiceMobile, …, none.
    #[serde(default)]
    pub user_preferred_method_for_secondary_authentication: Option<String>,
    /// When the report row was refreshed (not when a method was added).
    #[serde(default)]
    pub last_updated_date_time: Option<Timestamp>,
    /// Beta only.
    #[serde(default)]
    pub default_mfa_method: Option<String>,
}

/// A passkey (`fido2AuthenticationMethod`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fido2Method {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    /// Beta only; null when never used (or not known).
    #[serde(default)]
    pub last_used_date_time: Option<Timestamp>,
    /// Lowercase when compared; identifies the provider (reference/graph.md §6).
    #[serde(default, rename = "aaGuid")]
    pub aa_guid: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    /// `attested` or `notAttested`.
    #[serde(default)]
    pub attestation_level: Option<String>,
    #[serde(default)]
    pub passkey_type: Option<PasskeyType>,
}

/// A Windows Hello for Business key; `device` only on a single GET with `$expand=device`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsHelloMethod {
    pub id: String,
    /// The device's name.
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    #[serde(default)]
    pub last_used_date_time: Option<Timestamp>,
    #[serde(default)]
    pub key_strength: Option<KeyStrength>,
    #[serde(default)]
    pub device: Option<Device>,
}

/// Microsoft Authenticator on a phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorMethod {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub device_tag: Option<String>,
    /// e.g. `6.2404.2229`.
    #[serde(default)]
    pub phone_app_version: Option<String>,
    /// Beta only.
    #[serde(default)]
    pub client_app_name: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    #[serde(default)]
    pub last_used_date_time: Option<Timestamp>,
    #[serde(default)]
    pub device: Option<Device>,
}

/// An SMS / voice phone number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneMethod {
    pub id: String,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub phone_type: Option<PhoneType>,
    #[serde(default)]
    pub sms_sign_in_state: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    #[serde(default)]
    pub last_used_date_time: Option<Timestamp>,
}

/// A platform credential (macOS Platform SSO Secure Enclave key and kin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformCredentialMethod {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub key_strength: Option<KeyStrength>,
    /// windows, macOS, iOS, android, linux.
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    #[serde(default)]
    pub last_used_date_time: Option<Timestamp>,
    #[serde(default)]
    pub device: Option<Device>,
}

/// A temporary access pass as listed or created; the code is only in the create response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryAccessPass {
    pub id: String,
    /// The pass itself: shown to the helpdesk once, never logged.
    #[serde(default)]
    pub temporary_access_pass: Option<Secret>,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    #[serde(default)]
    pub start_date_time: Option<Timestamp>,
    #[serde(default)]
    pub lifetime_in_minutes: Option<u32>,
    #[serde(default)]
    pub is_usable_once: Option<bool>,
    #[serde(default)]
    pub is_usable: Option<bool>,
    #[serde(default)]
    pub method_usability_reason: Option<String>,
}

/// What a new temporary access pass should be (omitted fields take the policy's defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryAccessPassRequest {
    /// 10–43,200 minutes within the policy's bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_in_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_usable_once: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<Timestamp>,
}

/// What every authentication method has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodBase {
    pub id: String,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    #[serde(default)]
    pub last_used_date_time: Option<Timestamp>,
}

/// One entry of `/users/{id}/authentication/methods`, told apart by `@odata.type`.
#[derive(Debug, Clone)]
pub enum AuthenticationMethod {
    Fido2(Fido2Method),
    WindowsHello(WindowsHelloMethod),
    MicrosoftAuthenticator(AuthenticatorMethod),
    Phone(PhoneMethod),
    PlatformCredential(PlatformCredentialMethod),
    TemporaryAccessPass(TemporaryAccessPass),
    Password(MethodBase),
    Email(MethodBase),
    SoftwareOath(MethodBase),
    /// A type this version does not know (`@odata.type` as sent, without `#microsoft.graph.`).
    Unknown {
        odata_type: String,
        base: MethodBase,
    },
}

impl AuthenticationMethod {
    pub fn id(&self) -> &str {
        match self {
            AuthenticationMethod::Fido2(m) => &m.id,
            AuthenticationMethod::WindowsHello(m) => &m.id,
            AuthenticationMethod::MicrosoftAuthenticator(m) => &m.id,
            AuthenticationMethod::Phone(m) => &m.id,
            AuthenticationMethod::PlatformCredential(m) => &m.id,
            AuthenticationMethod::TemporaryAccessPass(m) => &m.id,
            AuthenticationMethod::Password(b)
            | AuthenticationMethod::Email(b)
            | AuthenticationMethod::SoftwareOath(b)
            | AuthenticationMethod::Unknown { base: b, .. } => &b.id,
        }
    }
}

impl<'de> Deserialize<'de> for AuthenticationMethod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(d)?;
        let odata_type = value
            .get("@odata.type")
            .and_then(Value::as_str)
            .ok_or_else(|| D::Error::missing_field("@odata.type"))?;
        let short = odata_type
            .trim_start_matches('#')
            .trim_start_matches("microsoft.graph.")
            .to_owned();
        fn typed<T: serde::de::DeserializeOwned, E: Error>(v: Value) -> Result<T, E> {
            serde_json::from_value(v).map_err(E::custom)
        }
        Ok(match short.as_str() {
            "fido2AuthenticationMethod" => AuthenticationMethod::Fido2(typed(value)?),
            "windowsHelloForBusinessAuthenticationMethod" => {
                AuthenticationMethod::WindowsHello(typed(value)?)
            }
            "microsoftAuthenticatorAuthenticationMethod" => {
                AuthenticationMethod::MicrosoftAuthenticator(typed(value)?)
            }
            "phoneAuthenticationMethod" => AuthenticationMethod::Phone(typed(value)?),
            "platformCredentialAuthenticationMethod" => {
                AuthenticationMethod::PlatformCredential(typed(value)?)
            }
            "temporaryAccessPassAuthenticationMethod" => {
                AuthenticationMethod::TemporaryAccessPass(typed(value)?)
            }
            "passwordAuthenticationMethod" => AuthenticationMethod::Password(typed(value)?),
            "emailAuthenticationMethod" => AuthenticationMethod::Email(typed(value)?),
            "softwareOathAuthenticationMethod" => AuthenticationMethod::SoftwareOath(typed(value)?),
            _ => AuthenticationMethod::Unknown {
                odata_type: short,
                base: typed(value)?,
            },
        })
    }
}

/// An Entra device object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Object id (`/devices/{id}`).
    pub id: String,
    /// Device GUID, as `deviceDetail.deviceId` of sign-ins shows it.
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub operating_system: Option<String>,
    /// e.g. `10.0.22631.4890`; the build tells Windows 11 from 10.
    #[serde(default)]
    pub operating_system_version: Option<String>,
    #[serde(default)]
    pub trust_type: Option<TrustType>,
    #[serde(default)]
    pub is_compliant: Option<bool>,
    #[serde(default)]
    pub is_managed: Option<bool>,
    #[serde(default)]
    pub approximate_last_sign_in_date_time: Option<Timestamp>,
    #[serde(default)]
    pub registration_date_time: Option<Timestamp>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub manufacturer: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub profile_type: Option<String>,
}

/// The properties [`Device`] reads, for `$select`.
pub const DEVICE_SELECT: &str = "id,deviceId,displayName,operatingSystem,operatingSystemVersion,trustType,isCompliant,isManaged,approximateLastSignInDateTime,registrationDateTime,accountEnabled,manufacturer,model,profileType";

/// `signIn.status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInStatus {
    /// 0 is success.
    #[serde(default)]
    pub error_code: i64,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub additional_details: Option<String>,
}

/// `signIn.deviceDetail`; `deviceId` is the Entra device GUID, absent for unregistered devices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceDetail {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub device_id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    /// From the user agent: Windows 11 usually shows as "Windows 10".
    #[serde(default)]
    pub operating_system: Option<String>,
    #[serde(default)]
    pub browser: Option<String>,
    #[serde(default)]
    pub is_compliant: Option<bool>,
    #[serde(default)]
    pub is_managed: Option<bool>,
    /// "Azure AD joined", "Hybrid Azure AD joined", "Azure AD registered" or empty.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub trust_type: Option<String>,
}

/// One step of a sign-in's authentication (beta).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationDetail {
    /// An open set: `Password`, `Passkey (device-bound)`, `Windows Hello for Business`, …
    #[serde(default)]
    pub authentication_method: Option<String>,
    #[serde(default)]
    pub authentication_method_detail: Option<String>,
    #[serde(default)]
    pub authentication_step_date_time: Option<Timestamp>,
    #[serde(default)]
    pub authentication_step_requirement: Option<String>,
    #[serde(default)]
    pub authentication_step_result_detail: Option<String>,
    #[serde(default)]
    pub succeeded: Option<bool>,
}

/// The authentication strength a Conditional Access policy asked for, and the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedAuthenticationStrength {
    #[serde(default)]
    pub authentication_strength_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// satisfied, cannotSatisfy, singleRegistrationRequired, …
    #[serde(default)]
    pub authentication_strength_result: Option<String>,
}

/// A Conditional Access policy as applied to one sign-in (needs Policy.Read.All to appear).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedConditionalAccessPolicy {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub authentication_strength: Option<AppliedAuthenticationStrength>,
}

/// A sign-in in the beta shape (the only one with `authenticationDetails`). Microsoft calls
/// beta "not supported in production", so these types stand apart from the v1.0 ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub id: String,
    pub created_date_time: Timestamp,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub app_display_name: Option<String>,
    #[serde(default)]
    pub client_app_used: Option<String>,
    #[serde(default)]
    pub is_interactive: Option<bool>,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub conditional_access_status: Option<String>,
    #[serde(default)]
    pub status: Option<SignInStatus>,
    #[serde(default)]
    pub device_detail: Option<DeviceDetail>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub authentication_details: Vec<AuthenticationDetail>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub authentication_methods_used: Vec<String>,
    #[serde(default)]
    pub authentication_requirement: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub sign_in_event_types: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub applied_conditional_access_policies: Vec<AppliedConditionalAccessPolicy>,
}

/// The properties [`SignIn`] reads, for `$select` on bulk reads.
pub const SIGN_IN_SELECT: &str = "id,createdDateTime,userId,userPrincipalName,appId,appDisplayName,clientAppUsed,isInteractive,ipAddress,userAgent,correlationId,conditionalAccessStatus,status,deviceDetail,authenticationDetails,authenticationMethodsUsed,authenticationRequirement,signInEventTypes,appliedConditionalAccessPolicies";

impl SignIn {
    /// Whether the sign-in succeeded (`status.errorCode` 0).
    pub fn succeeded(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.error_code == 0)
    }
}

/// `directoryAudit.initiatedBy.user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditUser {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub ip_address: Option<String>,
}

/// `directoryAudit.initiatedBy.app`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditApp {
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Who did an audited thing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiatedBy {
    #[serde(default)]
    pub user: Option<AuditUser>,
    #[serde(default)]
    pub app: Option<AuditApp>,
}

/// What an audited thing was done to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
}

/// A key/value of `additionalDetails` (the AAGUID of a registered passkey, for one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// An audit log entry (security-info registration started, failed, done …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryAudit {
    pub id: String,
    pub activity_date_time: Timestamp,
    /// An open set: `User registered security info`, `Add Passkey (device-bound)`, …
    #[serde(default)]
    pub activity_display_name: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub logged_by_service: Option<String>,
    #[serde(default)]
    pub operation_type: Option<String>,
    /// success, failure, timeout, …
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub result_reason: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub initiated_by: InitiatedBy,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub target_resources: Vec<TargetResource>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub additional_details: Vec<KeyValue>,
}

impl DirectoryAudit {
    /// The value of an `additionalDetails` key (case-insensitive).
    pub fn detail(&self, key: &str) -> Option<&str> {
        self.additional_details
            .iter()
            .find(|kv| {
                kv.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(key))
            })
            .and_then(|kv| kv.value.as_deref())
    }
}

/// A directory object in a membership list (`transitiveMemberOf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    pub id: String,
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

impl DirectoryObject {
    /// Whether the object is a group (typed lists leave `@odata.type` out).
    pub fn is_group(&self) -> bool {
        self.odata_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.group"))
    }
}

/// The body of `checkMemberGroups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckMemberGroupsRequest {
    pub group_ids: Vec<String>,
}

/// A group target of the FIDO2 method policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fido2Target {
    pub id: String,
    #[serde(default)]
    pub target_type: Option<String>,
    #[serde(default)]
    pub is_registration_required: Option<bool>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub allowed_passkey_profiles: Vec<String>,
}

/// An AAGUID allow or block list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRestrictions {
    #[serde(default)]
    pub is_enforced: Option<bool>,
    #[serde(default)]
    pub enforcement_type: Option<EnforcementType>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub aa_guids: Vec<String>,
}

/// A passkey profile of the FIDO2 policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyProfile {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// A flags enum sent as a comma-joined string (`deviceBound,synced`).
    #[serde(default)]
    pub passkey_types: Option<String>,
    /// disabled | registrationOnly.
    #[serde(default)]
    pub attestation_enforcement: Option<String>,
    #[serde(default)]
    pub key_restrictions: Option<KeyRestrictions>,
}

impl PasskeyProfile {
    /// The passkey types the profile allows.
    pub fn types(&self) -> Vec<PasskeyType> {
        self.passkey_types
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PasskeyType::parse)
            .collect()
    }

    /// Whether synced passkeys are allowed by this profile.
    pub fn allows_synced(&self) -> bool {
        self.types().contains(&PasskeyType::Synced)
    }
}

/// The tenant's passkey (FIDO2) authentication method configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fido2MethodConfiguration {
    #[serde(default)]
    pub id: Option<String>,
    /// enabled | disabled.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub is_self_service_registration_allowed: Option<bool>,
    /// Deprecated since 2025-10-15 (stops 2027-10-15); read the profiles.
    #[serde(default)]
    pub is_attestation_enforced: Option<bool>,
    /// Deprecated like `isAttestationEnforced`.
    #[serde(default)]
    pub key_restrictions: Option<KeyRestrictions>,
    #[serde(default)]
    pub default_passkey_profile: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_targets: Vec<Fido2Target>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_targets: Vec<Fido2Target>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub passkey_profiles: Vec<PasskeyProfile>,
}

/// A Teams app as referenced by an installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamsApp {
    pub id: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub distribution_method: Option<String>,
}

/// An app installed in a user's personal scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledApp {
    pub id: String,
    #[serde(default)]
    pub teams_app: Option<TeamsApp>,
}

/// A Teams chat (the 1:1 chat between the bot and a person: `19:…@unq.gbl.spaces`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    pub id: String,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub chat_type: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<Timestamp>,
    #[serde(default)]
    pub web_url: Option<String>,
}

/// Graph's error body: `{"error":{"code","message","innerError":{…}}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, alias = "innererror")]
    pub inner_error: Option<InnerError>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InnerError {
    #[serde(default, rename = "request-id")]
    pub request_id: Option<String>,
    #[serde(default, rename = "client-request-id")]
    pub client_request_id: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn the_reference_user_and_registration_row_decode() {
        let user: User = serde_json::from_str(&fixture("user.json")).unwrap();
        assert_eq!(
            user.user_principal_name.as_deref(),
            Some("alexw@contoso.com")
        );
        assert_eq!(user.account_enabled, Some(true));
        assert_eq!(user.user_type.as_deref(), Some("Member"));

        let row: UserRegistrationDetails =
            serde_json::from_str(&fixture("userRegistrationDetails.json")).unwrap();
        assert_eq!(
            row.methods_registered,
            [
                "microsoftAuthenticatorPush",
                "mobilePhone",
                "passKeyDeviceBoundAuthenticator"
            ]
        );
        assert_eq!(row.is_passwordless_capable, Some(true));
        assert_eq!(
            row.last_updated_date_time,
            Some("2026-09-14T06:12:41Z".parse().unwrap())
        );
    }

    #[test]
    fn a_passkey_decodes_in_a_typed_list_and_in_the_polymorphic_list() {
        let text = fixture("fido2Method.json");
        let typed: Fido2Method = serde_json::from_str(&text).unwrap();
        assert_eq!(typed.passkey_type, Some(PasskeyType::DeviceBound));
        assert_eq!(
            typed.aa_guid.as_deref(),
            Some("90a3ccdf-635c-4729-a248-9b709135078f")
        );
        assert_eq!(
            typed.model.as_deref(),
            Some("Microsoft Authenticator - iOS")
        );
        match serde_json::from_str::<AuthenticationMethod>(&text).unwrap() {
            AuthenticationMethod::Fido2(m) => assert_eq!(m, typed),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_method_types_and_enum_members_are_kept_not_fatal() {
        let list: Page<AuthenticationMethod> = serde_json::from_value(serde_json::json!({
            "value": [
                {"@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethod", "id": "q1",
                 "createdDateTime": "2026-09-01T00:00:00Z"},
                {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "f1",
                 "passkeyType": "quantumBound", "lastUsedDateTime": null},
                {"@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
                 "id": "w1", "displayName": "LT-4711", "keyStrength": "normal",
                 "device": {"id": "d1", "operatingSystemVersion": "10.0.22631.4890", "trustType": "AzureAd"}},
                {"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
                 "id": "a1", "displayName": "iPhone 15", "phoneAppVersion": "6.2404.2229"},
                {"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "p1",
                 "phoneNumber": "+1 5555550100", "phoneType": "mobile", "smsSignInState": "ready"},
                {"@odata.type": "#microsoft.graph.platformCredentialAuthenticationMethod",
                 "id": "m1", "displayName": "MacBook", "keyStrength": "normal", "platform": "macOS"},
                {"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"}
            ],
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/next"
        }))
        .unwrap();
        assert_eq!(
            list.next_link.as_deref(),
            Some("https://graph.microsoft.com/v1.0/next")
        );
        let m = &list.value;
        assert!(
            matches!(&m[0], AuthenticationMethod::Unknown { odata_type, base }
            if odata_type == "qrCodePinAuthenticationMethod" && base.id == "q1")
        );
        assert!(matches!(&m[1], AuthenticationMethod::Fido2(f)
            if f.passkey_type == Some(PasskeyType::Unknown("quantumBound".into()))));
        let AuthenticationMethod::WindowsHello(w) = &m[2] else {
            panic!("{:?}", m[2])
        };
        assert_eq!(w.key_strength, Some(KeyStrength::Normal));
        let device = w.device.as_ref().unwrap();
        assert_eq!(device.trust_type, Some(TrustType::AzureAd));
        assert!(
            matches!(&m[3], AuthenticationMethod::MicrosoftAuthenticator(a)
            if a.phone_app_version.as_deref() == Some("6.2404.2229"))
        );
        assert!(matches!(&m[4], AuthenticationMethod::Phone(p)
            if p.phone_type == Some(PhoneType::Mobile)));
        assert!(matches!(&m[5], AuthenticationMethod::PlatformCredential(p)
            if p.platform.as_deref() == Some("macOS")));
        assert!(matches!(&m[6], AuthenticationMethod::Password(b) if b.id == "pw"));
        assert_eq!(m[6].id(), "pw");
    }

    #[test]
    fn the_beta_sign_in_decodes_with_its_authentication_details() {
        let s: SignIn = serde_json::from_str(&fixture("signIn-beta.json")).unwrap();
        assert!(s.succeeded());
        assert_eq!(s.is_interactive, Some(true));
        assert_eq!(
            s.app_id.as_deref(),
            Some("1fec8e78-bce4-4aaf-ab1b-5451cc387264")
        );
        let detail = s.device_detail.as_ref().unwrap();
        assert_eq!(detail.operating_system.as_deref(), Some("Windows 10"));
        assert_eq!(detail.trust_type.as_deref(), Some("Azure AD joined"));
        assert_eq!(
            s.authentication_details[0].authentication_method.as_deref(),
            Some("Passkey (device-bound)")
        );
        assert_eq!(s.authentication_details[0].succeeded, Some(true));
        assert_eq!(s.sign_in_event_types, ["interactiveUser"]);

        // Unregistered devices come with empty strings, CA policies with a strength.
        let s: SignIn = serde_json::from_value(serde_json::json!({
            "id": "x", "createdDateTime": "2026-09-14T06:12:41Z",
            "status": {"errorCode": 50126},
            "deviceDetail": {"deviceId": "", "displayName": "", "trustType": "", "operatingSystem": "Ios"},
            "authenticationDetails": null,
            "appliedConditionalAccessPolicies": [{"id": "p", "result": "failure",
                "authenticationStrength": {"authenticationStrengthId": "00000000-0000-0000-0000-000000000004",
                    "authenticationStrengthResult": "cannotSatisfy"}}]
        }))
        .unwrap();
        assert!(!s.succeeded());
        let detail = s.device_detail.unwrap();
        assert_eq!((detail.device_id, detail.trust_type), (None, None));
        assert!(s.authentication_details.is_empty());
        assert_eq!(
            s.applied_conditional_access_policies[0]
                .authentication_strength
                .as_ref()
                .unwrap()
                .authentication_strength_result
                .as_deref(),
            Some("cannotSatisfy")
        );
    }

    #[test]
    fn an_audit_event_decodes_and_names_its_aaguid() {
        let e: DirectoryAudit = serde_json::from_str(&fixture("directoryAudit.json")).unwrap();
        assert_eq!(
            e.activity_display_name.as_deref(),
            Some("User registered security info")
        );
        assert_eq!(e.result.as_deref(), Some("failure"));
        assert_eq!(
            e.initiated_by.user.as_ref().unwrap().id.as_deref(),
            Some("86462606-fde0-4fc4-9e0c-a20eb73e54c6")
        );
        assert_eq!(
            e.detail("aaguid"),
            Some("90a3ccdf-635c-4729-a248-9b709135078f")
        );
        assert_eq!(e.target_resources[0].kind.as_deref(), Some("User"));
    }

    #[test]
    fn a_device_and_a_temporary_access_pass_decode_and_the_pass_never_prints() {
        let d: Device = serde_json::from_str(&fixture("device.json")).unwrap();
        assert_eq!(
            d.operating_system_version.as_deref(),
            Some("10.0.22631.4890")
        );
        assert_eq!(d.trust_type, Some(TrustType::AzureAd));

        let tap: TemporaryAccessPass =
            serde_json::from_str(&fixture("temporaryAccessPass.json")).unwrap();
        assert_eq!(
            tap.temporary_access_pass.as_ref().unwrap().expose(),
            "+drkzqAD"
        );
        assert_eq!(tap.lifetime_in_minutes, Some(60));
        assert!(!format!("{tap:?}").contains("+drkzqAD"));
        let request = TemporaryAccessPassRequest {
            lifetime_in_minutes: Some(60),
            is_usable_once: Some(true),
            start_date_time: None,
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"lifetimeInMinutes": 60, "isUsableOnce": true})
        );
    }

    #[test]
    fn the_error_body_decodes() {
        let e: ErrorBody = serde_json::from_str(&fixture("error.json")).unwrap();
        assert_eq!(e.error.code.as_deref(), Some("…"));
        assert!(e.error.inner_error.unwrap().request_id.is_some());
    }

    #[test]
    fn the_passkey_policy_of_the_reference_decodes_with_its_profiles() {
        let c: Fido2MethodConfiguration = serde_json::from_value(serde_json::json!(
            {"@odata.type":"#microsoft.graph.fido2AuthenticationMethodConfiguration","id":"Fido2",
             "state":"enabled","isSelfServiceRegistrationAllowed":true,
             "defaultPasskeyProfile":"5d7f",
             "includeTargets":[{"targetType":"group","id":"all_users","isRegistrationRequired":false,
                                "allowedPasskeyProfiles":["5d7f"]}],
             "excludeTargets":[],
             "passkeyProfiles":[{"id":"5d7f","name":"Default passkey profile",
               "passkeyTypes":"deviceBound,synced","attestationEnforcement":"disabled",
               "keyRestrictions":{"isEnforced":true,"enforcementType":"allow",
                 "aaGuids":["90a3ccdf-635c-4729-a248-9b709135078f","de1e552d-db1d-4423-a619-566b625cdc84"]}}]}
        ))
        .unwrap();
        let profile = &c.passkey_profiles[0];
        assert_eq!(
            profile.types(),
            [PasskeyType::DeviceBound, PasskeyType::Synced]
        );
        assert!(profile.allows_synced());
        let keys = profile.key_restrictions.as_ref().unwrap();
        assert_eq!(keys.enforcement_type, Some(EnforcementType::Allow));
        assert_eq!(keys.aa_guids.len(), 2);
        assert_eq!(c.include_targets[0].allowed_passkey_profiles, ["5d7f"]);
    }

    #[test]
    fn teams_installations_and_chats_decode() {
        let page: Page<InstalledApp> = serde_json::from_value(serde_json::json!({
            "value": [{"id": "NjY0…", "teamsApp": {"id": "cat-1", "externalId": "manifest-1",
                        "displayName": "Passkey Pilot", "distributionMethod": "organization"}}]
        }))
        .unwrap();
        assert_eq!(page.value[0].teams_app.as_ref().unwrap().id, "cat-1");
        let chat: Chat = serde_json::from_value(serde_json::json!(
            {"id": "19:abc@unq.gbl.spaces", "chatType": "oneOnOne", "topic": null}
        ))
        .unwrap();
        assert_eq!(chat.chat_type.as_deref(), Some("oneOnOne"));
    }
}
