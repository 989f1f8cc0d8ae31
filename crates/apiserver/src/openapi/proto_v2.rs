//! The swagger 2.0 document in gnostic's protobuf encoding (`openapi.v2.Document`), what
//! client-go's `OpenAPISchema()` asks `/openapi/v2` for
//! (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`).
//!
//! It carries `swagger`, `info` and every definition with its properties, types, references,
//! `required` lists and vendor extensions (`x-kubernetes-group-version-kind`, patch
//! strategies; values as YAML text, which gnostic's `Any.yaml` holds). Paths are left out:
//! kubectl only reads definitions from this document (explain with
//! `--output plaintext-openapiv2`, client-side validation, v2 patch metadata); kubectl
//! 1.27 and 1.28 fail `apply` / `create` when this document cannot be fetched or parsed.

use std::sync::OnceLock;

use serde_json::Value;

use super::definitions::definitions;
use super::render_v2::v2_definition;
use super::INFO_VERSION;

/// The encoded document, built once.
pub fn document() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Vec<u8> {
    let mut doc = Vec::new();
    put_string(&mut doc, 1, "2.0");
    let mut info = Vec::new();
    put_string(&mut info, 1, "Kubernetes");
    put_string(&mut info, 2, INFO_VERSION);
    put_bytes(&mut doc, 2, &info);
    let mut defs = Vec::new();
    for (name, schema) in definitions() {
        put_bytes(
            &mut defs,
            1,
            &named_schema(name, &v2_definition(name, schema)),
        );
    }
    put_bytes(&mut doc, 9, &defs);
    doc
}

fn named_schema(name: &str, schema: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, 1, name);
    put_bytes(&mut out, 2, &encode_schema(schema));
    out
}

/// `openapi.v2.Schema`.
fn encode_schema(schema: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(obj) = schema.as_object() else {
        return out;
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    if let Some(r) = text("$ref") {
        put_string(&mut out, 1, r);
    }
    if let Some(f) = text("format") {
        put_string(&mut out, 2, f);
    }
    if let Some(t) = text("title") {
        put_string(&mut out, 3, t);
    }
    if let Some(d) = text("description") {
        put_string(&mut out, 4, d);
    }
    if let Some(d) = obj.get("default") {
        put_bytes(&mut out, 5, &any(d));
    }
    if obj.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
        put_varint_field(&mut out, 16, 1);
    }
    for r in obj
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = r.as_str() {
            put_string(&mut out, 19, r);
        }
    }
    for e in obj
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        put_bytes(&mut out, 20, &any(e));
    }
    match obj.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut item = Vec::new();
            put_varint_field(&mut item, 2, u64::from(*b));
            put_bytes(&mut out, 21, &item);
        }
        Some(s @ Value::Object(_)) => {
            let mut item = Vec::new();
            put_bytes(&mut item, 1, &encode_schema(s));
            put_bytes(&mut out, 21, &item);
        }
        _ => {}
    }
    if let Some(t) = text("type") {
        let mut item = Vec::new();
        put_string(&mut item, 1, t);
        put_bytes(&mut out, 22, &item);
    }
    if let Some(items) = obj.get("items") {
        let mut item = Vec::new();
        put_bytes(&mut item, 1, &encode_schema(items));
        put_bytes(&mut out, 23, &item);
    }
    for s in obj
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        put_bytes(&mut out, 24, &encode_schema(s));
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let mut p = Vec::new();
        for (name, s) in props {
            put_bytes(&mut p, 1, &named_schema(name, s));
        }
        put_bytes(&mut out, 25, &p);
    }
    for (k, v) in obj {
        if k.starts_with("x-") {
            let mut named = Vec::new();
            put_string(&mut named, 1, k);
            put_bytes(&mut named, 2, &any(v));
            put_bytes(&mut out, 31, &named);
        }
    }
    out
}

/// `openapi.v2.Any` with the value as YAML text (JSON is YAML).
fn any(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, 2, &serde_json::to_string(v).unwrap_or_default());
    out
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_varint(out, u64::from(field) << 3);
    put_varint(out, v);
}

fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, (u64::from(field) << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_string(out: &mut Vec<u8>, field: u32, s: &str) {
    put_bytes(out, field, s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (field, wire type, payload) of one message level.
    fn fields(mut b: &[u8]) -> Vec<(u64, u8, Vec<u8>)> {
        fn varint(b: &mut &[u8]) -> u64 {
            let mut v = 0u64;
            let mut shift = 0;
            loop {
                let byte = b[0];
                *b = &b[1..];
                v |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    return v;
                }
                shift += 7;
            }
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let tag = varint(&mut b);
            let wire = (tag & 7) as u8;
            let payload = match wire {
                0 => varint(&mut b).to_le_bytes().to_vec(),
                2 => {
                    let len = varint(&mut b) as usize;
                    let p = b[..len].to_vec();
                    b = &b[len..];
                    p
                }
                w => panic!("wire type {w}"),
            };
            out.push((tag >> 3, wire, payload));
        }
        out
    }

    fn string_field(msg: &[u8], field: u64) -> Option<String> {
        fields(msg)
            .into_iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, _, p)| String::from_utf8(p).unwrap())
    }

    #[test]
    fn document_decodes_with_definitions_and_extensions() {
        let doc = document();
        let top = fields(doc);
        assert_eq!(string_field(doc, 1).unwrap(), "2.0");
        let info = &top.iter().find(|f| f.0 == 2).unwrap().2;
        assert_eq!(string_field(info, 1).unwrap(), "Kubernetes");
        let defs = &top.iter().find(|f| f.0 == 9).unwrap().2;
        let named: Vec<_> = fields(defs).into_iter().map(|f| f.2).collect();
        assert_eq!(named.len(), definitions().len());
        let deployment = named
            .iter()
            .find(|n| string_field(n, 1).as_deref() == Some("io.k8s.api.apps.v1.Deployment"))
            .unwrap();
        let schema = &fields(deployment)[1].2;
        let ext = fields(schema)
            .into_iter()
            .find(|f| f.0 == 31)
            .map(|f| f.2)
            .unwrap();
        assert_eq!(
            string_field(&ext, 1).unwrap(),
            "x-kubernetes-group-version-kind"
        );
        let any = &fields(&ext)[1].2;
        let yaml = string_field(any, 2).unwrap();
        let gvk: Value = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(gvk[0]["kind"], "Deployment");
        // properties (25) hold NamedSchema entries.
        let props = &fields(schema).into_iter().find(|f| f.0 == 25).unwrap().2;
        let names: Vec<_> = fields(props)
            .into_iter()
            .map(|f| string_field(&f.2, 1).unwrap())
            .collect();
        assert_eq!(names, ["apiVersion", "kind", "metadata", "spec", "status"]);
    }
}
