//! One protobuf message -> the JSON upstream's encoding of the same Go object gives, guided by
//! [`super::descriptors`]:
//!
//! - fields under their JSON names, in field-number order; unknown field numbers are skipped
//!   (as Go's generated unmarshalers do);
//! - a message field present on the wire becomes an object (`{}` when empty), absent ones are
//!   left out; repeated fields become arrays (scalars packed or not), maps objects;
//! - Go encodes every non-pointer scalar, set or not, so a scalar equal to its zero value
//!   (`""`, `0`, `false`, no bytes) is left out when Go's JSON would leave it out: strings
//!   unless required, numbers and booleans when declared without a pointer and `omitempty`
//!   (see `descriptors::keeps_zero`);
//! - int64 as JSON numbers, `bytes` as base64, the special types as their JSON forms: `Time`
//!   and `MicroTime` as RFC 3339 (a zero time, sent as an empty message, is left out as the
//!   `null` Go writes would be), `Quantity` as its string, `IntOrString` as a number or a
//!   string, `RawExtension` / `FieldsV1` as the JSON they hold, `Duration` as Go prints it.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::descriptors::{self, Kind, Label, Message, Special};
use super::wire::{self, Fields};

/// Deeper nesting than any built-in type has is refused (and keeps the stack bounded).
const MAX_DEPTH: usize = 64;

/// Decodes `buf` as the message named `name` into its JSON form (`None`: a zero special value,
/// to be left out).
pub fn message(name: &str, buf: &[u8]) -> Result<Value, String> {
    let m = descriptors::message(name).ok_or_else(|| format!("no protobuf type for {name}"))?;
    Ok(decode(m, buf, 0)?.unwrap_or(Value::Null))
}

fn decode(m: &Message, buf: &[u8], depth: usize) -> Result<Option<Value>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("{}: nested too deeply", m.desc.name));
    }
    if let Some(s) = m.special {
        return special(s, m, buf, depth);
    }
    object(m, buf, depth).map(|o| Some(Value::Object(o)))
}

/// Accumulated values of one field while reading a message.
enum Acc {
    /// The last value of a singular scalar.
    Scalar(Value),
    /// The concatenated occurrences of a singular message (protobuf merges them).
    Message(Vec<u8>),
    List(Vec<Value>),
    Map(Map<String, Value>),
}

fn object(m: &Message, buf: &[u8], depth: usize) -> Result<Map<String, Value>, String> {
    let mut acc: std::collections::BTreeMap<u32, Acc> = Default::default();
    for f in Fields::new(buf) {
        let (tag, value) = f.map_err(|e| format!("{}: {e}", m.desc.name))?;
        let Some(field) = m.fields.get(&tag).filter(|f| !f.unknown) else {
            continue;
        };
        let d = field.desc;
        let ctx = || format!("{}.{}", m.desc.name, field.json);
        match d.label {
            Label::Optional => match d.kind {
                Kind::Message(_) => {
                    let wire::Value::Bytes(b) = value else {
                        return Err(format!("{}: wrong wire type", ctx()));
                    };
                    match acc.entry(tag).or_insert_with(|| Acc::Message(Vec::new())) {
                        Acc::Message(v) => v.extend_from_slice(b),
                        _ => return Err(format!("{}: wrong wire type", ctx())),
                    }
                }
                k => {
                    let v = scalar(k, value).map_err(|e| format!("{}: {e}", ctx()))?;
                    acc.insert(tag, Acc::Scalar(v));
                }
            },
            Label::Repeated => {
                let list = match acc.entry(tag).or_insert_with(|| Acc::List(Vec::new())) {
                    Acc::List(l) => l,
                    _ => return Err(format!("{}: wrong wire type", ctx())),
                };
                match (d.kind, value) {
                    (Kind::Message(name), wire::Value::Bytes(b)) => {
                        list.push(nested(name, b, depth).map_err(|e| format!("{}: {e}", ctx()))?)
                    }
                    (Kind::String | Kind::Bytes, v) => {
                        list.push(scalar(d.kind, v).map_err(|e| format!("{}: {e}", ctx()))?)
                    }
                    (k, wire::Value::Bytes(packed)) => {
                        packed_values(k, packed, list).map_err(|e| format!("{}: {e}", ctx()))?
                    }
                    (k, v) => list.push(scalar(k, v).map_err(|e| format!("{}: {e}", ctx()))?),
                }
            }
            Label::Map => {
                let wire::Value::Bytes(entry) = value else {
                    return Err(format!("{}: wrong wire type", ctx()));
                };
                let (k, v) =
                    map_entry(d.kind, entry, depth).map_err(|e| format!("{}: {e}", ctx()))?;
                match acc.entry(tag).or_insert_with(|| Acc::Map(Map::new())) {
                    Acc::Map(map) => {
                        map.insert(k, v);
                    }
                    _ => return Err(format!("{}: wrong wire type", ctx())),
                }
            }
        }
    }
    let mut out = Map::new();
    for (tag, a) in acc {
        let Some(field) = m.fields.get(&tag) else {
            continue;
        };
        let value = match a {
            Acc::Scalar(v) => {
                if is_zero(&v) && !field.keep_zero {
                    continue;
                }
                v
            }
            Acc::Message(bytes) => {
                let Kind::Message(name) = field.desc.kind else {
                    continue;
                };
                let msg = descriptors::message(name)
                    .ok_or_else(|| format!("no protobuf type for {name}"))?;
                match decode(msg, &bytes, depth + 1)
                    .map_err(|e| format!("{}.{}: {e}", m.desc.name, field.json))?
                {
                    Some(v) => v,
                    None => continue,
                }
            }
            Acc::List(l) => Value::Array(l),
            Acc::Map(map) => Value::Object(map),
        };
        if field.inline {
            if let Value::Object(inner) = value {
                out.extend(inner);
                continue;
            }
        }
        out.insert(field.json.clone(), value);
    }
    Ok(out)
}

