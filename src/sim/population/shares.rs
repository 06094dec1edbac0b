//! Every share the generator uses, in one table, with where each figure comes from.
//!
//! Figures are approximate and rounded. Public platform statistics (StatCounter, Apple's and
//! Google's dashboards) describe consumers worldwide; a corporate tenant skews towards iOS,
//! Windows and managed devices, so several rows are judgement calls and say so. Weights are
//! relative (they need not add up to 100); `per_mille` values are probabilities in ‰.

use super::model::{Browser, Locale, PasskeyModel, Platform};

/// Weighted choices and probabilities used by the generator.
#[derive(Debug)]
pub struct Shares {
    /// Account kinds besides the two break-glass accounts (Microsoft recommends two).
    /// Judgement: B2B guests ~5 % of a tenant's users, service accounts ~1 %.
    pub kinds: &'static [(Kind, u32)],
    /// Locales of employees. Judgement: a German/US multinational with European offices.
    pub locales: &'static [(usize, u32)],
    /// Employees without a smartphone used for work (frontline, clean rooms). Judgement.
    pub no_phone_per_mille: u32,
    /// Phone platform of those with one. StatCounter mobile OS share 2025: US ~57 % iOS,
    /// Germany ~35 % iOS, UK ~50 % iOS; corporate-issued phones skew to iOS (judgement: 60 %).
    pub phone_platform: &'static [(Platform, u32)],
    /// iOS major versions. Apple App Store dashboard (June 2025): iOS 18 68 %, iOS 17 19 %,
    /// earlier 13 %; "earlier" split 16 vs 15 by judgement (iPhone 8/X stop at 16, 6s/7 at 15).
    pub ios_versions: &'static [(u16, u32)],
    /// Android versions, restricted to 11–15. StatCounter Android version share mid-2025
    /// (14 ~35 %, 15 ~25 %, 13 ~17 %, 12 ~12 %, 11 ~8 %), renormalised; approximate.
    pub android_versions: &'static [(u16, u32)],
    /// Android 14 phones that are models needing Android 15 for Authenticator passkeys.
    /// Judgement: Samsung holds ~40 % of European Android; One UI 6 provider problems [C].
    pub android14_needs_15_per_mille: u32,
    /// Android phones with a work profile (Android Enterprise BYOD). Judgement.
    pub android_work_profile_per_mille: u32,
    /// Employees who also use an iPad. Judgement.
    pub tablet_per_mille: u32,
    /// Frontline/shift workers who use shared desktops instead of their own computer.
    /// Judgement (Microsoft counts 80 % of the global workforce as frontline; an office-heavy
    /// tenant has far fewer).
    pub shift_worker_per_mille: u32,
    /// People per shared desktop. Judgement (WHFB allows 10 enrolments per device).
    pub people_per_shared_desktop: u32,
    /// Primary computer platform. StatCounter desktop OS 2025: Windows ~71 %, macOS ~16 %,
    /// Linux ~4 % (worldwide); enterprises skew to Windows (judgement: 85/12/3).
    pub computer_platform: &'static [(Platform, u32)],
    /// Windows builds. StatCounter (2025): Windows 11 passed Windows 10 in July 2025; by
    /// late 2026 (after Windows 10's end of support, October 2025) managed fleets are mostly
    /// on 11 23H2/24H2 with a Windows 10 ESU tail. Judgement on the split.
    pub windows_builds: &'static [(u32, u32)],
    /// macOS majors (15 Sequoia, 14 Sonoma, 13 Ventura, 12 Monterey). Judgement from
    /// public Mac version trackers (e.g. TelemetryDeck 2025): most Macs run one of the last two.
    pub macos_versions: &'static [(u16, u32)],
    /// Windows devices Entra joined vs hybrid joined (`AzureAd`/`ServerAd`), in ‰ Entra
    /// joined. Judgement: hybrid is still common in older estates.
    pub windows_entra_joined_per_mille: u32,
    /// Employees with a second, personal and unregistered computer they sign in from.
    /// Judgement ("devices nobody knew about").
    pub second_computer_per_mille: u32,
    /// Browsers on Windows. StatCounter desktop browser share in enterprises skews to Edge
    /// (Edge is the default and managed); judgement.
    pub windows_browsers: &'static [(Browser, u32)],
    /// Browsers on macOS (StatCounter macOS: Safari and Chrome lead). Approximate.
    pub mac_browsers: &'static [(Browser, u32)],
    /// Phone owners with Microsoft Authenticator push registered. Microsoft reports
    /// Authenticator as the most used MFA method in Entra; judgement for the figure.
    pub authenticator_per_mille: u32,
    /// Authenticator users who also keep an SMS number. Judgement.
    pub sms_backup_per_mille: u32,
    /// Owned Entra/hybrid joined Windows devices with WHFB registered. Judgement.
    pub whfb_per_mille: u32,
    /// WHFB registrations whose PIN the person has forgotten. Judgement (a common helpdesk
    /// call in rollouts).
    pub whfb_pin_forgotten_per_mille: u32,
    /// People with a passkey-capable phone who already have an Authenticator passkey (the
    /// rollout has just started). Judgement.
    pub authenticator_passkey_per_mille: u32,
    /// People whose phone allows a synced passkey who registered one (iCloud Keychain,
    /// Google Password Manager, Samsung Pass). Judgement.
    pub synced_passkey_per_mille: u32,
    /// What became of a registered phone passkey. Judgement (many registrations are
    /// "done because told", then never used; some are deleted with an app reinstall).
    pub passkey_states: &'static [(PasskeyFate, u32)],
    /// Employees whose only strong method is a security key and who have no phone.
    /// Judgement (frontline, clean rooms, privileged staff).
    pub security_key_only_per_mille: u32,
    /// Other employees who also hold a security key (admins and Linux users more often).
    /// Judgement.
    pub security_key_per_mille: u32,
    /// Security key models. Judgement (YubiKey 5 dominates enterprise deployments).
    pub security_keys: &'static [(PasskeyModel, u32)],
    /// Employees with no sign-in in 30 days (leave, sickness). Judgement.
    pub no_sign_ins_per_mille: u32,
    /// Employees with a failed registration and no success afterwards ("stuck"). Judgement.
    pub stuck_per_mille: u32,
    /// Share of Android-14-needs-15 owners who tried and failed. Judgement.
    pub needs_15_tried_per_mille: u32,
    /// Disabled employee accounts (leavers not yet deleted). Judgement.
    pub disabled_per_mille: u32,
    /// Sign-ins that fail (wrong password, MFA denied). Judgement; Entra tenants commonly
    /// show a few percent failures.
    pub sign_in_failure_per_mille: u32,
    /// Password sign-ins where MFA was "Previously satisfied" in the session. Judgement.
    pub previously_satisfied_per_mille: u32,
    /// Sign-ins by native apps that are non-interactive token refreshes shown here. Judgement.
    pub non_interactive_per_mille: u32,
    /// Browser (vs desktop app) share of computer sign-ins. Judgement.
    pub computer_browser_per_mille: u32,
    /// Share of IT staff in the helpdesk group, and in the admin group. Judgement.
    pub it_helpdesk_per_mille: u32,
    pub it_admin_per_mille: u32,
}

