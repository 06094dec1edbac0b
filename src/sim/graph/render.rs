//! Graph's JSON for the population's compact records, rendered on demand.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::odata::FieldValue;
use crate::sim::population::{
    App, AuditActivity, AuditEvent, Browser, Device, FormFactor, GroupRole, Guid, Method,
    MethodKind, PasskeyModel, Person, Platform, Population, SignIn, SignInAuth, SignInOutcome,
    TrustType, UserType,
};

/// Kind number for derived sign-in ids (the generator uses 1–7).
const ID_SIGN_IN: u64 = 101;
const ID_CORRELATION: u64 = 102;

/// Graph's timestamp form: whole seconds, `Z`.
pub fn time(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// Properties of `microsoft.graph.user` returned without `$select` (v1.0 default set).
pub const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// Every user property the simulator knows.
pub const USER_ALL: &[&str] = &[
    "id",
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "department",
    "usageLocation",
    "accountEnabled",
    "userType",
    "createdDateTime",
    "companyName",
    "employeeType",
];

fn user_type(p: &Person) -> &'static str {
    match p.user_type {
        UserType::Member => "Member",
        UserType::Guest => "Guest",
    }
}

/// One user property, or `None` if the user type has no such property.
pub fn user_property(p: &Person, name: &str) -> Option<Value> {
    Some(match name {
        "id" => json!(p.id),
        "businessPhones" => json!([]),
        "displayName" => json!(p.display_name),
        "givenName" => opt(p.given_name),
        "jobTitle" => opt(p.job_title),
        "mail" => opt(p.mail.clone()),
        "mobilePhone" | "officeLocation" | "companyName" | "employeeType" => Value::Null,
        "preferredLanguage" => json!(p.preferred_language),
        "surname" => opt(p.surname),
        "userPrincipalName" => json!(p.user_principal_name),
        "department" => opt(p.department),
        "usageLocation" => json!(p.usage_location),
        "accountEnabled" => json!(p.account_enabled),
        "userType" => json!(user_type(p)),
        "createdDateTime" => json!(time(p.created)),
        _ => return None,
    })
}

/// A user with the given properties, in that order.
pub fn user(p: &Person, properties: &[&str]) -> Value {
    let mut map = Map::new();
    for name in properties {
        if let Some(v) = user_property(p, name) {
            map.insert((*name).to_owned(), v);
        }
    }
    Value::Object(map)
}

/// What `$filter` sees of a user.
pub fn user_field<'a>(p: &'a Person, name: &str) -> Option<FieldValue<'a>> {
    Some(match name {
        "id" => FieldValue::Owned(p.id.to_string()),
        "userPrincipalName" => FieldValue::Str(&p.user_principal_name),
        "displayName" => FieldValue::Str(&p.display_name),
        "mail" => p.mail.as_deref().map_or(FieldValue::Null, FieldValue::Str),
        "department" => p.department.map_or(FieldValue::Null, FieldValue::Str),
        "accountEnabled" => FieldValue::Bool(p.account_enabled),
        "userType" => FieldValue::Str(user_type(p)),
        "preferredLanguage" => FieldValue::Str(p.preferred_language),
        "usageLocation" => FieldValue::Str(p.usage_location),
        _ => return None,
    })
}

/// `methodsRegistered` values for a person's methods as the report knows them
/// (reference/graph.md §4).
pub fn methods_registered(methods: &[Method]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut add = |m: &'static str| {
        if !out.contains(&m) {
            out.push(m);
        }
    };
    for method in methods {
        match &method.kind {
            MethodKind::Password => {}
            MethodKind::Phone { .. } => add("mobilePhone"),
            MethodKind::MicrosoftAuthenticator { .. } => add("microsoftAuthenticatorPush"),
            MethodKind::WindowsHelloForBusiness { .. } => add("windowsHelloForBusiness"),
            MethodKind::Fido2 { passkey, .. } => add(match passkey {
                PasskeyModel::AuthenticatorIos | PasskeyModel::AuthenticatorAndroid => {
                    "passKeyDeviceBoundAuthenticator"
                }
                PasskeyModel::WindowsHello => "passKeyDeviceBoundWindowsHello",
                m if m.is_synced() => "passKeySynced",
                _ => "passKeyDeviceBound",
            }),
        }
    }
    out
}

