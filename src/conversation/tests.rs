use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use serde_json::json;

use super::*;

fn t0() -> Timestamp {
    "2026-11-25T09:00:00Z".parse().unwrap()
}

fn device(key: &str, status: DeviceStatus) -> PlannedDevice {
    PlannedDevice {
        key: key.to_owned(),
        label: key.to_owned(),
        os: if key.starts_with("iphone") {
            "ios"
        } else {
            "windows"
        }
        .to_owned(),
        status,
    }
}

fn needs_passkey() -> DeviceStatus {
    DeviceStatus::NeedsPasskey {
        options: vec!["authenticatorPasskey".into(), "securityKey".into()],
    }
}

fn needs_test() -> DeviceStatus {
    DeviceStatus::NeedsTest {
        hint: "notTriedSinceRegistration".into(),
    }
}

fn plan(verdict: PlanVerdict, credentials: u32, devices: Vec<PlannedDevice>) -> DevicePlan {
    DevicePlan {
        assessed_at: t0(),
        verdict,
        devices,
        credentials,
        login_hint: None,
        last_phishing_resistant: None,
    }
}

/// The plan once the sign-in log shows the test: every device proven.
fn proven_plan(at: Timestamp) -> DevicePlan {
    let mut p = plan(
        PlanVerdict::SafeToEnforce,
        1,
        vec![
            device("iphone", DeviceStatus::Ready),
            device("pc", DeviceStatus::Ready),
        ],
    );
    p.last_phishing_resistant = Some(at);
    p
}

/// iPhone without a passkey, Windows 11 PC that can use the phone's passkey.
fn push_only_plan() -> DevicePlan {
    plan(
        PlanVerdict::NotYet,
        0,
        vec![
            device("iphone", needs_passkey()),
            device("pc", needs_passkey()),
        ],
    )
}

/// After the iPhone passkey reached Graph: both devices only need a passkey sign-in.
fn registered_plan() -> DevicePlan {
    plan(
        PlanVerdict::NotYet,
        1,
        vec![device("iphone", needs_test()), device("pc", needs_test())],
    )
}

fn incompatible_plan() -> DevicePlan {
    plan(
        PlanVerdict::NeedsExclusion,
        0,
        vec![device(
            "iphone-old",
            DeviceStatus::Incompatible {
                reason: "iosTooOld".into(),
                remedies: vec!["upgradeOs".into(), "securityKey".into(), "exclusion".into()],
            },
        )],
    )
}

struct Journey {
    conv: Conversation,
    now: Timestamp,
    settings: JourneySettings,
}

impl Journey {
    fn new() -> Journey {
        Journey {
            conv: Conversation::default(),
            now: t0(),
            settings: JourneySettings::default(),
        }
    }

    fn at(state: State, plan: Option<DevicePlan>) -> Journey {
        let mut j = Journey::new();
        j.conv.state = state;
        j.conv.plan = plan;
        j.conv.seq = 7;
        j
    }

    fn send(&mut self, event: Event) -> Vec<Effect> {
        let ctx = Ctx {
            now: self.now,
            settings: &self.settings,
        };
        let step = step(&self.conv, event, &ctx);
        self.conv = step.next;
        step.effects
    }

    fn click(&mut self, verb: &str, data: serde_json::Value) -> Vec<Effect> {
        let seq = Some(self.conv.seq);
        self.send(Event::Action {
            verb: verb.to_owned(),
            seq,
            data,
        })
    }

    fn say(&mut self, text: &str) -> Vec<Effect> {
        self.send(Event::Text {
            intent: intent::parse(text),
        })
    }

    fn advance(&mut self, by: SignedDuration) {
        self.now += by;
    }
}

fn shows(effects: &[Effect]) -> Vec<&Screen> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Show { screen } | Effect::Post { screen } => Some(screen),
            _ => None,
        })
        .collect()
}

fn has(effects: &[Effect], wanted: &Effect) -> bool {
    effects.contains(wanted)
}

