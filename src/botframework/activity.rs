//! Activity types for what Teams sends and what the bot sends back.
//!
//! Tolerant of unknown fields (Teams adds new ones), strict about the few the bot relies on.
//! Field names follow the Bot Framework schema (camelCase).

use serde::{Deserialize, Serialize};

/// The activity types a Teams bot meets. Anything else is kept as `Other` and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityType {
    Message,
    ConversationUpdate,
    InstallationUpdate,
    Invoke,
    MessageReaction,
    MessageUpdate,
    MessageDelete,
    Event,
    Typing,
    Other(String),
}

impl ActivityType {
    pub fn as_str(&self) -> &str {
        match self {
            ActivityType::Message => "message",
            ActivityType::ConversationUpdate => "conversationUpdate",
            ActivityType::InstallationUpdate => "installationUpdate",
            ActivityType::Invoke => "invoke",
            ActivityType::MessageReaction => "messageReaction",
            ActivityType::MessageUpdate => "messageUpdate",
            ActivityType::MessageDelete => "messageDelete",
            ActivityType::Event => "event",
            ActivityType::Typing => "typing",
            ActivityType::Other(s) => s,
        }
    }
}

impl Serialize for ActivityType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActivityType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "message" => ActivityType::Message,
            "conversationUpdate" => ActivityType::ConversationUpdate,
            "installationUpdate" => ActivityType::InstallationUpdate,
            "invoke" => ActivityType::Invoke,
            "messageReaction" => ActivityType::MessageReaction,
            "messageUpdate" => ActivityType::MessageUpdate,
            "messageDelete" => ActivityType::MessageDelete,
            "event" => ActivityType::Event,
            "typing" => ActivityType::Typing,
            _ => ActivityType::Other(s),
        })
    }
}

/// A user or bot in a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAccount {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Entra object id (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aad_object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAccount {
    #[serde(default)]
    pub id: String,
    /// `personal`, `groupChat` or `channel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_group: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantInfo {
    #[serde(default)]
    pub id: String,
}

/// Teams' `channelData`: only the parts the bot reads are typed; the rest is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamsChannelData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<serde_json::Value>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A card or file attached to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The content type of an Adaptive Card attachment.
pub const ADAPTIVE_CARD: &str = "application/vnd.microsoft.card.adaptive";

/// One activity, inbound or outbound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    #[serde(rename = "type")]
    pub kind: ActivityType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_timestamp: Option<String>,
    /// IANA zone name; one Teams doc example spells it `localTimeZone`.
    #[serde(
        default,
        alias = "localTimeZone",
        skip_serializing_if = "Option::is_none"
    )]
    pub local_timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<TeamsChannelData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `installationUpdate`: `add`, `remove`, `add-upgrade`, `remove-upgrade`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members_added: Vec<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members_removed: Vec<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions_added: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions_removed: Vec<serde_json::Value>,
}

impl Activity {
    /// A new outbound message activity with no content yet.
    pub fn message() -> Activity {
        Activity {
            kind: ActivityType::Message,
            id: None,
            timestamp: None,
            local_timestamp: None,
            local_timezone: None,
            service_url: None,
            channel_id: None,
            from: None,
            conversation: None,
            recipient: None,
            text: None,
            text_format: None,
            locale: None,
            attachments: Vec::new(),
            entities: Vec::new(),
            channel_data: None,
            reply_to_id: None,
            value: None,
            name: None,
            action: None,
            members_added: Vec::new(),
            members_removed: Vec::new(),
            reactions_added: Vec::new(),
            reactions_removed: Vec::new(),
        }
    }

    /// An outbound message carrying one Adaptive Card and nothing else (Teams splits a
    /// message that has both text and an attachment, and its id can then not be updated).
    pub fn adaptive_card(card: serde_json::Value) -> Activity {
        Activity {
            attachments: vec![Attachment {
                content_type: ADAPTIVE_CARD.to_owned(),
                content: Some(card),
                content_url: None,
                name: None,
            }],
            ..Activity::message()
        }
    }

    /// The tenant the activity says it belongs to: `channelData.tenant.id`, else
    /// `conversation.tenantId`. Both are checked against config when both are present.
    pub fn tenant_ids(&self) -> (Option<&str>, Option<&str>) {
        (
            self.channel_data
                .as_ref()
                .and_then(|c| c.tenant.as_ref())
                .map(|t| t.id.as_str()),
            self.conversation
                .as_ref()
                .and_then(|c| c.tenant_id.as_deref()),
        )
    }

    pub fn is_personal(&self) -> bool {
        self.conversation
            .as_ref()
            .and_then(|c| c.conversation_type.as_deref())
            == Some("personal")
    }

    /// Whether the bot itself is among `membersAdded` (it was just installed).
    pub fn adds_the_bot(&self) -> bool {
        let bot = self.recipient.as_ref().map(|r| r.id.as_str());
        bot.is_some_and(|bot| self.members_added.iter().any(|m| m.id == bot))
    }

    /// The locale the person uses: `locale`, else the `clientInfo` entity's.
    pub fn person_locale(&self) -> Option<&str> {
        self.locale.as_deref().or_else(|| {
            self.entities.iter().find_map(|e| {
                (e.get("type")?.as_str()? == "clientInfo")
                    .then(|| e.get("locale")?.as_str())
                    .flatten()
            })
        })
    }
}

/// The connector's answer to a send: the new activity's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceResponse {
    #[serde(default)]
    pub id: String,
}

/// Body of `POST /v3/conversations` (create a 1:1 conversation or a channel thread).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationParameters {
    pub is_group: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
}

/// The connector's answer to a create-conversation call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationResourceResponse {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_teams_message_parses_and_unknown_fields_are_tolerated() {
        let a: Activity = serde_json::from_value(serde_json::json!({
            "type": "message", "id": "1485983408511", "serviceUrl": "https://smba.trafficmanager.net/amer/",
            "channelId": "msteams", "from": {"id": "29:1XJK", "name": "Megan", "aadObjectId": "7faf8ab2-0000-4000-8000-000000000001"},
            "conversation": {"conversationType": "personal", "tenantId": "72f9a1b2-0000-4000-8000-000000000001", "id": "a:17I0"},
            "recipient": {"id": "28:bot"}, "text": "status", "somethingNew": {"x": 1},
            "entities": [{"type": "clientInfo", "locale": "de-DE"}],
            "channelData": {"tenant": {"id": "72f9a1b2-0000-4000-8000-000000000001"}, "source": {"name": "message"}}
        }))
        .unwrap();
        assert_eq!(a.kind, ActivityType::Message);
        assert!(a.is_personal());
        assert_eq!(a.person_locale(), Some("de-DE"));
        assert_eq!(
            a.tenant_ids(),
            (
                Some("72f9a1b2-0000-4000-8000-000000000001"),
                Some("72f9a1b2-0000-4000-8000-000000000001")
            )
        );
    }

    #[test]
    fn unknown_activity_types_are_kept_not_refused() {
        let a: Activity = serde_json::from_str(r#"{"type":"somethingElse"}"#).unwrap();
        assert_eq!(a.kind, ActivityType::Other("somethingElse".into()));
    }

    #[test]
    fn outbound_card_message_has_only_the_attachment() {
        let a = Activity::adaptive_card(serde_json::json!({"type": "AdaptiveCard"}));
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["type"], "message");
        assert!(v.get("text").is_none());
        assert_eq!(v["attachments"][0]["contentType"], ADAPTIVE_CARD);
    }
}
