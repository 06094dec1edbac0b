//! Devices from sign-ins: the device key, desktop app vs browser, and what user agents and
//! Graph's device objects say about the operating system.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::snapshot::{OsFamily, SignIn};

/// The app id of "Windows Sign In": the sign-in to Windows itself, not an app.
pub const WINDOWS_SIGN_IN_APP_ID: &str = "38aa3b87-a06d-4817-b275-7a316988d93b";

/// Identifies one device a person uses. Registered devices by their Entra device id;
/// unregistered ones by what the sign-in log can tell apart: OS, client and the user agent's
/// platform part (so a desktop app and a browser on one unregistered computer are two keys).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "camelCase")]
pub enum DeviceKey {
    #[serde(rename_all = "camelCase")]
    Registered { device_id: String },
    #[serde(rename_all = "camelCase")]
    Unregistered {
        os: OsFamily,
        client: Client,
        /// The user agent's platform part (`iPhone OS 16_7`, `Android 13; Pixel 4a`), empty
        /// when there is none.
        platform: String,
    },
}

impl fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceKey::Registered { device_id } => write!(f, "device:{device_id}"),
            DeviceKey::Unregistered {
                os,
                client,
                platform,
            } => write!(f, "unregistered:{os:?}:{client:?}:{platform}"),
        }
    }
}

/// A browser family or a native app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Client {
    App,
    Edge,
    Chrome,
    Safari,
    Firefox,
    OtherBrowser,
}

/// How a sign-in reached Entra on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Channel {
    /// Signing in to Windows itself (WHFB or password at the lock screen).
    DeviceLogon,
    /// A desktop or mobile app (Teams, Outlook, OneDrive…).
    App,
    /// A browser.
    Browser { browser: Client },
}

/// What one sign-in says about its device and channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignInFacts {
    pub key: DeviceKey,
    pub channel: Channel,
    /// Browser major version (Chrome/Edge/Firefox/Safari), when a browser.
    pub browser_major: Option<u32>,
    pub os: OsFamily,
    /// OS version from the user agent (iOS and Android only; never Windows builds).
    pub os_version: Option<Version>,
    /// Device model from an Android user agent.
    pub model: Option<String>,
}

impl SignInFacts {
    pub fn of(s: &SignIn) -> SignInFacts {
        let ua = s.user_agent.as_deref().unwrap_or("");
        let ua_platform = UaPlatform::parse(ua);
        let os = s
            .device
            .operating_system
            .as_deref()
            .filter(|o| !o.trim().is_empty())
            .map(OsFamily::from_graph)
            .filter(|o| *o != OsFamily::Other)
            .unwrap_or(ua_platform.os);
        let (browser, browser_major) = browser_of(s.device.browser.as_deref(), ua);
        let channel = if s.app_id.eq_ignore_ascii_case(WINDOWS_SIGN_IN_APP_ID)
            || ua.starts_with("Windows-AzureAD-Authentication-Provider")
        {
            Channel::DeviceLogon
        } else {
            match s.client_app_used.as_deref().map(str::trim) {
                Some(c) if c.eq_ignore_ascii_case("Browser") => Channel::Browser {
                    browser: browser.unwrap_or(Client::OtherBrowser),
                },
                Some(c)
                    if c.to_ascii_lowercase()
                        .starts_with("mobile apps and desktop") =>
                {
                    Channel::App
                }
                _ => match browser {
                    Some(b) if !is_rich_client(s.device.browser.as_deref()) => {
                        Channel::Browser { browser: b }
                    }
                    _ => Channel::App,
                },
            }
        };
        let device_id = s
            .device
            .device_id
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "00000000-0000-0000-0000-000000000000");
        let key = match device_id {
            Some(id) => DeviceKey::Registered {
                device_id: id.to_ascii_lowercase(),
            },
            None => DeviceKey::Unregistered {
                os,
                client: match channel {
                    Channel::Browser { browser } => browser,
                    _ => Client::App,
                },
                platform: ua_platform.token.clone(),
            },
        };
        SignInFacts {
            key,
            channel,
            browser_major: matches!(channel, Channel::Browser { .. })
                .then_some(browser_major)
                .flatten(),
            os,
            os_version: ua_platform.version,
            model: ua_platform.model,
        }
    }
}

fn is_rich_client(detail: Option<&str>) -> bool {
    detail.is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("rich client"))
}