fn recorded(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record { kind, .. } => Some(kind.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn from_welcome_to_protected_takes_five_clicks_when_nothing_is_wrong() {
    let mut j = Journey::new();
    let fx = j.send(Event::Installed);
    assert_eq!(shows(&fx), [&Screen::Welcome]);

    let mut clicks = 0;
    clicks += 1;
    let fx = j.click("start", json!({}));
    assert!(has(&fx, &Effect::Assess { look: Look::Cached }));
    assert_eq!(shows(&fx), [&Screen::Checking]);
    assert_eq!(recorded(&fx), ["started"]);

    let fx = j.send(Event::Assessed {
        plan: push_only_plan(),
    });
    assert_eq!(j.conv.state, State::Planned);
    assert_eq!(shows(&fx), [&Screen::Devices]);

    clicks += 1;
    let fx = j.click(
        "register",
        json!({"device": "iphone", "option": "authenticatorPasskey"}),
    );
    assert_eq!(
        shows(&fx),
        [&Screen::Register {
            device: "iphone".into(),
            option: "authenticatorPasskey".into()
        }]
    );

    clicks += 1;
    let fx = j.click("registered", json!({}));
    assert!(has(
        &fx,
        &Effect::Assess {
            look: Look::FreshMethods
        }
    ));
    assert_eq!(shows(&fx), [&Screen::WaitingForGraph { attempt: 0 }]);

    j.advance(SignedDuration::from_secs(5));
    let fx = j.send(Event::Assessed {
        plan: registered_plan(),
    });
    assert_eq!(shows(&fx), [&Screen::Test]);
    assert!(matches!(j.conv.state, State::Testing { .. }));

    clicks += 1; // the test card's sign-in link, on the PC with the phone's passkey
    j.advance(SignedDuration::from_secs(40));
    let fx = j.send(Event::TestSignIn {
        result: TestResult::Passed,
    });
    assert!(has(&fx, &Effect::Assess { look: Look::Fresh }));
    assert_eq!(shows(&fx), [&Screen::ConfirmingTest { attempt: 0 }]);
    let fx = j.send(Event::Assessed {
        plan: proven_plan(j.now - SignedDuration::from_secs(10)),
    });
    assert_eq!(shows(&fx), [&Screen::ConfirmEnforce]);

    clicks += 1;
    let fx = j.click("enforce", json!({}));
    assert!(has(&fx, &Effect::Assess { look: Look::Fresh }));
    assert!(!has(&fx, &Effect::AddToEnforcementGroup));

    let fx = j.send(Event::Assessed {
        plan: proven_plan(j.now - SignedDuration::from_secs(10)),
    });
    assert_eq!(fx, [Effect::AddToEnforcementGroup]);

    let fx = j.send(Event::Enforcement {
        result: EnforcementResult::Added,
    });
    assert_eq!(shows(&fx), [&Screen::Protected { at: j.now }]);
    assert_eq!(j.conv.state, State::Enforced { at: j.now });
    assert_eq!(clicks, 5);
}

#[test]
fn a_person_who_already_uses_passkeys_everywhere_goes_straight_to_confirmation() {
    let mut j = Journey::new();
    j.click("start", json!({}));
    let fx = j.send(Event::Assessed {
        plan: plan(
            PlanVerdict::SafeToEnforce,
            2,
            vec![device("pc", DeviceStatus::Ready)],
        ),
    });
    assert_eq!(shows(&fx), [&Screen::ConfirmEnforce]);
    assert_eq!(j.conv.state, State::ReadyToEnforce);
}

#[test]
fn an_old_card_gets_out_of_date_and_the_current_card_never_a_transition() {
    let mut j = Journey::at(State::Planned, Some(push_only_plan()));
    j.click("register", json!({"device": "iphone"}));
    let registering = j.conv.clone();
    // "Start" on the welcome card from long ago.
    let fx = j.send(Event::Action {
        verb: "start".into(),
        seq: Some(3),
        data: json!({}),
    });
    assert_eq!(
        shows(&fx),
        [
            &Screen::OutOfDate,
            &Screen::Register {
                device: "iphone".into(),
                option: "authenticatorPasskey".into()
            }
        ]
    );
    assert!(matches!(fx[0], Effect::Show { .. }) && matches!(fx[1], Effect::Post { .. }));
    assert_eq!(j.conv, registering);
}

#[test]
fn a_card_action_delivered_twice_has_one_effect() {
    let mut j = Journey::at(
        State::Registering {
            device: "iphone".into(),
            option: "authenticatorPasskey".into(),
            since: t0(),
        },
        Some(push_only_plan()),
    );
    let seq = j.conv.seq;
    let first = j.send(Event::Action {
        verb: "registered".into(),
        seq: Some(seq),
        data: json!({}),
    });
    let second = j.send(Event::Action {
        verb: "registered".into(),
        seq: Some(seq),
        data: json!({}),
    });
    assert!(has(
        &first,
        &Effect::Assess {
            look: Look::FreshMethods
        }
    ));
    assert!(!second.iter().any(|e| matches!(e, Effect::Assess { .. })));
    assert_eq!(shows(&second)[0], &Screen::OutOfDate);
}

#[test]
fn graph_lag_is_waited_out_with_backoff_and_then_handed_to_the_helpdesk() {
    let mut j = Journey::at(
        State::Registering {
            device: "iphone".into(),
            option: "authenticatorPasskey".into(),
            since: t0(),
        },
        Some(push_only_plan()),
    );
    j.click("registered", json!({}));
    let waits = j.settings.graph_rechecks.clone();
    for (i, wait) in waits.iter().enumerate() {
        let fx = j.send(Event::Assessed {
            plan: push_only_plan(),
        });
        let attempt = i as u32 + 1;
        assert!(
            has(
                &fx,
                &Effect::Schedule {
                    at: j.now + *wait,
                    timer: Timer::RecheckGraph { attempt }
                }
            ),
            "{fx:?}"
        );
        assert_eq!(shows(&fx), [&Screen::WaitingForGraph { attempt }]);
        // Never says done before Graph shows the method.
        assert!(!shows(&fx).contains(&&Screen::Test));
        j.advance(*wait);
        let fx = j.send(Event::Timer {
            timer: Timer::RecheckGraph { attempt },
        });
        assert_eq!(
            fx,
            [Effect::Assess {
                look: Look::FreshMethods
            }]
        );
    }
    let fx = j.send(Event::Assessed {
        plan: push_only_plan(),
    });
    assert!(has(
        &fx,
        &Effect::NotifyHelpdesk {
            reason: HelpReason::RegistrationNotFound
        }
    ));
    assert!(matches!(
        j.conv.state,
        State::NeedsHelpdesk {
            reason: HelpReason::RegistrationNotFound,
            ..
        }
    ));
}

#[test]
fn a_timer_the_journey_moved_past_does_nothing() {
    let mut j = Journey::at(State::Testing { since: t0() }, Some(registered_plan()));
    let before = j.conv.clone();
    for timer in [
        Timer::RecheckGraph { attempt: 2 },
        Timer::SnoozeOver,
        Timer::ExclusionLapsed,
    ] {
        assert!(j.send(Event::Timer { timer }).is_empty());
    }
    assert_eq!(j.conv, before);
}

#[test]
fn the_kill_switch_stops_enforcement() {
    let mut j = Journey::at(State::ReadyToEnforce, Some(registered_plan()));
    j.settings.enforcement_paused = true;
    let fx = j.click("enforce", json!({}));
    assert_eq!(shows(&fx), [&Screen::EnforcementPaused]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Assess { .. })));
    assert_eq!(j.conv.state, State::ReadyToEnforce);
}

