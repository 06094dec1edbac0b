//! The migration journey of one person, as a pure state machine:
//! `step(&Conversation, Event, &Ctx) -> Step { next, effects }`.
//!
//! Nothing here does I/O or reads the clock: time, settings and everything the outside world
//! said arrive in [`Ctx`] and [`Event`]; everything the journey wants done leaves as
//! [`Effect`]s, which the engine saves together with the new state (one transaction) and only
//! then carries out. Every transition is unit-tested in `conversation/tests.rs`.
//!
//! Cards carry the sequence number of the screen they show ([`Conversation::seq`]); an action
//! from an older card gets "this card is out of date" and the current card, never a
//! transition meant for a screen the person has already left.

pub mod intent;
pub mod plan;
mod step;

#[cfg(test)]
mod tests;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

pub use intent::Intent;
pub use plan::{DevicePlan, DeviceStatus, PlanVerdict, PlannedDevice};
pub use step::step;

/// The `Action.Execute` verbs the journey's cards may carry; [`step`] handles each (`refresh`,
/// like anything else, shows the current screen).
pub const VERBS: &[&str] = &[
    "start",
    "recheck",
    "devices",
    "register",
    "registered",
    "test",
    "enforce",
    "snoozeMenu",
    "snooze",
    "exclude",
    "requestExclusion",
    "help",
    "helpdesk",
    "refresh",
];

/// One person's journey as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub state: State,
    /// Increases with every screen shown; cards carry it back in their actions.
    pub seq: u64,
    /// How often the person snoozed.
    pub snoozes: u32,
    /// The latest device plan, kept across snoozes and hand-offs.
    pub plan: Option<DevicePlan>,
    /// When the latest test sign-in succeeded.
    pub tested_at: Option<Timestamp>,
}

impl Default for Conversation {
    fn default() -> Self {
        Conversation {
            state: State::NotStarted,
            seq: 0,
            snoozes: 0,
            plan: None,
            tested_at: None,
        }
    }
}

/// Where the person is. Each state carries what its later steps need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum State {
    /// Nothing asked yet (the welcome may have been shown).
    NotStarted,
    /// Waiting for the first look at Graph.
    #[serde(rename_all = "camelCase")]
    Assessing { since: Timestamp },
    /// The device plan is on screen.
    Planned,
    /// Following the steps to add a passkey to one device.
    #[serde(rename_all = "camelCase")]
    Registering {
        device: String,
        option: String,
        since: Timestamp,
    },
    /// The person says it is done; Graph has not shown the new method yet.
    #[serde(rename_all = "camelCase")]
    AwaitingGraph {
        device: Option<String>,
        since: Timestamp,
        attempt: u32,
        /// Passkeys, WHFB and platform credentials known before the person went to register.
        known_credentials: u32,
    },
    /// A test sign-in link is on screen.
    #[serde(rename_all = "camelCase")]
    Testing { since: Timestamp },
    /// A test sign-in passed; waiting for the sign-in log to show it, so that the devices it
    /// proves count (the log lags by minutes).
    #[serde(rename_all = "camelCase")]
    ConfirmingTest {
        /// When the test card went up: the test's sign-in is no older.
        test_started: Timestamp,
        attempt: u32,
    },
    /// Safe to enforce and tested: the confirmation card is on screen.
    ReadyToEnforce,
    /// The person confirmed; a fresh look at Graph decides, then the group add.
    #[serde(rename_all = "camelCase")]
    Enforcing {
        since: Timestamp,
        /// The fresh look was safe and the group add was asked for.
        add_requested: bool,
    },
    #[serde(rename_all = "camelCase")]
    Enforced { at: Timestamp },
    #[serde(rename_all = "camelCase")]
    Snoozed { until: Timestamp },
    /// Enforcement waits for these devices until the exclusion lapses.
    #[serde(rename_all = "camelCase")]
    Excluded {
        until: Timestamp,
        reason: String,
        devices: Vec<String>,
    },
    /// A person from the helpdesk takes over.
    #[serde(rename_all = "camelCase")]
    NeedsHelpdesk {
        reason: HelpReason,
        since: Timestamp,
    },
    /// Not in the target population (guest, service account, excluded group).
    #[serde(rename_all = "camelCase")]
    NotTarget { why: String },
}

impl State {
    /// A stable name, for logs, metrics and the admin view.
    pub fn name(&self) -> &'static str {
        match self {
            State::NotStarted => "notStarted",
            State::Assessing { .. } => "assessing",
            State::Planned => "planned",
            State::Registering { .. } => "registering",
            State::AwaitingGraph { .. } => "awaitingGraph",
            State::Testing { .. } => "testing",
            State::ConfirmingTest { .. } => "confirmingTest",
            State::ReadyToEnforce => "readyToEnforce",
            State::Enforcing { .. } => "enforcing",
            State::Enforced { .. } => "enforced",
            State::Snoozed { .. } => "snoozed",
            State::Excluded { .. } => "excluded",
            State::NeedsHelpdesk { .. } => "needsHelpdesk",
            State::NotTarget { .. } => "notTarget",
        }
    }
}

/// Why the helpdesk was asked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HelpReason {
    /// The person asked to talk to someone.
    Asked,
    /// The new passkey never showed up in Graph.
    RegistrationNotFound,
    /// Graph could not be read for this person.
    LookupFailing,
    /// Adding to the enforcement group failed.
    EnforcementFailed,
    /// "I have a new phone": a temporary access pass is needed.
    NewPhone,
}

