//! Strategic merge patch (`application/strategic-merge-patch+json`) with upstream's semantics
//! (apimachinery `strategicpatch.StrategicMergeMapPatch`, server side: parallel lists merged,
//! unmatched nulls ignored). Field metadata comes from the OpenAPI definitions
//! (`x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`, see `openapi::patch_meta`):
//!
//! - maps merge key by key, `null` deletes a key;
//! - lists with strategy `merge` merge: lists of objects by their merge key, lists of
//!   primitives as a union; other lists are replaced;
//! - directives: `$patch: replace | delete | merge`, `$retainKeys`,
//!   `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` (what `kubectl apply` and
//!   `kubectl edit` send).
//!
//! Errors carry upstream's wording; [`SmpError`] tells how the HTTP layer answers each.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::openapi::definitions::{self, REF_PREFIX};

const DIRECTIVE: &str = "$patch";
const DELETE: &str = "delete";
const REPLACE: &str = "replace";
const MERGE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// A failed strategic merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmpError {
    /// Malformed directive (`invalid patch format of retainKeys`, ...): 400 BadRequest.
    BadRequest(String),
    /// `lists of lists are not supported`, `patch content doesn't match retainKeys list`:
    /// upstream's generic 422.
    Unprocessable(String),
    /// Anything else (missing merge key, unknown field on both sides, bad directive value):
    /// upstream returns the raw error, a 500 with an empty reason.
    Other(String),
}

type Result<T> = std::result::Result<T, SmpError>;

const ERR_BAD_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_BAD_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";
const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";

/// The Go type a schema decodes to, as far as the merge needs it.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// A struct definition (`io.k8s.api.core.v1.PodSpec`).
    Struct(&'static str, &'static Value),
    Map,
    Slice(&'static Value),
    /// A scalar of this Go kind (`string`, `int32`, `bool`, ...).
    Scalar(&'static str),
    /// No schema known: no metadata, no errors.
    Unknown,
}

impl Ty {
    /// The type of the root definition; `Unknown` when the name is not a definition.
    pub fn root(schema_name: &str) -> Ty {
        match definitions::definitions().get_key_value(schema_name) {
            Some((name, def)) => Ty::from_definition(name, def),
            None => Ty::Unknown,
        }
    }

    fn from_definition(name: &'static str, def: &'static Value) -> Ty {
        match def.get("type").and_then(Value::as_str) {
            Some("object") | None => Ty::Struct(name, def),
            _ => Ty::from_inline(def),
        }
    }

    fn from_schema(schema: &'static Value) -> Ty {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix(REF_PREFIX).unwrap_or(r);
            return match definitions::definitions().get_key_value(name) {
                Some((name, def)) => Ty::from_definition(name, def),
                None => Ty::Unknown,
            };
        }
        Ty::from_inline(schema)
    }

    fn from_inline(schema: &'static Value) -> Ty {
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => match schema.get("items") {
                Some(items) => Ty::Slice(items),
                None => Ty::Unknown,
            },
            Some("object") => {
                if schema.get("properties").is_some() {
                    Ty::Struct("", schema)
                } else {
                    Ty::Map
                }
            }
            Some("string") => Ty::Scalar("string"),
            Some("integer") => Ty::Scalar(match schema.get("format").and_then(Value::as_str) {
                Some("int32") => "int32",
                _ => "int64",
            }),
            Some("number") => Ty::Scalar("float64"),
            Some("boolean") => Ty::Scalar("bool"),
            _ => Ty::Unknown,
        }
    }

    /// Go's `reflect.Kind` name.
    fn kind(self) -> &'static str {
        match self {
            Ty::Struct(..) | Ty::Unknown => "struct",
            Ty::Map => "map",
            Ty::Slice(_) => "slice",
            Ty::Scalar(k) => k,
        }
    }
}

/// A field's patch metadata: its strategies (comma-separated upstream) and merge key.
#[derive(Default, Debug, Clone)]
struct Meta {
    strategies: Vec<String>,
    merge_key: String,
}

impl Meta {
    fn from_property(prop: &Value) -> Meta {
        Meta {
            strategies: prop
                .get("x-kubernetes-patch-strategy")
                .and_then(Value::as_str)
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            merge_key: prop
                .get("x-kubernetes-patch-merge-key")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }
    }