#[test]
fn enforcement_waits_until_every_active_device_is_ready() {
    let mut j = Journey::at(State::ReadyToEnforce, Some(registered_plan()));
    j.conv.tested_at = Some(t0());
    j.click("enforce", json!({}));
    // The fresh look shows a device nobody knew about.
    let mut fresh = registered_plan();
    fresh.devices.push(device("tablet", needs_passkey()));
    let fx = j.send(Event::Assessed { plan: fresh });
    assert!(!has(&fx, &Effect::AddToEnforcementGroup));
    assert_eq!(shows(&fx), [&Screen::Devices]);
    assert_eq!(j.conv.state, State::Planned);
}

#[test]
fn an_untested_person_is_not_enforced_even_if_graph_shows_passkeys() {
    let mut j = Journey::at(
        State::Enforcing {
            since: t0(),
            add_requested: false,
        },
        Some(registered_plan()),
    );
    let fx = j.send(Event::Assessed {
        plan: registered_plan(),
    });
    assert!(!has(&fx, &Effect::AddToEnforcementGroup));
    // Nor does a test that just passed stand in for devices the log does not show it proving.
    let mut j = Journey::at(
        State::Enforcing {
            since: t0(),
            add_requested: false,
        },
        Some(registered_plan()),
    );
    j.conv.tested_at = Some(t0());
    let mut fresh = registered_plan();
    fresh.last_phishing_resistant = Some(t0());
    let fx = j.send(Event::Assessed { plan: fresh });
    assert!(!has(&fx, &Effect::AddToEnforcementGroup));
    assert_eq!(shows(&fx), [&Screen::Devices]);
}

