//! Generates the protobuf descriptor table of Kubernetes' built-in types for
//! `src/protobuf/` from the `k8s-pb` crate's source (prost types generated from Kubernetes'
//! `.proto` files): every message with its fields' tags, wire types, labels and message
//! types, as `$OUT_DIR/k8s_pb_messages.rs`. Nothing is vendored: the table follows whatever
//! `k8s-pb` version Cargo.lock names.
//!
//! `k8s-pb` is a build-dependency so Cargo downloads (and checks) it before this script runs;
//! its source directory is found through `cargo metadata` (which follows source replacement,
//! vendoring and patches), with the standard registry layout under `CARGO_HOME` as fallback.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Meta, Token};

const PACKAGE: &str = "k8s-pb";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let src = match locate_source() {
        Ok(dir) => dir.join("src"),
        Err(e) => panic!("cannot find the source of {PACKAGE}: {e}"),
    };
    println!("cargo:rerun-if-changed={}", src.display());
    let mut messages = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap_or(&file);
        let module = module_of(rel);
        let text =
            fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let parsed =
            syn::parse_file(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
        collect(&parsed.items, &module, &mut messages);
    }
    assert!(
        messages.len() > 100,
        "found only {} messages in {}",
        messages.len(),
        src.display()
    );
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("k8s_pb_messages.rs");
    fs::write(&out, render(&messages)).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}

/// The package root of the `k8s-pb` that this crate's build resolves to.
fn locate_source() -> Result<PathBuf, String> {
    match from_cargo_metadata() {
        Ok(p) => Ok(p),
        Err(e) => {
            println!(
                "cargo:warning=cargo metadata did not locate {PACKAGE} ({e}); trying CARGO_HOME"
            );
            from_cargo_home()
        }
    }
}

fn from_cargo_metadata() -> Result<PathBuf, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let manifest = Path::new(&manifest_dir).join("Cargo.toml");
    let host = env::var("HOST").map_err(|e| e.to_string())?;
    let out_file =
        PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?).join("cargo-metadata.json");
    let stdout = fs::File::create(&out_file).map_err(|e| e.to_string())?;
    // The build-dependency is compiled for the host; filtering by it keeps `--offline` from
    // needing other platforms' packages.
    let mut child = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(&host)
        .arg("--manifest-path")
        .arg(&manifest)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(s) => break s,
            None if start.elapsed() > Duration::from_secs(120) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("timed out".into());
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(format!("{status}: {}", err.trim()));
    }
    let text = fs::read_to_string(&out_file).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(&out_file);
    let meta: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let this = env::var("CARGO_PKG_NAME").map_err(|e| e.to_string())?;
    let packages = meta["packages"].as_array().ok_or("no packages")?;
    let by_id = |id: &str| packages.iter().find(|p| p["id"].as_str() == Some(id));
    // The k8s-pb that this package depends on, through the resolve graph.
    let nodes = meta["resolve"]["nodes"].as_array().ok_or("no resolve")?;
    let id = nodes
        .iter()
        .filter(|n| {
            by_id(n["id"].as_str().unwrap_or("")).is_some_and(|p| p["name"] == this.as_str())
        })
        .flat_map(|n| n["deps"].as_array().into_iter().flatten())
        .filter_map(|d| d["pkg"].as_str())
        .find(|id| by_id(id).is_some_and(|p| p["name"] == PACKAGE))
        .ok_or("not a dependency")?;
    let manifest = by_id(id)
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or("no manifest_path")?;
    Path::new(manifest)
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "bad manifest_path".into())
}

fn from_cargo_home() -> Result<PathBuf, String> {
    let version = locked_version()?;
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let registries = home.join("registry").join("src");
    let dirs = fs::read_dir(&registries).map_err(|e| format!("{}: {e}", registries.display()))?;
    for d in dirs.flatten() {
        let candidate = d.path().join(format!("{PACKAGE}-{version}"));
        if candidate.join("src").is_dir() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "{PACKAGE}-{version} is not under {}",
        registries.display()
    ))
}

