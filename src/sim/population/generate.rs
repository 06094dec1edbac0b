//! The generator: people first, then their devices, methods, 30 days of sign-ins and
//! registration events, then groups. Each person draws from their own random stream.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::model::*;
use super::rng::Rng;
use super::shares::{
    ADMIN_JOB, ANDROID_14_NEEDS_15, ANDROID_MODELS, ANDROID_OLD_MODELS, AUTHENTICATOR_VERSIONS,
    DEPARTMENTS, HELPDESK_JOB, Kind, LOCALES, MAC_MODELS, PasskeyFate, SHARES, WINDOWS_MODELS,
    iphone_models, windows_revision_range,
};

/// Length of the sign-in and audit window (the logs' 30-day retention).
pub(crate) const WINDOW_SECS: u32 = 30 * 86_400;
const DAY: i64 = 86_400;

// Id kinds, so ids of different objects never collide.
const ID_TENANT: u64 = 1;
const ID_USER: u64 = 2;
const ID_DEVICE_OBJECT: u64 = 3;
const ID_DEVICE: u64 = 4;
const ID_METHOD: u64 = 5;
const ID_AUDIT: u64 = 6;
const ID_GROUP: u64 = 7;

// Random streams.
const STREAM_PERSON: u64 = 1;
const STREAM_SHARED: u64 = 2;
const STREAM_TENANT: u64 = 3;

const TENANT_NAMES: &[&str] = &[
    "contoso",
    "fabrikam",
    "northwind",
    "tailspin",
    "woodgrove",
    "adatum",
    "litware",
    "proseware",
];
const PARTNER_DOMAINS: &[&str] = &["partner.example", "consulting.example", "agency.example"];
const SERVICE_NAMES: &[&str] = &[
    "backup",
    "scanner",
    "erp-integration",
    "printing",
    "monitoring",
    "hr-sync",
    "teams-rooms",
    "sharepoint-migration",
];

/// Everything the generator produces, before indexing.
pub(crate) struct Generated {
    pub tenant_id: Guid,
    pub domain: String,
    pub window_start: Timestamp,
    pub people: Vec<Person>,
    pub devices: Vec<Device>,
    pub sign_ins: Vec<SignIn>,
    pub audits: Vec<AuditEvent>,
    pub groups: Vec<Group>,
}

struct Builder {
    seed: u64,
    now: Timestamp,
    window_start: Timestamp,
    domain: String,
    /// For each day of the window: its UTC midnight as an offset from the window start
    /// (may be negative for the first day) and whether it is a working day.
    days: Vec<(i64, bool)>,
    shared_desktops: Vec<u32>,
    shift_per_mille_in_shift_departments: u32,
    department_weights: Vec<(usize, u32)>,
    people: Vec<Person>,
    devices: Vec<Device>,
    sign_ins: Vec<SignIn>,
    audits: Vec<AuditEvent>,
    upn_taken: HashMap<String, u32>,
}

pub(crate) fn generate(users: usize, seed: u64, now: Timestamp) -> Generated {
    let window_start = now - SignedDuration::from_secs(i64::from(WINDOW_SECS));
    let mut tenant_rng = Rng::stream(seed, STREAM_TENANT, 0);
    let domain = format!("{}.com", tenant_rng.pick(TENANT_NAMES));
    // UTC midnights; 1970-01-01 was a Thursday, so `(days + 3) % 7` is 0 on Mondays.
    let first_midnight = window_start.as_second().div_euclid(DAY) * DAY;
    let days = (0..=30)
        .map(|d| {
            let midnight = first_midnight + d * DAY;
            let working = (midnight / DAY + 3).rem_euclid(7) < 5;
            (midnight - window_start.as_second(), working)
        })
        .collect();
    let shift_weight: u32 = DEPARTMENTS
        .iter()
        .filter(|d| d.shifts)
        .map(|d| d.weight)
        .sum();
    let total_weight: u32 = DEPARTMENTS.iter().map(|d| d.weight).sum();
    let mut b = Builder {
        seed,
        now,
        window_start,
        domain,
        days,
        shared_desktops: Vec::new(),
        shift_per_mille_in_shift_departments: SHARES.shift_worker_per_mille * total_weight
            / shift_weight,
        department_weights: DEPARTMENTS
            .iter()
            .enumerate()
            .map(|(i, d)| (i, d.weight))
            .collect(),
        people: Vec::with_capacity(users),
        devices: Vec::with_capacity(users * 5 / 2),
        sign_ins: Vec::with_capacity(users * 40),
        audits: Vec::new(),
        upn_taken: HashMap::with_capacity(users),
    };
    b.shared_desktop_pool(users);
    for i in 0..users as u32 {
        let mut rng = Rng::stream(seed, STREAM_PERSON, u64::from(i));
        let person = if i < 2 && users >= 10 {
            b.break_glass(i)
        } else {
            match rng.weighted(SHARES.kinds) {
                Kind::Employee => b.employee(i, &mut rng),
                Kind::Guest => b.guest(i, &mut rng),
                Kind::ServiceAccount => b.service_account(i, &mut rng),
            }
        };
        b.people.push(person);
    }
    b.audits.sort_by_key(|a| (a.at, a.person));
    let groups = b.groups();
    Generated {
        tenant_id: Guid::derive(seed, ID_TENANT, 0),
        domain: b.domain,
        window_start,
        people: b.people,
        devices: b.devices,
        sign_ins: b.sign_ins,
        audits: b.audits,
        groups,
    }
}