/// The test card is up, the plan says both devices need a passkey sign-in.
fn testing() -> Journey {
    Journey::at(State::Testing { since: t0() }, Some(registered_plan()))
}

fn pass(j: &mut Journey) -> Vec<Effect> {
    j.advance(SignedDuration::from_secs(90));
    j.send(Event::TestSignIn {
        result: TestResult::Passed,
    })
}

#[test]
fn a_test_on_the_phone_does_not_clear_the_pc_it_never_proved() {
    let mut j = testing();
    pass(&mut j);
    // The log shows the test, from the iPhone: the PC still has no passkey sign-in.
    let mut after = plan(
        PlanVerdict::NotYet,
        1,
        vec![
            device("iphone", DeviceStatus::Ready),
            device("pc", needs_test()),
        ],
    );
    after.last_phishing_resistant = Some(t0() + SignedDuration::from_secs(80));
    let fx = j.send(Event::Assessed { plan: after });
    assert_eq!(j.conv.state, State::Planned);
    assert_eq!(shows(&fx), [&Screen::Devices]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Schedule { .. })));
    assert!(has(
        &fx,
        &Effect::Record {
            kind: "test_checked".into(),
            data: json!({"inLog": true, "stillToTest": ["pc"]}),
        }
    ));
    assert_eq!(
        j.conv.plan.as_ref().unwrap().to_test()[0].key,
        "pc",
        "the devices card says the PC still needs a test"
    );
    // Asking to enforce from here does nothing: there is no confirmation card to click.
    let fx = j.click("enforce", json!({}));
    assert!(!has(&fx, &Effect::AddToEnforcementGroup));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Assess { .. })));
}

#[test]
fn a_passed_test_waits_for_the_sign_in_log_then_counts() {
    let mut j = testing();
    let fx = pass(&mut j);
    assert_eq!(
        j.conv.state,
        State::ConfirmingTest {
            test_started: t0(),
            attempt: 0
        }
    );
    assert!(has(&fx, &Effect::Assess { look: Look::Fresh }));
    assert_eq!(recorded(&fx), ["test_passed"]);
    // The log does not show the test yet: look again, with the Graph rechecks' backoff.
    let fx = j.send(Event::Assessed {
        plan: registered_plan(),
    });
    assert_eq!(shows(&fx), [&Screen::ConfirmingTest { attempt: 1 }]);
    assert!(has(
        &fx,
        &Effect::Schedule {
            at: j.now + j.settings.graph_rechecks[0],
            timer: Timer::RecheckTest { attempt: 1 }
        }
    ));
    // A stale timer does nothing; the due one looks again, everything fresh.
    assert!(
        j.send(Event::Timer {
            timer: Timer::RecheckTest { attempt: 0 }
        })
        .is_empty()
    );
    let fx = j.send(Event::Timer {
        timer: Timer::RecheckTest { attempt: 1 },
    });
    assert_eq!(fx, [Effect::Assess { look: Look::Fresh }]);
    // A failed look waits too.
    let fx = j.send(Event::AssessmentFailed);
    assert_eq!(shows(&fx), [&Screen::ConfirmingTest { attempt: 2 }]);
    let fx = j.send(Event::Assessed {
        plan: proven_plan(t0() + SignedDuration::from_secs(60)),
    });
    assert_eq!(shows(&fx), [&Screen::ConfirmEnforce]);
    assert_eq!(j.conv.state, State::ReadyToEnforce);
}

#[test]
fn a_test_the_log_never_shows_ends_on_the_devices_card() {
    let mut j = testing();
    j.settings.graph_rechecks = vec![SignedDuration::from_secs(15)];
    pass(&mut j);
    j.send(Event::Assessed {
        plan: registered_plan(),
    });
    let fx = j.send(Event::Assessed {
        plan: registered_plan(),
    });
    assert_eq!(shows(&fx), [&Screen::Devices]);
    assert_eq!(recorded(&fx), ["test_not_in_log"]);
    assert_eq!(j.conv.state, State::Planned);
}

