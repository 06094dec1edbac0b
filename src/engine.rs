//! The orchestrator: the one place where inbound activities meet storage and outbound I/O.
//!
//! Behaviour so far (the migration journey replaces it): on install and on any 1:1 message
//! the bot stores the conversation reference and replies with the welcome card. Each inbound
//! activity id is claimed in the store first, so a redelivered activity has no effect, also
//! across restarts and replicas.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use crate::botframework::Activity;
use crate::botframework::activity::ActivityType;
use crate::botframework::connector::Connector;
use crate::cards::Cards;
use crate::cards::journey::{self, View};
use crate::conversation::{Conversation, JourneySettings, Screen};
use crate::i18n::Locales;
use crate::ids::{AadObjectId, ActivityId, ConversationId, TenantId};
use crate::store::{Claim, ConversationRef, Inbound, NewEvent, Store};

/// A welcome on install is claimed under this pseudo activity id, so the
/// `conversationUpdate` and `installationUpdate` that Teams sends for one install welcome once.
const INSTALL_WELCOME_CLAIM: &str = "install-welcome";
/// How long an inbound request waits for its reply to be sent (Teams waits about 15 s).
const INLINE_SEND_BUDGET: Duration = Duration::from_secs(8);
/// How long an install welcome blocks another one for the same chat.
const INSTALL_WELCOME_WINDOW: Duration = Duration::from_secs(600);

/// What the HTTP layer answers once the activity is handled.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// HTTP 200 with an empty body.
    Ack,
    /// HTTP 200 with this JSON body (invoke responses).
    InvokeResponse(serde_json::Value),
}

