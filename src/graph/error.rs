//! What can go wrong talking to Graph, as the product needs to tell it apart. Errors carry
//! Graph's error code and, for 403s, the permission the app lacks; never a token or secret.

use std::time::Duration;

use crate::botframework::token::TokenError;

/// A failed Graph call, after the client's retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// 404: the user, group, method or device does not exist.
    #[error("not found in Microsoft Graph: {what}{}", code_suffix(.code))]
    NotFound { what: String, code: Option<String> },
    /// 403: the app lacks a permission (named when Graph or the endpoint table names it).
    #[error(
        "Microsoft Graph refused {what} (HTTP 403{}){}",
        code_suffix(.code),
        permission_suffix(.permission)
    )]
    Forbidden {
        what: String,
        code: Option<String>,
        permission: Option<String>,
    },
    /// Still 429 after every attempt; the caller may try again after `retry_after`.
    #[error("throttled by Microsoft Graph after every retry{}", retry_suffix(.retry_after))]
    Throttled { retry_after: Option<Duration> },
    /// 5xx, timeouts or network errors after every attempt.
    #[error("Microsoft Graph is unavailable: {reason}")]
    Transient { status: Option<u16>, reason: String },
    /// Any other 4xx (a bad query, a conflict).
    #[error("Microsoft Graph rejected {what}: HTTP {status}{}{}", code_suffix(.code), message_suffix(.message))]
    Rejected {
        what: String,
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    /// A success status with a body that is not what the API documents.
    #[error("Microsoft Graph answered {what} with something unexpected: {reason}")]
    InvalidResponse { what: String, reason: String },
    /// No token, or Graph refused the token (401).
    #[error("no usable Graph token: {reason}")]
    Auth { reason: String },
    /// The client cannot work with this configuration or these arguments.
    #[error("Graph client misconfigured: {reason}")]
    Config { reason: String },
}

impl GraphError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GraphError::Throttled { .. } | GraphError::Transient { .. }
        )
    }

    /// The permission to grant, for a 403.
    pub fn missing_permission(&self) -> Option<&str> {
        match self {
            GraphError::Forbidden { permission, .. } => permission.as_deref(),
            _ => None,
        }
    }
}

impl From<TokenError> for GraphError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Misconfigured { reason } => GraphError::Config { reason },
            e => GraphError::Auth {
                reason: e.to_string(),
            },
        }
    }
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(", {c}"))
        .unwrap_or_default()
}

fn permission_suffix(permission: &Option<String>) -> String {
    permission
        .as_deref()
        .map(|p| format!(": grant the app the Microsoft Graph application permission {p}"))
        .unwrap_or_default()
}

fn retry_suffix(wait: &Option<Duration>) -> String {
    wait.map(|w| format!("; retry after {} s", w.as_secs().max(1)))
        .unwrap_or_default()
}

fn message_suffix(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

/// A permission Graph names in a 403's code or message, e.g. "Calling principal does not have
/// required MSGraph permissions AuditLog.Read.All".
pub fn permission_in(code: Option<&str>, message: Option<&str>) -> Option<String> {
    if let Some(message) = message {
        let found = message
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '\'' | '"' | '(' | ')'))
            .map(|w| w.trim_end_matches(['.', ':']))
            .find(|w| looks_like_permission(w));
        if let Some(p) = found {
            return Some(p.to_owned());
        }
    }
    // An older code that names the permission only by its description.
    match code {
        Some(c)
            if c.eq_ignore_ascii_case("Authentication_ApplicationHasNoReadAuditLogDataAccess") =>
        {
            Some("AuditLog.Read.All".to_owned())
        }
        _ => None,
    }
}

/// `Resource.Read[.Scope]`: `AuditLog.Read.All`, `UserAuthMethod-Passkey.Read.All`,
/// `Policy.Read.AuthenticationMethod`, `TeamsAppInstallation.ReadWriteSelfForUser.All`.
fn looks_like_permission(word: &str) -> bool {
    let mut parts = word.split('.');
    let (Some(resource), Some(access)) = (parts.next(), parts.next()) else {
        return false;
    };
    word.len() <= 80
        && resource.starts_with(|c: char| c.is_ascii_uppercase())
        && resource
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && (access.starts_with("Read") || access.starts_with("Write") || access == "AccessAsUser")
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_real_403_messages_name_the_permission() {
        // microsoftgraph/microsoft-graph-explorer-v4#3165 and #2731.
        assert_eq!(
            permission_in(
                Some("Authentication_MSGraphPermissionMissing"),
                Some(
                    "Calling principal does not have required MSGraph permissions AuditLog.Read.All"
                )
            )
            .as_deref(),
            Some("AuditLog.Read.All")
        );
        assert_eq!(
            permission_in(
                Some("Authentication_ApplicationHasNoReadAuditLogDataAccess"),
                Some("Application missing MSGraph API 'Read all audit log data' permission")
            )
            .as_deref(),
            Some("AuditLog.Read.All")
        );
        assert_eq!(
            permission_in(
                Some("Forbidden"),
                Some("Missing role permissions on the request. API requires one of 'UserAuthMethod-Passkey.Read.All, UserAuthenticationMethod.Read.All'.")
            )
            .as_deref(),
            Some("UserAuthMethod-Passkey.Read.All")
        );
        assert_eq!(
            permission_in(
                Some("Authorization_RequestDenied"),
                Some("Insufficient privileges to complete the operation.")
            ),
            None
        );
    }

    #[test]
    fn a_forbidden_error_tells_what_to_grant() {
        let e = GraphError::Forbidden {
            what: "GET /auditLogs/signIns".into(),
            code: Some("Authentication_MSGraphPermissionMissing".into()),
            permission: Some("AuditLog.Read.All".into()),
        };
        let text = e.to_string();
        assert!(
            text.contains("application permission AuditLog.Read.All"),
            "{text}"
        );
        assert_eq!(e.missing_permission(), Some("AuditLog.Read.All"));
        assert!(!e.is_transient());
    }
}
