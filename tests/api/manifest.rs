//! The Teams app package built by `passkey_pilot::manifest::build_package`.
//!
//! `tests/fixtures/teams-manifest/MicrosoftTeams.schema.v1_24.json` is an unmodified copy of
//! `build/json-schemas/teams/v1.24/MicrosoftTeams.schema.json` from the npm package
//! `@microsoft/app-manifest` 1.1.2 (MIT), the schemas Microsoft's Teams tooling validates with.
//! When `manifest/manifest.json` moves to another `manifestVersion`, vendor that version's
//! schema beside it; the test refuses a manifest whose version does not match the fixture.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::path::Path;

use passkey_pilot::config::{Config, load_from};
use passkey_pilot::manifest::{ManifestError, build_package, render_manifest};
use serde_json::{Value, json};

const SCHEMA: &str = include_str!("../fixtures/teams-manifest/MicrosoftTeams.schema.v1_24.json");
const SCHEMA_VERSION: &str = "1.24";
/// Upper case on purpose: the package carries the normalised lower-case form.
const APP_ID: &str = "6F1C3C1E-2A4B-4C7E-9D61-3B0F2A9E8C11";
const APP_ID_LOWER: &str = "6f1c3c1e-2a4b-4c7e-9d61-3b0f2a9e8c11";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn config(pairs: &[(&str, &str)]) -> Config {
    load_from(None, env(pairs)).expect("test config loads").0
}

fn configured() -> Config {
    config(&[
        ("PASSKEY_PILOT__BOT__APP_ID", APP_ID),
        (
            "PASSKEY_PILOT__SERVER__PUBLIC_URL",
            "https://Bot.Contoso.com:8443/teams",
        ),
        ("PASSKEY_PILOT__MANIFEST__VERSION", "2.3.14"),
        (
            "PASSKEY_PILOT__MANIFEST__DEVELOPER_NAME",
            "Contoso \"IT\" Security",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__WEBSITE_URL",
            "https://it.contoso.com/passkeys",
        ),
        ("PASSKEY_PILOT__MANIFEST__ACCENT_COLOR", "#123abc"),
    ])
}

/// The Teams manifest schema (JSON Schema draft-04, formats checked as Microsoft's ajv does).
fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema fixture is JSON");
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the Teams manifest schema compiles (look-ahead and \\p{L} patterns included)")
}

fn schema_errors(validator: &jsonschema::Validator, manifest: &Value) -> Vec<String> {
    validator
        .iter_errors(manifest)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn unzip(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).expect("package written");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("package is a zip");
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().expect("UTF-8 entry name").into_owned();
        assert!(entry.is_file(), "{name} is not a file");
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        assert!(files.insert(name, data).is_none(), "duplicate entry");
    }
    files
}

struct Image {
    width: u32,
    height: u32,
    color_type: png::ColorType,
    pixels: Vec<u8>,
}

fn decode_png(bytes: &[u8]) -> Image {
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("small image")];
    let info = reader.next_frame(&mut pixels).expect("PNG decodes");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    pixels.truncate(info.buffer_size());
    Image {
        width: info.width,
        height: info.height,
        color_type: info.color_type,
        pixels,
    }
}