/// Why an activity could not be handled; logged, never shown to the sender as such.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("card: {0}")]
    Card(#[from] crate::cards::CardError),
    #[error("text: {0}")]
    Text(#[from] crate::i18n::I18nError),
    #[error("journey card: {0}")]
    Render(#[from] crate::cards::journey::RenderError),
}

pub struct Engine {
    store: Arc<dyn Store>,
    connector: Arc<Connector>,
    cards: Cards,
    locales: Locales,
    dedupe_ttl: Duration,
}

/// The parts of an activity that identify a person's 1:1 chat, parsed.
struct PersonalChat {
    tenant_id: TenantId,
    aad_object_id: AadObjectId,
    conversation_id: ConversationId,
    service_url: String,
    bot_id: String,
    user_id: String,
    name: String,
}

impl PersonalChat {
    /// `None` for anything that is not a 1:1 chat with an identifiable person.
    fn of(activity: &Activity, tenant_id: &TenantId) -> Option<PersonalChat> {
        if !activity.is_personal() {
            return None;
        }
        let conversation = activity.conversation.as_ref()?;
        let from = activity.from.as_ref()?;
        let aad_object_id = AadObjectId::parse(from.aad_object_id.as_deref()?).ok()?;
        Some(PersonalChat {
            tenant_id: tenant_id.clone(),
            aad_object_id,
            conversation_id: ConversationId::parse(&conversation.id).ok()?,
            service_url: activity.service_url.clone()?,
            bot_id: activity
                .recipient
                .as_ref()
                .map(|r| r.id.clone())
                .unwrap_or_default(),
            user_id: from.id.clone(),
            name: from.name.clone().unwrap_or_default(),
        })
    }

    fn reference(&self, now: Timestamp) -> ConversationRef {
        ConversationRef {
            tenant_id: self.tenant_id.clone(),
            aad_object_id: self.aad_object_id.clone(),
            conversation_id: self.conversation_id.clone(),
            service_url: self.service_url.clone(),
            bot_id: self.bot_id.clone(),
            user_id: self.user_id.clone(),
            updated_at: now,
        }
    }
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        connector: Arc<Connector>,
        cards: Cards,
        locales: Locales,
        dedupe_ttl: Duration,
    ) -> Engine {
        Engine {
            store,
            connector,
            cards,
            locales,
            dedupe_ttl,
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Handles one authenticated activity from an allowed tenant.
    pub async fn handle(
        &self,
        activity: &Activity,
        tenant_id: &TenantId,
    ) -> Result<Outcome, EngineError> {
        let now = Timestamp::now();
        let Some(chat) = PersonalChat::of(activity, tenant_id) else {
            // Channel and group-chat traffic (helpdesk and admin commands) comes later.
            return Ok(match activity.kind {
                ActivityType::Invoke => Outcome::InvokeResponse(not_supported()),
                _ => Outcome::Ack,
            });
        };
        match &activity.kind {
            ActivityType::Message => {
                if self
                    .claim(activity, &chat, now, Some("bot.message_received"))
                    .await?
                    == Claim::Duplicate
                {
                    return Ok(Outcome::Ack);
                }
                self.send_welcome(activity, &chat, now, true).await?;
                Ok(Outcome::Ack)
            }
            ActivityType::ConversationUpdate if activity.adds_the_bot() => {
                self.installed(activity, &chat, now).await
            }
            ActivityType::InstallationUpdate => match activity.action.as_deref() {
                Some("add") | Some("add-upgrade") => self.installed(activity, &chat, now).await,
                Some("remove") | Some("remove-upgrade") => {
                    if self.claim(activity, &chat, now, None).await? == Claim::First {
                        self.store
                            .delete_conversation_ref(&chat.tenant_id, &chat.aad_object_id)
                            .await?;
                        self.store
                            .append_event(&event(&chat, now, "bot.uninstalled", json!({})))
                            .await?;
                    }
                    Ok(Outcome::Ack)
                }
                _ => Ok(Outcome::Ack),
            },
            ActivityType::Invoke if activity.name.as_deref() == Some("adaptiveCard/action") => {
                let is_execute = activity
                    .value
                    .as_ref()
                    .and_then(|v| v.pointer("/action/type"))
                    .and_then(|t| t.as_str())
                    == Some("Action.Execute");
                if !is_execute {
                    return Ok(Outcome::InvokeResponse(json!({
                        "statusCode": 400,
                        "type": "application/vnd.microsoft.error",
                        "value": {"code": "NotSupported", "message": "only Action.Execute is supported"}
                    })));
                }
                // Until the journey exists every card action refreshes the welcome card.
                let card = self.welcome_card(activity, &chat)?;
                Ok(Outcome::InvokeResponse(json!({
                    "statusCode": 200,
                    "type": "application/vnd.microsoft.card.adaptive",
                    "value": card
                })))
            }
            ActivityType::Invoke => Ok(Outcome::InvokeResponse(not_supported())),
            _ => Ok(Outcome::Ack),
        }
    }

    async fn installed(
        &self,
        activity: &Activity,
        chat: &PersonalChat,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        if self
            .claim(activity, chat, now, Some("bot.installed"))
            .await?
            == Claim::Duplicate
        {
            return Ok(Outcome::Ack);
        }
        // Teams sends both a conversationUpdate and an installationUpdate for one install.
        let welcome = Inbound {
            conversation_id: chat.conversation_id.clone(),
            activity_id: ActivityId::parse(INSTALL_WELCOME_CLAIM).expect("constant id is valid"),
            received_at: now,
            expires_at: now + INSTALL_WELCOME_WINDOW,
            conversation_ref: None,
            event: None,
        };
        if self.store.record_inbound(&welcome).await? == Claim::First {
            self.send_welcome(activity, chat, now, false).await?;
        }
        Ok(Outcome::Ack)
    }

    /// Claims the activity id. With `kind`, a new claim also stores the conversation reference
    /// and an event of that kind, in the same transaction.
    async fn claim(
        &self,
        activity: &Activity,
        chat: &PersonalChat,
        now: Timestamp,
        kind: Option<&str>,
    ) -> Result<Claim, EngineError> {
        let record = kind.map(|kind| {
            (
                chat.reference(now),
                event(chat, now, kind, json!({ "activity_id": activity.id })),
            )
        });
        let Some(activity_id) = activity
            .id
            .as_deref()
            .and_then(|id| ActivityId::parse(id).ok())
        else {
            // Without an id there is nothing to dedupe on; record it as new.
            if let Some((reference, event)) = record {
                self.store.upsert_conversation_ref(&reference).await?;
                self.store.append_event(&event).await?;
            }
            return Ok(Claim::First);
        };
        let (conversation_ref, event) = record.unzip();
        let inbound = Inbound {
            conversation_id: chat.conversation_id.clone(),
            activity_id,
            received_at: now,
            expires_at: now + self.dedupe_ttl,
            conversation_ref,
            event,
        };
        Ok(self.store.record_inbound(&inbound).await?)
    }

    fn welcome_card(
        &self,
        activity: &Activity,
        chat: &PersonalChat,
    ) -> Result<serde_json::Value, EngineError> {
        let lang = self.locales.language(activity.person_locale());
        let settings = JourneySettings::default();
        let view = View {
            // Install activities often carry no name: the card greets without one.
            first_name: chat.name.split_whitespace().next(),
            user_mri: &chat.user_id,
            test_url: None,
            settings: &settings,
            deadline: None,
            time_zone: jiff::tz::TimeZone::UTC,
        };
        Ok(journey::render(
            &Screen::Welcome,
            &Conversation::default(),
            &view,
            &self.cards,
            &self.locales,
            lang,
        )?)
    }

    /// Sends the welcome card: as a reply to the person's message, or into the chat on install.
    async fn send_welcome(
        &self,
        activity: &Activity,
        chat: &PersonalChat,
        now: Timestamp,
        reply: bool,
    ) -> Result<(), EngineError> {
        let card = self.welcome_card(activity, chat)?;
        let mut out = Activity::adaptive_card(card);
        out.locale = activity.locale.clone();
        let reply_to = activity.id.clone().filter(|_| reply);
        let (connector, store) = (self.connector.clone(), self.store.clone());
        let (service_url, conversation_id) =
            (chat.service_url.clone(), chat.conversation_id.clone());
        let failed = event(chat, now, "bot.send_failed", json!({ "card": "welcome" }));
        // The send runs as its own task: the HTTP answer waits for it (so a reply usually lands
        // before Teams hears 200) but never longer than the budget, as retries with backoff
        // may take longer than Teams waits for an answer.
        let send = tokio::spawn(async move {
            let sent = match reply_to {
                Some(reply_to) => {
                    connector
                        .reply_to_activity(&service_url, conversation_id.as_str(), &reply_to, &out)
                        .await
                }
                None => {
                    connector
                        .send_to_conversation(&service_url, conversation_id.as_str(), &out)
                        .await
                }
            };
            if let Err(e) = sent {
                // The activity is claimed; the outbox that retries sends comes with the journey.
                tracing::error!(error = %e, conversation = %conversation_id, "could not send the welcome card");
                let mut failed = failed;
                failed.data["error"] = json!(e.to_string());
                if let Err(e) = store.append_event(&failed).await {
                    tracing::error!(error = %e, "could not record the failed send");
                }
            }
        });
        if tokio::time::timeout(INLINE_SEND_BUDGET, send)
            .await
            .is_err()
        {
            tracing::warn!(
                conversation = %chat.conversation_id,
                "the welcome card is still being sent; answering Teams now"
            );
        }
        Ok(())
    }
}

fn event(chat: &PersonalChat, at: Timestamp, kind: &str, data: serde_json::Value) -> NewEvent {
    NewEvent {
        at,
        tenant_id: chat.tenant_id.clone(),
        aad_object_id: Some(chat.aad_object_id.clone()),
        kind: kind.to_owned(),
        data,
    }
}

fn not_supported() -> serde_json::Value {
    json!({
        "statusCode": 501,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "NotImplemented", "message": "this invoke is not supported"}
    })
}
