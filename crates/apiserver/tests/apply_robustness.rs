//! Apply and managedFields bookkeeping on arbitrary (often nonsensical) objects: no panics,
//! and re-applying a configuration that succeeded changes nothing.

use serde_json::{json, Map, Value};
use skiff_apiserver::apply::{
    apply, fieldsv1, managed, parse_apply_body, update_managed_fields, BuiltinListKeys, Operation,
};

/// xorshift64, deterministic.
struct Rng(u64);

impl Rng {
    fn pick(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const WORDS: &[&str] = &[
    "metadata",
    "spec",
    "status",
    "containers",
    "ports",
    "finalizers",
    "selector",
    "name",
    "protocol",
    "containerPort",
    "env",
    "template",
    "labels",
    "managedFields",
    "conditions",
    "type",
    "ownerReferences",
    "uid",
    "f:spec",
    "k:{\"name\":\"a\"}",
    ".",
];

fn word(r: &mut Rng) -> &'static str {
    WORDS[r.pick(WORDS.len() as u64) as usize]
}

fn value(r: &mut Rng, depth: u32) -> Value {
    match r.pick(if depth > 4 { 4 } else { 8 }) {
        0 => Value::Null,
        1 => json!(r.pick(3)),
        2 => json!(word(r)),
        3 => json!(r.pick(2) == 0),
        4 | 5 => Value::Object(
            (0..r.pick(4))
                .map(|_| (word(r).to_string(), value(r, depth + 1)))
                .collect::<Map<_, _>>(),
        ),
        _ => Value::Array((0..r.pick(4)).map(|_| value(r, depth + 1)).collect()),
    }
}

fn object(r: &mut Rng) -> Value {
    let mut o: Map<String, Value> = (0..r.pick(5))
        .map(|_| (word(r).to_string(), value(r, 1)))
        .collect();
    // metadata is always a map in an object that decoded at all.
    if o.get("metadata").is_some_and(|m| !m.is_object()) {
        o.remove("metadata");
    }
    o.insert("apiVersion".into(), json!("v1"));
    o.insert("kind".into(), json!("Pod"));
    Value::Object(o)
}

#[test]
fn arbitrary_objects_neither_panic_nor_flap() {
    const POD: &str = "io.k8s.api.core.v1.Pod";
    const NOW: &str = "2025-01-01T00:00:00Z";
    let keys = BuiltinListKeys;
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..3000 {
        let mut live = object(&mut r);
        if i % 3 == 0 {
            live["metadata"] = json!({"uid": "u", "managedFields": value(&mut r, 2)});
        }
        let config = object(&mut r);
        if let Ok(obj) = apply(Some(&live), &config, "m", i % 2 == 0, NOW, &keys, POD) {
            let again = apply(Some(&obj), &config, "m", false, NOW, &keys, POD);
            assert_eq!(again.as_ref(), Ok(&obj), "live={live} config={config}");
            let _ = apply(Some(&obj), &object(&mut r), "n", false, NOW, &keys, POD);
        }
        let mut new = value(&mut r, 0);
        update_managed_fields(
            Some(&live),
            &mut new,
            "u",
            Operation::Update,
            None,
            NOW,
            &keys,
        );
        let mut same = new.clone();
        update_managed_fields(
            Some(&new),
            &mut same,
            "v",
            Operation::Update,
            None,
            NOW,
            &keys,
        );
        // (Unless what it started from was unreadable: then, as upstream, it is dropped.)
        let recorded = new.pointer("/metadata/managedFields");
        if recorded.is_none() || managed::decode(recorded).is_ok_and(|m| !m.fields.is_empty()) {
            assert_eq!(same, new, "an update that changes nothing records nothing");
        }
        let mut created = object(&mut r);
        update_managed_fields(
            None,
            &mut created,
            "",
            Operation::Update,
            Some("status"),
            "x",
            &keys,
        );
        let _ = parse_apply_body(value(&mut r, 0).to_string().as_bytes());
        let _ = fieldsv1::parse(&live);
    }
}
