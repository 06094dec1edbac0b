//! Adaptive Card templates from `cards/`, expanded in Rust; [`journey`] builds the data of the
//! journey's cards and expands them.
//!
//! The templates are plain Adaptive Card JSON (schema 1.5) with Adaptive Cards Templating, so
//! they open in the Adaptive Cards Designer. The subset implemented, and checked against
//! Microsoft's reference engine (npm `adaptivecards-templating`) by differential tests
//! (tests/api/cards.rs with the oracle's answers in tests/fixtures/cards/):
//!
//! - `"${expr}"` as a whole string keeps the value's JSON type; `"text ${expr} text"`
//!   interpolates strings, numbers and booleans into text;
//! - expressions: paths (`a.b`, `list[0]`, `map['key']`, `$data`, `$root`, `$index`),
//!   literals, `!`, `&&`, `||`, comparisons and a few functions (see [`expr`]);
//! - `"$data"` on an object sets its data context; bound to a list, the object is repeated once
//!   per item (only where it sits in a list), with `$index` counting from 0;
//! - `"$when"` on an object in a list keeps it only when the expression is `true`.
//!
//! Stricter than the reference engine, on purpose: anything outside the subset is refused when
//! the template loads, and a missing value, `null` in text, or an object interpolated into text
//! fails the expansion, where the reference engine would show `${name}` or `[object Object]`
//! to a person.

pub mod expr;
pub mod journey;

use serde_json::{Map, Value};

use self::expr::{EvalError, Expr, Scope, SyntaxError};

/// Templates shipped in `cards/`, embedded in the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("welcome", include_str!("../cards/welcome.json")),
    ("checking", include_str!("../cards/checking.json")),
    ("devices", include_str!("../cards/devices.json")),
    ("register", include_str!("../cards/register.json")),
    ("waiting", include_str!("../cards/waiting.json")),
    ("test", include_str!("../cards/test.json")),
    ("test-failed", include_str!("../cards/test-failed.json")),
    (
        "confirm-enforce",
        include_str!("../cards/confirm-enforce.json"),
    ),
    (
        "enforcement-paused",
        include_str!("../cards/enforcement-paused.json"),
    ),
    ("protected", include_str!("../cards/protected.json")),
    ("snooze", include_str!("../cards/snooze.json")),
    ("snoozed", include_str!("../cards/snoozed.json")),
    (
        "exclusion-request",
        include_str!("../cards/exclusion-request.json"),
    ),
    ("excluded", include_str!("../cards/excluded.json")),
    ("help", include_str!("../cards/help.json")),
    (
        "helpdesk-asked",
        include_str!("../cards/helpdesk-asked.json"),
    ),
    ("not-target", include_str!("../cards/not-target.json")),
    ("out-of-date", include_str!("../cards/out-of-date.json")),
    ("lookup-failed", include_str!("../cards/lookup-failed.json")),
];

/// Teams' safe budget for one card (reference/teams-cards.md: budget 28 KB per card).
pub const MAX_CARD_BYTES: usize = 28 * 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CardError {
    #[error("cards/{card}.json is not JSON: {detail}")]
    NotJson { card: String, detail: String },
    #[error("cards/{card}.json at {at}: `{expr}`: {reason}")]
    Syntax {
        card: String,
        at: String,
        expr: String,
        reason: SyntaxError,
    },
    #[error("cards/{card}.json at {at}: {what}")]
    Unsupported {
        card: String,
        at: String,
        what: String,
    },
    #[error("cards/{card}.json at {at}: `${{{path}}}` has no value")]
    Unbound {
        card: String,
        at: String,
        path: String,
    },
    #[error("cards/{card}.json at {at}: `{expr}`: {reason}")]
    Eval {
        card: String,
        at: String,
        expr: String,
        reason: String,
    },
    #[error("no card template named {0}")]
    UnknownCard(String),
}

/// A compiled `${…}` with where it came from, for errors.
#[derive(Debug, Clone)]
struct Binding {
    expr: Expr,
    source: String,
    at: String,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Expr(Binding),
}

#[derive(Debug, Clone)]
enum DataSpec {
    Bound(Binding),
    Literal(Value),
}

