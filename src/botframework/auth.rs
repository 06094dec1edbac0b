//! Inbound authentication: the Bot Framework channel → bot token check, to the letter of the
//! spec and stricter where the SDKs are lax.
//!
//! Order: the `Authorization` header (exactly one, `Bearer <jwt>`) → header `alg` must be
//! RS256 and `kid` present → key by `kid` from the channel's JWKS (refetched on an unknown
//! `kid` at most once a minute, and at least daily) → signature, `exp`/`nbf` with 5 minutes'
//! skew, `iss`, `aud` (a string equal to the app id) → then, against the parsed activity:
//! `channelId` is `msteams`, the key is endorsed for it, and the `serviceurl` claim equals the
//! activity's `serviceUrl` byte for byte. The emulator and skill token paths are not accepted.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::Activity;
use crate::config::BotConfig;

/// The only channel this bot serves.
pub const TEAMS_CHANNEL: &str = "msteams";
/// Allowed clock skew, as in every Bot Framework SDK.
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// An unknown `kid` triggers a refetch at most this often.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Keys are refetched at least this often.
pub const KEY_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Why a request was refused. Each maps to one log reason and one metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejection {
    MissingHeader,
    MultipleHeaders,
    NotBearer,
    Malformed,
    UnsupportedAlgorithm,
    MissingKeyId,
    UnknownKey,
    KeysUnavailable,
    BadSignature,
    Expired,
    NotYetValid,
    MissingClaim,
    WrongIssuer,
    WrongAudience,
    MissingServiceUrlClaim,
    ServiceUrlMismatch,
    WrongChannel,
    KeyNotEndorsed,
    TenantNotAllowed,
    /// `bot.app_id` is not configured, so no token can be for this bot.
    NoAppId,
}

