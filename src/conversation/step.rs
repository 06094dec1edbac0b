//! The transitions.

use jiff::SignedDuration;
use serde_json::json;

use super::{
    Conversation, Ctx, DevicePlan, Effect, EnforcementResult, Event, HelpReason, Intent, Look,
    PlanVerdict, Screen, State, Step, TestResult, Timer,
};

/// Longest reason kept for an exclusion request.
const MAX_REASON_CHARS: usize = 500;

/// One step of the journey: the next conversation and what to do.
pub fn step(conv: &Conversation, event: Event, ctx: &Ctx<'_>) -> Step {
    let mut s = Stepper {
        next: conv.clone(),
        effects: Vec::new(),
        ctx,
    };
    match event {
        Event::Installed => s.installed(),
        Event::Text { intent } => s.text(intent),
        Event::Action { verb, seq, data } => {
            if seq.is_some_and(|seq| seq != conv.seq) {
                // The card is older than what the person has moved on to.
                s.effects.push(Effect::Show {
                    screen: Screen::OutOfDate,
                });
                s.post_current();
            } else {
                s.action(&verb, &data);
            }
        }
        Event::Assessed { plan } => s.assessed(plan),
        Event::AssessmentFailed => s.assessment_failed(),
        Event::TestSignIn { result } => s.test_result(result),
        Event::Timer { timer } => s.timer(timer),
        Event::Enforcement { result } => s.enforcement(result),
    }
    let Stepper {
        mut next, effects, ..
    } = s;
    if next.state != conv.state || next.plan != conv.plan {
        next.seq = conv.seq + 1;
    }
    Step { next, effects }
}

struct Stepper<'a> {
    next: Conversation,
    effects: Vec<Effect>,
    ctx: &'a Ctx<'a>,
}

