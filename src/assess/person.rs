//! `assess --user`: one person from their own data (method list, registered devices,
//! sign-ins and audits of the window, group membership via `checkMemberGroups`) and the
//! tenant's FIDO2 policy.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

use futures::TryStreamExt;

use super::report::{PersonRow, Stage, brief};
use super::{AssessError, Settings, map};
use crate::graph::{GraphClient, GraphError, MAX_CHECK_GROUPS};
use crate::readiness::{self, AccountKind, Assessment, MethodList, PersonSnapshot};

/// Most `deviceId`s one `/devices` filter carries.
const DEVICES_PER_FILTER: usize = 15;

/// One person's snapshot and what readiness says about it.
#[derive(Debug, Clone)]
pub struct PersonAssessment {
    pub snapshot: PersonSnapshot,
    pub assessment: Assessment,
    /// In `enforcement.group_id` already.
    pub enforced: bool,
}

/// A person's sign-ins and registration audits of the window, as read at `read_at`. They are
/// most of what one assessment costs in Graph's reports scope (5 requests per 10 s for the
/// whole tenant), so the journey reuses them for a while ([`assess_person_with_logs`]).
#[derive(Debug, Clone)]
pub struct PersonLogs {
    pub read_at: jiff::Timestamp,
    pub sign_ins: Vec<crate::graph::models::SignIn>,
    pub audits: Vec<crate::graph::models::DirectoryAudit>,
}

/// Reads one person (by UPN or object id) and assesses them.
pub async fn assess_person(
    graph: &GraphClient,
    settings: &Settings,
    upn: &str,
) -> Result<PersonAssessment, AssessError> {
    assess_person_with_logs(graph, settings, upn, None)
        .await
        .map(|(a, _)| a)
}