#[test]
fn a_sign_in_older_than_the_test_does_not_confirm_it() {
    let mut j = testing();
    pass(&mut j);
    let mut old = registered_plan();
    // A passkey sign-in from yesterday; the skew allowance is minutes, not days.
    old.last_phishing_resistant = Some(t0() - SignedDuration::from_hours(24));
    let fx = j.send(Event::Assessed { plan: old });
    assert_eq!(shows(&fx), [&Screen::ConfirmingTest { attempt: 1 }]);
    // One a little before the card by our clock counts: the log's clock may be behind.
    let mut skewed = registered_plan();
    skewed.last_phishing_resistant = Some(t0() - SignedDuration::from_mins(2));
    let fx = j.send(Event::Assessed { plan: skewed });
    assert_eq!(shows(&fx), [&Screen::Devices]);
}

#[test]
fn a_device_that_needs_a_passkey_is_not_waited_for_after_a_test() {
    let mut j = testing();
    pass(&mut j);
    let mut after = registered_plan();
    after.devices.push(device("tablet", needs_passkey()));
    let fx = j.send(Event::Assessed { plan: after });
    assert_eq!(shows(&fx), [&Screen::Devices]);
    assert_eq!(j.conv.state, State::Planned);
}

#[test]
fn a_test_passed_while_the_devices_card_is_up_is_confirmed_too() {
    let mut j = Journey::at(State::Planned, Some(registered_plan()));
    let fx = pass(&mut j);
    assert!(has(&fx, &Effect::Assess { look: Look::Fresh }));
    assert_eq!(
        j.conv.state,
        State::ConfirmingTest {
            test_started: j.now - j.settings.test_link_ttl,
            attempt: 0
        }
    );
    // Elsewhere in the journey it is only remembered.
    let mut j = Journey::at(State::Snoozed { until: t0() }, Some(registered_plan()));
    let fx = pass(&mut j);
    assert_eq!(recorded(&fx), ["test_passed"]);
    assert!(matches!(j.conv.state, State::Snoozed { .. }));
}

#[test]
fn already_a_member_is_success_and_a_failed_add_goes_to_the_helpdesk() {
    let mut j = Journey::at(
        State::Enforcing {
            since: t0(),
            add_requested: true,
        },
        Some(registered_plan()),
    );
    let fx = j.send(Event::Enforcement {
        result: EnforcementResult::AlreadyMember,
    });
    assert_eq!(shows(&fx), [&Screen::Protected { at: t0() }]);

    let mut j = Journey::at(
        State::Enforcing {
            since: t0(),
            add_requested: true,
        },
        Some(registered_plan()),
    );
    let fx = j.send(Event::Enforcement {
        result: EnforcementResult::Failed,
    });
    assert!(has(
        &fx,
        &Effect::NotifyHelpdesk {
            reason: HelpReason::EnforcementFailed
        }
    ));

    // A result nobody asked for (no safe fresh look yet) is only recorded.
    let mut j = Journey::at(
        State::Enforcing {
            since: t0(),
            add_requested: false,
        },
        Some(registered_plan()),
    );
    let fx = j.send(Event::Enforcement {
        result: EnforcementResult::Added,
    });
    assert_eq!(recorded(&fx), ["enforcement_result_ignored"]);
    assert!(matches!(j.conv.state, State::Enforcing { .. }));

    // A late result in another state is only recorded.
    let mut j = Journey::at(State::Planned, Some(registered_plan()));
    let fx = j.send(Event::Enforcement {
        result: EnforcementResult::Added,
    });
    assert_eq!(recorded(&fx), ["enforcement_result_ignored"]);
    assert_eq!(j.conv.state, State::Planned);
}

