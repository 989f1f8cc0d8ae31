//! Query parameters of API requests, parsed and checked as upstream's parameter codec does
//! (`ListOptions`, `CreateOptions`, `DeleteOptions`...), with upstream's 400 messages for bad
//! values. Pure.

use std::collections::HashMap;

use skiff_api::fields::FieldSelector;
use skiff_api::labels::LabelSelector;

use crate::status::ApiError;

/// The raw query string, decoded; the last value of a repeated parameter wins except where
/// a list is expected (`dryRun`).
#[derive(Debug, Default, Clone)]
pub struct Query {
    values: HashMap<String, Vec<String>>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Query {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(q) = query {
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                values
                    .entry(k.into_owned())
                    .or_default()
                    .push(v.into_owned());
            }
        }
        Query { values }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, key: &str) -> &[String] {
        self.values.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A boolean parameter: absent or empty = false; "true"/"1" = true (as Go's strconv).
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(false),
            Some("true" | "1" | "t" | "T" | "TRUE" | "True") => Ok(true),
            Some("false" | "0" | "f" | "F" | "FALSE" | "False") => Ok(false),
            Some(v) => Err(ApiError::BadRequest(format!(
                "failed to parse {key} {v:?}: invalid syntax"
            ))),
        }
    }

    fn optional_flag(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(_) => self.flag(key).map(Some),
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::BadRequest(format!(
                    "failed to parse {key} {v:?}: strconv.ParseInt: parsing {v:?}: invalid syntax"
                ))
            }),
        }
    }
}

/// How a list or watch relates to `resourceVersion` (upstream's `resourceVersionMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionMatch {
    Unset,
    NotOlderThan,
    Exact,
}

/// `ListOptions` as the API server uses them for list and watch.
#[derive(Debug, Clone)]
pub struct ListOptions {
    pub label_selector: LabelSelector,
    pub field_selector: FieldSelector,
    pub watch: bool,
    pub allow_bookmarks: bool,
    /// `None` when absent or empty.
    pub resource_version: Option<String>,
    pub version_match: VersionMatch,
    pub timeout_seconds: Option<i64>,
    pub limit: Option<i64>,
    pub continue_token: Option<String>,
    pub send_initial_events: Option<bool>,
}

impl ListOptions {
    pub fn parse(q: &Query) -> Result<ListOptions, ApiError> {
        let label_selector = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let field_selector = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let version_match = match q.get("resourceVersionMatch") {
            None | Some("") => VersionMatch::Unset,
            Some("NotOlderThan") => VersionMatch::NotOlderThan,
            Some("Exact") => VersionMatch::Exact,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
                )))
            }
        };
        let resource_version = q
            .get("resourceVersion")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let opts = ListOptions {
            label_selector,
            field_selector,
            watch: q.flag("watch")?,
            allow_bookmarks: q.flag("allowWatchBookmarks")?,
            resource_version,
            version_match,
            timeout_seconds: q.int("timeoutSeconds")?,
            limit: q.int("limit")?.filter(|l| *l > 0),
            continue_token: q
                .get("continue")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            send_initial_events: q.optional_flag("sendInitialEvents")?,
        };
        opts.validate()?;
        Ok(opts)
    }

    /// Upstream's `ValidateListOptions` rules on combinations.
    fn validate(&self) -> Result<(), ApiError> {
        let invalid = |field: &str, msg: &str| {
            Err(ApiError::BadRequest(format!(
                "ListOptions.meta.k8s.io \"\" is invalid: {field}: {msg}"
            )))
        };
        if self.send_initial_events.is_some() {
            if !self.watch {
                return invalid(
                    "sendInitialEvents",
                    "Forbidden: sendInitialEvents is forbidden for list",
                );
            }
            if self.version_match != VersionMatch::NotOlderThan {
                return invalid(
                    "resourceVersionMatch",
                    "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                );
            }
            if !self.allow_bookmarks {
                return invalid(
                    "allowWatchBookmarks",
                    "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                );
            }
            return Ok(());
        }
        if self.watch && self.version_match != VersionMatch::Unset {
            return invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            );
        }
        if self.version_match != VersionMatch::Unset && self.resource_version.is_none() {
            return invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            );
        }
        if self.continue_token.is_some() && self.version_match != VersionMatch::Unset {
            return invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden when continue is provided",
            );
        }
        if self.version_match == VersionMatch::Exact
            && self.resource_version.as_deref() == Some("0")
        {
            return invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            );
        }
        Ok(())
    }

    /// The resource version as a number, with upstream's message when it is not one.
    pub fn resource_version_number(&self) -> Result<Option<i64>, ApiError> {
        parse_resource_version(self.resource_version.as_deref())
    }
}

