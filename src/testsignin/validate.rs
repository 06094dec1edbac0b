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
    scope
        .rsplit_once('/')
        .map_or(scope, |(resource, _)| resource)
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

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};

    use super::*;

    const SIGNER: &[u8] = include_bytes!("../../tests/fixtures/keys/channel.pem");
    const ATTACKER: &[u8] = include_bytes!("../../tests/fixtures/keys/attacker.pem");
    const JWK: &str = include_str!("../../tests/fixtures/keys/channel.jwk.json");
    const TENANT: &str = "5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11";
    const CLIENT: &str = "6f1d2c3b-4a59-4e6f-8a7b-0c1d2e3f4a5b";
    const PERSON: &str = "00000000-0000-4000-8000-000000000001";
    const ISSUER: &str =
        "https://login.microsoftonline.com/5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11/v2.0";

    fn key() -> DecodingKey {
        let jwk: Value = serde_json::from_str(JWK).unwrap();
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap()
    }

    fn sign(claims: &Value, pem: &[u8]) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("test".into());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: CLIENT,
            tenant_id: TENANT,
            nonce: "nonce-1",
            person: PERSON,
        }
    }

    fn id_claims() -> Value {
        let now = jiff::Timestamp::now().as_second();
        json!({
            "aud": CLIENT, "iss": ISSUER, "iat": now, "nbf": now, "exp": now + 3600,
            "nonce": "nonce-1", "tid": TENANT, "oid": PERSON, "ver": "2.0",
        })
    }

    fn access_claims(acrs: Value) -> Value {
        let now = jiff::Timestamp::now().as_second();
        json!({
            "aud": "api://passkey-pilot", "iss": format!("https://sts.windows.net/{TENANT}/"),
            "iat": now, "nbf": now, "exp": now + 3600, "tid": TENANT, "oid": PERSON,
            "acrs": acrs, "ver": "1.0",
        })
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    #[test]
    fn a_valid_id_token_names_the_person() {
        let token = sign(&id_claims(), SIGNER);
        assert_eq!(
            check_id_token(&token, &key(), &expected()),
            Ok(PERSON.into())
        );
    }

    #[test]
    fn a_wrong_nonce_audience_issuer_or_tenant_is_refused_as_other() {
        let cases = [
            with(id_claims(), "nonce", json!("replayed")),
            with(id_claims(), "aud", json!("another-app")),
            with(
                id_claims(),
                "iss",
                json!("https://login.microsoftonline.com/other/v2.0"),
            ),
            with(
                id_claims(),
                "tid",
                json!("9b2d4e6f-8a1c-4b3d-9e5f-7a6b8c9d0e12"),
            ),
        ];
        for claims in cases {
            let token = sign(&claims, SIGNER);
            let e = check_id_token(&token, &key(), &expected()).unwrap_err();
            assert_eq!(e.reason(), FailureReason::Other, "{claims}: {e}");
        }
    }

    #[test]
    fn a_token_signed_by_another_key_or_expired_is_refused() {
        let forged = sign(&id_claims(), ATTACKER);
        assert!(matches!(
            check_id_token(&forged, &key(), &expected()),
            Err(Invalid::IdToken(_))
        ));
        let old = jiff::Timestamp::now().as_second() - 7200;
        let expired = sign(&with(id_claims(), "exp", json!(old)), SIGNER);
        assert!(matches!(
            check_id_token(&expired, &key(), &expected()),
            Err(Invalid::IdToken(_))
        ));
    }

    #[test]
    fn another_account_is_the_wrong_user() {
        let other = with(
            id_claims(),
            "oid",
            json!("00000000-0000-4000-8000-000000000002"),
        );
        let token = sign(&other, SIGNER);
        assert_eq!(
            check_id_token(&token, &key(), &expected())
                .unwrap_err()
                .reason(),
            FailureReason::WrongUser
        );
    }

    #[test]
    fn the_access_token_must_carry_the_auth_context() {
        let aud = "api://passkey-pilot";
        let ok = sign(&access_claims(json!(["c1", "c2"])), SIGNER);
        assert_eq!(
            check_access_token(&ok, &key(), aud, &expected(), "c2"),
            Ok(())
        );
        let missing = sign(&access_claims(json!(["c3"])), SIGNER);
        assert_eq!(
            check_access_token(&missing, &key(), aud, &expected(), "c1")
                .unwrap_err()
                .reason(),
            FailureReason::AuthContextMissing
        );
        let none = sign(&with(access_claims(json!([])), "acrs", Value::Null), SIGNER);
        assert!(check_access_token(&none, &key(), aud, &expected(), "c1").is_err());
        let other_api = sign(
            &with(access_claims(json!(["c1"])), "aud", json!("api://x")),
            SIGNER,
        );
        assert_eq!(
            check_access_token(&other_api, &key(), aud, &expected(), "c1")
                .unwrap_err()
                .reason(),
            FailureReason::Other
        );
    }

    #[test]
    fn entra_errors_map_to_reasons() {
        let blocked = "AADSTS53003: Access has been blocked by Conditional Access policies.";
        assert_eq!(
            reason_for_error("access_denied", blocked),
            FailureReason::StrengthNotMet
        );
        assert_eq!(
            reason_for_error("access_denied", "AADSTS65004: User declined to consent."),
            FailureReason::Cancelled
        );
        assert_eq!(
            reason_for_error("invalid_request", "AADSTS90100: bad"),
            FailureReason::Other
        );
    }

    #[test]
    fn the_scope_resource_is_the_audience() {
        assert_eq!(
            scope_resource("api://passkey-pilot/Test.Read"),
            "api://passkey-pilot"
        );
        assert_eq!(
            scope_resource("https://contoso.com/api/x"),
            "https://contoso.com/api"
        );
    }
}
