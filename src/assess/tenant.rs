//! `assess --all`: the tenant-wide report from bulk reads only (users, the registration
//! report, the window of sign-ins read as parallel time slices, registration audits, all
//! devices, target and excluded group members), then readiness for each person.
//!
//! 5.8 million sign-ins of 100,000 people are kept compact: every string a sign-in carries
//! (user, app, device detail, user agent, authentication steps, outcome) is interned, so one
//! sign-in is 32 bytes, and all of them live in one vector sorted by person once read (one
//! large allocation grows in place; 100,000 small ones would each keep their own slack).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::mpsc;

use super::report::{NudgeLists, PersonRow, Stage, TenantReport};
use super::{AssessError, Settings, map};
use crate::graph::models::{Device, USER_SELECT};
use crate::graph::{GraphClient, GraphCounters, GraphError, SignInQuery, UserQuery};
use crate::readiness::{
    self, AccountKind, AuditEvent, AuthStep, PersonSnapshot, RegistrationReport, SignIn,
    SignInDevice,
};

/// What the run did, for the summary on stderr and the benchmark.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkSummary {
    pub people: usize,
    pub sign_ins: usize,
    pub verdicts: BTreeMap<String, usize>,
    pub stages: BTreeMap<Stage, usize>,
    pub wall: Duration,
    /// Time spent reading Graph (the rest is assessing and writing).
    pub reading: Duration,
    pub graph: GraphCounters,
}

impl BulkSummary {
    pub fn people_per_second(&self) -> f64 {
        self.people as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for BulkSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = &self.graph;
        writeln!(f, "people assessed: {}", self.people)?;
        let verdicts: Vec<String> = self
            .verdicts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(f, "verdicts: {}", verdicts.join(", "))?;
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|(k, v)| format!("{} {v}", k.as_str()))
            .collect();
        writeln!(f, "stages: {}", stages.join(", "))?;
        writeln!(
            f,
            "wall time: {:.1} s (reading Graph {:.1} s), {:.0} people/s, {} sign-ins",
            self.wall.as_secs_f64(),
            self.reading.as_secs_f64(),
            self.people_per_second(),
            self.sign_ins
        )?;
        writeln!(
            f,
            "Graph requests: {} on the wire; reports {}, directory reads {}, directory writes {}, other {}; batches {}, retries {}",
            g.http_requests(),
            g.reports,
            g.directory_reads,
            g.directory_writes,
            g.other,
            g.batches,
            g.retries
        )?;
        write!(f, "429s seen: {}", g.throttled)
    }
}

/// Values stored once, referred to by index.
struct Interner<T> {
    ids: HashMap<T, u32>,
    items: Vec<T>,
}

impl<T: Hash + Eq + Clone> Interner<T> {
    fn new() -> Self {
        Interner {
            ids: HashMap::new(),
            items: Vec::new(),
        }
    }

    fn id(&mut self, item: T) -> u32 {
        if let Some(&id) = self.ids.get(&item) {
            return id;
        }
        let id = self.items.len() as u32;
        self.items.push(item.clone());
        self.ids.insert(item, id);
        id
    }

    fn get(&self, id: u32) -> &T {
        &self.items[id as usize]
    }
}

type AppKey = (String, Option<String>);
type DeviceDetailKey = [Option<String>; 4];
type AgentKey = (Option<String>, Option<String>);
type StepsKey = Vec<(String, Option<String>, bool)>;

/// One sign-in, its strings interned.
#[derive(Debug, Clone, Copy)]
struct CompactSignIn {
    at_micros: i64,
    user: u32,
    app: u32,
    device: u32,
    agent: u32,
    steps: u32,
    /// Error code and whether it was interactive.
    outcome: u32,
}

/// Everyone's sign-ins of the window: added in any order, then [`SignInStore::finish`]
/// sorts them by person.
struct SignInStore {
    users: Interner<String>,
    apps: Interner<AppKey>,
    devices: Interner<DeviceDetailKey>,
    agents: Interner<AgentKey>,
    steps: Interner<StepsKey>,
    outcomes: Interner<(i64, bool)>,
    all: Vec<CompactSignIn>,
    /// Per user index, where their sign-ins start in `all` (one more entry at the end).
    starts: Vec<usize>,
}

impl SignInStore {
    fn new() -> Self {
        SignInStore {
            users: Interner::new(),
            apps: Interner::new(),
            devices: Interner::new(),
            agents: Interner::new(),
            steps: Interner::new(),
            outcomes: Interner::new(),
            all: Vec::new(),
            starts: Vec::new(),
        }
    }

    fn count(&self) -> usize {
        self.all.len()
    }