#[test]
fn an_incompatible_phone_can_get_a_temporary_exclusion_with_a_reason() {
    let mut j = Journey::new();
    j.click("start", json!({}));
    j.send(Event::Assessed {
        plan: incompatible_plan(),
    });
    let fx = j.click("exclude", json!({}));
    assert_eq!(shows(&fx), [&Screen::ExclusionRequest]);

    let fx = j.click("requestExclusion", json!({"reason": "   "}));
    assert_eq!(shows(&fx), [&Screen::ExclusionRequest]);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::GrantExclusion { .. }))
    );

    let fx = j.click(
        "requestExclusion",
        json!({"reason": "company phone, replacement ordered"}),
    );
    let until = t0() + j.settings.exclusion;
    assert!(has(
        &fx,
        &Effect::GrantExclusion {
            until,
            reason: "company phone, replacement ordered".into(),
            devices: vec!["iphone-old".into()],
        }
    ));
    assert!(has(
        &fx,
        &Effect::Schedule {
            at: until,
            timer: Timer::ExclusionLapsed
        }
    ));
    assert_eq!(shows(&fx), [&Screen::Excluded { until }]);

    // Re-checked when it lapses, not before.
    j.advance(SignedDuration::from_hours(24));
    assert!(
        j.send(Event::Timer {
            timer: Timer::ExclusionLapsed
        })
        .is_empty()
    );
    j.now = until;
    let fx = j.send(Event::Timer {
        timer: Timer::ExclusionLapsed,
    });
    assert!(has(
        &fx,
        &Effect::Assess {
            look: Look::FreshMethods
        }
    ));
    assert!(matches!(j.conv.state, State::Assessing { .. }));
}

#[test]
fn exclusion_is_only_offered_for_incompatible_devices() {
    let mut j = Journey::at(State::Planned, Some(push_only_plan()));
    let fx = j.click("requestExclusion", json!({"reason": "I don't want to"}));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::GrantExclusion { .. }))
    );
    assert_eq!(j.conv.state, State::Planned);
}

#[test]
fn snoozing_waits_the_chosen_days_and_is_limited() {
    let mut j = Journey::at(State::Planned, Some(push_only_plan()));
    let fx = j.click("snooze", json!({"days": 2}));
    assert_eq!(
        shows(&fx),
        [&Screen::SnoozeChoices],
        "2 days is not offered"
    );

    let fx = j.click("snooze", json!({"days": "3"}));
    let until = t0() + SignedDuration::from_hours(72);
    assert_eq!(j.conv.state, State::Snoozed { until });
    assert!(has(
        &fx,
        &Effect::Schedule {
            at: until,
            timer: Timer::SnoozeOver
        }
    ));
    assert!(
        j.send(Event::Timer {
            timer: Timer::SnoozeOver
        })
        .is_empty(),
        "not over yet"
    );
    j.now = until;
    let fx = j.send(Event::Timer {
        timer: Timer::SnoozeOver,
    });
    assert!(has(&fx, &Effect::Assess { look: Look::Cached }));

    let mut j = Journey::at(State::Planned, Some(push_only_plan()));
    j.conv.snoozes = j.settings.max_snoozes;
    let fx = j.click("snooze", json!({"days": 1}));
    assert_eq!(shows(&fx), [&Screen::SnoozeChoices]);
    assert_eq!(j.conv.state, State::Planned);
}

#[test]
fn someone_who_ignores_the_first_card_and_comes_back_days_later_continues() {
    let mut j = Journey::new();
    j.send(Event::Installed);
    j.advance(SignedDuration::from_hours(24 * 4));
    let fx = j.say("hi");
    assert_eq!(shows(&fx), [&Screen::Welcome]);
    let fx = j.click("start", json!({}));
    assert!(has(&fx, &Effect::Assess { look: Look::Cached }));
}

#[test]
fn free_text_gets_help_status_or_the_helpdesk() {
    let mut j = Journey::at(State::Planned, Some(push_only_plan()));
    assert_eq!(shows(&j.say("what's the weather")), [&Screen::Help]);
    assert_eq!(shows(&j.say("Hilfe")), [&Screen::Help]);
    assert_eq!(shows(&j.say("status")), [&Screen::Devices]);
    assert_eq!(j.conv.state, State::Planned);
    let fx = j.say("I'd like to talk to someone");
    assert!(has(
        &fx,
        &Effect::NotifyHelpdesk {
            reason: HelpReason::Asked
        }
    ));
}

#[test]
fn a_new_phone_after_registering_needs_the_helpdesk_for_a_temporary_pass() {
    let mut j = Journey::at(State::Enforced { at: t0() }, Some(registered_plan()));
    let fx = j.say("I have a new phone");
    assert!(has(
        &fx,
        &Effect::NotifyHelpdesk {
            reason: HelpReason::NewPhone
        }
    ));
    // Without any passkey yet, a new phone just starts the journey.
    let mut j = Journey::new();
    let fx = j.say("Ich habe ein neues Handy");
    assert!(has(&fx, &Effect::Assess { look: Look::Cached }));
}

