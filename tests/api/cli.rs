//! The binary as an operator uses it.

use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_passkey-pilot"));
    // Start from a clean environment so the developer's own settings do not leak in.
    for (k, _) in std::env::vars() {
        if k.starts_with("PASSKEY_PILOT__") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn version_prints_the_crate_version() {
    let out = bin().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("passkey-pilot {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config_redacts_secrets_and_a_bad_value_exits_2_naming_key_and_origin() {
    let out = bin()
        .arg("check-config")
        .env(
            "PASSKEY_PILOT__BOT__APP_PASSWORD",
            "s3cret-value-never-printed",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("app_password = \"[redacted]\""), "{stdout}");
    assert!(!stdout.contains("s3cret"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[log]\nformat = \"xml\"\n").unwrap();
    let out = bin()
        .arg("check-config")
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`log.format`") && stderr.contains(&format!("{} line 2", file.display())),
        "{stderr}"
    );

    let out = bin()
        .arg("check-config")
        .env("PASSKEY_PILOT__STORE__MAX_CONNECTIONS", "many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`store.max_connections`")
            && stderr.contains("PASSKEY_PILOT__STORE__MAX_CONNECTIONS"),
        "{stderr}"
    );

    let out = bin()
        .arg("check-config")
        .arg("--config")
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serve_on_built_in_defaults_answers_healthz_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .arg("serve")
        .current_dir(dir.path())
        .env("PASSKEY_PILOT__SERVER__BIND", format!("127.0.0.1:{port}"))
        // No network here: point the signing-key metadata at a closed port.
        .env(
            "PASSKEY_PILOT__BOT__OPENID_METADATA_URL",
            "http://127.0.0.1:9/v1/.well-known/openidconfiguration",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut healthy = false;
    for _ in 0..200 {
        if let Ok(r) = reqwest::blocking_get(&format!("http://127.0.0.1:{port}/healthz")) {
            healthy = r == "ok";
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = wait(&mut child, Duration::from_secs(15));
    assert!(healthy, "serve did not answer /healthz");
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "serve did not stop cleanly on SIGTERM"
    );
    assert!(
        dir.path().join("passkey-pilot.db").exists(),
        "the default SQLite store was not created"
    );
}

fn wait(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

mod reqwest {
    /// A tiny blocking GET over std, so this test needs no runtime.
    pub fn blocking_get(url: &str) -> std::io::Result<String> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut s = std::net::TcpStream::connect(host)?;
        write!(
            s,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        Ok(buf.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
    }
}

#[test]
fn migrate_applies_the_migrations_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    for _ in 0..2 {
        let out = bin()
            .arg("migrate")
            .env("PASSKEY_PILOT__STORE__URL", &url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("3 migrations applied"), "{stdout}");
    }
    let out = bin()
        .arg("migrate")
        .env("PASSKEY_PILOT__STORE__URL", "mysql://nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not sqlite://"));
}

/// Reads `KEY='value'` lines as written by `passkey-pilot sim --env-file`.
fn parse_env_file(text: &str) -> std::collections::HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

#[tokio::test]
async fn sim_prints_settings_whose_graph_credentials_work_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("sim.env");
    let mut child = bin()
        .args(["sim", "--users", "50", "--seed", "3", "--env-file"])
        .arg(&env_file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    for _ in 0..200 {
        if let Ok(t) = std::fs::read_to_string(&env_file)
            && t.ends_with('\n')
            && t.contains("GRAPH__TOKEN_URL")
        {
            text = t;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let env = parse_env_file(&text);
    let get = |k: &str| {
        env.get(&format!("PASSKEY_PILOT__{k}"))
            .unwrap_or_else(|| panic!("{k} missing from {text}"))
            .clone()
    };
    let http = ::reqwest::Client::new();
    let token: serde_json::Value = http
        .post(get("GRAPH__TOKEN_URL"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", get("GRAPH__CLIENT_ID").as_str()),
            ("client_secret", get("GRAPH__CLIENT_SECRET").as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().expect("a Graph token");
    let users: serde_json::Value = http
        .get(format!("{}/v1.0/users?$top=5", get("GRAPH__BASE_URL")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["value"].as_array().map(Vec::len), Some(5), "{users}");
    assert!(get("BOT__OPENID_METADATA_URL").starts_with("http://127.0.0.1:"));

    // The same seed gives the same tenant: the printed tenant id is stable.
    assert_eq!(get("GRAPH__TENANT_ID"), get("BOT__TENANT_ID"));

    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = exited.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("sim did not stop on SIGTERM")
    });
    assert!(status.success(), "{status}");
}

#[test]
fn cards_writes_the_sample_journey_and_refuses_an_unknown_language() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["cards", "--lang", "de", "--out"])
        .arg(dir.path().join("cards"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("cards"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "01-welcome.json");
    let welcome: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("cards/01-welcome.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(welcome["type"], "AdaptiveCard");
    assert!(welcome.to_string().contains("Jürgen"));

    let out = bin()
        .args(["cards", "--lang", "fr", "--out"])
        .arg(dir.path().join("fr"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("fr").exists());
}
