//! Who can sign in to the simulated tenant, and how: the ways a person can prove who they are
//! (from their registered methods and devices) and a record of every interactive attempt.
//!
//! The sign-in page of [`super::identity`] reads people and their options only through
//! [`SignInDirectory`], so it does not depend on how Graph stores the population (or on
//! methods registered at run time there).

use std::sync::{Arc, Mutex, OnceLock, Weak};

use jiff::Timestamp;
use serde::Serialize;

use super::graph::{Graph, SignInRecord};
use super::population::{
    Method, MethodKind, PasskeyState, Person, Platform, Population, SignInAuth,
};

/// A person as the sign-in page needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInPerson {
    /// Entra object id (`oid`).
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub account_enabled: bool,
}

/// The kind of a way to sign in, as Entra's "Sign in another way" list groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SignInMethod {
    /// A passkey on a phone or computer (Authenticator, iCloud Keychain, Google, Samsung).
    Passkey,
    /// A FIDO2 security key.
    SecurityKey,
    WindowsHelloForBusiness,
    /// Password, then approve a notification in Microsoft Authenticator.
    AuthenticatorPush,
    /// Password, then a code sent by text message.
    Sms,
    /// Password alone.
    Password,
}

impl SignInMethod {
    /// Part of the built-in "Phishing-resistant MFA" strength (`fido2`,
    /// `windowsHelloForBusiness`); every passkey counts as `fido2`.
    pub fn is_phishing_resistant(self) -> bool {
        matches!(
            self,
            SignInMethod::Passkey
                | SignInMethod::SecurityKey
                | SignInMethod::WindowsHelloForBusiness
        )
    }

    /// `authenticationMethod` as sign-in logs name the step.
    pub fn log_name(self) -> &'static str {
        match self {
            SignInMethod::Passkey => "Passkey",
            SignInMethod::SecurityKey => "FIDO2 security key",
            SignInMethod::WindowsHelloForBusiness => "Windows Hello for Business",
            SignInMethod::AuthenticatorPush => "Mobile app notification",
            SignInMethod::Sms => "Text message",
            SignInMethod::Password => "Password",
        }
    }
}

/// Why an option that looks available cannot complete a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OptionFailure {
    /// Registered in Entra, but the person deleted it from the phone: the phone has no
    /// credential to offer.
    PasskeyDeletedFromDevice,
    /// The person no longer knows the Windows Hello PIN.
    WhfbPinForgotten,
    /// Windows Hello belongs to another device than the one the browser runs on.
    WhfbOnAnotherDevice,
    /// The passkey lives on another phone or tablet, and the browser runs on a phone: the
    /// QR/Bluetooth flow starts from a computer.
    PasskeyOnAnotherPhone,
    /// The tenant's passkey policy no longer lets this kind of passkey sign in (a synced
    /// passkey where only device-bound ones are allowed, a key restriction).
    PasskeyNotAllowed,
}

impl OptionFailure {
    /// `failureReason` of the attempt.
    pub fn reason(self) -> &'static str {
        match self {
            OptionFailure::PasskeyDeletedFromDevice => {
                "The passkey was not found on the device: it was removed from the device but is still registered."
            }
            OptionFailure::WhfbPinForgotten => {
                "Windows Hello for Business: the user could not enter the PIN."
            }
            OptionFailure::WhfbOnAnotherDevice => {
                "Windows Hello for Business is not set up on the device signing in."
            }
            OptionFailure::PasskeyOnAnotherPhone => {
                "The passkey is on another mobile device and cannot be used from this one."
            }
            OptionFailure::PasskeyNotAllowed => {
                "The passkey is not allowed by the organization's passkey policy."
            }
        }
    }
}

/// One way a person can try to sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInOption {
    /// Stable id the page posts back: `password`, or `<kind>:<method id>`.
    pub id: String,
    pub method: SignInMethod,
    /// What the page shows, e.g. "Passkey in Microsoft Authenticator on iPhone 15".
    pub label: String,
    /// The device it lives on (display name), if it is bound to one.
    pub device: Option<String>,
    /// Set when trying this option will fail.
    pub failure: Option<OptionFailure>,
}

