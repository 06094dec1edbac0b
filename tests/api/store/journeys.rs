//! Journeys and the effects outbox: the conformance checks every backend runs (listed in
//! `conformance_tests!`), then the checks that need engine-specific SQL or two replicas.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use passkey_pilot::store::{
    Effect, EffectCounts, EffectStatus, NewEffect, NewEvent, SaveOutcome, StepWrite, Store,
    StoredJourney,
};
use serde_json::{Value, json};

use super::{at, event, other_tenant, person, tenant};

/// How long a claim holds an effect in these tests.
const LEASE: SignedDuration = SignedDuration::from_secs(30);

/// A journey state as the engine might serialise it.
fn state(name: &str) -> Value {
    json!({
        "state": name,
        "devices": [{ "os": "iOS", "version": "17.5", "verdict": "needs_passkey" }],
        "note": "café ✓",
    })
}

/// An effect for person `n`, due at `not_before`.
fn effect(n: u32, kind: &str, not_before: Timestamp, key: Option<&str>) -> NewEffect {
    NewEffect {
        tenant_id: tenant(),
        aad_object_id: person(n),
        kind: kind.to_owned(),
        payload: json!({ "kind": kind, "card": { "verb": "start" } }),
        created_at: at(0),
        not_before,
        idempotency_key: key.map(str::to_owned),
    }
}

/// A step of person `n`'s journey from `expected_version` to the state `name`.
fn step(
    n: u32,
    expected_version: Option<i64>,
    name: &str,
    effects: Vec<NewEffect>,
    events: Vec<NewEvent>,
) -> StepWrite {
    StepWrite {
        tenant_id: tenant(),
        aad_object_id: person(n),
        expected_version,
        state: state(name),
        at: at(1_000 * expected_version.unwrap_or(0)),
        effects,
        events,
    }
}

fn saved_version(outcome: SaveOutcome) -> i64 {
    match outcome {
        SaveOutcome::Saved { version, .. } => version,
        SaveOutcome::Conflict => panic!("expected the step to be saved"),
    }
}

async fn open_effects(store: &Arc<dyn Store>, n: u32) -> Vec<Effect> {
    store
        .pending_effects_for(&tenant(), &person(n))
        .await
        .unwrap()
}

async fn event_count(store: &Arc<dyn Store>, n: u32) -> usize {
    store
        .events_for(&tenant(), &person(n), 1_000)
        .await
        .unwrap()
        .len()
}

pub async fn a_saved_journey_loads_with_its_state_version_and_time(store: Arc<dyn Store>) {
    assert_eq!(
        store.load_journey(&tenant(), &person(1)).await.unwrap(),
        None
    );

    let first = store
        .save_step(&step(1, None, "assessed", vec![], vec![]))
        .await
        .unwrap();
    assert_eq!(
        first,
        SaveOutcome::Saved {
            version: 1,
            effect_ids: vec![]
        }
    );
    assert_eq!(
        store.load_journey(&tenant(), &person(1)).await.unwrap(),
        Some(StoredJourney {
            state: state("assessed"),
            version: 1,
            updated_at: at(0),
        })
    );

    let second = store
        .save_step(&step(1, Some(1), "registering", vec![], vec![]))
        .await
        .unwrap();
    assert_eq!(saved_version(second), 2);
    assert_eq!(
        store.load_journey(&tenant(), &person(1)).await.unwrap(),
        Some(StoredJourney {
            state: state("registering"),
            version: 2,
            updated_at: at(1_000),
        })
    );

    // Journeys are per person and per tenant.
    assert_eq!(
        store.load_journey(&tenant(), &person(2)).await.unwrap(),
        None
    );
    let elsewhere = store.load_journey(&other_tenant(), &person(1)).await;
    assert_eq!(elsewhere.unwrap(), None);
}