/// The `k8s-pb` version in the workspace's Cargo.lock.
fn locked_version() -> Result<String, String> {
    let dir = env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let lock = Path::new(&dir)
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file())
        .ok_or("no Cargo.lock")?;
    let text = fs::read_to_string(&lock).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{PACKAGE}\"") {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(v.trim_matches('"').to_string());
            }
        }
    }
    Err(format!("{PACKAGE} is not in {}", lock.display()))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `api/apps/v1/mod.rs` -> `["api", "apps", "v1"]`; `lib.rs` -> `[]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// One field of a generated message.
struct Field {
    tag: u32,
    name: String,
    kind: String,
    label: &'static str,
}

fn collect(items: &[syn::Item], module: &[String], out: &mut BTreeMap<String, Vec<Field>>) {
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    let mut sub = module.to_vec();
                    sub.push(m.ident.to_string());
                    collect(inner, &sub, out);
                }
            }
            syn::Item::Struct(s) if derives_message(&s.attrs) => {
                let mut fields = Vec::new();
                for f in &s.fields {
                    let Some(name) = f.ident.as_ref() else {
                        continue;
                    };
                    let name = name.to_string();
                    let name = name.trim_start_matches("r#").to_string();
                    for attr in f.attrs.iter().filter(|a| a.path().is_ident("prost")) {
                        match field_of(attr, &f.ty, module) {
                            Ok(Some((tag, kind, label))) => fields.push(Field {
                                tag,
                                name: name.clone(),
                                kind,
                                label,
                            }),
                            Ok(None) => {}
                            Err(e) => println!(
                                "cargo:warning={PACKAGE}: {}::{}.{name} skipped: {e}",
                                module.join("::"),
                                s.ident
                            ),
                        }
                    }
                }
                fields.sort_by_key(|f| f.tag);
                let mut full = module.to_vec();
                full.push(s.ident.to_string());
                out.insert(upstream_name(&full), fields);
            }
            _ => {}
        }
    }
}

fn derives_message(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && quote::ToTokens::to_token_stream(a)
                .to_string()
                .contains("Message")
    })
}

/// Reads `#[prost(message, optional, tag = "1")]`, `#[prost(btree_map = "string, bytes",
/// tag = "2")]`, `#[prost(bytes = "vec", optional, tag = "3")]`...
fn field_of(
    attr: &syn::Attribute,
    ty: &syn::Type,
    module: &[String],
) -> Result<Option<(u32, String, &'static str)>, String> {
    let metas = attr
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .map_err(|e| e.to_string())?;
    let mut tag = None;
    let mut kind = None;
    let mut label = "Optional";
    for meta in metas {
        match meta {
            Meta::Path(p) => {
                let word = p.get_ident().map(ToString::to_string).unwrap_or_default();
                match word.as_str() {
                    "optional" | "required" => label = "Optional",
                    "boxed" => {}
                    "repeated" => label = "Repeated",
                    "message" => {
                        kind = Some(format!("Kind::Message({:?})", message_type(ty, module)?))
                    }
                    scalar => kind = Some(scalar_kind(scalar)?),
                }
            }
            Meta::NameValue(nv) => {
                let key = nv
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let value = match &nv.value {
                    Expr::Lit(l) => match &l.lit {
                        Lit::Str(s) => s.value(),
                        _ => return Err(format!("unexpected value for {key}")),
                    },
                    _ => return Err(format!("unexpected value for {key}")),
                };
                match key.as_str() {
                    "tag" => tag = Some(value.parse::<u32>().map_err(|e| e.to_string())?),
                    "bytes" => kind = Some("Kind::Bytes".into()),
                    "packed" => {}
                    "btree_map" | "map" | "hash_map" => {
                        let (k, v) = value.split_once(',').ok_or("bad map type")?;
                        if k.trim() != "string" {
                            return Err(format!("map key {k} is not supported"));
                        }
                        label = "Map";
                        kind = Some(match v.trim() {
                            "message" => format!("Kind::Message({:?})", message_type(ty, module)?),
                            scalar => scalar_kind(scalar)?,
                        });
                    }
                    other => return Err(format!("attribute {other} is not supported")),
                }
            }
            Meta::List(_) => return Err("unexpected list attribute".into()),
        }
    }
    match (tag, kind) {
        (Some(t), Some(k)) => Ok(Some((t, k, label))),
        _ => Err("no tag or type".into()),
    }
}

