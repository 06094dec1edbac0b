//! The OData query options the simulated Graph understands: `$top`, `$select`, `$skiptoken`,
//! `$count`, `$expand` and the `$filter` forms reference/graph.md lists.

use jiff::Timestamp;

/// A request's query options, parsed.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub top: Option<usize>,
    pub select: Option<Vec<String>>,
    pub skip: usize,
    pub count: bool,
    pub expand: Option<String>,
    pub filter: Option<Filter>,
    /// Every pair as received, so a next link can repeat them.
    pub raw: Vec<(String, String)>,
}

/// Why a query was refused; becomes a Graph 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
}

impl QueryError {
    fn new(message: impl Into<String>) -> QueryError {
        QueryError {
            code: "BadRequest",
            message: message.into(),
        }
    }
}

impl Query {
    /// Parses the raw query string of a request.
    pub fn parse(raw: Option<&str>) -> Result<Query, QueryError> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let mut query = Query::default();
        for (key, value) in &pairs {
            match key.trim_start_matches('$').to_ascii_lowercase().as_str() {
                "top" => {
                    let top = value.trim().parse::<i64>().map_err(|_| {
                        QueryError::new(format!("Invalid page size specified: '{value}'."))
                    })?;
                    query.top = Some(top.max(0) as usize);
                    if top < 1 {
                        return Err(QueryError {
                            code: "Request_UnsupportedQuery",
                            message: format!(
                                "Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."
                            ),
                        });
                    }
                }
                "select" => {
                    query.select = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "skiptoken" => {
                    query.skip = decode_skiptoken(value)
                        .ok_or_else(|| QueryError::new("Invalid skip token."))?
                }
                "count" => query.count = value.eq_ignore_ascii_case("true"),
                "expand" => query.expand = Some(value.trim().to_owned()),
                "filter" => query.filter = Some(Filter::parse(value)?),
                _ => {}
            }
        }
        query.raw = pairs;
        Ok(query)
    }

    /// The query string of the page starting at `skip`, for `@odata.nextLink`.
    pub fn next_query(&self, skip: usize) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.raw {
            if !k.trim_start_matches('$').eq_ignore_ascii_case("skiptoken") {
                out.append_pair(k, v);
            }
        }
        out.append_pair("$skiptoken", &encode_skiptoken(skip));
        // Graph writes system query options with a literal `$`.
        out.finish().replace("%24", "$")
    }
}

const SKIPTOKEN_PREFIX: &str = "RFNwdAIAAQAAA";

/// An opaque-looking token for an offset; clients must follow next links, not build these.
fn encode_skiptoken(skip: usize) -> String {
    format!("{SKIPTOKEN_PREFIX}{skip:x}")
}

fn decode_skiptoken(raw: &str) -> Option<usize> {
    usize::from_str_radix(raw.strip_prefix(SKIPTOKEN_PREFIX)?, 16).ok()
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Time(Timestamp),
    Number(i64),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

/// One condition of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare(String, Op, Literal),
    In(String, Vec<Literal>),
    /// `field/any(x:x eq 'v')`.
    Any(String, Literal),
    StartsWith(String, String),
}

/// `or` of `and`s of conditions (no parenthesised groups, as the bot's filters need none).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub any_of: Vec<Vec<Condition>>,
}

