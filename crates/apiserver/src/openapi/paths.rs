//! The REST operations of every served resource, as upstream lists them in its OpenAPI
//! documents (operation ids, `x-kubernetes-action`, `x-kubernetes-group-version-kind`, query
//! parameters, request bodies, media types), in a form both the swagger 2.0 and the OpenAPI
//! 3.0 renderers turn into their own shapes. Also the discovery (`/api/`, `/apis/`, ...) and
//! `/version/` operations.

use skiff_api::resources::{self, Resource};
use skiff_api::Verb;

use super::kinds;

/// A parameter's JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Boolean,
    Integer,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Boolean => "boolean",
            ParamType::Integer => "integer",
        }
    }
}

/// A path or query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    /// `path` or `query`.
    pub location: &'static str,
    pub ty: ParamType,
    pub description: &'static str,
    pub required: bool,
}

/// What a response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A definition (`io.k8s.api.core.v1.Pod`).
    Schema(&'static str),
    /// A plain string (pod logs).
    Text,
}

/// One operation of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `get`, `post`, `put`, `patch` or `delete`.
    pub method: &'static str,
    pub id: String,
    pub description: String,
    /// `x-kubernetes-action`: get, list, watch, watchlist, post, put, patch, delete,
    /// deletecollection (absent for discovery).
    pub action: Option<&'static str>,
    /// `x-kubernetes-group-version-kind`: (group, version, kind).
    pub gvk: Option<(&'static str, &'static str, &'static str)>,
    pub params: Vec<Param>,
    /// The request body's definition, if any.
    pub body: Option<&'static str>,
    /// Whether the body is required (create, replace, patch).
    pub body_required: bool,
    pub consumes: &'static [&'static str],
    pub produces: &'static [&'static str],
    /// (HTTP code, description, payload), `401 Unauthorized` included.
    pub responses: Vec<(u16, &'static str, Option<Payload>)>,
    pub tag: String,
}

/// One path with its operations and path-level parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathItem {
    pub path: String,
    pub params: Vec<Param>,
    pub operations: Vec<Operation>,
    /// The `/openapi/v3` document it belongs to (`api/v1`, `apis/apps/v1`, `api`, `apis`,
    /// `apis/apps`, `version`).
    pub document: String,
}

const JSON_YAML_PB: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];
const JSON_YAML_PB_WATCH: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
];
const ANY: &[&str] = &["*/*"];
/// The patch media types upstream accepts on built-in resources.
pub const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];
const LOG_PRODUCES: &[&str] = &[
    "text/plain",
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

const fn query(name: &'static str, ty: ParamType, description: &'static str) -> Param {
    Param {
        name,
        location: "query",
        ty,
        description,
        required: false,
    }
}

const fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: "path",
        ty: ParamType::String,
        description,
        required: true,
    }
}

use ParamType::{Boolean, Integer, String as Str};