/// Whether a person is in the population's admin group.
fn is_admin(pop: &Population, index: u32) -> bool {
    pop.groups
        .iter()
        .any(|g| g.role == GroupRole::Admins && g.members.contains(&index))
}

/// A `userRegistrationDetails` row from the person's methods as the report knows them, and
/// `updated` when the row was last refreshed.
pub fn registration_details(
    pop: &Population,
    index: u32,
    methods: &[Method],
    updated: Timestamp,
    beta: bool,
) -> Value {
    let p = &pop.people[index as usize];
    let methods = methods_registered(methods);
    let has = |m: &str| methods.contains(&m);
    let mfa = !methods.is_empty();
    let passwordless = methods.iter().any(|m| {
        m.starts_with("passKey") || *m == "windowsHelloForBusiness" || *m == "fido2SecurityKey"
    });
    let preferred = if has("microsoftAuthenticatorPush") {
        "push"
    } else if has("mobilePhone") {
        "sms"
    } else {
        "none"
    };
    let system_preferred = if methods.iter().any(|m| m.starts_with("passKey")) {
        "Fido2"
    } else if has("microsoftAuthenticatorPush") {
        "Push"
    } else if has("mobilePhone") {
        "Sms"
    } else {
        "None"
    };
    let sspr = has("microsoftAuthenticatorPush") || has("mobilePhone");
    let mut row = json!({
        "id": p.id,
        "userPrincipalName": p.user_principal_name,
        "userDisplayName": p.display_name,
        "userType": if p.user_type == UserType::Guest { "guest" } else { "member" },
        "isAdmin": is_admin(pop, index),
        "isSsprRegistered": sspr,
        "isSsprEnabled": p.user_type == UserType::Member,
        "isSsprCapable": sspr && p.user_type == UserType::Member,
        "isMfaRegistered": mfa,
        "isMfaCapable": mfa && p.account_enabled,
        "isPasswordlessCapable": passwordless,
        "isSystemPreferredAuthenticationMethodEnabled": true,
        "methodsRegistered": methods,
        "systemPreferredAuthenticationMethods": if mfa { json!([system_preferred]) } else { json!([]) },
        "userPreferredMethodForSecondaryAuthentication": preferred,
        "lastUpdatedDateTime": time(updated),
    });
    if beta {
        row["defaultMfaMethod"] = json!(match preferred {
            "push" => "microsoftAuthenticatorPush",
            "sms" => "mobilePhone",
            _ => "none",
        });
    }
    row
}

/// What `$filter` sees of a registration row.
pub fn registration_field<'a>(
    pop: &'a Population,
    index: u32,
    methods: &[Method],
    name: &str,
) -> Option<FieldValue<'a>> {
    let p = &pop.people[index as usize];
    let flag = |name: &str| {
        let methods = methods_registered(methods);
        let sspr = methods
            .iter()
            .any(|m| *m == "microsoftAuthenticatorPush" || *m == "mobilePhone");
        let member = p.user_type == UserType::Member;
        match name {
            "isAdmin" => is_admin(pop, index),
            "isMfaRegistered" => !methods.is_empty(),
            "isMfaCapable" => !methods.is_empty() && p.account_enabled,
            "isPasswordlessCapable" => methods
                .iter()
                .any(|m| m.starts_with("passKey") || *m == "windowsHelloForBusiness"),
            "isSsprRegistered" => sspr,
            "isSsprEnabled" => member,
            _ => sspr && member,
        }
    };
    Some(match name {
        "id" => FieldValue::Owned(p.id.to_string()),
        "userPrincipalName" => FieldValue::Str(&p.user_principal_name),
        "userDisplayName" => FieldValue::Str(&p.display_name),
        "userType" => FieldValue::Str(if p.user_type == UserType::Guest {
            "guest"
        } else {
            "member"
        }),
        "methodsRegistered" => FieldValue::List(methods_registered(methods)),
        "isAdmin"
        | "isMfaRegistered"
        | "isMfaCapable"
        | "isPasswordlessCapable"
        | "isSsprRegistered"
        | "isSsprEnabled"
        | "isSsprCapable" => FieldValue::Bool(flag(name)),
        _ => return None,
    })
}

