//! The store conformance suite: every check in `conformance` runs against each backend
//! (`store::sqlite::…`, `store::sqlite_in_memory::…`, `store::postgres::…`,
//! `store::memory::…`), followed by the checks that need engine-specific SQL. The journey and
//! outbox checks live in `store/journeys.rs`.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use passkey_pilot::ids::{AadObjectId, ActivityId, ConversationId, TenantId};
use passkey_pilot::store::{
    self, Claim, ConversationRef, Event, Inbound, NewEvent, Store, StoreError,
};
use serde_json::json;

use crate::databases;

mod journeys;
mod test_attempts;

/// How long an activity claim lasts in these tests.
const TTL: SignedDuration = SignedDuration::from_mins(10);

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_750_000_000_000 + ms).unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse("5f1c0b7e-3c1a-4f8e-9d7a-2b6c8e4f0a11").unwrap()
}

fn other_tenant() -> TenantId {
    TenantId::parse("9b2d4e6f-8a1c-4b3d-9e5f-7a6b8c9d0e12").unwrap()
}

fn person(n: u32) -> AadObjectId {
    AadObjectId::parse(&format!("00000000-0000-4000-8000-{n:012}")).unwrap()
}

fn conversation(n: u32) -> ConversationId {
    ConversationId::parse(&format!("a:1-personal-chat-{n}")).unwrap()
}

fn reference(n: u32, service_url: &str, updated_at: Timestamp) -> ConversationRef {
    ConversationRef {
        tenant_id: tenant(),
        aad_object_id: person(n),
        conversation_id: conversation(n),
        service_url: service_url.to_owned(),
        bot_id: "28:3f6a1c2e-0000-4000-8000-000000000b07".to_owned(),
        user_id: format!("29:1user-{n}"),
        updated_at,
    }
}

fn event(n: Option<u32>, kind: &str, at: Timestamp) -> NewEvent {
    NewEvent {
        at,
        tenant_id: tenant(),
        aad_object_id: n.map(person),
        kind: kind.to_owned(),
        data: json!({ "kind": kind }),
    }
}

/// An activity in person `n`'s chat, with nothing to record beyond the claim.
fn inbound(n: u32, activity_id: &str, received_at: Timestamp) -> Inbound {
    Inbound {
        conversation_id: conversation(n),
        activity_id: ActivityId::parse(activity_id).unwrap(),
        received_at,
        expires_at: received_at + TTL,
        conversation_ref: None,
        event: None,
    }
}

/// An activity from person `n` that refreshes the reference and logs a message event.
fn message(n: u32, activity_id: &str, received_at: Timestamp, service_url: &str) -> Inbound {
    Inbound {
        conversation_ref: Some(reference(n, service_url, received_at)),
        event: Some(NewEvent {
            data: json!({ "activity_id": activity_id }),
            ..event(Some(n), "message.received", received_at)
        }),
        ..inbound(n, activity_id, received_at)
    }
}

const SERVICE_URL: &str = "https://smba.trafficmanager.net/emea/";
const OTHER_SERVICE_URL: &str = "https://smba.trafficmanager.net/amer/";

/// The checks every backend must pass; each gets a fresh, empty store.
mod conformance {
    use super::*;

    pub async fn ping_answers(store: Arc<dyn Store>) {
        store.ping().await.unwrap();
    }

    pub async fn duplicate_activity_is_claimed_once(store: Arc<dyn Store>) {
        let first = message(1, "act-1", at(0), SERVICE_URL);
        assert_eq!(store.record_inbound(&first).await.unwrap(), Claim::First);
        let redelivery = message(1, "act-1", at(2_000), SERVICE_URL);
        assert_eq!(
            store.record_inbound(&redelivery).await.unwrap(),
            Claim::Duplicate
        );
    }