const NAME: Param = path("name", "name of the object");
const NAMESPACE: Param = path(
    "namespace",
    "object name and auth scope, such as for teams and projects",
);
const PRETTY: Param = query("pretty", Str, "If 'true', the output is pretty printed.");
const ALLOW_WATCH_BOOKMARKS: Param = query("allowWatchBookmarks", Boolean, "allowWatchBookmarks requests watch events of type \"BOOKMARK\". Servers may ignore it; clients must not rely on bookmarks arriving at any particular time. Ignored unless watching.");
const CONTINUE: Param = query("continue", Str, "The continue token of a previous paginated list call with identical query parameters. An expired token answers 410 ResourceExpired. Not supported when watch is true.");
const FIELD_SELECTOR: Param = query(
    "fieldSelector",
    Str,
    "A selector to restrict the returned objects by their fields. Defaults to everything.",
);
const LABEL_SELECTOR: Param = query(
    "labelSelector",
    Str,
    "A selector to restrict the returned objects by their labels. Defaults to everything.",
);
const LIMIT: Param = query("limit", Integer, "limit is the maximum number of items to return in one list call. When more exist, the list metadata carries a continue token for the next chunk. Not supported when watch is true.");
const RESOURCE_VERSION: Param = query("resourceVersion", Str, "resourceVersion constrains which resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset");
const RESOURCE_VERSION_MATCH: Param = query("resourceVersionMatch", Str, "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset");
const SEND_INITIAL_EVENTS: Param = query("sendInitialEvents", Boolean, "sendInitialEvents=true may be set together with watch=true. The stream then begins with synthetic events for the current state of all objects, followed by a bookmark annotated \"k8s.io/initial-events-end\", then the changes.");
const TIMEOUT_SECONDS: Param = query(
    "timeoutSeconds",
    Integer,
    "Timeout for the list/watch call, regardless of any activity or inactivity.",
);
const WATCH: Param = query("watch", Boolean, "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.");
const DRY_RUN: Param = query("dryRun", Str, "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed");
const FIELD_MANAGER: Param = query("fieldManager", Str, "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.");
const FIELD_MANAGER_APPLY: Param = query("fieldManager", Str, "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).");
const FIELD_VALIDATION: Param = query("fieldValidation", Str, "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.");
const FORCE: Param = query("force", Boolean, "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.");
const GRACE_PERIOD_SECONDS: Param = query("gracePeriodSeconds", Integer, "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.");
const IGNORE_STORE_READ_ERROR: Param = query("ignoreStoreReadErrorWithClusterBreakingPotential", Boolean, "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it");
const ORPHAN_DEPENDENTS: Param = query("orphanDependents", Boolean, "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.");
const PROPAGATION_POLICY: Param = query("propagationPolicy", Str, "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.");

/// Query parameters of list and watch operations (sorted, as upstream).
fn list_params() -> Vec<Param> {
    vec![
        ALLOW_WATCH_BOOKMARKS,
        CONTINUE,
        FIELD_SELECTOR,
        LABEL_SELECTOR,
        LIMIT,
        RESOURCE_VERSION,
        RESOURCE_VERSION_MATCH,
        SEND_INITIAL_EVENTS,
        TIMEOUT_SECONDS,
        WATCH,
    ]
}

/// `Apps`, `Core`, `RbacAuthorization`, `EventsV1`-style prefix of operation ids: the group
/// without `.k8s.io`, each dot-separated part capitalised, then the version capitalised.
fn id_prefix(group: &str, version: &str) -> String {
    let group = if group.is_empty() { "core" } else { group };
    let group = group.strip_suffix(".k8s.io").unwrap_or(group);
    let mut out = String::new();
    for part in group.split('.') {
        out.push_str(&capitalize(part));
    }
    out.push_str(&capitalize(version));
    out
}

/// The tag upstream gives a group-version's operations: `core_v1`, `apps_v1`,
/// `rbacAuthorization_v1`, `events_v1`.
fn tag(group: &str, version: &str) -> String {
    let group = if group.is_empty() { "core" } else { group };
    let group = group.strip_suffix(".k8s.io").unwrap_or(group);
    let mut parts = group.split('.');
    let mut out = parts.next().unwrap_or_default().to_string();
    for part in parts {
        out.push_str(&capitalize(part));
    }
    format!("{out}_{version}")
}

