//! Test sign-in attempts: the conformance checks every backend runs (listed in
//! `conformance_tests!`). A link starts one sign-in, a state finishes one, both before their
//! deadline, and two replicas racing for either get one winner.

use std::sync::Arc;

use jiff::SignedDuration;
use passkey_pilot::store::{AttemptClaim, FlowSecrets, NewTestAttempt, Store, TestFlow};

use super::{at, conversation, person, tenant};

const TTL: SignedDuration = SignedDuration::from_mins(10);

fn link(n: u32, token_hash: &str) -> NewTestAttempt {
    NewTestAttempt {
        token_hash: token_hash.to_owned(),
        tenant_id: tenant(),
        aad_object_id: person(n),
        conversation_id: conversation(n),
        login_hint: Some(format!("person{n}@contoso.example")),
        created_at: at(0),
        expires_at: at(0) + TTL,
    }
}

fn flow(state_hash: &str, started_ms: i64) -> TestFlow {
    TestFlow {
        state_hash: state_hash.to_owned(),
        secrets: FlowSecrets {
            nonce: format!("nonce-{state_hash}"),
            pkce_verifier: format!("verifier-{state_hash}-0123456789012345678901234567890"),
        },
        expires_at: at(started_ms) + TTL,
    }
}

fn claimed(claim: AttemptClaim) -> passkey_pilot::store::TestAttempt {
    match claim {
        AttemptClaim::Claimed(a) => a,
        other => panic!("expected a claim, got {other:?}"),
    }
}

pub async fn a_test_link_starts_one_sign_in_and_keeps_its_person_and_secrets(
    store: Arc<dyn Store>,
) {
    store.insert_test_attempt(&link(1, "t1")).await.unwrap();
    let started = claimed(
        store
            .start_test_attempt("t1", &flow("s1", 1_000), at(1_000))
            .await
            .unwrap(),
    );
    assert_eq!(started.aad_object_id, person(1));
    assert_eq!(started.conversation_id, conversation(1));
    assert_eq!(
        started.login_hint.as_deref(),
        Some("person1@contoso.example")
    );
    assert_eq!(started.flow, Some(flow("s1", 1_000).secrets));
    assert_eq!(started.expires_at, at(1_000) + TTL);

    match store
        .start_test_attempt("t1", &flow("s2", 2_000), at(2_000))
        .await
        .unwrap()
    {
        AttemptClaim::AlreadyUsed(a) => assert_eq!(a.aad_object_id, person(1)),
        other => panic!("a link starts once: {other:?}"),
    }
    assert_eq!(
        store
            .start_test_attempt("nope", &flow("s3", 2_000), at(2_000))
            .await
            .unwrap(),
        AttemptClaim::Unknown
    );

    let finished = claimed(store.finish_test_attempt("s1", at(3_000)).await.unwrap());
    assert_eq!(finished.aad_object_id, person(1));
    assert_eq!(finished.flow, Some(flow("s1", 1_000).secrets));
    assert!(matches!(
        store.finish_test_attempt("s1", at(4_000)).await.unwrap(),
        AttemptClaim::AlreadyUsed(_)
    ));
    assert_eq!(
        store.finish_test_attempt("s2", at(4_000)).await.unwrap(),
        AttemptClaim::Unknown,
        "the losing start's state was never recorded"
    );
}

pub async fn an_expired_test_link_or_flow_cannot_be_used(store: Arc<dyn Store>) {
    store.insert_test_attempt(&link(1, "t1")).await.unwrap();
    let late = at(0) + TTL;
    match store
        .start_test_attempt("t1", &flow("s1", 0), late)
        .await
        .unwrap()
    {
        AttemptClaim::Expired(a) => assert_eq!(a.aad_object_id, person(1)),
        other => panic!("expired at its deadline: {other:?}"),
    }

    store.insert_test_attempt(&link(2, "t2")).await.unwrap();
    claimed(
        store
            .start_test_attempt("t2", &flow("s2", 60_000), at(60_000))
            .await
            .unwrap(),
    );
    let flow_deadline = at(60_000) + TTL;
    assert!(matches!(
        store
            .finish_test_attempt("s2", flow_deadline)
            .await
            .unwrap(),
        AttemptClaim::Expired(_)
    ));
    assert_eq!(
        store
            .purge_test_attempts(flow_deadline + TTL)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.finish_test_attempt("s2", at(0)).await.unwrap(),
        AttemptClaim::Unknown
    );
}

pub async fn concurrent_starts_and_finishes_of_one_attempt_have_one_winner(store: Arc<dyn Store>) {
    store.insert_test_attempt(&link(1, "t1")).await.unwrap();
    let mut starts = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        starts.push(tokio::spawn(async move {
            let state = format!("s{i}");
            let claim = store
                .start_test_attempt("t1", &flow(&state, 1_000), at(1_000))
                .await
                .unwrap();
            (state, claim)
        }));
    }
    let mut winners = Vec::new();
    for s in starts {
        let (state, claim) = s.await.unwrap();
        if matches!(claim, AttemptClaim::Claimed(_)) {
            winners.push(state);
        } else {
            assert!(matches!(claim, AttemptClaim::AlreadyUsed(_)), "{claim:?}");
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let mut finishes = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let state = winners[0].clone();
        finishes.push(tokio::spawn(async move {
            store.finish_test_attempt(&state, at(2_000)).await.unwrap()
        }));
    }
    let mut won = 0;
    for f in finishes {
        if matches!(f.await.unwrap(), AttemptClaim::Claimed(_)) {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}
