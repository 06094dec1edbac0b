//! The expression language inside `${…}`: the strict subset of Adaptive Expressions that our
//! card templates may use, parsed once when a template loads and evaluated per expansion.
//!
//! Grammar (precedence from loose to tight):
//! ```text
//! expr    := or
//! or      := and ( "||" and )*
//! and     := cmp ( "&&" cmp )*
//! cmp     := unary ( ("==" | "!=" | "<" | "<=" | ">" | ">=") unary )?
//! unary   := "!" unary | postfix
//! postfix := primary ( "." name | "[" expr "]" )*
//! primary := number | 'string' | true | false | null | "(" expr ")"
//!          | name "(" args ")"            -- only the functions in `Func`
//!          | name | $data | $root | $index
//! ```
//! Semantics follow the reference engine (npm `adaptivecards-templating` on
//! `adaptive-expressions`), checked by differential tests: `&&`, `||`, `!`, `if`, `and`, `or`
//! and `not` treat `false`, `null` and a missing value as false and everything else (even `0`
//! and `''`) as true; `==` compares numbers by value and arrays/objects deeply. Where the
//! reference engine quietly shows something wrong (a missing field as the literal `${x}`, an
//! object as `[object Object]`), this one fails instead. Arithmetic is left out: compute
//! numbers in Rust before binding.

use serde_json::{Map, Value};

/// Functions a template may call, with the number of arguments each takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    If,
    Not,
    And,
    Or,
    Equals,
    Exists,
    Empty,
    Count,
    Concat,
    String,
    Join,
    ToUpper,
    ToLower,
    Contains,
    First,
    Last,
}

impl Func {
    fn parse(name: &str) -> Option<Func> {
        Some(match name {
            "if" => Func::If,
            "not" => Func::Not,
            "and" => Func::And,
            "or" => Func::Or,
            "equals" => Func::Equals,
            "exists" => Func::Exists,
            "empty" => Func::Empty,
            "count" => Func::Count,
            "concat" => Func::Concat,
            "string" => Func::String,
            "join" => Func::Join,
            "toUpper" => Func::ToUpper,
            "toLower" => Func::ToLower,
            "contains" => Func::Contains,
            "first" => Func::First,
            "last" => Func::Last,
            _ => return None,
        })
    }