/// Browser family and major version from `deviceDetail.browser`, else from the user agent.
fn browser_of(detail: Option<&str>, ua: &str) -> (Option<Client>, Option<u32>) {
    if let Some(d) = detail.map(str::trim).filter(|d| !d.is_empty())
        && !is_rich_client(Some(d))
    {
        let lower = d.to_ascii_lowercase();
        let family = if lower.starts_with("edge") {
            Some(Client::Edge)
        } else if lower.starts_with("chrome") {
            Some(Client::Chrome)
        } else if lower.contains("safari") {
            Some(Client::Safari)
        } else if lower.starts_with("firefox") {
            Some(Client::Firefox)
        } else {
            None
        };
        if family.is_some() {
            let major = d
                .split_whitespace()
                .find_map(|w| w.split('.').next()?.parse::<u32>().ok())
                .or_else(|| ua_browser(ua).1);
            return (family, major);
        }
    }
    ua_browser(ua)
}

/// Browser family and major from a user agent (`Edg/130`, `Chrome/128`, `Firefox/132`,
/// `Version/18.1 … Safari`).
fn ua_browser(ua: &str) -> (Option<Client>, Option<u32>) {
    let major_after = |marker: &str| {
        ua.find(marker).and_then(|i| {
            ua[i + marker.len()..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u32>()
                .ok()
        })
    };
    if let Some(v) = major_after("Edg/")
        .or_else(|| major_after("EdgA/"))
        .or_else(|| major_after("EdgiOS/"))
    {
        return (Some(Client::Edge), Some(v));
    }
    if let Some(v) = major_after("Firefox/") {
        return (Some(Client::Firefox), Some(v));
    }
    if let Some(v) = major_after("CriOS/").or_else(|| major_after("Chrome/")) {
        return (Some(Client::Chrome), Some(v));
    }
    if ua.contains("Safari/") {
        return (Some(Client::Safari), major_after("Version/"));
    }
    (None, None)
}

/// A dotted version (`17.5.1`, `10.0.22631.4890`, `14`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Version(pub Vec<u32>);

impl Version {
    pub fn parse(raw: &str) -> Option<Version> {
        let parts: Vec<u32> = raw
            .trim()
            .split(['.', '_'])
            .map_while(|p| p.trim().parse::<u32>().ok())
            .collect();
        (!parts.is_empty()).then_some(Version(parts))
    }

    pub fn major(&self) -> u32 {
        self.0[0]
    }

    /// The build of a Windows version string `10.0.BUILD.REVISION`.
    pub fn windows_build(&self) -> Option<u32> {
        (self.0.len() >= 3).then(|| self.0[2])
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

/// The platform part of a user agent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UaPlatform {
    os: OsFamily,
    token: String,
    version: Option<Version>,
    model: Option<String>,
}

impl UaPlatform {
    fn parse(ua: &str) -> UaPlatform {
        let none = |os| UaPlatform {
            os,
            token: String::new(),
            version: None,
            model: None,
        };
        // iOS: "iPhone OS 16_7", "CPU OS 17_3" (iPad), "(iOS 16.7" (Microsoft apps).
        for marker in ["iPhone OS ", "CPU OS ", "(iOS "] {
            if let Some(i) = ua.find(marker) {
                let rest = &ua[i + marker.len()..];
                let raw: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == '.')
                    .collect();
                let version = Version::parse(&raw);
                let token = format!(
                    "iOS {}",
                    version.as_ref().map(|v| v.to_string()).unwrap_or_default()
                );
                return UaPlatform {
                    os: OsFamily::Ios,
                    token,
                    version,
                    model: None,
                };
            }
        }
        if let Some(i) = ua.find("Android") {
            let rest = ua[i + "Android".len()..].trim_start();
            let raw: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let version = Version::parse(&raw);
            let after = rest[raw.len()..].trim_start_matches([';', ' ']);
            let model = after
                .split([';', ')'])
                .next()
                .map(str::trim)
                .filter(|m| !m.is_empty() && *m != "K" && !m.starts_with("wv"))
                .map(str::to_owned);
            let token = format!(
                "Android {}{}",
                version.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                model.as_ref().map(|m| format!("; {m}")).unwrap_or_default()
            );
            return UaPlatform {
                os: OsFamily::Android,
                token,
                version,
                model,
            };
        }
        if ua.contains("Windows NT") || ua.starts_with("Windows-") {
            return UaPlatform {
                token: "Windows".into(),
                ..none(OsFamily::Windows)
            };
        }
        if ua.contains("Macintosh") || ua.contains("Mac OS X") {
            return UaPlatform {
                token: "macOS".into(),
                ..none(OsFamily::MacOs)
            };
        }
        if ua.contains("Linux") || ua.contains("X11") {
            return UaPlatform {
                token: "Linux".into(),
                ..none(OsFamily::Linux)
            };
        }
        none(OsFamily::Other)
    }
}

/// Which Windows a build is, from the build number only (reference/graph.md §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsRelease {
    pub build: u32,
    pub windows_11: bool,
    /// Feature update (`22H2`, `23H2`…) where the build is a known one.
    pub feature_update: Option<String>,
}