/// An element of a repeated message field or a map value: a zero special value is `null`.
fn nested(name: &str, buf: &[u8], depth: usize) -> Result<Value, String> {
    let msg = descriptors::message(name).ok_or_else(|| format!("no protobuf type for {name}"))?;
    Ok(decode(msg, buf, depth + 1)?.unwrap_or(Value::Null))
}

/// A `map<string, V>` entry: key = field 1, value = field 2 (either may be missing).
fn map_entry(kind: Kind, entry: &[u8], depth: usize) -> Result<(String, Value), String> {
    let mut key = String::new();
    let mut value: Option<Value> = None;
    let mut msg_bytes: Option<Vec<u8>> = None;
    for f in Fields::new(entry) {
        match f? {
            (1, v) => match scalar(Kind::String, v)? {
                Value::String(s) => key = s,
                _ => return Err("map key is not a string".into()),
            },
            (2, v) => match (kind, v) {
                (Kind::Message(_), wire::Value::Bytes(b)) => {
                    msg_bytes.get_or_insert_with(Vec::new).extend_from_slice(b)
                }
                (Kind::Message(_), _) => return Err("wrong wire type in map value".into()),
                (k, v) => value = Some(scalar(k, v)?),
            },
            _ => {}
        }
    }
    let value = match kind {
        Kind::Message(name) => nested(name, msg_bytes.as_deref().unwrap_or(&[]), depth)?,
        k => match value {
            Some(v) => v,
            None => scalar_zero(k),
        },
    };
    Ok((key, value))
}

fn packed_values(kind: Kind, mut buf: &[u8], out: &mut Vec<Value>) -> Result<(), String> {
    match kind {
        Kind::Double => {
            while !buf.is_empty() {
                let (b, rest) = buf.split_at_checked(8).ok_or("truncated packed field")?;
                let raw = u64::from_le_bytes(b.try_into().map_err(|_| "truncated packed field")?);
                out.push(scalar(kind, wire::Value::Fixed64(raw))?);
                buf = rest;
            }
        }
        Kind::Float => {
            while !buf.is_empty() {
                let (b, rest) = buf.split_at_checked(4).ok_or("truncated packed field")?;
                let raw = u32::from_le_bytes(b.try_into().map_err(|_| "truncated packed field")?);
                out.push(scalar(kind, wire::Value::Fixed32(raw))?);
                buf = rest;
            }
        }
        _ => {
            let mut pos = 0;
            while pos < buf.len() {
                let v = wire::varint(buf, &mut pos)?;
                out.push(scalar(kind, wire::Value::Varint(v))?);
            }
        }
    }
    Ok(())
}

fn scalar(kind: Kind, v: wire::Value<'_>) -> Result<Value, String> {
    use wire::Value as W;
    Ok(match (kind, v) {
        (Kind::Int32, W::Varint(n)) => Value::from(n as i64 as i32),
        (Kind::Int64, W::Varint(n)) => Value::from(n as i64),
        (Kind::Uint64, W::Varint(n)) => Value::from(n),
        (Kind::Uint64, W::Fixed64(n)) => Value::from(n),
        (Kind::Uint64, W::Fixed32(n)) => Value::from(n),
        (Kind::Sint64, W::Varint(n)) => Value::from(((n >> 1) as i64) ^ -((n & 1) as i64)),
        (Kind::Bool, W::Varint(n)) => Value::Bool(n != 0),
        (Kind::Double, W::Fixed64(n)) => float(f64::from_bits(n))?,
        (Kind::Float, W::Fixed32(n)) => float(f64::from(f32::from_bits(n)))?,
        (Kind::String, W::Bytes(b)) => Value::String(
            std::str::from_utf8(b)
                .map_err(|_| "invalid UTF-8 in a string field".to_string())?
                .to_string(),
        ),
        (Kind::Bytes, W::Bytes(b)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        _ => return Err("wrong wire type".into()),
    })
}

fn float(f: f64) -> Result<Value, String> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("unsupported value: {f}"))
}

