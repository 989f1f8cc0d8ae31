//! Strict decoding of request bodies for `fieldValidation`: parses JSON (or YAML) into a
//! `serde_json::Value` in one pass, walking the kind's OpenAPI schema alongside, and reports
//! what kube-apiserver's decoder (sigs.k8s.io/json `UnmarshalStrict` into the Go types)
//! reports:
//!
//! - unknown fields, as upstream's paths without a leading dot: `spec.replicass`,
//!   `spec.template.spec.containers[0].imagee` (no checks below an unknown field);
//! - duplicate fields (same key twice in one object), e.g. `metadata.name`;
//! - the first type error, worded as Go's `encoding/json`:
//!   `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`,
//!   and the errors of the special types (Quantity, Time, IntOrString, base64 bytes).
//!
//! Strict errors are listed in document order, deduplicated and capped at 100, as upstream.
//! The decoded value is what the Go types keep: unknown fields are dropped and struct fields
//! set to `null` are left out (maps and schemaless values keep their nulls).
//! Duplicate keys keep Go's result: a repeated struct field decodes into the same struct
//! (objects merge, everything else is replaced), a repeated map key or a key of a schemaless
//! object replaces the earlier value.
//!
//! How upstream answers (apiserver `handlers/create.go`, `update.go`, `patch.go`):
//! - create / update, any error: 400 BadRequest
//!   `<Kind> in version "<v>" cannot be handled as a <Kind>: <error>` ([`DecodeError::message`]
//!   is `<error>`); with `fieldValidation=Strict` the error is
//!   [`Decoded::strict_error`]: `strict decoding error: unknown field "spec.foo", duplicate field "metadata.name"`;
//! - `Warn`: one `Warning: 299 - "<strict error>"` header per entry of
//!   [`Decoded::strict_errors`]; `Ignore`: nothing;
//! - patched objects (check them with [`check`]): a type error or a strict error under
//!   `Strict` is 422 Invalid with the cause `patch: Invalid value: ...` (see `patch`).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::openapi::definitions::{self, REF_PREFIX};

/// A successfully decoded body.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub value: Value,
    /// Paths of unknown fields (`spec.foo`), document order.
    pub unknown_fields: Vec<String>,
    /// Paths of duplicate fields (`metadata.name`), document order.
    pub duplicate_fields: Vec<String>,
    /// Both kinds as upstream words them (`unknown field "spec.foo"`), in document order:
    /// the text of each `Warning` header, and the parts of [`Decoded::strict_error`].
    pub strict_errors: Vec<String>,
}

impl Decoded {
    /// `strict decoding error: unknown field "spec.foo", duplicate field "metadata.name"`,
    /// or `None` when the body had neither.
    pub fn strict_error(&self) -> Option<String> {
        strict_error_message(&self.strict_errors)
    }
}

/// `strict decoding error: <e1>, <e2>` (apimachinery's `runtime.NewStrictDecodingError`).
pub fn strict_error_message(errors: &[String]) -> Option<String> {
    if errors.is_empty() {
        None
    } else {
        Some(format!("strict decoding error: {}", errors.join(", ")))
    }
}

/// A body that cannot be decoded at all; upstream answers 400 BadRequest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Malformed JSON (`invalid character 'x' looking for beginning of value`,
    /// `unexpected end of JSON input`).
    #[error("{0}")]
    Syntax(String),
    /// Malformed YAML (`error converting YAML to JSON: yaml: ...`).
    #[error("{0}")]
    Yaml(String),
    /// A value of the wrong type (`json: cannot unmarshal ...`) or an invalid special value
    /// (quantity, time, base64).
    #[error("{0}")]
    Type(String),
}

impl DecodeError {
    /// The error text upstream embeds in its message.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// Always 400 for request bodies.
    pub fn code(&self) -> u16 {
        400
    }
}

/// Decodes a JSON body against the definition `schema_name`
/// (`io.k8s.api.apps.v1.Deployment`). An unknown schema name decodes without schema
/// checks (duplicates are still reported).
pub fn decode(body: &[u8], schema_name: &str) -> Result<Decoded, DecodeError> {
    let state = RefCell::new(State::default());
    let seed = Seed::root(&state, schema_name);
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = match seed.deserialize(&mut de).and_then(|v| de.end().map(|_| v)) {
        Ok(v) => v,
        Err(e) => {
            let st = state.into_inner();
            if let Some(err) = st.error {
                return Err(err);
            }
            return Err(DecodeError::Syntax(json_syntax_message(&e, body)));
        }
    };
    state.into_inner().finish(value)
}