    fn add(&mut self, user_id: String, s: SignIn) {
        let compact = CompactSignIn {
            user: self.users.id(user_id),
            at_micros: s.at.as_microsecond(),
            app: self.apps.id((s.app_id, s.app_display_name)),
            device: self.devices.id([
                s.device.device_id,
                s.device.display_name,
                s.device.operating_system,
                s.device.browser,
            ]),
            agent: self.agents.id((s.user_agent, s.client_app_used)),
            steps: self.steps.id(s
                .steps
                .into_iter()
                .map(|st| (st.method, st.detail, st.succeeded))
                .collect()),
            outcome: self.outcomes.id((s.error_code, s.interactive)),
        };
        self.all.push(compact);
    }

    /// Sorts by person, newest first, and indexes where each person's sign-ins start.
    fn finish(&mut self) {
        self.all.shrink_to_fit();
        self.all
            .sort_unstable_by_key(|c| (c.user, std::cmp::Reverse(c.at_micros)));
        let mut starts = Vec::with_capacity(self.users.items.len() + 1);
        let mut i = 0;
        for user in 0..self.users.items.len() as u32 {
            starts.push(i);
            while i < self.all.len() && self.all[i].user == user {
                i += 1;
            }
        }
        starts.push(self.all.len());
        self.starts = starts;
    }

    /// One person's sign-ins, newest first (after [`SignInStore::finish`]).
    fn of_user(&self, user_id: &str) -> &[CompactSignIn] {
        match self.users.ids.get(user_id) {
            Some(&u) if (u as usize) + 1 < self.starts.len() => {
                &self.all[self.starts[u as usize]..self.starts[u as usize + 1]]
            }
            _ => &[],
        }
    }

    fn expand(&self, c: &CompactSignIn) -> SignIn {
        let (app_id, app_name) = self.apps.get(c.app).clone();
        let [device_id, display_name, operating_system, browser] =
            self.devices.get(c.device).clone();
        let (user_agent, client_app_used) = self.agents.get(c.agent).clone();
        let &(error_code, interactive) = self.outcomes.get(c.outcome);
        SignIn {
            at: Timestamp::from_microsecond(c.at_micros).unwrap_or(Timestamp::UNIX_EPOCH),
            app_id,
            app_display_name: app_name,
            interactive,
            device: SignInDevice {
                device_id,
                display_name,
                operating_system,
                browser,
            },
            user_agent,
            client_app_used,
            steps: self
                .steps
                .get(c.steps)
                .iter()
                .map(|(method, detail, succeeded)| AuthStep {
                    method: method.clone(),
                    detail: detail.clone(),
                    succeeded: *succeeded,
                })
                .collect(),
            error_code,
        }
    }

    /// Distinct people signing in on each device.
    fn people_per_device(&self) -> HashMap<String, u32> {
        let mut counts: HashMap<String, u32> = HashMap::new();
        for w in self.starts.windows(2) {
            let ids: BTreeSet<&str> = self.all[w[0]..w[1]]
                .iter()
                .filter_map(|s| self.devices.get(s.device)[0].as_deref())
                .collect();
            for id in ids {
                *counts.entry(id.to_owned()).or_default() += 1;
            }
        }
        counts
    }
}

/// The window cut into `slices` whole-second slices `[start, end)`; the last one ends at
/// `now`.
fn time_slices(since: Timestamp, now: Timestamp, slices: usize) -> Vec<(Timestamp, Timestamp)> {
    let slices = slices.max(1) as i64;
    let start = since.as_second();
    let span = (now.as_second() - start).max(1);
    let step = (span + slices - 1) / slices;
    (0..slices)
        .map(|i| {
            let a = Timestamp::from_second(start + i * step).unwrap_or(since);
            let b = if i == slices - 1 {
                now
            } else {
                Timestamp::from_second(start + (i + 1) * step).unwrap_or(now)
            };
            (if i == 0 { since } else { a }, b)
        })
        .filter(|(a, b)| a < b)
        .collect()
}

