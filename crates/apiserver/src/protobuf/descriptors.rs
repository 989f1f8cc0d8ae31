//! The message descriptors of Kubernetes' built-in types: the table `build.rs` generates from
//! the `k8s-pb` crate (field numbers, wire types, labels, message types), joined on first use
//! with the OpenAPI definitions ([`crate::openapi::definitions`]) for what the protobuf
//! schema does not carry: each field's JSON name (proto names are the JSON names, which prost
//! snake-cased: `podIPs` -> `pod_ips`, matched back ignoring case and punctuation) and
//! whether the field is required (in Go: not `omitempty`, so a zero value is still sent).
//!
//! Message names follow the OpenAPI definitions (`io.k8s.api.apps.v1.Deployment`) and are
//! looked up case-insensitively (prost renamed `HTTPGetAction` to `HttpGetAction`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::openapi::definitions::definitions;

/// The type of a field (of a map: of its values; map keys are always strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int32,
    Int64,
    Uint64,
    Sint64,
    Bool,
    Double,
    Float,
    String,
    Bytes,
    /// A nested message, by its (k8s-pb cased) full name.
    Message(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Optional,
    Repeated,
    /// `map<string, kind>`.
    Map,
}

#[derive(Debug)]
pub struct FieldDesc {
    pub tag: u32,
    /// prost's (snake case) field name.
    pub name: &'static str,
    pub kind: Kind,
    pub label: Label,
}

#[derive(Debug)]
pub struct MessageDesc {
    pub name: &'static str,
    pub fields: &'static [FieldDesc],
}

include!(concat!(env!("OUT_DIR"), "/k8s_pb_messages.rs"));

/// Messages whose JSON form is not an object of their fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// `metav1.Time`: RFC 3339 in seconds.
    Time,
    /// `metav1.MicroTime`: RFC 3339 in microseconds.
    MicroTime,
    /// `metav1.Duration`: Go's duration string.
    Duration,
    /// `resource.Quantity`: its string.
    Quantity,
    /// `intstr.IntOrString`: a number or a string.
    IntOrString,
    /// `runtime.RawExtension`, `metav1.FieldsV1`, apiextensions `JSON`: embedded JSON.
    RawJson,
    /// A named string slice (`metav1.Verbs`, `ExtraValue`): a JSON array of its `items`.
    Items,
}

/// One field with what JSON needs.
#[derive(Debug)]
pub struct Field {
    pub desc: &'static FieldDesc,
    /// The JSON (and proto) name: `podIPs`.
    pub json: String,
    /// Whether a zero value (`""`, `0`, `false`, no bytes) is kept (see [`keeps_zero`]).
    pub keep_zero: bool,
    /// A Go struct embedded with `json:",inline"` (`VolumeSource` in `Volume`,
    /// `LocalObjectReference` in `SecretKeySelector`): a nested message in protobuf, its
    /// fields merged into the parent in JSON. Known by the parent's schema having no property
    /// of that name.
    pub inline: bool,
    /// Not in the message's schema (a field newer than the Kubernetes version skiff serves):
    /// skipped, as upstream's decoder skips unknown field numbers.
    pub unknown: bool,
}

/// One message with its fields by number.
#[derive(Debug)]
pub struct Message {
    pub desc: &'static MessageDesc,
    pub special: Option<Special>,
    pub fields: HashMap<u32, Field>,
}

/// The message with this full name (any case).
pub fn message(name: &str) -> Option<&'static Message> {
    index().get(&name.to_ascii_lowercase())
}

/// Every message, by lowercased full name.
fn index() -> &'static HashMap<String, Message> {
    static INDEX: OnceLock<HashMap<String, Message>> = OnceLock::new();
    INDEX.get_or_init(build)
}

