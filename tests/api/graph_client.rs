//! The Graph client against the simulated tenant: every read and write on simulated people
//! chosen by their data, paging, `$batch` splitting and retries, fault injection, and a bulk
//! read of report pages against the simulator's real limits without a single 429.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use passkey_pilot::config::{Config, Secret};
use passkey_pilot::graph::models::{AuthenticationMethod, PasskeyType, TemporaryAccessPassRequest};
use passkey_pilot::graph::{
    ApiVersion, BatchRequest, GraphClient, GraphError, MembershipChange, RetryPolicy, SignInQuery,
    UserQuery,
};
use passkey_pilot::sim::population::{GroupRole, MethodKind, Person, Population};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use serde_json::json;

const APP_ID: &str = "00000000-0000-4000-8000-00000000c11e";
const SECRET: &str = "sim-only-graph-client-secret";
/// Everything the client's endpoints need (reference/graph.md §1).
const PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "Device.Read.All",
    "GroupMember.ReadWrite.All",
    "AuditLog.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "Policy.Read.AuthenticationMethod",
    "TeamsAppInstallation.ReadWriteSelfForUser.All",
];

struct Tenant {
    sim: Simulator,
    pop: Arc<Population>,
    graph: GraphClient,
}

impl Tenant {
    fn person(&self, wanted: impl Fn(&Person) -> bool) -> &Person {
        self.pop
            .people
            .iter()
            .find(|p| wanted(p))
            .expect("such a person")
    }

    async fn faults(&self, plan: serde_json::Value) {
        let r = reqwest::Client::new()
            .put(format!("{}/_sim/faults/graph", self.sim.base_url()))
            .json(&plan)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(15),
        request_timeout: Duration::from_secs(10),
    }
}

/// A simulated tenant of `users` people whose limits are multiplied by `sim_scale`, and a
/// client whose budget is multiplied by `client_scale`.
async fn tenant(users: usize, sim_scale: f64, client_scale: f64, attempts: u32) -> Tenant {
    let pop = Arc::new(Population::generate(users, 7, Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        population: Some(pop.clone()),
        graph_throttle_scale: sim_scale,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    sim.register_graph_app(APP_ID, SECRET, PERMISSIONS);
    let mut config = Config::defaults().graph;
    config.base_url = sim.base_url().to_owned();
    config.tenant_id = sim.tenant_id().to_owned();
    config.client_id = APP_ID.to_owned();
    config.client_secret = Secret::new(SECRET);
    config.token_url = sim.token_url();
    config.limit_scale = client_scale;
    let http = reqwest::Client::new();
    let tokens = passkey_pilot::graph::token_source(&config, http.clone()).unwrap();
    let graph = GraphClient::new(&config, http, tokens, fast_retries(attempts)).unwrap();
    Tenant { sim, pop, graph }
}

fn has(p: &Person, f: impl Fn(&MethodKind) -> bool) -> bool {
    p.methods.iter().any(|m| f(&m.kind))
}

#[tokio::test]
async fn users_page_by_page_each_once_and_one_by_id_or_upn() {
    let t = tenant(230, 100.0, 100.0, 3).await;
    let mut pages = t.graph.users(&UserQuery {
        page_size: 50,
        ..UserQuery::default()
    });
    let (mut seen, mut count) = (HashSet::new(), 0);
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert!(page.len() <= 50);
        count += 1;
        for user in page {
            assert!(user.user_principal_name.is_some());
            assert!(seen.insert(user.id), "twice");
        }
    }
    assert_eq!(count, 5);
    let all: HashSet<String> = t.pop.people.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(seen, all);

    let members: Vec<_> = t
        .graph
        .users(&UserQuery {
            filter: Some("userType eq 'Guest'".into()),
            ..UserQuery::default()
        })
        .collect::<Vec<_>>()
        .await;
    let guests = t
        .pop
        .people
        .iter()
        .filter(|p| p.user_type == passkey_pilot::sim::population::UserType::Guest)
        .count();
    assert_eq!(
        members.into_iter().map(|p| p.unwrap().len()).sum::<usize>(),
        guests
    );

    let p = &t.pop.people[11];
    let by_id = t.graph.user(&p.id.to_string()).await.unwrap();
    assert_eq!(
        by_id.user_principal_name.as_deref(),
        Some(p.user_principal_name.as_str())
    );
    let by_upn = t.graph.user(&p.user_principal_name).await.unwrap();
    assert_eq!(by_upn.id, p.id.to_string());
    // The second read of the same person is served from the cache.
    t.graph.user(&p.id.to_string()).await.unwrap();
    assert_eq!(t.graph.counters().cache_hits, 1);
}

#[tokio::test]
async fn a_missing_person_is_not_found() {
    let t = tenant(10, 100.0, 100.0, 3).await;
    let nobody = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        t.graph.user(nobody).await,
        Err(GraphError::NotFound { .. })
    ));
    assert!(matches!(
        t.graph.fido2_methods(nobody).await,
        Err(GraphError::NotFound { .. })
    ));
    assert_eq!(t.graph.counters().retries, 0);
}

