//! Field-level validation errors as upstream's `field.Error` (apimachinery v0.33): the
//! cause type, the field path (`spec.containers[0].name`, `metadata.labels[app]`) and the
//! message `ErrorBody()` renders: `Required value`, `Invalid value: "x": detail`,
//! `Unsupported value: "x": supported values: "a", "b"`, ... A bad value is rendered as Go
//! renders it there: strings with `%q`, numbers and booleans plainly, everything else with
//! Go's `%#v` syntax (`map[string]string{"app":"web"}`), which [`Bad::Go`] carries ready-made.

use serde_json::Value;

use crate::status::Cause;

/// The errors of one validation run.
pub(crate) type Errs = Vec<Cause>;

/// A path one level below `parent` (`spec` + `replicas` -> `spec.replicas`).
pub(crate) fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// An array element (`spec.containers` + 0 -> `spec.containers[0]`).
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// A map entry (`metadata.labels` + `app` -> `metadata.labels[app]`).
pub(crate) fn key(parent: &str, k: &str) -> String {
    format!("{parent}[{k}]")
}

/// A bad value as a field error shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bad {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A nil pointer or interface.
    Null,
    /// Already rendered (Go `%#v` syntax).
    Go(String),
}

impl Bad {
    pub(crate) fn str(s: &str) -> Bad {
        Bad::Str(s.to_string())
    }

    fn render(&self) -> String {
        match self {
            Bad::Str(s) => go_quote(s),
            Bad::Int(i) => i.to_string(),
            Bad::Bool(b) => b.to_string(),
            Bad::Null => "null".to_string(),
            Bad::Go(s) => s.clone(),
        }
    }
}

fn cause(reason: &str, field: &str, message: String) -> Cause {
    Cause {
        reason: reason.to_string(),
        field: field.to_string(),
        message,
    }
}

fn with_detail(mut body: String, detail: &str) -> String {
    if !detail.is_empty() {
        body.push_str(": ");
        body.push_str(detail);
    }
    body
}

/// `field.Required(path, detail)`.
pub(crate) fn required(path: &str, detail: &str) -> Cause {
    cause(
        "FieldValueRequired",
        path,
        with_detail("Required value".into(), detail),
    )
}

/// `field.Invalid(path, value, detail)`.
pub(crate) fn invalid(path: &str, value: Bad, detail: &str) -> Cause {
    cause(
        "FieldValueInvalid",
        path,
        with_detail(format!("Invalid value: {}", value.render()), detail),
    )
}

/// `field.NotSupported(path, value, valid)`.
pub(crate) fn not_supported(path: &str, value: Bad, valid: &[&str]) -> Cause {
    let detail = if valid.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
        format!("supported values: {}", quoted.join(", "))
    };
    cause(
        "FieldValueNotSupported",
        path,
        with_detail(format!("Unsupported value: {}", value.render()), &detail),
    )
}

/// `field.Duplicate(path, value)`.
pub(crate) fn duplicate(path: &str, value: Bad) -> Cause {
    cause(
        "FieldValueDuplicate",
        path,
        format!("Duplicate value: {}", value.render()),
    )
}

/// `field.Forbidden(path, detail)`.
pub(crate) fn forbidden(path: &str, detail: &str) -> Cause {
    cause(
        "FieldValueForbidden",
        path,
        with_detail("Forbidden".into(), detail),
    )
}

/// `field.TooLong(path, _, max)`.
pub(crate) fn too_long(path: &str, max: usize) -> Cause {
    cause(
        "FieldValueTooLong",
        path,
        format!("Too long: may not be more than {max} bytes"),
    )
}

/// `field.TooMany(path, actual, max)`.
pub(crate) fn too_many(path: &str, actual: usize, max: usize) -> Cause {
    cause(
        "FieldValueTooMany",
        path,
        format!("Too many: {actual}: must have at most {max} items"),
    )
}

/// `field.NotFound(path, value)`.
pub(crate) fn not_found(path: &str, value: Bad) -> Cause {
    cause(
        "FieldValueNotFound",
        path,
        format!("Not found: {}", value.render()),
    )
}

/// Go's `%q` (strconv.Quote), shared with the selector messages.
pub(crate) use skiff_api::go_quote;

/// `%#v` of a `map[string]string` (keys sorted, as fmt prints maps); `None` is a nil map.
pub(crate) fn go_string_map(m: Option<&Value>) -> String {
    match m.and_then(Value::as_object) {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v.as_str().unwrap_or(""))))
                .collect();
            format!("map[string]string{{{}}}", parts.join(", "))
        }
    }
}

/// `%#v` of a `[]string`; `None` is a nil slice.
pub(crate) fn go_string_slice(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        None => "[]string(nil)".to_string(),
        Some(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| go_quote(i.as_str().unwrap_or("")))
                .collect();
            format!("[]string{{{}}}", parts.join(", "))
        }
    }
}

/// `%#v` of a `metav1.LabelSelector` value.
pub(crate) fn go_label_selector(sel: &Value) -> String {
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|e| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(e.get("key").and_then(Value::as_str).unwrap_or("")),
                        go_quote(e.get("operator").and_then(Value::as_str).unwrap_or("")),
                        go_string_slice(e.get("values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", parts.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sel.get("matchLabels")),
        exprs
    )
}

/// `%#v` of an `intstr.IntOrString`.
pub(crate) fn go_int_or_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => {
            format!(
                "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
                go_quote(s)
            )
        }
        Some(Value::Number(n)) => format!(
            "intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}",
            n.as_i64().unwrap_or(0)
        ),
        _ => "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}".to_string(),
    }
}

/// A JSON value rendered for a message where upstream prints a Go struct we do not model
/// field by field: compact JSON (the information is the same, the syntax is not Go's).
pub(crate) fn go_struct(type_name: &str, v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => format!("(*{type_name})(nil)"),
        Some(v) => format!("{type_name}{}", v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_match_upstream() {
        assert_eq!(required("spec.x", "").message, "Required value");
        assert_eq!(
            not_supported(
                "spec.restartPolicy",
                Bad::str("Sometimes"),
                &["Always", "OnFailure", "Never"]
            )
            .message,
            r#"Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#
        );
        assert_eq!(
            invalid(
                "spec.replicas",
                Bad::Int(-1),
                "must be greater than or equal to 0"
            )
            .message,
            "Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            too_long("", 1048576).message,
            "Too long: may not be more than 1048576 bytes"
        );
    }

    #[test]
    fn go_syntax_of_selectors_and_maps() {
        assert_eq!(
            go_label_selector(&json!({"matchLabels": {"app": "web", "a": "b"}})),
            r#"v1.LabelSelector{MatchLabels:map[string]string{"a":"b", "app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"#
        );
        assert_eq!(go_string_map(None), "map[string]string(nil)");
        assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(
            go_int_or_string(Some(&json!("abc"))),
            r#"intstr.IntOrString{Type:1, IntVal:0, StrVal:"abc"}"#
        );
    }
}
