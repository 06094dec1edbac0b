//! Our Adaptive Cards templating against Microsoft's reference engine.
//!
//! tests/fixtures/cards/cases.json holds the cases (every shipped template with varied data,
//! and the language's corners); oracle.json holds what the reference engine
//! (`adaptivecards-templating` 2.3.1) answered for each, recorded by refresh-oracle.mjs next to
//! them. Where a case expects "same", our expansion must equal the oracle's; where it expects
//! "ours-refuses", the reference engine shows something a person must never see (or fails too)
//! and ours must fail. Expanded shipped cards are kept as insta snapshots, validated against
//! the Adaptive Cards 1.5 JSON schema and kept under Teams' size budget.

use passkey_pilot::cards::{CardError, Cards, MAX_CARD_BYTES, Template};
use serde_json::Value;

const CASES: &str = include_str!("../fixtures/cards/cases.json");
const ORACLE: &str = include_str!("../fixtures/cards/oracle.json");
const SCHEMA: &str = include_str!("../fixtures/cards/adaptive-card-1.5.schema.json");

struct Case {
    name: String,
    card: Option<String>,
    template: Value,
    data: Value,
    same: bool,
}

fn cases() -> Vec<Case> {
    let raw: Vec<Value> = serde_json::from_str(CASES).expect("cases.json is JSON");
    raw.into_iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("a name").to_owned(),
            card: c["card"].as_str().map(str::to_owned),
            template: c["template"].clone(),
            data: c["data"].clone(),
            same: match c["expect"].as_str() {
                Some("same") => true,
                Some("ours-refuses") => false,
                other => panic!("unknown expectation {other:?}"),
            },
        })
        .collect()
}

fn oracle() -> serde_json::Map<String, Value> {
    serde_json::from_str(ORACLE).expect("oracle.json is JSON")
}

fn ours(case: &Case, cards: &Cards) -> Result<Value, CardError> {
    match &case.card {
        Some(card) => cards.template(card)?.expand(&case.data),
        None => Template::parse(&case.name, &case.template.to_string())?.expand(&case.data),
    }
}

/// JSON equality with numbers compared by value, as JavaScript has only one number type.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn every_case_has_an_oracle_answer_and_every_shipped_card_is_covered() {
    let oracle = oracle();
    let cases = cases();
    for case in &cases {
        assert!(
            oracle.contains_key(&case.name),
            "{}: no oracle answer; run tests/fixtures/cards/refresh-oracle.mjs",
            case.name
        );
    }
    assert_eq!(oracle.len(), cases.len(), "oracle.json has stale answers");
    let cards = Cards::load().unwrap();
    for name in cards.names() {
        assert!(
            cases
                .iter()
                .filter(|c| c.card.as_deref() == Some(name))
                .count()
                >= 2,
            "cards/{name}.json needs at least two data sets in cases.json"
        );
    }
}

#[test]
fn our_expansion_agrees_with_the_reference_engine() {
    let oracle = oracle();
    let cards = Cards::load().unwrap();
    let mut disagreements = Vec::new();
    for case in cases() {
        let answer = &oracle[&case.name];
        let result = ours(&case, &cards);
        if case.same {
            assert_eq!(
                answer["ok"], true,
                "{}: the oracle failed: {answer}",
                case.name
            );
            match result {
                Ok(v) if same_json(&v, &answer["expanded"]) => {}
                Ok(v) => disagreements.push(format!(
                    "{}:\n  ours:   {v}\n  oracle: {}",
                    case.name, answer["expanded"]
                )),
                Err(e) => disagreements.push(format!("{}: ours failed: {e}", case.name)),
            }
        } else if let Ok(v) = result {
            disagreements.push(format!(
                "{}: ours should refuse (the oracle gives {answer}) but gave {v}",
                case.name
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn expanded_shipped_cards_match_their_golden_files_validate_and_fit_teams() {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema fixture is JSON");
    let validator = jsonschema::draft6::new(&schema).expect("the Adaptive Cards schema compiles");
    let cards = Cards::load().unwrap();
    for case in cases().into_iter().filter(|c| c.card.is_some()) {
        let card = ours(&case, &cards).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        insta::assert_json_snapshot!(format!("card-{}", case.name), card);
        let errors: Vec<String> = validator
            .iter_errors(&card)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", case.name);
        let bytes = serde_json::to_vec(&card).unwrap().len();
        assert!(bytes <= MAX_CARD_BYTES, "{}: {bytes} bytes", case.name);
    }
}

#[test]
fn the_schema_check_rejects_a_broken_card() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft6::new(&schema).unwrap();
    let broken = serde_json::json!({
        "type": "AdaptiveCard", "version": "1.5",
        "body": [{"type": "TextBlock", "text": "x", "size": "Huge"}],
        "actions": [{"type": "Action.Execute", "title": 5}]
    });
    assert!(!validator.is_valid(&broken));
}
