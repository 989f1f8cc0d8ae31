//! The body of an apply request (`application/apply-patch+yaml`: YAML, or JSON which is
//! YAML) and the checks upstream makes on it before and after merging, with upstream's 400
//! messages: a body that is not YAML, that is not a map, that carries `managedFields`, whose
//! `apiVersion`/`kind` are not the endpoint's, or whose name or namespace are not the URL's.

use serde::Deserialize;
use serde_json::Value;

use super::error::ApplyError;

/// `group/version, Kind=kind` as Go prints a GroupVersionKind; an unparsable apiVersion gives
/// the empty one.
fn gvk_string(api_version: &str, kind: &str) -> String {
    let parts: Vec<&str> = api_version.split('/').collect();
    let (group, version, kind) = match parts.as_slice() {
        [""] => ("", "", kind),
        [v] => ("", *v, kind),
        [g, v] => (*g, *v, kind),
        _ => ("", "", ""),
    };
    format!("{group}/{version}, Kind={kind}")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn yaml_error(e: &serde_yaml::Error) -> String {
    let text = e.to_string();
    match e.location() {
        Some(loc) => {
            let problem = text.split(" at line ").next().unwrap_or(&text);
            format!("yaml: line {}: {problem}", loc.line())
        }
        None => format!("yaml: {text}"),
    }
}

fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Object(_) | Value::Null => "object",
    }
}

/// Decodes an apply body: the first YAML document (or the JSON object). Rejects, with 400,
/// what upstream rejects before merging: undecodable bodies, bodies that are not maps,
/// `metadata.managedFields`, and a missing `apiVersion` or `kind` (`invalid object type`).
pub fn parse_apply_body(body: &[u8]) -> Result<Value, ApplyError> {
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace());
    let looks_json = trimmed.is_some_and(|i| body[i] == b'{');
    let parsed = match looks_json.then(|| serde_json::from_slice::<Value>(body)) {
        Some(Ok(v)) => v,
        _ => {
            let mut docs = serde_yaml::Deserializer::from_slice(body);
            match docs.next() {
                None => Value::Null,
                Some(doc) => Value::deserialize(doc).map_err(|e| {
                    ApplyError::BadRequest(format!("error encoding patch: {}", yaml_error(&e)))
                })?,
            }
        }
    };
    let obj = match parsed {
        Value::Null => Value::Object(Default::default()),
        v @ Value::Object(_) => v,
        other => {
            return Err(ApplyError::BadRequest(format!(
                "error decoding patch: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                go_type_name(&other)
            )))
        }
    };
    if obj
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApplyError::BadRequest(
            "metadata.managedFields must be nil".into(),
        ));
    }
    require_kind(&obj)?;
    Ok(obj)
}

/// Rejects a configuration without a usable `apiVersion` and `kind`, as upstream's kind
/// check words it (`invalid object type: /v1, Kind=`).
pub fn require_kind(applied: &Value) -> Result<(), ApplyError> {
    let api_version = str_at(applied, "/apiVersion");
    let kind = str_at(applied, "/kind");
    let gvk = gvk_string(api_version, kind);
    if api_version.is_empty() || kind.is_empty() || gvk.starts_with("/, ") {
        return Err(ApplyError::BadRequest(format!(
            "invalid object type: {gvk}"
        )));
    }
    Ok(())
}

/// Upstream's check that an apply configuration is of the endpoint's kind
/// (`invalid object type: apps/v1beta1, Kind=Deployment`).
pub fn check_kind(applied: &Value, api_version: &str, kind: &str) -> Result<(), ApplyError> {
    let got_version = str_at(applied, "/apiVersion");
    let got_kind = str_at(applied, "/kind");
    if gvk_string(got_version, got_kind) != gvk_string(api_version, kind) {
        return Err(ApplyError::BadRequest(format!(
            "invalid object type: {}",
            gvk_string(got_version, got_kind)
        )));
    }
    Ok(())
}

/// Upstream's check, on the object a patch or apply produced, that it is still the object of
/// the URL (namespace checked only for namespaced requests).
pub fn check_name(obj: &Value, name: &str, namespace: &str) -> Result<(), ApplyError> {
    let obj_name = str_at(obj, "/metadata/name");
    if obj_name != name {
        return Err(ApplyError::BadRequest(format!(
            "the name of the object ({obj_name}) does not match the name on the URL ({name})"
        )));
    }
    let obj_namespace = str_at(obj, "/metadata/namespace");
    if !namespace.is_empty() && !obj_namespace.is_empty() && obj_namespace != namespace {
        return Err(ApplyError::BadRequest(format!(
            "the namespace of the object ({obj_namespace}) does not match the namespace on the request ({namespace})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_and_json_bodies() {
        let y = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n";
        assert_eq!(
            parse_apply_body(y).unwrap(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}})
        );
        let j = br#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2}}"#;
        assert_eq!(parse_apply_body(j).unwrap()["spec"]["replicas"], 2);
        let two = b"apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: Secret\n";
        assert_eq!(parse_apply_body(two).unwrap()["kind"], "ConfigMap");
    }

    #[test]
    fn rejections() {
        let msg = |b: &[u8]| parse_apply_body(b).unwrap_err().to_message();
        assert!(
            msg(b"a: b: c").starts_with("error encoding patch: yaml: line 1: "),
            "{}",
            msg(b"a: b: c")
        );
        assert_eq!(
            msg(b"- a\n- b\n"),
            "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        assert_eq!(msg(b""), "invalid object type: /, Kind=");
        assert_eq!(msg(b"apiVersion: v1\n"), "invalid object type: /v1, Kind=");
        assert_eq!(
            msg(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  managedFields: []\n"),
            "metadata.managedFields must be nil"
        );
        assert_eq!(parse_apply_body(b"x").unwrap_err().code(), 400);
    }

    #[test]
    fn kind_and_name_checks() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"}});
        assert!(check_kind(&d, "apps/v1", "Deployment").is_ok());
        assert_eq!(
            check_kind(&d, "v1", "Pod").unwrap_err().to_message(),
            "invalid object type: apps/v1, Kind=Deployment"
        );
        assert!(check_name(&d, "d", "default").is_ok());
        assert_eq!(
            check_name(&d, "e", "default").unwrap_err().to_message(),
            "the name of the object (d) does not match the name on the URL (e)"
        );
        assert_eq!(
            check_name(&d, "d", "kube-system").unwrap_err().to_message(),
            "the namespace of the object (default) does not match the namespace on the request (kube-system)"
        );
    }
}
