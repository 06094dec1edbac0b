//! The tenant's authentication methods policy: the passkey (FIDO2) configuration with its
//! passkey profile (reference/graph.md §11), settable through `SimulatorOptions` and
//! `PUT /_sim/policies/fido2`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sim::population::PasskeyModel;

/// Id of the tenant's default passkey profile.
pub const DEFAULT_PROFILE_ID: &str = "5d7f2c1e-8a3b-4c6d-9e0f-1a2b3c4d5e6f";

/// `passkeyProfile.keyRestrictions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyRestrictions {
    pub is_enforced: bool,
    /// `allow` or `block`.
    pub enforcement_type: String,
    /// Lowercase AAGUIDs.
    pub aa_guids: Vec<String>,
}

/// The tenant's passkey policy, as one default profile (what most tenants run).
///
/// The default is a tenant mid-migration: passkeys on for all users, device-bound only
/// (Authenticator, Entra passkeys on Windows and the security keys the organisation issues,
/// by an AAGUID allow list), attestation not enforced (Entra passkeys on Windows need it
/// off), synced passkeys not yet allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Fido2Policy {
    /// `enabled` or `disabled`.
    pub state: String,
    pub is_self_service_registration_allowed: bool,
    pub allow_device_bound: bool,
    pub allow_synced: bool,
    /// `disabled` or `registrationOnly`.
    pub attestation_enforcement: String,
    pub key_restrictions: KeyRestrictions,
}

impl Default for Fido2Policy {
    fn default() -> Self {
        let allowed = [
            PasskeyModel::AuthenticatorIos,
            PasskeyModel::AuthenticatorAndroid,
            PasskeyModel::WindowsHello,
            PasskeyModel::YubiKey5,
            PasskeyModel::YubiKey5Nfc,
            PasskeyModel::YubiKeyBio,
        ];
        let mut aa_guids: Vec<String> = allowed.iter().map(|m| m.aaguid().to_owned()).collect();
        // The two other Windows Hello AAGUIDs (VBS, software key) Entra passkeys on Windows need.
        aa_guids.push("9ddd1817-af5a-4672-a2b9-3e3dd95000a9".to_owned());
        aa_guids.push("6028b017-b1d4-4c02-b4b3-afcdafc96bb2".to_owned());
        Fido2Policy {
            state: "enabled".to_owned(),
            is_self_service_registration_allowed: true,
            allow_device_bound: true,
            allow_synced: false,
            attestation_enforcement: "disabled".to_owned(),
            key_restrictions: KeyRestrictions {
                is_enforced: true,
                enforcement_type: "allow".to_owned(),
                aa_guids,
            },
        }
    }
}

/// Why the policy refuses a passkey at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    #[error("passkeys are disabled in the authentication methods policy")]
    Disabled,
    #[error("the passkey profile does not allow this passkey type")]
    TypeNotAllowed,
    #[error("the authenticator isn't allowed by policy")]
    KeyRestricted,
}

impl Fido2Policy {
    /// `passkeyTypes` as Graph writes the flags enum.
    fn passkey_types(&self) -> String {
        let mut types = Vec::new();
        if self.allow_device_bound {
            types.push("deviceBound");
        }
        if self.allow_synced {
            types.push("synced");
        }
        types.join(",")
    }

    /// Whether a passkey of `model` may be registered now.
    pub fn admits(&self, model: PasskeyModel) -> Result<(), PolicyRefusal> {
        if self.state != "enabled" || !self.is_self_service_registration_allowed {
            return Err(PolicyRefusal::Disabled);
        }
        let type_ok = if model.is_synced() {
            self.allow_synced
        } else {
            self.allow_device_bound
        };
        if !type_ok {
            return Err(PolicyRefusal::TypeNotAllowed);
        }
        let k = &self.key_restrictions;
        if k.is_enforced {
            let listed = k
                .aa_guids
                .iter()
                .any(|a| a.eq_ignore_ascii_case(model.aaguid()));
            let allowed = if k.enforcement_type == "block" {
                !listed
            } else {
                listed
            };
            if !allowed {
                return Err(PolicyRefusal::KeyRestricted);
            }
        }
        Ok(())
    }