/// A device's display name, or the model for security keys.
fn device_name(pop: &Population, device: Option<u32>) -> Option<&str> {
    device.map(|d| pop.devices[d as usize].display_name.as_str())
}

/// The `@odata.type` short name of a method (the typed collection's element).
pub fn method_type(method: &Method) -> &'static str {
    match method.kind {
        MethodKind::Password => "passwordAuthenticationMethod",
        MethodKind::Phone { .. } => "phoneAuthenticationMethod",
        MethodKind::MicrosoftAuthenticator { .. } => "microsoftAuthenticatorAuthenticationMethod",
        MethodKind::WindowsHelloForBusiness { .. } => "windowsHelloForBusinessAuthenticationMethod",
        MethodKind::Fido2 { .. } => "fido2AuthenticationMethod",
    }
}

/// The fixed id Graph gives the password method.
const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";
/// The fixed id Graph gives the mobile phone method.
const MOBILE_PHONE_METHOD_ID: &str = "3179e48a-750b-4051-897c-87b9720928f7";

/// One method as Graph returns it; `beta` adds `lastUsedDateTime`.
pub fn method(pop: &Population, method: &Method, beta: bool) -> Value {
    let mut v = json!({
        "@odata.type": format!("#microsoft.graph.{}", method_type(method)),
        "createdDateTime": time(method.created),
    });
    let mut last_used = None;
    match &method.kind {
        MethodKind::Password => {
            v["id"] = json!(PASSWORD_METHOD_ID);
            v["password"] = Value::Null;
        }
        MethodKind::Phone {
            phone_number,
            sms_sign_in,
        } => {
            v["id"] = json!(MOBILE_PHONE_METHOD_ID);
            v["phoneNumber"] = json!(phone_number);
            v["phoneType"] = json!("mobile");
            v["smsSignInState"] = json!(if *sms_sign_in {
                "ready"
            } else {
                "notAllowedByPolicy"
            });
        }
        MethodKind::MicrosoftAuthenticator {
            device,
            phone_app_version,
        } => {
            let d = &pop.devices[*device as usize];
            v["id"] = json!(method.id);
            v["displayName"] = json!(d.display_name);
            v["deviceTag"] = json!("SoftwareTokenActivated");
            v["phoneAppVersion"] = json!(phone_app_version);
            if beta {
                v["clientAppName"] = json!("microsoftAuthenticator");
            }
        }
        MethodKind::WindowsHelloForBusiness { device, .. } => {
            v["id"] = json!(method.id);
            v["displayName"] = json!(pop.devices[*device as usize].display_name);
            v["keyStrength"] = json!("normal");
        }
        MethodKind::Fido2 {
            passkey,
            device,
            last_used: used,
            ..
        } => {
            v["id"] = json!(method.id);
            v["displayName"] = json!(device_name(pop, *device).unwrap_or(passkey.model()));
            v["aaGuid"] = json!(passkey.aaguid());
            v["model"] = json!(passkey.model());
            v["attestationCertificates"] = json!([]);
            v["attestationLevel"] = json!(if passkey.is_synced() {
                "notAttested"
            } else {
                "attested"
            });
            v["passkeyType"] = json!(passkey.passkey_type());
            last_used = *used;
        }
    }
    if beta {
        v["lastUsedDateTime"] = opt(last_used.map(time));
    }
    v
}

/// The id a method is addressed by in its typed collection.
pub fn method_id(method: &Method) -> String {
    match method.kind {
        MethodKind::Password => PASSWORD_METHOD_ID.to_owned(),
        MethodKind::Phone { .. } => MOBILE_PHONE_METHOD_ID.to_owned(),
        _ => method.id.to_string(),
    }
}

/// The device of a method, if it has one.
pub fn method_device(method: &Method) -> Option<u32> {
    match method.kind {
        MethodKind::MicrosoftAuthenticator { device, .. }
        | MethodKind::WindowsHelloForBusiness { device, .. } => Some(device),
        MethodKind::Fido2 { device, .. } => device,
        _ => None,
    }
}

