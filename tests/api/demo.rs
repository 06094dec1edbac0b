//! `passkey-pilot demo` in-process: the chat page's endpoints reach the real bot through the
//! simulated Teams channel, and the page and its scripts are served.

use std::time::Duration;

use passkey_pilot::demo::{self, DemoHandle, DemoOptions};
use serde_json::{Value, json};

async fn start() -> DemoHandle {
    demo::start(DemoOptions {
        users: 300,
        seed: 7,
        ..DemoOptions::default()
    })
    .await
    .unwrap()
}

async fn get_json(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

async fn post_json(url: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

/// Polls the person's transcript until it has an entry matching `wanted`.
async fn wait_for(demo: &DemoHandle, id: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let body = get_json(&format!("{}api/people/{id}/transcript", demo.url)).await;
        let entries = body["entries"].as_array().unwrap().clone();
        if entries.iter().any(&wanted) {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the transcript never got the expected entry");
}

fn is_welcome_card(entry: &Value) -> bool {
    entry["sender"] == "bot"
        && entry["activity"]["attachments"][0]["contentType"]
            == "application/vnd.microsoft.card.adaptive"
}

#[tokio::test]
async fn a_person_found_by_name_says_hi_and_the_welcome_card_reaches_their_transcript() {
    let demo = start().await;
    let everyone = get_json(&format!("{}api/people", demo.url)).await;
    let first = &everyone["people"][0];
    let surname = first["name"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned();

    let found = get_json(&format!("{}api/people?q={surname}", demo.url)).await;
    let people = found["people"].as_array().unwrap();
    assert!(!people.is_empty());
    let person = &people[0];
    assert!(
        person["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains(&surname.to_lowercase()),
        "{person}"
    );
    for field in ["id", "name", "upn", "locale"] {
        assert!(person[field].is_string(), "{field} in {person}");
    }
    assert!(person["helpdesk"].is_boolean() && person["admin"].is_boolean());
    let id = person["id"].as_str().unwrap();

    let sent = post_json(
        &format!("{}api/people/{id}/messages", demo.url),
        json!({"text": "hi"}),
    )
    .await;
    assert_eq!(sent["status"], 200, "{sent}");
    let entries = wait_for(&demo, id, is_welcome_card).await;
    assert_eq!(entries[0]["sender"], "user");
    assert_eq!(entries[0]["activity"]["text"], "hi");
    let card = &entries.iter().find(|e| is_welcome_card(e)).unwrap()["activity"]["attachments"][0]
        ["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    demo.stop().await;
}

#[tokio::test]
async fn helpdesk_and_admin_people_are_marked_and_listed_first() {
    let demo = start().await;
    let everyone = get_json(&format!("{}api/people", demo.url)).await;
    let first = &everyone["people"][0];
    assert!(
        first["helpdesk"] == true || first["admin"] == true,
        "{first}"
    );
    let nobody = get_json(&format!("{}api/people?q=zzzz-no-such-name", demo.url)).await;
    assert_eq!(nobody["people"], json!([]));
}

#[tokio::test]
async fn installing_welcomes_once_and_a_card_action_answers_with_a_card() {
    let demo = start().await;
    let everyone = get_json(&format!("{}api/people", demo.url)).await;
    let id = everyone["people"][3]["id"].as_str().unwrap().to_owned();
    let install = format!("{}api/people/{id}/install", demo.url);
    assert_eq!(post_json(&install, json!({})).await["sent"], true);
    assert_eq!(post_json(&install, json!({})).await["sent"], false);
    let entries = wait_for(&demo, &id, is_welcome_card).await;
    let welcome_id = entries.iter().find(|e| is_welcome_card(e)).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let answer = post_json(
        &format!("{}api/people/{id}/actions", demo.url),
        json!({"replyToId": welcome_id, "verb": "refresh", "data": {}}),
    )
    .await;
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(
        answer["body"]["type"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(answer["body"]["value"]["type"], "AdaptiveCard");

    let unknown = reqwest::get(format!(
        "{}api/people/00000000-0000-4000-8000-000000000000/transcript",
        demo.url
    ))
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_page_and_its_scripts_are_served_with_their_content_types() {
    let demo = start().await;
    for (path, content_type, needle) in [
        ("", "text/html", "<title>Passkey Pilot demo</title>"),
        ("demo.js", "text/javascript", "onExecuteAction"),
        ("demo.css", "text/css", "#transcript"),
        ("adaptivecards.min.js", "text/javascript", "MIT License"),
    ] {
        let r = reqwest::get(format!("{}{path}", demo.url)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let got = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(got.starts_with(content_type), "{path}: {got}");
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
}

/// The latest card of the person's transcript whose actions include `verb`.
fn card_with(entries: &[Value], needle: &str) -> Option<Value> {
    entries
        .iter()
        .rev()
        .filter(|e| e["sender"] == "bot")
        .map(|e| e["activity"]["attachments"][0]["content"].clone())
        .find(|c| c.to_string().contains(needle))
}

/// The data of the first `Action.Execute` with `verb` in `card`.
fn action_data(card: &Value, verb: &str) -> Value {
    fn find(v: &Value, verb: &str) -> Option<Value> {
        match v {
            Value::Object(o) if o.get("verb") == Some(&json!(verb)) => o.get("data").cloned(),
            Value::Object(o) => o.values().find_map(|c| find(c, verb)),
            Value::Array(a) => a.iter().find_map(|c| find(c, verb)),
            _ => None,
        }
    }
    find(card, verb).unwrap_or_else(|| panic!("no {verb} on {card}"))
}

#[tokio::test]
async fn in_the_demo_a_person_registers_a_passkey_tests_it_and_is_protected() {
    use passkey_pilot::sim::population::{MethodKind, Platform, Population};
    let demo = start().await;
    // The demo's tenant, generated again from its seed, to pick someone push-only with an
    // iPhone that can hold a passkey.
    let pop = Population::generate(300, 7, jiff::Timestamp::now());
    let person = pop
        .people
        .iter()
        .find(|p| {
            let devices: Vec<_> = pop.devices_of(p).collect();
            p.account_enabled
                && p.user_principal_name.contains('@')
                && !p.methods.iter().any(|m| {
                    matches!(
                        m.kind,
                        MethodKind::Fido2 { .. } | MethodKind::WindowsHelloForBusiness { .. }
                    )
                })
                && devices.len() == 2
                && devices
                    .iter()
                    .any(|d| d.platform == Platform::Ios && d.os.major >= 17)
                && devices.iter().any(|d| d.is_windows_11())
        })
        .expect("such a person in the demo's tenant");
    let id = person.id.to_string();
    let api = |path: &str| format!("{}api/people/{id}/{path}", demo.url);
    post_json(&api("install"), json!({})).await;
    let entries = wait_for(&demo, &id, is_welcome_card).await;
    let welcome = card_with(&entries, "\"start\"").unwrap();
    let act = |verb: &'static str, data: Value| {
        let url = api("actions");
        async move {
            let answer = post_json(&url, json!({"verb": verb, "data": data})).await;
            assert_eq!(answer["body"]["statusCode"], 200, "{answer}");
            answer["body"]["value"].clone()
        }
    };
    let devices = act("start", action_data(&welcome, "start")).await;
    let register = act("register", action_data(&devices, "register")).await;
    // The page offers the person's devices; they set the passkey up on the iPhone.
    let offered = get_json(&api("devices")).await;
    let iphone = offered["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "authenticator")
        .unwrap()
        .clone();
    assert!(
        register
            .to_string()
            .contains(iphone["name"].as_str().unwrap())
    );
    let set_up = post_json(
        &api("passkeys"),
        json!({"device": iphone["name"], "kind": "authenticator"}),
    )
    .await;
    assert_eq!(set_up["result"], "registered", "{set_up}");
    act("registered", action_data(&register, "registered")).await;
    // The bot's worker looks at Graph again until the passkey shows, then sends the test.
    let mut link = None;
    for _ in 0..240 {
        let body = get_json(&api("transcript")).await;
        if let Some(card) = card_with(body["entries"].as_array().unwrap(), "/signin/test/start") {
            link = card
                .to_string()
                .split('"')
                .find(|s| s.contains("/signin/test/start"))
                .map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let link = link.expect("the test card arrives once Graph lists the passkey");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = browser.get(&link).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = browser
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ctx = page
        .split("name=\"ctx\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let option = page
        .split("name=\"option\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|o| o.starts_with("passkey:"))
        .unwrap();
    // The test card asks for the test on the PC; the sign-in page asks which device this is.
    let pc = pop
        .devices_of(person)
        .find(|d| d.is_windows_11())
        .unwrap()
        .display_name
        .clone();
    assert!(
        page.contains(&format!("<option value=\"{pc}\"")),
        "the sign-in page offers the person's devices: {page}"
    );
    let sim = demo.simulator();
    let back = browser
        .post(format!("{}/{}/login", sim.base_url(), sim.tenant_id()))
        .form(&[
            ("ctx", ctx),
            ("login", person.user_principal_name.as_str()),
            ("from", pc.as_str()),
            ("option", option),
        ])
        .send()
        .await
        .unwrap();
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    let result = browser
        .get(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(result.contains("Your passkey works"), "{result}");
    let entries = wait_for(&demo, &id, |e| e.to_string().contains("\"enforce\"")).await;
    let confirm = card_with(&entries, "\"enforce\"").unwrap();
    act("enforce", action_data(&confirm, "enforce")).await;
    let group = sim.graph().unwrap().enforced_group_id();
    let members = get_json(&format!("{}/_sim/groups/{group}/members", sim.base_url())).await;
    assert!(members.to_string().contains(&id), "{members}");
}