    /// Whether a passkey of `model` may sign in now (registration aside, as [`Self::admits`]).
    pub fn lets_sign_in(&self, model: PasskeyModel) -> bool {
        let registration = Fido2Policy {
            is_self_service_registration_allowed: true,
            ..self.clone()
        };
        registration.admits(model).is_ok()
    }

    fn profile(&self) -> Value {
        json!({
            "id": DEFAULT_PROFILE_ID,
            "name": "Default passkey profile",
            "passkeyTypes": self.passkey_types(),
            "attestationEnforcement": self.attestation_enforcement,
            "keyRestrictions": {
                "isEnforced": self.key_restrictions.is_enforced,
                "enforcementType": self.key_restrictions.enforcement_type,
                "aaGuids": self.key_restrictions.aa_guids,
            },
        })
    }

    /// `fido2AuthenticationMethodConfiguration` as reference/graph.md §11 shows it; the
    /// deprecated top-level fields still mirror the profile (they stop in 2027-10).
    pub fn configuration(&self) -> Value {
        json!({
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
            "id": "Fido2",
            "state": self.state,
            "isSelfServiceRegistrationAllowed": self.is_self_service_registration_allowed,
            "isAttestationEnforced": self.attestation_enforcement != "disabled",
            "keyRestrictions": {
                "isEnforced": self.key_restrictions.is_enforced,
                "enforcementType": self.key_restrictions.enforcement_type,
                "aaGuids": self.key_restrictions.aa_guids,
            },
            "defaultPasskeyProfile": DEFAULT_PROFILE_ID,
            "includeTargets": [{
                "targetType": "group",
                "id": "all_users",
                "isRegistrationRequired": false,
                "allowedPasskeyProfiles": [DEFAULT_PROFILE_ID],
            }],
            "excludeTargets": [],
            "passkeyProfiles": [self.profile()],
        })
    }

    /// `authenticationMethodsPolicy` with the registration campaign Microsoft manages
    /// (`default`) and the method configurations of a tenant moving off SMS and push.
    pub fn methods_policy(&self, last_modified: &str) -> Value {
        let mut fido2 = self.configuration();
        if let Some(map) = fido2.as_object_mut() {
            map.remove("passkeyProfiles");
        }
        json!({
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
            "lastModifiedDateTime": last_modified,
            "policyVersion": "1.5",
            "policyMigrationState": "migrationComplete",
            "registrationEnforcement": {
                "authenticationMethodsRegistrationCampaign": {
                    "snoozeDurationInDays": 1,
                    "enforceRegistrationAfterAllowedSnoozes": true,
                    "state": "default",
                    "excludeTargets": [],
                    "includeTargets": [{
                        "id": "all_users",
                        "targetType": "group",
                        "targetedAuthenticationMethod": "microsoftAuthenticator",
                    }],
                },
            },
            "authenticationMethodConfigurations": [
                fido2,
                {
                    "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
                    "id": "MicrosoftAuthenticator",
                    "state": "enabled",
                    "isSoftwareOathEnabled": false,
                    "excludeTargets": [],
                },
                {
                    "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                    "id": "Sms",
                    "state": "enabled",
                    "excludeTargets": [],
                },
                {
                    "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
                    "id": "TemporaryAccessPass",
                    "state": "enabled",
                    "defaultLifetimeInMinutes": 60,
                    "defaultLength": 8,
                    "minimumLifetimeInMinutes": 10,
                    "maximumLifetimeInMinutes": 43200,
                    "isUsableOnce": false,
                    "excludeTargets": [],
                },
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_admits_device_bound_allow_listed_passkeys_only() {
        let p = Fido2Policy::default();
        assert_eq!(p.admits(PasskeyModel::AuthenticatorIos), Ok(()));
        assert_eq!(p.admits(PasskeyModel::WindowsHello), Ok(()));
        assert_eq!(
            p.admits(PasskeyModel::ICloudKeychain),
            Err(PolicyRefusal::TypeNotAllowed)
        );
        let mut synced = p.clone();
        synced.allow_synced = true;
        assert_eq!(
            synced.admits(PasskeyModel::GooglePasswordManager),
            Err(PolicyRefusal::KeyRestricted)
        );
        synced.key_restrictions.is_enforced = false;
        assert_eq!(synced.admits(PasskeyModel::GooglePasswordManager), Ok(()));
        assert_eq!(
            p.configuration()["passkeyProfiles"][0]["passkeyTypes"],
            "deviceBound"
        );
    }
}