fn trust_type(t: TrustType) -> &'static str {
    match t {
        TrustType::AzureAd => "AzureAd",
        TrustType::ServerAd => "ServerAd",
        TrustType::Workplace => "Workplace",
    }
}

/// The last sign-in from a device, approximately (Entra rounds it and updates it lazily).
fn last_sign_in(pop: &Population, index: u32, device: &Device) -> Option<Timestamp> {
    let owner = device.owner?;
    let person = &pop.people[owner as usize];
    let slot = person.devices.iter().position(|&d| d == index)? as u8;
    pop.sign_ins_of(person)
        .iter()
        .rev()
        .find(|s| s.device == slot)
        .map(|s| pop.sign_in_time(s))
}

/// A `microsoft.graph.device`.
pub fn device(pop: &Population, index: u32, typed: bool) -> Value {
    let d = &pop.devices[index as usize];
    let mut v = json!({
        "id": d.id,
        "deviceId": d.device_id,
        "displayName": d.display_name,
        "operatingSystem": d.platform.device_os(),
        "operatingSystemVersion": d.os_version(),
        "trustType": d.trust_type.map(trust_type),
        "isCompliant": d.is_compliant,
        "isManaged": d.is_managed,
        "accountEnabled": true,
        "manufacturer": d.manufacturer,
        "model": d.model,
        "profileType": if d.form == FormFactor::SharedDesktop { "Shared" } else if d.trust_type == Some(TrustType::Workplace) { "RegisteredDevice" } else { "RegularDevice" },
        "registrationDateTime": time(d.registered),
        "approximateLastSignInDateTime": opt(last_sign_in(pop, index, d).map(time)),
    });
    if typed && let Some(m) = v.as_object_mut() {
        let mut out = Map::new();
        out.insert("@odata.type".into(), json!("#microsoft.graph.device"));
        out.append(m);
        *m = out;
    }
    v
}

/// What `$filter` sees of a device.
pub fn device_field<'a>(d: &'a Device, name: &str) -> Option<FieldValue<'a>> {
    Some(match name {
        "id" => FieldValue::Owned(d.id.to_string()),
        "deviceId" => FieldValue::Owned(d.device_id.to_string()),
        "displayName" => FieldValue::Str(&d.display_name),
        "operatingSystem" => FieldValue::Str(d.platform.device_os()),
        "trustType" => d
            .trust_type
            .map_or(FieldValue::Null, |t| FieldValue::Str(trust_type(t))),
        _ => return None,
    })
}

fn chrome_version(seed: u64) -> u32 {
    128 + (seed % 5) as u32
}

