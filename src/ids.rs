//! Identifiers that arrive from the outside world, parsed once at the edge.
//!
//! Each newtype can only be built by its parser, so code that holds one knows it is
//! well formed (parse, don't validate).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is not a GUID")]
    NotAGuid { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains control characters")]
    ControlCharacters { kind: &'static str },
}

fn parse_guid(kind: &'static str, raw: &str) -> Result<String, IdError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let parsed = uuid::Uuid::try_parse(raw).map_err(|_| IdError::NotAGuid { kind })?;
    // Only the hyphenated 36-character form is used by Entra and Teams.
    if raw.len() != 36 {
        return Err(IdError::NotAGuid { kind });
    }
    Ok(parsed.hyphenated().to_string())
}

fn parse_opaque(kind: &'static str, raw: &str, max: usize) -> Result<String, IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if raw.len() > max {
        return Err(IdError::TooLong { kind, max });
    }
    if raw.chars().any(char::is_control) {
        return Err(IdError::ControlCharacters { kind });
    }
    Ok(raw.to_owned())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// An Entra (Azure AD) tenant id: a GUID, stored lower-case and hyphenated.
    TenantId
);
string_id!(
    /// A person's Entra object id (`from.aadObjectId`): the key that links a chat to Graph.
    AadObjectId
);
string_id!(
    /// A Bot Framework conversation id (`a:…`, `19:…@unq.gbl.spaces`, `19:…@thread.tacv2`).
    ConversationId
);
string_id!(
    /// An inbound activity id, as Teams assigned it.
    ActivityId
);

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        parse_guid("tenant id", raw).map(Self)
    }
}

impl AadObjectId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        parse_guid("Entra object id", raw).map(Self)
    }
}

impl ConversationId {
    /// Teams conversation ids are long but bounded; 1 KiB leaves room for thread suffixes.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        parse_opaque("conversation id", raw, 1024).map(Self)
    }
}

impl ActivityId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        parse_opaque("activity id", raw, 256).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_normalised_to_lower_case() {
        let t = TenantId::parse("5F1C0B7E-3C1A-4F8E-9D7A-2B6C8E4F0A11").unwrap();
        assert_eq!(t.as_str(), "5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11");
    }

    #[test]
    fn non_guid_tenant_is_refused() {
        assert_eq!(
            TenantId::parse("contoso.onmicrosoft.com"),
            Err(IdError::NotAGuid { kind: "tenant id" })
        );
        assert!(AadObjectId::parse("").is_err());
        assert!(AadObjectId::parse("5f1c0b7e3c1a4f8e9d7a2b6c8e4f0a11").is_err());
    }

    #[test]
    fn opaque_ids_refuse_control_characters_and_overlong_values() {
        assert!(ConversationId::parse("a:1\n2").is_err());
        assert!(ActivityId::parse(&"x".repeat(257)).is_err());
        assert!(ActivityId::parse("1485983408511").is_ok());
    }
}