impl WindowsRelease {
    pub fn from_build(build: u32, windows_11_build: u32) -> WindowsRelease {
        let feature = match build {
            19041 => Some("2004"),
            19042 => Some("20H2"),
            19043 => Some("21H1"),
            19044 => Some("21H2"),
            19045 => Some("22H2"),
            22000 => Some("21H2"),
            22621 => Some("22H2"),
            22631 => Some("23H2"),
            26100 => Some("24H2"),
            26200 => Some("25H2"),
            _ => None,
        };
        WindowsRelease {
            build,
            windows_11: build >= windows_11_build,
            feature_update: feature.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readiness::snapshot::SignInDevice;

    fn sign_in(ua: &str, client: &str, browser: &str, os: &str, device_id: &str) -> SignIn {
        SignIn {
            at: jiff::Timestamp::UNIX_EPOCH,
            app_id: "1fec8e78-bce4-4aaf-ab1b-5451cc387264".into(),
            app_display_name: None,
            interactive: true,
            device: SignInDevice {
                device_id: Some(device_id.into()),
                display_name: None,
                operating_system: Some(os.into()),
                browser: Some(browser.into()),
            },
            user_agent: Some(ua.into()),
            client_app_used: Some(client.into()),
            steps: vec![],
            error_code: 0,
        }
    }

    #[test]
    fn a_registered_device_is_keyed_by_its_device_id_in_lower_case() {
        let f = SignInFacts::of(&sign_in(
            "x",
            "Browser",
            "Edge 130.0.0",
            "Windows 10",
            "ABC-1",
        ));
        assert_eq!(
            f.key,
            DeviceKey::Registered {
                device_id: "abc-1".into()
            }
        );
        assert_eq!(
            f.channel,
            Channel::Browser {
                browser: Client::Edge
            }
        );
        assert_eq!(f.browser_major, Some(130));
    }

    #[test]
    fn desktop_app_and_browser_are_told_apart_by_client_app_used() {
        let app = SignInFacts::of(&sign_in(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0.0.0 Edg/130.0.0.0 Teams/24295",
            "Mobile Apps and Desktop clients",
            "Rich Client 5.2.0",
            "Windows 10",
            "",
        ));
        assert_eq!(app.channel, Channel::App);
        assert!(matches!(
            app.key,
            DeviceKey::Unregistered {
                client: Client::App,
                os: OsFamily::Windows,
                ..
            }
        ));
    }

    #[test]
    fn user_agents_give_ios_and_android_versions_and_models() {
        let ios = SignInFacts::of(&sign_in(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 Version/16.7 Mobile/15E148 Safari/604.1",
            "Browser",
            "Mobile Safari",
            "Ios",
            "",
        ));
        assert_eq!(ios.os, OsFamily::Ios);
        assert_eq!(ios.os_version, Version::parse("16.7"));
        let android = SignInFacts::of(&sign_in(
            "Teams/1416/1.0.0.2024 (Android 13; Galaxy A52)",
            "Mobile Apps and Desktop clients",
            "Rich Client 5.2.0",
            "Android",
            "",
        ));
        assert_eq!(android.os_version, Version::parse("13"));
        assert_eq!(android.model.as_deref(), Some("Galaxy A52"));
    }

    #[test]
    fn windows_builds_name_the_release() {
        let r = WindowsRelease::from_build(22631, 22000);
        assert!(r.windows_11);
        assert_eq!(r.feature_update.as_deref(), Some("23H2"));
        assert!(!WindowsRelease::from_build(19045, 22000).windows_11);
        assert_eq!(
            Version::parse("10.0.22631.4890").and_then(|v| v.windows_build()),
            Some(22631)
        );
    }
}