fn build() -> HashMap<String, Message> {
    let defs: HashMap<String, &'static Value> = definitions()
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let descs: HashMap<String, &'static MessageDesc> = MESSAGES
        .iter()
        .map(|d| (d.name.to_ascii_lowercase(), d))
        .collect();
    // Embedded structs without a definition of their own (`VolumeSource`) take their
    // fields' names from the definition of the struct they are embedded in.
    let mut schemas = defs.clone();
    for desc in MESSAGES {
        let Some(parent) = defs.get(&desc.name.to_ascii_lowercase()) else {
            continue;
        };
        for f in desc.fields {
            if let Kind::Message(n) = f.kind {
                let n = n.to_ascii_lowercase();
                if !defs.contains_key(&n) && is_inline(f, parent, &descs) {
                    schemas.insert(n, parent);
                }
            }
        }
    }
    MESSAGES
        .iter()
        .map(|desc| {
            let lower = desc.name.to_ascii_lowercase();
            let schema = schemas.get(&lower).copied();
            let special = special_of(&lower, desc, schema.is_some());
            let fields = desc
                .fields
                .iter()
                .map(|f| {
                    let (json, required, known) = json_name(f.name, schema);
                    let keep_zero = keeps_zero(desc.name, f.kind, &json, required);
                    let inline = schema.is_some_and(|p| !known && is_inline(f, p, &descs));
                    let unknown = schema.is_some() && !known && !inline;
                    let field = Field {
                        desc: f,
                        json,
                        keep_zero,
                        inline,
                        unknown,
                    };
                    (f.tag, field)
                })
                .collect();
            (
                lower,
                Message {
                    desc,
                    special,
                    fields,
                },
            )
        })
        .collect()
}

/// Whether message field `f`, which `parent` has no property for, is a struct embedded inline:
/// most of its fields are properties of the parent.
fn is_inline(f: &FieldDesc, parent: &Value, descs: &HashMap<String, &'static MessageDesc>) -> bool {
    let (Kind::Message(n), Label::Optional) = (f.kind, f.label) else {
        return false;
    };
    let Some(inner) = descs.get(&n.to_ascii_lowercase()) else {
        return false;
    };
    let Some(props) = parent.get("properties").and_then(Value::as_object) else {
        return false;
    };
    if props.keys().any(|k| squash(k) == squash(f.name)) {
        return false;
    }
    let matched = inner
        .fields
        .iter()
        .filter(|g| props.keys().any(|k| squash(k) == squash(g.name)))
        .count();
    matched > 0 && matched * 2 > inner.fields.len()
}

fn special_of(lower: &str, desc: &MessageDesc, has_schema: bool) -> Option<Special> {
    const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.";
    Some(match lower {
        _ if lower == format!("{META}time") => Special::Time,
        _ if lower == format!("{META}microtime") => Special::MicroTime,
        _ if lower == format!("{META}duration") => Special::Duration,
        _ if lower == format!("{META}fieldsv1") => Special::RawJson,
        "io.k8s.apimachinery.pkg.api.resource.quantity" => Special::Quantity,
        "io.k8s.apimachinery.pkg.util.intstr.intorstring" => Special::IntOrString,
        "io.k8s.apimachinery.pkg.runtime.rawextension" => Special::RawJson,
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.json"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1beta1.json" => Special::RawJson,
        _ if !has_schema
            && desc.fields.len() == 1
            && desc.fields[0].name == "items"
            && desc.fields[0].label == Label::Repeated =>
        {
            Special::Items
        }
        _ => return None,
    })
}

/// Whether a zero scalar of this field is kept: strings and bytes when the field is
/// required (Go: no `omitempty`, `""` is written); numbers and booleans unless Go declares
/// them without a pointer and with `omitempty` ([`super::omitempty`]): pointers keep an
/// explicit `0` / `false`, which JSON writes too.
fn keeps_zero(message: &str, kind: Kind, json: &str, required: bool) -> bool {
    match kind {
        Kind::String | Kind::Bytes | Kind::Message(_) => required,
        _ => required || !super::omitempty::zero_is_unset(message, json),
    }
}

/// The JSON name of a prost field (`pod_ips` -> `podIPs`) from the message's OpenAPI schema,
/// whether the schema lists it as required and whether the schema has it at all; lower camel
/// case when it does not.
fn json_name(prost_name: &str, schema: Option<&Value>) -> (String, bool, bool) {
    let wanted = squash(prost_name);
    if let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    {
        if let Some(name) = props.keys().find(|k| squash(k) == wanted) {
            let required = schema
                .and_then(|s| s.get("required"))
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(name)));
            return (name.clone(), required, true);
        }
    }
    (lower_camel(prost_name), false, false)
}