/// One interactive sign-in attempt on the simulated sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInAttempt {
    /// Client id of the app signed in to.
    pub app_id: String,
    pub user_id: String,
    pub user_principal_name: String,
    pub method: SignInMethod,
    /// The option chosen ([`SignInOption::id`]).
    pub option: String,
    pub device: Option<String>,
    /// The method worked and Conditional Access let the token be issued.
    pub succeeded: bool,
    /// Entra's error code (`0` on success).
    pub error_code: u32,
    pub failure_reason: Option<String>,
    pub at: Timestamp,
}

/// People, their sign-in options, and the attempts made on the sign-in page.
pub trait SignInDirectory: Send + Sync {
    /// The person with this user principal name or object id.
    fn find_person(&self, upn_or_id: &str) -> Option<SignInPerson>;
    /// The ways this person can try to sign in, strongest first.
    fn sign_in_options(&self, person_id: &str) -> Vec<SignInOption>;
    /// Keeps an attempt.
    fn record_attempt(&self, attempt: SignInAttempt);
    /// Every attempt so far, oldest first.
    fn attempts(&self) -> Vec<SignInAttempt>;
    /// The person's device (display name) a browser with this user agent runs on, when the
    /// user agent's platform names exactly one of their devices.
    fn device_for_user_agent(&self, person_id: &str, user_agent: &str) -> Option<String>;
    /// The person's devices (display names), computers first.
    fn device_names(&self, person_id: &str) -> Vec<String>;
    /// Whether the person's device of this name is a phone or tablet (`None`: no such device).
    fn is_mobile_device(&self, person_id: &str, name: &str) -> Option<bool>;
}

/// The platform a browser's user agent names.
fn platform_of(user_agent: &str) -> Option<Platform> {
    let ua = user_agent.to_ascii_lowercase();
    if ua.contains("iphone") || ua.contains("ipad") {
        Some(Platform::Ios)
    } else if ua.contains("android") {
        Some(Platform::Android)
    } else if ua.contains("windows") {
        Some(Platform::Windows)
    } else if ua.contains("macintosh") || ua.contains("mac os x") {
        Some(Platform::MacOs)
    } else if ua.contains("linux") || ua.contains("x11") {
        Some(Platform::Linux)
    } else {
        None
    }
}

/// [`SignInDirectory`] over a generated population; attempts are kept in memory. Attached
/// to the simulated Graph, it offers the methods Graph lists now (passkeys registered at run
/// time included) and each attempt also lands in Graph's sign-in log.
pub struct PopulationDirectory {
    population: Arc<Population>,
    attempts: Mutex<Vec<SignInAttempt>>,
    /// Weak: Graph holds identity, which holds this directory.
    graph: OnceLock<Weak<Graph>>,
}

impl PopulationDirectory {
    pub fn new(population: Arc<Population>) -> PopulationDirectory {
        PopulationDirectory {
            population,
            attempts: Mutex::new(Vec::new()),
            graph: OnceLock::new(),
        }
    }

    /// Reads methods from, and records attempts in, this Graph from now on.
    pub fn attach_graph(&self, graph: &Arc<Graph>) {
        let _ = self.graph.set(Arc::downgrade(graph));
    }

    fn graph(&self) -> Option<Arc<Graph>> {
        self.graph.get().and_then(Weak::upgrade)
    }

    /// The person's methods as Graph lists them now, or as generated.
    fn methods(&self, person: &Person) -> Vec<Method> {
        self.graph()
            .and_then(|g| g.live_methods(&person.id.to_string()).ok())
            .unwrap_or_else(|| person.methods.clone())
    }

    fn person(&self, upn_or_id: &str) -> Option<&Person> {
        self.population
            .person(upn_or_id)
            .or_else(|| self.population.by_upn(upn_or_id.trim()))
    }