    pub async fn duplicate_claim_stores_nothing(store: Arc<dyn Store>) {
        let first = message(1, "act-1", at(0), SERVICE_URL);
        store.record_inbound(&first).await.unwrap();
        let redelivery = message(1, "act-1", at(2_000), OTHER_SERVICE_URL);
        assert_eq!(
            store.record_inbound(&redelivery).await.unwrap(),
            Claim::Duplicate
        );

        let stored = store.conversation_ref(&tenant(), &person(1)).await.unwrap();
        assert_eq!(stored, first.conversation_ref);
        let events = store.events_for(&tenant(), &person(1), 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(Some(&events[0].event), first.event.as_ref());
    }

    pub async fn expired_claim_can_be_claimed_again(store: Arc<dyn Store>) {
        let expiry = TTL.as_millis() as i64;
        let claim = |ms| message(1, "act-1", at(ms), SERVICE_URL);
        assert_eq!(store.record_inbound(&claim(0)).await.unwrap(), Claim::First);
        assert_eq!(
            store.record_inbound(&claim(expiry - 1)).await.unwrap(),
            Claim::Duplicate
        );
        assert_eq!(
            store.record_inbound(&claim(expiry)).await.unwrap(),
            Claim::First
        );
        // The new claim lasts from its own receipt.
        assert_eq!(
            store.record_inbound(&claim(expiry + 1)).await.unwrap(),
            Claim::Duplicate
        );
        let events = store.events_for(&tenant(), &person(1), 10).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            store.conversation_ref(&tenant(), &person(1)).await.unwrap(),
            claim(expiry).conversation_ref
        );
    }

    pub async fn claims_are_per_conversation(store: Arc<dyn Store>) {
        for chat in [1, 2] {
            let claim = store.record_inbound(&inbound(chat, "act-1", at(0))).await;
            assert_eq!(claim.unwrap(), Claim::First, "chat {chat}");
        }
    }

    pub async fn purge_removes_only_expired_claims(store: Arc<dyn Store>) {
        let expiry = TTL.as_millis() as i64;
        store
            .record_inbound(&inbound(1, "old", at(0)))
            .await
            .unwrap();
        store
            .record_inbound(&inbound(1, "new", at(1_000)))
            .await
            .unwrap();

        assert_eq!(store.purge_expired_activities(at(0)).await.unwrap(), 0);
        assert_eq!(store.purge_expired_activities(at(expiry)).await.unwrap(), 1);

        // Forgotten, so claimable again even before its original expiry; the other is kept.
        let old = store.record_inbound(&inbound(1, "old", at(500))).await;
        assert_eq!(old.unwrap(), Claim::First);
        let new = store.record_inbound(&inbound(1, "new", at(1_500))).await;
        assert_eq!(new.unwrap(), Claim::Duplicate);
    }

