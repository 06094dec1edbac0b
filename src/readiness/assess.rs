//! The assessment: devices from sign-ins, coverage of each way a device signs in by the
//! person's usable credentials or by observed phishing-resistant sign-ins, then verdicts.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};

use super::credentials::{self, Held};
use super::device::{Channel, Client, DeviceKey, SignInFacts, Version, WindowsRelease};
use super::policy::{EffectivePolicy, PasskeyPolicy, TargetPopulation};
use super::rules::{ProviderKind, Rules, StepKind};
use super::snapshot::{
    AuditResult, AuthMethod, OsFamily, PasskeyType, PersonSnapshot, RegisteredDevice,
};
use super::verdict::*;

/// How far ahead of the assessment's clock a sign-in log's timestamps may be.
const LOG_CLOCK_AHEAD: SignedDuration = SignedDuration::from_mins(5);

/// Assesses one person at `now`. Pure: the same inputs give the same assessment, whatever the
/// order of the sign-ins.
pub fn assess(
    snapshot: &PersonSnapshot,
    policy: &PasskeyPolicy,
    rules: &Rules,
    target: &TargetPopulation,
    now: Timestamp,
) -> Assessment {
    let window_start = now - SignedDuration::from_hours(24 * i64::from(rules.window_days));
    let eff = EffectivePolicy {
        profiles: policy.for_person(snapshot),
        rules,
    };
    let (held, methods) = credentials::collect(snapshot, rules, &eff);

    // Devices and evidence from the window's successful sign-ins.
    let mut devices: BTreeMap<DeviceKey, DeviceAcc> = BTreeMap::new();
    let mut evidence: Vec<(DeviceKey, StrongUse, Option<String>)> = Vec::new();
    let mut ignored_sign_ins = 0;
    for s in &snapshot.sign_ins {
        // A sign-in a little after `now` is Entra's clock ahead of ours (a test sign-in made
        // seconds ago), not a sign-in to ignore.
        if s.at < window_start || s.at > now + LOG_CLOCK_AHEAD || s.error_code != 0 {
            continue;
        }
        let facts = SignInFacts::of(s);
        let strong = s
            .steps
            .iter()
            .filter(|st| st.succeeded)
            .filter_map(|st| rules.step_kind(&st.method).map(|k| (k, st.detail.clone())))
            .min();
        if let Some((kind, detail)) = strong {
            evidence.push((
                facts.key.clone(),
                StrongUse {
                    at: s.at,
                    kind,
                    channel: facts.channel,
                },
                detail,
            ));
        }
        if rules.ignored_app(&s.app_id).is_some() {
            ignored_sign_ins += 1;
            continue;
        }
        let acc = devices
            .entry(facts.key.clone())
            .or_insert_with(|| DeviceAcc::new(s.at));
        acc.add(&facts, s.at, s.device.display_name.as_deref());
    }

    // Evidence whose passkey model only matches blocked passkeys is stale: the policy changed.
    let blocked_models: BTreeSet<String> = held
        .iter()
        .filter_map(|h| {
            h.credential
                .model
                .as_ref()
                .map(|m| (m, h.credential.blocked.is_some()))
        })
        .fold(
            BTreeMap::new(),
            |mut acc: BTreeMap<String, bool>, (m, blocked)| {
                let e = acc.entry(m.to_ascii_lowercase()).or_insert(true);
                *e &= blocked;
                acc
            },
        )
        .into_iter()
        .filter_map(|(m, all_blocked)| all_blocked.then_some(m))
        .collect();
    // A synced passkey's sign-in proves nothing once no profile of the person allows synced
    // passkeys (their method list may not show the passkey to block it by model).
    let synced_allowed = eff.allows_type(PasskeyType::Synced);
    // Device-bound passkey uses by model, wherever they came from: a passkey used through the
    // QR/Bluetooth flow from a computer is proven on the phone that holds it too.
    let mut passkey_uses: Vec<(DeviceKey, String, StrongUse)> = Vec::new();
    // Uses from unregistered machines, by OS and user-agent platform, whether or not that
    // browser or app is otherwise in use (the bot's test runs in a browser the person may not
    // use for anything else).
    let mut machine_uses: Vec<(DeviceKey, StrongUse)> = Vec::new();
    let mut last_phishing_resistant: Option<Timestamp> = None;
    for (key, strong, detail) in evidence {
        if detail
            .as_ref()
            .is_some_and(|d| blocked_models.contains(&d.to_ascii_lowercase()))
        {
            continue;
        }
        if strong.kind == StepKind::PasskeySynced && !synced_allowed {
            continue;
        }
        last_phishing_resistant = last_phishing_resistant.max(Some(strong.at));
        if matches!(&key, DeviceKey::Unregistered { platform, .. } if !platform.is_empty()) {
            machine_uses.push((key.clone(), strong.clone()));
        }
        if strong.kind == StepKind::PasskeyDeviceBound
            && let Some(model) = detail.map(|d| d.trim().to_ascii_lowercase())
            && !model.is_empty()
        {
            passkey_uses.push((key.clone(), model, strong.clone()));
        }
        if let Some(acc) = devices.get_mut(&key) {
            acc.strong.push(strong);
        }
    }

    let authenticator_apps = snapshot
        .methods
        .iter()
        .flat_map(|l| &l.methods)
        .filter_map(|m| match m {
            AuthMethod::Authenticator(a) => Some((
                a.display_name.as_deref().map(str::to_ascii_lowercase),
                a.app_version.as_deref().and_then(Version::parse),
            )),
            _ => None,
        })
        .collect();
    let ctx = Ctx {
        rules,
        eff: &eff,
        held: &held,
        window_start,
        authenticator_apps,
    };
    let mut facts: Vec<(DeviceKey, DeviceAcc, OsFacts)> = devices
        .into_iter()
        .map(|(key, acc)| {
            let registered = match &key {
                DeviceKey::Registered { device_id } => snapshot
                    .devices
                    .iter()
                    .filter(|d| d.device_id.trim().eq_ignore_ascii_case(device_id))
                    .min_by(|a, b| a.display_name.cmp(&b.display_name)),
                DeviceKey::Unregistered { .. } => None,
            };
            let os = os_facts(&acc, registered, rules);
            (key, acc, os)
        })
        .collect();
    facts.sort_by(|a, b| a.0.cmp(&b.0));
    let names_in_use: Vec<String> = facts
        .iter()
        .filter_map(|(_, acc, _)| acc.display_name(None))
        .chain(snapshot.devices.iter().map(|d| d.display_name.clone()))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let phone = capable_phone(snapshot, &facts, &ctx);

    let named: Vec<(DeviceKey, DeviceAcc, OsFacts, Option<String>)> = facts
        .into_iter()
        .map(|(key, acc, os)| {
            let registered_name = match &key {
                DeviceKey::Registered { device_id } => snapshot
                    .devices
                    .iter()
                    .find(|d| d.device_id.trim().eq_ignore_ascii_case(device_id))
                    .map(|d| d.display_name.clone()),
                DeviceKey::Unregistered { .. } => None,
            };
            let display_name = acc.display_name(registered_name);
            (key, acc, os, display_name)
        })
        .collect();
    let devs: Vec<Dev<'_>> = named
        .iter()
        .map(|(key, _, os, name)| Dev {
            key,
            name: name.as_deref().map(str::to_ascii_lowercase),
            os,
        })
        .collect();
    let mut held_uses = ctx.held_uses(&devs, &passkey_uses, &names_in_use);
    // An unregistered computer or phone is known only by its user agent, one key per browser
    // or app. A passkey sign-in from one of them proves the machine (its Bluetooth, its
    // passkeys) for the others, as one sign-in proves a registered device for all its apps;
    // whether each app can use a passkey at all stays the coverage rules' question.
    for (i, uses) in held_uses.iter_mut().enumerate() {
        let DeviceKey::Unregistered { os, platform, .. } = &named[i].0 else {
            continue;
        };
        if platform.is_empty() {
            continue;
        }
        for (from, strong) in &machine_uses {
            if let DeviceKey::Unregistered {
                os: o, platform: p, ..
            } = from
                && from != &named[i].0
                && o == os
                && p == platform
            {
                uses.push(strong.clone());
            }
        }
    }
    let mut assessed = Vec::with_capacity(named.len());
    for ((dev, (_, acc, _, display_name)), uses) in devs.iter().zip(&named).zip(&held_uses) {
        assessed.push(ctx.device(dev, acc, uses, phone, &names_in_use, display_name.clone()));
    }

    let registration = registration(snapshot, &held, rules);
    let person = match target.why_not(snapshot) {
        Some(why) => PersonVerdict::NotTarget { why },
        None => person_verdict(&assessed, &registration),
    };
    Assessment {
        user_id: snapshot.user_id.clone(),
        user_principal_name: snapshot.user_principal_name.clone(),
        assessed_at: now,
        window_start,
        person,
        devices: assessed,
        credentials: held.into_iter().map(|h| h.credential).collect(),
        methods,
        registration,
        passkey_policy_block: eff.profiles.as_ref().err().copied(),
        ignored_sign_ins,
        last_phishing_resistant,
    }
}

