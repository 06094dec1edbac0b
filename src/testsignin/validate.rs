//! Checks of Entra's answer to the test sign-in: the id token (signature, iss, aud, nonce,
//! tid, exp), the person it names, and the access token's `acrs` when an authentication
//! context is configured; and what an error sent back to the redirect URI means.
//!
//! `amr` is not looked at: v2.0 tokens do not carry it, and its values are undocumented.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::FailureReason;

/// Leeway for `exp`/`nbf`, for clock skew between Entra and us.
const LEEWAY_SECS: u64 = 300;

/// What the tokens must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The metadata's `issuer` (`https://login.microsoftonline.com/{tid}/v2.0`).
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub tenant_id: &'a str,
    pub nonce: &'a str,
    /// The person the attempt belongs to (lower-case object id).
    pub person: &'a str,
}

/// Why the tokens were not accepted; `reason` says what the person is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the id token is not valid: {0}")]
    IdToken(String),
    #[error("the id token's nonce is not the one sent")]
    Nonce,
    #[error("the id token is for tenant {0}")]
    Tenant(String),
    #[error("another account signed in")]
    WrongUser,
    #[error("the access token is not valid: {0}")]
    AccessToken(String),
    #[error("the access token does not carry authentication context {0}")]
    AuthContextMissing(String),
}

impl Invalid {
    pub fn reason(&self) -> FailureReason {
        match self {
            Invalid::WrongUser => FailureReason::WrongUser,
            Invalid::AuthContextMissing(_) => FailureReason::AuthContextMissing,
            _ => FailureReason::Other,
        }
    }
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    tid: Option<String>,
    #[serde(default)]
    oid: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AccessClaims {
    #[serde(default)]
    tid: Option<String>,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    acrs: Vec<String>,
}

/// Validates the id token with `key` and returns the signed-in person's object id.
pub fn check_id_token(
    token: &str,
    key: &DecodingKey,
    expected: &Expected<'_>,
) -> Result<String, Invalid> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_audience(&[expected.client_id]);
    validation.set_issuer(&[expected.issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = jsonwebtoken::decode::<IdClaims>(token, key, &validation)
        .map_err(|e| Invalid::IdToken(e.kind_description()))?
        .claims;
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(Invalid::Nonce);
    }
    let tid = claims.tid.unwrap_or_default();
    if !tid.eq_ignore_ascii_case(expected.tenant_id) {
        return Err(Invalid::Tenant(tid));
    }
    let oid = claims
        .oid
        .ok_or_else(|| Invalid::IdToken("no oid claim".into()))?;
    if !oid.eq_ignore_ascii_case(expected.person) {
        return Err(Invalid::WrongUser);
    }
    Ok(oid.to_ascii_lowercase())
}

/// Validates the access token for our API with `key` (Entra issues v1.0 or v2.0 tokens
/// depending on the API's manifest, so both issuers are accepted) and checks that its
/// `acrs` contains `auth_context`.
pub fn check_access_token(
    token: &str,
    key: &DecodingKey,
    audience: &str,
    expected: &Expected<'_>,
    auth_context: &str,
) -> Result<(), Invalid> {
    let v1 = format!("https://sts.windows.net/{}/", expected.tenant_id);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_audience(&[audience]);
    validation.set_issuer(&[v1.as_str(), expected.issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .map_err(|e| Invalid::AccessToken(e.kind_description()))?
        .claims;
    if !claims
        .tid
        .is_some_and(|t| t.eq_ignore_ascii_case(expected.tenant_id))
    {
        return Err(Invalid::AccessToken("wrong tenant".into()));
    }
    if !claims
        .oid
        .is_some_and(|o| o.eq_ignore_ascii_case(expected.person))
    {
        return Err(Invalid::WrongUser);
    }
    if !claims.acrs.iter().any(|c| c == auth_context) {
        return Err(Invalid::AuthContextMissing(auth_context.to_owned()));
    }
    Ok(())
}

/// The resource (audience) part of an API scope: `api://bot/Test.Read` → `api://bot`.
pub fn scope_resource(scope: &str) -> &str {
    scope.rsplit_once('/').map_or(scope, |(resource, _)| resource)
}

/// What an `error` / `error_description` pair on the redirect URI means for the person.
///
/// A Conditional Access block (the strength was not met) comes back as `access_denied` with
/// AADSTS53003; a person who declines (AADSTS65004) cancelled.
pub fn reason_for_error(error: &str, description: &str) -> FailureReason {
    let has = |code: &str| description.contains(&format!("AADSTS{code}"));
    match error {
        "access_denied" if has("65004") => FailureReason::Cancelled,
        "access_denied" | "interaction_required" if has("53003") => FailureReason::StrengthNotMet,
        "access_denied" => FailureReason::StrengthNotMet,
        "consent_required" => FailureReason::Cancelled,
        _ => FailureReason::Other,
    }
}

/// A short, loggable kind of a jsonwebtoken error (never the token).
trait KindDescription {
    fn kind_description(&self) -> String;
}

impl KindDescription for jsonwebtoken::errors::Error {
    fn kind_description(&self) -> String {
        format!("{:?}", self.kind())
    }
}