    pub async fn concurrent_claims_of_one_id_produce_exactly_one_first(store: Arc<dyn Store>) {
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let redelivery = message(1, "act-1", at(i), SERVICE_URL);
                    store.record_inbound(&redelivery).await.unwrap()
                })
            })
            .collect();
        let mut firsts = 0;
        for task in tasks {
            if task.await.unwrap() == Claim::First {
                firsts += 1;
            }
        }
        assert_eq!(firsts, 1);
        let events = store.events_for(&tenant(), &person(1), 100).await.unwrap();
        assert_eq!(events.len(), 1);
    }

    pub async fn concurrent_claims_of_many_ids_produce_one_first_each(store: Arc<dyn Store>) {
        const IDS: usize = 10;
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = store.clone();
                let activity_id = format!("act-{}", i % IDS);
                tokio::spawn(async move {
                    let m = message(1, &activity_id, at(i as i64), SERVICE_URL);
                    (i % IDS, store.record_inbound(&m).await.unwrap())
                })
            })
            .collect();
        let mut firsts = [0; IDS];
        for task in tasks {
            let (id, claim) = task.await.unwrap();
            if claim == Claim::First {
                firsts[id] += 1;
            }
        }
        assert_eq!(firsts, [1; IDS]);

        let events = store.events_for(&tenant(), &person(1), 100).await.unwrap();
        let mut logged: Vec<String> = events
            .iter()
            .map(|e| e.event.data["activity_id"].as_str().unwrap().to_owned())
            .collect();
        logged.sort();
        let expected: Vec<String> = (0..IDS).map(|i| format!("act-{i}")).collect();
        assert_eq!(logged, expected);
    }

    pub async fn first_claim_stores_ref_and_event_together(store: Arc<dyn Store>) {
        let m = message(1, "act-1", at(0), SERVICE_URL);
        assert_eq!(store.record_inbound(&m).await.unwrap(), Claim::First);

        let stored = store.conversation_ref(&tenant(), &person(1)).await.unwrap();
        assert_eq!(stored, m.conversation_ref);
        let events = store.events_for(&tenant(), &person(1), 10).await.unwrap();
        let logged: Vec<&NewEvent> = events.iter().map(|e| &e.event).collect();
        assert_eq!(logged, vec![m.event.as_ref().unwrap()]);
    }

    pub async fn claim_without_ref_or_event_only_claims(store: Arc<dyn Store>) {
        let bare = inbound(1, "act-1", at(0));
        assert_eq!(store.record_inbound(&bare).await.unwrap(), Claim::First);
        assert_eq!(
            store.conversation_ref(&tenant(), &person(1)).await.unwrap(),
            None
        );
        assert!(
            store
                .events_for(&tenant(), &person(1), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.record_inbound(&bare).await.unwrap(), Claim::Duplicate);
    }

    pub async fn upsert_replaces_service_url_and_updated_at(store: Arc<dyn Store>) {
        store
            .upsert_conversation_ref(&reference(1, SERVICE_URL, at(0)))
            .await
            .unwrap();
        let moved = reference(1, OTHER_SERVICE_URL, at(60_000));
        store.upsert_conversation_ref(&moved).await.unwrap();

        let stored = store.conversation_ref(&tenant(), &person(1)).await.unwrap();
        assert_eq!(stored, Some(moved));
    }

    pub async fn references_are_kept_per_person(store: Arc<dyn Store>) {
        let first = reference(1, SERVICE_URL, at(0));
        let second = reference(2, OTHER_SERVICE_URL, at(1));
        store.upsert_conversation_ref(&first).await.unwrap();
        store.upsert_conversation_ref(&second).await.unwrap();

        let got = store.conversation_ref(&tenant(), &person(1)).await.unwrap();
        assert_eq!(got, Some(first));
        let got = store.conversation_ref(&tenant(), &person(2)).await.unwrap();
        assert_eq!(got, Some(second));
        let got = store.conversation_ref(&other_tenant(), &person(1)).await;
        assert_eq!(got.unwrap(), None);
    }

    pub async fn delete_ref_reports_whether_one_existed(store: Arc<dyn Store>) {
        store
            .upsert_conversation_ref(&reference(1, SERVICE_URL, at(0)))
            .await
            .unwrap();
        assert!(
            store
                .delete_conversation_ref(&tenant(), &person(1))
                .await
                .unwrap()
        );
        assert_eq!(
            store.conversation_ref(&tenant(), &person(1)).await.unwrap(),
            None
        );
        assert!(
            !store
                .delete_conversation_ref(&tenant(), &person(1))
                .await
                .unwrap()
        );
    }

    pub async fn events_for_returns_latest_oldest_first_for_one_person(store: Arc<dyn Store>) {
        let mut mine = Vec::new();
        for i in 0..5 {
            let e = event(Some(1), &format!("step.{i}"), at(i));
            let id = store.append_event(&e).await.unwrap();
            mine.push(Event { id, event: e });
            // Noise: someone else, nobody, and the same object id in another tenant.
            store
                .append_event(&event(Some(2), "other.person", at(i)))
                .await
                .unwrap();
            store
                .append_event(&event(None, "tenant.wide", at(i)))
                .await
                .unwrap();
            let elsewhere = NewEvent {
                tenant_id: other_tenant(),
                ..event(Some(1), "other.tenant", at(i))
            };
            store.append_event(&elsewhere).await.unwrap();
        }

        let latest = store.events_for(&tenant(), &person(1), 3).await.unwrap();
        assert_eq!(latest, mine[2..]);
        let all = store.events_for(&tenant(), &person(1), 100).await.unwrap();
        assert_eq!(all, mine);
        let none = store.events_for(&tenant(), &person(1), 0).await.unwrap();
        assert!(none.is_empty());
        let theirs = store.events_for(&tenant(), &person(2), 100).await.unwrap();
        assert_eq!(theirs.len(), 5);
        assert!(theirs.iter().all(|e| e.event.kind == "other.person"));
    }

    pub async fn appended_events_keep_their_data_and_increasing_ids(store: Arc<dyn Store>) {
        let detailed = NewEvent {
            data: json!({
                "devices": [{ "os": "iOS", "ready": true }, { "os": "Windows", "ready": false }],
                "count": 2,
                "ratio": 0.5,
                "note": "café ✓",
                "missing": null,
            }),
            ..event(Some(1), "readiness.assessed", at(123))
        };
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(store.append_event(&detailed).await.unwrap());
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids {ids:?}");

        let stored = store.events_for(&tenant(), &person(1), 1).await.unwrap();
        assert_eq!(
            stored,
            vec![Event {
                id: ids[2],
                event: detailed
            }]
        );
    }
}