fn person_verdict(
    devices: &[DeviceAssessment],
    registration: &RegistrationSummary,
) -> PersonVerdict {
    if devices.is_empty() {
        return PersonVerdict::NotYet {
            reasons: vec![NotYetReason::NoSignInsInWindow],
        };
    }
    let incompatible: Vec<DeviceKey> = devices
        .iter()
        .filter(|d| matches!(d.verdict, DeviceVerdict::Incompatible { .. }))
        .map(|d| d.key.clone())
        .collect();
    if !incompatible.is_empty() {
        return PersonVerdict::NeedsExclusion {
            devices: incompatible,
        };
    }
    let mut reasons: Vec<NotYetReason> = devices
        .iter()
        .filter_map(|d| {
            let device = d.key.clone();
            match d.verdict {
                DeviceVerdict::Ready { .. } => None,
                DeviceVerdict::RegisteredButUnused { .. } => {
                    Some(NotYetReason::DeviceNotTested { device })
                }
                DeviceVerdict::NeedsPasskey { .. } => {
                    Some(NotYetReason::DeviceNeedsPasskey { device })
                }
                DeviceVerdict::Unknown { .. } => Some(NotYetReason::DeviceUnknown { device }),
                DeviceVerdict::Incompatible { .. } => None,
            }
        })
        .collect();
    if reasons.is_empty() {
        return PersonVerdict::SafeToEnforce;
    }
    if registration.stuck
        && let Some(f) = &registration.last_failure
    {
        reasons.push(NotYetReason::RegistrationFailing { at: f.at });
    }
    PersonVerdict::NotYet { reasons }
}

fn registration(person: &PersonSnapshot, held: &[Held], rules: &Rules) -> RegistrationSummary {
    let acts = &rules.registration_activities;
    let is = |list: &[String], a: &str| list.iter().any(|x| x.eq_ignore_ascii_case(a.trim()));
    let mut out = RegistrationSummary::default();
    for e in &person.audit_events {
        if is(&acts.started, &e.activity) {
            out.last_started = out.last_started.max(Some(e.at));
        }
        if !is(&acts.registered, &e.activity) {
            continue;
        }
        match e.result {
            AuditResult::Success => out.last_success = out.last_success.max(Some(e.at)),
            AuditResult::Failure | AuditResult::Timeout => {
                let newer = out
                    .last_failure
                    .as_ref()
                    .is_none_or(|f| (e.at, &e.aaguid, &e.reason) > (f.at, &f.aaguid, &f.reason));
                if newer {
                    let aaguid = e.aaguid.as_ref().map(|a| a.trim().to_ascii_lowercase());
                    out.last_failure = Some(RegistrationFailure {
                        at: e.at,
                        provider: aaguid
                            .as_deref()
                            .and_then(|a| rules.provider(a))
                            .map(|p| p.kind),
                        aaguid,
                        reason: e.reason.clone(),
                    });
                }
            }
            AuditResult::Unknown => {}
        }
    }
    if let Some(f) = &out.last_failure {
        let success_after = out.last_success.is_some_and(|s| s >= f.at);
        let added_after = held
            .iter()
            .any(|h| h.credential.created.is_some_and(|c| c >= f.at));
        out.stuck = !success_after && !added_after;
    }
    out
}