/// A value a resource offers for a filter field.
pub enum FieldValue<'a> {
    Str(&'a str),
    Owned(String),
    Bool(bool),
    Time(Timestamp),
    Number(i64),
    List(Vec<&'static str>),
    Null,
}

impl Filter {
    pub fn parse(raw: &str) -> Result<Filter, QueryError> {
        let invalid = || QueryError::new(format!("Invalid filter clause: {raw}"));
        let any_of = split_top(raw, " or ")
            .into_iter()
            .map(|branch| {
                split_top(&branch, " and ")
                    .into_iter()
                    .map(|c| parse_condition(c.trim()).ok_or_else(invalid))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Filter { any_of })
    }

    /// Whether a resource matches; `field` answers `None` for unsupported fields.
    pub fn matches<'a>(
        &self,
        field: impl Fn(&str) -> Option<FieldValue<'a>>,
    ) -> Result<bool, QueryError> {
        for branch in &self.any_of {
            let mut all = true;
            for condition in branch {
                if !eval(condition, &field)? {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// If every branch pins `field` with `eq`/`in`, the values it may take.
    pub fn pinned(&self, field: &str) -> Option<Vec<String>> {
        let mut values = Vec::new();
        for branch in &self.any_of {
            let mut found = false;
            for condition in branch {
                match condition {
                    Condition::Compare(f, Op::Eq, Literal::Str(v))
                        if f.eq_ignore_ascii_case(field) =>
                    {
                        values.push(v.clone());
                        found = true;
                        break;
                    }
                    Condition::In(f, list) if f.eq_ignore_ascii_case(field) => {
                        values.extend(list.iter().filter_map(|l| match l {
                            Literal::Str(s) => Some(s.clone()),
                            _ => None,
                        }));
                        found = true;
                        break;
                    }
                    _ => {}
                }
            }
            if !found {
                return None;
            }
        }
        Some(values)
    }
}

fn unsupported(field: &str) -> QueryError {
    QueryError {
        code: "Request_UnsupportedQuery",
        message: format!(
            "Unsupported or invalid query filter clause specified for property '{field}' of resource."
        ),
    }
}

fn eval<'a>(
    condition: &Condition,
    field: &impl Fn(&str) -> Option<FieldValue<'a>>,
) -> Result<bool, QueryError> {
    let get = |name: &str| field(name).ok_or_else(|| unsupported(name));
    Ok(match condition {
        Condition::Compare(name, op, lit) => compare(&get(name)?, *op, lit),
        Condition::In(name, list) => {
            let value = get(name)?;
            list.iter().any(|l| compare(&value, Op::Eq, l))
        }
        Condition::Any(name, lit) => match (get(name)?, lit) {
            (FieldValue::List(items), Literal::Str(s)) => items.contains(&s.as_str()),
            _ => false,
        },
        Condition::StartsWith(name, prefix) => match get(name)? {
            FieldValue::Str(s) => s.to_lowercase().starts_with(&prefix.to_lowercase()),
            FieldValue::Owned(s) => s.to_lowercase().starts_with(&prefix.to_lowercase()),
            _ => false,
        },
    })
}

fn compare(value: &FieldValue<'_>, op: Op, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let ordering = match (value, lit) {
        (FieldValue::Str(a), Literal::Str(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        (FieldValue::Owned(a), Literal::Str(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        (FieldValue::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (FieldValue::Time(a), Literal::Time(b)) => Some(a.cmp(b)),
        (FieldValue::Number(a), Literal::Number(b)) => Some(a.cmp(b)),
        (FieldValue::Null, _) => None,
        _ => None,
    };
    match (ordering, op) {
        (None, Op::Ne) => true,
        (None, _) => false,
        (Some(o), Op::Eq) => o == Ordering::Equal,
        (Some(o), Op::Ne) => o != Ordering::Equal,
        (Some(o), Op::Ge) => o != Ordering::Less,
        (Some(o), Op::Gt) => o == Ordering::Greater,
        (Some(o), Op::Le) => o != Ordering::Greater,
        (Some(o), Op::Lt) => o == Ordering::Less,
    }
}

/// Splits on `sep` (case-insensitive) outside quotes and parentheses.
fn split_top(raw: &str, sep: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let lower = raw.to_ascii_lowercase();
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && lower[i..].starts_with(sep) => {
                parts.push(raw[start..i].to_owned());
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(raw[start..].to_owned());
    parts
}

fn parse_literal(raw: &str) -> Option<Literal> {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(Literal::Str(inner.replace("''", "'")));
    }
    match raw {
        "true" => return Some(Literal::Bool(true)),
        "false" => return Some(Literal::Bool(false)),
        _ => {}
    }
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(Literal::Time(t));
    }
    raw.parse::<i64>().ok().map(Literal::Number)
}

fn parse_condition(raw: &str) -> Option<Condition> {
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("startswith(") && raw.ends_with(')') {
        let inner = &raw["startswith(".len()..raw.len() - 1];
        let (field, value) = inner.split_once(',')?;
        let Literal::Str(prefix) = parse_literal(value)? else {
            return None;
        };
        return Some(Condition::StartsWith(field.trim().to_owned(), prefix));
    }
    if let Some(pos) = lower.find("/any(") {
        let field = raw[..pos].trim().to_owned();
        let inner = raw[pos + 5..].strip_suffix(')')?;
        let (var, body) = inner.split_once(':')?;
        let body = body.trim();
        let rest = body.strip_prefix(var.trim())?.trim_start();
        let value = rest.strip_prefix("eq ")?;
        return Some(Condition::Any(field, parse_literal(value)?));
    }
    let mut words = raw.splitn(3, ' ');
    let field = words.next()?.trim().to_owned();
    let op = words.next()?.to_ascii_lowercase();
    let value = words.next()?.trim();
    let op = match op.as_str() {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "ge" => Op::Ge,
        "gt" => Op::Gt,
        "le" => Op::Le,
        "lt" => Op::Lt,
        "in" => {
            let inner = value.strip_prefix('(')?.strip_suffix(')')?;
            let list = split_top(inner, ",")
                .iter()
                .map(|v| parse_literal(v))
                .collect::<Option<Vec<_>>>()?;
            return Some(Condition::In(field, list));
        }
        _ => return None,
    };
    Some(Condition::Compare(field, op, parse_literal(value)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_of_the_reference_parse_and_match() {
        let f =
            Filter::parse("userId eq 'abc' and createdDateTime ge 2026-08-20T00:00:00Z").unwrap();
        let t: Timestamp = "2026-08-21T00:00:00Z".parse().unwrap();
        let field = |name: &str| match name {
            "userId" => Some(FieldValue::Str("ABC")),
            "createdDateTime" => Some(FieldValue::Time(t)),
            _ => None,
        };
        assert!(f.matches(field).unwrap());
        assert_eq!(f.pinned("userid"), Some(vec!["abc".to_owned()]));

        let f = Filter::parse("id in ('a', 'b') or userPrincipalName eq 'x@y.com'").unwrap();
        assert_eq!(f.any_of.len(), 2);
        assert_eq!(f.pinned("id"), None);

        let f = Filter::parse("methodsRegistered/any(x:x eq 'passKeyDeviceBound')").unwrap();
        let list = |_: &str| Some(FieldValue::List(vec!["passKeyDeviceBound"]));
        assert!(f.matches(list).unwrap());
        assert!(Filter::parse("nonsense").is_err());
    }

    #[test]
    fn skiptokens_round_trip() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(12345)), Some(12345));
        assert_eq!(decode_skiptoken("garbage"), None);
    }
}