/// Lowercase letters and digits only: `pod_i_ps`, `podIPs` -> `podips`; `$ref` -> `ref`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn lower_camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_served_kinds_and_meta_types() {
        for k in crate::openapi::kinds::KINDS {
            assert!(message(k.schema).is_some(), "{}", k.schema);
        }
        for m in [
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "io.k8s.apimachinery.pkg.runtime.Unknown",
        ] {
            assert!(message(m).is_some(), "{m}");
        }
    }

    #[test]
    fn json_names_come_back_from_the_schema() {
        let status = message("io.k8s.api.core.v1.PodStatus").unwrap();
        let names: Vec<&str> = status.fields.values().map(|f| f.json.as_str()).collect();
        assert!(names.contains(&"podIPs"), "{names:?}");
        assert!(names.contains(&"hostIPs"), "{names:?}");
        let get = message("io.k8s.api.core.v1.HTTPGetAction").unwrap();
        assert!(get.fields.values().any(|f| f.json == "httpHeaders"));
        let list = message("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta").unwrap();
        assert!(list.fields.values().any(|f| f.json == "continue"));
    }

    #[test]
    fn required_fields_keep_their_zero_values() {
        let port = message("io.k8s.api.core.v1.ServicePort").unwrap();
        let by = |n: &str| port.fields.values().find(|f| f.json == n).unwrap();
        assert!(by("port").keep_zero);
        assert!(!by("nodePort").keep_zero);
        let spec = message("io.k8s.api.apps.v1.DeploymentSpec").unwrap();
        assert!(spec
            .fields
            .values()
            .any(|f| f.json == "replicas" && f.keep_zero));
        let status = message("io.k8s.api.apps.v1.DeploymentStatus").unwrap();
        assert!(status
            .fields
            .values()
            .any(|f| f.json == "replicas" && !f.keep_zero));
    }

    #[test]
    fn special_types() {
        let s = |n: &str| message(n).unwrap().special;
        assert_eq!(
            s("io.k8s.apimachinery.pkg.apis.meta.v1.Time"),
            Some(Special::Time)
        );
        assert_eq!(
            s("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
            Some(Special::IntOrString)
        );
        assert_eq!(
            s("io.k8s.apimachinery.pkg.apis.meta.v1.Verbs"),
            Some(Special::Items)
        );
        assert_eq!(s("io.k8s.api.apps.v1.DeploymentList"), None);
    }

    #[test]
    fn embedded_structs_are_inline() {
        let v = message("io.k8s.api.core.v1.Volume").unwrap();
        assert!(v
            .fields
            .values()
            .any(|f| f.json == "volumeSource" && f.inline));
        let sel = message("io.k8s.api.core.v1.SecretKeySelector").unwrap();
        assert!(sel.fields.values().any(|f| f.inline));
        let pod = message("io.k8s.api.core.v1.Pod").unwrap();
        assert!(pod.fields.values().all(|f| !f.inline));
    }

    /// Every field of a message with a schema is a property of it or an embedded struct whose
    /// own fields are, so no field is lost under a guessed name.
    #[test]
    fn every_field_of_a_served_type_maps_to_its_schema() {
        let mut lost = Vec::new();
        for (lower, m) in index() {
            let Some(schema) = definitions()
                .iter()
                .find(|(k, _)| k.to_ascii_lowercase() == *lower)
                .map(|(_, v)| v)
            else {
                continue;
            };
            let props = schema.get("properties").and_then(Value::as_object);
            for f in m.fields.values() {
                let known = props.is_some_and(|p| p.contains_key(&f.json));
                let inline_ok = f.inline
                    && match f.desc.kind {
                        Kind::Message(n) => message(n).is_some_and(|inner| {
                            inner.fields.values().all(|g| {
                                props.is_some_and(|p| p.contains_key(&g.json))
                                    || g.inline
                                    || g.unknown
                            })
                        }),
                        _ => false,
                    };
                if !known && !inline_ok && !f.unknown && m.special.is_none() {
                    lost.push(format!("{}.{}", m.desc.name, f.json));
                }
            }
        }
        lost.sort();
        assert!(lost.is_empty(), "{lost:#?}");
    }

    #[test]
    fn fields_newer_than_the_served_version_are_unknown() {
        let spec = message("io.k8s.api.core.v1.PodSpec").unwrap();
        let unknown: Vec<&str> = spec
            .fields
            .values()
            .filter(|f| f.unknown)
            .map(|f| f.json.as_str())
            .collect();
        assert!(!unknown.contains(&"containers"), "{unknown:?}");
        let vs = message("io.k8s.api.core.v1.VolumeSource").unwrap();
        assert!(vs
            .fields
            .values()
            .any(|f| f.json == "downwardAPI" && !f.unknown));
    }

    #[test]
    fn camel_case_fallback() {
        assert_eq!(lower_camel("host_ips"), "hostIps");
        assert_eq!(lower_camel("type"), "type");
    }
}