    /// Smallest and largest number of arguments.
    fn arity(self) -> (usize, usize) {
        match self {
            Func::If => (3, 3),
            Func::Not
            | Func::Exists
            | Func::Empty
            | Func::Count
            | Func::String
            | Func::ToUpper
            | Func::ToLower
            | Func::First
            | Func::Last => (1, 1),
            Func::And | Func::Or => (2, usize::MAX),
            Func::Equals | Func::Join | Func::Contains => (2, 2),
            Func::Concat => (1, usize::MAX),
        }
    }
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// A bare name or `$data`: the current data context.
    Data,
    /// `$root`: the data the expansion started with.
    Root,
    /// `$index`: the position in the repetition.
    Index,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    Path(Root, Vec<Step>),
    Not(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

/// Why an expression was refused when the template loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("unexpected {found} at {at}")]
    Unexpected { found: String, at: usize },
    #[error(
        "unknown function `{0}` (allowed: if, not, and, or, equals, exists, empty, count, concat, string, join, toUpper, toLower, contains, first, last)"
    )]
    UnknownFunction(String),
    #[error("`{name}` takes {min}..{max} arguments, got {got}")]
    Arity {
        name: String,
        min: usize,
        max: usize,
        got: usize,
    },
    #[error("unknown variable `{0}` (allowed: $data, $root, $index)")]
    UnknownVariable(String),
    #[error("unterminated string literal")]
    UnterminatedString,
    #[error("arithmetic is not part of the template subset; compute `{0}` in Rust")]
    Arithmetic(char),
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("`{0}` has no value")]
    Missing(String),
    #[error("{0}")]
    Type(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(Value),
    Str(String),
    Name(String),
    Punct(&'static str),
}

fn tokenize(src: &str) -> Result<Vec<(Token, usize)>, SyntaxError> {
    const PUNCT: &[&str] = &[
        "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ".", ",",
    ];
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    'outer: while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'\'' {
            let start = i;
            let rest = &src[i + 1..];
            let end = rest.find('\'').ok_or(SyntaxError::UnterminatedString)?;
            out.push((Token::Str(rest[..end].to_owned()), start));
            i += end + 2;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let text = &src[start..i];
            let number = if text.contains('.') {
                text.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            } else {
                text.parse::<i64>().ok().map(Value::from)
            };
            let number = number.ok_or_else(|| SyntaxError::Unexpected {
                found: format!("number `{text}`"),
                at: start,
            })?;
            out.push((Token::Number(number), start));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((Token::Name(src[start..i].to_owned()), start));
            continue;
        }
        for p in PUNCT {
            if src[i..].starts_with(p) {
                out.push((Token::Punct(p), i));
                i += p.len();
                continue 'outer;
            }
        }
        if matches!(c, b'+' | b'-' | b'*' | b'/' | b'%') {
            return Err(SyntaxError::Arithmetic(c as char));
        }
        let found = src[i..].chars().next().unwrap_or(' ');
        return Err(SyntaxError::Unexpected {
            found: format!("`{found}`"),
            at: i,
        });
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn unexpected(&self) -> SyntaxError {
        match self.tokens.get(self.pos) {
            Some((t, at)) => SyntaxError::Unexpected {
                found: format!("{t:?}"),
                at: *at,
            },
            None => SyntaxError::Unexpected {
                found: "end of expression".to_owned(),
                at: self.len,
            },
        }
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Token::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), SyntaxError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Expr::Binary(Op::Or, Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.cmp()?;
        while self.eat("&&") {
            left = Expr::Binary(Op::And, Box::new(left), Box::new(self.cmp()?));
        }
        Ok(left)
    }

    fn cmp(&mut self) -> Result<Expr, SyntaxError> {
        let left = self.unary()?;
        let op = match self.peek() {
            Some(Token::Punct("==")) => Op::Eq,
            Some(Token::Punct("!=")) => Op::Ne,
            Some(Token::Punct("<")) => Op::Lt,
            Some(Token::Punct("<=")) => Op::Le,
            Some(Token::Punct(">")) => Op::Gt,
            Some(Token::Punct(">=")) => Op::Ge,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.unary()?;
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, SyntaxError> {
        let mut expr = self.primary()?;
        loop {
            if self.eat(".") {
                match self.tokens.get(self.pos) {
                    Some((Token::Name(n), _)) if !n.starts_with('$') => {
                        let n = n.clone();
                        self.pos += 1;
                        expr = push_step(expr, Step::Key(n), self)?;
                    }
                    _ => return Err(self.unexpected()),
                }
            } else if self.eat("[") {
                let index = self.or()?;
                self.expect("]")?;
                expr = push_step(expr, Step::Index(Box::new(index)), self)?;
            } else {
                return Ok(expr);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let Some((token, _)) = self.tokens.get(self.pos).cloned() else {
            return Err(self.unexpected());
        };
        match token {
            Token::Number(n) => {
                self.pos += 1;
                Ok(Expr::Literal(n))
            }
            Token::Str(s) => {
                self.pos += 1;
                Ok(Expr::Literal(Value::String(s)))
            }
            Token::Punct("(") => {
                self.pos += 1;
                let inner = self.or()?;
                self.expect(")")?;
                Ok(inner)
            }
            Token::Name(name) => {
                self.pos += 1;
                if self.eat("(") {
                    let func = Func::parse(&name)
                        .ok_or_else(|| SyntaxError::UnknownFunction(name.clone()))?;
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.or()?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    let (min, max) = func.arity();
                    if args.len() < min || args.len() > max {
                        return Err(SyntaxError::Arity {
                            name,
                            min,
                            max,
                            got: args.len(),
                        });
                    }
                    return Ok(Expr::Call(func, args));
                }
                Ok(match name.as_str() {
                    "true" => Expr::Literal(Value::Bool(true)),
                    "false" => Expr::Literal(Value::Bool(false)),
                    "null" => Expr::Literal(Value::Null),
                    "$data" => Expr::Path(Root::Data, Vec::new()),
                    "$root" => Expr::Path(Root::Root, Vec::new()),
                    "$index" => Expr::Path(Root::Index, Vec::new()),
                    n if n.starts_with('$') => {
                        return Err(SyntaxError::UnknownVariable(name));
                    }
                    _ => Expr::Path(Root::Data, vec![Step::Key(name)]),
                })
            }
            Token::Punct(_) => Err(self.unexpected()),
        }
    }
}

fn push_step(expr: Expr, step: Step, parser: &Parser) -> Result<Expr, SyntaxError> {
    match expr {
        Expr::Path(root, mut steps) if root != Root::Index => {
            steps.push(step);
            Ok(Expr::Path(root, steps))
        }
        _ => Err(parser.unexpected()),
    }
}

/// Parses the text between `${` and `}`.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let tokens = tokenize(src)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        len: src.len(),
    };
    let expr = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err(parser.unexpected());
    }
    Ok(expr)
}

/// Whether the expression reads no data at all.
pub fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(_) => true,
        Expr::Path(..) => false,
        Expr::Not(e) => is_constant(e),
        Expr::Binary(_, a, b) => is_constant(a) && is_constant(b),
        Expr::Call(_, args) => args.iter().all(is_constant),
    }
}