impl Stepper<'_> {
    fn now(&self) -> jiff::Timestamp {
        self.ctx.now
    }

    fn go(&mut self, state: State) {
        self.next.state = state;
    }

    fn show(&mut self, screen: Screen) {
        self.effects.push(Effect::Show { screen });
    }

    fn record(&mut self, kind: &str, data: serde_json::Value) {
        self.effects.push(Effect::Record {
            kind: kind.to_owned(),
            data,
        });
    }

    /// The screen that belongs to the current state.
    fn current_screen(&self) -> Screen {
        match &self.next.state {
            State::NotStarted => Screen::Welcome,
            State::Assessing { .. } | State::Enforcing { .. } => Screen::Checking,
            State::Planned => Screen::Devices,
            State::Registering { device, option, .. } => Screen::Register {
                device: device.clone(),
                option: option.clone(),
            },
            State::AwaitingGraph { attempt, .. } => Screen::WaitingForGraph { attempt: *attempt },
            State::Testing { .. } => Screen::Test,
            State::ConfirmingTest { attempt, .. } => Screen::ConfirmingTest { attempt: *attempt },
            State::ReadyToEnforce => Screen::ConfirmEnforce,
            State::Enforced { at } => Screen::Protected { at: *at },
            State::Snoozed { until } => Screen::Snoozed { until: *until },
            State::Excluded { until, .. } => Screen::Excluded { until: *until },
            State::NeedsHelpdesk { reason, .. } => Screen::HelpdeskAsked {
                reason: reason.clone(),
            },
            State::NotTarget { .. } => Screen::NotTarget,
        }
    }

    fn post_current(&mut self) {
        let screen = self.current_screen();
        self.effects.push(Effect::Post { screen });
    }

    fn is_final(&self) -> bool {
        matches!(
            self.next.state,
            State::Enforced { .. } | State::NotTarget { .. }
        )
    }

    fn installed(&mut self) {
        if matches!(self.next.state, State::NotStarted) {
            self.effects.push(Effect::Post {
                screen: Screen::Welcome,
            });
        } else {
            self.post_current();
        }
    }

    fn text(&mut self, intent: Intent) {
        match intent {
            Intent::Start => match self.next.state {
                State::NotStarted => self.effects.push(Effect::Post {
                    screen: Screen::Welcome,
                }),
                State::Snoozed { .. } => {
                    self.record("snooze_ended_early", json!({}));
                    self.start_assessment(Look::Cached);
                }
                _ => self.post_current(),
            },
            Intent::Status => self.post_current(),
            Intent::Help | Intent::Unknown => self.effects.push(Effect::Post {
                screen: Screen::Help,
            }),
            Intent::Snooze => {
                if self.is_final() {
                    self.post_current();
                } else {
                    self.effects.push(Effect::Post {
                        screen: Screen::SnoozeChoices,
                    });
                }
            }
            Intent::Stop => {
                if self.is_final() {
                    self.post_current();
                } else {
                    // Enforcement still comes; "stop" pauses the conversation for the
                    // longest snooze on offer and says so.
                    let days = self.ctx.settings.snooze_days.iter().copied().max();
                    self.record("stop_asked", json!({}));
                    match days {
                        Some(days) => self.snooze_for(days, true),
                        None => self.post_current(),
                    }
                }
            }
            Intent::NewPhone => {
                let has_credentials = self.next.plan.as_ref().is_some_and(|p| p.credentials > 0);
                if matches!(self.next.state, State::Enforced { .. }) || has_credentials {
                    self.hand_off(HelpReason::NewPhone);
                } else {
                    self.start_assessment(Look::Cached);
                }
            }
            Intent::Human => self.hand_off(HelpReason::Asked),
        }
    }

    fn hand_off(&mut self, reason: HelpReason) {
        self.go(State::NeedsHelpdesk {
            reason: reason.clone(),
            since: self.now(),
        });
        self.effects.push(Effect::NotifyHelpdesk {
            reason: reason.clone(),
        });
        self.record("helpdesk_asked", json!({ "reason": reason }));
        self.show(Screen::HelpdeskAsked { reason });
    }

    fn start_assessment(&mut self, look: Look) {
        if matches!(self.next.state, State::NotStarted) {
            self.record("started", json!({}));
        }
        self.go(State::Assessing { since: self.now() });
        self.effects.push(Effect::Assess { look });
        self.show(Screen::Checking);
    }

    fn action(&mut self, verb: &str, data: &serde_json::Value) {
        let field = |name: &str| data.get(name).and_then(|v| v.as_str()).map(str::trim);
        match verb {
            "start" | "recheck" => {
                if self.is_final() {
                    let screen = self.current_screen();
                    self.show(screen);
                } else {
                    // "Check again" is the person saying something changed: a passkey set up,
                    // a sign-in made with one. Everything is read anew.
                    self.start_assessment(if verb == "recheck" {
                        Look::Fresh
                    } else {
                        Look::Cached
                    });
                }
            }
            "devices" => match (&self.next.plan, &self.next.state) {
                (_, State::Enforced { .. } | State::NotTarget { .. }) => {
                    let screen = self.current_screen();
                    self.show(screen);
                }
                (Some(_), _) => {
                    self.go(State::Planned);
                    self.show(Screen::Devices);
                }
                (None, _) => self.start_assessment(Look::Cached),
            },
            "register" => {
                let chosen = field("device").and_then(|device| {
                    let plan = self.next.plan.as_ref()?;
                    let d = plan.device(device)?;
                    let option = match (&d.status, field("option")) {
                        (super::DeviceStatus::NeedsPasskey { options }, Some(o))
                            if options.iter().any(|x| x == o) =>
                        {
                            o.to_owned()
                        }
                        (super::DeviceStatus::NeedsPasskey { options }, None) => {
                            options.first()?.clone()
                        }
                        // A device that only needs a test can still get a fresh passkey
                        // (deleted from the phone): register with the option asked for.
                        (super::DeviceStatus::NeedsTest { .. }, Some(o)) => o.to_owned(),
                        _ => return None,
                    };
                    Some((d.key.clone(), option))
                });
                match chosen {
                    Some((device, option)) => {
                        self.record(
                            "registration_started",
                            json!({"device": device, "option": option}),
                        );
                        self.go(State::Registering {
                            device: device.clone(),
                            option: option.clone(),
                            since: self.now(),
                        });
                        self.show(Screen::Register { device, option });
                    }
                    None => {
                        let screen = self.current_screen();
                        self.show(screen);
                    }
                }
            }
            "registered" => {
                if let State::Registering { device, .. } = &self.next.state {
                    let device = Some(device.clone());
                    let known = self.next.plan.as_ref().map_or(0, |p| p.credentials);
                    self.record("registration_reported", json!({ "device": device }));
                    self.go(State::AwaitingGraph {
                        device,
                        since: self.now(),
                        attempt: 0,
                        known_credentials: known,
                    });
                    self.effects.push(Effect::Assess {
                        look: Look::FreshMethods,
                    });
                    self.show(Screen::WaitingForGraph { attempt: 0 });
                } else {
                    let screen = self.current_screen();
                    self.show(screen);
                }
            }
            "test" => {
                if self.is_final() || self.next.plan.is_none() {
                    let screen = self.current_screen();
                    self.show(screen);
                } else {
                    self.go(State::Testing { since: self.now() });
                    self.show(Screen::Test);
                }
            }
            "enforce" => {
                if !matches!(self.next.state, State::ReadyToEnforce) {
                    let screen = self.current_screen();
                    self.show(screen);
                } else if self.ctx.settings.enforcement_paused {
                    self.record("enforcement_paused", json!({}));
                    self.show(Screen::EnforcementPaused);
                } else {
                    self.record("enforcement_confirmed", json!({}));
                    self.go(State::Enforcing {
                        since: self.now(),
                        add_requested: false,
                    });
                    self.effects.push(Effect::Assess { look: Look::Fresh });
                    self.show(Screen::Checking);
                }
            }
            "snoozeMenu" => {
                if self.is_final() {
                    let screen = self.current_screen();
                    self.show(screen);
                } else {
                    self.show(Screen::SnoozeChoices);
                }
            }
            "snooze" => {
                let days = data.get("days").and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                });
                let offered = days.filter(|d| {
                    self.ctx
                        .settings
                        .snooze_days
                        .iter()
                        .any(|o| u64::from(*o) == *d)
                });
                if self.is_final() {
                    let screen = self.current_screen();
                    self.show(screen);
                } else if let Some(days) = offered
                    && self.next.snoozes < self.ctx.settings.max_snoozes
                {
                    self.snooze_for(days as u32, false);
                } else {
                    self.show(Screen::SnoozeChoices);
                }
            }
            "exclude" => {
                let incompatible = self
                    .next
                    .plan
                    .as_ref()
                    .map(DevicePlan::incompatible)
                    .unwrap_or_default();
                if incompatible.is_empty() || self.is_final() {
                    let screen = self.current_screen();
                    self.show(screen);
                } else {
                    self.show(Screen::ExclusionRequest);
                }
            }
            "requestExclusion" => {
                let devices = self
                    .next
                    .plan
                    .as_ref()
                    .map(DevicePlan::incompatible)
                    .unwrap_or_default();
                let reason = field("reason").unwrap_or("");
                if devices.is_empty() || self.is_final() {
                    let screen = self.current_screen();
                    self.show(screen);
                } else if reason.is_empty() {
                    // Nothing lost: the request card comes back, asking for the reason.
                    self.show(Screen::ExclusionRequest);
                } else {
                    let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
                    let until = self.now() + self.ctx.settings.exclusion;
                    self.go(State::Excluded {
                        until,
                        reason: reason.clone(),
                        devices: devices.clone(),
                    });
                    self.effects.push(Effect::GrantExclusion {
                        until,
                        reason,
                        devices: devices.clone(),
                    });
                    self.effects.push(Effect::Schedule {
                        at: until,
                        timer: Timer::ExclusionLapsed,
                    });
                    self.record(
                        "exclusion_granted",
                        json!({"until": until.to_string(), "devices": devices}),
                    );
                    self.show(Screen::Excluded { until });
                }
            }
            "help" => self.show(Screen::Help),
            "helpdesk" => self.hand_off(HelpReason::Asked),
            // A refresh of the card (Universal Actions) or anything unknown: show what is true now.
            _ => {
                let screen = self.current_screen();
                self.show(screen);
            }
        }
    }

    fn snooze_for(&mut self, days: u32, stopped: bool) {
        let until = self.now() + SignedDuration::from_hours(i64::from(days) * 24);
        self.next.snoozes += 1;
        self.go(State::Snoozed { until });
        self.effects.push(Effect::Schedule {
            at: until,
            timer: Timer::SnoozeOver,
        });
        self.record(
            "snoozed",
            json!({"days": days, "until": until.to_string(), "stop": stopped}),
        );
        self.show(Screen::Snoozed { until });
    }

    fn assessed(&mut self, plan: DevicePlan) {
        if let PlanVerdict::NotTarget { why } = &plan.verdict {
            let why = why.clone();
            let was = matches!(self.next.state, State::NotTarget { .. });
            self.next.plan = Some(plan);
            if !was {
                self.record("not_target", json!({ "why": why }));
                self.go(State::NotTarget { why });
                self.show(Screen::NotTarget);
            }
            return;
        }
        // Enforcement comes only from a plan in which every device the person uses has signed
        // in with a passkey; a passed test counts once the sign-in log shows it.
        let safe = plan.verdict == PlanVerdict::SafeToEnforce;
        match self.next.state.clone() {
            State::Assessing { .. } => {
                self.next.plan = Some(plan);
                if safe {
                    self.go(State::ReadyToEnforce);
                    self.show(Screen::ConfirmEnforce);
                } else {
                    self.go(State::Planned);
                    self.show(Screen::Devices);
                }
            }
            State::AwaitingGraph {
                device,
                since,
                attempt,
                known_credentials,
            } => {
                let arrived = plan.credentials > known_credentials;
                self.next.plan = Some(plan);
                if arrived {
                    self.record("registration_seen", json!({ "device": device }));
                    self.go(State::Testing { since: self.now() });
                    self.show(Screen::Test);
                } else {
                    self.wait_for_graph(device, since, attempt);
                }
            }
            State::ConfirmingTest {
                test_started,
                attempt,
            } => {
                let logged = plan
                    .last_phishing_resistant
                    .is_some_and(|t| t >= test_started - self.ctx.settings.clock_skew);
                // Only tests are missing: the log may not show this one yet.
                let worth_waiting = plan.devices.iter().all(|d| {
                    matches!(
                        d.status,
                        super::DeviceStatus::Ready | super::DeviceStatus::NeedsTest { .. }
                    )
                });
                self.next.plan = Some(plan);
                if safe {
                    self.record("test_confirmed", json!({}));
                    self.go(State::ReadyToEnforce);
                    self.show(Screen::ConfirmEnforce);
                } else if logged || !worth_waiting {
                    // The test proved what it could; the devices card says what is left.
                    let left: Vec<String> = self
                        .next
                        .plan
                        .as_ref()
                        .map(|p| p.to_test().into_iter().map(|d| d.key.clone()).collect())
                        .unwrap_or_default();
                    self.record(
                        "test_checked",
                        json!({ "inLog": logged, "stillToTest": left }),
                    );
                    self.go(State::Planned);
                    self.show(Screen::Devices);
                } else {
                    self.wait_for_test(test_started, attempt);
                }
            }
            State::Enforcing {
                since,
                add_requested: false,
            } => {
                self.next.plan = Some(plan);
                if safe {
                    self.go(State::Enforcing {
                        since,
                        add_requested: true,
                    });
                    self.effects.push(Effect::AddToEnforcementGroup);
                } else {
                    // Something changed since the confirmation: show the devices again.
                    self.record("enforcement_withheld", json!({}));
                    self.go(State::Planned);
                    self.show(Screen::Devices);
                }
            }
            State::Planned => {
                let changed = self.next.plan.as_ref() != Some(&plan);
                self.next.plan = Some(plan);
                if changed {
                    self.show(Screen::Devices);
                }
            }
            _ => self.next.plan = Some(plan),
        }
    }

    /// Graph does not show the registration yet: look again later, or hand off.
    fn wait_for_graph(&mut self, device: Option<String>, since: jiff::Timestamp, attempt: u32) {
        match self.ctx.settings.graph_rechecks.get(attempt as usize) {
            Some(wait) => {
                let attempt = attempt + 1;
                self.go(State::AwaitingGraph {
                    device,
                    since,
                    attempt,
                    known_credentials: self.known_credentials(),
                });
                self.effects.push(Effect::Schedule {
                    at: self.now() + *wait,
                    timer: Timer::RecheckGraph { attempt },
                });
                self.show(Screen::WaitingForGraph { attempt });
            }
            None => self.hand_off(HelpReason::RegistrationNotFound),
        }
    }

    /// The sign-in log does not show the passed test yet: look again later, or show the
    /// devices as the log has them.
    fn wait_for_test(&mut self, test_started: jiff::Timestamp, attempt: u32) {
        match self.ctx.settings.graph_rechecks.get(attempt as usize) {
            Some(wait) => {
                let attempt = attempt + 1;
                self.go(State::ConfirmingTest {
                    test_started,
                    attempt,
                });
                self.effects.push(Effect::Schedule {
                    at: self.now() + *wait,
                    timer: Timer::RecheckTest { attempt },
                });
                self.show(Screen::ConfirmingTest { attempt });
            }
            None => {
                self.record("test_not_in_log", json!({}));
                self.go(State::Planned);
                self.show(Screen::Devices);
            }
        }
    }

    fn known_credentials(&self) -> u32 {
        match &self.next.state {
            State::AwaitingGraph {
                known_credentials, ..
            } => *known_credentials,
            _ => 0,
        }
    }

    fn assessment_failed(&mut self) {
        match self.next.state.clone() {
            State::Assessing { .. } | State::Enforcing { .. } => {
                self.record("lookup_failed", json!({}));
                self.go(if self.next.plan.is_some() {
                    State::Planned
                } else {
                    State::NotStarted
                });
                self.show(Screen::LookupFailed);
            }
            State::AwaitingGraph {
                device,
                since,
                attempt,
                ..
            } => self.wait_for_graph(device, since, attempt),
            State::ConfirmingTest {
                test_started,
                attempt,
            } => self.wait_for_test(test_started, attempt),
            _ => {}
        }
    }

    fn test_result(&mut self, result: TestResult) {
        match result {
            TestResult::Passed => {
                self.next.tested_at = Some(self.now());
                self.record("test_passed", json!({}));
                // The sign-in happened after the test card went up, and while its link lived.
                let test_started = match self.next.state {
                    State::Testing { since } => since,
                    State::Planned => self.now() - self.ctx.settings.test_link_ttl,
                    // Remembered for later (the log keeps the sign-in); the journey is
                    // elsewhere now.
                    _ => return,
                };
                // What the test proves comes from the sign-in log, per device: a fresh look.
                self.go(State::ConfirmingTest {
                    test_started,
                    attempt: 0,
                });
                self.effects.push(Effect::Assess { look: Look::Fresh });
                self.show(Screen::ConfirmingTest { attempt: 0 });
            }
            TestResult::Failed { reason } => {
                self.record("test_failed", json!({ "reason": reason }));
                if !matches!(self.next.state, State::Testing { .. } | State::Planned) {
                    return;
                }
                self.go(State::Testing { since: self.now() });
                self.show(Screen::TestFailed { reason });
            }
        }
    }

    fn timer(&mut self, timer: Timer) {
        match (timer, self.next.state.clone()) {
            (Timer::RecheckGraph { attempt }, State::AwaitingGraph { attempt: now, .. })
                if attempt == now =>
            {
                self.effects.push(Effect::Assess {
                    look: Look::FreshMethods,
                });
            }
            (Timer::RecheckTest { attempt }, State::ConfirmingTest { attempt: now, .. })
                if attempt == now =>
            {
                self.effects.push(Effect::Assess { look: Look::Fresh });
            }
            (Timer::SnoozeOver, State::Snoozed { until }) if self.now() >= until => {
                self.record("snooze_over", json!({}));
                self.go(State::Assessing { since: self.now() });
                self.effects.push(Effect::Assess { look: Look::Cached });
            }
            (Timer::ExclusionLapsed, State::Excluded { until, .. }) if self.now() >= until => {
                self.record("exclusion_lapsed", json!({}));
                self.go(State::Assessing { since: self.now() });
                self.effects.push(Effect::Assess {
                    look: Look::FreshMethods,
                });
            }
            // A timer the journey has moved past.
            _ => {}
        }
    }

    fn enforcement(&mut self, result: EnforcementResult) {
        if !matches!(
            self.next.state,
            State::Enforcing {
                add_requested: true,
                ..
            }
        ) {
            self.record("enforcement_result_ignored", json!({ "result": result }));
            return;
        }
        match result {
            EnforcementResult::Added | EnforcementResult::AlreadyMember => {
                let at = self.now();
                self.record("enforced", json!({ "result": result }));
                self.go(State::Enforced { at });
                self.show(Screen::Protected { at });
            }
            EnforcementResult::Failed => self.hand_off(HelpReason::EnforcementFailed),
        }
    }
}
