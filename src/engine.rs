//! The orchestrator: the one place where the pure journey ([`crate::conversation`]) meets
//! storage and outbound I/O.
//!
//! Every event about a person goes through one loop: load the journey with its version →
//! `step` → save the new state, its pending effects (the outbox) and its events in one
//! transaction (on a version conflict: load again and step again, a bounded number of times)
//! → only then carry out that step's effects. Effects whose result is an event (a look at
//! Graph, the group add, a timer) feed it back through the same loop. Whatever is not
//! finished inline (a crash, a retry, a timer not yet due) is done by [`Engine::tick`], which
//! the background worker calls: claims with leases, capped attempts, dead effects logged.
//!
//! Inbound: a 1:1 message becomes `Text`, an install `Installed`, an `adaptiveCard/action`
//! invoke `Action` (identity from the verified activity, never from card data), answered
//! with the card of the step's `Show`. An automatic refresh (`trigger: automatic`) is only a
//! read: the current card when the card is current, otherwise the out-of-date card (which
//! has no refresh of its own), and never a step or a new message — Teams refreshes every
//! card in view, and old cards turning into copies of the live one would clutter the chat.
//! Each inbound activity id is claimed first (the claim stores the conversation reference and
//! the event once), and the journey remembers the activities it stepped with in the same save
//! as the step: a redelivered activity the journey has seen has no effect, and one that was
//! claimed but never stepped (the bot stopped in between) is stepped when Teams delivers it
//! again.

pub mod ports;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::botframework::Activity;
use crate::botframework::activity::ActivityType;
use crate::botframework::connector::Connector;
use crate::cards::Cards;
use crate::cards::journey::{self, View};
use crate::conversation::{
    self, Conversation, Ctx, Effect, EnforcementResult, Event, JourneySettings, Look, Screen,
};
use crate::i18n::Locales;
use crate::ids::{AadObjectId, ActivityId, ConversationId, TenantId};
use crate::store::{
    self, Claim, ConversationRef, EffectLease, Inbound, NewEffect, NewEvent, SaveOutcome,
    StepWrite, Store,
};

pub use ports::{
    AssessError, Assessor, Groups, LinkError, Membership, MembershipError, Ports, TestLinks,
};

/// A welcome on install is claimed under this pseudo activity id, so the
/// `conversationUpdate` and `installationUpdate` that Teams sends for one install welcome once.
const INSTALL_WELCOME_CLAIM: &str = "install-welcome";
/// How long an inbound request carries out effects before answering (Teams waits about 15 s);
/// the worker finishes the rest.
const INLINE_BUDGET: Duration = Duration::from_secs(8);
/// How long an install welcome blocks another one for the same chat.
const INSTALL_WELCOME_WINDOW: Duration = Duration::from_secs(600);
/// How long a claimed effect is held before another worker may take it.
const EFFECT_LEASE: SignedDuration = SignedDuration::from_secs(60);
/// Effects the worker claims per round.
const WORKER_BATCH: u32 = 32;
/// Inbound activities remembered per journey (Teams redelivers within seconds).
const APPLIED_KEEP: usize = 32;
/// Steps retried after a version conflict before giving up.
const MAX_CONFLICTS: usize = 5;
/// While enforcement is paused, a pending group add looks again after this long.
const PAUSED_RETRY: SignedDuration = SignedDuration::from_secs(900);

/// Outbox effect kinds.
const CARD_SEND: &str = "card.send";
const ASSESS: &str = "journey.assess";
const TIMER: &str = "journey.timer";
const ENFORCE: &str = "enforcement.add";
const HELPDESK: &str = "helpdesk.notify";

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
    #[error("the stored journey cannot be read: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("the journey kept changing under {0} attempts to step it")]
    Contended(usize),
}

/// The engine's settings (from `[bot]`, `[journey]` and `[enforcement]`).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub dedupe_ttl: Duration,
    pub journey: JourneySettings,
    /// Empty: nobody can be added.
    pub enforcement_group_id: String,
    /// Between the worker's rounds; zero: no worker.
    pub worker_interval: Duration,
    /// Attempts before an effect is given up.
    pub max_attempts: i64,
}