fn group_tag(group: &str) -> String {
    let full = tag(group, "");
    full.trim_end_matches('_').to_string()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `/api/v1` or `/apis/<group>/<version>`.
pub fn group_version_root(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// The `/openapi/v3` key of a group-version (`api/v1`, `apis/apps/v1`).
pub fn document_key(group: &str, version: &str) -> String {
    group_version_root(group, version)
        .trim_start_matches('/')
        .to_string()
}

fn unauthorized() -> (u16, &'static str, Option<Payload>) {
    (401, "Unauthorized", None)
}

struct Ctx<'a> {
    r: &'a Resource,
    prefix: String,
    tag: String,
    root: String,
    doc: String,
}

impl Ctx<'_> {
    fn gvk(&self) -> Option<(&'static str, &'static str, &'static str)> {
        Some((self.r.group, self.r.version, self.r.kind))
    }

    fn schema(&self) -> &'static str {
        kinds::find(self.r.group, self.r.version, self.r.kind)
            .map(|k| k.schema)
            .unwrap_or(kinds::STATUS)
    }

    fn list_schema(&self) -> &'static str {
        kinds::find(self.r.group, self.r.version, self.r.kind)
            .map(|k| k.list_schema)
            .unwrap_or(kinds::STATUS)
    }

    #[allow(clippy::too_many_arguments)]
    fn op(
        &self,
        method: &'static str,
        id: String,
        description: String,
        action: &'static str,
        params: Vec<Param>,
        body: Option<&'static str>,
        consumes: &'static [&'static str],
        produces: &'static [&'static str],
        responses: Vec<(u16, &'static str, Option<Payload>)>,
    ) -> Operation {
        Operation {
            method,
            id,
            description,
            action: Some(action),
            gvk: self.gvk(),
            params,
            body,
            body_required: body.is_some() && method != "delete",
            consumes,
            produces,
            responses,
            tag: self.tag.clone(),
        }
    }

    fn item(&self, path: String, params: Vec<Param>, operations: Vec<Operation>) -> PathItem {
        PathItem {
            path,
            params,
            operations,
            document: self.doc.clone(),
        }
    }
}

