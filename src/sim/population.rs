//! A deterministic, realistic simulated tenant: people, departments, locales and time zones,
//! devices by real-world shares, authentication methods, 30 days of sign-ins, registration
//! audit events and the rollout's groups.
//!
//! `Population::generate(users, seed, now)` is pure: the same arguments give identical data.
//! Every share and its source is in [`shares::SHARES`].

mod generate;
mod model;
mod rng;
pub mod shares;

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

pub use model::*;
pub use shares::{DEPARTMENTS, Department, LOCALES, SHARES, Shares};

/// A generated tenant, served from memory by the simulator.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Population {
    pub seed: u64,
    pub tenant_id: Guid,
    /// Verified domain of employees' UPNs, e.g. `contoso.com`.
    pub domain: String,
    pub now: Timestamp,
    /// Start of the 30-day sign-in and audit window (`now` − 30 days).
    pub window_start: Timestamp,
    pub people: Vec<Person>,
    pub devices: Vec<Device>,
    /// All sign-ins, grouped by person (see [`Person::sign_ins`]) and sorted by time within.
    pub sign_ins: Vec<SignIn>,
    /// Registration audit events, sorted by time.
    pub audits: Vec<AuditEvent>,
    pub groups: Vec<Group>,
    #[serde(skip)]
    by_id: HashMap<Guid, u32>,
    #[serde(skip)]
    by_upn: HashMap<String, u32>,
}

impl Population {
    /// Generates `users` accounts (two of them break-glass when `users >= 10`) from `seed`,
    /// with all times relative to `now`.
    pub fn generate(users: usize, seed: u64, now: Timestamp) -> Population {
        let g = generate::generate(users, seed, now);
        let by_id = g
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i as u32))
            .collect();
        let by_upn = g
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.user_principal_name.to_ascii_lowercase(), i as u32))
            .collect();
        Population {
            seed,
            tenant_id: g.tenant_id,
            domain: g.domain,
            now,
            window_start: g.window_start,
            people: g.people,
            devices: g.devices,
            sign_ins: g.sign_ins,
            audits: g.audits,
            groups: g.groups,
            by_id,
            by_upn,
        }
    }

    /// Index of the person with this object id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        Guid::parse(id).and_then(|g| self.by_id.get(&g).copied())
    }

    /// The person with this object id.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.index_of(id).map(|i| &self.people[i as usize])
    }

    /// The person with this user principal name (case-insensitive, as Entra compares).
    pub fn by_upn(&self, upn: &str) -> Option<&Person> {
        self.by_upn
            .get(&upn.to_ascii_lowercase())
            .map(|&i| &self.people[i as usize])
    }

    /// A person's sign-ins, oldest first.
    pub fn sign_ins_of(&self, person: &Person) -> &[SignIn] {
        let (start, len) = person.sign_ins;
        &self.sign_ins[start as usize..(start + len) as usize]
    }

    /// The devices a person signs in from.
    pub fn devices_of<'a>(&'a self, person: &'a Person) -> impl Iterator<Item = &'a Device> {
        person.devices.iter().map(|&d| &self.devices[d as usize])
    }

    /// The device a sign-in of `person` came from.
    pub fn sign_in_device(&self, person: &Person, sign_in: &SignIn) -> &Device {
        &self.devices[person.devices[sign_in.device as usize] as usize]
    }

    /// When a sign-in happened.
    pub fn sign_in_time(&self, sign_in: &SignIn) -> Timestamp {
        self.window_start + SignedDuration::from_secs(i64::from(sign_in.at))
    }

    /// The group playing `role`.
    pub fn group(&self, role: GroupRole) -> &Group {
        self.groups
            .iter()
            .find(|g| g.role == role)
            .expect("every role has a group")
    }

    /// Departments people are drawn from.
    pub fn departments(&self) -> &'static [Department] {
        DEPARTMENTS
    }

    /// Locales people are drawn from.
    pub fn locales(&self) -> &'static [model::Locale] {
        LOCALES
    }
}

#[cfg(test)]
mod tests;
