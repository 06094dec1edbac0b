//! The tenant's inputs besides the person's own data: the passkey (FIDO2) method policy and
//! the target population of the rollout.

use serde::{Deserialize, Serialize};

use super::rules::{ProviderKind, Rules};
use super::snapshot::{AccountKind, PasskeyType, PersonSnapshot, UserType};

/// The FIDO2 authentication method configuration (reference/graph.md §11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyPolicy {
    /// `state == enabled`.
    pub enabled: bool,
    /// `isSelfServiceRegistrationAllowed`.
    pub self_service_registration: bool,
    pub include_targets: Vec<PolicyTarget>,
    /// Group ids excluded from the method: no registration, no sign-in.
    pub exclude_group_ids: Vec<String>,
    pub profiles: Vec<PasskeyProfile>,
    /// `defaultPasskeyProfile`: applies to include targets that name no profile.
    pub default_profile_id: Option<String>,
}

/// An include target of the method policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTarget {
    /// `None` is `all_users`.
    pub group_id: Option<String>,
    /// `allowedPasskeyProfiles`; empty means the default profile.
    pub allowed_profile_ids: Vec<String>,
}

/// A passkey profile: which passkeys its people may register and use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyProfile {
    pub id: String,
    pub device_bound: bool,
    pub synced: bool,
    /// `attestationEnforcement == registrationOnly`: only attested passkeys can be registered
    /// (synced passkeys never are); existing passkeys keep working.
    pub attestation_enforced: bool,
    pub key_restrictions: Option<KeyRestrictions>,
}

/// AAGUID allow or block list of a profile (only when `isEnforced`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRestrictions {
    pub enforcement: Enforcement,
    /// Lower-case AAGUIDs.
    pub aaguids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Enforcement {
    Allow,
    Block,
}

impl PasskeyPolicy {
    /// A policy that lets everyone use any passkey (tests, and tenants that never narrowed it).
    pub fn allow_all() -> PasskeyPolicy {
        PasskeyPolicy {
            enabled: true,
            self_service_registration: true,
            include_targets: vec![PolicyTarget {
                group_id: None,
                allowed_profile_ids: vec![],
            }],
            exclude_group_ids: vec![],
            profiles: vec![PasskeyProfile {
                id: "default".into(),
                device_bound: true,
                synced: true,
                attestation_enforced: false,
                key_restrictions: None,
            }],
            default_profile_id: Some("default".into()),
        }
    }

    /// The profiles that apply to one person, or why none does.
    pub(crate) fn for_person(
        &self,
        person: &PersonSnapshot,
    ) -> Result<Vec<&PasskeyProfile>, PolicyBlock> {
        if !self.enabled {
            return Err(PolicyBlock::MethodDisabled);
        }
        if self.exclude_group_ids.iter().any(|g| person.in_group(g)) {
            return Err(PolicyBlock::PersonExcluded);
        }
        let mut ids: Vec<&str> = Vec::new();
        let mut targeted = false;
        for t in &self.include_targets {
            let applies = match &t.group_id {
                None => true,
                Some(g) => person.in_group(g),
            };
            if !applies {
                continue;
            }
            targeted = true;
            if t.allowed_profile_ids.is_empty() {
                ids.extend(self.default_profile_id.as_deref());
            } else {
                ids.extend(t.allowed_profile_ids.iter().map(String::as_str));
            }
        }
        if !targeted {
            return Err(PolicyBlock::PersonNotTargeted);
        }
        let profiles: Vec<&PasskeyProfile> = self
            .profiles
            .iter()
            .filter(|p| ids.contains(&p.id.as_str()))
            .collect();
        if profiles.is_empty() {
            // No profiles configured: the legacy policy allows every passkey.
            if self.profiles.is_empty() {
                return Ok(vec![&ALLOW_ALL_PROFILE]);
            }
            return Err(PolicyBlock::NoProfile);
        }
        Ok(profiles)
    }
}