    fn device_name(&self, index: u32) -> String {
        self.population.devices[index as usize].display_name.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SignInAttempt>> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SignInDirectory for PopulationDirectory {
    fn find_person(&self, upn_or_id: &str) -> Option<SignInPerson> {
        self.person(upn_or_id).map(|p| SignInPerson {
            id: p.id.to_string(),
            user_principal_name: p.user_principal_name.clone(),
            display_name: p.display_name.clone(),
            account_enabled: p.account_enabled,
        })
    }

    fn sign_in_options(&self, person_id: &str) -> Vec<SignInOption> {
        let Some(person) = self.person(person_id) else {
            return Vec::new();
        };
        let methods = self.methods(person);
        let mut options: Vec<SignInOption> = methods
            .iter()
            .filter_map(|m| {
                let (method, label, device, failure) = match &m.kind {
                    MethodKind::Fido2 {
                        passkey,
                        device,
                        state,
                        ..
                    } => {
                        let device = device.map(|d| self.device_name(d));
                        let allowed = self
                            .graph()
                            .is_none_or(|g| g.fido2_policy().lets_sign_in(*passkey));
                        let failure = if *state == PasskeyState::DeletedFromDevice {
                            Some(OptionFailure::PasskeyDeletedFromDevice)
                        } else if !allowed {
                            Some(OptionFailure::PasskeyNotAllowed)
                        } else {
                            None
                        };
                        if passkey.is_security_key() {
                            let label = format!("Security key ({})", passkey.model());
                            (SignInMethod::SecurityKey, label, device, failure)
                        } else {
                            let label = match &device {
                                Some(d) => format!("Passkey in {} on {d}", passkey.model()),
                                None => format!("Passkey in {}", passkey.model()),
                            };
                            (SignInMethod::Passkey, label, device, failure)
                        }
                    }
                    MethodKind::WindowsHelloForBusiness {
                        device,
                        pin_forgotten,
                    } => {
                        let name = self.device_name(*device);
                        let failure = pin_forgotten.then_some(OptionFailure::WhfbPinForgotten);
                        let label = format!("Windows Hello for Business on {name}");
                        (
                            SignInMethod::WindowsHelloForBusiness,
                            label,
                            Some(name),
                            failure,
                        )
                    }
                    MethodKind::MicrosoftAuthenticator { device, .. } => {
                        let name = self.device_name(*device);
                        let label =
                            format!("Approve a request on my Microsoft Authenticator app ({name})");
                        (SignInMethod::AuthenticatorPush, label, Some(name), None)
                    }
                    MethodKind::Phone { phone_number, .. } => {
                        let label = format!("Text {}", masked(phone_number));
                        (SignInMethod::Sms, label, None, None)
                    }
                    MethodKind::Password => return None,
                };
                Some(SignInOption {
                    id: format!("{}:{}", option_prefix(method), m.id),
                    method,
                    label,
                    device,
                    failure,
                })
            })
            .collect();
        options.sort_by_key(|o| !o.method.is_phishing_resistant());
        if methods
            .iter()
            .any(|m| matches!(m.kind, MethodKind::Password))
        {
            options.push(SignInOption {
                id: "password".to_owned(),
                method: SignInMethod::Password,
                label: "Use my password".to_owned(),
                device: None,
                failure: None,
            });
        }
        options
    }

    fn record_attempt(&self, attempt: SignInAttempt) {
        if let Some(graph) = self.graph() {
            let passkey = attempt
                .option
                .split_once(':')
                .and_then(|(_, id)| {
                    let person = self.person(&attempt.user_id)?;
                    self.methods(person)
                        .into_iter()
                        .find(|m| m.id.to_string() == id)
                })
                .and_then(|m| match m.kind {
                    MethodKind::Fido2 { passkey, .. } => Some(passkey),
                    _ => None,
                });
            let auth = match attempt.method {
                SignInMethod::Passkey => SignInAuth::Passkey,
                SignInMethod::SecurityKey => SignInAuth::SecurityKey,
                SignInMethod::WindowsHelloForBusiness => SignInAuth::WindowsHello,
                SignInMethod::AuthenticatorPush => SignInAuth::PasswordPush,
                SignInMethod::Sms => SignInAuth::PasswordSms,
                SignInMethod::Password => SignInAuth::PasswordPreviouslySatisfied,
            };
            let record = SignInRecord {
                person: attempt.user_id.clone(),
                app_id: attempt.app_id.clone(),
                app_display_name: "Passkey sign-in test".to_owned(),
                device: attempt.device.clone(),
                auth,
                passkey,
                error_code: attempt.error_code,
                failure_reason: attempt.failure_reason.clone(),
                at: Some(attempt.at),
            };
            if let Err(e) = graph.record_sign_in(record) {
                tracing::warn!(error = %e, "sign-in attempt not added to the simulated sign-in log");
            }
        }
        self.lock().push(attempt);
    }

    fn attempts(&self) -> Vec<SignInAttempt> {
        self.lock().clone()
    }

    fn device_names(&self, person_id: &str) -> Vec<String> {
        let Some(person) = self.person(person_id) else {
            return Vec::new();
        };
        let mut devices: Vec<&crate::sim::population::Device> =
            self.population.devices_of(person).collect();
        devices.sort_by_key(|d| d.platform.is_mobile());
        devices
            .into_iter()
            .map(|d| d.display_name.clone())
            .collect()
    }

    fn is_mobile_device(&self, person_id: &str, name: &str) -> Option<bool> {
        let person = self.person(person_id)?;
        self.population
            .devices_of(person)
            .find(|d| d.display_name == name)
            .map(|d| d.platform.is_mobile())
    }

    fn device_for_user_agent(&self, person_id: &str, user_agent: &str) -> Option<String> {
        let platform = platform_of(user_agent)?;
        let person = self.person(person_id)?;
        let mut on = self
            .population
            .devices_of(person)
            .filter(|d| d.platform == platform);
        match (on.next(), on.next()) {
            (Some(d), None) => Some(d.display_name.clone()),
            _ => None,
        }
    }
}

fn option_prefix(method: SignInMethod) -> &'static str {
    match method {
        SignInMethod::Passkey => "passkey",
        SignInMethod::SecurityKey => "securityKey",
        SignInMethod::WindowsHelloForBusiness => "whfb",
        SignInMethod::AuthenticatorPush => "push",
        SignInMethod::Sms => "sms",
        SignInMethod::Password => "password",
    }
}

/// `+XX XXXXXXXX12`: Entra shows only the last two digits of the number it texts.
fn masked(phone_number: &str) -> String {
    let digits: Vec<char> = phone_number.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
    let hidden = "X".repeat(digits.len().saturating_sub(4));
    format!("+XX {hidden}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> PopulationDirectory {
        PopulationDirectory::new(Arc::new(Population::generate(400, 7, Timestamp::now())))
    }

    #[test]
    fn a_deleted_passkey_is_offered_but_marked_as_failing() {
        let dir = directory();
        let person = dir
            .population
            .people
            .iter()
            .find(|p| p.traits.passkey_deleted_from_phone)
            .expect("someone deleted a passkey from the phone");
        let options = dir.sign_in_options(&person.id.to_string());
        let deleted = options
            .iter()
            .find(|o| o.failure == Some(OptionFailure::PasskeyDeletedFromDevice))
            .expect("the deleted passkey is still offered");
        assert_eq!(deleted.method, SignInMethod::Passkey);
        assert!(deleted.device.is_some(), "{deleted:?}");
        assert_eq!(options.last().unwrap().method, SignInMethod::Password);
    }

    #[test]
    fn people_are_found_by_upn_in_any_case_or_by_object_id() {
        let dir = directory();
        let person = &dir.population.people[3];
        let by_upn = dir
            .find_person(&person.user_principal_name.to_uppercase())
            .unwrap();
        assert_eq!(by_upn.id, person.id.to_string());
        assert_eq!(dir.find_person(&by_upn.id), Some(by_upn));
        assert_eq!(dir.find_person("nobody@example.invalid"), None);
    }

    #[test]
    fn phishing_resistant_options_come_first() {
        let dir = directory();
        for person in dir.population.people.iter().take(100) {
            let options = dir.sign_in_options(&person.id.to_string());
            let first_weak = options
                .iter()
                .position(|o| !o.method.is_phishing_resistant())
                .unwrap_or(options.len());
            assert!(
                options[first_weak..]
                    .iter()
                    .all(|o| !o.method.is_phishing_resistant()),
                "{options:?}"
            );
        }
    }

    #[test]
    fn texted_numbers_show_only_their_last_two_digits() {
        assert_eq!(masked("+49 1512 3456789"), "+XX XXXXXXXXX89");
    }
}