/// Account kinds drawn from [`Shares::kinds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Employee,
    Guest,
    ServiceAccount,
}

/// What happened to a phone passkey after registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyFate {
    InUse,
    NeverUsed,
    DeletedFromPhone,
}

/// The table.
pub const SHARES: Shares = Shares {
    kinds: &[
        (Kind::Employee, 940),
        (Kind::Guest, 50),
        (Kind::ServiceAccount, 10),
    ],
    locales: &[
        (0, 330), // en-US
        (1, 120), // en-GB
        (2, 250), // de-DE
        (3, 40),  // de-AT
        (4, 40),  // de-CH
        (5, 70),  // fr-FR
        (6, 40),  // nl-NL
        (7, 40),  // es-ES
        (8, 40),  // pl-PL
        (9, 30),  // en-IN
    ],
    no_phone_per_mille: 40,
    phone_platform: &[(Platform::Ios, 60), (Platform::Android, 40)],
    ios_versions: &[(18, 68), (17, 19), (16, 7), (15, 6)],
    android_versions: &[(15, 25), (14, 35), (13, 18), (12, 13), (11, 9)],
    android14_needs_15_per_mille: 250,
    android_work_profile_per_mille: 350,
    tablet_per_mille: 80,
    shift_worker_per_mille: 80,
    people_per_shared_desktop: 6,
    computer_platform: &[
        (Platform::Windows, 85),
        (Platform::MacOs, 12),
        (Platform::Linux, 3),
    ],
    windows_builds: &[
        (19044, 3),  // Windows 10 21H2
        (19045, 22), // Windows 10 22H2
        (22000, 2),  // Windows 11 21H2
        (22621, 8),  // Windows 11 22H2
        (22631, 30), // Windows 11 23H2
        (26100, 35), // Windows 11 24H2
    ],
    macos_versions: &[(15, 50), (14, 30), (13, 13), (12, 7)],
    windows_entra_joined_per_mille: 600,
    second_computer_per_mille: 100,
    windows_browsers: &[
        (Browser::Edge, 70),
        (Browser::Chrome, 27),
        (Browser::Firefox, 3),
    ],
    mac_browsers: &[
        (Browser::Safari, 50),
        (Browser::Chrome, 42),
        (Browser::Edge, 8),
    ],
    authenticator_per_mille: 850,
    sms_backup_per_mille: 300,
    whfb_per_mille: 550,
    whfb_pin_forgotten_per_mille: 120,
    authenticator_passkey_per_mille: 140,
    synced_passkey_per_mille: 40,
    passkey_states: &[
        (PasskeyFate::InUse, 62),
        (PasskeyFate::NeverUsed, 28),
        (PasskeyFate::DeletedFromPhone, 10),
    ],
    security_key_only_per_mille: 15,
    security_key_per_mille: 20,
    security_keys: &[
        (PasskeyModel::YubiKey5Nfc, 60),
        (PasskeyModel::YubiKey5, 30),
        (PasskeyModel::YubiKeyBio, 10),
    ],
    no_sign_ins_per_mille: 30,
    stuck_per_mille: 20,
    needs_15_tried_per_mille: 250,
    disabled_per_mille: 20,
    sign_in_failure_per_mille: 25,
    previously_satisfied_per_mille: 250,
    non_interactive_per_mille: 150,
    computer_browser_per_mille: 350,
    it_helpdesk_per_mille: 300,
    it_admin_per_mille: 100,
};