/// Decodes a YAML body (`application/yaml`, `application/apply-patch+yaml`) like [`decode`].
pub fn decode_yaml(body: &[u8], schema_name: &str) -> Result<Decoded, DecodeError> {
    let state = RefCell::new(State::default());
    let seed = Seed::root(&state, schema_name);
    let de = serde_yaml::Deserializer::from_slice(body);
    let value = match seed.deserialize(de) {
        Ok(v) => v,
        Err(e) => {
            let st = state.into_inner();
            if let Some(err) = st.error {
                return Err(err);
            }
            return Err(DecodeError::Yaml(format!(
                "error converting YAML to JSON: yaml: {e}"
            )));
        }
    };
    state.into_inner().finish(value)
}

/// Checks an object already in memory (the result of a patch) against `schema_name`: the
/// unknown fields and the first type error, as decoding its JSON would report them.
pub fn check(value: &Value, schema_name: &str) -> Result<Decoded, DecodeError> {
    let bytes = serde_json::to_vec(value).map_err(|e| DecodeError::Syntax(e.to_string()))?;
    decode(&bytes, schema_name)
}

/// Parses JSON with duplicate detection only, as decoding into `map[string]interface{}`
/// does (strategic merge and merge patch bodies).
pub fn parse_json(body: &[u8]) -> Result<Decoded, DecodeError> {
    decode(body, "")
}

const MAX_STRICT_ERRORS: usize = 100;

#[derive(Default)]
struct State {
    unknown: Vec<String>,
    duplicate: Vec<String>,
    strict: Vec<String>,
    seen: HashSet<String>,
    error: Option<DecodeError>,
}

impl State {
    fn strict_error(&mut self, unknown: bool, path: String) {
        if self.strict.len() >= MAX_STRICT_ERRORS {
            return;
        }
        let text = format!(
            "{} {}",
            if unknown {
                "unknown field"
            } else {
                "duplicate field"
            },
            go_quote(&path)
        );
        if !self.seen.insert(text.clone()) {
            return;
        }
        self.strict.push(text);
        if unknown {
            self.unknown.push(path);
        } else {
            self.duplicate.push(path);
        }
    }

    fn type_error(&mut self, e: DecodeError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn finish(self, value: Value) -> Result<Decoded, DecodeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(Decoded {
            value,
            unknown_fields: self.unknown,
            duplicate_fields: self.duplicate,
            strict_errors: self.strict,
        })
    }
}

/// Go's `%q` (strconv.Quote), shared with the selector messages.
use skiff_api::go_quote;

/// What the schema expects at one place of the document.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Decoded into `interface{}`: anything, duplicates of nested keys reported.
    Any,
    /// Copied raw or skipped (RawExtension, FieldsV1, unknown fields): no checks at all.
    Opaque,
    /// A struct definition with properties.
    Struct(&'static str, &'static Value),
    /// `map[string]T`.
    Map(&'static Value),
    /// `[]T`.
    Array(&'static Value),
    Str,
    Bytes,
    Int32,
    Int64,
    Number,
    Bool,
    IntOrString,
    Quantity,
    Time,
}

const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

fn shape_of(schema: &'static Value) -> Shape {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix(REF_PREFIX).unwrap_or(r);
        return match definitions::schema(name) {
            Some(def) => definition_shape(name, def),
            None => Shape::Any,
        };
    }
    inline_shape(schema)
}

fn definition_shape(name: &'static str, def: &'static Value) -> Shape {
    match name {
        INT_OR_STRING => Shape::IntOrString,
        QUANTITY => Shape::Quantity,
        _ if def.get("properties").is_some() => Shape::Struct(name, def),
        _ => match inline_shape(def) {
            Shape::Any => Shape::Opaque,
            s => s,
        },
    }
}