/// A realistic user agent for an app on a device.
pub fn user_agent(d: &Device, app: App) -> String {
    let v = d.os;
    let chrome = chrome_version(d.device_id.0 as u64);
    let os_token = match d.platform {
        Platform::Windows => "Windows NT 10.0; Win64; x64".to_owned(),
        Platform::MacOs => "Macintosh; Intel Mac OS X 10_15_7".to_owned(),
        Platform::Linux => "X11; Linux x86_64".to_owned(),
        Platform::Android => format!("Linux; Android {}; {}", v.major, d.model),
        Platform::Ios if d.form == FormFactor::Tablet => {
            format!("iPad; CPU OS {}_{} like Mac OS X", v.major, v.minor)
        }
        Platform::Ios => format!(
            "iPhone; CPU iPhone OS {}_{} like Mac OS X",
            v.major, v.minor
        ),
    };
    if app.is_native() {
        return match (app, d.platform) {
            (App::WindowsSignIn, _) => "Windows-AzureAD-Authentication-Provider/1.0".to_owned(),
            (App::TeamsDesktop, _) => format!(
                "Mozilla/5.0 ({os_token}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36 Edg/{chrome}.0.0.0 Teams/24295.605.3225.8804/49"
            ),
            (App::TeamsMobile, Platform::Ios) => {
                format!("Teams/6.22.1 (iOS {}.{}; {})", v.major, v.minor, d.model)
            }
            (App::TeamsMobile, _) => {
                format!("Teams/1416/1.0.0.2024 (Android {}; {})", v.major, d.model)
            }
            (App::OutlookMobile, Platform::Ios) => {
                format!("Outlook-iOS/2.0 (iOS {}.{})", v.major, v.minor)
            }
            (App::OutlookMobile, _) => format!("Outlook-Android/2.0 (Android {})", v.major),
            (App::Authenticator, Platform::Ios) => format!(
                "Mozilla/5.0 ({os_token}) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 PKeyAuth/1.0 Authenticator"
            ),
            (App::Authenticator, _) => format!(
                "Mozilla/5.0 ({os_token}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Mobile Safari/537.36 PKeyAuth/1.0"
            ),
            (App::OneDriveSync, Platform::MacOs) => {
                "Microsoft SkyDriveSync 24.201.1006.0005 ship; Mac OS X 14.6".to_owned()
            }
            (App::OneDriveSync, _) => {
                "Microsoft SkyDriveSync 24.201.1006.0005 ship; Windows NT 10.0 (26100)".to_owned()
            }
            _ => format!(
                "Mozilla/5.0 ({os_token}; WebView/3.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36 Edge/18.26100"
            ),
        };
    }
    match (d.browser, d.platform) {
        (Browser::Safari, Platform::Ios) => format!(
            "Mozilla/5.0 ({os_token}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{}.{} Mobile/15E148 Safari/604.1",
            v.major, v.minor
        ),
        (Browser::Safari, _) => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15".to_owned(),
        (Browser::Firefox, _) => format!("Mozilla/5.0 ({os_token}; rv:132.0) Gecko/20100101 Firefox/132.0"),
        (Browser::Edge, _) => format!(
            "Mozilla/5.0 ({os_token}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36 Edg/{chrome}.0.0.0"
        ),
        (Browser::Chrome, p) if p.is_mobile() => format!(
            "Mozilla/5.0 ({os_token}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Mobile Safari/537.36"
        ),
        (Browser::Chrome, _) => format!(
            "Mozilla/5.0 ({os_token}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36"
        ),
    }
}

/// `deviceDetail.browser` as the sign-in log shows it.
fn browser_detail(d: &Device, app: App) -> String {
    if app.is_native() {
        return "Rich Client 5.2.0".to_owned();
    }
    let chrome = chrome_version(d.device_id.0 as u64);
    match (d.browser, d.platform) {
        (Browser::Safari, Platform::Ios) => "Mobile Safari".to_owned(),
        (Browser::Safari, _) => "Safari 18.1".to_owned(),
        (Browser::Firefox, _) => "Firefox 132.0".to_owned(),
        (Browser::Edge, _) => format!("Edge {chrome}.0.0"),
        (Browser::Chrome, p) if p.is_mobile() => format!("Chrome Mobile {chrome}.0.0"),
        (Browser::Chrome, _) => format!("Chrome {chrome}.0.0"),
    }
}

/// The sign-in log's wording of a trust type.
fn sign_in_trust(t: Option<TrustType>) -> Value {
    json!(match t {
        Some(TrustType::AzureAd) => "Azure AD joined",
        Some(TrustType::ServerAd) => "Hybrid Azure AD joined",
        Some(TrustType::Workplace) => "Azure AD registered",
        None => "",
    })
}

