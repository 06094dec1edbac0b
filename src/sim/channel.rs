//! The Teams channel: builds Teams-shaped activities for a simulated person, signs them as the
//! Bot Framework does and posts them to the bot's `/api/messages`.
//!
//! Before posting, the channel tells the connector about the conversation (who is in it,
//! whether the app is installed) and records the person's message in its transcript, as the
//! Teams client shows it whatever the bot answers.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::connector::{Connector, Sender};
use super::identity::{CHANNEL_ISSUER, Identity, SigningKey};

/// A person as Teams presents them to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsUser {
    /// Entra object id (GUID).
    pub object_id: uuid::Uuid,
    pub name: String,
    /// BCP 47, e.g. `en-US`, `de-DE`.
    pub locale: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// ISO 3166 country code of the client, e.g. `US`.
    pub country: String,
    /// `Windows`, `Mac`, `iOS`, `Android` or `Web`.
    pub platform: String,
}

/// The `29:` id Teams gives this person in chats with the bot (reversible, see
/// [`object_id_of`]).
pub fn user_id(object_id: &uuid::Uuid) -> String {
    format!("29:1{}", URL_SAFE_NO_PAD.encode(object_id.as_bytes()))
}

/// The Entra object id behind a `29:` id made by [`user_id`].
pub fn object_id_of(user_id: &str) -> Option<uuid::Uuid> {
    let encoded = user_id.strip_prefix("29:1")?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    uuid::Uuid::from_slice(&bytes).ok()
}

/// The `a:` id of the 1:1 chat between the bot and this person.
pub fn personal_conversation_id(object_id: &uuid::Uuid) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("personal:{object_id}").as_bytes(),
    );
    format!("a:1{}", URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// How the channel signs a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    /// As Teams does: the current key endorsed for `msteams`, audience = the bot's app id.
    Teams,
    /// With the published key endorsed only for `skype`.
    UnendorsedKey,
    /// With the Teams key but another audience.
    Audience(String),
}

/// The bot's answer to one delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub status: u16,
    /// The body as JSON when it is JSON (invoke responses), else `Null`.
    pub body: Value,
}

/// `installationUpdate` actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installation {
    Add,
    Remove,
}

/// The Teams channel in front of one bot.
pub struct Channel {
    identity: Arc<Identity>,
    connector: Arc<Connector>,
    http: reqwest::Client,
    bot_endpoint: String,
    bot_app_id: String,
    service_url: String,
    tenant_id: String,
}

impl Channel {
    /// A channel posting to `bot_endpoint` (`…/api/messages`) for the bot `bot_app_id`.
    pub fn new(
        identity: Arc<Identity>,
        connector: Arc<Connector>,
        bot_endpoint: &str,
        bot_app_id: &str,
    ) -> Channel {
        Channel {
            service_url: connector.service_url().to_owned(),
            tenant_id: identity.tenant_id().to_owned(),
            identity,
            connector,
            http: reqwest::Client::new(),
            bot_endpoint: bot_endpoint.to_owned(),
            bot_app_id: bot_app_id.to_owned(),
        }
    }

    pub fn service_url(&self) -> &str {
        &self.service_url
    }

    /// A unique activity id in Teams' numeric shape (shared with the connector's ids).
    pub fn next_activity_id(&self) -> String {
        self.connector.next_activity_id()
    }

    /// A channel token for the bot, signed as `signing` says.
    pub fn token(&self, signing: &Signing) -> String {
        let (key, audience): (Arc<SigningKey>, &str) = match signing {
            Signing::Teams => (self.identity.channel_key(), &self.bot_app_id),
            Signing::UnendorsedKey => (self.identity.unendorsed_key(), &self.bot_app_id),
            Signing::Audience(aud) => (self.identity.channel_key(), aud),
        };
        let now = jiff::Timestamp::now().as_second();
        key.sign(&json!({
            "serviceurl": self.service_url,
            "nbf": now - 5,
            "exp": now + 3600,
            "iss": CHANNEL_ISSUER,
            "aud": audience,
        }))
    }