pub async fn a_step_and_its_effects_are_saved_together_or_not_at_all(store: Arc<dyn Store>) {
    let effects = vec![
        effect(1, "card.send", at(0), Some("card:welcome:1")),
        effect(1, "graph.recheck", at(60_000), None),
    ];
    let events = vec![
        event(Some(1), "journey.assessed", at(0)),
        event(Some(1), "journey.card_sent", at(0)),
    ];
    let outcome = store
        .save_step(&step(1, None, "assessed", effects.clone(), events.clone()))
        .await
        .unwrap();
    let SaveOutcome::Saved {
        version: 1,
        effect_ids,
    } = outcome
    else {
        panic!("first step not saved: {outcome:?}");
    };
    assert_eq!(effect_ids.len(), 2);

    let stored = open_effects(&store, 1).await;
    let ids: Vec<i64> = stored.iter().map(|e| e.id).collect();
    assert_eq!(ids, effect_ids);
    for (got, want) in stored.iter().zip(&effects) {
        assert_eq!(&got.effect, want);
        assert_eq!(got.status, EffectStatus::Pending);
        assert_eq!((got.attempts, got.lease_until), (0, None));
        assert_eq!(got.last_error, None);
    }
    let logged = store.events_for(&tenant(), &person(1), 10).await.unwrap();
    let logged: Vec<NewEvent> = logged.into_iter().map(|e| e.event).collect();
    assert_eq!(logged, events);

    // A step that loses the race writes none of its parts.
    let late = step(
        1,
        None,
        "welcomed",
        vec![effect(1, "card.send", at(0), Some("card:welcome:2"))],
        vec![event(Some(1), "journey.welcomed", at(0))],
    );
    assert_eq!(store.save_step(&late).await.unwrap(), SaveOutcome::Conflict);
    assert_eq!(open_effects(&store, 1).await, stored);
    assert_eq!(event_count(&store, 1).await, 2);
    let journey = store.load_journey(&tenant(), &person(1)).await.unwrap();
    assert_eq!(journey.unwrap().state, state("assessed"));
}

pub async fn a_stale_version_is_refused_and_writes_nothing(store: Arc<dyn Store>) {
    saved_version(
        store
            .save_step(&step(1, None, "assessed", vec![], vec![]))
            .await
            .unwrap(),
    );
    saved_version(
        store
            .save_step(&step(1, Some(1), "registering", vec![], vec![]))
            .await
            .unwrap(),
    );

    let stale = step(
        1,
        Some(1),
        "testing",
        vec![effect(1, "card.send", at(0), Some("card:test:1"))],
        vec![event(Some(1), "journey.testing", at(0))],
    );
    assert_eq!(
        store.save_step(&stale).await.unwrap(),
        SaveOutcome::Conflict
    );
    // Expecting no journey when there is one, or a version from the future, is stale too.
    let fresh = step(1, None, "testing", vec![], vec![]);
    assert_eq!(
        store.save_step(&fresh).await.unwrap(),
        SaveOutcome::Conflict
    );
    let ahead = step(1, Some(3), "testing", vec![], vec![]);
    assert_eq!(
        store.save_step(&ahead).await.unwrap(),
        SaveOutcome::Conflict
    );
    // A version for a person who has no journey yet.
    let unknown = step(2, Some(1), "testing", vec![], vec![]);
    assert_eq!(
        store.save_step(&unknown).await.unwrap(),
        SaveOutcome::Conflict
    );
    assert_eq!(
        store.load_journey(&tenant(), &person(2)).await.unwrap(),
        None
    );

    let journey = store.load_journey(&tenant(), &person(1)).await.unwrap();
    let journey = journey.unwrap();
    assert_eq!((journey.version, journey.state), (2, state("registering")));
    assert!(open_effects(&store, 1).await.is_empty());
    assert_eq!(event_count(&store, 1).await, 0);
    // The refused step did not even use up its idempotency key.
    let retried = store
        .enqueue_effect(&effect(1, "card.send", at(0), Some("card:test:1")))
        .await
        .unwrap();
    assert!(retried.is_some());
}

pub async fn concurrent_steps_from_one_version_save_exactly_once(store: Arc<dyn Store>) {
    // Sixteen racing first steps, then sixteen racing steps from version 1.
    for expected in [None, Some(1)] {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let write = step(
                        1,
                        expected,
                        &format!("racer-{i}"),
                        vec![effect(1, "card.send", at(0), None)],
                        vec![event(Some(1), "journey.step", at(i))],
                    );
                    store.save_step(&write).await.unwrap()
                })
            })
            .collect();
        let mut saved = Vec::new();
        for task in tasks {
            if let SaveOutcome::Saved { version, .. } = task.await.unwrap() {
                saved.push(version);
            }
        }
        assert_eq!(
            saved,
            vec![expected.map_or(1, |v| v + 1)],
            "from {expected:?}"
        );
    }
    assert_eq!(open_effects(&store, 1).await.len(), 2);
    assert_eq!(event_count(&store, 1).await, 2);
    let journey = store.load_journey(&tenant(), &person(1)).await.unwrap();
    assert_eq!(journey.unwrap().version, 2);
}