fn scalar_kind(word: &str) -> Result<String, String> {
    Ok(match word {
        "int32" => "Kind::Int32",
        "int64" => "Kind::Int64",
        "uint32" | "uint64" | "fixed32" | "fixed64" => "Kind::Uint64",
        "sint32" | "sint64" => "Kind::Sint64",
        "bool" => "Kind::Bool",
        "double" => "Kind::Double",
        "float" => "Kind::Float",
        "string" => "Kind::String",
        "bytes" => "Kind::Bytes",
        other => return Err(format!("type {other} is not supported")),
    }
    .to_string())
}

/// The full (dotted) name of the message type inside `Option<..>`, `Vec<..>` or the value of
/// a `BTreeMap<String, ..>`, resolved against the module the field is declared in.
fn message_type(ty: &syn::Type, module: &[String]) -> Result<String, String> {
    let syn::Type::Path(tp) = ty else {
        return Err("message field of a non-path type".into());
    };
    let last = tp.path.segments.last().ok_or("empty type path")?;
    let wrapper = last.ident.to_string();
    if matches!(
        wrapper.as_str(),
        "Option" | "Vec" | "Box" | "BTreeMap" | "HashMap"
    ) {
        if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = args
                .args
                .iter()
                .filter(|a| matches!(a, syn::GenericArgument::Type(_)))
                .last()
            {
                return message_type(inner, module);
            }
        }
        return Err(format!("{wrapper} without a type argument"));
    }
    let mut resolved: Vec<String> = module.to_vec();
    let mut first = true;
    for seg in &tp.path.segments {
        let s = seg.ident.to_string();
        match s.as_str() {
            "super" => {
                resolved.pop();
            }
            "crate" if first => resolved.clear(),
            "self" if first => {}
            _ => resolved.push(s),
        }
        first = false;
    }
    if tp.path.leading_colon.is_some() {
        return Err("absolute path to an external type".into());
    }
    Ok(upstream_name(&resolved))
}

/// `api::apps::v1::Deployment` -> `io.k8s.api.apps.v1.Deployment`,
/// `apiextensions_apiserver::pkg::...` -> `io.k8s.apiextensions-apiserver.pkg...` (the Go
/// package path the OpenAPI definition names follow; prost may have changed the case of the
/// type name, which the runtime matches case-insensitively).
fn upstream_name(path: &[String]) -> String {
    let mut name = String::from("io.k8s");
    for (i, seg) in path.iter().enumerate() {
        name.push('.');
        if i == 0 {
            name.push_str(&seg.replace('_', "-"));
        } else {
            name.push_str(seg);
        }
    }
    name
}

fn render(messages: &BTreeMap<String, Vec<Field>>) -> String {
    let mut s = String::from(
        "// Generated by build.rs from the k8s-pb crate's source. Do not edit.\n\
         pub(super) static MESSAGES: &[MessageDesc] = &[\n",
    );
    for (name, fields) in messages {
        let _ = writeln!(s, "    MessageDesc {{ name: {name:?}, fields: &[");
        for f in fields {
            let _ = writeln!(
                s,
                "        FieldDesc {{ tag: {}, name: {:?}, kind: {}, label: Label::{} }},",
                f.tag, f.name, f.kind, f.label
            );
        }
        s.push_str("    ] },\n");
    }
    s.push_str("];\n");
    s
}