fn inline_shape(schema: &'static Value) -> Shape {
    let format = schema.get("format").and_then(Value::as_str);
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => match format {
            Some("byte") => Shape::Bytes,
            Some("date-time") => Shape::Time,
            _ => Shape::Str,
        },
        Some("integer") => match format {
            Some("int32") => Shape::Int32,
            _ => Shape::Int64,
        },
        Some("number") => Shape::Number,
        Some("boolean") => Shape::Bool,
        Some("array") => match schema.get("items") {
            Some(items) => Shape::Array(items),
            None => Shape::Any,
        },
        Some("object") => match schema.get("additionalProperties") {
            Some(ap) if ap.is_object() => Shape::Map(ap),
            _ if schema.get("properties").is_some() => Shape::Struct("", schema),
            _ => Shape::Opaque,
        },
        _ => Shape::Any,
    }
}

/// The Go type name upstream's messages print for a shape (`int32`, `v1.DeploymentSpec`,
/// `[]v1.Container`, `map[string]string`).
fn go_type(shape: Shape) -> String {
    match shape {
        Shape::Any | Shape::Opaque => "interface {}".into(),
        Shape::Struct(name, _) => go_type_name(name),
        Shape::Map(v) => format!("map[string]{}", go_type(shape_of(v))),
        Shape::Array(items) => format!("[]{}", go_type(shape_of(items))),
        Shape::Str | Shape::Time => "string".into(),
        Shape::Bytes => "[]uint8".into(),
        Shape::Int32 | Shape::IntOrString => "int32".into(),
        Shape::Int64 => "int64".into(),
        Shape::Number => "float64".into(),
        Shape::Bool => "bool".into(),
        Shape::Quantity => "resource.Quantity".into(),
    }
}

/// `io.k8s.api.apps.v1.DeploymentSpec` -> `v1.DeploymentSpec`,
/// `io.k8s.apimachinery.pkg.runtime.RawExtension` -> `runtime.RawExtension`.
fn go_type_name(definition: &str) -> String {
    let mut parts = definition.rsplit('.');
    let name = parts.next().unwrap_or_default();
    let package = parts.next().unwrap_or_default();
    format!("{package}.{name}")
}

fn struct_short_name(definition: &str) -> &str {
    definition.rsplit('.').next().unwrap_or(definition)
}

/// Where a value sits: its strict path (`spec.containers[0]`) and the Go error context
/// (innermost struct, struct field names from the root).
#[derive(Clone)]
struct Place {
    path: String,
    struct_name: Option<String>,
    fields: Vec<String>,
}

struct Seed<'s> {
    state: &'s RefCell<State>,
    shape: Shape,
    place: Place,
}

impl<'s> Seed<'s> {
    fn root(state: &'s RefCell<State>, schema_name: &str) -> Self {
        let shape = definitions::definitions()
            .get_key_value(schema_name)
            .map(|(name, def)| definition_shape(name.as_str(), def))
            .unwrap_or(Shape::Any);
        Seed {
            state,
            shape,
            place: Place {
                path: String::new(),
                struct_name: None,
                fields: Vec::new(),
            },
        }
    }