#[derive(Debug, Clone)]
enum Node {
    Literal(Value),
    /// The whole string is one expression: the result keeps its type.
    Single(Binding),
    Text(Vec<Piece>),
    Array(Vec<Node>),
    Object {
        at: String,
        data: Option<DataSpec>,
        when: Option<Binding>,
        fields: Vec<(String, Node)>,
    },
}

/// The result of expanding one node.
enum Expanded {
    One(Value),
    Many(Vec<Value>),
    Dropped,
}

/// One parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    root: Node,
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

    /// Names of the shipped templates.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(|t| t.name.as_str())
    }
}

/// Where an expression ends: the `}` after `start` outside single-quoted text.
fn closing_brace(s: &str, start: usize) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s[start..].char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '}' if !quoted => return Some(start + i),
            _ => {}
        }
    }
    None
}

struct Compiler<'a> {
    card: &'a str,
}

impl Compiler<'_> {
    fn unsupported(&self, at: &str, what: impl Into<String>) -> CardError {
        CardError::Unsupported {
            card: self.card.to_owned(),
            at: at.to_owned(),
            what: what.into(),
        }
    }

    fn binding(&self, source: &str, at: &str) -> Result<Binding, CardError> {
        let expr = expr::parse(source).map_err(|reason| CardError::Syntax {
            card: self.card.to_owned(),
            at: at.to_owned(),
            expr: source.to_owned(),
            reason,
        })?;
        if expr::is_constant(&expr) {
            // The reference engine turns constants into text ("${true}" gives "true").
            return Err(self.unsupported(
                at,
                format!("`${{{source}}}` is a constant; write the value"),
            ));
        }
        Ok(Binding {
            expr,
            source: source.to_owned(),
            at: at.to_owned(),
        })
    }

    fn string(&self, s: &str, at: &str) -> Result<Node, CardError> {
        if !s.contains("${") {
            return Ok(Node::Literal(Value::String(s.to_owned())));
        }
        if s.contains('\\') || s.contains('`') {
            // The reference engine cannot parse these next to an expression.
            return Err(self.unsupported(at, "a backslash or backtick next to `${…}`"));
        }
        let mut pieces = Vec::new();
        let mut rest = 0;
        while let Some(found) = s[rest..].find("${") {
            let open = rest + found;
            if open > rest {
                pieces.push(Piece::Text(s[rest..open].to_owned()));
            }
            let close = closing_brace(s, open + 2)
                .ok_or_else(|| self.unsupported(at, format!("unclosed `${{` in {s:?}")))?;
            pieces.push(Piece::Expr(self.binding(&s[open + 2..close], at)?));
            rest = close + 1;
        }
        if rest < s.len() {
            pieces.push(Piece::Text(s[rest..].to_owned()));
        }
        if let [Piece::Expr(b)] = pieces.as_slice() {
            return Ok(Node::Single(b.clone()));
        }
        Ok(Node::Text(pieces))
    }

    /// The expression of a `$data`/`$when` string that must be exactly one `${…}`.
    fn single(&self, v: &Value, at: &str, key: &str) -> Result<Binding, CardError> {
        match v {
            Value::String(s) => match self.string(s, at)? {
                Node::Single(b) => Ok(b),
                _ => Err(self.unsupported(at, format!("{key} must be one `${{…}}` expression"))),
            },
            _ => Err(self.unsupported(at, format!("{key} must be a `${{…}}` string"))),
        }
    }

    fn node(&self, v: &Value, at: &str, in_array: bool) -> Result<Node, CardError> {
        Ok(match v {
            Value::String(s) => self.string(s, at)?,
            Value::Array(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if item.is_array() {
                        return Err(self.unsupported(at, "a list directly inside a list"));
                    }
                    nodes.push(self.node(item, &format!("{at}[{i}]"), true)?);
                }
                Node::Array(nodes)
            }
            Value::Object(map) => {
                let mut data = None;
                let mut when = None;
                let mut fields = Vec::with_capacity(map.len());
                for (k, v) in map {
                    let here = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    match k.as_str() {
                        "$data" => {
                            data = Some(match v {
                                Value::Object(_) | Value::Array(_)
                                    if !v.to_string().contains("${") =>
                                {
                                    DataSpec::Literal(v.clone())
                                }
                                _ => DataSpec::Bound(self.single(v, &here, "$data")?),
                            });
                        }
                        "$when" => {
                            if !in_array {
                                return Err(self.unsupported(
                                    &here,
                                    "$when only on an element of a list (elsewhere the reference engine leaves null behind)",
                                ));
                            }
                            when = Some(self.single(v, &here, "$when")?);
                        }
                        "$schema" => fields.push((k.clone(), Node::Literal(v.clone()))),
                        key if key.starts_with('$') || key.contains("${") => {
                            return Err(self.unsupported(&here, format!("the key {key:?}")));
                        }
                        _ => fields.push((k.clone(), self.node(v, &here, false)?)),
                    }
                }
                Node::Object {
                    at: if at.is_empty() {
                        "/".to_owned()
                    } else {
                        at.to_owned()
                    },
                    data,
                    when,
                    fields,
                }
            }
            other => Node::Literal(other.clone()),
        })
    }
}