impl EngineSettings {
    pub fn from_config(config: &crate::config::Config) -> EngineSettings {
        EngineSettings {
            dedupe_ttl: Duration::from_secs(config.bot.dedupe_ttl_secs),
            journey: config.journey_settings(),
            enforcement_group_id: config.enforcement.group_id.clone(),
            worker_interval: Duration::from_millis(config.effects.worker_interval_ms),
            max_attempts: i64::from(config.effects.max_attempts.max(1)),
        }
    }
}

/// What the engine keeps about the person next to the journey, for the cards it sends later.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonInfo {
    pub locale: Option<String>,
    pub first_name: Option<String>,
    /// The Teams MRI (`29:…`) the cards refresh for.
    pub user_mri: String,
}

/// The stored state of one person: the journey and what the cards need about them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredState {
    pub conversation: Conversation,
    #[serde(default)]
    pub person: PersonInfo,
    /// The latest inbound activities (`conversation:activity id`) this journey stepped with,
    /// saved with the step itself: a redelivered activity is recognised here even when the
    /// bot stopped between claiming it and saving its step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<String>,
}

/// Whose journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub tenant_id: TenantId,
    pub aad_object_id: AadObjectId,
}

/// How the cards a step shows reach the person.
#[derive(Debug, Clone)]
enum Mode {
    /// In the answer to a card action (`Show`); `Post` still becomes a message.
    Invoke,
    /// As new messages, replying to this activity when given.
    Message { reply_to: Option<String> },
}

/// What carrying out one effect came to.
enum Executed {
    Done,
    /// Done, and this happened: step the journey with it, then mark the effect done.
    Event(Event),
    /// Try again at `at` (counts against the attempt cap).
    Retry {
        error: String,
        at: Timestamp,
    },
    /// Try again at `at` without giving up (the kill switch is on).
    Wait {
        why: String,
        at: Timestamp,
    },
    /// Never try again.
    Dead {
        error: String,
    },
}

/// The card for the answer to a card action, shared between the request and its task.
#[derive(Debug, Default)]
struct Answer {
    card: Option<Value>,
    /// The request answered: later cards go out as messages.
    taken: bool,
}