/// A sign-in of `person` (global index `n`) in Graph's v1.0 or beta shape.
pub fn sign_in(pop: &Population, person: &Person, n: usize, s: &SignIn, beta: bool) -> Value {
    let d = pop.sign_in_device(person, s);
    let at = pop.sign_in_time(s);
    let passkey = (s.method != SignIn::NO_METHOD)
        .then(|| person.methods.get(s.method as usize))
        .flatten()
        .and_then(|m| match m.kind {
            MethodKind::Fido2 { passkey, .. } => Some(passkey),
            _ => None,
        });
    let synced = passkey.is_some_and(PasskeyModel::is_synced);
    let steps = s.auth.steps(synced);
    let id = Guid::derive(pop.seed, ID_SIGN_IN, n as u64);
    let correlation = Guid::derive(pop.seed, ID_CORRELATION, n as u64);
    let ip = {
        let h = (d.device_id.0 >> 7) as u32;
        format!("203.0.{}.{}", (h >> 8) % 256, h % 254 + 1)
    };
    let registered = d.is_registered();
    let failure = match s.outcome {
        SignInOutcome::Success => "Other.",
        o => o.failure_reason(),
    };
    let mut v = json!({
        "id": id,
        "createdDateTime": time(at),
        "userDisplayName": person.display_name,
        "userPrincipalName": person.user_principal_name,
        "userId": person.id,
        "appId": s.app.app_id(),
        "appDisplayName": s.app.display_name(),
        "ipAddress": ip,
        "clientAppUsed": s.app.client_app_used(),
        "correlationId": correlation,
        "conditionalAccessStatus": "notApplied",
        "isInteractive": s.interactive,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes_v2": [],
        "resourceDisplayName": "Microsoft Graph",
        "resourceId": "00000003-0000-0000-c000-000000000000",
        "status": {
            "errorCode": s.outcome.error_code(),
            "failureReason": failure,
            "additionalDetails": Value::Null,
        },
        "deviceDetail": {
            "deviceId": if registered { d.device_id.to_string() } else { String::new() },
            "displayName": if registered { d.display_name.as_str() } else { "" },
            "operatingSystem": d.platform.sign_in_os(),
            "browser": browser_detail(d, s.app),
            "isCompliant": registered && d.is_compliant,
            "isManaged": registered && d.is_managed,
            "trustType": sign_in_trust(d.trust_type),
        },
        "location": {
            "city": Value::Null,
            "state": Value::Null,
            "countryOrRegion": person.usage_location,
            "geoCoordinates": {},
        },
        "appliedConditionalAccessPolicies": [],
        "userAgent": user_agent(d, s.app),
    });
    if !beta {
        return v;
    }
    let last = steps.len() - 1;
    let details: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let failed_here = match s.outcome {
                SignInOutcome::InvalidPassword => i == 0,
                SignInOutcome::MfaDenied => i == last && last > 0,
                SignInOutcome::Success => false,
            };
            let result = match (*step, failed_here) {
                ("Password", true) => {
                    "Invalid username or password or Invalid on-premise username or password."
                }
                (_, true) => "MFA denied; user declined the authentication",
                ("Password", false) => "Correct password",
                ("Previously satisfied", false) => {
                    "MFA requirement satisfied by claim in the token"
                }
                _ => "MFA successfully completed",
            };
            let detail = match (*step, passkey) {
                ("Password", _) => "Password in the cloud",
                // Entra masks the phone number in sign-in details, as here.
                ("Text message", _) => "+XX XXXXXXX",
                (_, Some(model)) => model.model(),
                _ => "",
            };
            json!({
                "authenticationStepDateTime": time(at),
                "authenticationMethod": step,
                "authenticationMethodDetail": detail,
                "succeeded": !failed_here,
                "authenticationStepResultDetail": result,
                "authenticationStepRequirement": if i == 0 { "Primary authentication" } else { "Multifactor authentication" },
            })
        })
        .collect();
    let multifactor = steps.len() > 1 || s.auth.is_phishing_resistant();
    v["authenticationDetails"] = json!(details);
    v["authenticationMethodsUsed"] = json!(steps);
    v["authenticationRequirement"] = json!(if multifactor {
        "multiFactorAuthentication"
    } else {
        "singleFactorAuthentication"
    });
    v["signInEventTypes"] = json!([event_type(s)]);
    v["incomingTokenType"] = json!("none");
    v["sessionId"] = json!(Guid::derive(pop.seed, ID_CORRELATION, u64::MAX - n as u64));
    v["authenticationAppDeviceDetails"] = match (s.auth, s.app) {
        (SignInAuth::PasswordPush, _) | (_, App::Authenticator) => json!({
            "appVersion": "6.2404.2229",
            "clientApp": "microsoftAuthenticator",
            "deviceId": Value::Null,
            "operatingSystem": Value::Null,
        }),
        _ => Value::Null,
    };
    v
}