impl Template {
    pub fn parse(name: &str, source: &str) -> Result<Template, CardError> {
        let json: Value = serde_json::from_str(source).map_err(|e| CardError::NotJson {
            card: name.to_owned(),
            detail: e.to_string(),
        })?;
        let root = Compiler { card: name }.node(&json, "", false)?;
        Ok(Template {
            name: name.to_owned(),
            root,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Expands the template against `data` (available as the root data context and `$root`).
    pub fn expand(&self, data: &Value) -> Result<Value, CardError> {
        let scope = Scope {
            data,
            root: data,
            index: None,
        };
        match self.expand_node(&self.root, &scope)? {
            Expanded::One(v) => Ok(v),
            Expanded::Many(_) => Err(self.error_at("/", "the card itself repeats over a list")),
            Expanded::Dropped => Err(self.error_at("/", "the card itself was dropped")),
        }
    }

    fn error_at(&self, at: &str, what: &str) -> CardError {
        CardError::Unsupported {
            card: self.name.clone(),
            at: at.to_owned(),
            what: what.to_owned(),
        }
    }

    fn eval_error(&self, b: &Binding, e: EvalError) -> CardError {
        match e {
            EvalError::Missing(path) => CardError::Unbound {
                card: self.name.clone(),
                at: b.at.clone(),
                path,
            },
            EvalError::Type(reason) => CardError::Eval {
                card: self.name.clone(),
                at: b.at.clone(),
                expr: b.source.clone(),
                reason,
            },
        }
    }

    fn value(&self, b: &Binding, scope: &Scope<'_>) -> Result<Value, CardError> {
        expr::required(&b.expr, scope).map_err(|e| self.eval_error(b, e))
    }

    fn expand_node(&self, node: &Node, scope: &Scope<'_>) -> Result<Expanded, CardError> {
        Ok(Expanded::One(match node {
            Node::Literal(v) => v.clone(),
            Node::Single(b) => self.value(b, scope)?,
            Node::Text(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Expr(b) => match self.value(b, scope)? {
                            Value::Null => {
                                return Err(self.eval_error(
                                    b,
                                    EvalError::Missing(format!("{} (null)", b.source)),
                                ));
                            }
                            v => match expr::scalar_text(&v) {
                                Some(text) => out.push_str(&text),
                                None => {
                                    return Err(self.eval_error(
                                        b,
                                        EvalError::Type(
                                            "a list or object cannot be written into text"
                                                .to_owned(),
                                        ),
                                    ));
                                }
                            },
                        },
                    }
                }
                Value::String(out)
            }
            Node::Array(nodes) => {
                let mut out = Vec::with_capacity(nodes.len());
                for n in nodes {
                    match self.expand_node(n, scope)? {
                        Expanded::One(v) => out.push(v),
                        Expanded::Many(vs) => out.extend(vs),
                        Expanded::Dropped => {}
                    }
                }
                Value::Array(out)
            }
            Node::Object {
                at,
                data,
                when,
                fields,
            } => {
                let bound;
                let data_value = match data {
                    None => None,
                    Some(DataSpec::Literal(v)) => Some(v),
                    Some(DataSpec::Bound(b)) => {
                        bound = self.value(b, scope)?;
                        Some(&bound)
                    }
                };
                if let Some(Value::Array(items)) = data_value {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let inner = Scope {
                            data: item,
                            root: scope.root,
                            index: Some(i),
                        };
                        if let Some(v) = self.object(at, when, fields, &inner)? {
                            out.push(v);
                        }
                    }
                    return Ok(Expanded::Many(out));
                }
                let inner = Scope {
                    data: data_value.unwrap_or(scope.data),
                    ..*scope
                };
                match self.object(at, when, fields, &inner)? {
                    Some(v) => v,
                    None => return Ok(Expanded::Dropped),
                }
            }
        }))
    }