/// Parses a resourceVersion string (`None`/"" = unset).
pub fn parse_resource_version(rv: Option<&str>) -> Result<Option<i64>, ApiError> {
    match rv {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("invalid resource version: {v:?}"))),
    }
}

/// `fieldValidation` of writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

/// Options shared by create, update and patch.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub field_validation: FieldValidation,
    pub force: bool,
}

impl WriteOptions {
    pub fn parse(q: &Query) -> Result<WriteOptions, ApiError> {
        Ok(WriteOptions {
            dry_run: parse_dry_run(q)?,
            field_manager: q.get("fieldManager").filter(|s| !s.is_empty()).map(str::to_string),
            field_validation: match q.get("fieldValidation") {
                None | Some("") | Some("Warn") => FieldValidation::Warn,
                Some("Ignore") => FieldValidation::Ignore,
                Some("Strict") => FieldValidation::Strict,
                Some(other) => {
                    return Err(ApiError::BadRequest(format!(
                        "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Warn\", \"Strict\""
                    )))
                }
            },
            force: q.flag("force")?,
        })
    }
}

fn parse_dry_run(q: &Query) -> Result<bool, ApiError> {
    let mut dry = false;
    for v in q.all("dryRun") {
        match v.as_str() {
            "All" => dry = true,
            "" => {}
            other => {
                return Err(ApiError::BadRequest(format!(
                    "dryRun: Unsupported value: {other:?}: supported values: \"All\""
                )))
            }
        }
    }
    Ok(dry)
}

/// How dependents go when their owner is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// `DeleteOptions`, from the query and/or the request body.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub dry_run: bool,
    pub grace_period_seconds: Option<i64>,
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
}

impl DeleteOptions {
    /// Query parameters first, then a JSON or protobuf (`k8s\0` magic) body (kubectl and
    /// client-go send the options as the body of DELETE) overrides what it sets.
    pub fn parse(q: &Query, body: &[u8]) -> Result<DeleteOptions, ApiError> {
        let mut o = DeleteOptions {
            dry_run: parse_dry_run(q)?,
            grace_period_seconds: q.int("gracePeriodSeconds")?,
            propagation: match q.get("propagationPolicy") {
                None | Some("") => None,
                Some(p) => Some(parse_propagation(p)?),
            },
            ..Default::default()
        };
        if q.flag("orphanDependents")? {
            o.propagation = Some(Propagation::Orphan);
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(o);
        }
        let v: serde_json::Value = if crate::protobuf::is_protobuf(body) {
            crate::protobuf::decode_object(body).map_err(|e| {
                ApiError::BadRequest(format!("error decoding DeleteOptions body: {e}"))
            })?
        } else {
            serde_json::from_slice(body).map_err(|e| {
                ApiError::BadRequest(format!("error decoding DeleteOptions body: {e}"))
            })?
        };
        if let Some(g) = v.get("gracePeriodSeconds").and_then(|g| g.as_i64()) {
            o.grace_period_seconds = Some(g);
        }
        if let Some(p) = v.get("propagationPolicy").and_then(|p| p.as_str()) {
            o.propagation = Some(parse_propagation(p)?);
        }
        if v.get("orphanDependents").and_then(|b| b.as_bool()) == Some(true) {
            o.propagation = Some(Propagation::Orphan);
        }
        if let Some(d) = v.get("dryRun").and_then(|d| d.as_array()) {
            o.dry_run |= d.iter().any(|x| x.as_str() == Some("All"));
        }
        if let Some(p) = v.get("preconditions") {
            o.precondition_uid = p.get("uid").and_then(|u| u.as_str()).map(str::to_string);
            o.precondition_resource_version = p
                .get("resourceVersion")
                .and_then(|u| u.as_str())
                .map(str::to_string);
        }
        Ok(o)
    }
}