    fn child(&self, shape: Shape, place: Place) -> Seed<'s> {
        Seed {
            state: self.state,
            shape,
            place,
        }
    }

    fn key_path(&self, key: &str) -> String {
        if self.place.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.place.path)
        }
    }

    fn type_error(&self, value: &str, ty: &str) {
        let msg = match &self.place.struct_name {
            Some(s) => format!(
                "json: cannot unmarshal {value} into Go struct field {s}.{} of type {ty}",
                self.place.fields.join(".")
            ),
            None => format!("json: cannot unmarshal {value} into Go value of type {ty}"),
        };
        self.state.borrow_mut().type_error(DecodeError::Type(msg));
    }

    fn plain_error(&self, msg: String) {
        self.state.borrow_mut().type_error(DecodeError::Type(msg));
    }

    fn mismatch(&self, value: &str) {
        self.type_error(value, &go_type(self.shape));
    }

    fn check_number(&self, text: &str, int: Option<i128>) {
        match self.shape {
            Shape::Any | Shape::Opaque | Shape::Number => {}
            Shape::Int32 | Shape::Int64 | Shape::IntOrString => {
                let (min, max) = match self.shape {
                    Shape::Int64 => (i64::MIN as i128, i64::MAX as i128),
                    _ => (i32::MIN as i128, i32::MAX as i128),
                };
                match int {
                    Some(n) if n >= min && n <= max => {}
                    _ => self.type_error(&format!("number {text}"), &go_type(self.shape)),
                }
            }
            Shape::Quantity => {
                if let Err(e) = parse_quantity(text) {
                    self.plain_error(e.into());
                }
            }
            _ => self.mismatch("number"),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        match self.shape {
            Shape::Any | Shape::Opaque | Shape::Bool => {}
            Shape::Quantity => self.plain_error(QUANTITY_FORMAT.into()),
            _ => self.mismatch("bool"),
        }
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        self.check_number(&n.to_string(), Some(n as i128));
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        self.check_number(&n.to_string(), Some(n as i128));
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        self.check_number(&format!("{f:?}"), None);
        Ok(Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        match self.shape {
            Shape::Any | Shape::Opaque | Shape::Str | Shape::IntOrString => {}
            Shape::Bytes => {
                if let Err(at) = check_base64(s) {
                    self.plain_error(format!("illegal base64 data at input byte {at}"));
                }
            }
            Shape::Time => {
                if let Err(e) = check_rfc3339(s) {
                    self.plain_error(e);
                }
            }
            Shape::Quantity => {
                if let Err(e) = parse_quantity(s.trim()) {
                    self.plain_error(e.into());
                }
            }
            _ => self.mismatch("string"),
        }
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.visit_str(&s)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let item_shape = match self.shape {
            Shape::Array(items) => shape_of(items),
            Shape::Any => Shape::Any,
            Shape::Opaque => Shape::Opaque,
            Shape::Quantity => {
                self.plain_error(QUANTITY_FORMAT.into());
                Shape::Opaque
            }
            _ => {
                self.mismatch("array");
                Shape::Opaque
            }
        };
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child(
            item_shape,
            Place {
                path: format!("{}[{}]", self.place.path, out.len()),
                ..self.place.clone()
            },
        ))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        match self.shape {
            Shape::Struct(..) | Shape::Map(_) | Shape::Any | Shape::Opaque => {}
            Shape::Quantity => self.plain_error(QUANTITY_FORMAT.into()),
            _ => self.mismatch("object"),
        }
        while let Some(key) = map.next_key::<String>()? {
            let (shape, place, merge) = match self.shape {
                Shape::Struct(name, def) => match def.get("properties").and_then(|p| p.get(&key)) {
                    Some(prop) => {
                        if out.contains_key(&key) {
                            self.state
                                .borrow_mut()
                                .strict_error(false, self.key_path(&key));
                        }
                        let mut fields = self.place.fields.clone();
                        fields.push(key.clone());
                        let struct_name = if name.is_empty() {
                            self.place.struct_name.clone()
                        } else {
                            Some(struct_short_name(name).to_string())
                        };
                        let place = Place {
                            path: self.key_path(&key),
                            struct_name,
                            fields,
                        };
                        (shape_of(prop), place, true)
                    }
                    None => {
                        self.state
                            .borrow_mut()
                            .strict_error(true, self.key_path(&key));
                        (Shape::Opaque, self.place.clone(), false)
                    }
                },
                Shape::Map(value_schema) => {
                    if out.contains_key(&key) {
                        self.state
                            .borrow_mut()
                            .strict_error(false, self.key_path(&key));
                    }
                    let place = Place {
                        path: self.key_path(&key),
                        ..self.place.clone()
                    };
                    (shape_of(value_schema), place, false)
                }
                Shape::Any => {
                    if out.contains_key(&key) {
                        self.state
                            .borrow_mut()
                            .strict_error(false, self.key_path(&key));
                    }
                    let place = Place {
                        path: self.key_path(&key),
                        ..self.place.clone()
                    };
                    (Shape::Any, place, false)
                }
                _ => (Shape::Opaque, self.place.clone(), false),
            };
            let value = map.next_value_seed(self.child(shape, place))?;
            let is_struct = matches!(self.shape, Shape::Struct(..));
            if is_struct && (!merge || value.is_null()) {
                // Unknown fields are dropped and nulls leave a struct field unset, as decoding
                // into the Go type does.
                if value.is_null() {
                    out.remove(&key);
                }
                continue;
            }
            match out.get_mut(&key) {
                Some(existing) if merge => merge_duplicate(existing, value, shape),
                _ => {
                    out.insert(key, value);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Go decodes a repeated struct field into the value already there: structs and maps take
/// the new keys (struct fields recursively), anything else is replaced.
fn merge_duplicate(existing: &mut Value, new: Value, shape: Shape) {
    match (existing, new, shape) {
        (Value::Object(old), Value::Object(new), Shape::Struct(_, def)) => {
            for (k, v) in new {
                let child = def
                    .get("properties")
                    .and_then(|p| p.get(&k))
                    .map(shape_of)
                    .unwrap_or(Shape::Opaque);
                match old.get_mut(&k) {
                    Some(o) if matches!(child, Shape::Struct(..) | Shape::Map(_)) => {
                        merge_duplicate(o, v, child)
                    }
                    _ => {
                        old.insert(k, v);
                    }
                }
            }
        }
        (Value::Object(old), Value::Object(new), Shape::Map(_)) => {
            old.extend(new);
        }
        (existing, new, _) => *existing = new,
    }
}

const QUANTITY_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Upstream's `resource.ParseQuantity` acceptance (the value itself is kept as sent).
fn parse_quantity(s: &str) -> Result<(), &'static str> {
    const SUFFIX: &str = "unable to parse quantity's suffix";
    if s.is_empty() {
        return Err(QUANTITY_FORMAT);
    }
    if s == "0" {
        return Ok(());
    }
    let b = s.as_bytes();
    let mut pos = 0;
    if matches!(b[0], b'+' | b'-') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && matches!(b[pos], b'+' | b'-') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < b.len() {
        return Err(QUANTITY_FORMAT);
    }
    let suffix = &s[suffix_start..];
    let known = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    if known.contains(&suffix) {
        return Ok(());
    }
    match suffix.strip_prefix(['e', 'E']) {
        Some(exp)
            if !exp.is_empty() && exp.trim_start_matches(['+', '-']).parse::<u32>().is_ok() =>
        {
            Ok(())
        }
        _ => Err(SUFFIX),
    }
}

/// Go's `base64.StdEncoding` acceptance; the error is the offset Go reports.
fn check_base64(s: &str) -> Result<(), usize> {
    let b = s.as_bytes();
    let mut count = 0; // significant characters seen
    let mut padding = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\r' || c == b'\n' {
            continue;
        }
        if c == b'=' {
            if count % 4 < 2 {
                return Err(i);
            }
            padding += 1;
            count += 1;
            continue;
        }
        if padding > 0 {
            return Err(i);
        }
        if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/') {
            return Err(i);
        }
        count += 1;
    }
    if count % 4 != 0 {
        // Go reports the end of the last complete quantum.
        return Err(b.len() - b.len().min(count % 4));
    }
    Ok(())
}

/// Go's `time.Parse(time.RFC3339, s)` acceptance (what metav1.Time requires).
fn check_rfc3339(s: &str) -> Result<(), String> {
    let fail = || {
        Err(format!(
            "parsing time {} as \"2006-01-02T15:04:05Z07:00\": cannot parse {} as \"2006\"",
            go_quote(s),
            go_quote(s)
        ))
    };
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return fail();
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return fail();
        }
        rest = &frac[n..];
    }
    let zone_ok = rest == "Z"
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest[1..3].bytes().all(|c| c.is_ascii_digit())
            && rest[4..6].bytes().all(|c| c.is_ascii_digit()));
    if !zone_ok {
        return fail();
    }
    if s[..19].parse::<jiff::civil::DateTime>().is_err() {
        return Err(format!("parsing time {}: day out of range", go_quote(s)));
    }
    Ok(())
}