/// Given names and surnames for one language.
#[derive(Debug)]
pub struct NameTable {
    pub given: &'static [&'static str],
    pub surnames: &'static [&'static str],
}

const EN: NameTable = NameTable {
    given: &[
        "James",
        "Mary",
        "Robert",
        "Patricia",
        "John",
        "Jennifer",
        "Michael",
        "Linda",
        "David",
        "Elizabeth",
        "William",
        "Susan",
        "Richard",
        "Jessica",
        "Thomas",
        "Sarah",
        "Daniel",
        "Karen",
        "Oliver",
        "Amelia",
        "Harry",
        "Olivia",
        "George",
        "Emily",
        "Noah",
        "Sophie",
    ],
    surnames: &[
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
        "Clark", "Walker", "Wright", "Evans", "Thompson", "Roberts", "Hughes", "Edwards", "Green",
        "Hall", "Wood", "Harris", "Lewis", "Martin", "Jackson",
    ],
};

const DE: NameTable = NameTable {
    given: &[
        "Lukas",
        "Anna",
        "Jonas",
        "Lena",
        "Felix",
        "Laura",
        "Maximilian",
        "Julia",
        "Paul",
        "Sophie",
        "Leon",
        "Hannah",
        "Tobias",
        "Katharina",
        "Stefan",
        "Sabine",
        "Jürgen",
        "Ursula",
        "Matthias",
        "Claudia",
        "Florian",
        "Johanna",
        "Lea",
        "Moritz",
    ],
    surnames: &[
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Schäfer",
        "Koch",
        "Bauer",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Schwarz",
        "Zimmermann",
        "Braun",
        "Krüger",
        "Hofmann",
        "Huber",
    ],
};

const FR: NameTable = NameTable {
    given: &[
        "Gabriel", "Louise", "Raphaël", "Emma", "Léo", "Jade", "Louis", "Alice", "Hugo", "Chloé",
        "Arthur", "Léa", "Jules", "Manon", "Nathan", "Camille",
    ],
    surnames: &[
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fournier",
    ],
};

const NL: NameTable = NameTable {
    given: &[
        "Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Levi", "Sophie", "Finn", "Tess", "Bram",
        "Sanne", "Thijs", "Fleur",
    ],
    surnames: &[
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "van Dijk",
        "Bakker",
        "Janssen",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
    ],
};

const ES: NameTable = NameTable {
    given: &[
        "Hugo",
        "Lucía",
        "Martín",
        "Sofía",
        "Pablo",
        "María",
        "Daniel",
        "Paula",
        "Alejandro",
        "Carmen",
        "Javier",
        "Elena",
        "Sergio",
        "Marta",
    ],
    surnames: &[
        "García",
        "Rodríguez",
        "González",
        "Fernández",
        "López",
        "Martínez",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Martín",
        "Jiménez",
        "Ruiz",
        "Hernández",
        "Díaz",
    ],
};

