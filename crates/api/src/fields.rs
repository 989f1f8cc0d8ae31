//! Field selectors (`?fieldSelector=`, `kubectl --field-selector`), with upstream's syntax,
//! semantics and messages (`k8s.io/apimachinery/pkg/fields/selector.go`).
//!
//! Syntax: terms joined by `,` (AND), each `field=value`, `field==value` or `field!=value`.
//! In a value, `\`, `,` and `=` are written `\\`, `\,`, `\=`. Nothing is trimmed: as upstream,
//! `a = b` compares field `a ` with value ` b`. Empty terms are skipped, so "" selects
//! everything.
//!
//! Matching is against a flat map the API server builds per kind (`metadata.name`,
//! `metadata.namespace`, `spec.nodeName`, `status.phase`, ...). A field missing from the map
//! reads as "" (upstream's `Set.Get`): `spec.nodeName=` selects unscheduled pods, and
//! `x!=v` matches objects without `x`. Which fields a kind supports is the API server's
//! business; [`FieldSelector::check_supported`] gives upstream's error for the others.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// How a term compares its field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `=` or `==` (upstream treats both alike and prints `=`).
    Equals,
    /// `!=`.
    NotEquals,
}

/// One term: `field=value` or `field!=value`, the value unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    pub field: String,
    pub operator: FieldOperator,
    pub value: String,
}

impl FieldRequirement {
    /// Whether the fields satisfy the term (a missing field reads as "").
    pub fn matches(&self, fields: &BTreeMap<String, String>) -> bool {
        let actual = fields.get(&self.field).map(String::as_str).unwrap_or("");
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

/// A parsed field selector: the AND of its terms. The default selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldSelector {
    /// In upstream's order: the raw terms sorted as strings.
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// The selector that matches every object.
    pub fn everything() -> Self {
        FieldSelector::default()
    }

    /// Parse a field selector (see the module doc). Errors carry upstream's message, e.g.
    /// `invalid selector: 'a'; can't understand 'a'`.
    pub fn parse(selector: &str) -> Result<Self> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut requirements = Vec::with_capacity(parts.len());
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((field, operator, raw_value)) = split_term(part) else {
                return Err(Error::InvalidFieldSelector(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                )));
            };
            let value = unescape_value(raw_value)?;
            // Upstream's identity transform drops a term whose field and value are both empty.
            if field.is_empty() && value.is_empty() {
                continue;
            }
            requirements.push(FieldRequirement {
                field: field.to_string(),
                operator,
                value,
            });
        }
        Ok(FieldSelector { requirements })
    }

    /// The selector `field=value` for every entry of the map.
    pub fn from_set(fields: &BTreeMap<String, String>) -> Self {
        FieldSelector {
            requirements: fields
                .iter()
                .map(|(field, value)| FieldRequirement {
                    field: field.clone(),
                    operator: FieldOperator::Equals,
                    value: value.clone(),
                })
                .collect(),
        }
    }

    /// Whether the fields satisfy every term.
    pub fn matches(&self, fields: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(fields))
    }

    /// Whether the selector restricts nothing.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// If a term demands `field=value`, that value (the first such term): lets a caller use an
    /// index, e.g. pods by `spec.nodeName`.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == FieldOperator::Equals)
            .map(|r| r.value.as_str())
    }

    /// Check every term's field against the fields a kind supports, with upstream's message
    /// for kinds that list their own (`field label not supported: spec.foo`). (For kinds with
    /// only `metadata.name` / `metadata.namespace`, upstream words it
    /// `"x" is not a known field selector: only "metadata.name", "metadata.namespace"`.)
    pub fn check_supported(&self, supported: &[&str]) -> Result<()> {
        match self
            .requirements
            .iter()
            .find(|r| !supported.contains(&r.field.as_str()))
        {
            Some(r) => Err(Error::InvalidFieldSelector(format!(
                "field label not supported: {}",
                r.field
            ))),
            None => Ok(()),
        }
    }
}

impl fmt::Display for FieldSelector {
    /// Upstream's `String()`: the terms joined by `,`, values escaped.
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

impl FromStr for FieldSelector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        FieldSelector::parse(s)
    }
}

/// Escape a literal value for a field selector: `\` -> `\\`, `,` -> `\,`, `=` -> `\=`.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Undo [`escape_value`]. An unknown escape, a lone trailing `\`, or an unescaped `,` / `=`
/// is an error (upstream's messages; the unescaped character is shown as its code point).
pub fn unescape_value(value: &str) -> Result<String> {
    if !value.contains(['\\', ',', '=']) {
        return Ok(value.to_string());
    }
    let mut out = String::with_capacity(value.len());
    let mut in_slash = false;
    for c in value.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                _ => {
                    return Err(Error::InvalidFieldSelector(format!(
                        "invalid field selector: invalid escape sequence: \\{c}"
                    )))
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(Error::InvalidFieldSelector(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )))
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err(Error::InvalidFieldSelector(
            "invalid field selector: invalid escape sequence: \\".to_string(),
        ));
    }
    Ok(out)
}