#[tokio::test]
async fn a_persons_methods_passkeys_and_windows_hello_devices_match_their_data() {
    let t = tenant(300, 100.0, 100.0, 3).await;
    let with_passkey = t.person(|p| {
        has(p, |k| {
            matches!(
                k,
                MethodKind::Fido2 {
                    last_used: Some(_),
                    ..
                }
            )
        })
    });
    let id = with_passkey.id.to_string();
    let methods = t.graph.authentication_methods(&id).await.unwrap();
    assert_eq!(methods.len(), with_passkey.methods.len());
    assert!(
        methods
            .iter()
            .any(|m| matches!(m, AuthenticationMethod::Password(_)))
    );
    let passkeys = t.graph.fido2_methods(&id).await.unwrap();
    let expected: Vec<_> = with_passkey
        .methods
        .iter()
        .filter_map(|m| match m.kind {
            MethodKind::Fido2 { passkey, .. } => Some(passkey),
            _ => None,
        })
        .collect();
    assert_eq!(passkeys.len(), expected.len());
    for (got, model) in passkeys.iter().zip(&expected) {
        assert_eq!(got.aa_guid.as_deref(), Some(model.aaguid()));
        let kind = if model.is_synced() {
            PasskeyType::Synced
        } else {
            PasskeyType::DeviceBound
        };
        assert_eq!(got.passkey_type.as_ref(), Some(&kind));
    }
    assert!(
        passkeys.iter().any(|p| p.last_used_date_time.is_some()),
        "beta has lastUsedDateTime"
    );

    let with_whfb = t.person(|p| {
        has(p, |k| {
            matches!(k, MethodKind::WindowsHelloForBusiness { .. })
        })
    });
    let whfb_id = with_whfb.id.to_string();
    let keys = t.graph.windows_hello_methods(&whfb_id).await.unwrap();
    assert!(keys.iter().all(|k| k.device.is_none()));
    let one = t
        .graph
        .windows_hello_method_with_device(&whfb_id, &keys[0].id)
        .await
        .unwrap();
    let device = one.device.expect("device with $expand");
    let index = with_whfb
        .methods
        .iter()
        .find_map(|m| match m.kind {
            MethodKind::WindowsHelloForBusiness { device, .. } => Some(device),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        device.operating_system_version.as_deref(),
        Some(t.pop.devices[index as usize].os_version().as_str())
    );

    // After "I've done it", invalidation makes the next read go to Graph again.
    let before = t.graph.counters().reports;
    t.graph.fido2_methods(&id).await.unwrap();
    assert_eq!(t.graph.counters().reports, before, "cached");
    t.graph.invalidate_user(&id).await;
    t.graph.fido2_methods(&id).await.unwrap();
    assert_eq!(
        t.graph.counters().reports,
        before + 1,
        "fresh after invalidation"
    );
}

#[tokio::test]
async fn the_registration_report_reads_all_pages_and_one_row() {
    let t = tenant(2_300, 100.0, 100.0, 3).await;
    let mut pages = t.graph.registration_details(None);
    let (mut rows, mut count) = (0, 0);
    while let Some(page) = pages.next().await {
        rows += page.unwrap().len();
        count += 1;
    }
    assert_eq!((rows, count), (2_300, 3));
    let with_passkey = t.person(|p| has(p, |k| matches!(k, MethodKind::Fido2 { .. })));
    let row = t
        .graph
        .registration_detail(&with_passkey.id.to_string())
        .await
        .unwrap();
    assert!(
        row.methods_registered
            .iter()
            .any(|m| m.starts_with("passKey")),
        "{row:?}"
    );
    let filtered: usize = t
        .graph
        .registration_details(Some("isMfaRegistered eq false"))
        .map(|p| {
            p.unwrap()
                .into_iter()
                .filter(|r| r.methods_registered.is_empty())
                .count()
        })
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .sum();
    assert_eq!(
        filtered,
        t.pop
            .people
            .iter()
            .filter(|p| {
                p.methods
                    .iter()
                    .all(|m| matches!(m.kind, MethodKind::Password))
            })
            .count()
    );
}

#[tokio::test]
async fn sign_ins_of_one_person_and_of_everyone_in_a_window() {
    let t = tenant(150, 100.0, 100.0, 3).await;
    let person =
        t.person(|p| t.pop.sign_ins_of(p).iter().any(|s| !s.interactive) && p.sign_ins.1 > 10);
    let since = t.pop.now - SignedDuration::from_hours(24 * 30);
    let since = Timestamp::from_second(since.as_second() + 1).unwrap();
    let mine = t
        .graph
        .user_sign_ins(&person.id.to_string(), since, None, true)
        .await
        .unwrap();
    let expected = t
        .pop
        .sign_ins_of(person)
        .iter()
        .filter(|s| t.pop.sign_in_time(s) >= since)
        .count();
    assert_eq!(mine.len(), expected);
    assert!(
        mine.windows(2)
            .all(|w| w[0].created_date_time >= w[1].created_date_time)
    );
    assert!(mine.iter().any(|s| s.is_interactive == Some(false)));
    assert!(
        mine.iter()
            .all(|s| s.user_id.as_deref() == Some(person.id.to_string().as_str()))
    );
    assert!(
        mine.iter().any(|s| !s.authentication_details.is_empty()),
        "beta shape"
    );

    let mut query = SignInQuery::since(since);
    query.select = Some("id,createdDateTime,userId,deviceDetail,authenticationDetails".into());
    let mut pages = t.graph.sign_ins(&query);
    let mut ids = HashSet::new();
    while let Some(page) = pages.next().await {
        for s in page.unwrap() {
            assert!(s.user_agent.is_none(), "$select keeps pages small");
            assert!(s.device_detail.is_some());
            assert!(ids.insert(s.id));
        }
    }
    let interactive = t
        .pop
        .sign_ins
        .iter()
        .filter(|s| s.interactive && t.pop.sign_in_time(s) >= since)
        .count();
    assert_eq!(ids.len(), interactive);
}

#[tokio::test]
async fn registration_audits_devices_and_memberships_read_back() {
    let t = tenant(400, 100.0, 100.0, 3).await;
    let since = t.pop.now - SignedDuration::from_hours(24 * 30) + SignedDuration::from_secs(1);
    let mut audits = 0;
    let mut failures = 0;
    let mut pages = t.graph.registration_audits(since, None, None);
    while let Some(page) = pages.next().await {
        for e in page.unwrap() {
            assert_eq!(
                e.logged_by_service.as_deref(),
                Some("Authentication Methods")
            );
            audits += 1;
            failures += usize::from(e.result.as_deref() == Some("failure"));
        }
    }
    let expected = t.pop.audits.iter().filter(|e| e.at >= since).count();
    assert_eq!(audits, expected);
    assert!(failures > 0);

    let mut devices = 0;
    let mut pages = t.graph.devices();
    while let Some(page) = pages.next().await {
        for d in page.unwrap() {
            assert!(d.operating_system_version.is_some());
            devices += 1;
        }
    }
    assert_eq!(
        devices,
        t.pop.devices.iter().filter(|d| d.is_registered()).count()
    );

    let owns = |i: usize, p: &Person| {
        p.devices.iter().any(|&d| {
            let d = &t.pop.devices[d as usize];
            d.is_registered() && d.owner == Some(i as u32)
        })
    };
    let (_, owner) = t
        .pop
        .people
        .iter()
        .enumerate()
        .find(|(i, p)| owns(*i, p))
        .unwrap();
    let mine = t
        .graph
        .registered_devices(&owner.id.to_string())
        .await
        .unwrap();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|d| d.device_id.is_some()));

    let helpdesk = t.pop.group(GroupRole::Helpdesk);
    let member = &t.pop.people[helpdesk.members[0] as usize];
    let groups = t
        .graph
        .transitive_member_of(&member.id.to_string())
        .await
        .unwrap();
    assert!(groups.iter().any(|g| g.id == helpdesk.id.to_string()));
    let admins = t.pop.group(GroupRole::Admins).id.to_string();
    let checked = t
        .graph
        .check_member_groups(
            &member.id.to_string(),
            &[helpdesk.id.to_string(), admins.clone()],
        )
        .await
        .unwrap();
    assert!(checked.contains(&helpdesk.id.to_string()));
    let too_many = vec![admins; 21];
    assert!(matches!(
        t.graph
            .check_member_groups(&member.id.to_string(), &too_many)
            .await,
        Err(GraphError::Config { .. })
    ));
}