pub async fn an_idempotency_key_is_written_once(store: Arc<dyn Store>) {
    let nudge = "chase:wave-1:person-1";
    let card_action = "card-action:act-42";
    let first = step(
        1,
        None,
        "welcomed",
        vec![
            effect(1, "chase.nudge", at(0), Some(nudge)),
            effect(1, "group.add", at(0), Some(card_action)),
            // The same card action twice in one step.
            effect(1, "group.add", at(0), Some(card_action)),
            // Effects without a key are never deduplicated.
            effect(1, "card.send", at(0), None),
            effect(1, "card.send", at(0), None),
        ],
        vec![],
    );
    let SaveOutcome::Saved { effect_ids, .. } = store.save_step(&first).await.unwrap() else {
        panic!("first step not saved");
    };
    assert_eq!(effect_ids.len(), 4);

    // A later step repeating a key saves its state but skips that effect.
    let second = step(
        1,
        Some(1),
        "registering",
        vec![effect(1, "group.add", at(0), Some(card_action))],
        vec![],
    );
    assert_eq!(
        store.save_step(&second).await.unwrap(),
        SaveOutcome::Saved {
            version: 2,
            effect_ids: vec![]
        }
    );
    let again = effect(1, "chase.nudge", at(5_000), Some(nudge));
    assert_eq!(store.enqueue_effect(&again).await.unwrap(), None);
    let next_wave = effect(1, "chase.nudge", at(5_000), Some("chase:wave-2:person-1"));
    assert!(store.enqueue_effect(&next_wave).await.unwrap().is_some());

    let open = open_effects(&store, 1).await;
    assert_eq!(open.len(), 5);
    let keyed: Vec<&str> = open
        .iter()
        .filter_map(|e| e.effect.idempotency_key.as_deref())
        .collect();
    assert_eq!(keyed, vec![nudge, card_action, "chase:wave-2:person-1"]);

    // Once done, the key still refuses a second copy: the nudge was sent, once.
    for claimed in store.claim_effects(at(10_000), LEASE, 10).await.unwrap() {
        assert!(store.complete_effect(claimed.lease()).await.unwrap());
    }
    assert_eq!(store.enqueue_effect(&again).await.unwrap(), None);
    assert_eq!(store.effect_counts().await.unwrap().done, 5);
}