/// Generates one test per conformance check, each running it through `$with`, a helper
/// that hands the check a fresh store of one engine.
macro_rules! conformance_tests {
    ($with:path) => {
        conformance_tests!(@each $with; journeys;
            a_saved_journey_loads_with_its_state_version_and_time,
            a_step_and_its_effects_are_saved_together_or_not_at_all,
            a_stale_version_is_refused_and_writes_nothing,
            concurrent_steps_from_one_version_save_exactly_once,
            an_idempotency_key_is_written_once,
            two_workers_never_claim_the_same_effect,
            an_expired_lease_is_claimed_again_and_the_old_holder_cannot_complete_it,
            effects_not_due_yet_are_not_claimed,
            a_failed_effect_retries_then_goes_dead,
            open_effects_are_listed_per_person_and_counted_by_status,
            claiming_by_id_takes_only_the_named_effects_that_are_due_and_free,
        );
        conformance_tests!(@each $with; test_attempts;
            a_test_link_starts_one_sign_in_and_keeps_its_person_and_secrets,
            an_expired_test_link_or_flow_cannot_be_used,
            concurrent_starts_and_finishes_of_one_attempt_have_one_winner,
        );
        conformance_tests!(@each $with; conformance;
            ping_answers,
            duplicate_activity_is_claimed_once,
            duplicate_claim_stores_nothing,
            expired_claim_can_be_claimed_again,
            claims_are_per_conversation,
            purge_removes_only_expired_claims,
            concurrent_claims_of_one_id_produce_exactly_one_first,
            concurrent_claims_of_many_ids_produce_one_first_each,
            first_claim_stores_ref_and_event_together,
            claim_without_ref_or_event_only_claims,
            upsert_replaces_service_url_and_updated_at,
            references_are_kept_per_person,
            delete_ref_reports_whether_one_existed,
            events_for_returns_latest_oldest_first_for_one_person,
            appended_events_keep_their_data_and_increasing_ids,
        );
    };
    (@each $with:path; $checks:ident; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $with(super::$checks::$check).await;
            }
        )*
    };
}

mod sqlite {
    use super::*;
    use crate::databases::SqliteFile;

    conformance_tests!(databases::with_sqlite);

    #[tokio::test]
    async fn events_are_append_only() {
        let file = SqliteFile::new();
        let store = file.open().await;
        let e = event(Some(1), "bot.installed", at(0));
        store.append_event(&e).await.unwrap();

        let mut raw = file.raw().await;
        let update = sqlx::query("UPDATE events SET kind = 'bot.uninstalled'")
            .execute(&mut raw)
            .await
            .unwrap_err();
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = sqlx::query("DELETE FROM events")
            .execute(&mut raw)
            .await
            .unwrap_err();
        assert!(delete.to_string().contains("append-only"), "{delete}");

        let stored = store.events_for(&tenant(), &person(1), 10).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].event, e);
    }

    #[tokio::test]
    async fn failed_event_rolls_back_claim_and_ref() {
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

        let m = message(1, "act-1", at(0), SERVICE_URL);
        assert!(store.record_inbound(&m).await.is_err());
        assert_eq!(
            store.conversation_ref(&tenant(), &person(1)).await.unwrap(),
            None
        );

        sqlx::raw_sql("DROP TRIGGER fail_event")
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(store.record_inbound(&m).await.unwrap(), Claim::First);
        assert_eq!(
            store.conversation_ref(&tenant(), &person(1)).await.unwrap(),
            m.conversation_ref
        );
    }

    #[tokio::test]
    async fn claims_survive_reopening_the_file() {
        let file = SqliteFile::new();
        let m = message(1, "act-1", at(0), SERVICE_URL);
        let store = file.open().await;
        assert_eq!(store.record_inbound(&m).await.unwrap(), Claim::First);
        drop(store);

        let reopened = file.open().await;
        let redelivery = message(1, "act-1", at(5_000), SERVICE_URL);
        let claim = reopened.record_inbound(&redelivery).await.unwrap();
        assert_eq!(claim, Claim::Duplicate);
        assert_eq!(
            reopened
                .conversation_ref(&tenant(), &person(1))
                .await
                .unwrap(),
            m.conversation_ref
        );
    }

    #[tokio::test]
    async fn migrate_is_idempotent() {
        let file = SqliteFile::new();
        let applied = store::migrate(&file.url).await.unwrap();
        assert_eq!(applied, 3);
        assert_eq!(store::migrate(&file.url).await.unwrap(), applied);
    }

    #[tokio::test]
    async fn open_creates_a_missing_file_in_wal_mode() {
        let file = SqliteFile::new();
        assert!(!file.path.exists());
        file.open().await.ping().await.unwrap();
        assert!(file.path.exists());

        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut file.raw().await)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
}