#[test]
fn stop_pauses_for_the_longest_snooze_and_says_until_when() {
    let mut j = Journey::at(State::Planned, Some(push_only_plan()));
    let fx = j.say("stop");
    let until = t0() + SignedDuration::from_hours(24 * 7);
    assert_eq!(j.conv.state, State::Snoozed { until });
    assert_eq!(shows(&fx), [&Screen::Snoozed { until }]);
    assert!(recorded(&fx).contains(&"stop_asked"));
}

#[test]
fn a_failed_test_is_explained_and_registering_again_is_offered() {
    let mut j = Journey::at(State::Testing { since: t0() }, Some(registered_plan()));
    let fx = j.send(Event::TestSignIn {
        result: TestResult::Failed {
            reason: "strengthNotMet".into(),
        },
    });
    assert_eq!(
        shows(&fx),
        [&Screen::TestFailed {
            reason: "strengthNotMet".into()
        }]
    );
    // The passkey was deleted from the phone: register a new one on it.
    let fx = j.click(
        "register",
        json!({"device": "iphone", "option": "authenticatorPasskey"}),
    );
    assert!(matches!(j.conv.state, State::Registering { .. }), "{fx:?}");
}

#[test]
fn a_person_outside_the_target_population_is_told_and_left_alone() {
    let mut j = Journey::new();
    j.click("start", json!({}));
    let fx = j.send(Event::Assessed {
        plan: plan(
            PlanVerdict::NotTarget {
                why: "guest".into(),
            },
            0,
            vec![],
        ),
    });
    assert_eq!(shows(&fx), [&Screen::NotTarget]);
    let fx = j.click("start", json!({}));
    assert_eq!(shows(&fx), [&Screen::NotTarget]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Assess { .. })));
}

#[test]
fn a_failed_lookup_says_so_and_keeps_the_plan() {
    let mut j = Journey::at(State::Assessing { since: t0() }, Some(push_only_plan()));
    let fx = j.send(Event::AssessmentFailed);
    assert_eq!(shows(&fx), [&Screen::LookupFailed]);
    assert_eq!(j.conv.state, State::Planned);
}

#[test]
fn the_screen_sequence_moves_only_when_state_or_plan_changes() {
    let mut j = Journey::at(State::Planned, Some(push_only_plan()));
    let seq = j.conv.seq;
    j.say("help");
    j.click("help", json!({}));
    assert_eq!(j.conv.seq, seq);
    j.click("register", json!({"device": "pc"}));
    assert_eq!(j.conv.seq, seq + 1);
}

#[test]
fn the_conversation_survives_a_round_trip_through_json() {
    let mut j = Journey::at(State::Planned, Some(incompatible_plan()));
    j.click("requestExclusion", json!({"reason": "old phone"}));
    let text = serde_json::to_string(&j.conv).unwrap();
    let back: Conversation = serde_json::from_str(&text).unwrap();
    assert_eq!(back, j.conv);
}

fn any_plan() -> impl Strategy<Value = DevicePlan> {
    let status = prop_oneof![
        Just(DeviceStatus::Ready),
        Just(needs_test()),
        Just(needs_passkey()),
        Just(DeviceStatus::Incompatible {
            reason: "iosTooOld".into(),
            remedies: vec!["exclusion".into()]
        }),
        Just(DeviceStatus::Unknown {
            ask: vec!["osVersion".into()]
        }),
    ];
    let verdict = prop_oneof![
        Just(PlanVerdict::SafeToEnforce),
        Just(PlanVerdict::NotYet),
        Just(PlanVerdict::NeedsExclusion),
        Just(PlanVerdict::NotTarget {
            why: "guest".into()
        }),
    ];
    (verdict, 0u32..3, prop::collection::vec(status, 0..3)).prop_map(|(verdict, c, statuses)| {
        // Keep the verdict consistent with the devices, as readiness makes it.
        let devices: Vec<_> = statuses
            .into_iter()
            .enumerate()
            .map(|(i, s)| device(&format!("d{i}"), s))
            .collect();
        let all_ready =
            !devices.is_empty() && devices.iter().all(|d| d.status == DeviceStatus::Ready);
        let verdict = match verdict {
            PlanVerdict::SafeToEnforce if !all_ready => PlanVerdict::NotYet,
            v => v,
        };
        plan(verdict, c, devices)
    })
}