pub async fn two_workers_never_claim_the_same_effect(store: Arc<dyn Store>) {
    const EFFECTS: u32 = 60;
    for i in 0..EFFECTS {
        let e = effect(i % 7, "card.send", at(i64::from(i)), None);
        store.enqueue_effect(&e).await.unwrap().unwrap();
    }
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claimed = store.claim_effects(at(1_000), LEASE, 4).await.unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    assert!(claimed.len() <= 4);
                    for e in claimed {
                        assert_eq!(e.attempts, 1, "effect {} claimed twice", e.id);
                        assert_eq!(e.lease_until, Some(at(1_000) + LEASE));
                        mine.push(e.id);
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for worker in workers {
        for id in worker.await.unwrap() {
            assert!(seen.insert(id), "effect {id} claimed by two workers");
        }
    }
    assert_eq!(seen.len(), EFFECTS as usize);
    assert!(
        store
            .claim_effects(at(1_000), LEASE, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn an_expired_lease_is_claimed_again_and_the_old_holder_cannot_complete_it(
    store: Arc<dyn Store>,
) {
    let id = store
        .enqueue_effect(&effect(1, "group.add", at(0), None))
        .await
        .unwrap()
        .unwrap();
    let held = store.claim_effects(at(0), LEASE, 10).await.unwrap();
    assert_eq!(held.len(), 1);
    let old = &held[0];
    assert_eq!((old.id, old.attempts), (id, 1));
    assert_eq!(old.lease_until, Some(at(0) + LEASE));

    let lease_ms = LEASE.as_millis() as i64;
    let early = store.claim_effects(at(lease_ms - 1), LEASE, 10).await;
    assert!(early.unwrap().is_empty(), "claimed while leased");
    let reclaimed = store.claim_effects(at(lease_ms), LEASE, 10).await.unwrap();
    assert_eq!(reclaimed.len(), 1);
    let new = &reclaimed[0];
    assert_eq!((new.id, new.attempts), (id, 2));

    // The first worker woke up late: its lease is outdated.
    assert!(!store.complete_effect(old.lease()).await.unwrap());
    let stale_failure = store.fail_effect(old.lease(), "late", None).await.unwrap();
    assert!(!stale_failure);
    let open = open_effects(&store, 1).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, EffectStatus::Pending);
    assert_eq!(open[0].attempts, 2);
    assert_eq!(open[0].last_error, None);

    assert!(store.complete_effect(new.lease()).await.unwrap());
    assert!(
        !store.complete_effect(new.lease()).await.unwrap(),
        "done twice"
    );
    assert!(open_effects(&store, 1).await.is_empty());
    let later = store.claim_effects(at(10 * lease_ms), LEASE, 10).await;
    assert!(later.unwrap().is_empty(), "a done effect was claimed");
    assert_eq!(
        store.effect_counts().await.unwrap(),
        EffectCounts {
            done: 1,
            ..EffectCounts::default()
        }
    );
}

pub async fn effects_not_due_yet_are_not_claimed(store: Arc<dyn Store>) {
    let late = store
        .enqueue_effect(&effect(1, "chase.nudge", at(10_000), None))
        .await
        .unwrap()
        .unwrap();
    let sooner = store
        .enqueue_effect(&effect(1, "graph.recheck", at(5_000), None))
        .await
        .unwrap()
        .unwrap();
    let now = store
        .enqueue_effect(&effect(1, "card.send", at(0), None))
        .await
        .unwrap()
        .unwrap();

    let ids = |effects: Vec<Effect>| effects.iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.claim_effects(at(4_999), LEASE, 10).await.unwrap()),
        [now]
    );
    assert!(
        store
            .claim_effects(at(4_999), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Earliest due first, up to the limit.
    assert_eq!(
        ids(store.claim_effects(at(10_000), LEASE, 1).await.unwrap()),
        [sooner]
    );
    assert_eq!(
        ids(store.claim_effects(at(10_000), LEASE, 10).await.unwrap()),
        [late]
    );
    assert!(
        store
            .claim_effects(at(10_000), LEASE, 0)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_failed_effect_retries_then_goes_dead(store: Arc<dyn Store>) {
    store
        .enqueue_effect(&effect(1, "graph.recheck", at(0), None))
        .await
        .unwrap()
        .unwrap();
    let first = store.claim_effects(at(0), LEASE, 10).await.unwrap();
    let retry_at = at(60_000);
    let failed = store
        .fail_effect(first[0].lease(), "Graph answered 503", Some(retry_at))
        .await
        .unwrap();
    assert!(failed);

    let open = open_effects(&store, 1).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, EffectStatus::Failed);
    assert_eq!(open[0].effect.not_before, retry_at);
    assert_eq!(open[0].lease_until, None);
    assert_eq!(open[0].last_error.as_deref(), Some("Graph answered 503"));
    // The failure released the lease: its holder cannot complete it any more.
    assert!(!store.complete_effect(first[0].lease()).await.unwrap());
    assert!(
        store
            .claim_effects(at(59_999), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let second = store.claim_effects(retry_at, LEASE, 10).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].status, EffectStatus::Failed);
    let dead = store
        .fail_effect(second[0].lease(), "Graph answered 404", None)
        .await;
    assert!(dead.unwrap());

    assert!(open_effects(&store, 1).await.is_empty());
    let much_later = store.claim_effects(at(10_000_000), LEASE, 10).await;
    assert!(much_later.unwrap().is_empty(), "a dead effect was claimed");
    assert_eq!(
        store.effect_counts().await.unwrap(),
        EffectCounts {
            dead: 1,
            ..EffectCounts::default()
        }
    );
}

pub async fn open_effects_are_listed_per_person_and_counted_by_status(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for (n, kind) in [
        (1, "card.send"),
        (1, "graph.recheck"),
        (2, "card.send"),
        (1, "group.add"),
    ] {
        ids.push(
            store
                .enqueue_effect(&effect(n, kind, at(0), None))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let elsewhere = NewEffect {
        tenant_id: other_tenant(),
        ..effect(1, "card.send", at(0), None)
    };
    store.enqueue_effect(&elsewhere).await.unwrap().unwrap();

    let mine: Vec<i64> = open_effects(&store, 1).await.iter().map(|e| e.id).collect();
    assert_eq!(mine, [ids[0], ids[1], ids[3]]);
    let theirs: Vec<i64> = open_effects(&store, 2).await.iter().map(|e| e.id).collect();
    assert_eq!(theirs, [ids[2]]);
    assert_eq!(
        store.effect_counts().await.unwrap(),
        EffectCounts {
            pending: 5,
            ..EffectCounts::default()
        }
    );

    let claimed = store.claim_effects(at(0), LEASE, 3).await.unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(store.complete_effect(claimed[0].lease()).await.unwrap());
    let retry = Some(at(60_000));
    assert!(
        store
            .fail_effect(claimed[1].lease(), "503", retry)
            .await
            .unwrap()
    );
    assert!(
        store
            .fail_effect(claimed[2].lease(), "gone", None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.effect_counts().await.unwrap(),
        EffectCounts {
            pending: 2,
            failed: 1,
            done: 1,
            dead: 1,
        }
    );
    // Person 1's open effects: the one awaiting a retry and the one never claimed.
    let open = open_effects(&store, 1).await;
    let statuses: Vec<(i64, EffectStatus)> = open.iter().map(|e| (e.id, e.status)).collect();
    assert_eq!(
        statuses,
        [
            (ids[1], EffectStatus::Failed),
            (ids[3], EffectStatus::Pending)
        ]
    );
}

pub async fn claiming_by_id_takes_only_the_named_effects_that_are_due_and_free(
    store: Arc<dyn Store>,
) {
    // Long enough that nothing claimed here is free again within the check.
    const HOLD: SignedDuration = SignedDuration::from_hours(1);
    let step_effects = vec![
        effect(1, "card.send", at(0), None),
        effect(1, "group.add", at(0), None),
        effect(1, "graph.recheck", at(60_000), None),
    ];
    let outcome = store
        .save_step(&step(1, None, "ready", step_effects, vec![]))
        .await
        .unwrap();
    let SaveOutcome::Saved { effect_ids, .. } = outcome else {
        panic!("step not saved");
    };
    let [card, group, recheck] = effect_ids[..] else {
        panic!("three effects expected, got {effect_ids:?}");
    };
    let someone_else = store
        .enqueue_effect(&effect(2, "card.send", at(0), None))
        .await
        .unwrap()
        .unwrap();
    // A worker got to the group addition first.
    let by_worker = store
        .claim_effects_by_id(&[group], at(0), HOLD)
        .await
        .unwrap();
    assert_eq!(by_worker.len(), 1);

    let claimed = store
        .claim_effects_by_id(&[recheck, group, card, 9_999], at(1_000), HOLD)
        .await
        .unwrap();
    let claimed: Vec<(i64, i64)> = claimed.iter().map(|e| (e.id, e.attempts)).collect();
    assert_eq!(claimed, [(card, 1)]);
    assert!(
        store
            .claim_effects_by_id(&[], at(1_000), HOLD)
            .await
            .unwrap()
            .is_empty()
    );

    // The rest is left to the worker: the other person's effect now, the recheck when due.
    let rest = store.claim_effects(at(1_000), HOLD, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|e| e.id).collect::<Vec<_>>(),
        [someone_else]
    );
    let due_later = store.claim_effects(at(60_000), HOLD, 10).await.unwrap();
    assert_eq!(
        due_later.iter().map(|e| e.id).collect::<Vec<_>>(),
        [recheck]
    );
}

/// A step with an effect and an event for person 1, first of its journey.
fn first_step_with_effect_and_event() -> StepWrite {
    step(
        1,
        None,
        "assessed",
        vec![effect(1, "card.send", at(0), Some("card:welcome:1"))],
        vec![event(Some(1), "journey.assessed", at(0))],
    )
}

/// After a step failed in the database: nothing of it is visible.
async fn nothing_of_the_step_was_written(store: &Arc<dyn Store>) {
    assert_eq!(
        store.load_journey(&tenant(), &person(1)).await.unwrap(),
        None
    );
    assert!(open_effects(store, 1).await.is_empty());
    assert_eq!(event_count(store, 1).await, 0);
}

/// After the failure is gone, the same step saves completely.
async fn the_step_saves_completely(store: &Arc<dyn Store>) {
    let outcome = store
        .save_step(&first_step_with_effect_and_event())
        .await
        .unwrap();
    assert!(
        matches!(outcome, SaveOutcome::Saved { version: 1, ref effect_ids } if effect_ids.len() == 1)
    );
    assert_eq!(open_effects(store, 1).await.len(), 1);
    assert_eq!(event_count(store, 1).await, 1);
}

mod sqlite {
    use super::*;
    use crate::databases::SqliteFile;

    #[tokio::test]
    async fn a_step_whose_event_fails_saves_neither_state_nor_effects() {
        let file = SqliteFile::new();
        let store = file.open().await;
        let mut raw = file.raw().await;
        sqlx::raw_sql(
            "CREATE TRIGGER fail_event BEFORE INSERT ON events \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .execute(&mut raw)
        .await
        .unwrap();

        let failed = store.save_step(&first_step_with_effect_and_event()).await;
        assert!(failed.is_err(), "{failed:?}");
        nothing_of_the_step_was_written(&store).await;

        sqlx::raw_sql("DROP TRIGGER fail_event")
            .execute(&mut raw)
            .await
            .unwrap();
        the_step_saves_completely(&store).await;
    }

    #[tokio::test]
    async fn pending_effects_survive_a_restart() {
        let file = SqliteFile::new();
        let store = file.open().await;
        saved_version(
            store
                .save_step(&first_step_with_effect_and_event())
                .await
                .unwrap(),
        );
        drop(store);

        let restarted = file.open().await;
        let claimed = restarted.claim_effects(at(0), LEASE, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].effect.kind, "card.send");
        let journey = restarted.load_journey(&tenant(), &person(1)).await.unwrap();
        assert_eq!(journey.unwrap().version, 1);
    }
}

mod postgres {
    use super::*;
    use crate::databases::in_postgres_schema;

    #[tokio::test]
    async fn a_step_whose_event_fails_saves_neither_state_nor_effects() {
        in_postgres_schema(|schema| async move {
            let store = schema.open().await;
            let mut raw = schema.raw().await;
            sqlx::raw_sql(
                "CREATE FUNCTION fail_event() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
                 CREATE TRIGGER fail_event BEFORE INSERT ON events \
                     FOR EACH ROW EXECUTE FUNCTION fail_event();",
            )
            .execute(&mut raw)
            .await
            .unwrap();

            let failed = store.save_step(&first_step_with_effect_and_event()).await;
            assert!(failed.is_err(), "{failed:?}");
            nothing_of_the_step_was_written(&store).await;

            sqlx::raw_sql("DROP TRIGGER fail_event ON events")
                .execute(&mut raw)
                .await
                .unwrap();
            the_step_saves_completely(&store).await;
        })
        .await;
    }

    #[tokio::test]
    async fn pending_effects_survive_a_restart() {
        in_postgres_schema(|schema| async move {
            let store = schema.open().await;
            saved_version(
                store
                    .save_step(&first_step_with_effect_and_event())
                    .await
                    .unwrap(),
            );
            drop(store);

            let restarted = schema.open().await;
            let claimed = restarted.claim_effects(at(0), LEASE, 10).await.unwrap();
            assert_eq!(claimed.len(), 1);
            assert_eq!(claimed[0].effect.kind, "card.send");
        })
        .await;
    }

    /// Two replicas: two stores, each with its own pool, on one database.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_replicas_never_claim_the_same_effect() {
        in_postgres_schema(|schema| async move {
            const EFFECTS: u32 = 200;
            let replicas = [schema.open().await, schema.open().await];
            for i in 0..EFFECTS {
                let e = effect(i % 11, "chase.nudge", at(i64::from(i % 5)), None);
                replicas[0].enqueue_effect(&e).await.unwrap().unwrap();
            }
            let workers: Vec<_> = replicas
                .iter()
                .flat_map(|store| std::iter::repeat_n(store.clone(), 4))
                .map(|store| {
                    tokio::spawn(async move {
                        let mut mine = Vec::new();
                        loop {
                            let claimed = store.claim_effects(at(1_000), LEASE, 3).await.unwrap();
                            if claimed.is_empty() {
                                return mine;
                            }
                            mine.extend(claimed.iter().map(|e| (e.id, e.attempts)));
                        }
                    })
                })
                .collect();
            let mut seen = HashSet::new();
            for worker in workers {
                for (id, attempts) in worker.await.unwrap() {
                    assert_eq!(attempts, 1, "effect {id} claimed twice");
                    assert!(seen.insert(id), "effect {id} claimed by two workers");
                }
            }
            assert_eq!(seen.len(), EFFECTS as usize);
        })
        .await;
    }
}