    /// upstream's `extractRetainKeysPatchStrategy`: the non-retainKeys strategy.
    fn strategy(&self) -> Result<String> {
        let s = &self.strategies;
        match s.len() {
            0 => Ok(String::new()),
            1 if s[0] == RETAIN_KEYS_STRATEGY => Ok(String::new()),
            1 => Ok(s[0].clone()),
            2 if s[0] == RETAIN_KEYS_STRATEGY => Ok(s[1].clone()),
            2 if s[1] == RETAIN_KEYS_STRATEGY => Ok(s[0].clone()),
            _ => Err(SmpError::Other(format!(
                "unexpected patch strategy: [{}]",
                s.join(" ")
            ))),
        }
    }
}

/// `LookupPatchMetadataForStruct`.
fn lookup_struct(ty: Ty, key: &str) -> Result<(Ty, Meta)> {
    match ty {
        Ty::Unknown => Ok((Ty::Unknown, Meta::default())),
        Ty::Struct(name, def) => {
            let props = def.get("properties").and_then(Value::as_object);
            let prop = props.and_then(|p| {
                p.get(key).or_else(|| {
                    p.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| v)
                })
            });
            match prop {
                Some(prop) => Ok((Ty::from_schema(prop), Meta::from_property(prop))),
                None => Err(SmpError::Other(format!(
                    "unable to find api field in struct {} for the json field {key:?}",
                    name.rsplit('.').next().unwrap_or(name)
                ))),
            }
        }
        other => Err(SmpError::Other(format!(
            "merging an object in json but data type is not struct, instead is: {}",
            other.kind()
        ))),
    }
}

/// `LookupPatchMetadataForSlice`: the element type of a list field.
fn lookup_slice(ty: Ty, key: &str) -> Result<(Ty, Meta)> {
    let (field, meta) = lookup_struct(ty, key)?;
    match field {
        Ty::Slice(items) => Ok((Ty::from_schema(items), meta)),
        Ty::Unknown => Ok((Ty::Unknown, meta)),
        _ => Err(SmpError::Other(format!(
            "expected slice or array type, but got: {}",
            ty.kind()
        ))),
    }
}

