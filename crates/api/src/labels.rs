//! Label selectors and label validation, with upstream's semantics and messages
//! (`k8s.io/apimachinery/pkg/labels/selector.go`, `pkg/api/validate/content/kube.go`,
//! `pkg/apis/meta/v1/helpers.go`).
//!
//! - [`LabelSelector::parse`] reads the string syntax of `?labelSelector=` and `kubectl -l`:
//!   `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by
//!   commas (AND), whitespace between tokens ignored.
//! - [`LabelSelector::from_meta`] converts the `metav1.LabelSelector` structure
//!   ([`MetaLabelSelector`]: `matchLabels` + `matchExpressions` with `In`, `NotIn`, `Exists`,
//!   `DoesNotExist`) as `LabelSelectorAsSelector` does: an empty structure selects everything,
//!   an absent one ([`LabelSelector::from_optional_meta`] with `None`) selects nothing.
//! - `!=` and `notin` match objects that do not have the label at all.
//! - [`label_key_errors`] / [`label_value_errors`] are upstream's key and value rules, for
//!   validating `metadata.labels` too.
//!
//! Error texts are upstream's, byte for byte where this module could check them, so that
//! kubectl users see the messages they know.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

// ---------------------------------------------------------------------------------------------
// Validation (upstream content.IsLabelKey, content.IsLabelValue, content.IsDNS1123Subdomain)

const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// Longest label name (the part after the prefix) and label value, in bytes.
pub const LABEL_MAX_LENGTH: usize = 63;
/// Longest DNS-1123 subdomain (a label key's prefix), in bytes.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;

/// Upstream's `RegexError`: the message, examples and the pattern it is checked against.
fn regex_error(msg: &str, re: &str, examples: &[&str]) -> String {
    let mut out = String::from(msg);
    if examples.is_empty() {
        out.push_str(" (regex used for validation is '");
    } else {
        out.push_str(" (e.g. ");
        for (i, example) in examples.iter().enumerate() {
            if i > 0 {
                out.push_str(" or ");
            }
            out.push('\'');
            out.push_str(example);
            out.push_str("', ");
        }
        out.push_str("regex used for validation is '");
    }
    out.push_str(re);
    out.push_str("')");
    out
}

fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} bytes")
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, i.e. non-empty, alphanumeric at both ends.
fn is_label_name_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// One DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn is_dns1123_label_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            edge(first) && edge(last) && b.iter().all(|c| edge(c) || *c == b'-')
        }
        _ => false,
    }
}

/// Upstream's `IsDNS1123Subdomain`: the problems with `value`, empty when it is valid.
pub fn dns1123_subdomain_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !value.split('.').all(is_dns1123_label_syntax) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// Upstream's `IsLabelKey` (`IsQualifiedName`): an optional DNS subdomain prefix and `/`,
/// then a name of at most 63 alphanumerics, `-`, `_`, `.` starting and ending alphanumeric.
/// Returns the problems, empty when the key is valid.
pub fn label_key_errors(key: &str) -> Vec<String> {
    let examples = ["MyName", "my.name", "123-abc"];
    let mut errs = Vec::new();
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain_errors(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &examples)
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > LABEL_MAX_LENGTH {
        errs.push(format!("name part {}", max_len_error(LABEL_MAX_LENGTH)));
    }
    if !is_label_name_syntax(name) {
        errs.push(format!(
            "name part {}",
            regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &examples)
        ));
    }
    errs
}