fn parse_propagation(p: &str) -> Result<Propagation, ApiError> {
    match p {
        "Orphan" => Ok(Propagation::Orphan),
        "Background" => Ok(Propagation::Background),
        "Foreground" => Ok(Propagation::Foreground),
        other => Err(ApiError::BadRequest(format!(
            "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(q: &str) -> Result<ListOptions, ApiError> {
        ListOptions::parse(&Query::parse(Some(q)))
    }

    #[test]
    fn list_options() {
        let o = list("labelSelector=app%3Dweb&limit=500&watch=1&allowWatchBookmarks=true").unwrap();
        assert!(o.watch && o.allow_bookmarks);
        assert_eq!(o.limit, Some(500));
        assert_eq!(o.label_selector.to_string(), "app=web");
        assert!(list("limit=abc").is_err());
        assert!(list("labelSelector=a%20in").is_err());
        let o = list("watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true").unwrap();
        assert_eq!(o.send_initial_events, Some(true));
        assert!(list("sendInitialEvents=true").is_err());
        assert!(list("resourceVersionMatch=Exact").is_err());
        assert!(list("resourceVersionMatch=Exact&resourceVersion=0").is_err());
        assert!(list("resourceVersionMatch=Exact&resourceVersion=5").is_ok());
    }

    #[test]
    fn delete_options_from_body() {
        let q = Query::parse(Some("gracePeriodSeconds=5"));
        let o = DeleteOptions::parse(
            &q,
            br#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","preconditions":{"uid":"u1"}}"#,
        )
        .unwrap();
        assert_eq!(o.grace_period_seconds, Some(5));
        assert_eq!(o.propagation, Some(Propagation::Foreground));
        assert_eq!(o.precondition_uid.as_deref(), Some("u1"));
        assert!(DeleteOptions::parse(&q, b"{not json").is_err());
        assert!(
            DeleteOptions::parse(&Query::parse(Some("propagationPolicy=Sometimes")), b"").is_err()
        );
    }

    /// client-go sends DeleteOptions as protobuf when its content type is protobuf:
    /// `gracePeriodSeconds: 0` (a pointer) must survive.
    #[test]
    fn delete_options_from_protobuf_body() {
        let hex = "6b3873000a130a027631120d44656c6574654f7074696f6e731219080012040a027531220a\
                   466f726567726f756e642a03416c6c1a002200";
        let body: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let q = Query::parse(Some("gracePeriodSeconds=5"));
        let o = DeleteOptions::parse(&q, &body).unwrap();
        assert_eq!(o.grace_period_seconds, Some(0));
        assert_eq!(o.propagation, Some(Propagation::Foreground));
        assert_eq!(o.precondition_uid.as_deref(), Some("u1"));
        assert!(o.dry_run);
        let err = DeleteOptions::parse(&q, &body[..20]).unwrap_err();
        assert!(format!("{err:?}").contains("error decoding DeleteOptions body"));
    }

    #[test]
    fn write_options() {
        let o = WriteOptions::parse(&Query::parse(Some(
            "dryRun=All&fieldManager=kubectl-edit&fieldValidation=Strict",
        )))
        .unwrap();
        assert!(o.dry_run);
        assert_eq!(o.field_validation, FieldValidation::Strict);
        assert!(WriteOptions::parse(&Query::parse(Some("dryRun=Some"))).is_err());
    }
}
