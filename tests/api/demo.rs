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