#[tokio::test]
async fn enforcing_twice_is_already_a_member_and_lifting_twice_is_not_a_member() {
    let t = tenant(30, 100.0, 100.0, 3).await;
    let group = t.sim.graph().unwrap().enforced_group_id();
    let person = t.pop.people[3].id.to_string();
    assert_eq!(
        t.graph.add_group_member(&group, &person).await.unwrap(),
        MembershipChange::Added
    );
    assert_eq!(
        t.graph.add_group_member(&group, &person).await.unwrap(),
        MembershipChange::AlreadyMember
    );
    assert_eq!(
        t.sim.graph().unwrap().group_members(&group).unwrap(),
        std::slice::from_ref(&person)
    );
    let checked = t
        .graph
        .check_member_groups(&person, std::slice::from_ref(&group))
        .await
        .unwrap();
    assert_eq!(checked.as_slice(), std::slice::from_ref(&group));
    assert_eq!(
        t.graph.remove_group_member(&group, &person).await.unwrap(),
        MembershipChange::Removed
    );
    // Removing invalidated the cached membership answer.
    assert!(
        t.graph
            .check_member_groups(&person, std::slice::from_ref(&group))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        t.graph.remove_group_member(&group, &person).await.unwrap(),
        MembershipChange::NotMember
    );
    let nobody = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        t.graph.add_group_member(nobody, &person).await,
        Err(GraphError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_temporary_access_pass_is_created_with_its_code() {
    let t = tenant(10, 100.0, 100.0, 3).await;
    let person = t.pop.people[2].id.to_string();
    let tap = t
        .graph
        .create_temporary_access_pass(
            &person,
            &TemporaryAccessPassRequest {
                lifetime_in_minutes: Some(60),
                is_usable_once: Some(true),
                start_date_time: None,
            },
        )
        .await
        .unwrap();
    let code = tap
        .temporary_access_pass
        .as_ref()
        .unwrap()
        .expose()
        .to_owned();
    assert_eq!(code.len(), 8);
    assert!(!format!("{tap:?}").contains(&code));
    assert_eq!(tap.lifetime_in_minutes, Some(60));
    let methods = t.graph.authentication_methods(&person).await.unwrap();
    assert!(
        methods
            .iter()
            .any(|m| matches!(m, AuthenticationMethod::TemporaryAccessPass(p)
        if p.id == tap.id && p.temporary_access_pass.is_none()))
    );
    let refused = t
        .graph
        .create_temporary_access_pass(
            &person,
            &TemporaryAccessPassRequest {
                lifetime_in_minutes: Some(5),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(GraphError::Rejected { status: 400, .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_batch_of_more_than_twenty_is_split_and_answered_in_order() {
    let t = tenant(60, 100.0, 100.0, 3).await;
    let mut requests: Vec<BatchRequest> = t.pop.people[..45]
        .iter()
        .enumerate()
        .map(|(i, p)| BatchRequest::get(i.to_string(), format!("/users/{}?$select=id", p.id)))
        .collect();
    requests.push(BatchRequest::get(
        "missing",
        "/users/00000000-0000-4000-8000-000000000000",
    ));
    let answers = t.graph.batch(ApiVersion::V1, requests).await.unwrap();
    assert_eq!(answers.len(), 46);
    for (i, p) in t.pop.people[..45].iter().enumerate() {
        assert_eq!(answers[i].id, i.to_string());
        let user: serde_json::Value = answers[i].json().unwrap();
        assert_eq!(user["id"], p.id.to_string());
    }
    assert!(matches!(
        answers[45].result,
        Err(GraphError::NotFound { .. })
    ));
    let c = t.graph.counters();
    assert_eq!((c.batches, c.batch_items, c.directory_reads), (3, 46, 46));
    assert_eq!(c.http_requests(), 3, "three envelopes on the wire");
}

#[tokio::test]
async fn inner_429s_are_retried_after_their_own_retry_after() {
    // Our budget thinks it may send 100 times Graph's limit; the simulator enforces the real
    // one, so the sixth method read in the envelope gets an inner 429.
    let t = tenant(20, 1.0, 100.0, 4).await;
    let person = t.pop.people[1].id.to_string();
    let requests: Vec<BatchRequest> = (0..7)
        .map(|i| {
            BatchRequest::get(
                i.to_string(),
                format!("/users/{person}/authentication/fido2Methods"),
            )
        })
        .collect();
    let started = Instant::now();
    let answers = t.graph.batch(ApiVersion::V1, requests).await.unwrap();
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    let c = t.graph.counters();
    assert!(c.throttled >= 2, "{c:?}");
    assert_eq!(
        c.retries, c.throttled,
        "only the throttled items went again: {c:?}"
    );
    assert!(c.batches >= 2, "{c:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited for Retry-After"
    );
}

#[tokio::test]
async fn injected_503_and_429_are_retried_honouring_retry_after_until_attempts_run_out() {
    let t = tenant(10, 100.0, 100.0, 3).await;
    t.faults(json!({"statuses": [503, 429], "retry_after_secs": 1}))
        .await;
    let started = Instant::now();
    let person = t.pop.people[0].id.to_string();
    t.graph.user(&person).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let c = t.graph.counters();
    assert_eq!((c.retries, c.throttled, c.server_errors), (2, 1, 1));

    t.faults(json!({"statuses": [429, 429, 429], "retry_after_secs": 1}))
        .await;
    let err = t
        .graph
        .user(&t.pop.people[1].id.to_string())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        GraphError::Throttled {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    t.faults(json!({"statuses": [504, 504, 504]})).await;
    let err = t
        .graph
        .user(&t.pop.people[2].id.to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Transient {
                status: Some(504),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_paced_bulk_read_of_report_pages_provokes_no_429() {
    // The simulator enforces Graph's documented limits times 4 (20 report requests per
    // 10 s), the client paces by the same budget: more report requests than one burst,
    // and not one 429.
    let t = tenant(2_500, 4.0, 4.0, 3).await;
    let started = Instant::now();
    let mut rows = 0;
    let mut query = SignInQuery::since(t.pop.now - SignedDuration::from_hours(24));
    query.select = Some("id,createdDateTime,userId,deviceDetail".into());
    let mut sign_ins = 0;
    let mut pages = t.graph.sign_ins(&query);
    while let Some(page) = pages.next().await {
        sign_ins += page.unwrap().len();
    }
    let mut pages = t.graph.registration_details(None);
    while let Some(page) = pages.next().await {
        rows += page.unwrap().len();
    }
    let people: Vec<String> = t.pop.people[..20]
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    let requests: Vec<BatchRequest> = people
        .iter()
        .map(|id| BatchRequest::get(id.clone(), format!("/users/{id}/authentication/methods")))
        .collect();
    let answers = t.graph.batch(ApiVersion::Beta, requests).await.unwrap();
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(rows, 2_500);
    assert!(sign_ins > 0);
    let c = t.graph.counters();
    assert!(
        c.reports > 25,
        "more than the simulator's burst of 20: {c:?}"
    );
    assert_eq!(c.throttled, 0, "{c:?}");
    assert_eq!(c.retries, 0, "{c:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "paced: {:?}",
        started.elapsed()
    );
}