/// What an expression sees: the current item, the root data and the repetition index.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub data: &'a Value,
    pub root: &'a Value,
    pub index: Option<usize>,
}

/// Logic truth as Adaptive Expressions defines it: only `false`, `null` and missing are false.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => true,
    }
}

/// Equality as the reference engine has it: numbers by value, containers deeply.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// Text of a scalar the way JavaScript writes it (`2.0` is `2`).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_text(n)),
        _ => None,
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or(0.0);
        if f.fract() == 0.0 && f.abs() < 1e21 {
            return format!("{f:.0}");
        }
        if f.abs() >= 1e21 {
            return format!("{f:e}").replace('e', "e+");
        }
        return f.to_string();
    }
    n.to_string()
}

/// Display text of an expression, for error messages.
fn describe(expr: &Expr) -> String {
    match expr {
        Expr::Path(root, steps) => {
            let mut out = match root {
                Root::Data if !steps.is_empty() => String::new(),
                Root::Data => "$data".to_owned(),
                Root::Root => "$root".to_owned(),
                Root::Index => "$index".to_owned(),
            };
            for step in steps {
                match step {
                    Step::Key(k) if out.is_empty() => out.push_str(k),
                    Step::Key(k) => {
                        out.push('.');
                        out.push_str(k);
                    }
                    Step::Index(i) => {
                        out.push('[');
                        out.push_str(&describe(i));
                        out.push(']');
                    }
                }
            }
            out
        }
        Expr::Literal(v) => v.to_string(),
        Expr::Not(e) => format!("!{}", describe(e)),
        Expr::Binary(..) | Expr::Call(..) => "expression".to_owned(),
    }
}

fn type_error(msg: impl Into<String>) -> EvalError {
    EvalError::Type(msg.into())
}