/// Every path of one resource, upstream's order within the resource.
fn resource_paths(r: &Resource) -> Vec<PathItem> {
    let cx = Ctx {
        r,
        prefix: id_prefix(r.group, r.version),
        tag: tag(r.group, r.version),
        root: group_version_root(r.group, r.version),
        doc: document_key(r.group, r.version),
    };
    let kind = r.kind;
    let p = &cx.prefix;
    let (ns_word, ns_path, scoped_params) = if r.namespaced {
        (
            "Namespaced",
            format!("/namespaces/{{namespace}}/{}", r.plural),
            vec![NAMESPACE],
        )
    } else {
        ("", format!("/{}", r.plural), vec![])
    };
    let collection = format!("{}{}", cx.root, ns_path);
    let object = format!("{collection}/{{name}}");
    let schema = cx.schema();
    let mut out = Vec::new();

    // Collection: list, create, deletecollection.
    let mut ops = Vec::new();
    if r.has_verb(Verb::List) {
        ops.push(cx.op(
            "get",
            format!("list{p}{ns_word}{kind}"),
            format!("list or watch objects of kind {kind}"),
            "list",
            list_params(),
            None,
            ANY,
            JSON_YAML_PB_WATCH,
            vec![
                (200, "OK", Some(Payload::Schema(cx.list_schema()))),
                unauthorized(),
            ],
        ));
    }
    if r.has_verb(Verb::Create) {
        ops.push(cx.op(
            "post",
            format!("create{p}{ns_word}{kind}"),
            format!("create {}", article(kind)),
            "post",
            vec![DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
            Some(schema),
            ANY,
            JSON_YAML_PB,
            vec![
                (200, "OK", Some(Payload::Schema(schema))),
                (201, "Created", Some(Payload::Schema(schema))),
                (202, "Accepted", Some(Payload::Schema(schema))),
                unauthorized(),
            ],
        ));
    }
    if r.has_verb(Verb::DeleteCollection) {
        ops.push(cx.op(
            "delete",
            format!("delete{p}Collection{ns_word}{kind}"),
            format!("delete collection of {kind}"),
            "deletecollection",
            vec![
                CONTINUE,
                DRY_RUN,
                FIELD_SELECTOR,
                GRACE_PERIOD_SECONDS,
                IGNORE_STORE_READ_ERROR,
                LABEL_SELECTOR,
                LIMIT,
                ORPHAN_DEPENDENTS,
                PROPAGATION_POLICY,
                RESOURCE_VERSION,
                RESOURCE_VERSION_MATCH,
                SEND_INITIAL_EVENTS,
                TIMEOUT_SECONDS,
            ],
            Some(kinds::DELETE_OPTIONS),
            ANY,
            JSON_YAML_PB,
            vec![
                (200, "OK", Some(Payload::Schema(kinds::STATUS))),
                unauthorized(),
            ],
        ));
    }
    if !ops.is_empty() {
        let mut params = scoped_params.clone();
        params.push(PRETTY);
        out.push(cx.item(collection.clone(), params, ops));
    }

    // One object: read, replace, patch, delete.
    let mut ops = Vec::new();
    if r.has_verb(Verb::Get) {
        ops.push(cx.op(
            "get",
            format!("read{p}{ns_word}{kind}"),
            format!("read the specified {kind}"),
            "get",
            vec![],
            None,
            ANY,
            JSON_YAML_PB,
            vec![(200, "OK", Some(Payload::Schema(schema))), unauthorized()],
        ));
    }
    if r.has_verb(Verb::Update) {
        ops.push(replace_op(
            &cx,
            format!("replace{p}{ns_word}{kind}"),
            format!("replace the specified {kind}"),
            schema,
        ));
    }
    if r.has_verb(Verb::Patch) {
        ops.push(patch_op(
            &cx,
            format!("patch{p}{ns_word}{kind}"),
            format!("partially update the specified {kind}"),
            schema,
        ));
    }
    if r.has_verb(Verb::Delete) {
        ops.push(cx.op(
            "delete",
            format!("delete{p}{ns_word}{kind}"),
            format!("delete {}", article(kind)),
            "delete",
            vec![
                DRY_RUN,
                GRACE_PERIOD_SECONDS,
                IGNORE_STORE_READ_ERROR,
                ORPHAN_DEPENDENTS,
                PROPAGATION_POLICY,
            ],
            Some(kinds::DELETE_OPTIONS),
            ANY,
            JSON_YAML_PB,
            vec![
                (200, "OK", Some(Payload::Schema(kinds::STATUS))),
                (202, "Accepted", Some(Payload::Schema(kinds::STATUS))),
                unauthorized(),
            ],
        ));
    }
    let mut object_params = vec![NAME];
    object_params.extend(scoped_params.iter().cloned());
    object_params.push(PRETTY);
    if !ops.is_empty() {
        out.push(cx.item(object.clone(), object_params.clone(), ops));
    }

    // Subresources.
    for s in r.subresources {
        let sub_path = format!("{object}/{}", s.name);
        let sub_gvk = Some((s.group, s.version, s.kind));
        let sub_schema = kinds::find(s.group, s.version, s.kind).map(|k| k.schema);
        let suffix = capitalize(s.name);
        let mut ops = Vec::new();
        match (s.name, sub_schema) {
            ("status" | "scale", Some(sub_schema)) => {
                ops.push(Operation {
                    gvk: sub_gvk,
                    ..cx.op(
                        "get",
                        format!("read{p}{ns_word}{kind}{suffix}"),
                        format!("read {} of the specified {kind}", s.name),
                        "get",
                        vec![],
                        None,
                        ANY,
                        JSON_YAML_PB,
                        vec![
                            (200, "OK", Some(Payload::Schema(sub_schema))),
                            unauthorized(),
                        ],
                    )
                });
                ops.push(Operation {
                    gvk: sub_gvk,
                    ..replace_op(
                        &cx,
                        format!("replace{p}{ns_word}{kind}{suffix}"),
                        format!("replace {} of the specified {kind}", s.name),
                        sub_schema,
                    )
                });
                ops.push(Operation {
                    gvk: sub_gvk,
                    ..patch_op(
                        &cx,
                        format!("patch{p}{ns_word}{kind}{suffix}"),
                        format!("partially update {} of the specified {kind}", s.name),
                        sub_schema,
                    )
                });
            }
            ("binding" | "eviction", Some(sub_schema)) => {
                ops.push(Operation {
                    gvk: sub_gvk,
                    ..cx.op(
                        "post",
                        format!("create{p}{ns_word}{kind}{suffix}"),
                        format!("create {} of {}", s.name, article(kind)),
                        "post",
                        vec![DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
                        Some(sub_schema),
                        ANY,
                        JSON_YAML_PB,
                        vec![
                            (200, "OK", Some(Payload::Schema(sub_schema))),
                            (201, "Created", Some(Payload::Schema(sub_schema))),
                            (202, "Accepted", Some(Payload::Schema(sub_schema))),
                            unauthorized(),
                        ],
                    )
                });
            }
            ("log", _) => {
                ops.push(cx.op(
                    "get",
                    format!("read{p}{ns_word}{kind}Log"),
                    format!("read log of the specified {kind}"),
                    "get",
                    log_params(),
                    None,
                    ANY,
                    LOG_PRODUCES,
                    vec![(200, "OK", Some(Payload::Text)), unauthorized()],
                ));
            }
            ("finalize", Some(sub_schema)) => {
                ops.push(Operation {
                    params: vec![DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
                    ..replace_op(
                        &cx,
                        format!("replace{p}{ns_word}{kind}Finalize"),
                        format!("replace finalize of the specified {kind}"),
                        sub_schema,
                    )
                });
            }
            _ => {}
        }
        if !ops.is_empty() {
            out.push(cx.item(sub_path, object_params.clone(), ops));
        }
    }

    // All namespaces: list, watch.
    if r.namespaced && r.has_verb(Verb::List) {
        let mut params = list_params();
        params.insert(6, PRETTY);
        out.push(cx.item(
            format!("{}/{}", cx.root, r.plural),
            params,
            vec![cx.op(
                "get",
                format!("list{p}{kind}ForAllNamespaces"),
                format!("list or watch objects of kind {kind}"),
                "list",
                vec![],
                None,
                ANY,
                JSON_YAML_PB_WATCH,
                vec![
                    (200, "OK", Some(Payload::Schema(cx.list_schema()))),
                    unauthorized(),
                ],
            )],
        ));
    }

    // Deprecated watch paths.
    if r.has_verb(Verb::Watch) {
        let watch_root = format!("{}/watch{}", cx.root, ns_path);
        let mut list_path_params = list_params();
        let mut insert_at = list_path_params.len();
        for (i, param) in list_path_params.iter().enumerate() {
            if param.name > "namespace" {
                insert_at = i;
                break;
            }
        }
        for (offset, param) in scoped_params.iter().enumerate() {
            list_path_params.insert(insert_at + offset, param.clone());
        }
        let pretty_at = list_path_params
            .iter()
            .position(|q| q.name > "pretty")
            .unwrap_or(list_path_params.len());
        list_path_params.insert(pretty_at, PRETTY);
        let watch_event = Some(Payload::Schema(kinds::WATCH_EVENT));
        out.push(cx.item(
            watch_root.clone(),
            list_path_params.clone(),
            vec![cx.op(
                "get",
                format!("watch{p}{ns_word}{kind}List"),
                format!("watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."),
                "watchlist",
                vec![],
                None,
                ANY,
                JSON_YAML_PB_WATCH,
                vec![(200, "OK", watch_event.clone()), unauthorized()],
            )],
        ));
        let mut name_params = list_path_params.clone();
        let name_at = name_params
            .iter()
            .position(|q| q.name > "name")
            .unwrap_or(name_params.len());
        name_params.insert(name_at, NAME);
        out.push(cx.item(
            format!("{watch_root}/{{name}}"),
            name_params,
            vec![cx.op(
                "get",
                format!("watch{p}{ns_word}{kind}"),
                format!("watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."),
                "watch",
                vec![],
                None,
                ANY,
                JSON_YAML_PB_WATCH,
                vec![(200, "OK", watch_event.clone()), unauthorized()],
            )],
        ));
        if r.namespaced {
            let mut params = list_params();
            params.insert(6, PRETTY);
            out.push(cx.item(
                format!("{}/watch/{}", cx.root, r.plural),
                params,
                vec![cx.op(
                    "get",
                    format!("watch{p}{kind}ListForAllNamespaces"),
                    format!("watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."),
                    "watchlist",
                    vec![],
                    None,
                    ANY,
                    JSON_YAML_PB_WATCH,
                    vec![(200, "OK", watch_event), unauthorized()],
                )],
            ));
        }
    }
    out
}

fn log_params() -> Vec<Param> {
    vec![
        query("container", Str, "The container for which to stream logs. Defaults to only container if there is one container in the pod."),
        query("follow", Boolean, "Follow the log stream of the pod. Defaults to false."),
        query("insecureSkipTLSVerifyBackend", Boolean, "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to."),
        query("limitBytes", Integer, "If set, the number of bytes to read from the server before terminating the log output."),
        query("previous", Boolean, "Return previous terminated container logs. Defaults to false."),
        query("sinceSeconds", Integer, "A relative time in seconds before the current time from which to show logs."),
        query("stream", Str, "Specify which container log stream to return to the client. Acceptable values are \"All\", \"Stdout\" and \"Stderr\". Defaults to \"All\"."),
        query("tailLines", Integer, "If set, the number of lines from the end of the logs to show."),
        query("timestamps", Boolean, "If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false."),
    ]
}

fn replace_op(cx: &Ctx<'_>, id: String, description: String, schema: &'static str) -> Operation {
    cx.op(
        "put",
        id,
        description,
        "put",
        vec![DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
        Some(schema),
        ANY,
        JSON_YAML_PB,
        vec![
            (200, "OK", Some(Payload::Schema(schema))),
            (201, "Created", Some(Payload::Schema(schema))),
            unauthorized(),
        ],
    )
}

fn patch_op(cx: &Ctx<'_>, id: String, description: String, schema: &'static str) -> Operation {
    cx.op(
        "patch",
        id,
        description,
        "patch",
        vec![DRY_RUN, FIELD_MANAGER_APPLY, FIELD_VALIDATION, FORCE],
        Some(kinds::PATCH),
        PATCH_TYPES,
        JSON_YAML_PB,
        vec![
            (200, "OK", Some(Payload::Schema(schema))),
            (201, "Created", Some(Payload::Schema(schema))),
            unauthorized(),
        ],
    )
}

/// `a Pod`, `an Event`, `an Ingress`.
fn article(kind: &str) -> String {
    match kind.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

fn discovery_op(id: String, description: String, schema: &'static str, tag: String) -> Operation {
    Operation {
        method: "get",
        id,
        description,
        action: None,
        gvk: None,
        params: vec![],
        body: None,
        body_required: false,
        consumes: JSON_YAML_PB,
        produces: JSON_YAML_PB,
        responses: vec![(200, "OK", Some(Payload::Schema(schema))), unauthorized()],
        tag,
    }
}

/// Every path the documents describe, in a stable order: discovery and version first, then
/// each group-version's resources in registry order.
pub fn all() -> Vec<PathItem> {
    let mut out = vec![
        PathItem {
            path: "/api/".into(),
            params: vec![],
            operations: vec![discovery_op(
                "getCoreAPIVersions".into(),
                "get available API versions".into(),
                kinds::API_VERSIONS,
                "core".into(),
            )],
            document: "api".into(),
        },
        PathItem {
            path: "/apis/".into(),
            params: vec![],
            operations: vec![discovery_op(
                "getAPIVersions".into(),
                "get available API versions".into(),
                kinds::API_GROUP_LIST,
                "apis".into(),
            )],
            document: "apis".into(),
        },
        PathItem {
            path: "/version/".into(),
            params: vec![],
            operations: vec![Operation {
                consumes: &["application/json"],
                produces: &["application/json"],
                ..discovery_op(
                    "getCodeVersion".into(),
                    "get the version information for this server".into(),
                    kinds::VERSION_INFO,
                    "version".into(),
                )
            }],
            document: "version".into(),
        },
    ];
    for g in resources::groups() {
        if !g.name.is_empty() {
            let prefix = id_prefix(g.name, "");
            out.push(PathItem {
                path: format!("/apis/{}/", g.name),
                params: vec![],
                operations: vec![discovery_op(
                    format!("get{prefix}APIGroup"),
                    "get information of a group".into(),
                    kinds::API_GROUP,
                    group_tag(g.name),
                )],
                document: format!("apis/{}", g.name),
            });
        }
        for v in g.versions {
            out.push(PathItem {
                path: format!("{}/", group_version_root(g.name, v)),
                params: vec![],
                operations: vec![discovery_op(
                    format!("get{}APIResources", id_prefix(g.name, v)),
                    "get available resources".into(),
                    kinds::API_RESOURCE_LIST,
                    tag(g.name, v),
                )],
                document: document_key(g.name, v),
            });
            for r in resources::in_group_version(g.name, v) {
                out.extend(resource_paths(r));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(items: &'a [PathItem], path: &str) -> &'a PathItem {
        items
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("{path} missing"))
    }

    #[test]
    fn ids_and_tags_follow_upstream() {
        assert_eq!(id_prefix("", "v1"), "CoreV1");
        assert_eq!(id_prefix("apps", "v1"), "AppsV1");
        assert_eq!(
            id_prefix("rbac.authorization.k8s.io", "v1"),
            "RbacAuthorizationV1"
        );
        assert_eq!(id_prefix("events.k8s.io", "v1"), "EventsV1");
        assert_eq!(
            tag("rbac.authorization.k8s.io", "v1"),
            "rbacAuthorization_v1"
        );
        assert_eq!(tag("", "v1"), "core_v1");
        assert_eq!(group_tag("apps"), "apps");
        assert_eq!(article("Ingress"), "an Ingress");
    }

    #[test]
    fn deployment_paths() {
        let all = all();
        let object = find(
            &all,
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        );
        assert_eq!(object.document, "apis/apps/v1");
        let ids: Vec<_> = object.operations.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "readAppsV1NamespacedDeployment",
                "replaceAppsV1NamespacedDeployment",
                "patchAppsV1NamespacedDeployment",
                "deleteAppsV1NamespacedDeployment"
            ]
        );
        let patch = &object.operations[2];
        assert_eq!(patch.action, Some("patch"));
        assert_eq!(patch.gvk, Some(("apps", "v1", "Deployment")));
        assert!(patch
            .consumes
            .contains(&"application/strategic-merge-patch+json"));
        assert!(patch.params.iter().any(|p| p.name == "fieldValidation"));
        let scale = find(
            &all,
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
        );
        assert_eq!(
            scale.operations[0].gvk,
            Some(("autoscaling", "v1", "Scale"))
        );
        assert_eq!(
            scale.operations[0].id,
            "readAppsV1NamespacedDeploymentScale"
        );
        let all_ns = find(&all, "/apis/apps/v1/deployments");
        assert_eq!(
            all_ns.operations[0].id,
            "listAppsV1DeploymentForAllNamespaces"
        );
        find(
            &all,
            "/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}",
        );
        find(&all, "/apis/apps/v1/watch/deployments");
        let nodes = find(&all, "/api/v1/nodes");
        assert_eq!(nodes.operations[0].id, "listCoreV1Node");
        let ns = find(&all, "/api/v1/namespaces");
        assert!(ns
            .operations
            .iter()
            .all(|o| o.action != Some("deletecollection")));
        let bindings = find(&all, "/api/v1/namespaces/{namespace}/bindings");
        assert_eq!(bindings.operations.len(), 1);
        assert_eq!(bindings.operations[0].method, "post");
        find(&all, "/api/v1/namespaces/{namespace}/pods/{name}/log");
        find(&all, "/api/v1/namespaces/{namespace}/pods/{name}/eviction");
        find(&all, "/api/v1/namespaces/{name}/finalize");
        find(&all, "/apis/apps/");
        find(&all, "/api/v1/");
        let paths: std::collections::HashSet<_> = all.iter().map(|p| &p.path).collect();
        assert_eq!(paths.len(), all.len(), "no path twice");
    }
}