/// Lower-case ASCII for user principal names (ä → ae, é → e, spaces dropped).
fn ascii_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' | '-' => out.push(c),
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'á' | 'à' | 'â' | 'ą' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' | 'ę' => out.push('e'),
            'í' | 'ï' | 'î' => out.push('i'),
            'ó' | 'ô' => out.push('o'),
            'ú' | 'û' => out.push('u'),
            'ñ' | 'ń' => out.push('n'),
            'ç' | 'ć' => out.push('c'),
            'ł' => out.push('l'),
            'ś' => out.push('s'),
            'ź' | 'ż' => out.push('z'),
            _ => {}
        }
    }
    out
}

impl Builder {
    fn ts(&self, offset_secs: i64) -> Timestamp {
        self.window_start + SignedDuration::from_secs(offset_secs)
    }

    fn days_ago(&self, days: u32, rng: &mut Rng) -> Timestamp {
        self.now - SignedDuration::from_secs(i64::from(days) * DAY + i64::from(rng.below(86_400)))
    }

    fn unique_upn(&mut self, local: String, domain: &str) -> String {
        let n = self.upn_taken.entry(local.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            format!("{local}@{domain}")
        } else {
            format!("{local}{n}@{domain}")
        }
    }

    fn shared_desktop_pool(&mut self, users: usize) {
        let shift_workers = users * SHARES.shift_worker_per_mille as usize / 1000;
        let count = (shift_workers / SHARES.people_per_shared_desktop as usize).max(1);
        for k in 0..count as u32 {
            let mut rng = Rng::stream(self.seed, STREAM_SHARED, u64::from(k));
            let build = if rng.chance(500) { 19045 } else { 22631 };
            let (lo, hi) = windows_revision_range(build);
            let (manufacturer, model) = ("Dell Inc.", "OptiPlex 7010");
            let registered = self.days_ago(rng.range(200, 1500), &mut rng);
            let index = self.devices.len() as u32;
            self.devices.push(Device {
                id: Guid::derive(self.seed, ID_DEVICE_OBJECT, u64::from(index)),
                device_id: Guid::derive(self.seed, ID_DEVICE, u64::from(index)),
                display_name: format!("KIOSK-{:04}", k + 1),
                platform: Platform::Windows,
                form: FormFactor::SharedDesktop,
                os: OsVersion {
                    major: 10,
                    minor: 0,
                    build,
                    revision: rng.range(lo, hi),
                },
                manufacturer,
                model,
                trust_type: Some(TrustType::AzureAd),
                is_compliant: true,
                is_managed: true,
                work_profile: false,
                needs_android_15: false,
                browser: Browser::Edge,
                registered,
                owner: None,
            });
            self.shared_desktops.push(index);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_device(
        &mut self,
        owner: u32,
        platform: Platform,
        form: FormFactor,
        os: OsVersion,
        (manufacturer, model): (&'static str, &'static str),
        trust_type: Option<TrustType>,
        managed: bool,
        browser: Browser,
        display_name: String,
        rng: &mut Rng,
    ) -> u32 {
        let index = self.devices.len() as u32;
        let registered = self.days_ago(rng.range(31, 1200), rng);
        self.devices.push(Device {
            id: Guid::derive(self.seed, ID_DEVICE_OBJECT, u64::from(index)),
            device_id: Guid::derive(self.seed, ID_DEVICE, u64::from(index)),
            display_name,
            platform,
            form,
            os,
            manufacturer,
            model,
            trust_type,
            is_compliant: managed && !rng.chance(40),
            is_managed: managed,
            work_profile: false,
            needs_android_15: false,
            browser,
            registered,
            owner: Some(owner),
        });
        index
    }

    fn phone(&mut self, owner: u32, rng: &mut Rng) -> u32 {
        match rng.weighted(SHARES.phone_platform) {
            Platform::Ios => {
                let major = rng.weighted(SHARES.ios_versions);
                let minor = match major {
                    15 => 8,
                    16 => 7,
                    17 => rng.range(5, 7) as u16,
                    _ => rng.range(3, 6) as u16,
                };
                let os = OsVersion {
                    major,
                    minor,
                    build: rng.range(0, 2),
                    revision: 0,
                };
                let model = *rng.pick(iphone_models(major));
                let managed = rng.chance(500);
                self.add_device(
                    owner,
                    Platform::Ios,
                    FormFactor::Phone,
                    os,
                    ("Apple", model),
                    Some(TrustType::Workplace),
                    managed,
                    Browser::Safari,
                    model.to_owned(),
                    rng,
                )
            }
            _ => {
                let major = rng.weighted(SHARES.android_versions);
                let needs_15 = major == 14 && rng.chance(SHARES.android14_needs_15_per_mille);
                let (maker, model) = if needs_15 {
                    *rng.pick(ANDROID_14_NEEDS_15)
                } else if major >= 14 {
                    *rng.pick(ANDROID_MODELS)
                } else {
                    *rng.pick(ANDROID_OLD_MODELS)
                };
                let work_profile = rng.chance(SHARES.android_work_profile_per_mille);
                let os = OsVersion {
                    major,
                    minor: 0,
                    build: 0,
                    revision: 0,
                };
                let index = self.add_device(
                    owner,
                    Platform::Android,
                    FormFactor::Phone,
                    os,
                    (maker, model),
                    Some(TrustType::Workplace),
                    work_profile,
                    Browser::Chrome,
                    model.to_owned(),
                    rng,
                );
                let device = &mut self.devices[index as usize];
                device.work_profile = work_profile;
                device.needs_android_15 = needs_15;
                index
            }
        }
    }

    fn computer(&mut self, owner: u32, personal: bool, rng: &mut Rng) -> u32 {
        let platform = rng.weighted(SHARES.computer_platform);
        let platform = if personal && platform == Platform::Linux {
            Platform::Windows
        } else {
            platform
        };
        match platform {
            Platform::Windows => {
                let build = rng.weighted(SHARES.windows_builds);
                let (lo, hi) = windows_revision_range(build);
                let os = OsVersion {
                    major: 10,
                    minor: 0,
                    build,
                    revision: rng.range(lo, hi),
                };
                let desktop = !personal && rng.chance(300);
                let (form, prefix) = if desktop {
                    (FormFactor::Desktop, "DT")
                } else {
                    (FormFactor::Laptop, "LT")
                };
                let (trust, name) = if personal {
                    (None, format!("DESKTOP-{:07X}", rng.below(0x0fff_ffff)))
                } else if rng.chance(SHARES.windows_entra_joined_per_mille) {
                    (
                        Some(TrustType::AzureAd),
                        format!("{prefix}-{:05}", rng.below(100_000)),
                    )
                } else {
                    (
                        Some(TrustType::ServerAd),
                        format!("{prefix}-{:05}", rng.below(100_000)),
                    )
                };
                let model = *rng.pick(WINDOWS_MODELS);
                let browser = rng.weighted(SHARES.windows_browsers);
                self.add_device(
                    owner, platform, form, os, model, trust, !personal, browser, name, rng,
                )
            }
            Platform::MacOs => {
                let major = rng.weighted(SHARES.macos_versions);
                let os = OsVersion {
                    major,
                    minor: rng.range(1, 6) as u16,
                    build: rng.range(0, 1),
                    revision: 0,
                };
                let model = *rng.pick(MAC_MODELS);
                let trust = (!personal && rng.chance(700)).then_some(TrustType::Workplace);
                let browser = rng.weighted(SHARES.mac_browsers);
                let form = FormFactor::Laptop;
                let name = model.to_owned();
                self.add_device(
                    owner,
                    platform,
                    form,
                    os,
                    ("Apple", model),
                    trust,
                    trust.is_some(),
                    browser,
                    name,
                    rng,
                )
            }
            _ => {
                let major = if rng.chance(600) { 24 } else { 22 };
                let os = OsVersion {
                    major,
                    minor: 4,
                    build: 0,
                    revision: 0,
                };
                let browser = if rng.chance(700) {
                    Browser::Chrome
                } else {
                    Browser::Firefox
                };
                let name = format!("ubuntu-{:04x}", rng.below(0x1_0000));
                self.add_device(
                    owner,
                    platform,
                    FormFactor::Laptop,
                    os,
                    ("LENOVO", "ThinkPad P16s"),
                    None,
                    false,
                    browser,
                    name,
                    rng,
                )
            }
        }
    }

    fn tablet(&mut self, owner: u32, rng: &mut Rng) -> u32 {
        let major = if rng.chance(800) { 18 } else { 17 };
        let os = OsVersion {
            major,
            minor: rng.range(3, 6) as u16,
            build: 0,
            revision: 0,
        };
        self.add_device(
            owner,
            Platform::Ios,
            FormFactor::Tablet,
            os,
            ("Apple", "iPad Air"),
            Some(TrustType::Workplace),
            true,
            Browser::Safari,
            "iPad".to_owned(),
            rng,
        )
    }

    fn method(&self, person: u32, n: usize, created: Timestamp, kind: MethodKind) -> Method {
        Method {
            id: Guid::derive(self.seed, ID_METHOD, (u64::from(person) << 8) | n as u64),
            created,
            kind,
        }
    }

    fn phone_number(usage_location: &str, rng: &mut Rng) -> String {
        let code = match usage_location {
            "US" => "1",
            "GB" => "44",
            "DE" => "49",
            "AT" => "43",
            "CH" => "41",
            "FR" => "33",
            "NL" => "31",
            "ES" => "34",
            "PL" => "48",
            _ => "91",
        };
        format!("+{code} {}{:08}", rng.range(15, 79), rng.below(100_000_000))
    }

    fn employee(&mut self, i: u32, rng: &mut Rng) -> Person {
        let locale = &LOCALES[rng.weighted(SHARES.locales)];
        let (time_zone, utc_offset_minutes) = *rng.pick(locale.zones);
        let given = *rng.pick(locale.names.given);
        let surname = *rng.pick(locale.names.surnames);
        let department = &DEPARTMENTS[rng.weighted(&self.department_weights)];
        let job = if department.name == "IT" {
            let roll = rng.below(1000);
            if roll < SHARES.it_helpdesk_per_mille {
                HELPDESK_JOB
            } else if roll < SHARES.it_helpdesk_per_mille + SHARES.it_admin_per_mille {
                ADMIN_JOB
            } else {
                *rng.pick(department.jobs)
            }
        } else {
            *rng.pick(department.jobs)
        };
        let upn = self.unique_upn(
            format!("{}.{}", ascii_name(given), ascii_name(surname)),
            &self.domain.clone(),
        );
        let created = self.days_ago(rng.range(40, 3650), rng);
        let mut traits = Traits {
            shift_worker: department.shifts
                && rng.chance(self.shift_per_mille_in_shift_departments),
            security_key_only: rng.chance(SHARES.security_key_only_per_mille),
            no_sign_ins: rng.chance(SHARES.no_sign_ins_per_mille),
            ..Traits::default()
        };

        // Devices.
        let mut devices = Vec::with_capacity(4);
        let has_phone = !traits.security_key_only && !rng.chance(SHARES.no_phone_per_mille);
        let phone = has_phone.then(|| self.phone(i, rng));
        devices.extend(phone);
        if rng.chance(SHARES.tablet_per_mille) && !traits.shift_worker {
            devices.push(self.tablet(i, rng));
        }
        if traits.shift_worker {
            let first = *rng.pick(&self.shared_desktops);
            devices.push(first);
            let second = *rng.pick(&self.shared_desktops);
            if second != first {
                devices.push(second);
            }
        } else {
            devices.push(self.computer(i, false, rng));
            if rng.chance(SHARES.second_computer_per_mille) {
                devices.push(self.computer(i, true, rng));
            }
        }

        // Methods.
        let mut methods = vec![self.method(i, 0, created, MethodKind::Password)];
        let mfa_created =
            |b: &Self, rng: &mut Rng| b.days_ago(rng.range(31, 900), rng).max(created);
        let mut authenticator = false;
        if let Some(phone) = phone
            && rng.chance(SHARES.authenticator_per_mille)
        {
            authenticator = true;
            let at = mfa_created(self, rng);
            let kind = MethodKind::MicrosoftAuthenticator {
                device: phone,
                phone_app_version: AUTHENTICATOR_VERSIONS
                    [rng.below(AUTHENTICATOR_VERSIONS.len() as u32) as usize],
            };
            methods.push(self.method(i, methods.len(), at, kind));
        }
        if !traits.security_key_only && (!authenticator || rng.chance(SHARES.sms_backup_per_mille))
        {
            let at = mfa_created(self, rng);
            let kind = MethodKind::Phone {
                phone_number: Self::phone_number(locale.usage_location, rng),
                sms_sign_in: false,
            };
            methods.push(self.method(i, methods.len(), at, kind));
        }
        for &d in &devices {
            let device = &self.devices[d as usize];
            let joined = matches!(
                device.trust_type,
                Some(TrustType::AzureAd | TrustType::ServerAd)
            );
            if device.platform == Platform::Windows
                && device.owner == Some(i)
                && joined
                && rng.chance(SHARES.whfb_per_mille)
            {
                let pin_forgotten = rng.chance(SHARES.whfb_pin_forgotten_per_mille);
                traits.forgotten_whfb_pin |= pin_forgotten;
                let at = mfa_created(self, rng);
                let kind = MethodKind::WindowsHelloForBusiness {
                    device: d,
                    pin_forgotten,
                };
                methods.push(self.method(i, methods.len(), at, kind));
            }
        }
        let mut new_passkeys: Vec<(Timestamp, PasskeyModel)> = Vec::new();
        if let Some(phone) = phone {
            let device = &self.devices[phone as usize];
            let authenticator_capable = match device.platform {
                Platform::Ios => device.os.major >= 17,
                _ => device.os.major >= 14 && !device.needs_android_15,
            };
            let synced_model = match device.platform {
                Platform::Ios if device.os.major >= 16 => Some(PasskeyModel::ICloudKeychain),
                Platform::Android if device.manufacturer == "samsung" => {
                    Some(PasskeyModel::SamsungPass)
                }
                Platform::Android => Some(PasskeyModel::GooglePasswordManager),
                _ => None,
            };
            let chosen =
                if authenticator_capable && rng.chance(SHARES.authenticator_passkey_per_mille) {
                    Some(if device.platform == Platform::Ios {
                        PasskeyModel::AuthenticatorIos
                    } else {
                        PasskeyModel::AuthenticatorAndroid
                    })
                } else if rng.chance(SHARES.synced_passkey_per_mille) {
                    synced_model
                } else {
                    None
                };
            if let Some(passkey) = chosen {
                let fate = rng.weighted(SHARES.passkey_states);
                let (state, created_at, last_used) = match fate {
                    PasskeyFate::DeletedFromPhone if !passkey.is_synced() => {
                        traits.passkey_deleted_from_phone = true;
                        let created_at = self.days_ago(rng.range(60, 200), rng).max(created);
                        let used = created_at
                            + SignedDuration::from_secs(i64::from(rng.range(1, 20)) * DAY);
                        (
                            PasskeyState::DeletedFromDevice,
                            created_at,
                            Some(used.min(self.window_start)),
                        )
                    }
                    PasskeyFate::NeverUsed => {
                        traits.passkey_never_used = true;
                        (
                            PasskeyState::NeverUsed,
                            self.days_ago(rng.range(2, 120), rng).max(created),
                            None,
                        )
                    }
                    _ => (
                        PasskeyState::InUse,
                        self.days_ago(rng.range(2, 120), rng).max(created),
                        None,
                    ),
                };
                if created_at >= self.window_start {
                    new_passkeys.push((created_at, passkey));
                }
                let kind = MethodKind::Fido2 {
                    passkey,
                    device: Some(phone),
                    last_used,
                    state,
                };
                methods.push(self.method(i, methods.len(), created_at, kind));
            }
        }
        let linux = devices
            .iter()
            .any(|&d| self.devices[d as usize].platform == Platform::Linux);
        let key_chance = if job == ADMIN_JOB || linux {
            300
        } else {
            SHARES.security_key_per_mille
        };
        if traits.security_key_only || rng.chance(key_chance) {
            let keys = if traits.security_key_only && rng.chance(300) {
                2
            } else {
                1
            };
            for _ in 0..keys {
                let model = rng.weighted(SHARES.security_keys);
                let at = self.days_ago(rng.range(2, 700), rng).max(created);
                if at >= self.window_start {
                    new_passkeys.push((at, model));
                }
                let kind = MethodKind::Fido2 {
                    passkey: model,
                    device: None,
                    last_used: None,
                    state: PasskeyState::InUse,
                };
                methods.push(self.method(i, methods.len(), at, kind));
            }
        }

        // Registration events.
        let phone_needs_15 = phone.is_some_and(|p| self.devices[p as usize].needs_android_15);
        let has_passkey = methods
            .iter()
            .any(|m| matches!(m.kind, MethodKind::Fido2 { .. }));
        traits.stuck_registration = !has_passkey
            && !traits.security_key_only
            && (rng.chance(SHARES.stuck_per_mille)
                || (phone_needs_15 && rng.chance(SHARES.needs_15_tried_per_mille)));
        if traits.stuck_registration {
            let at = self.ts(i64::from(rng.below(WINDOW_SECS - 3600)));
            let model = if phone_needs_15
                || phone.is_some_and(|p| self.devices[p as usize].platform == Platform::Android)
            {
                PasskeyModel::AuthenticatorAndroid
            } else {
                PasskeyModel::AuthenticatorIos
            };
            let reason = if phone_needs_15 {
                "The passkey provider on this device isn't supported. Update Android and try again."
            } else {
                *rng.pick(&[
                    "The operation either timed out or was not allowed.",
                    "Passkey registration failed: the authenticator isn't allowed by policy.",
                    "Bluetooth is unavailable for the cross-device registration.",
                ])
            };
            self.registration_events(i, at, model, Some(reason), rng);
        }
        for (at, model) in new_passkeys {
            if rng.chance(200) {
                let earlier = self.window_start.max(at - SignedDuration::from_secs(1800));
                self.registration_events(
                    i,
                    earlier,
                    model,
                    Some("The operation either timed out or was not allowed."),
                    rng,
                );
            }
            self.registration_events(i, at, model, None, rng);
        }

        // Sign-ins.
        let start = self.sign_ins.len() as u32;
        if !traits.no_sign_ins {
            self.sign_ins_for(
                &devices,
                &mut methods,
                utc_offset_minutes,
                traits.security_key_only,
                authenticator,
                rng,
            );
        }
        let len = self.sign_ins.len() as u32 - start;

        let display_name = format!("{given} {surname}");
        Person {
            id: Guid::derive(self.seed, ID_USER, u64::from(i)),
            kind: PersonKind::Employee,
            user_type: UserType::Member,
            display_name,
            given_name: Some(given),
            surname: Some(surname),
            mail: Some(upn.clone()),
            user_principal_name: upn,
            department: Some(department.name),
            job_title: Some(job),
            preferred_language: locale.tag,
            usage_location: locale.usage_location,
            time_zone,
            account_enabled: !rng.chance(SHARES.disabled_per_mille),
            created,
            devices,
            methods,
            sign_ins: (start, len),
            traits,
        }
    }

    fn registration_events(
        &mut self,
        person: u32,
        at: Timestamp,
        passkey: PasskeyModel,
        failure: Option<&'static str>,
        rng: &mut Rng,
    ) {
        let push = |b: &mut Self, at: Timestamp, activity, succeeded, reason, passkey| {
            let n = b.audits.len() as u64;
            b.audits.push(AuditEvent {
                id: Guid::derive(
                    b.seed,
                    ID_AUDIT,
                    (u64::from(person) << 16) ^ n ^ ((at.as_second() as u64) << 32),
                ),
                at,
                person,
                activity,
                succeeded,
                reason,
                passkey,
            });
        };
        let started = at - SignedDuration::from_secs(i64::from(rng.range(20, 240)));
        let started = started.max(self.window_start);
        push(
            self,
            started,
            AuditActivity::StartedRegistration,
            true,
            None,
            None,
        );
        match failure {
            Some(reason) => {
                push(
                    self,
                    at,
                    AuditActivity::RegisteredSecurityInfo,
                    false,
                    Some(reason),
                    Some(passkey),
                );
                if rng.chance(400) {
                    let later = (at + SignedDuration::from_secs(30)).min(self.now);
                    push(
                        self,
                        later,
                        AuditActivity::CancelledRegistration,
                        true,
                        None,
                        None,
                    );
                }
            }
            None => {
                push(
                    self,
                    at,
                    AuditActivity::RegisteredSecurityInfo,
                    true,
                    None,
                    Some(passkey),
                );
                let add = if passkey.is_synced() {
                    AuditActivity::AddPasskeySynced
                } else {
                    AuditActivity::AddPasskeyDeviceBound
                };
                push(self, at, add, true, None, Some(passkey));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sign_ins_for(
        &mut self,
        devices: &[u32],
        methods: &mut [Method],
        utc_offset_minutes: i32,
        security_key_only: bool,
        authenticator: bool,
        rng: &mut Rng,
    ) {
        let start = self.sign_ins.len();
        let slot = |kind: fn(&Device) -> bool, b: &Self| {
            devices
                .iter()
                .position(|&d| kind(&b.devices[d as usize]))
                .map(|p| p as u8)
        };
        let phone = slot(|d| d.form == FormFactor::Phone, self);
        let tablet = slot(|d| d.form == FormFactor::Tablet, self);
        let computer = slot(
            |d| matches!(d.form, FormFactor::Laptop | FormFactor::Desktop) && d.is_registered(),
            self,
        )
        .or_else(|| {
            slot(
                |d| matches!(d.form, FormFactor::Laptop | FormFactor::Desktop),
                self,
            )
        });
        let personal = devices
            .iter()
            .enumerate()
            .skip_while(|&(p, _)| Some(p as u8) != computer)
            .skip(1)
            .find(|&(_, &d)| !self.devices[d as usize].form.eq(&FormFactor::Phone))
            .map(|(p, _)| p as u8);
        let shared: Vec<u8> = devices
            .iter()
            .enumerate()
            .filter(|&(_, &d)| self.devices[d as usize].form == FormFactor::SharedDesktop)
            .map(|(p, _)| p as u8)
            .collect();
        // Registration days: a My Sign-Ins visit from the computer (or phone) when a passkey
        // was added inside the window.
        for m in methods.iter() {
            if matches!(m.kind, MethodKind::Fido2 { .. })
                && m.created >= self.window_start
                && let Some(slot) = computer.or(phone).or(shared.first().copied())
            {
                let at = (m.created.as_second() - self.window_start.as_second() - 60).max(0) as u32;
                self.push_sign_in(
                    devices,
                    methods,
                    slot,
                    App::MySignIns,
                    at,
                    security_key_only,
                    authenticator,
                    rng,
                );
            }
        }
        let offset = i64::from(utc_offset_minutes) * 60;
        let days = self.days.clone();
        for (midnight, working) in days {
            let mut sessions: Vec<(u8, App)> = Vec::with_capacity(6);
            if working && !rng.chance(60) {
                if let Some(c) = computer {
                    let platform = self.devices[devices[c as usize] as usize].platform;
                    if platform == Platform::Windows {
                        sessions.push((c, App::WindowsSignIn));
                    }
                    for _ in 0..(1 + u32::from(rng.chance(400))) {
                        sessions.push((c, self.computer_app(platform, rng)));
                    }
                    if rng.chance(15) {
                        sessions.push((c, App::MySignIns));
                    }
                }
                if !shared.is_empty() {
                    let s = *rng.pick(&shared);
                    sessions.push((s, App::WindowsSignIn));
                    sessions.push((
                        s,
                        if rng.chance(500) {
                            App::TeamsWeb
                        } else {
                            App::OfficeHome
                        },
                    ));
                }
                if let Some(p) = phone {
                    if rng.chance(700) {
                        sessions.push((
                            p,
                            if rng.chance(600) {
                                App::TeamsMobile
                            } else {
                                App::OutlookMobile
                            },
                        ));
                    }
                    if rng.chance(200) {
                        sessions.push((p, App::OutlookMobile));
                    }
                    if rng.chance(30) {
                        sessions.push((p, App::Authenticator));
                    }
                }
                if let Some(t) = tablet
                    && rng.chance(150)
                {
                    sessions.push((t, App::TeamsMobile));
                }
            } else if !working
                && let Some(p) = phone
                && rng.chance(150)
            {
                sessions.push((p, App::OutlookMobile));
            }
            if let Some(pc) = personal
                && rng.chance(80)
            {
                sessions.push((pc, App::OfficeHome));
            }
            for (slot, app) in sessions {
                let local = i64::from(rng.range(7 * 3600, 18 * 3600));
                let at = midnight + local - offset;
                if (0..i64::from(WINDOW_SECS)).contains(&at) {
                    self.push_sign_in(
                        devices,
                        methods,
                        slot,
                        app,
                        at as u32,
                        security_key_only,
                        authenticator,
                        rng,
                    );
                }
            }
        }
        let own = &mut self.sign_ins[start..];
        own.sort_unstable_by_key(|s| s.at);
        for s in own.iter() {
            if s.method != SignIn::NO_METHOD {
                let used = self.window_start + SignedDuration::from_secs(i64::from(s.at));
                if let MethodKind::Fido2 { last_used, .. } = &mut methods[s.method as usize].kind {
                    *last_used = Some(last_used.map_or(used, |u| u.max(used)));
                }
            }
        }
    }

    fn computer_app(&self, platform: Platform, rng: &mut Rng) -> App {
        if platform == Platform::Linux || rng.chance(SHARES.computer_browser_per_mille) {
            *rng.pick(&[App::OfficeHome, App::OutlookWeb, App::TeamsWeb])
        } else {
            *rng.pick(&[
                App::TeamsDesktop,
                App::OfficeDesktop,
                App::OfficeDesktop,
                App::OneDriveSync,
            ])
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_sign_in(
        &mut self,
        devices: &[u32],
        methods: &[Method],
        slot: u8,
        app: App,
        at: u32,
        security_key_only: bool,
        authenticator: bool,
        rng: &mut Rng,
    ) {
        let device_index = devices[slot as usize];
        let device = &self.devices[device_index as usize];
        let when = self.window_start + SignedDuration::from_secs(i64::from(at));
        let usable = |m: &Method| m.created <= when;
        let mut auth = None;
        let mut method = SignIn::NO_METHOD;
        if security_key_only && let Some(k) = methods.iter().position(|m| {
            usable(m)
                && matches!(m.kind, MethodKind::Fido2 { passkey, .. } if passkey.is_security_key())
        }) {
            auth = Some(SignInAuth::SecurityKey);
            method = k as u8;
        }
        if auth.is_none() && device.platform == Platform::Windows {
            let whfb = methods.iter().any(|m| {
                matches!(m.kind, MethodKind::WindowsHelloForBusiness { device: d, pin_forgotten: false } if d == device_index)
            });
            if whfb {
                auth = Some(SignInAuth::WindowsHello);
            }
        }
        if auth.is_none() && app != App::WindowsSignIn {
            for (k, m) in methods.iter().enumerate() {
                let MethodKind::Fido2 {
                    passkey,
                    device: holder,
                    state: PasskeyState::InUse,
                    ..
                } = m.kind
                else {
                    continue;
                };
                if !usable(m) {
                    continue;
                }
                let possible = if passkey.is_security_key() {
                    !device.platform.is_mobile() && rng.chance(300)
                } else if holder == Some(device_index) {
                    rng.chance(700)
                } else if passkey.is_synced() {
                    let same_ecosystem = match passkey {
                        PasskeyModel::ICloudKeychain => {
                            matches!(device.platform, Platform::MacOs | Platform::Ios)
                        }
                        _ => device.browser == Browser::Chrome,
                    };
                    same_ecosystem && !app.is_native() && rng.chance(600)
                } else {
                    // Cross-device (QR) from a computer: every app on Windows 11 23H2+,
                    // only Chrome/Edge on older Windows, browsers elsewhere.
                    let cross_device = match device.platform {
                        Platform::Windows if device.os.build >= 22631 => true,
                        Platform::Windows => {
                            !app.is_native()
                                && matches!(device.browser, Browser::Edge | Browser::Chrome)
                        }
                        Platform::MacOs | Platform::Linux => !app.is_native(),
                        _ => false,
                    };
                    cross_device && rng.chance(500)
                };
                if possible {
                    auth = Some(if passkey.is_security_key() {
                        SignInAuth::SecurityKey
                    } else {
                        SignInAuth::Passkey
                    });
                    method = k as u8;
                    break;
                }
            }
        }
        let has_sms = methods
            .iter()
            .any(|m| matches!(m.kind, MethodKind::Phone { .. }));
        let auth = auth.unwrap_or_else(|| {
            if rng.chance(SHARES.previously_satisfied_per_mille) || (!authenticator && !has_sms) {
                SignInAuth::PasswordPreviouslySatisfied
            } else if authenticator {
                SignInAuth::PasswordPush
            } else {
                SignInAuth::PasswordSms
            }
        });
        let outcome =
            if auth.is_phishing_resistant() || !rng.chance(SHARES.sign_in_failure_per_mille) {
                SignInOutcome::Success
            } else if auth == SignInAuth::PasswordPush && rng.chance(400) {
                SignInOutcome::MfaDenied
            } else {
                SignInOutcome::InvalidPassword
            };
        let interactive = !(app.is_native()
            && app != App::WindowsSignIn
            && rng.chance(SHARES.non_interactive_per_mille));
        self.sign_ins.push(SignIn {
            at,
            device: slot,
            app,
            auth,
            method,
            outcome,
            interactive,
        });
    }

    fn guest(&mut self, i: u32, rng: &mut Rng) -> Person {
        let locale = &LOCALES[rng.weighted(SHARES.locales)];
        let (time_zone, offset) = *rng.pick(locale.zones);
        let given = *rng.pick(locale.names.given);
        let surname = *rng.pick(locale.names.surnames);
        let partner = *rng.pick(PARTNER_DOMAINS);
        let local = format!("{}.{}", ascii_name(given), ascii_name(surname));
        let mail = format!("{local}@{partner}");
        let tenant = self.domain.trim_end_matches(".com").to_owned();
        let upn = self.unique_upn(
            format!("{local}_{}#EXT#", partner.replace('.', "_")),
            &format!("{tenant}.onmicrosoft.com"),
        );
        let device = self.computer(i, true, rng);
        let created = self.days_ago(rng.range(40, 1000), rng);
        let start = self.sign_ins.len() as u32;
        for _ in 0..rng.range(0, 8) {
            let day = rng.below(30);
            let at = i64::from(day) * DAY + i64::from(rng.range(7 * 3600, 18 * 3600))
                - i64::from(offset) * 60;
            let at = at.clamp(0, i64::from(WINDOW_SECS) - 1) as u32;
            let app = if rng.chance(500) {
                App::TeamsWeb
            } else {
                App::OfficeHome
            };
            self.sign_ins.push(SignIn {
                at,
                device: 0,
                app,
                auth: SignInAuth::PasswordPreviouslySatisfied,
                method: SignIn::NO_METHOD,
                outcome: SignInOutcome::Success,
                interactive: true,
            });
        }
        self.sign_ins[start as usize..].sort_unstable_by_key(|s| s.at);
        let len = self.sign_ins.len() as u32 - start;
        Person {
            id: Guid::derive(self.seed, ID_USER, u64::from(i)),
            kind: PersonKind::Guest,
            user_type: UserType::Guest,
            display_name: format!("{given} {surname} (Guest)"),
            given_name: Some(given),
            surname: Some(surname),
            user_principal_name: upn,
            mail: Some(mail),
            department: None,
            job_title: None,
            preferred_language: locale.tag,
            usage_location: locale.usage_location,
            time_zone,
            account_enabled: true,
            created,
            devices: vec![device],
            methods: Vec::new(),
            sign_ins: (start, len),
            traits: Traits::default(),
        }
    }

    fn service_account(&mut self, i: u32, rng: &mut Rng) -> Person {
        let name = *rng.pick(SERVICE_NAMES);
        let domain = self.domain.clone();
        let upn = self.unique_upn(format!("svc-{name}"), &domain);
        let created = self.days_ago(rng.range(100, 3000), rng);
        Person {
            id: Guid::derive(self.seed, ID_USER, u64::from(i)),
            kind: PersonKind::ServiceAccount,
            user_type: UserType::Member,
            display_name: format!("Service account {name}"),
            given_name: None,
            surname: None,
            user_principal_name: upn,
            mail: None,
            department: Some("IT"),
            job_title: None,
            preferred_language: "en-US",
            usage_location: "US",
            time_zone: "UTC",
            account_enabled: true,
            created,
            devices: Vec::new(),
            methods: vec![self.method(i, 0, created, MethodKind::Password)],
            sign_ins: (self.sign_ins.len() as u32, 0),
            traits: Traits::default(),
        }
    }

    fn break_glass(&mut self, i: u32) -> Person {
        let mut rng = Rng::stream(self.seed, STREAM_PERSON, u64::from(i));
        let tenant = self.domain.trim_end_matches(".com").to_owned();
        let upn = format!("breakglass{:02}@{tenant}.onmicrosoft.com", i + 1);
        let created = self.days_ago(rng.range(400, 3000), &mut rng);
        let key = MethodKind::Fido2 {
            passkey: PasskeyModel::YubiKey5Nfc,
            device: None,
            last_used: None,
            state: PasskeyState::InUse,
        };
        Person {
            id: Guid::derive(self.seed, ID_USER, u64::from(i)),
            kind: PersonKind::BreakGlass,
            user_type: UserType::Member,
            display_name: format!("Emergency access {:02}", i + 1),
            given_name: None,
            surname: None,
            user_principal_name: upn,
            mail: None,
            department: None,
            job_title: None,
            preferred_language: "en-US",
            usage_location: "US",
            time_zone: "UTC",
            account_enabled: true,
            created,
            devices: Vec::new(),
            methods: vec![
                self.method(i, 0, created, MethodKind::Password),
                self.method(i, 1, created, key),
            ],
            sign_ins: (self.sign_ins.len() as u32, 0),
            traits: Traits::default(),
        }
    }

    fn groups(&self) -> Vec<Group> {
        let members = |f: &dyn Fn(&Person) -> bool| -> Vec<u32> {
            self.people
                .iter()
                .enumerate()
                .filter(|(_, p)| f(p))
                .map(|(i, _)| i as u32)
                .collect()
        };
        let employee = |p: &Person| p.kind == PersonKind::Employee;
        let mut helpdesk = members(&|p| employee(p) && p.job_title == Some(HELPDESK_JOB));
        let mut admins = members(&|p| employee(p) && p.job_title == Some(ADMIN_JOB));
        // Tiny tenants may have no IT staff: then the first employees take the roles.
        let employees = members(&employee);
        if helpdesk.is_empty() {
            helpdesk.extend(employees.first());
        }
        if admins.is_empty() {
            admins.extend(employees.get(1).or(employees.first()));
        }
        let group = |n: u64, display_name, role, members| Group {
            id: Guid::derive(self.seed, ID_GROUP, n),
            display_name,
            role,
            members,
        };
        vec![
            group(
                0,
                "Passkey rollout – all employees",
                GroupRole::Target,
                employees,
            ),
            group(
                1,
                "Passkey rollout – excluded: guests",
                GroupRole::ExcludedGuests,
                members(&|p| p.kind == PersonKind::Guest),
            ),
            group(
                2,
                "Passkey rollout – excluded: service accounts",
                GroupRole::ExcludedServiceAccounts,
                members(&|p| p.kind == PersonKind::ServiceAccount),
            ),
            group(
                3,
                "Emergency access accounts",
                GroupRole::ExcludedBreakGlass,
                members(&|p| p.kind == PersonKind::BreakGlass),
            ),
            group(4, "IT Service Desk", GroupRole::Helpdesk, helpdesk),
            group(5, "Identity Administrators", GroupRole::Admins, admins),
        ]
    }
}