/// Upstream's `IsLabelValue`: empty, or at most 63 alphanumerics, `-`, `_`, `.` starting and
/// ending alphanumeric. Returns the problems, empty when the value is valid.
pub fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_MAX_LENGTH {
        errs.push(max_len_error(LABEL_MAX_LENGTH));
    }
    if !value.is_empty() && !is_label_name_syntax(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Go-compatible rendering of bad values inside messages (field.Invalid's `%q` / JSON)

/// Go's `%q` of a string (strconv.Quote) for the characters that matter here.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `json.Marshal` of a `[]string` (`null` for none, as a nil slice marshals).
fn go_json_strings(values: &[String]) -> String {
    if values.is_empty() {
        return "null".to_string();
    }
    let mut out = String::from("[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in v.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                }
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

/// `field.Invalid(path, value, detail).Error()`.
fn invalid(path: &str, rendered_value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {rendered_value}: {detail}")
}

/// `ErrorList.ToAggregate().Error()`: one message as is, several deduplicated in brackets.
fn aggregate(messages: Vec<String>) -> Option<String> {
    let mut seen = BTreeSet::new();
    let unique: Vec<String> = messages
        .into_iter()
        .filter(|m| seen.insert(m.clone()))
        .collect();
    match unique.len() {
        0 => None,
        1 => unique.into_iter().next(),
        _ => Some(format!("[{}]", unique.join(", "))),
    }
}

// ---------------------------------------------------------------------------------------------
// Requirements

/// How a requirement relates a label to its values (upstream `selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `key in (v1,v2)`: the label is present with one of the values.
    In,
    /// `key notin (v1,v2)`: the label is absent, or present with none of the values.
    NotIn,
    /// `key=v`: the label is present with the value.
    Equals,
    /// `key==v`: the same as [`Operator::Equals`], kept for printing.
    DoubleEquals,
    /// `key!=v`: the label is absent, or present with another value.
    NotEquals,
    /// `key`: the label is present.
    Exists,
    /// `!key`: the label is absent.
    DoesNotExist,
    /// `key>n`: the label is present and an integer greater than `n`.
    GreaterThan,
    /// `key<n`: the label is present and an integer less than `n`.
    LessThan,
}

/// One condition on one label key. Build it with [`Requirement::new`], which validates like
/// upstream's `NewRequirement`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// Validate and build a requirement: a valid key; at least one value for `In` / `NotIn`,
    /// exactly one for `=` / `==` / `!=` and exactly one integer for `>` / `<`, none for
    /// `Exists` / `DoesNotExist`; every value a valid label value (the empty string is one).
    pub fn new(key: impl Into<String>, operator: Operator, values: Vec<String>) -> Result<Self> {
        let key = key.into();
        let mut errs = Vec::new();
        let key_errs = label_key_errors(&key);
        if !key_errs.is_empty() {
            errs.push(invalid("key", &go_quote(&key), &key_errs.join("; ")));
        }
        let count_problem = match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                Some("for 'in', 'notin' operators, values set can't be empty")
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                Some("exact-match compatibility requires one single value")
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                Some("values set must be empty for exists and does not exist")
            }
            Operator::GreaterThan | Operator::LessThan if values.len() != 1 => {
                Some("for 'Gt', 'Lt' operators, exactly one value is required")
            }
            _ => None,
        };
        if let Some(detail) = count_problem {
            errs.push(invalid("values", &go_json_strings(&values), detail));
        }
        if matches!(operator, Operator::GreaterThan | Operator::LessThan) {
            for (i, v) in values.iter().enumerate() {
                if v.parse::<i64>().is_err() {
                    errs.push(invalid(
                        &format!("values[{i}]"),
                        &go_quote(v),
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    ));
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let value_errs = label_value_errors(v);
            if !value_errs.is_empty() {
                errs.push(invalid(
                    &format!("values[{i}][{key}]"),
                    &go_quote(v),
                    &value_errs.join("; "),
                ));
            }
        }
        match aggregate(errs) {
            Some(message) => Err(Error::InvalidLabelSelector(message)),
            None => Ok(Requirement {
                key,
                operator,
                values,
            }),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values as given (sorted and deduplicated when parsed from a string).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether a set of labels satisfies the requirement. `NotIn`, `!=` and `!key` match
    /// objects without the label; `>` / `<` never match a missing or non-integer value.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|v| self.values.contains(v))
            }
            Operator::NotIn | Operator::NotEquals => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(actual), [bound]) = (value, self.values.as_slice()) else {
                    return false;
                };
                match (actual.parse::<i64>(), bound.parse::<i64>()) {
                    (Ok(actual), Ok(bound)) => {
                        if self.operator == Operator::GreaterThan {
                            actual > bound
                        } else {
                            actual < bound
                        }
                    }
                    _ => false,
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Upstream's `Requirement.String()`: `!k`, `k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
    /// `k notin (a,b)`, `k>1`, `k<1`, several values sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.operator {
            Operator::DoesNotExist => return write!(f, "!{}", self.key),
            Operator::Exists => return f.write_str(&self.key),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };
        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        let joined = values.join(",");
        match self.operator {
            Operator::In | Operator::NotIn => write!(f, "{}{op}({joined})", self.key),
            _ => write!(f, "{}{op}{joined}", self.key),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Selectors

/// A parsed label selector: the AND of its requirements, or "nothing" (matches no object),
/// what an absent `metav1.LabelSelector` means.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LabelSelector {
    /// Sorted by key (stable), as upstream keeps them.
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl LabelSelector {
    /// The selector that matches every object (the empty string, an empty structure).
    pub fn everything() -> Self {
        LabelSelector::default()
    }

    /// The selector that matches no object (an absent `metav1.LabelSelector`).
    pub fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Parse upstream's string syntax (see the module doc). Errors carry upstream's message,
    /// e.g. `unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`.
    pub fn parse(selector: &str) -> Result<Self> {
        let requirements = Parser::new(selector)
            .parse()
            .map_err(Error::InvalidLabelSelector)?;
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// The selector matching exactly these labels (`key=value` for each); an empty map
    /// selects everything. Like upstream's `SelectorFromSet`, nothing is validated.
    pub fn from_set(labels: &BTreeMap<String, String>) -> Self {
        let requirements = labels
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                operator: Operator::Equals,
                values: vec![v.clone()],
            })
            .collect();
        LabelSelector::from_requirements(requirements)
    }

    /// Convert a `metav1.LabelSelector` (upstream `LabelSelectorAsSelector`): `matchLabels`
    /// become `=` requirements, `matchExpressions` `in` / `notin` / exists / `!`; an empty
    /// structure selects everything.
    pub fn from_meta(meta: &MetaLabelSelector) -> Result<Self> {
        let mut requirements =
            Vec::with_capacity(meta.match_labels.len() + meta.match_expressions.len());
        for (k, v) in &meta.match_labels {
            requirements.push(Requirement::new(
                k.clone(),
                Operator::Equals,
                vec![v.clone()],
            )?);
        }
        for expr in &meta.match_expressions {
            let operator = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(Error::InvalidLabelSelector(format!(
                        "{} is not a valid label selector operator",
                        go_quote(other)
                    )))
                }
            };
            requirements.push(Requirement::new(
                expr.key.clone(),
                operator,
                expr.values.clone(),
            )?);
        }
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// [`LabelSelector::from_meta`] for an optional field: `None` selects nothing, as
    /// upstream treats a nil `*metav1.LabelSelector`.
    pub fn from_optional_meta(meta: Option<&MetaLabelSelector>) -> Result<Self> {
        match meta {
            Some(meta) => LabelSelector::from_meta(meta),
            None => Ok(LabelSelector::nothing()),
        }
    }

    fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector {
            requirements,
            nothing: false,
        }
    }

    /// Add a requirement (AND). Adding to [`LabelSelector::nothing`] leaves it nothing.
    pub fn add(&mut self, requirement: Requirement) {
        if self.nothing {
            return;
        }
        self.requirements.push(requirement);
        self.requirements.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// Whether the labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether the selector restricts nothing (upstream `Empty()`): matches every object.
    pub fn is_everything(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Whether this is [`LabelSelector::nothing`].
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// If the selector demands one exact value for `key` (`key=v`, `key==v` or
    /// `key in (v)`), that value: lets a caller use an index instead of scanning.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == key)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [only]) => Some(only),
            _ => None,
        }
    }
}

impl fmt::Display for LabelSelector {
    /// The canonical string form (upstream `String()`): requirements sorted by key, joined by
    /// commas; [`LabelSelector::everything`] and [`LabelSelector::nothing`] print as "".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for LabelSelector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LabelSelector::parse(s)
    }
}