const PL: NameTable = NameTable {
    given: &[
        "Jakub",
        "Zuzanna",
        "Jan",
        "Julia",
        "Antoni",
        "Maja",
        "Szymon",
        "Zofia",
        "Filip",
        "Hanna",
        "Piotr",
        "Agnieszka",
        "Tomasz",
        "Katarzyna",
    ],
    surnames: &[
        "Nowak",
        "Kowalski",
        "Wiśniewski",
        "Wójcik",
        "Kowalczyk",
        "Kamiński",
        "Lewandowski",
        "Zieliński",
        "Szymański",
        "Woźniak",
        "Dąbrowski",
        "Kozłowski",
        "Mazur",
        "Krawczyk",
    ],
};

const IN: NameTable = NameTable {
    given: &[
        "Aarav", "Ananya", "Vihaan", "Diya", "Arjun", "Priya", "Rohan", "Kavya", "Rahul", "Sneha",
        "Aditya", "Pooja", "Vikram", "Neha",
    ],
    surnames: &[
        "Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Rao", "Mehta",
        "Joshi", "Desai", "Kapoor", "Chopra",
    ],
};

/// Locales with their zones (standard-time offsets in minutes); indices used by
/// [`Shares::locales`].
pub const LOCALES: &[Locale] = &[
    Locale {
        tag: "en-US",
        usage_location: "US",
        zones: &[
            ("America/New_York", -300),
            ("America/Chicago", -360),
            ("America/Denver", -420),
            ("America/Los_Angeles", -480),
        ],
        names: &EN,
    },
    Locale {
        tag: "en-GB",
        usage_location: "GB",
        zones: &[("Europe/London", 0)],
        names: &EN,
    },
    Locale {
        tag: "de-DE",
        usage_location: "DE",
        zones: &[("Europe/Berlin", 60)],
        names: &DE,
    },
    Locale {
        tag: "de-AT",
        usage_location: "AT",
        zones: &[("Europe/Vienna", 60)],
        names: &DE,
    },
    Locale {
        tag: "de-CH",
        usage_location: "CH",
        zones: &[("Europe/Zurich", 60)],
        names: &DE,
    },
    Locale {
        tag: "fr-FR",
        usage_location: "FR",
        zones: &[("Europe/Paris", 60)],
        names: &FR,
    },
    Locale {
        tag: "nl-NL",
        usage_location: "NL",
        zones: &[("Europe/Amsterdam", 60)],
        names: &NL,
    },
    Locale {
        tag: "es-ES",
        usage_location: "ES",
        zones: &[("Europe/Madrid", 60)],
        names: &ES,
    },
    Locale {
        tag: "pl-PL",
        usage_location: "PL",
        zones: &[("Europe/Warsaw", 60)],
        names: &PL,
    },
    Locale {
        tag: "en-IN",
        usage_location: "IN",
        zones: &[("Asia/Kolkata", 330)],
        names: &IN,
    },
];

/// A department with its weight, job titles and whether its people work shifts.
#[derive(Debug)]
pub struct Department {
    pub name: &'static str,
    pub weight: u32,
    pub jobs: &'static [&'static str],
    pub shifts: bool,
}

/// Departments. Judgement: a manufacturing/services company.
pub const DEPARTMENTS: &[Department] = &[
    Department {
        name: "Sales",
        weight: 14,
        jobs: &[
            "Account Executive",
            "Sales Manager",
            "Inside Sales Representative",
        ],
        shifts: false,
    },
    Department {
        name: "Marketing",
        weight: 6,
        jobs: &[
            "Marketing Manager",
            "Content Specialist",
            "Campaign Analyst",
        ],
        shifts: false,
    },
    Department {
        name: "Finance",
        weight: 7,
        jobs: &["Accountant", "Financial Analyst", "Controller"],
        shifts: false,
    },
    Department {
        name: "Human Resources",
        weight: 4,
        jobs: &["HR Business Partner", "Recruiter", "Payroll Specialist"],
        shifts: false,
    },
    Department {
        name: "IT",
        weight: 6,
        jobs: &[
            "Service Desk Analyst",
            "Identity Administrator",
            "Systems Engineer",
            "Network Engineer",
            "Software Developer",
        ],
        shifts: false,
    },
    Department {
        name: "Engineering",
        weight: 14,
        jobs: &[
            "Mechanical Engineer",
            "Electrical Engineer",
            "Project Engineer",
        ],
        shifts: false,
    },
    Department {
        name: "Research",
        weight: 6,
        jobs: &["Research Scientist", "Lab Technician"],
        shifts: false,
    },
    Department {
        name: "Legal",
        weight: 2,
        jobs: &["Legal Counsel", "Compliance Officer"],
        shifts: false,
    },
    Department {
        name: "Customer Service",
        weight: 10,
        jobs: &["Customer Service Agent", "Team Lead Customer Service"],
        shifts: true,
    },
    Department {
        name: "Production",
        weight: 16,
        jobs: &[
            "Production Operator",
            "Shift Supervisor",
            "Quality Inspector",
        ],
        shifts: true,
    },
    Department {
        name: "Logistics",
        weight: 9,
        jobs: &["Warehouse Associate", "Logistics Coordinator", "Dispatcher"],
        shifts: true,
    },
    Department {
        name: "Management",
        weight: 2,
        jobs: &["Director", "Vice President", "Chief of Staff"],
        shifts: false,
    },
];