/// Something that happened to the journey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// The app was installed in the person's personal scope.
    Installed,
    /// A message, already understood.
    Text { intent: Intent },
    /// An `Action.Execute` from one of the journey's cards.
    Action {
        verb: String,
        /// The screen sequence the card was built for (`None`: a card without one).
        seq: Option<u64>,
        #[serde(default)]
        data: serde_json::Value,
    },
    /// A look at Graph was assessed.
    Assessed { plan: DevicePlan },
    /// Graph could not be read (after the client's own retries).
    AssessmentFailed,
    /// The test sign-in came back.
    TestSignIn { result: TestResult },
    /// A scheduled timer fired.
    Timer { timer: Timer },
    /// The group add finished.
    Enforcement { result: EnforcementResult },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum TestResult {
    Passed,
    /// Why it failed, as a stable key the card explains (`strengthNotMet`, `expired`, …).
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EnforcementResult {
    Added,
    AlreadyMember,
    Failed,
}

/// Timers the journey schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "camelCase")]
pub enum Timer {
    /// Look at Graph again for the registration the person reported.
    RecheckGraph {
        attempt: u32,
    },
    /// Look at the sign-in log again for the test sign-in that passed.
    RecheckTest {
        attempt: u32,
    },
    SnoozeOver,
    ExclusionLapsed,
}

/// The screens of the journey; each is one card template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "screen", rename_all = "camelCase")]
pub enum Screen {
    Welcome,
    /// Looking at the person's devices.
    Checking,
    /// The device plan: each device, its verdict and what to do.
    Devices,
    Register {
        device: String,
        option: String,
    },
    /// Waiting for Graph to show the new passkey.
    #[serde(rename_all = "camelCase")]
    WaitingForGraph {
        attempt: u32,
    },
    /// Start the test sign-in.
    Test,
    TestFailed {
        reason: String,
    },
    /// The test sign-in passed; waiting for the sign-in log to show it.
    #[serde(rename_all = "camelCase")]
    ConfirmingTest {
        attempt: u32,
    },
    /// Says what enforcement changes and asks to confirm.
    ConfirmEnforce,
    EnforcementPaused,
    #[serde(rename_all = "camelCase")]
    Protected {
        at: Timestamp,
    },
    SnoozeChoices,
    Snoozed {
        until: Timestamp,
    },
    ExclusionRequest,
    Excluded {
        until: Timestamp,
    },
    Help,
    HelpdeskAsked {
        reason: HelpReason,
    },
    NotTarget,
    OutOfDate,
    /// Graph could not be read; try again later.
    LookupFailed,
}

/// How fresh an assessment's Graph data must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Look {
    /// Cached answers will do (the first look, after a snooze).
    Cached,
    /// The method list read anew; the person's sign-ins and audits may be reused for a
    /// while (after "I've done it" and its rechecks: what changes is the method list).
    FreshMethods,
    /// Everything read anew: the look that decides enforcement, the one that confirms a
    /// passed test, and "check again".
    Fresh,
}

/// What the journey wants done; the engine carries these out after saving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "camelCase")]
pub enum Effect {
    /// Make this the journey card: the answer to the card action, or a new message.
    Show {
        screen: Screen,
    },
    /// Post this as a new message (the current card stays where it is).
    Post {
        screen: Screen,
    },
    /// Look at Graph and assess, as fresh as `look` says. Answers with `Assessed` or
    /// `AssessmentFailed`.
    Assess {
        look: Look,
    },
    Schedule {
        at: Timestamp,
        timer: Timer,
    },
    /// Add the person to the enforcement group. Answers with `Enforcement`.
    AddToEnforcementGroup,
    /// Record an exclusion from enforcement.
    GrantExclusion {
        until: Timestamp,
        reason: String,
        devices: Vec<String>,
    },
    /// Tell the helpdesk, with the diagnosis attached.
    NotifyHelpdesk {
        reason: HelpReason,
    },
    /// Append to the event log (`journey.<kind>`).
    Record {
        kind: String,
        #[serde(default)]
        data: serde_json::Value,
    },
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub next: Conversation,
    pub effects: Vec<Effect>,
}

/// Settings the journey decides with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JourneySettings {
    /// The kill switch: no one is added to the enforcement group.
    pub enforcement_paused: bool,
    /// How long "snooze" waits, in days, as offered on the card.
    pub snooze_days: Vec<u32>,
    /// After this many snoozes the card stops offering them.
    pub max_snoozes: u32,
    /// Waits between looks at Graph after "I've done it", and for a passed test sign-in to
    /// reach the sign-in log.
    pub graph_rechecks: Vec<SignedDuration>,
    /// How long a self-service exclusion lasts.
    pub exclusion: SignedDuration,
    /// How far the sign-in log's clock may be behind ours when it is asked whether it shows
    /// a test sign-in yet.
    pub clock_skew: SignedDuration,
    /// How long a test sign-in link works.
    pub test_link_ttl: SignedDuration,
}

impl Default for JourneySettings {
    fn default() -> Self {
        JourneySettings {
            enforcement_paused: false,
            snooze_days: vec![1, 3, 7],
            max_snoozes: 3,
            graph_rechecks: [15, 30, 60, 120, 300, 600]
                .into_iter()
                .map(SignedDuration::from_secs)
                .collect(),
            exclusion: SignedDuration::from_hours(30 * 24),
            clock_skew: SignedDuration::from_mins(5),
            test_link_ttl: SignedDuration::from_mins(10),
        }
    }
}

/// What a step may know about the world besides the event.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub settings: &'a JourneySettings,
}