mod sqlite_in_memory {
    use super::*;

    conformance_tests!(databases::with_sqlite_in_memory);

    #[tokio::test]
    async fn each_in_memory_store_is_its_own_database() {
        let one = store::open("sqlite::memory:").await.unwrap();
        let two = store::open("sqlite::memory:").await.unwrap();
        let m = message(1, "act-1", at(0), SERVICE_URL);
        assert_eq!(one.record_inbound(&m).await.unwrap(), Claim::First);
        assert_eq!(two.record_inbound(&m).await.unwrap(), Claim::First);
    }
}

mod postgres {
    use super::*;
    use crate::databases::in_postgres_schema;

    conformance_tests!(databases::with_postgres);

    #[tokio::test]
    async fn events_are_append_only() {
        in_postgres_schema(|schema| async move {
            let store = schema.open().await;
            let e = event(Some(1), "bot.installed", at(0));
            store.append_event(&e).await.unwrap();

            let mut raw = schema.raw().await;
            for sql in [
                "UPDATE events SET kind = 'bot.uninstalled'",
                "DELETE FROM events",
                "TRUNCATE events",
            ] {
                let refused = sqlx::query(sql).execute(&mut raw).await.unwrap_err();
                assert!(
                    refused.to_string().contains("append-only"),
                    "{sql}: {refused}"
                );
            }

            let stored = store.events_for(&tenant(), &person(1), 10).await.unwrap();
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].event, e);
        })
        .await;
    }

    #[tokio::test]
    async fn failed_event_rolls_back_claim_and_ref() {
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

            let m = message(1, "act-1", at(0), SERVICE_URL);
            assert!(store.record_inbound(&m).await.is_err());
            assert_eq!(
                store.conversation_ref(&tenant(), &person(1)).await.unwrap(),
                None
            );

            sqlx::raw_sql("DROP TRIGGER fail_event ON events")
                .execute(&mut raw)
                .await
                .unwrap();
            assert_eq!(store.record_inbound(&m).await.unwrap(), Claim::First);
            assert_eq!(
                store.conversation_ref(&tenant(), &person(1)).await.unwrap(),
                m.conversation_ref
            );
        })
        .await;
    }

    #[tokio::test]
    async fn claims_survive_reopening_the_store() {
        in_postgres_schema(|schema| async move {
            let m = message(1, "act-1", at(0), SERVICE_URL);
            let store = schema.open().await;
            assert_eq!(store.record_inbound(&m).await.unwrap(), Claim::First);
            drop(store);

            let reopened = schema.open().await;
            let redelivery = message(1, "act-1", at(5_000), SERVICE_URL);
            let claim = reopened.record_inbound(&redelivery).await.unwrap();
            assert_eq!(claim, Claim::Duplicate);
        })
        .await;
    }

    #[tokio::test]
    async fn migrate_is_idempotent() {
        in_postgres_schema(|schema| async move {
            let applied = store::migrate(&schema.url).await.unwrap();
            assert_eq!(applied, 3);
            assert_eq!(store::migrate(&schema.url).await.unwrap(), applied);
        })
        .await;
    }

    #[tokio::test]
    async fn open_accepts_both_postgres_schemes() {
        in_postgres_schema(|schema| async move {
            let (_, rest) = schema.url.split_once("://").unwrap();
            for scheme in ["postgres", "postgresql"] {
                let store = store::open(&format!("{scheme}://{rest}")).await.unwrap();
                store.ping().await.unwrap();
            }
        })
        .await;
    }
}

mod memory {
    use super::*;

    conformance_tests!(databases::with_memory);

    #[tokio::test]
    async fn migrate_is_idempotent() {
        assert_eq!(store::migrate("memory://").await.unwrap(), 0);
        assert_eq!(store::migrate("memory://").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn unsupported_url_is_refused() {
    for url in ["mysql://localhost/db", "memory:", "", "file:///tmp/x.db"] {
        assert!(
            matches!(store::open(url).await, Err(StoreError::UnsupportedUrl(u)) if u == url),
            "open({url:?})"
        );
        assert!(
            matches!(store::migrate(url).await, Err(StoreError::UnsupportedUrl(u)) if u == url),
            "migrate({url:?})"
        );
    }
}