fn commands(bot: &Value, scope: &str) -> Vec<String> {
    let lists: Vec<&Value> = bot["commandLists"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["scopes"] == json!([scope]))
        .collect();
    assert_eq!(lists.len(), 1, "one command list for {scope}");
    lists[0]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_package_holds_a_schema_valid_manifest_and_both_icons_at_its_root() {
    let config = configured();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("passkey-pilot.zip");
    let summary = build_package(&config, &out).unwrap();

    assert_eq!(summary.path, out);
    assert_eq!(summary.bytes, std::fs::metadata(&out).unwrap().len());
    assert_eq!(summary.files, ["manifest.json", "color.png", "outline.png"]);
    assert_eq!(summary.app_id, APP_ID_LOWER);
    assert_eq!(summary.version, "2.3.14");
    assert_eq!(summary.manifest_version, SCHEMA_VERSION);
    assert_eq!(summary.valid_domains, ["bot.contoso.com"]);
    assert!(summary.to_string().contains(APP_ID_LOWER), "{summary}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only the zip is left behind");

    let files = unzip(&out);
    assert_eq!(
        files.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["manifest.json", "color.png", "outline.png"])
    );
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let errors = schema_errors(&schema_validator(), &manifest);
    assert!(errors.is_empty(), "manifest breaks the schema: {errors:#?}");
    assert_eq!(manifest, render_manifest(&config).unwrap());

    // The fixture's version is the manifest's version. The schema says so with `const`, a
    // keyword draft-04 does not have (ajv enforces it, the jsonschema crate in draft-04 mode
    // does not), so check it here.
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    assert_eq!(
        schema["properties"]["manifestVersion"]["const"],
        SCHEMA_VERSION
    );
    assert_eq!(manifest["manifestVersion"], SCHEMA_VERSION);
    assert_eq!(
        manifest["$schema"],
        format!(
            "https://developer.microsoft.com/json-schemas/teams/v{SCHEMA_VERSION}/MicrosoftTeams.schema.json"
        )
    );

    // Filled from the configuration.
    assert_eq!(manifest["id"], APP_ID_LOWER);
    let bots = manifest["bots"].as_array().unwrap();
    assert_eq!(bots.len(), 1);
    assert_eq!(bots[0]["botId"], APP_ID_LOWER);
    assert_eq!(manifest["validDomains"], json!(["bot.contoso.com"]));
    assert_eq!(manifest["version"], "2.3.14");
    assert_eq!(manifest["accentColor"], "#123abc");
    assert_eq!(
        manifest["developer"],
        json!({
            "name": "Contoso \"IT\" Security",
            "websiteUrl": "https://it.contoso.com/passkeys",
            "privacyUrl": "https://intranet.example.com/passkeys/privacy",
            "termsOfUseUrl": "https://intranet.example.com/passkeys/terms",
        })
    );
    assert!(!manifest.to_string().contains("{{"), "no placeholder left");

    // What the bot is.
    assert_eq!(manifest["name"]["short"], "Passkey Pilot");
    assert_eq!(bots[0]["scopes"], json!(["personal", "team"]));
    assert_eq!(
        commands(&bots[0], "personal"),
        ["start", "status", "help", "snooze"]
    );
    assert_eq!(commands(&bots[0], "team"), ["status", "nudge", "summary"]);
    assert_eq!(
        manifest["permissions"],
        json!(["identity", "messageTeamMembers"])
    );
    assert_eq!(manifest["defaultInstallScope"], "personal");

    // The icons the manifest names are the ones in the zip.
    assert_eq!(
        manifest["icons"],
        json!({"color": "color.png", "outline": "outline.png"})
    );
    assert_eq!(files["color.png"], passkey_pilot::manifest::COLOR_ICON);
    assert_eq!(files["outline.png"], passkey_pilot::manifest::OUTLINE_ICON);
}

#[test]
fn the_icons_have_the_sizes_and_colours_teams_requires() {
    let config = configured();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.zip");
    build_package(&config, &out).unwrap();
    let files = unzip(&out);

    let color = decode_png(&files["color.png"]);
    assert_eq!((color.width, color.height), (192, 192));
    assert!(
        matches!(color.color_type, png::ColorType::Rgb | png::ColorType::Rgba),
        "full colour, got {:?}",
        color.color_type
    );
    let channels = if color.color_type == png::ColorType::Rgb {
        3
    } else {
        4
    };
    let distinct: BTreeSet<&[u8]> = color.pixels.chunks(channels).map(|p| &p[..3]).collect();
    assert!(distinct.len() > 2, "a picture, not a flat square");

    let outline = decode_png(&files["outline.png"]);
    assert_eq!((outline.width, outline.height), (32, 32));
    assert_eq!(
        outline.color_type,
        png::ColorType::Rgba,
        "needs an alpha channel"
    );
    let pixels: Vec<&[u8]> = outline.pixels.chunks(4).collect();
    assert_eq!(pixels.len(), 32 * 32);
    for (i, p) in pixels.iter().enumerate() {
        assert!(
            p[3] == 0 || p[..3] == [255, 255, 255],
            "outline pixel ({}, {}) is {p:?}: only white or transparent allowed",
            i % 32,
            i / 32
        );
    }
    for corner in [0, 31, 32 * 31, 32 * 32 - 1] {
        assert_eq!(pixels[corner][3], 0, "transparent background");
    }
    let opaque = pixels.iter().filter(|p| p[3] == 255).count();
    let clear = pixels.iter().filter(|p| p[3] == 0).count();
    assert!(
        opaque > 100,
        "a visible white outline ({opaque} opaque pixels)"
    );
    assert!(clear > 400, "mostly transparent ({clear} clear pixels)");
}