    /// The fields every activity from this person in their 1:1 chat carries.
    fn base(&self, kind: &str, user: &TeamsUser) -> Value {
        let now = jiff::Timestamp::now();
        let local = now
            .in_tz(&user.time_zone)
            .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string())
            .unwrap_or_else(|_| now.to_string());
        json!({
            "type": kind,
            "id": self.next_activity_id(),
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "localTimestamp": local,
            "localTimezone": user.time_zone,
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": user_id(&user.object_id), "name": user.name, "aadObjectId": user.object_id.to_string()},
            "conversation": {
                "conversationType": "personal",
                "tenantId": self.tenant_id,
                "id": personal_conversation_id(&user.object_id),
            },
            "recipient": {"id": format!("28:{}", self.bot_app_id), "name": "Passkey Pilot"},
            "entities": [{
                "type": "clientInfo", "locale": user.locale, "country": user.country,
                "platform": user.platform, "timezone": user.time_zone,
            }],
            "channelData": {"tenant": {"id": self.tenant_id}},
            "locale": user.locale,
        })
    }

    /// A text message typed by the person.
    pub fn message(&self, user: &TeamsUser, text: &str) -> Value {
        let mut activity = self.base("message", user);
        activity["text"] = json!(text);
        activity["textFormat"] = json!("plain");
        activity
    }

    /// The `conversationUpdate` Teams sends when the person adds the app: bot and person
    /// in `membersAdded`.
    pub fn members_added(&self, user: &TeamsUser) -> Value {
        let mut activity = self.base("conversationUpdate", user);
        activity["id"] = json!(format!("f:{}", self.next_activity_id()));
        activity["membersAdded"] = json!([
            {"id": format!("28:{}", self.bot_app_id)},
            {"id": user_id(&user.object_id), "aadObjectId": user.object_id.to_string()},
        ]);
        activity
    }

    /// The `installationUpdate` for adding or removing the app in the person's scope.
    pub fn installation_update(&self, user: &TeamsUser, action: Installation) -> Value {
        let mut activity = self.base("installationUpdate", user);
        activity["id"] = json!(format!("f:{}", self.next_activity_id()));
        activity["action"] = json!(match action {
            Installation::Add => "add",
            Installation::Remove => "remove",
        });
        activity
    }

    /// The `adaptiveCard/action` invoke of an `Action.Execute` click on the card
    /// `reply_to_id`.
    pub fn card_action(
        &self,
        user: &TeamsUser,
        reply_to_id: Option<&str>,
        verb: &str,
        data: Value,
    ) -> Value {
        let mut activity = self.base("invoke", user);
        activity["id"] = json!(format!("f:{}", self.next_activity_id()));
        activity["name"] = json!("adaptiveCard/action");
        activity["value"] = json!({
            "action": {"type": "Action.Execute", "id": uuid::Uuid::new_v4().to_string(), "verb": verb, "data": data},
            "trigger": "manual",
        });
        if let Some(id) = reply_to_id {
            activity["replyToId"] = json!(id);
        }
        activity
    }

    /// Posts `activity` signed as Teams does.
    pub async fn deliver(&self, activity: &Value) -> Result<Delivery, reqwest::Error> {
        self.deliver_signed(activity, &Signing::Teams).await
    }

    /// Posts `activity` with the given signing, after updating the connector's view of the
    /// conversation (membership, installation, the person's message in the transcript).
    pub async fn deliver_signed(
        &self,
        activity: &Value,
        signing: &Signing,
    ) -> Result<Delivery, reqwest::Error> {
        self.observe(activity);
        let conversation = activity
            .pointer("/conversation/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let response = self
            .http
            .post(&self.bot_endpoint)
            .bearer_auth(self.token(signing))
            .header("content-type", "application/json")
            .header("x-ms-conversation-id", conversation)
            .header("x-ms-tenant-id", &self.tenant_id)
            .body(activity.to_string())
            .send()
            .await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Delivery { status, body })
    }

    fn observe(&self, activity: &Value) {
        let Some(conversation) = activity.pointer("/conversation/id").and_then(Value::as_str)
        else {
            return;
        };
        let object_id = activity
            .pointer("/from/aadObjectId")
            .and_then(Value::as_str)
            .and_then(|s| uuid::Uuid::parse_str(s).ok());
        self.connector
            .open_conversation(conversation, &self.tenant_id, object_id);
        if let Some(oid) = object_id {
            match (
                activity["type"].as_str(),
                activity["action"].as_str(),
                activity["membersAdded"].is_array(),
            ) {
                (Some("installationUpdate"), Some("add"), _)
                | (Some("conversationUpdate"), _, true) => self.connector.set_installed(oid, true),
                (Some("installationUpdate"), Some("remove"), _) => {
                    self.connector.set_installed(oid, false)
                }
                _ => {}
            }
        }
        if matches!(activity["type"].as_str(), Some("message" | "invoke")) {
            self.connector
                .record(conversation, Sender::User, activity.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_map_back_to_the_object_id() {
        let oid = uuid::Uuid::parse_str("7faf8ab2-1111-4000-8000-000000000001").unwrap();
        let id = user_id(&oid);
        assert!(id.starts_with("29:1"), "{id}");
        assert_eq!(object_id_of(&id), Some(oid));
        assert_eq!(object_id_of("29:1not-base64!"), None);
        assert!(personal_conversation_id(&oid).starts_with("a:1"));
    }
}