/// Sign-ins of one device, accumulated order-independently.
#[derive(Debug, Clone)]
struct DeviceAcc {
    channels: BTreeMap<Channel, (u32, Timestamp, Option<u32>)>,
    sign_ins: u32,
    first: Timestamp,
    last: Timestamp,
    os_votes: BTreeMap<OsFamily, u32>,
    ua_version: Option<Version>,
    ua_model: Option<String>,
    names: BTreeSet<String>,
    strong: Vec<StrongUse>,
}

impl DeviceAcc {
    fn new(at: Timestamp) -> DeviceAcc {
        DeviceAcc {
            channels: BTreeMap::new(),
            sign_ins: 0,
            first: at,
            last: at,
            os_votes: BTreeMap::new(),
            ua_version: None,
            ua_model: None,
            names: BTreeSet::new(),
            strong: Vec::new(),
        }
    }

    fn add(&mut self, f: &SignInFacts, at: Timestamp, name: Option<&str>) {
        let e = self.channels.entry(f.channel).or_insert((0, at, None));
        e.0 += 1;
        e.1 = e.1.max(at);
        e.2 = e.2.max(f.browser_major);
        self.sign_ins += 1;
        self.first = self.first.min(at);
        self.last = self.last.max(at);
        *self.os_votes.entry(f.os).or_default() += 1;
        if matches!(f.os, OsFamily::Ios | OsFamily::Android) {
            self.ua_version = self.ua_version.clone().max(f.os_version.clone());
        }
        self.ua_model = self.ua_model.clone().max(f.model.clone());
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
            self.names.insert(n.to_owned());
        }
    }

    fn display_name(&self, registered: Option<String>) -> Option<String> {
        registered.or_else(|| self.names.iter().next_back().cloned())
    }

    fn family(&self) -> OsFamily {
        self.os_votes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(f, _)| *f)
            .unwrap_or(OsFamily::Other)
    }
}

fn os_facts(acc: &DeviceAcc, reg: Option<&RegisteredDevice>, rules: &Rules) -> OsFacts {
    let Some(reg) = reg else {
        return OsFacts {
            family: acc.family(),
            version: acc.ua_version.clone(),
            windows: None,
            registered: false,
            trust_type: None,
            shared: false,
            people_signing_in: None,
            manufacturer: None,
            model: acc.ua_model.clone(),
            work_profile: false,
        };
    };
    let family = match OsFamily::from_graph(&reg.operating_system) {
        OsFamily::Other => acc.family(),
        f => f,
    };
    let version = reg
        .operating_system_version
        .as_deref()
        .and_then(Version::parse)
        .or_else(|| family.is_mobile().then(|| acc.ua_version.clone()).flatten());
    let windows = (family == OsFamily::Windows)
        .then(|| version.as_ref().and_then(Version::windows_build))
        .flatten()
        .map(|b| WindowsRelease::from_build(b, rules.windows_11_build));
    OsFacts {
        family,
        version,
        windows,
        registered: true,
        trust_type: reg.trust_type,
        shared: reg.shared,
        people_signing_in: reg.people_signing_in,
        manufacturer: reg.manufacturer.clone(),
        model: reg.model.clone().or_else(|| acc.ua_model.clone()),
        work_profile: reg.work_profile,
    }
}

struct Ctx<'a> {
    rules: &'a Rules,
    eff: &'a EffectivePolicy<'a>,
    held: &'a [Held],
    window_start: Timestamp,
    /// Authenticator apps: phone name (lower case) and app version.
    authenticator_apps: Vec<(Option<String>, Option<Version>)>,
}

struct Dev<'a> {
    key: &'a DeviceKey,
    name: Option<String>,
    os: &'a OsFacts,
}

/// One candidate way to cover a device.
struct Candidate {
    option: PasskeyOption,
    caveats: Vec<Caveat>,
    covers: Vec<Channel>,
    rank: i8,
}

/// How one uncovered channel can be dealt with.
enum ChannelNeed {
    Options,
    Ask(Question),
    Incompatible(IncompatibleReason, Vec<Remedy>),
}