/// The IT job that puts people in the helpdesk group, and the one for the admin group.
pub const HELPDESK_JOB: &str = "Service Desk Analyst";
pub const ADMIN_JOB: &str = "Identity Administrator";

/// iPhone models by the newest iOS major they run: phones stuck on 15 or 16 are the old
/// models that Apple stopped updating (6s/7/SE 1 end at 15; 8/X end at 16).
pub fn iphone_models(ios_major: u16) -> &'static [&'static str] {
    match ios_major {
        15 => &["iPhone 7", "iPhone 7 Plus", "iPhone 6s", "iPhone SE"],
        16 => &["iPhone 8", "iPhone 8 Plus", "iPhone X"],
        _ => &[
            "iPhone 12",
            "iPhone 13",
            "iPhone 14",
            "iPhone 15",
            "iPhone 15 Pro",
            "iPhone 16",
            "iPhone SE (3rd generation)",
            "iPhone 13 mini",
        ],
    }
}

/// Android 14 models that need Android 15 before Microsoft Authenticator is offered as a
/// passkey provider. The reference could not verify a model list (only Samsung One UI 6
/// provider problems are reported [C]), so this table is illustrative: mid-range Samsung and
/// Xiaomi models that shipped with or stayed on Android 14 for long. Keep it a data table.
pub const ANDROID_14_NEEDS_15: &[(&str, &str)] = &[
    ("samsung", "Galaxy A14"),
    ("samsung", "Galaxy A24"),
    ("samsung", "Galaxy A34"),
    ("samsung", "Galaxy M34"),
    ("samsung", "Galaxy S21 FE"),
    ("Xiaomi", "Redmi Note 12"),
    ("Xiaomi", "Redmi 12"),
    ("Xiaomi", "POCO X5"),
];

/// Android models that run passkeys in Authenticator fine on their version.
pub const ANDROID_MODELS: &[(&str, &str)] = &[
    ("Google", "Pixel 7"),
    ("Google", "Pixel 8"),
    ("Google", "Pixel 8a"),
    ("Google", "Pixel 9"),
    ("samsung", "Galaxy S23"),
    ("samsung", "Galaxy S24"),
    ("samsung", "Galaxy A54"),
    ("motorola", "moto g84"),
    ("OnePlus", "OnePlus 12"),
    ("Nokia", "Nokia G42"),
];

/// Older Android models for versions 11–13.
pub const ANDROID_OLD_MODELS: &[(&str, &str)] = &[
    ("samsung", "Galaxy A52"),
    ("samsung", "Galaxy A12"),
    ("samsung", "Galaxy S10"),
    ("Google", "Pixel 4a"),
    ("Xiaomi", "Redmi Note 10"),
    ("motorola", "moto g31"),
    ("HUAWEI", "P30 lite"),
];

/// Windows computer models.
pub const WINDOWS_MODELS: &[(&str, &str)] = &[
    ("LENOVO", "ThinkPad T14 Gen 3"),
    ("LENOVO", "ThinkPad X1 Carbon Gen 11"),
    ("Dell Inc.", "Latitude 5440"),
    ("Dell Inc.", "OptiPlex 7010"),
    ("HP", "EliteBook 840 G9"),
    ("Microsoft Corporation", "Surface Laptop 5"),
];

/// Mac models.
pub const MAC_MODELS: &[&str] = &["MacBook Pro", "MacBook Air", "iMac", "Mac mini"];

/// Microsoft Authenticator versions seen as `phoneAppVersion`.
pub const AUTHENTICATOR_VERSIONS: &[&str] = &[
    "6.2409.6094",
    "6.2410.7175",
    "6.2501.0123",
    "6.2503.1712",
    "6.2505.2988",
];

/// Builds whose revision ranges the generator draws from (the cumulative updates of 2025/26).
pub fn windows_revision_range(build: u32) -> (u32, u32) {
    match build {
        19044 | 19045 => (5011, 6456),
        22000 => (2538, 3260),
        22621 | 22631 => (4317, 5909),
        _ => (2894, 6584),
    }
}