/// What is broken, and how.
type Mutation = (&'static str, fn(&mut Value));

#[test]
fn the_schema_check_is_live_a_broken_manifest_fails_it() {
    let validator = schema_validator();
    let good = render_manifest(&configured()).unwrap();
    assert!(schema_errors(&validator, &good).is_empty());

    let mutations: Vec<Mutation> = vec![
        ("no developer", |m| {
            m.as_object_mut().unwrap().remove("developer");
        }),
        ("accent colour not #rrggbb", |m| {
            m["accentColor"] = json!("blue")
        }),
        ("app id not a GUID", |m| m["id"] = json!("passkey-pilot")),
        ("bot id not a GUID", |m| m["bots"][0]["botId"] = json!("")),
        ("unknown property", |m| m["colour"] = json!("#0F6CBD")),
        ("unknown scope", |m| {
            m["bots"][0]["scopes"] = json!(["everyone"])
        }),
        ("short name over 30", |m| {
            m["name"]["short"] = json!("Passkey Pilot for the whole company")
        }),
        ("website not http(s)", |m| {
            m["developer"]["websiteUrl"] = json!("ftp://it.contoso.com")
        }),
        ("three permissions", |m| {
            m["permissions"] = json!(["identity", "messageTeamMembers", "identity"])
        }),
        ("$schema not a URI (format check)", |m| {
            m["$schema"] = json!("not a uri")
        }),
    ];
    for (what, mutate) in mutations {
        let mut broken = good.clone();
        mutate(&mut broken);
        assert!(
            !schema_errors(&validator, &broken).is_empty(),
            "schema accepted a manifest with {what}"
        );
    }
}

#[test]
fn without_an_app_id_no_package_is_built() {
    let config = Config::defaults();
    assert!(config.bot.app_id.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.zip");
    let err = build_package(&config, &out).unwrap_err();
    assert!(matches!(err, ManifestError::MissingAppId), "{err:?}");
    assert!(err.to_string().contains("`bot.app_id`"), "{err}");
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(matches!(
        render_manifest(&config),
        Err(ManifestError::MissingAppId)
    ));
}

#[test]
fn without_a_public_url_valid_domains_is_empty() {
    let config = config(&[("PASSKEY_PILOT__BOT__APP_ID", APP_ID)]);
    assert!(config.server.public_url.is_empty());
    let manifest = render_manifest(&config).unwrap();
    assert_eq!(manifest["validDomains"], json!([]));
    assert_eq!(manifest["version"], "1.0.0");
    assert_eq!(manifest["accentColor"], "#0F6CBD");
    let errors = schema_errors(&schema_validator(), &manifest);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_same_config_builds_the_same_bytes_and_replaces_the_old_file() {
    let config = configured();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
    std::fs::write(&b, b"an older package").unwrap();
    build_package(&config, &a).unwrap();
    build_package(&config, &b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn an_unwritable_destination_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing-dir").join("app.zip");
    let err = build_package(&configured(), &out).unwrap_err();
    assert!(matches!(err, ManifestError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
}

#[test]
fn bad_manifest_settings_are_refused_at_load_naming_key_and_origin() {
    for (var, value, key) in [
        (
            "PASSKEY_PILOT__MANIFEST__VERSION",
            "1.0",
            "manifest.version",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__VERSION",
            "1.0.0-beta",
            "manifest.version",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__VERSION",
            "1.01.0",
            "manifest.version",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__DEVELOPER_NAME",
            "The Identity and Access Management Team",
            "manifest.developer_name",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__DEVELOPER_NAME",
            " ",
            "manifest.developer_name",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__WEBSITE_URL",
            "http://intranet.example.com",
            "manifest.website_url",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__PRIVACY_URL",
            "",
            "manifest.privacy_url",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__TERMS_URL",
            "terms.html",
            "manifest.terms_url",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__ACCENT_COLOR",
            "blue",
            "manifest.accent_color",
        ),
        (
            "PASSKEY_PILOT__MANIFEST__ACCENT_COLOR",
            "#0F6CB",
            "manifest.accent_color",
        ),
    ] {
        let err = load_from(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`{key}`")), "{value:?}: {err}");
        assert!(err.contains(var), "{value:?}: {err}");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[manifest]\nversion = \"1\"\n").unwrap();
    let err = load_from(Some(&file), vec![]).unwrap_err().to_string();
    assert!(err.contains("`manifest.version`"), "{err}");
    assert!(err.contains(&format!("{} line 2", file.display())), "{err}");

    std::fs::write(&file, "[manifest]\nicon = \"key.png\"\n").unwrap();
    let err = load_from(Some(&file), vec![]).unwrap_err().to_string();
    assert!(err.contains("unknown key `manifest.icon`"), "{err}");
}

#[test]
fn a_hand_built_config_is_checked_at_build_time_too() {
    let mut config = configured();
    config.manifest.accent_color = "#zzzzzz".into();
    let err = render_manifest(&config).unwrap_err();
    assert!(
        matches!(
            err,
            ManifestError::Invalid {
                key: "manifest.accent_color",
                ..
            }
        ),
        "{err:?}"
    );

    let mut config = configured();
    config.bot.app_id = "not-a-guid".into();
    let err = render_manifest(&config).unwrap_err();
    assert!(err.to_string().contains("`bot.app_id`"), "{err}");

    let mut config = configured();
    config.server.public_url = "https://".into();
    let err = render_manifest(&config).unwrap_err();
    assert!(err.to_string().contains("`server.public_url`"), "{err}");
}