static ALLOW_ALL_PROFILE: PasskeyProfile = PasskeyProfile {
    id: String::new(),
    device_bound: true,
    synced: true,
    attestation_enforced: false,
    key_restrictions: None,
};

/// Why no passkey at all is allowed for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyBlock {
    /// The FIDO2 method is disabled in the tenant.
    MethodDisabled,
    /// The person is in an exclude group of the FIDO2 method.
    PersonExcluded,
    /// No include target of the FIDO2 method covers the person.
    PersonNotTargeted,
    /// Targeted, but the named profiles do not exist.
    NoProfile,
}

/// Why a passkey is not allowed by the person's profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PasskeyBlock {
    Policy(PolicyBlock),
    /// Its type (device-bound or synced) is allowed by no profile.
    TypeNotAllowed,
    /// Its AAGUID is on no allow list, or on every block list.
    AaguidNotAllowed,
    /// New registrations need attestation, which synced passkeys never have.
    AttestationRequired,
}

/// The person's effective passkey rules.
#[derive(Debug, Clone)]
pub(crate) struct EffectivePolicy<'a> {
    pub profiles: Result<Vec<&'a PasskeyProfile>, PolicyBlock>,
    pub rules: &'a Rules,
}

impl EffectivePolicy<'_> {
    /// Whether an existing passkey of this type and AAGUID may sign in. Without an AAGUID,
    /// the provider kind stands in: an allow list admits it if it names any AAGUID of that
    /// kind, a block list if not every AAGUID of that kind is blocked.
    pub fn allows(
        &self,
        passkey_type: PasskeyType,
        aaguid: Option<&str>,
        kind: Option<ProviderKind>,
    ) -> Result<(), PasskeyBlock> {
        let profiles = self
            .profiles
            .as_ref()
            .map_err(|b| PasskeyBlock::Policy(*b))?;
        let mut reason = PasskeyBlock::TypeNotAllowed;
        for p in profiles {
            let type_ok = match passkey_type {
                PasskeyType::DeviceBound => p.device_bound,
                PasskeyType::Synced => p.synced,
            };
            if !type_ok {
                continue;
            }
            if self.aaguid_ok(p, aaguid, kind) {
                return Ok(());
            }
            reason = PasskeyBlock::AaguidNotAllowed;
        }
        Err(reason)
    }

    /// Whether some profile of the person allows passkeys of this type at all.
    pub fn allows_type(&self, passkey_type: PasskeyType) -> bool {
        self.profiles.as_ref().is_ok_and(|ps| {
            ps.iter().any(|p| match passkey_type {
                PasskeyType::DeviceBound => p.device_bound,
                PasskeyType::Synced => p.synced,
            })
        })
    }

    /// Whether a new passkey of this kind could be registered now.
    pub fn can_register(&self, kind: ProviderKind) -> Result<(), PasskeyBlock> {
        let passkey_type = kind.passkey_type();
        let profiles = self
            .profiles
            .as_ref()
            .map_err(|b| PasskeyBlock::Policy(*b))?;
        let mut reason = PasskeyBlock::TypeNotAllowed;
        for p in profiles {
            let type_ok = match passkey_type {
                PasskeyType::DeviceBound => p.device_bound,
                PasskeyType::Synced => p.synced,
            };
            if !type_ok {
                continue;
            }
            if p.attestation_enforced && !kind.attested() {
                reason = PasskeyBlock::AttestationRequired;
                continue;
            }
            if self.aaguid_ok(p, None, Some(kind)) {
                return Ok(());
            }
            reason = PasskeyBlock::AaguidNotAllowed;
        }
        Err(reason)
    }

    /// Whether a profile of the person allows both device-bound and synced passkeys (then
    /// Authenticator needs a recent app version).
    pub fn mixed_profile(&self) -> bool {
        self.profiles
            .as_ref()
            .is_ok_and(|ps| ps.iter().any(|p| p.device_bound && p.synced))
    }

    /// Whether a profile names an AAGUID of this kind on an allow list without enforcing
    /// attestation (what Entra passkeys on Windows need, reference/graph.md §11).
    pub fn explicitly_allows(&self, kind: ProviderKind) -> bool {
        let Ok(profiles) = &self.profiles else {
            return false;
        };
        profiles.iter().any(|p| {
            !p.attestation_enforced
                && p.key_restrictions.as_ref().is_some_and(|r| {
                    r.enforcement == Enforcement::Allow
                        && self.rules.providers.iter().any(|prov| {
                            prov.kind == kind
                                && r.aaguids
                                    .iter()
                                    .any(|a| a.eq_ignore_ascii_case(&prov.aaguid))
                        })
                })
        })
    }

    fn aaguid_ok(
        &self,
        p: &PasskeyProfile,
        aaguid: Option<&str>,
        kind: Option<ProviderKind>,
    ) -> bool {
        let Some(r) = &p.key_restrictions else {
            return true;
        };
        let listed = |a: &str| r.aaguids.iter().any(|x| x.eq_ignore_ascii_case(a));
        match (aaguid, r.enforcement) {
            (Some(a), Enforcement::Allow) => listed(a),
            (Some(a), Enforcement::Block) => !listed(a),
            (None, enforcement) => {
                let Some(kind) = kind else {
                    return enforcement == Enforcement::Block;
                };
                let of_kind: Vec<&str> = self
                    .rules
                    .providers
                    .iter()
                    .filter(|prov| prov.kind == kind)
                    .map(|prov| prov.aaguid.as_str())
                    .collect();
                match enforcement {
                    Enforcement::Allow => of_kind.iter().any(|a| listed(a)),
                    Enforcement::Block => of_kind.is_empty() || !of_kind.iter().all(|a| listed(a)),
                }
            }
        }
    }
}