/// Go's `encoding/json` wording for a syntax error.
fn json_syntax_message(e: &serde_json::Error, body: &[u8]) -> String {
    if e.is_eof() {
        return "unexpected end of JSON input".into();
    }
    let text = e.to_string();
    // serde_json counts lines and columns; find the offending byte.
    let offset = offset_of(body, e.line(), e.column());
    let ch = body
        .get(offset.saturating_sub(1))
        .map(|&c| go_char(c))
        .unwrap_or_else(|| "' '".into());
    let context = if text.starts_with("trailing characters") {
        "after top-level value"
    } else if text.starts_with("key must be a string") {
        "looking for beginning of object key string"
    } else if text.starts_with("expected `:`") {
        "after object key"
    } else if text.starts_with("expected `,` or `}`") {
        "after object key:value pair"
    } else if text.starts_with("expected `,` or `]`") {
        "after array element"
    } else if text.starts_with("invalid escape") {
        "in string escape code"
    } else if text.starts_with("control character") {
        "in string literal"
    } else {
        "looking for beginning of value"
    };
    format!("invalid character {ch} {context}")
}

fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    let mut l = 1;
    let mut start = 0;
    for (i, &c) in body.iter().enumerate() {
        if l == line {
            break;
        }
        if c == b'\n' {
            l += 1;
            start = i + 1;
        }
    }
    start + column
}