impl Rejection {
    /// Short snake-case reason for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::MissingHeader => "missing_authorization",
            Rejection::MultipleHeaders => "multiple_authorization_headers",
            Rejection::NotBearer => "not_bearer",
            Rejection::Malformed => "malformed_token",
            Rejection::UnsupportedAlgorithm => "unsupported_algorithm",
            Rejection::MissingKeyId => "missing_kid",
            Rejection::UnknownKey => "unknown_kid",
            Rejection::KeysUnavailable => "signing_keys_unavailable",
            Rejection::BadSignature => "bad_signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::MissingClaim => "missing_claim",
            Rejection::WrongIssuer => "wrong_issuer",
            Rejection::WrongAudience => "wrong_audience",
            Rejection::MissingServiceUrlClaim => "missing_serviceurl_claim",
            Rejection::ServiceUrlMismatch => "serviceurl_mismatch",
            Rejection::WrongChannel => "wrong_channel",
            Rejection::KeyNotEndorsed => "key_not_endorsed",
            Rejection::TenantNotAllowed => "tenant_not_allowed",
            Rejection::NoAppId => "bot_app_id_not_set",
        }
    }

    /// 403 for a tenant that is not ours, 401 for everything else.
    pub fn status(self) -> StatusCode {
        match self {
            Rejection::TenantNotAllowed => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A token whose signature and claims are valid; it still has to match its activity.
#[derive(Debug)]
pub struct VerifiedToken {
    service_url: String,
    endorsements: Arc<[String]>,
}

impl VerifiedToken {
    /// The activity must come from Teams, through a key endorsed for Teams, and name the
    /// same serviceUrl the token was issued for.
    pub fn check_activity(&self, activity: &Activity) -> Result<(), Rejection> {
        let channel = activity.channel_id.as_deref().unwrap_or_default();
        if channel != TEAMS_CHANNEL {
            return Err(Rejection::WrongChannel);
        }
        if !self.endorsements.iter().any(|e| e == channel) {
            return Err(Rejection::KeyNotEndorsed);
        }
        if activity.service_url.as_deref() != Some(self.service_url.as_str()) {
            return Err(Rejection::ServiceUrlMismatch);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ChannelClaims {
    /// Missing, or anything but a string (an array), fails deserialization.
    #[allow(dead_code)]
    aud: String,
    serviceurl: Option<String>,
}

/// One signing key from the channel's JWKS.
#[derive(Clone)]
struct SigningKey {
    key: DecodingKey,
    endorsements: Arc<[String]>,
}

#[derive(Deserialize)]
struct OpenIdMetadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    endorsements: Vec<String>,
}

/// Why the signing keys could not be fetched (logged; the request gets 401).
#[derive(Debug, thiserror::Error)]
pub enum KeyFetchError {
    #[error("fetching {what} from {url} failed: {source}")]
    Http {
        what: &'static str,
        url: String,
        source: reqwest::Error,
    },
    #[error("{what} from {url} answered HTTP {status}")]
    Status {
        what: &'static str,
        url: String,
        status: u16,
    },
    #[error("the JWKS at {url} has no usable RSA signing key")]
    NoKeys { url: String },
}

struct RefreshState {
    last_attempt: Option<Instant>,
    last_success: Option<Instant>,
}

/// The channel's signing keys by `kid`, cached with moka.
pub struct KeyStore {
    metadata_url: String,
    http: reqwest::Client,
    keys: moka::future::Cache<String, SigningKey>,
    refresh: Mutex<RefreshState>,
}

impl KeyStore {
    pub fn new(metadata_url: impl Into<String>, http: reqwest::Client) -> Self {
        KeyStore {
            metadata_url: metadata_url.into(),
            http,
            // A key is dropped a day after the fetch that brought it, so a key store that
            // cannot reach the metadata for a day refuses everything rather than trust
            // keys that may have been rotated out.
            keys: moka::future::Cache::builder()
                .max_capacity(256)
                .time_to_live(KEY_MAX_AGE)
                .build(),
            refresh: Mutex::new(RefreshState {
                last_attempt: None,
                last_success: None,
            }),
        }
    }

    /// Whether keys were fetched within the last day (for `/readyz`).
    pub async fn is_loaded(&self) -> bool {
        let state = self.refresh.lock().await;
        state
            .last_success
            .is_some_and(|t| t.elapsed() < KEY_MAX_AGE)
    }

    /// Fetches metadata and JWKS now, replacing the cached keys.
    pub async fn refresh(&self) -> Result<usize, KeyFetchError> {
        let mut state = self.refresh.lock().await;
        self.refresh_locked(&mut state).await
    }

    async fn refresh_locked(&self, state: &mut RefreshState) -> Result<usize, KeyFetchError> {
        state.last_attempt = Some(Instant::now());
        let metadata: OpenIdMetadata = self.get_json("OpenID metadata", &self.metadata_url).await?;
        let jwks: Jwks = self.get_json("JWKS", &metadata.jwks_uri).await?;
        let mut usable = Vec::new();
        for jwk in jwks.keys {
            if jwk.kty != "RSA" || jwk.use_.as_deref().is_some_and(|u| u != "sig") {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            let Ok(key) = DecodingKey::from_rsa_components(&n, &e) else {
                continue;
            };
            usable.push((
                kid,
                SigningKey {
                    key,
                    endorsements: jwk.endorsements.into(),
                },
            ));
        }
        if usable.is_empty() {
            return Err(KeyFetchError::NoKeys {
                url: metadata.jwks_uri,
            });
        }
        let count = usable.len();
        self.keys.invalidate_all();
        for (kid, key) in usable {
            self.keys.insert(kid, key).await;
        }
        state.last_success = Some(Instant::now());
        tracing::info!(keys = count, metadata = %self.metadata_url, "loaded signing keys");
        Ok(count)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        url: &str,
    ) -> Result<T, KeyFetchError> {
        let http_err = |source| KeyFetchError::Http {
            what,
            url: url.to_owned(),
            source,
        };
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(http_err)?;
        if !response.status().is_success() {
            return Err(KeyFetchError::Status {
                what,
                url: url.to_owned(),
                status: response.status().as_u16(),
            });
        }
        response.json().await.map_err(http_err)
    }

    /// The public key for `kid`, for other token issuers that reuse this store (the test
    /// sign-in validates Entra's tokens with one); same refetch rule as [`KeyStore::key`].
    pub async fn decoding_key(&self, kid: &str) -> Result<DecodingKey, Rejection> {
        self.key(kid).await.map(|k| k.key)
    }

    /// The key for `kid`; an unknown `kid` refetches the keys unless that happened less
    /// than a minute ago (so a flood of forged `kid`s costs one fetch a minute).
    async fn key(&self, kid: &str) -> Result<SigningKey, Rejection> {
        if let Some(key) = self.keys.get(kid).await {
            return Ok(key);
        }
        let mut state = self.refresh.lock().await;
        // Another request may have refreshed while this one waited.
        if let Some(key) = self.keys.get(kid).await {
            return Ok(key);
        }
        let recently = state
            .last_attempt
            .is_some_and(|t| t.elapsed() < UNKNOWN_KID_REFETCH_INTERVAL);
        if !recently && let Err(e) = self.refresh_locked(&mut state).await {
            tracing::warn!(error = %e, "could not refresh Bot Framework signing keys");
        }
        let loaded = state.last_success.is_some();
        drop(state);
        match self.keys.get(kid).await {
            Some(key) => Ok(key),
            None if loaded => Err(Rejection::UnknownKey),
            None => Err(Rejection::KeysUnavailable),
        }
    }
}

/// Validates channel tokens for one bot.
pub struct ChannelAuthenticator {
    keys: Arc<KeyStore>,
    validation: Validation,
    /// Without an app id no token can be for this bot: everything is refused.
    has_app_id: bool,
}

impl ChannelAuthenticator {
    pub fn new(bot: &BotConfig, keys: Arc<KeyStore>) -> Self {
        // Every option set explicitly: jsonwebtoken's defaults differ from the spec.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.leeway = CLOCK_SKEW.as_secs();
        validation.reject_tokens_expiring_in_less_than = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_audience(&[bot.app_id.as_str()]);
        validation.set_issuer(&[bot.token_issuer.as_str()]);
        validation.sub = None;
        validation.required_spec_claims = ["exp", "iss", "aud"]
            .into_iter()
            .map(String::from)
            .collect::<HashSet<_>>();
        ChannelAuthenticator {
            keys,
            validation,
            has_app_id: !bot.app_id.is_empty(),
        }
    }

    pub fn keys(&self) -> &Arc<KeyStore> {
        &self.keys
    }

    /// Checks the `Authorization` header's token: signature, lifetime, issuer, audience.
    pub async fn verify(&self, headers: &HeaderMap) -> Result<VerifiedToken, Rejection> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let value = values.next().ok_or(Rejection::MissingHeader)?;
        if values.next().is_some() {
            return Err(Rejection::MultipleHeaders);
        }
        let value = value.to_str().map_err(|_| Rejection::NotBearer)?;
        let mut parts = value.split(' ');
        let (Some("Bearer"), Some(token), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Rejection::NotBearer);
        };
        if token.is_empty() {
            return Err(Rejection::NotBearer);
        }
        if !self.has_app_id {
            return Err(Rejection::NoAppId);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejection::UnsupportedAlgorithm);
        }
        let kid = header.kid.as_deref().ok_or(Rejection::MissingKeyId)?;
        let key = self.keys.key(kid).await?;
        let data = jsonwebtoken::decode::<ChannelClaims>(token, &key.key, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => Rejection::BadSignature,
                ErrorKind::ExpiredSignature => Rejection::Expired,
                ErrorKind::ImmatureSignature => Rejection::NotYetValid,
                ErrorKind::InvalidIssuer => Rejection::WrongIssuer,
                ErrorKind::InvalidAudience => Rejection::WrongAudience,
                ErrorKind::MissingRequiredClaim(_) => Rejection::MissingClaim,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    Rejection::UnsupportedAlgorithm
                }
                // `aud` as an array, a claim of the wrong type, bad base64 or JSON.
                _ => Rejection::Malformed,
            })?;
        let service_url = data
            .claims
            .serviceurl
            .filter(|s| !s.is_empty())
            .ok_or(Rejection::MissingServiceUrlClaim)?;
        Ok(VerifiedToken {
            service_url,
            endorsements: key.endorsements,
        })
    }
}