fn scalar_zero(kind: Kind) -> Value {
    match kind {
        Kind::Bool => Value::Bool(false),
        Kind::String | Kind::Bytes => Value::String(String::new()),
        Kind::Double | Kind::Float => Value::from(0.0),
        _ => Value::from(0),
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// The JSON form of a special message (`None`: a zero time or an empty raw value, which Go
/// writes as `null`).
fn special(s: Special, m: &Message, buf: &[u8], depth: usize) -> Result<Option<Value>, String> {
    let fields: Vec<(u32, wire::Value<'_>)> = Fields::new(buf)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", m.desc.name))?;
    let last = |n: u32| fields.iter().rev().find(|(t, _)| *t == n).map(|(_, v)| *v);
    let int = |n: u32| match last(n) {
        Some(wire::Value::Varint(v)) => Ok(v as i64),
        None => Ok(0),
        Some(_) => Err(format!("{}: wrong wire type", m.desc.name)),
    };
    let bytes = |n: u32| match last(n) {
        Some(wire::Value::Bytes(b)) => Ok(b),
        None => Ok(&[][..]),
        Some(_) => Err(format!("{}: wrong wire type", m.desc.name)),
    };
    let string = |n: u32| {
        bytes(n).and_then(|b| {
            std::str::from_utf8(b)
                .map(str::to_string)
                .map_err(|_| format!("{}: invalid UTF-8", m.desc.name))
        })
    };
    Ok(Some(match s {
        Special::Time | Special::MicroTime => {
            if buf.is_empty() {
                return Ok(None);
            }
            let seconds = int(1)?;
            let nanos = int(2)? as i32;
            Value::String(rfc3339(seconds, nanos, s == Special::MicroTime)?)
        }
        Special::Duration => Value::String(go_duration(int(1)?)),
        Special::Quantity => Value::String(string(1)?),
        Special::IntOrString => {
            if int(1)? == 1 {
                Value::String(string(3)?)
            } else {
                Value::from(int(2)? as i32)
            }
        }
        Special::RawJson => {
            let raw = bytes(1)?;
            if raw.is_empty() {
                return Ok(None);
            }
            if raw.starts_with(super::MAGIC) {
                super::decode_object_at(raw, depth + 1)?
            } else {
                serde_json::from_slice(raw)
                    .map_err(|e| format!("{}: embedded JSON: {e}", m.desc.name))?
            }
        }
        Special::Items => {
            let mut items = Vec::new();
            for (t, v) in fields {
                if t == 1 {
                    items.push(scalar(Kind::String, v)?);
                }
            }
            Value::Array(items)
        }
    }))
}

/// `metav1.Time` (seconds, UTC, `2006-01-02T15:04:05Z`) or `MicroTime`
/// (`2006-01-02T15:04:05.000000Z`); Go refuses years outside 0..=9999.
fn rfc3339(seconds: i64, nanos: i32, micro: bool) -> Result<String, String> {
    let ts = jiff::Timestamp::new(seconds, nanos.clamp(0, 999_999_999))
        .map_err(|e| format!("time out of range: {e}"))?;
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    if !(0..=9999).contains(&dt.year()) {
        return Err("Time.MarshalJSON: year outside of range [0,9999]".into());
    }
    Ok(if micro {
        format!(
            "{}.{:06}Z",
            dt.strftime("%Y-%m-%dT%H:%M:%S"),
            dt.subsec_nanosecond() / 1000
        )
    } else {
        format!("{}Z", dt.strftime("%Y-%m-%dT%H:%M:%S"))
    })
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
fn go_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u == 0 {
        return "0s".into();
    }
    if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(u, scale));
    }
    let h = u / 3_600_000_000_000;
    let rem = u % 3_600_000_000_000;
    let m = rem / 60_000_000_000;
    let s = rem % 60_000_000_000;
    let mut out = String::from(sign);
    if h > 0 {
        out.push_str(&format!("{h}h{m}m"));
    } else if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&fraction(s, 1_000_000_000));
    out.push('s');
    out
}

/// `v / scale` with the fraction's trailing zeros dropped.
fn fraction(v: u64, scale: u64) -> String {
    let whole = v / scale;
    let frac = v % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339(0, 0, false).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_700_000_000, 123_456_789, true).unwrap(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert!(rfc3339(i64::MAX, 0, false).is_err());
        assert_eq!(
            rfc3339(-62_167_219_200, 0, false).unwrap(),
            "0000-01-01T00:00:00Z"
        );
        assert!(rfc3339(-62_167_219_201, 0, false).is_err());
    }

    #[test]
    fn durations_as_go_prints_them() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(go_duration(60_000_000_000), "1m0s");
        assert_eq!(go_duration(-2_000), "-2µs");
        assert_eq!(go_duration(i64::MIN), "-2562047h47m16.854775808s");
    }
}