/// Evaluates; `Ok(None)` is a missing value (a path that leads nowhere).
pub fn eval(expr: &Expr, scope: &Scope<'_>) -> Result<Option<Value>, EvalError> {
    match expr {
        Expr::Literal(v) => Ok(Some(v.clone())),
        Expr::Path(root, steps) => {
            let mut current = match root {
                Root::Data => scope.data.clone(),
                Root::Root => scope.root.clone(),
                Root::Index => match scope.index {
                    Some(i) => Value::from(i),
                    None => return Ok(None),
                },
            };
            for step in steps {
                let next = match step {
                    Step::Key(k) => current.get(k).cloned(),
                    Step::Index(i) => {
                        let key = required(i, scope)?;
                        match (&current, &key) {
                            (Value::Array(items), Value::Number(n)) => {
                                let at = n.as_u64().ok_or_else(|| {
                                    type_error(format!("index {n} of {}", describe(expr)))
                                })?;
                                Some(items.get(at as usize).cloned().ok_or_else(|| {
                                    type_error(format!(
                                        "{} has no item {at} (it has {})",
                                        describe(expr),
                                        items.len()
                                    ))
                                })?)
                            }
                            (Value::Object(map), Value::String(k)) => map.get(k).cloned(),
                            _ => None,
                        }
                    }
                };
                match next {
                    Some(v) => current = v,
                    None => return Ok(None),
                }
            }
            Ok(Some(current))
        }
        Expr::Not(inner) => Ok(Some(Value::Bool(!truthy(eval(inner, scope)?.as_ref())))),
        Expr::Binary(Op::And, a, b) => Ok(Some(Value::Bool(
            truthy(eval(a, scope)?.as_ref()) && truthy(eval(b, scope)?.as_ref()),
        ))),
        Expr::Binary(Op::Or, a, b) => Ok(Some(Value::Bool(
            truthy(eval(a, scope)?.as_ref()) || truthy(eval(b, scope)?.as_ref()),
        ))),
        Expr::Binary(op, a, b) => {
            let (x, y) = (required(a, scope)?, required(b, scope)?);
            let result = match op {
                Op::Eq => equal(&x, &y),
                Op::Ne => !equal(&x, &y),
                _ => {
                    let ordering = match (&x, &y) {
                        (Value::Number(m), Value::Number(n)) => m.as_f64().partial_cmp(&n.as_f64()),
                        (Value::String(m), Value::String(n)) => Some(m.cmp(n)),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        type_error(format!("cannot order {x} and {y}: numbers or strings only"))
                    })?;
                    match op {
                        Op::Lt => ordering.is_lt(),
                        Op::Le => ordering.is_le(),
                        Op::Gt => ordering.is_gt(),
                        _ => ordering.is_ge(),
                    }
                }
            };
            Ok(Some(Value::Bool(result)))
        }
        Expr::Call(func, args) => call(*func, args, scope).map(Some),
    }
}

/// Evaluates and fails on a missing value.
pub fn required(expr: &Expr, scope: &Scope<'_>) -> Result<Value, EvalError> {
    eval(expr, scope)?.ok_or_else(|| EvalError::Missing(describe(expr)))
}

fn text_of(v: &Value, func: &str) -> Result<String, EvalError> {
    match v {
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => Err(type_error(format!(
            "{func}() joins text, not {}",
            if v.is_array() { "a list" } else { "an object" }
        ))),
        other => Ok(scalar_text(other).unwrap_or_default()),
    }
}

fn call(func: Func, args: &[Expr], scope: &Scope<'_>) -> Result<Value, EvalError> {
    let arg = |i: usize| required(&args[i], scope);
    Ok(match func {
        Func::If => {
            if truthy(eval(&args[0], scope)?.as_ref()) {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        Func::Not => Value::Bool(!truthy(eval(&args[0], scope)?.as_ref())),
        Func::And => {
            let mut all = true;
            for a in args {
                all &= truthy(eval(a, scope)?.as_ref());
            }
            Value::Bool(all)
        }
        Func::Or => {
            let mut any = false;
            for a in args {
                any |= truthy(eval(a, scope)?.as_ref());
            }
            Value::Bool(any)
        }
        Func::Equals => Value::Bool(equal(&arg(0)?, &arg(1)?)),
        Func::Exists => Value::Bool(!matches!(eval(&args[0], scope)?, None | Some(Value::Null))),
        Func::Empty => Value::Bool(match eval(&args[0], scope)? {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(o)) => o.is_empty(),
            Some(_) => false,
        }),
        Func::Count => match arg(0)? {
            Value::Array(a) => Value::from(a.len()),
            Value::String(s) => Value::from(s.encode_utf16().count()),
            Value::Object(o) => Value::from(o.len()),
            other => return Err(type_error(format!("count() of {other}"))),
        },
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                out.push_str(&text_of(&required(a, scope)?, "concat")?);
            }
            Value::String(out)
        }
        Func::String => match arg(0)? {
            Value::Null => Value::String(String::new()),
            v @ (Value::Array(_) | Value::Object(_)) => Value::String(v.to_string()),
            v => Value::String(scalar_text(&v).unwrap_or_default()),
        },
        Func::Join => {
            let Value::Array(items) = arg(0)? else {
                return Err(type_error("join() needs a list"));
            };
            let Value::String(sep) = arg(1)? else {
                return Err(type_error("join() needs a text separator"));
            };
            let parts = items
                .iter()
                .map(|v| text_of(v, "join"))
                .collect::<Result<Vec<_>, _>>()?;
            Value::String(parts.join(&sep))
        }
        Func::ToUpper | Func::ToLower => match arg(0)? {
            Value::String(s) if func == Func::ToUpper => Value::String(s.to_uppercase()),
            Value::String(s) => Value::String(s.to_lowercase()),
            Value::Null => Value::String(String::new()),
            other => return Err(type_error(format!("{func:?}() of {other}"))),
        },
        Func::Contains => match (arg(0)?, arg(1)?) {
            (Value::String(s), Value::String(t)) => Value::Bool(s.contains(t.as_str())),
            (Value::Array(items), v) => Value::Bool(items.iter().any(|i| equal(i, &v))),
            (Value::Object(map), Value::String(k)) => Value::Bool(map.contains_key(&k)),
            (a, b) => return Err(type_error(format!("contains({a}, {b})"))),
        },
        Func::First | Func::Last => match arg(0)? {
            Value::Array(items) => {
                let item = if func == Func::First {
                    items.first()
                } else {
                    items.last()
                };
                item.cloned()
                    .ok_or_else(|| EvalError::Missing(format!("{func:?}() of an empty list")))?
            }
            other => return Err(type_error(format!("{func:?}() of {other}"))),
        },
    })
}