/// Split at unescaped commas; escaped ones stay in the term with their backslash.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Split a term at the first operator (`!=`, then `==`, then `=` at each position); the field
/// has no escaping.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, operator) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], operator, value));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matching() {
        let pod = fields(&[
            ("metadata.name", "web-0"),
            ("metadata.namespace", "default"),
            ("spec.nodeName", "node-1"),
            ("status.phase", "Running"),
        ]);
        let pending = fields(&[("metadata.name", "web-1"), ("status.phase", "Pending")]);
        let cases = [
            ("", true, true),
            ("metadata.name=web-0", true, false),
            ("metadata.name==web-0", true, false),
            ("metadata.name!=web-0", false, true),
            ("status.phase=Running,spec.nodeName=node-1", true, false),
            ("status.phase!=Running", false, true),
            ("spec.nodeName=", false, true), // missing field reads as ""
            ("spec.nodeName!=", true, false),
            ("spec.nodeName!=node-1", false, true), // != matches a missing field
            ("status.phase!=Succeeded,status.phase!=Failed", true, true),
            ("metadata.name=web-0,", true, false), // empty terms are skipped
            (",,", true, true),
            ("=", true, true), // empty field and value: dropped, as upstream
        ];
        for (selector, on_pod, on_pending) in cases {
            let sel = FieldSelector::parse(selector).unwrap();
            assert_eq!(sel.matches(&pod), on_pod, "{selector:?} on pod");
            assert_eq!(sel.matches(&pending), on_pending, "{selector:?} on pending");
        }
    }

    #[test]
    fn parsing_and_printing() {
        let cases = [
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("b=1,a=2", "a=2,b=1"), // terms sorted
            ("a=", "a="),
            ("a=x\\,y", "a=x\\,y"),
            ("a=x\\=y\\\\z", "a=x\\=y\\\\z"),
            (" a = b ", " a = b "), // nothing trimmed
            ("=b", "=b"),
        ];
        for (input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap();
            assert_eq!(sel.to_string(), want, "{input:?}");
            assert_eq!(FieldSelector::parse(&sel.to_string()).unwrap(), sel);
        }
        let sel: FieldSelector = "a=x\\,y,b!=p\\=q".parse().unwrap();
        assert_eq!(
            sel.requirements(),
            [
                FieldRequirement {
                    field: "a".into(),
                    operator: FieldOperator::Equals,
                    value: "x,y".into()
                },
                FieldRequirement {
                    field: "b".into(),
                    operator: FieldOperator::NotEquals,
                    value: "p=q".into()
                },
            ]
        );
        assert!(sel.matches(&fields(&[("a", "x,y"), ("b", "p")])));
        let sel = FieldSelector::parse(" a = b ").unwrap();
        assert!(sel.matches(&fields(&[(" a ", " b ")])));
        assert!(!sel.matches(&fields(&[("a", "b")])));
    }

    #[test]
    fn errors() {
        let cases = [
            ("a", "invalid selector: 'a'; can't understand 'a'"),
            ("x=y,a", "invalid selector: 'x=y,a'; can't understand 'a'"),
            ("a!b", "invalid selector: 'a!b'; can't understand 'a!b'"),
            (
                "a=b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "a==b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "a=b\\",
                "invalid field selector: invalid escape sequence: \\",
            ),
            (
                "a=b\\x",
                "invalid field selector: invalid escape sequence: \\x",
            ),
        ];
        for (input, want) in cases {
            let err = FieldSelector::parse(input).unwrap_err();
            assert_eq!(
                err,
                Error::InvalidFieldSelector(want.to_string()),
                "{input:?}"
            );
        }
        for odd in [
            "\\",
            "\\,",
            "é=\u{1F600}",
            "a=\\é",
            "!",
            "!=",
            "==",
            "a=,=b",
        ] {
            let _ = FieldSelector::parse(odd);
        }
    }

    #[test]
    fn helpers() {
        let sel = FieldSelector::parse("spec.nodeName=n1,metadata.name!=x").unwrap();
        assert_eq!(sel.requires_exact_match("spec.nodeName"), Some("n1"));
        assert_eq!(sel.requires_exact_match("metadata.name"), None);
        assert!(sel
            .check_supported(&["metadata.name", "metadata.namespace", "spec.nodeName"])
            .is_ok());
        assert_eq!(
            sel.check_supported(&["metadata.name"])
                .unwrap_err()
                .to_string(),
            "field label not supported: spec.nodeName"
        );
        assert!(FieldSelector::everything().is_everything());
        let set = FieldSelector::from_set(&fields(&[("a", "x,y")]));
        assert_eq!(set.to_string(), "a=x\\,y");
        assert_eq!(escape_value("a\\b,c=d"), "a\\\\b\\,c\\=d");
        assert_eq!(unescape_value("a\\\\b\\,c\\=d").unwrap(), "a\\b,c=d");
    }
}
