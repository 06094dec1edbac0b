//! Adaptive Card templates from `cards/`, expanded in Rust.
//!
//! Templating subset implemented so far: `${name}` and `${a.b}` bindings, either as a whole
//! string (the value keeps its JSON type) or interpolated into text (always a string). Any
//! other expression is refused when the template is loaded, and a binding with no value
//! fails the expansion: a card must never show `${x}` to a person.

use serde_json::{Map, Value};

/// Templates shipped in `cards/`, embedded in the binary.
const TEMPLATES: &[(&str, &str)] = &[("welcome", include_str!("../cards/welcome.json"))];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CardError {
    #[error("cards/{card}.json is not JSON: {detail}")]
    NotJson { card: String, detail: String },
    #[error("cards/{card}.json: unsupported template expression `{expr}`")]
    Unsupported { card: String, expr: String },
    #[error("cards/{card}.json: `${{{path}}}` has no value")]
    Unbound { card: String, path: String },
    #[error("no card template named {0}")]
    UnknownCard(String),
}

/// One parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    json: Value,
}

/// Every template in `cards/`, parsed and checked once.
#[derive(Debug, Clone)]
pub struct Cards {
    templates: Vec<Template>,
}

impl Cards {
    pub fn load() -> Result<Cards, CardError> {
        let templates = TEMPLATES
            .iter()
            .map(|(name, source)| Template::parse(name, source))
            .collect::<Result<_, _>>()?;
        Ok(Cards { templates })
    }

    pub fn template(&self, name: &str) -> Result<&Template, CardError> {
        self.templates
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| CardError::UnknownCard(name.to_owned()))
    }
}

impl Template {
    pub fn parse(name: &str, source: &str) -> Result<Template, CardError> {
        let json: Value = serde_json::from_str(source).map_err(|e| CardError::NotJson {
            card: name.to_owned(),
            detail: e.to_string(),
        })?;
        let template = Template {
            name: name.to_owned(),
            json,
        };
        template.check(&template.json)?;
        Ok(template)
    }

    fn check(&self, value: &Value) -> Result<(), CardError> {
        match value {
            Value::String(s) => {
                for expr in expressions(s) {
                    if !is_path(expr) {
                        return Err(CardError::Unsupported {
                            card: self.name.clone(),
                            expr: expr.to_owned(),
                        });
                    }
                }
                Ok(())
            }
            Value::Array(items) => items.iter().try_for_each(|v| self.check(v)),
            Value::Object(map) => {
                for (k, v) in map {
                    if k.starts_with('$') && k != "$schema" {
                        return Err(CardError::Unsupported {
                            card: self.name.clone(),
                            expr: k.clone(),
                        });
                    }
                    self.check(v)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Expands the template against `data`.
    pub fn expand(&self, data: &Value) -> Result<Value, CardError> {
        self.expand_value(&self.json, data)
    }

    fn expand_value(&self, value: &Value, data: &Value) -> Result<Value, CardError> {
        Ok(match value {
            Value::String(s) => self.expand_string(s, data)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.expand_value(v, data))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(k.clone(), self.expand_value(v, data)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn expand_string(&self, s: &str, data: &Value) -> Result<Value, CardError> {
        let lookup = |path: &str| {
            resolve(data, path).ok_or_else(|| CardError::Unbound {
                card: self.name.clone(),
                path: path.to_owned(),
            })
        };
        if let Some(path) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
            && !path.contains('}')
        {
            return lookup(path).cloned();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').expect("checked at load");
            match lookup(&after[..end])? {
                Value::String(v) => out.push_str(v),
                other => out.push_str(&other.to_string()),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

/// The `${…}` expressions in a string; an unclosed `${` counts as an expression that is
/// not a path.
fn expressions(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => {
                // Keep the `${` so the unclosed expression is never mistaken for a path.
                out.push(&rest[start..]);
                break;
            }
        }
    }
    out
}

fn is_path(expr: &str) -> bool {
    !expr.is_empty()
        && expr.split('.').all(|seg| {
            !seg.is_empty()
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !seg.starts_with(|c: char| c.is_ascii_digit())
        })
}

fn resolve<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = data;
    for seg in path.split('.') {
        current = current.get(seg)?;
    }
    (!current.is_null()).then_some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(source: Value) -> Result<Template, CardError> {
        Template::parse("t", &source.to_string())
    }

    #[test]
    fn whole_string_binding_keeps_its_type_and_interpolation_gives_text() {
        let tpl = t(json!({"a": "${n}", "b": "n = ${n}, who = ${p.name}"})).unwrap();
        let out = tpl
            .expand(&json!({"n": 3, "p": {"name": "Megan"}}))
            .unwrap();
        assert_eq!(out, json!({"a": 3, "b": "n = 3, who = Megan"}));
    }

    #[test]
    fn a_missing_value_fails_instead_of_showing_the_binding() {
        let tpl = t(json!({"text": "Hi ${name}"})).unwrap();
        assert_eq!(
            tpl.expand(&json!({})),
            Err(CardError::Unbound {
                card: "t".into(),
                path: "name".into()
            })
        );
    }

    #[test]
    fn expressions_beyond_the_subset_are_refused_at_load() {
        assert!(matches!(
            t(json!({"text": "${if(a, b, c)}"})),
            Err(CardError::Unsupported { .. })
        ));
        assert!(matches!(
            t(json!({"$when": "${a}"})),
            Err(CardError::Unsupported { .. })
        ));
        assert!(matches!(
            t(json!({"text": "${oops"})),
            Err(CardError::Unsupported { .. })
        ));
    }

    #[test]
    fn shipped_templates_load() {
        let cards = Cards::load().unwrap();
        assert!(cards.template("welcome").is_ok());
    }
}