/// An empty object, for templates expanded without data.
pub fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(src: &str, data: Value) -> Result<Option<Value>, EvalError> {
        let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        eval(
            &expr,
            &Scope {
                data: &data,
                root: &data,
                index: None,
            },
        )
    }

    #[test]
    fn paths_reach_into_objects_and_lists() {
        let data = json!({"a": {"b": [10, {"c": "x"}]}, "k": "b", "i": 1});
        assert_eq!(run("a.b[0]", data.clone()), Ok(Some(json!(10))));
        assert_eq!(run("a.b[i].c", data.clone()), Ok(Some(json!("x"))));
        assert_eq!(run("a[k][1]['c']", data.clone()), Ok(Some(json!("x"))));
        assert_eq!(run("a.missing", data.clone()), Ok(None));
        assert!(matches!(run("a.b[5]", data), Err(EvalError::Type(_))));
    }

    #[test]
    fn logic_treats_only_false_null_and_missing_as_false() {
        let data = json!({"zero": 0, "empty": "", "no": false, "nil": null});
        for (src, want) in [
            ("zero && empty", true),
            ("!zero", false),
            ("no || nil", false),
            ("missing || zero", true),
            ("if(nil, true, false)", false),
            ("not(empty)", false),
        ] {
            assert_eq!(run(src, data.clone()), Ok(Some(json!(want))), "{src}");
        }
    }

    #[test]
    fn comparisons_follow_the_reference_engine() {
        let data = json!({"n": 1, "f": 1.0, "s": "1", "o": {"a": [1]}, "p": {"a": [1.0]}});
        for (src, want) in [
            ("n == f", true),
            ("n == s", false),
            ("o == p", true),
            ("'b' < 'a'", false),
            ("n >= 1 && n <= 2", true),
        ] {
            assert_eq!(run(src, data.clone()), Ok(Some(json!(want))), "{src}");
        }
        assert!(run("n < s", data).is_err());
    }

    #[test]
    fn arithmetic_and_unknown_functions_are_refused_at_parse_time() {
        assert_eq!(parse("a + 1"), Err(SyntaxError::Arithmetic('+')));
        assert!(matches!(
            parse("formatNumber(a, 1)"),
            Err(SyntaxError::UnknownFunction(_))
        ));
        assert!(matches!(
            parse("if(a, b)"),
            Err(SyntaxError::Arity { got: 2, .. })
        ));
        assert!(matches!(
            parse("$host.x"),
            Err(SyntaxError::UnknownVariable(_))
        ));
        assert!(parse("a b").is_err());
        assert!(parse("'open").is_err());
    }

    #[test]
    fn numbers_are_written_the_way_javascript_writes_them() {
        assert_eq!(scalar_text(&json!(2.0)).unwrap(), "2");
        assert_eq!(scalar_text(&json!(1.5)).unwrap(), "1.5");
        assert_eq!(scalar_text(&json!(0.1)).unwrap(), "0.1");
        assert_eq!(scalar_text(&json!(-3)).unwrap(), "-3");
        assert_eq!(scalar_text(&json!(true)).unwrap(), "true");
        assert_eq!(scalar_text(&json!({"a": 1})), None);
    }
}
