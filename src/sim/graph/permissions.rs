//! Which application permission each route needs (reference/graph.md §1) and the 403 Graph
//! answers without it. A permission is held when the token's `roles` carry it or one that
//! includes it (ReadWrite covers Read, Directory.Read.All covers User.Read.All, …).

use axum::http::Method;

/// How the service behind a route words a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// Directory objects (users, groups, devices) and policies:
    /// `Authorization_RequestDenied` "Insufficient privileges to complete the operation."
    Directory,
    /// Reports and audit logs: `Authentication_MSGraphPermissionMissing`, naming the
    /// permission (message as quoted in public clients, community source).
    Reporting,
    /// Authentication methods: `accessDenied` "Request Authorization failed"
    /// (microsoftgraph/msgraph-sdk-go#441, community source).
    AuthenticationMethods,
    /// Teams app installations: `Forbidden` "Caller is not authorized."
    /// (MicrosoftDocs/msteams-docs#10282, community source).
    Teams,
}

impl Denial {
    /// Graph's error code and message for a missing `permission`.
    pub fn body(self, permission: &str) -> (&'static str, String) {
        match self {
            Denial::Directory => (
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.".to_owned(),
            ),
            Denial::Reporting => (
                "Authentication_MSGraphPermissionMissing",
                format!(
                    "Calling principal does not have required MSGraph permissions {permission}"
                ),
            ),
            Denial::AuthenticationMethods => {
                ("accessDenied", "Request Authorization failed".to_owned())
            }
            Denial::Teams => ("Forbidden", "Caller is not authorized.".to_owned()),
        }
    }
}

/// What a route needs: every permission of `all_of` (each possibly through a higher one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub all_of: &'static [&'static str],
    pub denial: Denial,
}

const fn need(all_of: &'static [&'static str], denial: Denial) -> Option<Requirement> {
    Some(Requirement { all_of, denial })
}

/// The permission a request to `path` (below `/v1.0` or `/beta`) needs; `None` for routes
/// that need none of their own (`$batch` checks each inner request) or do not exist.
pub fn required(method: &Method, path: &str) -> Option<Requirement> {
    use Denial::*;
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let write = *method != Method::GET;
    match segments.as_slice() {
        ["users"] | ["users", _] => need(&["User.Read.All"], Directory),
        ["users", _, "authentication", "fido2Methods", ..] if write => need(
            &["UserAuthMethod-Passkey.ReadWrite.All"],
            AuthenticationMethods,
        ),
        ["users", _, "authentication", "fido2Methods", ..] => {
            need(&["UserAuthMethod-Passkey.Read.All"], AuthenticationMethods)
        }
        ["users", _, "authentication", ..] if write => need(
            &["UserAuthenticationMethod.ReadWrite.All"],
            AuthenticationMethods,
        ),
        ["users", _, "authentication", ..] => need(
            &["UserAuthenticationMethod.Read.All"],
            AuthenticationMethods,
        ),
        ["users", _, "registeredDevices" | "ownedDevices"] => {
            need(&["User.Read.All", "Device.Read.All"], Directory)
        }
        [
            "users",
            _,
            "transitiveMemberOf" | "memberOf" | "checkMemberGroups",
            ..,
        ] => need(&["GroupMember.Read.All"], Directory),
        ["users", _, "teamwork", ..] if write => {
            need(&["TeamsAppInstallation.ReadWriteSelfForUser.All"], Teams)
        }
        ["users", _, "teamwork", ..] => need(&["TeamsAppInstallation.ReadSelfForUser.All"], Teams),
        ["reports", ..] | ["auditLogs", ..] => need(&["AuditLog.Read.All"], Reporting),
        ["devices", ..] => need(&["Device.Read.All"], Directory),
        ["groups", ..] if write => need(&["GroupMember.ReadWrite.All"], Directory),
        ["groups", ..] => need(&["GroupMember.Read.All"], Directory),
        ["policies", "authenticationMethodsPolicy", ..] if write => {
            need(&["Policy.ReadWrite.AuthenticationMethod"], Directory)
        }
        ["policies", "authenticationMethodsPolicy", ..] => {
            need(&["Policy.Read.AuthenticationMethod"], Directory)
        }
        _ => None,
    }
}

/// Permissions that include `permission` besides itself (the docs' "higher privileged").
fn implied_by(permission: &str) -> &'static [&'static str] {
    match permission {
        "User.Read.All" => &[
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        "Device.Read.All" => &[
            "Device.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        "GroupMember.Read.All" => &[
            "GroupMember.ReadWrite.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        "GroupMember.ReadWrite.All" => &["Group.ReadWrite.All", "Directory.ReadWrite.All"],
        "UserAuthenticationMethod.Read.All" => &["UserAuthenticationMethod.ReadWrite.All"],
        "UserAuthMethod-Passkey.Read.All" => &[
            "UserAuthMethod-Passkey.ReadWrite.All",
            "UserAuthenticationMethod.Read.All",
            "UserAuthenticationMethod.ReadWrite.All",
        ],
        "UserAuthMethod-Passkey.ReadWrite.All" => &["UserAuthenticationMethod.ReadWrite.All"],
        "Policy.Read.AuthenticationMethod" => {
            &["Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All"]
        }
        "TeamsAppInstallation.ReadSelfForUser.All" => &[
            "TeamsAppInstallation.ReadForUser.All",
            "TeamsAppInstallation.ReadWriteSelfForUser.All",
            "TeamsAppInstallation.ReadWriteForUser.All",
            "TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All",
            "TeamsAppInstallation.ReadWriteAndConsentForUser.All",
            "TeamsAppInstallation.ReadWriteSelectedForUser.All",
            "TeamsAppInstallation.ManageSelectedForUser.All",
        ],
        "TeamsAppInstallation.ReadWriteSelfForUser.All" => &[
            "TeamsAppInstallation.ReadWriteForUser.All",
            "TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All",
            "TeamsAppInstallation.ReadWriteAndConsentForUser.All",
            "TeamsAppInstallation.ReadWriteSelectedForUser.All",
            "TeamsAppInstallation.ManageSelectedForUser.All",
        ],
        _ => &[],
    }
}

/// The first permission of `requirement` that `roles` do not grant.
pub fn missing(requirement: &Requirement, roles: &[String]) -> Option<&'static str> {
    requirement.all_of.iter().copied().find(|needed| {
        !roles
            .iter()
            .any(|r| r == needed || implied_by(needed).contains(&r.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn higher_permissions_include_lower_ones() {
        let users = required(&Method::GET, "/users").unwrap();
        assert_eq!(missing(&users, &roles(&["Directory.Read.All"])), None);
        assert_eq!(
            missing(&users, &roles(&["AuditLog.Read.All"])),
            Some("User.Read.All")
        );
        let passkeys = required(&Method::GET, "/users/x/authentication/fido2Methods").unwrap();
        assert_eq!(
            missing(
                &passkeys,
                &roles(&["UserAuthenticationMethod.ReadWrite.All"])
            ),
            None
        );
        let add = required(&Method::POST, "/groups/g/members/$ref").unwrap();
        assert_eq!(
            missing(&add, &roles(&["GroupMember.Read.All"])),
            Some("GroupMember.ReadWrite.All")
        );
        assert_eq!(required(&Method::POST, "/$batch"), None);
    }
}