fn any_event() -> impl Strategy<Value = Event> {
    let verbs = prop_oneof![
        Just("start"),
        Just("devices"),
        Just("register"),
        Just("registered"),
        Just("test"),
        Just("enforce"),
        Just("snooze"),
        Just("exclude"),
        Just("requestExclusion"),
        Just("help"),
        Just("refresh"),
    ];
    prop_oneof![
        1 => Just(Event::Installed),
        1 => prop_oneof![
            Just(Intent::Start),
            Just(Intent::Status),
            Just(Intent::Snooze),
            Just(Intent::Stop),
            Just(Intent::NewPhone),
            Just(Intent::Unknown)
        ]
        .prop_map(|intent| Event::Text { intent }),
        // Mostly clicks on the current card (no seq), sometimes on an old one.
        8 => (verbs, prop::option::weighted(0.2, 0u64..6)).prop_map(|(verb, seq)| Event::Action {
            verb: verb.into(),
            seq,
            data: json!({"device": "d0", "days": 1, "reason": "r"}),
        }),
        4 => any_plan().prop_map(|plan| Event::Assessed { plan }),
        1 => Just(Event::AssessmentFailed),
        2 => Just(Event::TestSignIn {
            result: TestResult::Passed
        }),
        1 => Just(Event::TestSignIn {
            result: TestResult::Failed {
                reason: "expired".into()
            }
        }),
        1 => (0u32..4).prop_map(|attempt| Event::Timer {
            timer: Timer::RecheckGraph { attempt }
        }),
        1 => (0u32..4).prop_map(|attempt| Event::Timer {
            timer: Timer::RecheckTest { attempt }
        }),
        1 => Just(Event::Timer {
            timer: Timer::SnoozeOver
        }),
        2 => prop_oneof![
            Just(EnforcementResult::Added),
            Just(EnforcementResult::AlreadyMember),
            Just(EnforcementResult::Failed)
        ]
        .prop_map(|result| Event::Enforcement { result }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Whatever happens, in any order: the group add is asked for only from `Enforcing`, on a
    /// fresh assessment that is safe (or tested with only tests missing), never while paused;
    /// and `Enforced` only follows a group add.
    #[test]
    fn enforcement_only_follows_a_confirmed_safe_fresh_assessment(
        events in prop::collection::vec(any_event(), 1..60),
        paused in any::<bool>(),
    ) {
        let mut j = Journey::new();
        j.settings.enforcement_paused = paused;
        let mut add_asked = false;
        for event in events {
            let before = j.conv.clone();
            let is_assessed = match &event {
                Event::Assessed { plan } => Some(plan.clone()),
                _ => None,
            };
            let fx = j.send(event);
            j.advance(SignedDuration::from_mins(1));
            if fx.contains(&Effect::AddToEnforcementGroup) {
                prop_assert!(!paused);
                let was_enforcing = matches!(before.state, State::Enforcing { .. });
                prop_assert!(was_enforcing, "group add asked from {}", before.state.name());
                let plan = is_assessed.expect("only an assessment asks for the add");
                // Only a fresh plan in which every device is proven: never a passed test
                // standing in for devices it did not prove.
                prop_assert_eq!(plan.verdict, PlanVerdict::SafeToEnforce);
                add_asked = true;
            }
            if matches!(j.conv.state, State::Enforced { .. })
                && !matches!(before.state, State::Enforced { .. })
            {
                prop_assert!(add_asked, "enforced without a group add");
            }
            // Every step shows at most one journey card in place.
            let shown = fx.iter().filter(|e| matches!(e, Effect::Show { .. })).count();
            prop_assert!(shown <= 1, "{} cards shown in place", shown);
        }
    }
}

#[test]
fn check_again_reads_everything_anew() {
    let mut j = Journey::at(State::Planned, Some(registered_plan()));
    let fx = j.click("recheck", json!({}));
    assert!(has(&fx, &Effect::Assess { look: Look::Fresh }));
    assert_eq!(shows(&fx), [&Screen::Checking]);
    // A proven plan from that look goes to the confirmation.
    let fx = j.send(Event::Assessed {
        plan: proven_plan(t0()),
    });
    assert_eq!(shows(&fx), [&Screen::ConfirmEnforce]);
}