/// Reads every sign-in of the window, several time slices at once so page latency never
/// leaves the reports budget idle. A slice's query is inclusive at whole seconds; each
/// sign-in is kept only by the slice its own time falls in, so none is counted twice.
async fn read_sign_ins(
    graph: &GraphClient,
    since: Timestamp,
    now: Timestamp,
    slices: usize,
    progress: &ProgressBar,
) -> Result<SignInStore, GraphError> {
    let (tx, mut rx) = mpsc::channel::<Vec<(String, SignIn)>>(8);
    let mut tasks = Vec::new();
    let ranges = time_slices(since, now, slices);
    let last = ranges.len().saturating_sub(1);
    for (i, (a, b)) in ranges.into_iter().enumerate() {
        let mut query = SignInQuery::since(a);
        query.until = (i != last).then_some(b);
        query.select = Some(map::SIGN_IN_FIELDS.to_owned());
        let mut pages = graph.sign_ins(&query);
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(page) = pages.next().await {
                let page: Vec<(String, SignIn)> = page?
                    .iter()
                    .filter(|s| s.created_date_time >= a && (i == last || s.created_date_time < b))
                    .filter_map(|s| {
                        let user = s.user_id.as_deref()?.to_ascii_lowercase();
                        Some((user, map::sign_in(s)))
                    })
                    .collect();
                if tx.send(page).await.is_err() {
                    break;
                }
            }
            Ok::<(), GraphError>(())
        }));
    }
    drop(tx);
    let mut store = SignInStore::new();
    while let Some(page) = rx.recv().await {
        for (user, s) in page {
            store.add(user, s);
        }
        progress.set_message(format!("reading Graph: {} sign-ins", store.count()));
    }
    for t in tasks {
        t.await.map_err(|e| GraphError::Transient {
            status: None,
            reason: format!("a sign-in reader stopped: {e}"),
        })??;
    }
    store.finish();
    Ok(store)
}

/// Group id → member ids, for the groups that decide targets and the passkey policy.
async fn read_memberships(
    graph: &GraphClient,
    groups: &[String],
) -> Result<HashMap<String, BTreeSet<String>>, GraphError> {
    let mut by_user: HashMap<String, BTreeSet<String>> = HashMap::new();
    let lists = futures::future::try_join_all(groups.iter().map(|g| async move {
        let members = graph.group_member_ids(g).try_concat().await?;
        Ok::<_, GraphError>((g.clone(), members))
    }))
    .await?;
    for (group, members) in lists {
        for m in members {
            by_user
                .entry(m.id.to_ascii_lowercase())
                .or_default()
                .insert(group.clone());
        }
    }
    Ok(by_user)
}