/// [`assess_person`], with the person's logs from an earlier read when given (`logs`) instead
/// of reading them again; the method list, devices and memberships are always read (through
/// the client's caches). Returns the logs it used.
pub async fn assess_person_with_logs(
    graph: &GraphClient,
    settings: &Settings,
    upn: &str,
    logs: Option<PersonLogs>,
) -> Result<(PersonAssessment, PersonLogs), AssessError> {
    let user = graph.user(upn).await.map_err(|e| match e {
        GraphError::NotFound { .. } => AssessError::NoSuchPerson {
            upn: upn.to_owned(),
        },
        other => AssessError::Graph(other),
    })?;
    let since = settings.window_start();
    let now = settings.now;
    let read_logs = async {
        if let Some(logs) = logs {
            return Ok(logs);
        }
        // Everything the logs have so far, with no upper bound: Entra's clock may be a little
        // ahead of ours, and a test sign-in made seconds ago must not fall outside the window.
        let (sign_ins, audits) = tokio::try_join!(
            graph.user_sign_ins(&user.id, since, None, false),
            graph
                .registration_audits(since, None, Some(&user.id))
                .try_concat(),
        )?;
        Ok::<_, GraphError>(PersonLogs {
            read_at: now,
            sign_ins,
            audits,
        })
    };
    let (methods, registered, logs) = tokio::try_join!(
        graph.authentication_methods(&user.id),
        graph.registered_devices(&user.id),
        read_logs,
    )?;
    let (sign_ins, audits) = (&logs.sign_ins, &logs.audits);
    // The policy names groups of its own, so memberships are checked after it is read.
    let policy = settings.policy(graph).await?;
    let mut groups: Vec<String> = settings.population_groups();
    groups.extend(map::policy_groups(&policy));
    groups.sort();
    groups.dedup();
    let id = user.id.as_str();
    let mut member_of: Vec<String> = Vec::new();
    for chunk in groups.chunks(MAX_CHECK_GROUPS) {
        member_of.extend(graph.check_member_groups(id, chunk).await?.iter().cloned());
    }
    // The method list gives a WHFB key without its device; one GET with `$expand=device`
    // per key binds it to the device exactly (not only by name).
    let mut methods: Vec<readiness::AuthMethod> = methods.iter().map(map::method).collect();
    for m in &mut methods {
        if let readiness::AuthMethod::WindowsHello(w) = m
            && w.device_id.is_none()
        {
            match graph.windows_hello_method_with_device(id, &w.id).await {
                Ok(expanded) => {
                    if let readiness::AuthMethod::WindowsHello(e) = map::method(
                        &crate::graph::models::AuthenticationMethod::WindowsHello(expanded),
                    ) {
                        w.device_id = e.device_id;
                    }
                }
                // Deleted meanwhile, or no device behind it: the name still binds it.
                Err(GraphError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let sign_ins: Vec<readiness::SignIn> = sign_ins.iter().map(map::sign_in).collect();
    let mut devices: Vec<readiness::RegisteredDevice> = registered
        .iter()
        .filter_map(|d| map::registered_device(d, None))
        .collect();
    // Devices the person signs in on that are registered to someone else (shared PCs).
    let known: HashSet<String> = devices.iter().map(|d| d.device_id.clone()).collect();
    let missing: Vec<String> = sign_ins
        .iter()
        .filter_map(|s| s.device.device_id.clone())
        .filter(|d| !known.contains(d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in missing.chunks(DEVICES_PER_FILTER) {
        let found = graph.devices_by_device_id(chunk).await?;
        devices.extend(found.iter().filter_map(|d| map::registered_device(d, None)));
    }
    let snapshot = PersonSnapshot {
        user_id: user.id.to_ascii_lowercase(),
        user_principal_name: user
            .user_principal_name
            .clone()
            .unwrap_or_else(|| upn.into()),
        user_type: map::user_type(&user),
        account_kind: AccountKind::Person,
        account_enabled: user.account_enabled.unwrap_or(true),
        group_ids: member_of.iter().map(|g| g.to_ascii_lowercase()).collect(),
        methods: Some(MethodList {
            fetched_at: now,
            methods,
        }),
        registration_report: None,
        devices,
        sign_ins,
        audit_events: audits.iter().map(map::audit_event).collect(),
        taken_at: now,
    };
    let assessment = readiness::assess(&snapshot, &policy, &settings.rules, &settings.target, now);
    Ok((
        PersonAssessment {
            enforced: settings.enforced(&snapshot),
            snapshot,
            assessment,
        },
        logs,
    ))
}

/// The person's devices and verdicts as a table for a terminal.
/// `enforced`: the person is in the enforcement group.
pub fn render_person(a: &Assessment, enforced: bool) -> String {
    let row = PersonRow::of(a, enforced);
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", row.user_principal_name, row.user_id);
    let _ = writeln!(out, "stage:   {}", row.stage.as_str());
    let reasons = if row.reasons.is_empty() {
        String::new()
    } else {
        format!(" — {}", row.reasons)
    };
    let _ = writeln!(out, "verdict: {}{reasons}", row.verdict);
    let methods = if row.methods.is_empty() {
        "none".to_owned()
    } else {
        row.methods.join(", ")
    };
    let _ = writeln!(out, "methods: {methods}");
    if a.registration.stuck {
        let _ = writeln!(out, "registration: the latest attempt failed");
    }
    if row.stage == Stage::NotTarget {
        return out;
    }
    if row.devices.is_empty() {
        let _ = writeln!(out, "no sign-ins from any device in the window");
        return out;
    }
    let headers = ["DEVICE", "OS", "SIGN-INS", "VERDICT", "DETAIL"];
    let cells: Vec<[String; 5]> = row
        .devices
        .iter()
        .map(|d| {
            [
                d.name.clone(),
                d.os.clone(),
                d.sign_ins.to_string(),
                d.verdict.clone(),
                d.detail.clone(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cols: [&str; 5]| {
        let mut s = String::new();
        for (i, (col, w)) in cols.iter().zip(widths).enumerate() {
            if i == 4 {
                s.push_str(col);
            } else {
                let pad = w.saturating_sub(col.chars().count());
                s.push_str(col);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    };
    let _ = writeln!(out);
    line(&mut out, headers);
    for c in &cells {
        line(&mut out, [&c[0], &c[1], &c[2], &c[3], &c[4]]);
    }
    if let Some(block) = &a.passkey_policy_block {
        let _ = writeln!(
            out,
            "\npasskey policy: {}",
            brief(&serde_json::to_value(block).unwrap_or_default())
        );
    }
    out
}