    /// One copy of an object, or `None` when its `$when` is not `true`.
    fn object(
        &self,
        at: &str,
        when: &Option<Binding>,
        fields: &[(String, Node)],
        scope: &Scope<'_>,
    ) -> Result<Option<Value>, CardError> {
        if let Some(b) = when {
            // A missing value is a template bug; anything but `true` drops the element.
            if self.value(b, scope)? != Value::Bool(true) {
                return Ok(None);
            }
        }
        let mut out = Map::with_capacity(fields.len());
        for (k, node) in fields {
            match self.expand_node(node, scope)? {
                Expanded::One(v) => {
                    out.insert(k.clone(), v);
                }
                Expanded::Many(_) => {
                    return Err(self.error_at(
                        &format!("{at}.{k}"),
                        "$data repeats over a list only inside a list",
                    ));
                }
                Expanded::Dropped => {}
            }
        }
        Ok(Some(Value::Object(out)))
    }
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
        assert!(matches!(
            tpl.expand(&json!({})),
            Err(CardError::Unbound { path, .. }) if path == "name"
        ));
        let tpl = t(json!({"text": "Hi ${name}"})).unwrap();
        assert!(matches!(
            tpl.expand(&json!({"name": null})),
            Err(CardError::Unbound { .. })
        ));
        let tpl = t(json!({"text": "Hi ${who}"})).unwrap();
        assert!(matches!(
            tpl.expand(&json!({"who": {"a": 1}})),
            Err(CardError::Eval { .. })
        ));
    }

    #[test]
    fn data_repeats_elements_of_a_list_and_when_drops_them() {
        let tpl = t(json!({"body": [
            {"type": "TextBlock", "text": "head"},
            {"$data": "${devices}", "$when": "${ready}", "text": "${$index}: ${name} (${$root.owner})"}
        ]}))
        .unwrap();
        let out = tpl
            .expand(&json!({"owner": "Megan", "devices": [
                {"name": "iPhone", "ready": true},
                {"name": "PC", "ready": false},
                {"name": "Mac", "ready": true}
            ]}))
            .unwrap();
        assert_eq!(
            out,
            json!({"body": [
                {"type": "TextBlock", "text": "head"},
                {"text": "0: iPhone (Megan)"},
                {"text": "2: Mac (Megan)"}
            ]})
        );
    }

    #[test]
    fn constructs_outside_the_subset_are_refused_at_load() {
        for bad in [
            json!({"text": "${a + 1}"}),
            json!({"text": "${formatNumber(a, 1)}"}),
            json!({"text": "${oops"}),
            json!({"$when": "${a}"}),
            json!({"o": {"$when": "${a}"}}),
            json!({"a": [{"$when": "x ${a}"}]}),
            json!({"a": [["${x}"]]}),
            json!({"k${x}": 1}),
            json!({"$host": 1}),
            json!({"text": "a\\b ${x}"}),
        ] {
            assert!(t(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn repeating_outside_a_list_fails() {
        let tpl = t(json!({"card": {"$data": "${items}", "t": "${x}"}})).unwrap();
        assert!(tpl.expand(&json!({"items": [{"x": 1}]})).is_err());
        assert_eq!(
            tpl.expand(&json!({"items": {"x": 1}})).unwrap(),
            json!({"card": {"t": 1}})
        );
    }

    #[test]
    fn shipped_templates_load() {
        let cards = Cards::load().unwrap();
        assert!(cards.template("welcome").is_ok());
    }
}