/// The tenant-wide report. `slices` time slices of sign-ins are read at once.
pub async fn assess_all(
    graph: &GraphClient,
    settings: &Settings,
    slices: usize,
    progress: &ProgressBar,
) -> Result<(TenantReport, BulkSummary), AssessError> {
    let started = Instant::now();
    progress.set_message("reading Graph");
    let policy = settings.policy(graph).await?;
    let since = settings.window_start();
    let now = settings.now;
    let mut groups = settings.population_groups();
    groups.extend(map::policy_groups(&policy));
    groups.sort();
    groups.dedup();
    let users_query = UserQuery {
        select: USER_SELECT.to_owned(),
        filter: Some("accountEnabled eq true and userType eq 'Member'".to_owned()),
        ..UserQuery::default()
    };
    let (users, reports, audits, devices, memberships, sign_ins) = tokio::try_join!(
        graph.users(&users_query).try_concat(),
        async {
            let mut rows: HashMap<String, RegistrationReport> = HashMap::new();
            let mut pages = graph.registration_details(None);
            while let Some(page) = pages.next().await {
                for row in page? {
                    rows.insert(
                        row.id.to_ascii_lowercase(),
                        map::registration_report(&row, now),
                    );
                }
            }
            Ok::<_, GraphError>(rows)
        },
        async {
            let mut events: HashMap<String, Vec<AuditEvent>> = HashMap::new();
            let mut pages = graph.registration_audits(since, Some(now), None);
            while let Some(page) = pages.next().await {
                for a in page? {
                    if let Some(user) = a.initiated_by.user.as_ref().and_then(|u| u.id.as_deref()) {
                        events
                            .entry(user.to_ascii_lowercase())
                            .or_default()
                            .push(map::audit_event(&a));
                    }
                }
            }
            Ok::<_, GraphError>(events)
        },
        async {
            let mut all: HashMap<String, Device> = HashMap::new();
            let mut pages = graph.devices();
            while let Some(page) = pages.next().await {
                for d in page? {
                    if let Some(id) = &d.device_id {
                        all.insert(id.to_ascii_lowercase(), d);
                    }
                }
            }
            Ok::<_, GraphError>(all)
        },
        read_memberships(graph, &groups),
        read_sign_ins(graph, since, now, slices, progress),
    )?;
    let reading = started.elapsed();
    let sign_in_count = sign_ins.count();
    let rules = settings.rules.clone();
    let target = settings.target.clone();
    let enforcement_group = settings.enforcement_group_id.clone();
    let bar = progress.clone();
    let (rows, verdicts, stages) = tokio::task::spawn_blocking(move || {
        let people_on = sign_ins.people_per_device();
        bar.set_length(users.len() as u64);
        bar.set_position(0);
        bar.set_message("assessing");
        let mut rows = Vec::with_capacity(users.len());
        let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
        let mut stages: BTreeMap<Stage, usize> = BTreeMap::new();
        for user in &users {
            let id = user.id.to_ascii_lowercase();
            let person_sign_ins: Vec<SignIn> = sign_ins
                .of_user(&id)
                .iter()
                .map(|c| sign_ins.expand(c))
                .collect();
            let device_ids: BTreeSet<&str> = person_sign_ins
                .iter()
                .filter_map(|s| s.device.device_id.as_deref())
                .collect();
            let person_devices = device_ids
                .iter()
                .filter_map(|d| devices.get(*d))
                .filter_map(|d| {
                    let n = d
                        .device_id
                        .as_deref()
                        .and_then(|i| people_on.get(&i.to_ascii_lowercase()).copied());
                    map::registered_device(d, n)
                })
                .collect();
            let snapshot = PersonSnapshot {
                user_id: id.clone(),
                user_principal_name: user.user_principal_name.clone().unwrap_or_default(),
                user_type: map::user_type(user),
                account_kind: AccountKind::Person,
                account_enabled: user.account_enabled.unwrap_or(true),
                group_ids: memberships.get(&id).cloned().unwrap_or_default(),
                methods: None,
                registration_report: reports.get(&id).cloned(),
                devices: person_devices,
                sign_ins: person_sign_ins,
                audit_events: audits.get(&id).cloned().unwrap_or_default(),
                taken_at: now,
            };
            let a = readiness::assess(&snapshot, &policy, &rules, &target, now);
            let row = PersonRow::of(&a, super::in_group(enforcement_group.as_deref(), &snapshot));
            *verdicts.entry(row.verdict.clone()).or_default() += 1;
            *stages.entry(row.stage).or_default() += 1;
            rows.push(row);
            bar.inc(1);
        }
        (rows, verdicts, stages)
    })
    .await
    .map_err(|e| AssessError::Task {
        reason: e.to_string(),
    })?;
    let report = TenantReport {
        generated_at: now,
        window_start: since,
        nudges: NudgeLists::of(&rows),
        people: rows,
    };
    let summary = BulkSummary {
        people: report.people.len(),
        sign_ins: sign_in_count,
        verdicts,
        stages,
        wall: started.elapsed(),
        reading,
        graph: graph.counters(),
    };
    Ok((report, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_slices_cover_the_window_without_gaps_or_overlap() {
        let since: Timestamp = "2026-10-26T12:00:00.250Z".parse().unwrap();
        let now: Timestamp = "2026-11-25T12:00:00.750Z".parse().unwrap();
        let s = time_slices(since, now, 7);
        assert_eq!(s.len(), 7);
        assert_eq!(s[0].0, since);
        assert_eq!(s[6].1, now);
        for w in s.windows(2) {
            assert_eq!(w[0].1, w[1].0);
            assert_eq!(w[1].0.subsec_nanosecond(), 0, "whole seconds");
        }
    }

    #[test]
    fn interned_sign_ins_come_back_as_they_went_in() {
        let s = SignIn {
            at: "2026-11-20T08:00:00.123456Z".parse().unwrap(),
            app_id: "app".into(),
            app_display_name: Some("Teams".into()),
            interactive: true,
            device: SignInDevice {
                device_id: Some("d1".into()),
                display_name: Some("LT-1".into()),
                operating_system: Some("Windows 10".into()),
                browser: Some("Rich Client 5.2.0".into()),
            },
            user_agent: Some("ua".into()),
            client_app_used: Some("Mobile Apps and Desktop clients".into()),
            steps: vec![AuthStep {
                method: "Password".into(),
                detail: None,
                succeeded: true,
            }],
            error_code: 50074,
        };
        let mut store = SignInStore::new();
        let mut later = s.clone();
        later.at = "2026-11-21T08:00:00Z".parse().unwrap();
        store.add("u1".into(), s.clone());
        store.add("u2".into(), s.clone());
        store.add("u1".into(), later.clone());
        store.finish();
        assert_eq!(store.apps.items.len(), 1);
        assert_eq!(store.devices.items.len(), 1);
        let u1: Vec<SignIn> = store
            .of_user("u1")
            .iter()
            .map(|c| store.expand(c))
            .collect();
        assert_eq!(u1, vec![later, s.clone()], "newest first");
        assert_eq!(store.of_user("u2").len(), 1);
        assert!(store.of_user("nobody").is_empty());
        assert_eq!(store.people_per_device()["d1"], 2);
        assert_eq!(std::mem::size_of::<CompactSignIn>(), 32);
    }
}