impl Ctx<'_> {
    /// For each device, the uses of the device-bound passkeys it alone holds made from other
    /// devices (the QR/Bluetooth flow): such a sign-in proves the passkey is on it and works.
    /// A model held by more than one passkey tells nothing about which one was used.
    fn held_uses(
        &self,
        devs: &[Dev<'_>],
        uses: &[(DeviceKey, String, StrongUse)],
        names_in_use: &[String],
    ) -> Vec<Vec<StrongUse>> {
        let model_of = |h: &Held| match h.credential.kind {
            CredentialKind::Passkey { provider, .. }
                if provider != ProviderKind::SecurityKey && h.credential.blocked.is_none() =>
            {
                h.credential
                    .model
                    .as_deref()
                    .map(|m| m.trim().to_ascii_lowercase())
            }
            _ => None,
        };
        let mut out = vec![Vec::new(); devs.len()];
        for h in self.held {
            let Some(model) = model_of(h) else { continue };
            if self
                .held
                .iter()
                .filter(|o| model_of(o).as_deref() == Some(model.as_str()))
                .count()
                != 1
            {
                continue;
            }
            let holders: Vec<usize> = devs
                .iter()
                .enumerate()
                .filter(|(_, d)| self.bound_here(h, d, names_in_use))
                .map(|(i, _)| i)
                .collect();
            let [holder] = holders[..] else { continue };
            out[holder].extend(
                uses.iter()
                    .filter(|(from, m, _)| *m == model && from != devs[holder].key)
                    .map(|(_, _, u)| u.clone()),
            );
        }
        out
    }

    fn device(
        &self,
        d: &Dev<'_>,
        acc: &DeviceAcc,
        held_uses: &[StrongUse],
        phone: Option<ProviderKind>,
        names_in_use: &[String],
        display_name: Option<String>,
    ) -> DeviceAssessment {
        // Logging on to Windows with a password is not what enforcement stops; it only
        // has to be covered when the device shows nothing else.
        let mut required: Vec<Channel> = acc
            .channels
            .keys()
            .copied()
            .filter(|c| *c != Channel::DeviceLogon)
            .collect();
        if required.is_empty() {
            required = acc.channels.keys().copied().collect();
        }
        let mut covered_by = Vec::new();
        let mut blocked = Vec::new();
        let mut channel_covered: BTreeMap<Channel, bool> = BTreeMap::new();
        for (i, h) in self.held.iter().enumerate() {
            let bound = self.bound_here(h, d, names_in_use);
            let serves: Vec<Channel> = acc
                .channels
                .iter()
                .filter(|(c, (_, _, major))| self.serves(h, d, bound, **c, *major))
                .map(|(c, _)| *c)
                .collect();
            if serves.is_empty() {
                continue;
            }
            if h.credential.blocked.is_some() {
                blocked.push(i);
                continue;
            }
            covered_by.push(i);
            for c in serves {
                channel_covered.insert(c, true);
            }
        }
        let proven: BTreeSet<Channel> = acc.strong.iter().map(|s| s.channel).collect();
        let channels: Vec<ChannelUse> = acc
            .channels
            .iter()
            .map(|(c, (n, last, major))| ChannelUse {
                channel: *c,
                browser_major: *major,
                sign_ins: *n,
                last_seen: *last,
                covered: channel_covered.contains_key(c) || proven.contains(c),
                proven: proven.contains(c),
            })
            .collect();
        let uncovered: Vec<(Channel, Option<u32>)> = channels
            .iter()
            .filter(|c| required.contains(&c.channel) && !c.covered)
            .map(|c| (c.channel, c.browser_major))
            .collect();
        let last_strong = acc
            .strong
            .iter()
            .chain(held_uses)
            .max_by(|a, b| (a.at, a.kind, a.channel).cmp(&(b.at, b.kind, b.channel)))
            .cloned();

        let verdict = if uncovered.is_empty() {
            match &last_strong {
                Some(s) => DeviceVerdict::Ready {
                    last_used: s.at,
                    kind: s.kind,
                },
                None => DeviceVerdict::RegisteredButUnused {
                    hint: self.unused_hint(d, acc, &covered_by, names_in_use),
                },
            }
        } else {
            self.needs(d, &uncovered, phone)
        };
        DeviceAssessment {
            key: d.key.clone(),
            display_name,
            os: d.os.clone(),
            channels,
            sign_ins: acc.sign_ins,
            first_seen: acc.first,
            last_seen: acc.last,
            last_phishing_resistant: last_strong,
            covered_by,
            blocked,
            verdict,
        }
    }

    /// Whether a device-bound credential lives on this device.
    fn bound_here(&self, h: &Held, d: &Dev<'_>, names_in_use: &[String]) -> bool {
        let b = &h.bind;
        if let Some(id) = &b.device_id {
            return matches!(d.key, DeviceKey::Registered { device_id } if device_id == id);
        }
        if let Some(name) = &b.display_name {
            let name = name.to_ascii_lowercase();
            if names_in_use.contains(&name) {
                return d.name.as_deref() == Some(name.as_str());
            }
            // WHFB and Platform SSO names are the device's name: a device not in use.
            if !matches!(h.credential.kind, CredentialKind::Passkey { .. }) {
                return false;
            }
        }
        match b.family {
            Some(OsFamily::Windows)
                if h.credential.kind == CredentialKind::WindowsHelloForBusiness =>
            {
                d.os.family == OsFamily::Windows
                    && d.os.trust_type.is_none_or(|t| t.is_joined())
                    && d.os.registered
            }
            Some(f) => d.os.family == f,
            None => false,
        }
    }

    fn major(&self, d: &Dev<'_>) -> Option<u32> {
        d.os.version.as_ref().map(Version::major)
    }

    fn at_least(&self, d: &Dev<'_>, min: u32) -> Option<bool> {
        self.major(d).map(|v| v >= min)
    }

    /// A phone passkey through the QR/Bluetooth flow on this computer and channel.
    fn cross_device(
        &self,
        d: &Dev<'_>,
        channel: Channel,
        major: Option<u32>,
    ) -> Option<Vec<Caveat>> {
        let r = self.rules;
        match (d.os.family, channel) {
            (_, Channel::DeviceLogon) => None,
            (OsFamily::Windows, c) => {
                if d.os
                    .windows
                    .as_ref()
                    .is_some_and(|w| w.build >= r.windows_cross_device_all_apps_build)
                {
                    return Some(vec![Caveat::NeedsBluetooth]);
                }
                match c {
                    Channel::Browser {
                        browser: Client::Edge | Client::Chrome,
                    } if major.is_some_and(|m| m >= r.min_chromium_cross_device) => {
                        Some(vec![Caveat::BrowserOnly, Caveat::NeedsBluetooth])
                    }
                    _ => None,
                }
            }
            (OsFamily::MacOs, Channel::App) => {
                Some(vec![Caveat::NeedsBluetooth, Caveat::NeedsSsoBroker])
            }
            (
                OsFamily::MacOs,
                Channel::Browser {
                    browser: Client::Safari | Client::Chrome | Client::Edge,
                },
            ) => Some(vec![Caveat::NeedsBluetooth]),
            _ => None,
        }
    }

    fn serves(
        &self,
        h: &Held,
        d: &Dev<'_>,
        bound: bool,
        channel: Channel,
        major: Option<u32>,
    ) -> bool {
        let r = self.rules;
        let fam = d.os.family;
        if channel == Channel::DeviceLogon {
            return match h.credential.kind {
                CredentialKind::WindowsHelloForBusiness | CredentialKind::PlatformCredential => {
                    bound
                }
                CredentialKind::Passkey {
                    provider: ProviderKind::SecurityKey,
                    ..
                } => fam == OsFamily::Windows,
                CredentialKind::Passkey { .. } => false,
            };
        }
        let cross = || self.cross_device(d, channel, major).is_some();
        let browser = |allowed: &[Client]| matches!(channel, Channel::Browser { browser } if allowed.contains(&browser));
        match h.credential.kind {
            CredentialKind::WindowsHelloForBusiness | CredentialKind::PlatformCredential => bound,
            CredentialKind::Passkey { provider, .. } => match provider {
                ProviderKind::AuthenticatorIos | ProviderKind::AuthenticatorAndroid => {
                    bound || cross()
                }
                ProviderKind::WindowsHello | ProviderKind::MacPlatformCredential => bound,
                ProviderKind::BrowserPlatform => bound && browser(&[Client::Chrome, Client::Edge]),
                ProviderKind::AppleSynced => match fam {
                    OsFamily::Ios => self.at_least(d, r.min_ios_synced) != Some(false),
                    OsFamily::MacOs => {
                        self.at_least(d, r.min_macos_synced) != Some(false)
                            && (channel == Channel::App
                                || browser(&[Client::Safari, Client::Chrome, Client::Edge]))
                    }
                    _ => cross(),
                },
                ProviderKind::GoogleSynced => match fam {
                    OsFamily::Android => self.at_least(d, r.min_android_synced) != Some(false),
                    OsFamily::Windows | OsFamily::MacOs | OsFamily::Linux
                        if browser(&[Client::Chrome]) =>
                    {
                        true
                    }
                    _ => cross(),
                },
                ProviderKind::SamsungSynced => {
                    (fam == OsFamily::Android
                        && d.os
                            .manufacturer
                            .as_deref()
                            .is_some_and(|m| m.eq_ignore_ascii_case("samsung")))
                        || cross()
                }
                ProviderKind::OtherSynced => {
                    fam.is_mobile() || matches!(channel, Channel::Browser { .. })
                }
                ProviderKind::SecurityKey => match fam {
                    OsFamily::Windows | OsFamily::MacOs | OsFamily::Ios | OsFamily::Android => true,
                    OsFamily::Linux => matches!(channel, Channel::Browser { .. }),
                    OsFamily::Other => false,
                },
            },
        }
    }

    fn unused_hint(
        &self,
        d: &Dev<'_>,
        acc: &DeviceAcc,
        covered_by: &[usize],
        names: &[String],
    ) -> UnusedHint {
        let creds: Vec<&Held> = covered_by.iter().map(|i| &self.held[*i]).collect();
        fn pick(v: Vec<&Held>) -> Option<&Held> {
            v.into_iter().max_by_key(|h| {
                (
                    h.credential.last_used,
                    h.credential.created,
                    h.credential.kind,
                )
            })
        }
        let bound: Vec<&Held> = creds
            .iter()
            .copied()
            .filter(|h| self.bound_here(h, d, names))
            .collect();
        let primary = pick(bound).or_else(|| pick(creds));
        let Some(h) = primary else {
            return UnusedHint::NotUsedFromThisDevice;
        };
        let c = &h.credential;
        if c.created.is_some_and(|t| t > acc.last) {
            return UnusedHint::NotTriedSinceRegistration;
        }
        if c.kind == CredentialKind::WindowsHelloForBusiness {
            return UnusedHint::WhfbPinPossiblyForgotten {
                registered: c.created.unwrap_or(acc.first),
            };
        }
        match c.last_used {
            None if c.source == MethodSource::MethodList => UnusedHint::PasskeyNeverUsed,
            Some(t) if t < self.window_start => UnusedHint::PasskeyPossiblyDeleted { last_used: t },
            _ => UnusedHint::NotUsedFromThisDevice,
        }
    }

    /// Options and problems for the channels no usable credential or sign-in covers.
    fn needs(
        &self,
        d: &Dev<'_>,
        uncovered: &[(Channel, Option<u32>)],
        phone: Option<ProviderKind>,
    ) -> DeviceVerdict {
        let cands = self.candidates(d, uncovered, phone);
        let mut incompatible: Option<(IncompatibleReason, Vec<Remedy>)> = None;
        let mut ask: BTreeSet<Question> = BTreeSet::new();
        for (c, major) in uncovered {
            match self.channel_need(d, *c, *major, &cands, phone) {
                ChannelNeed::Options => {}
                ChannelNeed::Ask(q) => {
                    ask.insert(q);
                }
                ChannelNeed::Incompatible(reason, remedies) => match &mut incompatible {
                    None => incompatible = Some((reason, remedies)),
                    Some((_, all)) => {
                        for r in remedies {
                            if !all.contains(&r) {
                                all.push(r);
                            }
                        }
                    }
                },
            }
        }
        if let Some((reason, mut remedies)) = incompatible {
            remedies.sort_by_key(remedy_rank);
            return DeviceVerdict::Incompatible { reason, remedies };
        }
        if !ask.is_empty() {
            return DeviceVerdict::Unknown {
                ask: ask.into_iter().collect(),
            };
        }
        let all: Vec<Channel> = uncovered.iter().map(|(c, _)| *c).collect();
        let mut options: Vec<(bool, i8, RankedOption)> = cands
            .into_iter()
            .filter(|c| c.covers.iter().any(|x| all.contains(x)))
            .map(|c| {
                let covers_all = all.iter().all(|x| c.covers.contains(x));
                (
                    !covers_all,
                    c.rank,
                    RankedOption {
                        option: c.option,
                        covers_all,
                        caveats: c.caveats,
                    },
                )
            })
            .collect();
        options.sort_by_key(|o| (o.0, o.1));
        DeviceVerdict::NeedsPasskey {
            options: options.into_iter().map(|(_, _, o)| o).collect(),
        }
    }

    fn channel_need(
        &self,
        d: &Dev<'_>,
        channel: Channel,
        major: Option<u32>,
        cands: &[Candidate],
        phone: Option<ProviderKind>,
    ) -> ChannelNeed {
        let r = self.rules;
        let covering: Vec<&Candidate> = cands
            .iter()
            .filter(|c| c.covers.contains(&channel))
            .collect();
        if covering
            .iter()
            .any(|c| c.option != PasskeyOption::SecurityKey)
        {
            return ChannelNeed::Options;
        }
        let fam = d.os.family;
        let ver = d.os.version.clone();
        match fam {
            OsFamily::Other => return ChannelNeed::Ask(Question::WhichDevice),
            OsFamily::Ios | OsFamily::Android if ver.is_none() => {
                return ChannelNeed::Ask(Question::OsVersion);
            }
            OsFamily::Windows
                if d.os.windows.is_none() && phone.is_some() && channel != Channel::DeviceLogon =>
            {
                return ChannelNeed::Ask(Question::WindowsVersion);
            }
            _ => {}
        }
        let sk = !covering.is_empty();
        let mut remedies = Vec::new();
        let reason = match fam {
            OsFamily::Ios if self.at_least(d, r.min_ios_authenticator) == Some(false) => {
                remedies.push(Remedy::UpgradeOs {
                    os: OsFamily::Ios,
                    to: r.min_ios_authenticator,
                });
                if self.at_least(d, r.min_ios_synced) == Some(true)
                    && self.eff.can_register(ProviderKind::AppleSynced).is_err()
                {
                    remedies.push(Remedy::AllowSyncedPasskeys);
                }
                Some(IncompatibleReason::IosTooOld {
                    version: ver,
                    needs: r.min_ios_authenticator,
                })
            }
            OsFamily::Android => {
                let listed =
                    r.android_model_needs(d.os.manufacturer.as_deref(), d.os.model.as_deref());
                let needs = listed.unwrap_or(0).max(r.min_android_authenticator);
                if self.at_least(d, needs) == Some(false) {
                    remedies.push(Remedy::UpgradeOs {
                        os: OsFamily::Android,
                        to: needs,
                    });
                    if self.at_least(d, r.min_android_synced) == Some(true)
                        && self.eff.can_register(ProviderKind::GoogleSynced).is_err()
                    {
                        remedies.push(Remedy::AllowSyncedPasskeys);
                    }
                    Some(match (listed, &d.os.model) {
                        (Some(n), Some(model))
                            if n > r.min_android_authenticator
                                && self.at_least(d, r.min_android_authenticator) == Some(true) =>
                        {
                            IncompatibleReason::AndroidModelNeedsUpdate {
                                model: model.clone(),
                                version: ver,
                                needs: n,
                            }
                        }
                        _ => IncompatibleReason::AndroidTooOld {
                            version: ver,
                            needs,
                        },
                    })
                } else {
                    None
                }
            }
            OsFamily::Windows if phone.is_some_and(|k| self.eff.can_register(k).is_ok()) => {
                let build = d.os.windows.as_ref().map(|w| w.build).unwrap_or(0);
                match channel {
                    Channel::App if build < r.windows_cross_device_all_apps_build => {
                        remedies.push(Remedy::UpgradeOs {
                            os: OsFamily::Windows,
                            to: r.windows_cross_device_all_apps_build,
                        });
                        remedies.push(Remedy::UseBrowser {
                            min_chromium: r.min_chromium_cross_device,
                        });
                        Some(IncompatibleReason::DesktopAppsNeedNewerWindows {
                            build,
                            needs: r.windows_cross_device_all_apps_build,
                        })
                    }
                    Channel::Browser { .. } => {
                        remedies.push(Remedy::UseBrowser {
                            min_chromium: r.min_chromium_cross_device,
                        });
                        Some(IncompatibleReason::BrowserCannotUsePhonePasskey {
                            browser: channel,
                            major,
                        })
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match (reason, sk) {
            // The device class itself needs a key (Linux, busy shared PCs, no phone): an
            // option, not an incompatibility.
            (None, true) => ChannelNeed::Options,
            (Some(reason), sk) => {
                if sk {
                    remedies.push(Remedy::SecurityKey);
                }
                remedies.push(Remedy::Exclusion);
                ChannelNeed::Incompatible(reason, remedies)
            }
            (None, false) => {
                let block = self.eff.can_register(ProviderKind::SecurityKey).err();
                let reason = if fam == OsFamily::Linux || block.is_some() {
                    IncompatibleReason::PolicyAllowsNoOption { block }
                } else {
                    IncompatibleReason::UnsupportedOs
                };
                ChannelNeed::Incompatible(reason, vec![Remedy::Exclusion])
            }
        }
    }

    fn candidates(
        &self,
        d: &Dev<'_>,
        uncovered: &[(Channel, Option<u32>)],
        phone: Option<ProviderKind>,
    ) -> Vec<Candidate> {
        let r = self.rules;
        let eff = self.eff;
        let all: Vec<Channel> = uncovered.iter().map(|(c, _)| *c).collect();
        let apps_and_browsers: Vec<Channel> = all
            .iter()
            .copied()
            .filter(|c| *c != Channel::DeviceLogon)
            .collect();
        let mut out = Vec::new();
        let name = |k: ProviderKind| {
            r.provider_of_kind(k)
                .map(|p| p.name.clone())
                .unwrap_or_default()
        };
        let shared_busy = d.os.shared
            && d.os
                .people_signing_in
                .is_none_or(|n| n > r.max_whfb_per_shared_device);
        let security_key =
            |covers: Vec<Channel>, caveats: Vec<Caveat>, out: &mut Vec<Candidate>| {
                if eff.can_register(ProviderKind::SecurityKey).is_ok() && !covers.is_empty() {
                    out.push(Candidate {
                        option: PasskeyOption::SecurityKey,
                        caveats,
                        covers,
                        rank: if shared_busy { -1 } else { 5 },
                    });
                }
            };
        match d.os.family {
            OsFamily::Ios | OsFamily::Android => {
                let ios = d.os.family == OsFamily::Ios;
                let (auth_kind, auth_min, synced_kind, synced_min) = if ios {
                    (
                        ProviderKind::AuthenticatorIos,
                        r.min_ios_authenticator,
                        ProviderKind::AppleSynced,
                        r.min_ios_synced,
                    )
                } else {
                    let listed =
                        r.android_model_needs(d.os.manufacturer.as_deref(), d.os.model.as_deref());
                    (
                        ProviderKind::AuthenticatorAndroid,
                        listed.unwrap_or(0).max(r.min_android_authenticator),
                        ProviderKind::GoogleSynced,
                        r.min_android_synced,
                    )
                };
                let mut caveats = Vec::new();
                if d.os.work_profile {
                    caveats.push(Caveat::PerWorkProfile);
                }
                if self.at_least(d, auth_min) == Some(true) && eff.can_register(auth_kind).is_ok() {
                    let mut c = caveats.clone();
                    let samsung =
                        d.os.manufacturer
                            .as_deref()
                            .is_some_and(|m| m.eq_ignore_ascii_case("samsung"));
                    if !ios && samsung && self.major(d) == Some(14) {
                        c.push(Caveat::SamsungProviderMayIntercept);
                    }
                    if self.authenticator_outdated(d.name.as_deref(), auth_kind) {
                        c.push(Caveat::UpdateAuthenticator);
                    }
                    out.push(Candidate {
                        option: PasskeyOption::AuthenticatorPasskey {
                            on_this_device: true,
                        },
                        caveats: c,
                        covers: all.clone(),
                        rank: 0,
                    });
                }
                if self.at_least(d, synced_min) == Some(true)
                    && eff.can_register(synced_kind).is_ok()
                {
                    out.push(Candidate {
                        option: PasskeyOption::SyncedPasskey {
                            provider: synced_kind,
                            name: name(synced_kind),
                        },
                        caveats: caveats.clone(),
                        covers: all.clone(),
                        rank: 4,
                    });
                }
                security_key(all.clone(), vec![Caveat::NfcOrUsbKey], &mut out);
            }
            OsFamily::Windows => {
                let joined = d.os.trust_type.is_some_and(|t| t.is_joined());
                let whfb_room = !(d.os.shared
                    && d.os
                        .people_signing_in
                        .is_some_and(|n| n > r.max_whfb_per_shared_device));
                if joined && whfb_room {
                    out.push(Candidate {
                        option: PasskeyOption::WindowsHelloForBusiness,
                        caveats: if d.os.shared {
                            vec![Caveat::SharedDevice]
                        } else {
                            vec![]
                        },
                        covers: all.clone(),
                        rank: 2,
                    });
                }
                self.phone_nearby(d, uncovered, phone, &mut out);
                if !joined && eff.explicitly_allows(ProviderKind::WindowsHello) {
                    out.push(Candidate {
                        option: PasskeyOption::PlatformPasskey {
                            provider: ProviderKind::WindowsHello,
                            name: name(ProviderKind::WindowsHello),
                        },
                        caveats: vec![],
                        covers: apps_and_browsers.clone(),
                        rank: 3,
                    });
                }
                self.chrome_synced(uncovered, &mut out);
                let caveats = if d.os.shared {
                    vec![Caveat::SharedDevice]
                } else {
                    vec![]
                };
                security_key(all.clone(), caveats, &mut out);
            }
            OsFamily::MacOs => {
                if d.os.registered {
                    out.push(Candidate {
                        option: PasskeyOption::PlatformPasskey {
                            provider: ProviderKind::MacPlatformCredential,
                            name: name(ProviderKind::MacPlatformCredential),
                        },
                        caveats: vec![],
                        covers: all.clone(),
                        rank: 3,
                    });
                }
                self.phone_nearby(d, uncovered, phone, &mut out);
                if self.at_least(d, r.min_macos_synced) != Some(false)
                    && eff.can_register(ProviderKind::AppleSynced).is_ok()
                {
                    let covers: Vec<Channel> = all
                        .iter()
                        .copied()
                        .filter(|c| {
                            matches!(
                                c,
                                Channel::App
                                    | Channel::Browser {
                                        browser: Client::Safari | Client::Chrome | Client::Edge
                                    }
                            )
                        })
                        .collect();
                    if !covers.is_empty() {
                        out.push(Candidate {
                            option: PasskeyOption::SyncedPasskey {
                                provider: ProviderKind::AppleSynced,
                                name: name(ProviderKind::AppleSynced),
                            },
                            caveats: vec![],
                            covers,
                            rank: 4,
                        });
                    }
                }
                security_key(all.clone(), vec![], &mut out);
            }
            OsFamily::Linux => {
                self.chrome_synced(uncovered, &mut out);
                let browsers: Vec<Channel> = all
                    .iter()
                    .copied()
                    .filter(|c| matches!(c, Channel::Browser { .. }))
                    .collect();
                security_key(browsers, vec![], &mut out);
            }
            OsFamily::Other => {}
        }
        out
    }

    /// Whether the Authenticator app on this phone (or, without one named, on every phone) is
    /// too old for passkeys under a profile allowing both passkey types.
    fn authenticator_outdated(&self, phone: Option<&str>, kind: ProviderKind) -> bool {
        if !self.eff.mixed_profile() {
            return false;
        }
        let min = match kind {
            ProviderKind::AuthenticatorAndroid => &self.rules.min_authenticator_version_android,
            _ => &self.rules.min_authenticator_version_ios,
        };
        let Some(min) = Version::parse(min) else {
            return false;
        };
        let named: Vec<&Option<Version>> = self
            .authenticator_apps
            .iter()
            .filter(|(name, _)| phone.is_some() && name.as_deref() == phone)
            .map(|(_, v)| v)
            .collect();
        let apps: Vec<&Option<Version>> = if named.is_empty() {
            self.authenticator_apps.iter().map(|(_, v)| v).collect()
        } else {
            named
        };
        !apps.is_empty() && apps.iter().all(|v| v.as_ref().is_some_and(|v| *v < min))
    }

    fn phone_nearby(
        &self,
        d: &Dev<'_>,
        uncovered: &[(Channel, Option<u32>)],
        phone: Option<ProviderKind>,
        out: &mut Vec<Candidate>,
    ) {
        let Some(kind) = phone else { return };
        if self.eff.can_register(kind).is_err() {
            return;
        }
        let mut caveats = BTreeSet::new();
        let covers: Vec<Channel> = uncovered
            .iter()
            .filter_map(|(c, major)| {
                self.cross_device(d, *c, *major).map(|cv| {
                    caveats.extend(cv);
                    *c
                })
            })
            .collect();
        if self.authenticator_outdated(None, kind) {
            caveats.insert(Caveat::UpdateAuthenticator);
        }
        if !covers.is_empty() {
            out.push(Candidate {
                option: PasskeyOption::AuthenticatorPasskey {
                    on_this_device: false,
                },
                caveats: caveats.into_iter().collect(),
                covers,
                rank: 1,
            });
        }
    }

    fn chrome_synced(&self, uncovered: &[(Channel, Option<u32>)], out: &mut Vec<Candidate>) {
        let covers: Vec<Channel> = uncovered
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| {
                matches!(
                    c,
                    Channel::Browser {
                        browser: Client::Chrome
                    }
                )
            })
            .collect();
        if !covers.is_empty() && self.eff.can_register(ProviderKind::GoogleSynced).is_ok() {
            out.push(Candidate {
                option: PasskeyOption::SyncedPasskey {
                    provider: ProviderKind::GoogleSynced,
                    name: self
                        .rules
                        .provider_of_kind(ProviderKind::GoogleSynced)
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                },
                caveats: vec![Caveat::BrowserOnly],
                covers,
                rank: 4,
            });
        }
    }
}

fn remedy_rank(r: &Remedy) -> u8 {
    match r {
        Remedy::UpgradeOs { .. } => 0,
        Remedy::UseBrowser { .. } => 1,
        Remedy::AllowSyncedPasskeys => 2,
        Remedy::SecurityKey => 3,
        Remedy::Exclusion => 4,
    }
}

/// The phone Authenticator passkey the person could use for the QR flow on computers: one
/// they hold and may use, or a phone of theirs that can hold one.
fn capable_phone(
    snapshot: &PersonSnapshot,
    facts: &[(DeviceKey, DeviceAcc, OsFacts)],
    ctx: &Ctx<'_>,
) -> Option<ProviderKind> {
    let r = ctx.rules;
    let held = ctx
        .held
        .iter()
        .filter(|h| h.credential.blocked.is_none())
        .filter_map(|h| match h.credential.kind {
            CredentialKind::Passkey { provider, .. } if provider.is_authenticator() => {
                Some(provider)
            }
            _ => None,
        })
        .min();
    if held.is_some() {
        return held;
    }
    let capable = |family: OsFamily,
                   version: Option<&Version>,
                   manufacturer: Option<&str>,
                   model: Option<&str>| {
        let v = version.map(Version::major)?;
        match family {
            OsFamily::Ios if v >= r.min_ios_authenticator => Some(ProviderKind::AuthenticatorIos),
            OsFamily::Android => {
                let needs = r
                    .android_model_needs(manufacturer, model)
                    .unwrap_or(0)
                    .max(r.min_android_authenticator);
                (v >= needs).then_some(ProviderKind::AuthenticatorAndroid)
            }
            _ => None,
        }
    };
    let from_used = facts.iter().filter_map(|(_, _, os)| {
        capable(
            os.family,
            os.version.as_ref(),
            os.manufacturer.as_deref(),
            os.model.as_deref(),
        )
    });
    let from_registered = snapshot.devices.iter().filter_map(|d| {
        let version = d
            .operating_system_version
            .as_deref()
            .and_then(Version::parse);
        capable(
            OsFamily::from_graph(&d.operating_system),
            version.as_ref(),
            d.manufacturer.as_deref(),
            d.model.as_deref(),
        )
    });
    from_used.chain(from_registered).min()
}

#[cfg(test)]
impl DeviceVerdict {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            DeviceVerdict::Ready { .. } => "Ready",
            DeviceVerdict::RegisteredButUnused { .. } => "RegisteredButUnused",
            DeviceVerdict::NeedsPasskey { .. } => "NeedsPasskey",
            DeviceVerdict::Incompatible { .. } => "Incompatible",
            DeviceVerdict::Unknown { .. } => "Unknown",
        }
    }
}