/// Applies a strategic merge patch to `original` for the type `ty`.
pub fn apply(
    original: Map<String, Value>,
    patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>> {
    merge_map(original, patch, ty)
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.get(DIRECTIVE).cloned() {
        return match directive.as_str() {
            Some(REPLACE) => {
                patch.remove(DIRECTIVE);
                Ok(patch)
            }
            Some(DELETE) => Ok(Map::new()),
            _ => Err(bad_patch_type(&directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order(&mut original, &mut patch, ty)?;

    // `$deleteFromPrimitiveList/x` keys sort before field names, so deletions run first;
    // upstream iterates in random order.
    for (key, patch_value) in patch {
        let (key, is_delete_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(_) => (extract_key(&key, DELETE_FROM_PRIMITIVE_LIST)?, true),
            None => (key, false),
        };
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        let Some(current) = original.get_mut(&key) else {
            if !is_delete_list {
                set_without_directives(&mut original, key, discard_nulls(patch_value));
            }
            continue;
        };
        if go_type(current) != go_type(&patch_value) {
            if !is_delete_list {
                set_without_directives(&mut original, key, discard_nulls(patch_value));
            }
            continue;
        }
        match patch_value {
            Value::Object(p) => {
                let (sub, meta) = lookup_struct(ty, &key)?;
                let strategy = meta.strategy()?;
                let merged = if strategy != REPLACE {
                    let Value::Object(cur) = std::mem::take(current) else {
                        unreachable_type()?
                    };
                    merge_map(cur, p, sub)?
                } else {
                    p
                };
                *current = Value::Object(merged);
            }
            Value::Array(p) => {
                let (sub, meta) = lookup_slice(ty, &key)?;
                let strategy = meta.strategy()?;
                let Value::Array(cur) = std::mem::take(current) else {
                    unreachable_type()?
                };
                let merged = if strategy == MERGE || is_delete_list {
                    merge_slice(cur, p, sub, &meta.merge_key, is_delete_list)?
                } else {
                    p
                };
                *current = Value::Array(merged);
            }
            scalar => {
                *current = scalar;
            }
        }
    }
    Ok(original)
}

fn unreachable_type<T>() -> Result<T> {
    Err(SmpError::Other("invalid state detected".into()))
}

fn set_without_directives(map: &mut Map<String, Value>, key: String, value: Value) {
    match remove_directives(value) {
        Some(v) => {
            map.insert(key, v);
        }
        None => {
            map.remove(&key);
        }
    }
}

/// `unknown patch type: <t> in map: <m>`.
fn bad_patch_type(directive: &Value, m: &Map<String, Value>) -> SmpError {
    SmpError::Other(format!(
        "unknown patch type: {} in map: {}",
        go_format(directive),
        go_format(&Value::Object(m.clone()))
    ))
}

/// `extractKey`: `$setElementOrder/containers` -> `containers`.
fn extract_key(s: &str, prefix: &str) -> Result<String> {
    match s.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_string()),
        _ => Err(SmpError::BadRequest(
            if prefix == DELETE_FROM_PRIMITIVE_LIST {
                ERR_BAD_PRIMITIVE_LIST
            } else {
                ERR_BAD_SET_ELEMENT_ORDER
            }
            .into(),
        )),
    }
}

fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(keys) = retain else {
        return Err(SmpError::BadRequest(ERR_BAD_RETAIN_KEYS.into()));
    };
    let retained = |k: &str| keys.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !retained(k) {
            return Err(SmpError::BadRequest(ERR_BAD_RETAIN_KEYS.into()));
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// `mergePatchIntoOriginal`: every `$setElementOrder/<field>` with its list.
fn merge_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: Ty,
) -> Result<()> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let field = extract_key(&key, SET_ELEMENT_ORDER)?;
        let original_list = match original.get(&field) {
            Some(Value::Array(l)) => Some(l.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            None => None,
        };
        let patch_list = match patch.get(&field) {
            Some(Value::Array(l)) => Some(l.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            None => None,
        };
        let (sub, meta) = lookup_slice(ty, &field)?;
        let strategy = meta.strategy()?;
        let merge_key = meta.merge_key.as_str();
        validate_set_order(patch_list.as_deref().unwrap_or(&[]), &order, merge_key)?;

        let merged = match (&original_list, &patch_list) {
            (Some(o), None) => o.clone(),
            (None, Some(p)) => match remove_directives(Value::Array(p.clone())) {
                Some(Value::Array(v)) => v,
                _ => continue,
            },
            (Some(o), Some(p)) => {
                if strategy == MERGE {
                    merge_slice(o.clone(), p.clone(), sub, merge_key, false)?
                } else {
                    p.clone()
                }
            }
            (None, None) => continue,
        };
        let (patch_items, server_only) = if merge_key.is_empty() {
            partition_primitives(merged, &order)
        } else {
            partition_maps(merged, &order, merge_key)?
        };
        let kind = slice_element_type(&[
            original_list.as_deref().unwrap_or(&[]),
            patch_list.as_deref().unwrap_or(&[]),
        ])?;
        let both = normalize_element_order(
            patch_items,
            server_only,
            &order,
            original_list.as_deref().unwrap_or(&[]),
            merge_key,
            kind,
        )?;
        original.insert(field.clone(), Value::Array(both));
        patch.remove(&field);
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch list's items appear in the order list, in the
/// same relative order (deletions ignored).
fn validate_set_order(patch_list: &[Value], order: &[Value], merge_key: &str) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        let mut keep = Vec::new();
        for v in patch_list {
            let Value::Object(m) = v else {
                return Err(bad_arg_type("map[string]interface {}", v));
            };
            if m.get(DIRECTIVE).and_then(Value::as_str) != Some(DELETE) {
                keep.push(v);
            }
        }
        keep
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if is_directive_map(non_delete[pi]) {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(non_delete[pi], &order[oi], merge_key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(SmpError::Other(format!(
            "The order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}\n",
            go_format(&Value::Array(patch_list.to_vec())),
            go_format(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

fn is_directive_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.contains_key(DIRECTIVE))
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let l = left
        .as_object()
        .ok_or_else(|| bad_arg_type("map[string]interface {}", left))?;
    let r = right
        .as_object()
        .ok_or_else(|| bad_arg_type("map[string]interface {}", right))?;
    let lv = l.get(merge_key).ok_or_else(|| no_merge_key(l, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| no_merge_key(r, merge_key))?;
    Ok(lv == rv)
}

/// `mergeSlice`.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    ty: Ty,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = slice_element_type(&[&original, &patch])?;
    let (original, patch, merged) = if kind != ElemKind::Map {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        let merged = deduplicate_scalars(both);
        (original, patch, merged)
    } else {
        if merge_key.is_empty() {
            return Err(SmpError::Other(format!(
                "cannot merge lists without merge key for {}",
                ty.kind()
            )));
        }
        let (original, patch) = merge_special_elements(original, patch, merge_key)?;
        let merged = merge_without_special_elements(original.clone(), &patch, merge_key, ty)?;
        (original, patch, merged)
    };
    let (patch_items, server_only) = if merge_key.is_empty() {
        partition_primitives(merged, &patch)
    } else {
        partition_maps(merged, &patch, merge_key)?
    };
    normalize_element_order(patch_items, server_only, &patch, &original, merge_key, kind)
}

/// `mergeSliceWithSpecialElements`: `$patch: delete` entries delete by merge key,
/// `$patch: replace` makes the patch list (without directives) the result.
fn merge_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Value::Object(m) = &v else {
            return Err(bad_arg_type("map[string]interface {}", &v));
        };
        match m.get(DIRECTIVE) {
            None => plain.push(v),
            Some(d) => match d.as_str() {
                Some(DELETE) => {
                    let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
                    let mut kept = Vec::with_capacity(original.len());
                    for (i, item) in original.into_iter().enumerate() {
                        let Value::Object(im) = &item else {
                            return Err(SmpError::Other(format!("value for key {i} is not a map")));
                        };
                        if im.get(merge_key) != Some(value) {
                            kept.push(item);
                        }
                    }
                    original = kept;
                }
                Some(REPLACE) => replace = true,
                Some(MERGE) => {
                    return Err(SmpError::Other(
                        "merging lists cannot yet be specified in the patch".into(),
                    ))
                }
                _ => return Err(bad_patch_type(d, m)),
            },
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// `mergeSliceWithoutSpecialElements`: items with a known merge key merge into the original
/// item, others are appended.
fn merge_without_special_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    ty: Ty,
) -> Result<Vec<Value>> {
    for v in patch {
        let Value::Object(m) = v else {
            return Err(bad_arg_type("map[string]interface {}", v));
        };
        let key_value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
        match find_by_key(&original, merge_key, key_value)? {
            Some(i) => {
                let Value::Object(cur) = std::mem::take(&mut original[i]) else {
                    unreachable_type()?
                };
                original[i] = Value::Object(merge_map(cur, m.clone(), ty)?);
            }
            None => original.push(v.clone()),
        }
    }
    Ok(original)
}

/// `findMapInSliceBasedOnKeyValue`.
fn find_by_key(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>> {
    for (i, v) in list.iter().enumerate() {
        let Value::Object(m) = v else {
            return Err(SmpError::Other(format!("value for key {i} is not a map")));
        };
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Go's element kinds, as `reflect.TypeOf` tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElemKind {
    Map,
    Scalar(&'static str),
}

/// `sliceElementType`: every element of every list has one type, and it is not a list.
fn slice_element_type(lists: &[&[Value]]) -> Result<ElemKind> {
    let mut found: Option<&'static str> = None;
    for list in lists {
        for v in list.iter() {
            let t = go_type(v);
            match found {
                None => {
                    if t == "[]interface {}" {
                        return Err(SmpError::Unprocessable(ERR_NO_LIST_OF_LISTS.into()));
                    }
                    found = Some(t);
                }
                Some(prev) if prev != t => {
                    let all: Vec<Value> = lists.iter().map(|l| Value::Array(l.to_vec())).collect();
                    return Err(SmpError::Other(format!(
                        "list element types are not identical: {}",
                        go_format(&Value::Array(all))
                    )));
                }
                Some(_) => {}
            }
        }
    }
    match found {
        Some("map[string]interface {}") => Ok(ElemKind::Map),
        Some(t) => Ok(ElemKind::Scalar(t)),
        None => Err(SmpError::Other(
            "no elements in any of the given slices".into(),
        )),
    }
}

/// Go's dynamic type of a decoded JSON value (integers decode as int64 upstream).
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `expected a <expected>, but received a <actual type>`.
fn bad_arg_type(expected: &str, actual: &Value) -> SmpError {
    SmpError::Other(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

fn no_merge_key(m: &Map<String, Value>, key: &str) -> SmpError {
    SmpError::Other(format!(
        "map: {} does not contain declared merge key: {key}",
        go_format(&Value::Object(m.clone()))
    ))
}

fn deduplicate_scalars(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for v in items {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn partition_primitives(merged: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    merged.into_iter().partition(|v| by.contains(v))
}

fn partition_maps(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut in_patch = Vec::new();
    let mut server_only = Vec::new();
    for v in merged {
        let Value::Object(m) = &v else {
            return Err(bad_arg_type("map[string]interface {}", &v));
        };
        let key_value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
        if find_by_key(by, merge_key, key_value)?.is_some() {
            in_patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((in_patch, server_only))
}

/// `normalizeElementOrder`: patch items in the order of `patch_order`, server-only items in
/// the order of `server_order`, interleaved by the server order.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Result<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

fn lookup_value<'a>(item: &'a Value, merge_key: &str, kind: ElemKind) -> Option<&'a Value> {
    match kind {
        ElemKind::Map => item.as_object().and_then(|m| m.get(merge_key)),
        ElemKind::Scalar(_) => Some(item),
    }
}

/// `index`: position of `item` in `list` (by merge key value for maps).
fn index_of(list: &[Value], item: &Value, merge_key: &str, kind: ElemKind) -> Option<usize> {
    let want = lookup_value(item, merge_key, kind);
    list.iter()
        .position(|v| lookup_value(v, merge_key, kind) == want)
}

fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Result<Vec<Value>> {
    let mut to_sort = to_sort;
    let mut to_delete = Vec::new();
    if kind == ElemKind::Map {
        for list in [to_sort.as_slice(), order] {
            for item in list {
                let Value::Object(m) = item else {
                    return Err(bad_arg_type("map[string]interface {}", item));
                };
                if !m.contains_key(merge_key) {
                    return Err(no_merge_key(m, merge_key));
                }
            }
        }
        let (keep, delete): (Vec<Value>, Vec<Value>) = to_sort
            .into_iter()
            .partition(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some(DELETE));
        to_sort = keep;
        to_delete = delete;
    }
    // Go's sort.SliceStable (insertion sort below 20 elements) with upstream's comparator:
    // known positions compare, anything unknown counts as "less".
    let less = |a: &Value, b: &Value| match (
        index_of(order, a, merge_key, kind),
        index_of(order, b, merge_key, kind),
    ) {
        (Some(i), Some(j)) => i < j,
        _ => true,
    };
    insertion_sort_stable(&mut to_sort, less);
    to_sort.extend(to_delete);
    Ok(to_sort)
}

fn insertion_sort_stable(v: &mut [Value], less: impl Fn(&Value, &Value) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// `mergeSortedSlice`: inserts each server-only item (`left`) before the first patch item
/// (`right`) that comes after it in the server order.
fn merge_sorted(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.next()),
            (None, Some(_)) => out.extend(right.next()),
            (Some(l), Some(r)) => {
                let li = index_of(server_order, l, merge_key, kind);
                let ri = index_of(server_order, r, merge_key, kind);
                let take_left =
                    matches!((li, ri), (Some(a), Some(b)) if a.cmp(&b) == Ordering::Less);
                if take_left {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    out
}

/// `removeDirectives`: drops maps carrying `$patch` (returns `None` for such a map itself).
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(v) = remove_directives(v) {
                    out.insert(k, v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// `discardNullValuesFromPatch`.
fn discard_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, discard_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(discard_nulls).collect()),
        other => other,
    }
}

/// Go's `%v` / `%+v` of decoded JSON (`map[a:1 b:[x y]]`), as upstream's messages print it.
pub fn go_format(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_format).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_format(&m[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` of a float64 (`%g` with the shortest representation).
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let exp = f.abs().log10().floor() as i32;
    if !(-4..21).contains(&exp) {
        let s = format!("{f:e}");
        // Rust prints `1e21`, Go `1e+21`.
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e:0>2}"),
            Some((m, e)) => format!("{m}e-{:0>2}", &e[1..]),
            None => s,
        }
    } else {
        format!("{f}")
    }
}