fn event_type(s: &SignIn) -> &'static str {
    if s.interactive {
        "interactiveUser"
    } else {
        "nonInteractiveUser"
    }
}

/// What `$filter` sees of a sign-in.
pub fn sign_in_field<'a>(
    pop: &'a Population,
    person: &'a Person,
    s: &SignIn,
    name: &str,
) -> Option<FieldValue<'a>> {
    Some(match name {
        "userId" => FieldValue::Owned(person.id.to_string()),
        "userPrincipalName" => FieldValue::Str(&person.user_principal_name),
        "createdDateTime" => FieldValue::Time(pop.sign_in_time(s)),
        "appId" => FieldValue::Str(s.app.app_id()),
        "status/errorCode" => FieldValue::Number(i64::from(s.outcome.error_code())),
        "isInteractive" => FieldValue::Bool(s.interactive),
        "signInEventTypes" => FieldValue::List(vec![event_type(s)]),
        "deviceDetail/operatingSystem" => {
            FieldValue::Str(pop.sign_in_device(person, s).platform.sign_in_os())
        }
        "deviceDetail/browser" => {
            FieldValue::Owned(browser_detail(pop.sign_in_device(person, s), s.app))
        }
        _ => return None,
    })
}

fn operation_type(a: AuditActivity) -> &'static str {
    match a {
        AuditActivity::StartedRegistration | AuditActivity::CancelledRegistration => "Update",
        AuditActivity::AdminDeletedSecurityInfo => "Delete",
        _ => "Add",
    }
}

/// A `directoryAudit` of the "Authentication Methods" service.
pub fn audit(pop: &Population, e: &AuditEvent) -> Value {
    let p = &pop.people[e.person as usize];
    let mut details = vec![json!({"key": "Method", "value": match e.passkey {
        Some(m) if m.is_security_key() => "FIDO2 security key",
        Some(m) if m.is_synced() => "Passkey (synced)",
        Some(_) => "Passkey (device-bound)",
        None => "Microsoft Authenticator",
    }})];
    if let Some(m) = e.passkey {
        details.push(json!({"key": "AAGUID", "value": m.aaguid()}));
    }
    json!({
        "id": format!("UserManagement_{}", e.id),
        "category": "UserManagement",
        "correlationId": Guid::derive(pop.seed, ID_CORRELATION, e.id.0 as u64),
        "result": if e.succeeded { "success" } else { "failure" },
        "resultReason": e.reason.unwrap_or(""),
        "activityDisplayName": e.activity.display_name(),
        "activityDateTime": time(e.at),
        "loggedByService": "Authentication Methods",
        "operationType": operation_type(e.activity),
        "initiatedBy": {
            "app": Value::Null,
            "user": {
                "id": p.id,
                "displayName": Value::Null,
                "userPrincipalName": p.user_principal_name,
                "ipAddress": "",
                "userType": Value::Null,
                "homeTenantId": Value::Null,
                "homeTenantName": Value::Null,
            }
        },
        "targetResources": [{
            "id": p.id,
            "displayName": p.display_name,
            "type": "User",
            "userPrincipalName": p.user_principal_name,
            "groupType": Value::Null,
            "modifiedProperties": [],
        }],
        "additionalDetails": details,
    })
}

/// What `$filter` sees of an audit event.
pub fn audit_field<'a>(pop: &'a Population, e: &AuditEvent, name: &str) -> Option<FieldValue<'a>> {
    let p = &pop.people[e.person as usize];
    Some(match name {
        "activityDateTime" => FieldValue::Time(e.at),
        "activityDisplayName" => FieldValue::Str(e.activity.display_name()),
        "loggedByService" => FieldValue::Str("Authentication Methods"),
        "category" => FieldValue::Str("UserManagement"),
        "result" => FieldValue::Str(if e.succeeded { "success" } else { "failure" }),
        "initiatedBy/user/id" => FieldValue::Owned(p.id.to_string()),
        "initiatedBy/user/userPrincipalName" => FieldValue::Str(&p.user_principal_name),
        _ => return None,
    })
}