/// What [`Engine::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickOutcome {
    pub claimed: usize,
    pub done: usize,
    pub retried: usize,
    pub dead: usize,
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    connector: Arc<Connector>,
    cards: Cards,
    locales: Locales,
    settings: EngineSettings,
    ports: Ports,
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

    fn who(&self) -> Who {
        Who {
            tenant_id: self.tenant_id.clone(),
            aad_object_id: self.aad_object_id.clone(),
        }
    }

    /// What the cards need about the person, as this activity tells it.
    fn person(&self, activity: &Activity) -> PersonInfo {
        PersonInfo {
            locale: activity.person_locale().map(str::to_owned),
            // Install activities often carry no name: the card greets without one.
            first_name: self.name.split_whitespace().next().map(str::to_owned),
            user_mri: self.user_id.clone(),
        }
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
        settings: EngineSettings,
        ports: Ports,
    ) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                store,
                connector,
                cards,
                locales,
                settings,
                ports,
            }),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
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
        let store = &self.inner.store;
        let Some(activity_id) = activity
            .id
            .as_deref()
            .and_then(|id| ActivityId::parse(id).ok())
        else {
            // Without an id there is nothing to dedupe on; record it as new.
            if let Some((reference, event)) = record {
                store.upsert_conversation_ref(&reference).await?;
                store.append_event(&event).await?;
            }
            return Ok(Claim::First);
        };
        let (conversation_ref, event) = record.unzip();
        let inbound = Inbound {
            conversation_id: chat.conversation_id.clone(),
            activity_id,
            received_at: now,
            expires_at: now + self.inner.settings.dedupe_ttl,
            conversation_ref,
            event,
        };
        Ok(store.record_inbound(&inbound).await?)
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
                let claim = self
                    .claim(activity, &chat, now, Some("bot.message_received"))
                    .await?;
                if claim == Claim::Duplicate && self.applied(&chat, activity).await? {
                    return Ok(Outcome::Ack);
                }
                let intent = conversation::intent::parse(activity.text.as_deref().unwrap_or(""));
                self.inbound(
                    &chat,
                    activity,
                    Event::Text { intent },
                    Mode::Message {
                        reply_to: activity.id.clone(),
                    },
                    now,
                )
                .await?;
                Ok(Outcome::Ack)
            }
            ActivityType::ConversationUpdate if activity.adds_the_bot() => {
                self.installed(activity, &chat, now).await
            }
            ActivityType::InstallationUpdate => match activity.action.as_deref() {
                Some("add") | Some("add-upgrade") => self.installed(activity, &chat, now).await,
                Some("remove") | Some("remove-upgrade") => {
                    if self.claim(activity, &chat, now, None).await? == Claim::First {
                        self.inner
                            .store
                            .delete_conversation_ref(&chat.tenant_id, &chat.aad_object_id)
                            .await?;
                        self.inner
                            .store
                            .append_event(&event(&chat, now, "bot.uninstalled", json!({})))
                            .await?;
                    }
                    Ok(Outcome::Ack)
                }
                _ => Ok(Outcome::Ack),
            },
            ActivityType::Invoke if activity.name.as_deref() == Some("adaptiveCard/action") => {
                self.card_action(activity, &chat, now).await
            }
            ActivityType::Invoke => Ok(Outcome::InvokeResponse(not_supported())),
            _ => Ok(Outcome::Ack),
        }
    }

    async fn card_action(
        &self,
        activity: &Activity,
        chat: &PersonalChat,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let value = activity.value.clone().unwrap_or(Value::Null);
        let action = &value["action"];
        if action["type"].as_str() != Some("Action.Execute") {
            return Ok(Outcome::InvokeResponse(json!({
                "statusCode": 400,
                "type": "application/vnd.microsoft.error",
                "value": {"code": "NotSupported", "message": "only Action.Execute is supported"}
            })));
        }
        let verb = action["verb"].as_str().unwrap_or("refresh").to_owned();
        let data = match &action["data"] {
            Value::Object(o) => Value::Object(o.clone()),
            _ => json!({}),
        };
        let seq = data.get("seq").and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|s| s.trim().parse().ok()))
        });
        let who = chat.who();
        let person = chat.person(activity);
        if value["trigger"].as_str() == Some("automatic") {
            // A refresh only reads: see the module documentation.
            let (state, _) = self.load(&who).await?;
            let state = StoredState { person, ..state };
            let card = if seq.is_some_and(|s| s != state.conversation.seq) {
                self.render(&Screen::OutOfDate, &state, &who).await?
            } else {
                let screen = self.current_screen(&state.conversation, now);
                self.render(&screen, &state, &who).await?
            };
            return Ok(Outcome::InvokeResponse(card_response(card)));
        }
        let claim = self
            .claim(activity, chat, now, Some("bot.card_action"))
            .await?;
        // A claimed click whose step was never saved (the bot stopped in between) is
        // stepped now; one the journey has seen is only answered.
        if claim == Claim::Duplicate && self.applied(chat, activity).await? {
            // Teams redelivered the click: answer with what is true now, change nothing.
            let (state, _) = self.load(&who).await?;
            let screen = self.current_screen(&state.conversation, now);
            let card = self.render(&screen, &state, &who).await?;
            return Ok(Outcome::InvokeResponse(card_response(card)));
        }
        let shown = self
            .inbound(
                chat,
                activity,
                Event::Action { verb, seq, data },
                Mode::Invoke,
                now,
            )
            .await?;
        let card = match shown {
            Some(card) => card,
            None => {
                let (state, _) = self.load(&who).await?;
                let screen = self.current_screen(&state.conversation, now);
                self.render(&screen, &state, &who).await?
            }
        };
        Ok(Outcome::InvokeResponse(card_response(card)))
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
        if self.inner.store.record_inbound(&welcome).await? == Claim::First {
            self.inbound(
                chat,
                activity,
                Event::Installed,
                Mode::Message { reply_to: None },
                now,
            )
            .await?;
        }
        Ok(Outcome::Ack)
    }

    /// Has the person's journey already stepped with this activity?
    async fn applied(&self, chat: &PersonalChat, activity: &Activity) -> Result<bool, EngineError> {
        let Some(key) = inbound_key(chat, activity) else {
            return Ok(true);
        };
        let (state, _) = self.load(&chat.who()).await?;
        if state.applied.contains(&key) {
            return Ok(true);
        }
        tracing::warn!(conversation = %chat.conversation_id, "a redelivered activity was claimed but never stepped; stepping it now");
        Ok(false)
    }

    /// Steps the journey with an event from an inbound activity and carries out what follows
    /// as its own task; waits for it within the budget and returns the card for the invoke
    /// answer. What the task does after the answer was taken goes out as messages.
    async fn inbound(
        &self,
        chat: &PersonalChat,
        activity: &Activity,
        event: Event,
        mode: Mode,
        now: Timestamp,
    ) -> Result<Option<Value>, EngineError> {
        let key = inbound_key(chat, activity);
        let answer = Arc::new(Mutex::new(Answer::default()));
        let (engine, who, person, task_answer) = (
            self.clone(),
            chat.who(),
            chat.person(activity),
            answer.clone(),
        );
        let task = tokio::spawn(async move {
            engine
                .drive(
                    &who,
                    event,
                    None,
                    mode,
                    Some(person),
                    key,
                    now,
                    &task_answer,
                )
                .await
        });
        match tokio::time::timeout(INLINE_BUDGET, task).await {
            Ok(Ok(result)) => result?,
            Ok(Err(e)) => tracing::error!(error = %e, "the journey task failed"),
            Err(_) => tracing::warn!(
                conversation = %chat.conversation_id,
                "the journey is still working; answering Teams now"
            ),
        }
        let mut answer = answer.lock().expect("not poisoned");
        answer.taken = true;
        Ok(answer.card.take())
    }

    /// Delivers an event to a person's journey (the test sign-in callback, tests) and carries
    /// out what follows; cards go out as new messages.
    pub async fn deliver(&self, who: &Who, event: Event) -> Result<(), EngineError> {
        self.drive(
            who,
            event,
            None,
            Mode::Message { reply_to: None },
            None,
            None,
            Timestamp::now(),
            &Mutex::default(),
        )
        .await
    }

    /// The person's journey as stored (the default when none was saved yet).
    pub async fn journey(&self, who: &Who) -> Result<StoredState, EngineError> {
        Ok(self.load(who).await?.0)
    }

    async fn load(&self, who: &Who) -> Result<(StoredState, Option<i64>), EngineError> {
        Ok(
            match self
                .inner
                .store
                .load_journey(&who.tenant_id, &who.aad_object_id)
                .await?
            {
                Some(j) => (serde_json::from_value(j.state)?, Some(j.version)),
                None => (StoredState::default(), None),
            },
        )
    }

    fn current_screen(&self, conv: &Conversation, now: Timestamp) -> Screen {
        let step = conversation::step(
            conv,
            Event::Action {
                verb: "refresh".into(),
                seq: Some(conv.seq),
                data: json!({}),
            },
            &Ctx {
                now,
                settings: &self.inner.settings.journey,
            },
        );
        step.effects
            .into_iter()
            .find_map(|e| match e {
                Effect::Show { screen } => Some(screen),
                _ => None,
            })
            .unwrap_or(Screen::Welcome)
    }

    /// The loop: step, save, carry out; events from effects go round again. `lease` is the
    /// effect whose result `first` is: it is marked done once that step is saved.
    #[allow(clippy::too_many_arguments)]
    async fn drive(
        &self,
        who: &Who,
        first: Event,
        lease: Option<EffectLease>,
        mode: Mode,
        mut person: Option<PersonInfo>,
        mut key: Option<String>,
        now: Timestamp,
        answer: &Mutex<Answer>,
    ) -> Result<(), EngineError> {
        let mut queue = VecDeque::from([(first, lease)]);
        while let Some((event, lease)) = queue.pop_front() {
            let mode = match mode {
                Mode::Invoke if answer.lock().expect("not poisoned").taken => {
                    Mode::Message { reply_to: None }
                }
                ref mode => mode.clone(),
            };
            let (ids, card) = self
                .step_and_save(who, event, &mode, person.take(), key.take(), now)
                .await?;
            if card.is_some() {
                answer.lock().expect("not poisoned").card = card;
            }
            if let Some(lease) = lease {
                self.inner.store.complete_effect(lease).await?;
            }
            if ids.is_empty() {
                continue;
            }
            let claimed = self
                .inner
                .store
                .claim_effects_by_id(&ids, now.max(Timestamp::now()), EFFECT_LEASE)
                .await?;
            for effect in claimed {
                if let Some(next) = self.carry_out(effect, now).await? {
                    queue.push_back(next);
                }
            }
        }
        Ok(())
    }

    /// Loads, steps and saves, again after a version conflict; returns the saved effects'
    /// ids. In `Mode::Invoke` the card of a `Show` is returned instead of going to the outbox.
    #[allow(clippy::too_many_arguments)]
    async fn step_and_save(
        &self,
        who: &Who,
        event: Event,
        mode: &Mode,
        person: Option<PersonInfo>,
        key: Option<String>,
        now: Timestamp,
    ) -> Result<(Vec<i64>, Option<Value>), EngineError> {
        for _ in 0..MAX_CONFLICTS {
            let (mut state, version) = self.load(who).await?;
            if let Some(key) = &key
                && state.applied.contains(key)
            {
                // Stepped already (a redelivery racing the first delivery): only answer.
                let card = match mode {
                    Mode::Invoke => {
                        let screen = self.current_screen(&state.conversation, now);
                        Some(self.render(&screen, &state, who).await?)
                    }
                    Mode::Message { .. } => None,
                };
                return Ok((Vec::new(), card));
            }
            if let Some(person) = &person {
                state.person = person.clone();
            }
            let mut applied = state.applied.clone();
            if let Some(key) = &key {
                applied.push(key.clone());
                let excess = applied.len().saturating_sub(APPLIED_KEEP);
                applied.drain(..excess);
            }
            let ctx = Ctx {
                now,
                settings: &self.inner.settings.journey,
            };
            let step = conversation::step(&state.conversation, event.clone(), &ctx);
            let next = StoredState {
                conversation: step.next,
                person: state.person,
                applied,
            };
            let mut effects = Vec::new();
            let mut events = Vec::new();
            let mut shown = None;
            let outbox = |kind: &str, payload: Value, not_before: Timestamp, n: usize| NewEffect {
                tenant_id: who.tenant_id.clone(),
                aad_object_id: who.aad_object_id.clone(),
                kind: kind.to_owned(),
                payload,
                created_at: now,
                not_before,
                idempotency_key: key.as_ref().map(|k| format!("{k}:{n}")),
            };
            let log = |kind: String, data: Value| NewEvent {
                at: now,
                tenant_id: who.tenant_id.clone(),
                aad_object_id: Some(who.aad_object_id.clone()),
                kind,
                data,
            };
            for (n, effect) in step.effects.into_iter().enumerate() {
                match effect {
                    Effect::Show { screen } if matches!(mode, Mode::Invoke) => shown = Some(screen),
                    Effect::Show { screen } | Effect::Post { screen } => {
                        let reply_to = match mode {
                            Mode::Message { reply_to } => reply_to.clone(),
                            Mode::Invoke => None,
                        };
                        effects.push(outbox(
                            CARD_SEND,
                            json!({"screen": screen, "state": next, "replyTo": reply_to}),
                            now,
                            n,
                        ));
                    }
                    Effect::Assess { look } => {
                        effects.push(outbox(ASSESS, json!({ "look": look }), now, n))
                    }
                    Effect::Schedule { at, timer } => {
                        effects.push(outbox(TIMER, json!({ "timer": timer }), at, n))
                    }
                    Effect::AddToEnforcementGroup => {
                        effects.push(outbox(ENFORCE, json!({}), now, n))
                    }
                    Effect::NotifyHelpdesk { reason } => {
                        effects.push(outbox(HELPDESK, json!({ "reason": reason }), now, n))
                    }
                    Effect::GrantExclusion {
                        until,
                        reason,
                        devices,
                    } => events.push(log(
                        "exclusion.granted".into(),
                        json!({"until": until.to_string(), "reason": reason, "devices": devices}),
                    )),
                    Effect::Record { kind, data } => {
                        events.push(log(format!("journey.{kind}"), data))
                    }
                }
            }
            let write = StepWrite {
                tenant_id: who.tenant_id.clone(),
                aad_object_id: who.aad_object_id.clone(),
                expected_version: version,
                state: serde_json::to_value(&next)?,
                at: now,
                effects,
                events,
            };
            match self.inner.store.save_step(&write).await? {
                SaveOutcome::Saved { effect_ids, .. } => {
                    let card = match shown {
                        Some(screen) => Some(self.render(&screen, &next, who).await?),
                        None => None,
                    };
                    return Ok((effect_ids, card));
                }
                SaveOutcome::Conflict => {
                    tracing::debug!(person = %who.aad_object_id.as_str(), "journey changed meanwhile; stepping again");
                }
            }
        }
        Err(EngineError::Contended(MAX_CONFLICTS))
    }

    async fn render(
        &self,
        screen: &Screen,
        state: &StoredState,
        who: &Who,
    ) -> Result<Value, EngineError> {
        let lang = self.inner.locales.language(state.person.locale.as_deref());
        let test_url = match screen {
            Screen::Test | Screen::TestFailed { .. } => self.test_link(state, who).await,
            _ => None,
        };
        let view = View {
            first_name: state.person.first_name.as_deref(),
            user_mri: &state.person.user_mri,
            test_url: test_url.as_deref(),
            settings: &self.inner.settings.journey,
            deadline: None,
            time_zone: jiff::tz::TimeZone::UTC,
        };
        Ok(journey::render(
            screen,
            &state.conversation,
            &view,
            &self.inner.cards,
            &self.inner.locales,
            lang,
        )?)
    }

    /// A fresh test sign-in link for the person's chat; `None` (the card then offers to try
    /// again) when none can be made just now or the test sign-in is not configured.
    async fn test_link(&self, state: &StoredState, who: &Who) -> Option<String> {
        let reference = match self
            .inner
            .store
            .conversation_ref(&who.tenant_id, &who.aad_object_id)
            .await
        {
            Ok(Some(reference)) => reference,
            Ok(None) => {
                tracing::warn!(person = %who.aad_object_id.as_str(), "no conversation to bind a test sign-in link to");
                return None;
            }
            Err(error) => {
                tracing::warn!(%error, person = %who.aad_object_id.as_str(), "no test sign-in link");
                return None;
            }
        };
        let login_hint = state
            .conversation
            .plan
            .as_ref()
            .and_then(|p| p.login_hint.as_deref());
        match self
            .inner
            .ports
            .test_links
            .test_url(
                &who.tenant_id,
                &who.aad_object_id,
                &reference.conversation_id,
                login_hint,
            )
            .await
        {
            Ok(Some(url)) => Some(url),
            Ok(None) => {
                tracing::warn!("the test sign-in is not configured (test_signin.client_id)");
                None
            }
            Err(error) => {
                tracing::warn!(%error, person = %who.aad_object_id.as_str(), "no test sign-in link");
                None
            }
        }
    }

    /// Claims the due effects of everyone (left over after a crash, retries, timers) and
    /// carries them out; what the background worker does every second. Public so tests
    /// can run one round at a chosen time.
    pub async fn tick(&self, now: Timestamp) -> Result<TickOutcome, EngineError> {
        let claimed = self
            .inner
            .store
            .claim_effects(now, EFFECT_LEASE, WORKER_BATCH)
            .await?;
        let mut outcome = TickOutcome {
            claimed: claimed.len(),
            ..TickOutcome::default()
        };
        for effect in claimed {
            let who = Who {
                tenant_id: effect.effect.tenant_id.clone(),
                aad_object_id: effect.effect.aad_object_id.clone(),
            };
            let attempts = effect.attempts;
            match self.carry_out(effect, now).await {
                Ok(Some((event, lease))) => {
                    self.drive(
                        &who,
                        event,
                        lease,
                        Mode::Message { reply_to: None },
                        None,
                        None,
                        now,
                        &Mutex::default(),
                    )
                    .await?;
                    outcome.done += 1;
                }
                Ok(None) => outcome.done += 1,
                Err(e) => {
                    tracing::warn!(error = %e, attempts, "an effect could not be carried out");
                    outcome.retried += 1;
                }
            }
        }
        Ok(outcome)
    }

    /// Runs [`Engine::tick`] every `effects.worker_interval_ms` until the task is aborted
    /// (returns at once when the interval is zero).
    pub async fn run_worker(self) {
        let interval = self.inner.settings.worker_interval;
        if interval.is_zero() {
            return;
        }
        loop {
            tokio::time::sleep(interval).await;
            if let Err(e) = self.tick(Timestamp::now()).await {
                tracing::warn!(error = %e, "the effects worker could not finish a round");
            }
        }
    }

    /// Carries out one claimed effect and records how it went; an event it produced is
    /// returned with the lease, to be marked done once the journey stepped with it.
    async fn carry_out(
        &self,
        effect: store::Effect,
        now: Timestamp,
    ) -> Result<Option<(Event, Option<EffectLease>)>, EngineError> {
        let lease = effect.lease();
        let kind = effect.effect.kind.clone();
        let store = &self.inner.store;
        match self.execute(&effect, now).await {
            Executed::Done => {
                store.complete_effect(lease).await?;
                Ok(None)
            }
            Executed::Event(event) => Ok(Some((event, Some(lease)))),
            Executed::Wait { why, at } => {
                tracing::info!(kind, why, "effect waits");
                store.fail_effect(lease, &why, Some(at)).await?;
                Ok(None)
            }
            Executed::Retry { error, at } if effect.attempts < self.inner.settings.max_attempts => {
                tracing::warn!(
                    kind,
                    error,
                    attempt = effect.attempts,
                    "effect failed; will retry"
                );
                store.fail_effect(lease, &error, Some(at)).await?;
                Ok(None)
            }
            Executed::Retry { error, .. } | Executed::Dead { error } => {
                tracing::error!(kind, error, attempts = effect.attempts, person = %effect.effect.aad_object_id.as_str(), "effect given up");
                metrics::counter!("passkey_pilot_effects_dead_total", "kind" => kind.clone())
                    .increment(1);
                store.fail_effect(lease, &error, None).await?;
                if kind == ENFORCE {
                    // The person is told and the helpdesk takes over.
                    return Ok(Some((
                        Event::Enforcement {
                            result: EnforcementResult::Failed,
                        },
                        None,
                    )));
                }
                Ok(None)
            }
        }
    }

    async fn execute(&self, effect: &store::Effect, now: Timestamp) -> Executed {
        let e = &effect.effect;
        let who = Who {
            tenant_id: e.tenant_id.clone(),
            aad_object_id: e.aad_object_id.clone(),
        };
        let retry_at = Timestamp::now().max(now) + backoff(effect.attempts);
        match e.kind.as_str() {
            CARD_SEND => match self.send_card(&who, &e.payload).await {
                Ok(()) => Executed::Done,
                Err(SendFailure::Permanent(error)) => Executed::Dead { error },
                Err(SendFailure::Transient(error)) => Executed::Retry {
                    error,
                    at: retry_at,
                },
            },
            ASSESS => {
                // `fresh: bool` is how effects saved before `look` said it.
                let look = serde_json::from_value::<Look>(e.payload["look"].clone()).unwrap_or(
                    match e.payload["fresh"].as_bool() {
                        Some(true) => Look::Fresh,
                        _ => Look::Cached,
                    },
                );
                match self
                    .inner
                    .ports
                    .assessor
                    .assess(&who.tenant_id, &who.aad_object_id, look)
                    .await
                {
                    Ok(plan) => Executed::Event(Event::Assessed { plan }),
                    Err(error) => {
                        tracing::warn!(%error, person = %who.aad_object_id.as_str(), "assessment failed");
                        Executed::Event(Event::AssessmentFailed)
                    }
                }
            }
            TIMER => match serde_json::from_value(e.payload["timer"].clone()) {
                Ok(timer) => Executed::Event(Event::Timer { timer }),
                Err(error) => Executed::Dead {
                    error: format!("timer payload: {error}"),
                },
            },
            ENFORCE => self.enforce(&who, now, retry_at).await,
            HELPDESK => {
                // No helpdesk channel yet: a log line and an event the admin view lists.
                tracing::warn!(person = %who.aad_object_id.as_str(), reason = %e.payload["reason"], "the helpdesk is asked to help");
                let logged = self
                    .inner
                    .store
                    .append_event(&NewEvent {
                        at: now,
                        tenant_id: who.tenant_id.clone(),
                        aad_object_id: Some(who.aad_object_id.clone()),
                        kind: "helpdesk.notified".into(),
                        data: e.payload.clone(),
                    })
                    .await;
                match logged {
                    Ok(_) => Executed::Done,
                    Err(error) => Executed::Retry {
                        error: error.to_string(),
                        at: retry_at,
                    },
                }
            }
            other => Executed::Dead {
                error: format!("unknown effect kind {other:?}"),
            },
        }
    }

    async fn enforce(&self, who: &Who, now: Timestamp, retry_at: Timestamp) -> Executed {
        if self.inner.settings.journey.enforcement_paused {
            return Executed::Wait {
                why: "enforcement.paused is on".into(),
                at: Timestamp::now().max(now) + PAUSED_RETRY,
            };
        }
        let group = &self.inner.settings.enforcement_group_id;
        if group.is_empty() {
            return Executed::Dead {
                error: "enforcement.group_id is not set".into(),
            };
        }
        let result = self
            .inner
            .ports
            .groups
            .add_member(group, who.aad_object_id.as_str())
            .await;
        let result = match result {
            Ok(Membership::Added) => EnforcementResult::Added,
            Ok(Membership::AlreadyMember) => EnforcementResult::AlreadyMember,
            Err(error) => {
                return Executed::Retry {
                    error: error.to_string(),
                    at: retry_at,
                };
            }
        };
        let recorded = self
            .inner
            .store
            .append_event(&NewEvent {
                at: now,
                tenant_id: who.tenant_id.clone(),
                aad_object_id: Some(who.aad_object_id.clone()),
                kind: "enforcement.added".into(),
                data: json!({"groupId": group, "result": result}),
            })
            .await;
        if let Err(error) = recorded {
            // The add holds (and a retry finds the person a member); the record must not be lost.
            return Executed::Retry {
                error: error.to_string(),
                at: retry_at,
            };
        }
        Executed::Event(Event::Enforcement { result })
    }

    async fn send_card(&self, who: &Who, payload: &Value) -> Result<(), SendFailure> {
        let permanent = |e: String| SendFailure::Permanent(e);
        let screen: Screen = serde_json::from_value(payload["screen"].clone())
            .map_err(|e| permanent(format!("screen: {e}")))?;
        let state: StoredState = serde_json::from_value(payload["state"].clone())
            .map_err(|e| permanent(format!("state: {e}")))?;
        let reference = self
            .inner
            .store
            .conversation_ref(&who.tenant_id, &who.aad_object_id)
            .await
            .map_err(|e| SendFailure::Transient(e.to_string()))?
            .ok_or_else(|| permanent("no conversation reference (app removed?)".into()))?;
        let card = self
            .render(&screen, &state, who)
            .await
            .map_err(|e| permanent(e.to_string()))?;
        let mut out = Activity::adaptive_card(card);
        out.locale = state.person.locale.clone();
        let connector = &self.inner.connector;
        let conversation = reference.conversation_id.as_str();
        let sent = match payload["replyTo"].as_str() {
            Some(reply_to) => {
                connector
                    .reply_to_activity(&reference.service_url, conversation, reply_to, &out)
                    .await
            }
            None => {
                connector
                    .send_to_conversation(&reference.service_url, conversation, &out)
                    .await
            }
        };
        sent.map(|_| ())
            .map_err(|e| SendFailure::Transient(e.to_string()))
    }
}

enum SendFailure {
    Transient(String),
    Permanent(String),
}

/// Wait before attempt `attempts + 1`: 5 s, 10 s, 20 s, … at most 10 minutes.
fn backoff(attempts: i64) -> SignedDuration {
    let secs = 5i64.saturating_mul(1 << attempts.clamp(0, 7));
    SignedDuration::from_secs(secs.min(600))
}

/// What a journey remembers an inbound activity by: `conversation:activity id`.
fn inbound_key(chat: &PersonalChat, activity: &Activity) -> Option<String> {
    activity
        .id
        .as_deref()
        .map(|id| format!("{}:{id}", chat.conversation_id.as_str()))
}

fn card_response(card: Value) -> Value {
    json!({
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": card
    })
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