/// Who the rollout targets: `readiness.target_group_id` (all members when unset) minus
/// `readiness.excluded_group_ids`. Guests, service accounts and break-glass accounts never are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetPopulation {
    pub target_group_id: Option<String>,
    pub excluded_group_ids: Vec<String>,
}

/// Why someone is not a migration target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "camelCase")]
pub enum NotTargetReason {
    /// A B2B guest (or an external member, `#EXT#` in the UPN): passkey registration is not
    /// supported for them.
    Guest,
    ServiceAccount,
    BreakGlass,
    AccountDisabled,
    #[serde(rename_all = "camelCase")]
    NotInTargetGroup {
        group_id: String,
    },
    #[serde(rename_all = "camelCase")]
    InExcludedGroup {
        group_id: String,
    },
}

impl TargetPopulation {
    /// `None` when the person is a target.
    pub fn why_not(&self, person: &PersonSnapshot) -> Option<NotTargetReason> {
        if person.user_type == UserType::Guest
            || person
                .user_principal_name
                .to_ascii_uppercase()
                .contains("#EXT#")
        {
            return Some(NotTargetReason::Guest);
        }
        match person.account_kind {
            AccountKind::ServiceAccount => return Some(NotTargetReason::ServiceAccount),
            AccountKind::BreakGlass => return Some(NotTargetReason::BreakGlass),
            AccountKind::Person => {}
        }
        if !person.account_enabled {
            return Some(NotTargetReason::AccountDisabled);
        }
        if let Some(g) = self.excluded_group_ids.iter().find(|g| person.in_group(g)) {
            return Some(NotTargetReason::InExcludedGroup {
                group_id: g.to_ascii_lowercase(),
            });
        }
        if let Some(g) = &self.target_group_id
            && !person.in_group(g)
        {
            return Some(NotTargetReason::NotInTargetGroup {
                group_id: g.to_ascii_lowercase(),
            });
        }
        None
    }
}