impl TryFrom<&MetaLabelSelector> for LabelSelector {
    type Error = Error;
    fn try_from(meta: &MetaLabelSelector) -> Result<Self> {
        LabelSelector::from_meta(meta)
    }
}

// ---------------------------------------------------------------------------------------------
// metav1.LabelSelector

/// The `metav1.LabelSelector` structure as it appears in objects (`spec.selector` of
/// Deployments, ReplicaSets, Jobs, PodDisruptionBudgets...). Serialises like upstream; a
/// JSON `null` for either field reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaLabelSelector {
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_labels: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_expressions: Vec<MetaLabelSelectorRequirement>,
}

/// One `matchExpressions` entry. `operator` is kept as text so an unknown one can be
/// reported with upstream's message instead of failing to deserialise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MetaLabelSelectorRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// The parser: upstream's lexer and recursive descent, token for token, so that what upstream
// accepts, rejects and says matches.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// Whether the parser is reading a key and operator (where `in` / `notin` are keywords) or
/// values (where they are plain identifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

fn literal_token(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    /// The next byte, 0 at the end; a NUL byte also reads as 0 (and so ends a token, or the
    /// selector where a token would start), as upstream.
    fn read(&mut self) -> u8 {
        match self.s.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn scan_id_or_keyword(&mut self) -> (Token, String) {
        let mut buffer = Vec::new();
        loop {
            match self.read() {
                0 => break,
                c if is_special_symbol(c) || is_whitespace(c) => {
                    self.unread();
                    break;
                }
                c => buffer.push(c),
            }
        }
        let literal = String::from_utf8_lossy(&buffer).into_owned();
        match literal_token(&buffer) {
            Some(tok) => (tok, literal),
            None => (Token::Identifier, literal),
        }
    }

    fn scan_special_symbol(&mut self) -> (Token, String) {
        let mut buffer = Vec::new();
        let mut last: Option<(Token, usize)> = None;
        loop {
            match self.read() {
                0 => break,
                c if is_special_symbol(c) => {
                    buffer.push(c);
                    if let Some(tok) = literal_token(&buffer) {
                        last = Some((tok, buffer.len()));
                    } else if last.is_some() {
                        self.unread();
                        break;
                    }
                }
                _ => {
                    self.unread();
                    break;
                }
            }
        }
        match last {
            Some((tok, len)) => (tok, String::from_utf8_lossy(&buffer[..len]).into_owned()),
            None => (
                Token::Error,
                format!(
                    "error expected: keyword found '{}'",
                    String::from_utf8_lossy(&buffer)
                ),
            ),
        }
    }

    fn lex(&mut self) -> (Token, String) {
        let mut c = self.read();
        while is_whitespace(c) {
            c = self.read();
        }
        match c {
            0 => (Token::EndOfString, String::new()),
            c if is_special_symbol(c) => {
                self.unread();
                self.scan_special_symbol()
            }
            _ => {
                self.unread();
                self.scan_id_or_keyword()
            }
        }
    }
}

struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

/// Upstream's `binaryOperators`, as listed in "expected:" messages.
const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

impl Parser {
    fn new(selector: &str) -> Self {
        let mut lexer = Lexer {
            s: selector.as_bytes(),
            pos: 0,
        };
        let mut items = Vec::new();
        loop {
            let (tok, lit) = lexer.lex();
            items.push((tok, lit));
            if tok == Token::EndOfString {
                break;
            }
        }
        Parser { items, position: 0 }
    }

    fn item(&self, position: usize, context: Context) -> (Token, String) {
        let (tok, lit) = self
            .items
            .get(position)
            .cloned()
            .unwrap_or((Token::EndOfString, String::new()));
        let tok = match (context, tok) {
            (Context::Values, Token::In | Token::NotIn) => Token::Identifier,
            (_, tok) => tok,
        };
        (tok, lit)
    }

    fn lookahead(&self, context: Context) -> (Token, String) {
        self.item(self.position, context)
    }

    fn consume(&mut self, context: Context) -> (Token, String) {
        let item = self.item(self.position, context);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> std::result::Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self
                        .parse_requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                ));
                            }
                        }
                        _ => return Err(format!("found '{l}', expected: ',' or 'end of string'")),
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> std::result::Result<Requirement, String> {
        let (key, operator) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = operator {
            return Requirement::new(key, op, Vec::new()).map_err(|e| e.to_string());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new(key, operator, values.into_iter().collect()).map_err(|e| e.to_string())
    }

    /// The key, and the operator when it is already known: `!key` is DoesNotExist, a key
    /// followed by `,` or the end is Exists.
    fn parse_key_and_infer_operator(
        &mut self,
    ) -> std::result::Result<(String, Option<Operator>), String> {
        let mut operator = None;
        let (mut tok, mut literal) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, literal) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        let errs = label_key_errors(&literal);
        if !errs.is_empty() {
            return Err(invalid("<nil>", &go_quote(&literal), &errs.join("; ")));
        }
        let (next, _) = self.lookahead(Context::Values);
        if matches!(next, Token::EndOfString | Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> std::result::Result<Operator, String> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{lit}', expected: {BINARY_OPERATORS}")),
        })
    }

    /// `(a,b,c)`: a set, sorted and deduplicated; empty entries (`(,a)`, `()`) are "".
    fn parse_values(&mut self) -> std::result::Result<BTreeSet<String>, String> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let set = self.parse_identifiers_list()?;
                let (tok, _) = self.consume(Context::Values);
                if tok != Token::ClosedPar {
                    // Upstream names the token after '(' here, not the offending one.
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(set)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> std::result::Result<BTreeSet<String>, String> {
        let mut set = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    set.insert(lit);
                    let (tok2, lit2) = self.lookahead(Context::Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(set),
                        _ => return Err(format!("found '{lit2}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if set.is_empty() {
                        set.insert(String::new()); // "(,"
                    }
                    let (tok2, _) = self.lookahead(Context::Values);
                    if tok2 == Token::ClosedPar {
                        set.insert(String::new()); // ",)"
                        return Ok(set);
                    }
                    if tok2 == Token::Comma {
                        set.insert(String::new()); // ",,"
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    /// The one value after `=`, `==`, `!=`, `>`, `<`; nothing before `,` or the end is "".
    fn parse_exact_value(&mut self) -> std::result::Result<BTreeSet<String>, String> {
        let (tok, _) = self.lookahead(Context::Values);
        if matches!(tok, Token::EndOfString | Token::Comma) {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier {
            Ok(BTreeSet::from([lit]))
        } else {
            Err(format!("found '{lit}', expected: identifier"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pairs<'a> = &'a [(&'a str, &'a str)];

    fn labels(pairs: Pairs) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn parse_err(s: &str) -> String {
        match LabelSelector::parse(s) {
            Ok(sel) => panic!("{s:?} parsed as {sel:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn matching() {
        let none: Pairs = &[];
        let cases: &[(&str, Pairs, bool)] = &[
            ("", &[("x", "y")], true),
            ("", none, true),
            ("x=y", &[("x", "y")], true),
            ("x==y", &[("x", "y")], true),
            ("x=y", &[("x", "z")], false),
            ("x=z", none, false),
            ("x=y,z=w", &[("x", "y"), ("z", "w")], true),
            ("x=y,z=w", &[("x", "w"), ("z", "w")], false),
            ("x!=y,z!=w", &[("x", "z"), ("z", "a")], true),
            ("x!=y,z!=w", &[("x", "z"), ("z", "w")], false),
            ("x!=y", none, true), // != matches objects without the label
            ("x", &[("x", "z")], true),
            ("x", &[("y", "z")], false),
            ("!x", &[("y", "z")], true),
            ("!x", &[("x", "z")], false),
            ("x in (a,b)", &[("x", "b")], true),
            ("x in (a,b)", &[("x", "c")], false),
            ("x in (a,b)", none, false),
            ("x notin (a,b)", &[("x", "c")], true),
            ("x notin (a,b)", &[("x", "a")], false),
            ("x notin (a,b)", none, true), // notin matches objects without the label
            ("x in ()", &[("x", "")], true),
            ("x in (,a)", &[("x", "")], true),
            ("x=", &[("x", "")], true),
            ("x=", none, false),
            ("x>1", &[("x", "2")], true),
            ("x>1", &[("x", "1")], false),
            ("x>1", &[("x", "abc")], false),
            ("x>1", none, false),
            ("x<1", &[("x", "0")], true),
            ("x<1", &[("x", "-5")], true),
            ("x<1", &[("x", "2")], false),
            ("notin=in", &[("notin", "in")], true), // keywords as key and value
            ("in in (in)", &[("in", "in")], true),
            (
                " app = web , tier in ( a , b ) , !legacy ",
                &[("app", "web"), ("tier", "b")],
                true,
            ),
            (
                "app=web,tier in (a,b),!legacy",
                &[("app", "web"), ("tier", "b"), ("legacy", "")],
                false,
            ),
            ("example.com/role=db", &[("example.com/role", "db")], true),
            ("a=b\0", &[("a", "b")], true), // a NUL ends a token, as upstream
        ];
        for (selector, set, want) in cases {
            assert_eq!(
                parse(selector).matches(&labels(set)),
                *want,
                "{selector:?} on {set:?}"
            );
        }
    }

    #[test]
    fn canonical_string() {
        let cases = [
            ("x=a,y=b,z=c", "x=a,y=b,z=c"),
            ("", ""),
            ("x!=a,y=b", "x!=a,y=b"),
            ("x=", "x="),
            ("x= ", "x="),
            ("x=,z= ", "x=,z="),
            ("x= ,z= ", "x=,z="),
            ("!x", "!x"),
            ("x>1", "x>1"),
            ("x>1,z<5", "x>1,z<5"),
            ("x==a", "x==a"),
            ("z=a,x=b", "x=b,z=a"),
            ("x in (c,a,b,a)", "x in (a,b,c)"),
            ("x notin(b)", "x notin (b)"),
            ("x in (,a)", "x in (,a)"),
            ("x in (a,,b)", "x in (,a,b)"),
            ("x in (a,)", "x in (,a)"),
            ("x in ()", "x in ()"),
            ("  a  ,  !b  ", "a,!b"),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).to_string(), want, "{input:?}");
        }
        assert_eq!(
            parse("x=a,a=x").to_string(),
            parse("a=x,x=a").to_string(),
            "deterministic"
        );
    }

    #[test]
    fn syntax_errors() {
        let ops = "in, notin, =, ==, !=, gt, lt";
        let cases = [
            (
                "a=b\0c=d",
                "found 'c', expected: ',' or 'end of string'".to_string(),
            ),
            (
                "x==a==b",
                "found '==', expected: ',' or 'end of string'".to_string(),
            ),
            ("!x=a", "found '=', expected: ',' or 'end of string'".to_string()),
            (
                "a b",
                format!("unable to parse requirement: found 'b', expected: {ops}"),
            ),
            (
                "a,",
                "found '', expected: identifier after ','".to_string(),
            ),
            (
                ",a",
                "found ',', expected: !, identifier, or 'end of string'".to_string(),
            ),
            ("=a", "found '=', expected: !, identifier, or 'end of string'".to_string()),
            (
                "a in",
                "unable to parse requirement: found '' expected: '('".to_string(),
            ),
            (
                "a in (",
                "unable to parse requirement: found '', expected: ',', ')' or identifier"
                    .to_string(),
            ),
            (
                "a in (x",
                "unable to parse requirement: found '', expected: ',' or ')'".to_string(),
            ),
            (
                "a in (x,",
                "unable to parse requirement: found '', expected: ',', or identifier".to_string(),
            ),
            (
                "a in (x=)",
                "unable to parse requirement: found '=', expected: ',' or ')'".to_string(),
            ),
            (
                "a notin x",
                "unable to parse requirement: found 'x' expected: '('".to_string(),
            ),
            (
                "a=(",
                "unable to parse requirement: found '(', expected: identifier".to_string(),
            ),
            ("!", "unable to parse requirement: found '', expected: identifier".to_string()),
            (
                "x<a",
                "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
                    .to_string(),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_err(input), want, "{input:?}");
        }
    }

    #[test]
    fn validation_errors() {
        let key_rule = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
        let value_rule = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        let long = "a".repeat(64);
        let cases = [
            (
                "-a=b".to_string(),
                format!("unable to parse requirement: <nil>: Invalid value: \"-a\": name part {key_rule}"),
            ),
            (
                format!("{long}=b"),
                format!("unable to parse requirement: <nil>: Invalid value: \"{long}\": name part must be no more than 63 bytes"),
            ),
            (
                "a=-b".to_string(),
                format!("unable to parse requirement: values[0][a]: Invalid value: \"-b\": {value_rule}"),
            ),
            (
                format!("a={long}"),
                format!("unable to parse requirement: values[0][a]: Invalid value: \"{long}\": must be no more than 63 bytes"),
            ),
            (
                "a in (x,-y)".to_string(),
                format!("unable to parse requirement: values[0][a]: Invalid value: \"-y\": {value_rule}"),
            ),
            (
                "Example.com/a".to_string(),
                "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string(),
            ),
            (
                "/a".to_string(),
                "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty".to_string(),
            ),
            (
                "a/".to_string(),
                format!("unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; name part {key_rule}"),
            ),
            (
                "a/b/c".to_string(),
                format!("unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key {key_rule} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"),
            ),
            (
                "é=b".to_string(),
                format!("unable to parse requirement: <nil>: Invalid value: \"é\": name part {key_rule}"),
            ),
            (
                "x=a||y=b".to_string(),
                format!("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {value_rule}"),
            ),
            (
                "a=\"b\"".to_string(),
                format!("unable to parse requirement: values[0][a]: Invalid value: \"\\\"b\\\"\": {value_rule}"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_err(&input), want, "{input:?}");
        }
        assert!(label_key_errors("app.kubernetes.io/name").is_empty());
        assert!(label_key_errors("a").is_empty());
        assert!(label_key_errors(&format!("{}/a", "b".repeat(253))).is_empty());
        assert_eq!(
            label_key_errors(&format!("{}/a", "b".repeat(254))),
            ["prefix part must be no more than 253 bytes"]
        );
        assert!(label_value_errors("").is_empty());
        assert!(label_value_errors("A_b.c-9").is_empty());
        assert!(!label_value_errors("a b").is_empty());
        assert!(!label_value_errors("a.").is_empty());
        assert!(dns1123_subdomain_errors("a.b-c.d").is_empty());
        assert!(!dns1123_subdomain_errors("a..b").is_empty());
    }

    #[test]
    fn requirement_new_errors() {
        let err = |key: &str, op, values: &[&str]| {
            Requirement::new(key, op, values.iter().map(|v| v.to_string()).collect())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("a", Operator::In, &[]),
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
        );
        let value_rule = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        assert_eq!(
            err("a", Operator::Exists, &["x", "<y>"]),
            format!(
                "[values: Invalid value: [\"x\",\"\\u003cy\\u003e\"]: values set must be empty for exists and does not exist, values[1][a]: Invalid value: \"<y>\": {value_rule}]"
            )
        );
        assert_eq!(
            err("-", Operator::Equals, &["a", "b"]),
            "[key: Invalid value: \"-\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), values: Invalid value: [\"a\",\"b\"]: exact-match compatibility requires one single value]"
        );
        assert_eq!(
            err("a", Operator::GreaterThan, &["1", "2"]),
            "values: Invalid value: [\"1\",\"2\"]: for 'Gt', 'Lt' operators, exactly one value is required"
        );
        assert!(Requirement::new("a", Operator::NotIn, vec![String::new()]).is_ok());
    }

    #[test]
    fn from_meta() {
        let meta: MetaLabelSelector = serde_json::from_str(
            r#"{"matchLabels":{"app":"web"},
                "matchExpressions":[
                  {"key":"tier","operator":"In","values":["a","b"]},
                  {"key":"env","operator":"NotIn","values":["prod"]},
                  {"key":"team","operator":"Exists"},
                  {"key":"legacy","operator":"DoesNotExist","values":null}]}"#,
        )
        .unwrap();
        let sel = LabelSelector::from_meta(&meta).unwrap();
        assert_eq!(
            sel.to_string(),
            "app=web,env notin (prod),!legacy,team,tier in (a,b)"
        );
        let cases: &[(Pairs, bool)] = &[
            (&[("app", "web"), ("tier", "a"), ("team", "x")], true),
            (
                &[("app", "web"), ("tier", "a"), ("team", "x"), ("env", "dev")],
                true,
            ),
            (
                &[
                    ("app", "web"),
                    ("tier", "a"),
                    ("team", "x"),
                    ("env", "prod"),
                ],
                false,
            ),
            (
                &[
                    ("app", "web"),
                    ("tier", "a"),
                    ("team", "x"),
                    ("legacy", "1"),
                ],
                false,
            ),
            (&[("app", "web"), ("tier", "c"), ("team", "x")], false),
            (&[("app", "web"), ("tier", "a")], false),
            (&[("tier", "a"), ("team", "x")], false),
        ];
        for (set, want) in cases {
            assert_eq!(sel.matches(&labels(set)), *want, "{set:?}");
        }

        // Empty selects everything, absent selects nothing.
        let empty: MetaLabelSelector =
            serde_json::from_str(r#"{"matchLabels":null,"matchExpressions":null}"#).unwrap();
        let everything = LabelSelector::from_meta(&empty).unwrap();
        assert!(everything.is_everything() && everything.matches(&labels(&[("a", "b")])));
        let nothing = LabelSelector::from_optional_meta(None).unwrap();
        assert!(nothing.is_nothing() && !nothing.matches(&labels(&[])));
        assert_eq!(nothing.to_string(), "");

        // Upstream's errors.
        let bad_op = MetaLabelSelector {
            match_expressions: vec![MetaLabelSelectorRequirement {
                key: "a".into(),
                operator: "Gt".into(),
                values: vec!["1".into()],
            }],
            ..Default::default()
        };
        assert_eq!(
            LabelSelector::from_meta(&bad_op).unwrap_err().to_string(),
            "\"Gt\" is not a valid label selector operator"
        );
        let no_values = MetaLabelSelector {
            match_expressions: vec![MetaLabelSelectorRequirement {
                key: "a".into(),
                operator: "In".into(),
                values: vec![],
            }],
            ..Default::default()
        };
        assert_eq!(
            LabelSelector::try_from(&no_values).unwrap_err(),
            Error::InvalidLabelSelector(
                "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
                    .into()
            )
        );
        let bad_label = MetaLabelSelector {
            match_labels: BTreeMap::from([("a".into(), "b c".into())]),
            ..Default::default()
        };
        assert!(LabelSelector::from_meta(&bad_label)
            .unwrap_err()
            .to_string()
            .starts_with("values[0][a]: Invalid value: \"b c\": a valid label"));

        // Serialises like upstream (empty fields omitted).
        assert_eq!(
            serde_json::to_string(&meta).unwrap(),
            r#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]},{"key":"env","operator":"NotIn","values":["prod"]},{"key":"team","operator":"Exists"},{"key":"legacy","operator":"DoesNotExist"}]}"#
        );
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    }

    #[test]
    fn sets_and_exact_matches() {
        let set = labels(&[("app", "web"), ("tier", "db")]);
        let sel = LabelSelector::from_set(&set);
        assert_eq!(sel.to_string(), "app=web,tier=db");
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "db"), ("x", "y")])));
        assert!(!sel.matches(&labels(&[("app", "web")])));
        assert!(LabelSelector::from_set(&BTreeMap::new()).is_everything());

        let sel = parse("a=1,b in (2),c in (3,4),d!=5,e");
        assert_eq!(sel.requires_exact_match("a"), Some("1"));
        assert_eq!(sel.requires_exact_match("b"), Some("2"));
        assert_eq!(sel.requires_exact_match("c"), None);
        assert_eq!(sel.requires_exact_match("d"), None);
        assert_eq!(sel.requires_exact_match("e"), None);
        assert_eq!(sel.requires_exact_match("zz"), None);

        let mut sel = parse("b=1");
        sel.add(Requirement::new("a", Operator::Exists, vec![]).unwrap());
        assert_eq!(sel.to_string(), "a,b=1");
        let mut nothing = LabelSelector::nothing();
        nothing.add(Requirement::new("a", Operator::Exists, vec![]).unwrap());
        assert!(nothing.is_nothing());
        assert_eq!(
            "x in (a)"
                .parse::<LabelSelector>()
                .unwrap()
                .requirements()
                .len(),
            1
        );
    }

    #[test]
    fn no_panic_on_odd_input() {
        let inputs = [
            "(",
            ")",
            "((",
            "!!",
            "!=",
            "==",
            "<",
            ">",
            "<=",
            "a<=1",
            "a!!b",
            "a in ((",
            "a in )",
            "a in (b))",
            ",,",
            "\u{1F600}",
            "a=\u{1F600}",
            "a in (\u{1F600})",
            "\t\n\r",
            "!(",
            "a=b,",
            "a==",
            "a!=",
            "a>",
            "a notin",
            "in",
            "notin",
            "in in",
            "a in (in,notin)",
            "\0",
            "a\0",
            "é",
            "a,b,c,!d,e in (f),g notin (h),i=j,k==l,m!=n,o>1,p<2",
        ];
        for input in inputs {
            let _ = LabelSelector::parse(input);
        }
        assert!(parse("\t\n\r").is_everything());
        assert!(parse("a in (in,notin)").matches(&labels(&[("a", "notin")])));
    }

    #[test]
    fn go_quoting() {
        assert_eq!(
            go_quote("a\"b\\c\n\u{7}\u{1}é"),
            "\"a\\\"b\\\\c\\n\\a\\x01é\""
        );
        assert_eq!(go_quote("\u{a0}"), "\"\\u00a0\"");
    }
}