/// Go's `quoteChar`: `'x'`, `'\''`, `'"'`, `'\n'`, `'\x01'`.
fn go_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        b'\n' => "'\\n'".into(),
        b'\t' => "'\\t'".into(),
        b'\r' => "'\\r'".into(),
        c if c.is_ascii_graphic() || c == b' ' => format!("'{}'", c as char),
        c => format!("'\\x{c:02x}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "labels": { "app": "web" },
                "annotations": { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
                "creationTimestamp": null,
            },
            "spec": {
                "replicas": 3,
                "selector": { "matchLabels": { "app": "web" } },
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": 1 },
                },
                "template": {
                    "metadata": { "labels": { "app": "web" }, "creationTimestamp": null },
                    "spec": {
                        "containers": [{
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "ports": [{ "containerPort": 80, "protocol": "TCP" }],
                            "env": [{ "name": "A", "value": "1" }],
                            "resources": {
                                "limits": { "cpu": "500m", "memory": "128Mi" },
                                "requests": { "cpu": 0.25, "memory": 134217728 },
                            },
                            "readinessProbe": { "httpGet": { "path": "/", "port": "http" } },
                            "livenessProbe": { "tcpSocket": { "port": 80 } },
                        }],
                        "terminationGracePeriodSeconds": 30,
                        "tolerations": [{ "key": "k", "operator": "Exists", "effect": "NoSchedule" }],
                    },
                },
            },
            "status": { "replicas": 3, "conditions": [{
                "type": "Available", "status": "True",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
                "lastUpdateTime": "2024-05-01T10:00:00.123456+02:00",
            }]},
        })
    }

    fn dec(v: &Value) -> Result<Decoded, DecodeError> {
        decode(&serde_json::to_vec(v).unwrap(), DEPLOYMENT)
    }

    #[test]
    fn valid_manifests_decode_cleanly() {
        let d = dec(&deployment()).unwrap();
        assert!(d.strict_errors.is_empty(), "{:?}", d.strict_errors);
        let mut expected = deployment();
        // Null struct fields are left unset.
        expected["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("creationTimestamp");
        expected["spec"]["template"]["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("creationTimestamp");
        assert_eq!(d.value, expected);
        let service = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "web" },
            "spec": {
                "type": "NodePort",
                "selector": { "app": "web" },
                "ports": [
                    { "name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080 },
                    { "name": "https", "port": 443, "targetPort": "https", "protocol": "TCP" },
                ],
            },
        });
        let d = check(&service, "io.k8s.api.core.v1.Service").unwrap();
        assert!(d.strict_errors.is_empty());
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": { "name": "s" },
            "data": { "password": "c2VjcmV0", "empty": "" }, "stringData": { "x": "y" },
            "type": "Opaque",
        });
        assert!(check(&secret, "io.k8s.api.core.v1.Secret")
            .unwrap()
            .strict_errors
            .is_empty());
        let revision = json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": { "name": "r" },
            "revision": 1, "data": { "spec": { "anything": [1, "two", { "three": null }] } },
        });
        assert!(check(&revision, "io.k8s.api.apps.v1.ControllerRevision")
            .unwrap()
            .strict_errors
            .is_empty());
        let list = json!({
            "apiVersion": "v1", "kind": "PodList", "metadata": { "resourceVersion": "5" },
            "items": [{ "metadata": { "name": "p", "managedFields": [{
                "manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                "time": "2024-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": { "f:metadata": { "f:labels": { ".": {} } } },
            }] }, "spec": { "containers": [] } }],
        });
        assert!(check(&list, "io.k8s.api.core.v1.PodList")
            .unwrap()
            .strict_errors
            .is_empty());
    }

    #[test]
    fn unknown_fields_use_upstream_paths() {
        let mut d = deployment();
        d["spec"]["replicass"] = json!(2);
        d["spec"]["template"]["spec"]["containers"][0]["imagee"] = json!("x");
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["bogus"] = json!({ "deep": 1 });
        d["foo"] = json!({ "bar": "x" });
        let out = dec(&d).unwrap();
        assert_eq!(
            out.unknown_fields,
            [
                "foo",
                "spec.replicass",
                "spec.template.spec.containers[0].imagee",
                "spec.template.spec.containers[0].ports[0].bogus",
            ]
        );
        assert_eq!(
            out.strict_error().unwrap(),
            "strict decoding error: unknown field \"foo\", unknown field \"spec.replicass\", unknown field \"spec.template.spec.containers[0].imagee\", unknown field \"spec.template.spec.containers[0].ports[0].bogus\""
        );
        // Unknown fields are dropped from the value, as the typed decoding upstream does.
        assert!(out.value["spec"].get("replicass").is_none());
        assert!(out.value.get("foo").is_none());
    }

    #[test]
    fn unknown_fields_follow_document_order() {
        let body = br#"{"kind":"Deployment","zzz":1,"spec":{"zeta":1,"alpha":2},"aaa":3}"#;
        let out = decode(body, DEPLOYMENT).unwrap();
        assert_eq!(
            out.unknown_fields,
            ["zzz", "spec.zeta", "spec.alpha", "aaa"]
        );
    }

    #[test]
    fn duplicate_fields() {
        let body = br#"{"metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},
            "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"c","image":"i","image":"j"}]}}},
            "spec":{"paused":true}}"#;
        let out = decode(body, DEPLOYMENT).unwrap();
        assert_eq!(
            out.duplicate_fields,
            [
                "metadata.name",
                "metadata.labels.x",
                "spec.template.spec.containers[0].image",
                "spec"
            ]
        );
        assert_eq!(out.value["metadata"]["name"], "b");
        assert_eq!(out.value["metadata"]["labels"]["x"], "2");
        // A repeated struct field decodes into the same struct, as Go does.
        assert_eq!(out.value["spec"]["replicas"], 1);
        assert_eq!(out.value["spec"]["paused"], true);
        assert_eq!(out.strict_errors[0], "duplicate field \"metadata.name\"");
        let dup_unknown = br#"{"foo":1,"foo":2}"#;
        let out = decode(dup_unknown, DEPLOYMENT).unwrap();
        assert_eq!(out.strict_errors, ["unknown field \"foo\""]);
        let any = parse_json(br#"{"a":{"b":1,"b":2},"c":[{"d":1,"d":1}]}"#).unwrap();
        assert_eq!(any.duplicate_fields, ["a.b", "c[0].d"]);
        assert!(any.unknown_fields.is_empty());
    }

    #[test]
    fn type_errors_read_like_go() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!("3");
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(1.5);
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32"
        );
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"] = json!({ "name": "x" });
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"
        );
        let mut d = deployment();
        d["metadata"]["labels"]["app"] = json!(5);
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
        );
        let mut d = deployment();
        d["spec"] = json!("nope");
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec"
        );
        assert_eq!(
            decode(b"[1]", DEPLOYMENT).unwrap_err().message(),
            "json: cannot unmarshal array into Go value of type v1.Deployment"
        );
        let mut d = deployment();
        d["spec"]["paused"] = json!("true");
        assert!(dec(&d)
            .unwrap_err()
            .message()
            .ends_with("DeploymentSpec.spec.paused of type bool"));
        let mut d = deployment();
        d["spec"]["replicas"] = json!(3_000_000_000u64);
        assert!(dec(&d)
            .unwrap_err()
            .message()
            .contains("number 3000000000 into"));
        // The first error wins.
        let mut d = deployment();
        d["metadata"]["name"] = json!(1);
        d["spec"]["replicas"] = json!("x");
        assert!(dec(&d)
            .unwrap_err()
            .message()
            .contains("ObjectMeta.metadata.name"));
    }

    #[test]
    fn special_types() {
        let mut d = deployment();
        d["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = json!(true);
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "json: cannot unmarshal bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32"
        );
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] =
            json!("lots");
        assert_eq!(dec(&d).unwrap_err().message(), QUANTITY_FORMAT);
        for ok in [
            "1", "0", "100m", "1.5Gi", "-1", "1e3", "2E-2", ".5", "1.", "+7Ki", " 1 ",
        ] {
            assert!(parse_quantity(ok.trim()).is_ok(), "{ok}");
        }
        for bad in ["", "abc", "1Z", "1.2.3", "--1"] {
            assert!(parse_quantity(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_quantity("1ki"),
            Err("unable to parse quantity's suffix")
        );
        let mut d = deployment();
        d["metadata"]["creationTimestamp"] = json!("yesterday");
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\""
        );
        let mut d = deployment();
        d["metadata"]["creationTimestamp"] = json!(5);
        assert_eq!(
            dec(&d).unwrap_err().message(),
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string"
        );
        let secret = json!({ "data": { "k": "not base64!" } });
        assert_eq!(
            check(&secret, "io.k8s.api.core.v1.Secret")
                .unwrap_err()
                .message(),
            "illegal base64 data at input byte 3"
        );
        assert_eq!(check_base64("YWJj"), Ok(()));
        assert_eq!(check_base64("YWI="), Ok(()));
        assert_eq!(check_base64("YQ=="), Ok(()));
        assert!(check_base64("YWJ").is_err());
        assert!(check_rfc3339("2024-02-30T00:00:00Z").is_err());
        assert!(check_rfc3339("2024-02-29T23:59:59.5-07:00").is_ok());
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            decode(b"{\"a\":", DEPLOYMENT).unwrap_err().message(),
            "unexpected end of JSON input"
        );
        assert_eq!(
            decode(b"{\"a\" 1}", DEPLOYMENT).unwrap_err(),
            DecodeError::Syntax("invalid character '1' after object key".into())
        );
        assert_eq!(
            decode(b"{\"kind\":\"x\"} x", DEPLOYMENT)
                .unwrap_err()
                .message(),
            "invalid character 'x' after top-level value"
        );
        assert_eq!(
            decode(b"{,}", DEPLOYMENT).unwrap_err().message(),
            "invalid character ',' looking for beginning of object key string"
        );
        assert_eq!(
            decode(b"nope", DEPLOYMENT).unwrap_err().message(),
            "invalid character 'o' looking for beginning of value"
        );
    }

    #[test]
    fn yaml_bodies() {
        let body = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  name: web2\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        imagee: typo\n        ports:\n        - containerPort: 80\n        resources:\n          limits: {cpu: 1, memory: 1Gi}\n";
        let out = decode_yaml(body, DEPLOYMENT).unwrap();
        assert_eq!(out.duplicate_fields, ["metadata.name"]);
        assert_eq!(
            out.unknown_fields,
            ["spec.template.spec.containers[0].imagee"]
        );
        assert_eq!(out.value["spec"]["replicas"], 2);
        assert_eq!(
            out.value["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            1
        );
        let bad = decode_yaml(b"a: [1\n", DEPLOYMENT).unwrap_err();
        assert!(
            matches!(bad, DecodeError::Yaml(m) if m.starts_with("error converting YAML to JSON: yaml: "))
        );
        let typed = decode_yaml(b"spec:\n  replicas: two\n", DEPLOYMENT).unwrap_err();
        assert!(typed
            .message()
            .contains("DeploymentSpec.spec.replicas of type int32"));
    }

    #[test]
    fn scale_and_unknown_schema() {
        let scale = json!({ "apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": { "name": "web" }, "spec": { "replicas": 5 } });
        assert!(check(&scale, "io.k8s.api.autoscaling.v1.Scale")
            .unwrap()
            .strict_errors
            .is_empty());
        let anything = json!({ "whatever": [1, { "x": true }] });
        assert!(check(&anything, "no.such.Schema")
            .unwrap()
            .strict_errors
            .is_empty());
    }
}
