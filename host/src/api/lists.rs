//! `/v1/threat-lists` and `/v1/trusted-list`: the intel directory over HTTP. Uploads in
//! any supported format (`?format=txt|csv|stix`) are parsed, and stored as plain text,
//! one address, network, domain or hash per line, written to a temporary file and renamed
//! into place. A list belongs to one category (`?category=`, `custom` by default).

use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiState, Problem};
use crate::intel::{self, BUILTIN_LISTS, IntelDir, ListFormat};
use peregrine_rules_sdk::runtime::ThreatCategory;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    format: Option<String>,
    category: Option<String>,
}

fn intel_dir(state: &ApiState) -> Result<&IntelDir, Problem> {
    state.intel_dir.as_ref().ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "this server has no intel directory (start it with --intel DIR)",
        )
    })
}

fn list_name(name: &str) -> Result<(), Problem> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Problem::bad_request(format!(
            "list name {name:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// The `kind` a list is reported with: its category as an upper-case name
/// (`MALICIOUS`, `TOR_EXIT_NODES`, `COMMAND_AND_CONTROL`, …, `CUSTOM`).
pub fn kind_of(category: ThreatCategory) -> String {
    match category {
        ThreatCategory::TorExitNode => "TOR_EXIT_NODES".into(),
        c => c.name().replace('-', "_").to_ascii_uppercase(),
    }
}

fn describe(path: &Path, name: &str, category: Option<ThreatCategory>) -> Option<Value> {
    let mut warnings = Vec::new();
    let (set, entries) = intel::load_list_file(path, &mut warnings).ok()?;
    let (networks, domains, hashes) = set.counts();
    let mut described = json!({
        "name": name,
        "entries": entries,
        "networks": networks,
        "domains": domains,
        "sha256": hashes,
        "skippedEntries": warnings.len(),
    });
    match category {
        Some(category) => {
            described["kind"] = json!(kind_of(category));
            described["category"] = json!(category.name());
        }
        None => described["kind"] = json!("TRUSTED"),
    }
    Some(described)
}

pub async fn list(State(state): State<Arc<ApiState>>) -> Result<Json<Value>, Problem> {
    let dir = intel_dir(&state)?;
    let mut lists = Vec::new();
    for list in BUILTIN_LISTS {
        lists.extend(describe(
            &dir.builtin(&list),
            list.name,
            Some(list.category),
        ));
    }
    for (category, path) in dir.category_lists().unwrap_or_default() {
        lists.extend(describe(&path, &IntelDir::list_name(&path), Some(category)));
    }
    let trusted = describe(&dir.trusted(), "trusted", None);
    Ok(Json(
        json!({ "threatLists": lists, "trustedList": trusted }),
    ))
}

/// Parses an upload and writes it as plain text to `dest`.
fn store_list(dest: &Path, body: &Bytes, format: Option<String>) -> Result<Value, Problem> {
    let format = match format.as_deref() {
        None => ListFormat::Text,
        Some(f) => ListFormat::from_name(f).ok_or_else(|| {
            Problem::bad_request(format!("format must be txt, csv or stix, not {f:?}"))
        })?,
    };
    let text = std::str::from_utf8(body)
        .map_err(|_| Problem::bad_request("the list is not UTF-8 text"))?;
    let (entries, skipped) = intel::parse_list(text, format);
    if entries.is_empty() {
        return Err(Problem::bad_request(format!(
            "the list holds no IP addresses, CIDRs, domains or SHA-256 hashes ({} entries skipped{})",
            skipped.len(),
            skipped
                .first()
                .map(|(l, m)| format!("; line {l}: {m}"))
                .unwrap_or_default()
        )));
    }
    let mut out = String::with_capacity(entries.len() * 24);
    for entry in &entries {
        out.push_str(&entry.to_string());
        out.push('\n');
    }
    let written = || -> std::io::Result<()> {
        std::fs::create_dir_all(dest.parent().expect("lists live in a directory"))?;
        let tmp = dest.with_extension("upload");
        std::fs::write(&tmp, out)?;
        std::fs::rename(&tmp, dest)
    };
    written().map_err(|e| {
        tracing::error!("cannot write {}: {e}", dest.display());
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the list could not be written",
        )
    })?;
    let shown: Vec<Value> = skipped
        .iter()
        .take(20)
        .map(|(line, message)| json!({ "line": line, "message": message }))
        .collect();
    Ok(json!({ "entries": entries.len(), "skippedEntries": skipped.len(), "skipped": shown }))
}

pub async fn put(
    State(state): State<Arc<ApiState>>,
    UrlPath(name): UrlPath<String>,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let query: UploadQuery = super::problem::query(&uri)?;
    list_name(&name)?;
    let category = match query.category.as_deref() {
        None => ThreatCategory::Custom,
        Some(c) => ThreatCategory::from_name(c).ok_or_else(|| {
            Problem::bad_request(format!(
                "category must be one of {}, not {c:?}",
                ThreatCategory::ALL.map(|c| c.name()).join(", ")
            ))
        })?,
    };
    let dir = intel_dir(&state)?;
    let dest = dir.list(category, &name, "txt");
    let mut result = store_list(&dest, &body, query.format)?;
    // An upload replaces the list whatever category or format it was in before.
    dir.remove_list(&name, Some(&dest));
    result["name"] = json!(name);
    result["category"] = json!(category.name());
    Ok(Json(result))
}

pub async fn delete(
    State(state): State<Arc<ApiState>>,
    UrlPath(name): UrlPath<String>,
) -> Result<StatusCode, Problem> {
    let missing = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            format!("no threat list named {name}"),
        )
    };
    // A name no uploaded list can have (the built-in lists' among them) is not looked up.
    list_name(&name).map_err(|_| missing())?;
    if intel_dir(&state)?.remove_list(&name, None) > 0 {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(missing())
    }
}

pub async fn put_trusted(
    State(state): State<Arc<ApiState>>,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let query: FormatQuery = super::problem::query(&uri)?;
    let dest = intel_dir(&state)?.trusted();
    Ok(Json(store_list(&dest, &body, query.format)?))
}

pub async fn delete_trusted(State(state): State<Arc<ApiState>>) -> Result<StatusCode, Problem> {
    match std::fs::remove_file(intel_dir(&state)?.trusted()) {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(_) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "there is no trusted list",
        )),
    }
}
