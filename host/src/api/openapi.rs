//! The OpenAPI 3.1 document served at `/v1/openapi.json`, built here beside the routes it
//! describes; a test checks real responses against it.

use serde_json::{Value, json};

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn problems(codes: &[u16]) -> serde_json::Map<String, Value> {
    codes
        .iter()
        .map(|code| {
            (code.to_string(), json!({ "description": "a problem", "content": { "application/problem+json": { "schema": reference("Problem") } } }))
        })
        .collect()
}

fn operation(
    summary: &str,
    params: &[(&str, &str, &str)],
    body: Option<&str>,
    ok: (u16, Option<&str>),
    errors: &[u16],
) -> Value {
    let mut responses = problems(errors);
    let mut success = json!({ "description": "success" });
    if let Some(schema) = ok.1 {
        success["content"] = json!({ "application/json": { "schema": reference(schema) } });
    }
    responses.insert(ok.0.to_string(), success);
    let mut op = json!({
        "summary": summary,
        "security": [{ "bearer": [] }],
        "parameters": params.iter().map(|(name, place, kind)| json!({
            "name": name, "in": place, "required": *place == "path", "schema": { "type": kind }
        })).collect::<Vec<_>>(),
        "responses": responses,
    });
    if let Some(schema) = body {
        op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": reference(schema) } } });
    }
    op
}

const FILTER_PARAMS: [(&str, &str, &str); 5] = [
    ("type", "query", "string"),
    ("cluster", "query", "string"),
    ("namespace", "query", "string"),
    ("username", "query", "string"),
    ("archived", "query", "boolean"),
];

fn with(
    extra: &[(&'static str, &'static str, &'static str)],
) -> Vec<(&'static str, &'static str, &'static str)> {
    FILTER_PARAMS.iter().chain(extra).copied().collect()
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn schemas() -> Value {
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let ids = object(&["findingIds"], json!({ "findingIds": strings }));
    let finding = object(
        &[
            "schemaVersion",
            "accountId",
            "region",
            "partition",
            "arn",
            "id",
            "type",
            "severity",
            "title",
            "description",
            "createdAt",
            "updatedAt",
            "resource",
            "service",
        ],
        json!({
            "schemaVersion": string, "accountId": string, "region": string, "partition": string, "arn": string, "id": string,
            "type": string, "severity": { "type": "number" }, "title": string, "description": string,
            "createdAt": string, "updatedAt": string,
            "resource": object(&["resourceType", "eksClusterDetails", "kubernetesDetails"], json!({
                "resourceType": string,
                "eksClusterDetails": object(&["name"], json!({ "name": string })),
                "kubernetesDetails": object(&["kubernetesUserDetails"], json!({
                    "kubernetesUserDetails": object(&["username", "groups"], json!({ "username": string, "groups": strings })),
                    "kubernetesWorkloadDetails": { "type": ["object", "null"] }
                }))
            })),
            "service": object(&["action", "archived", "count", "eventFirstSeen", "eventLastSeen", "additionalInfo"], json!({
                "action": object(&["actionType", "kubernetesApiCallAction"], json!({
                    "actionType": string,
                    "kubernetesApiCallAction": object(&["requestUri", "verb", "sourceIPs"], json!({ "requestUri": string, "verb": string, "sourceIPs": strings }))
                })),
                "archived": { "type": "boolean" }, "count": { "type": "integer" },
                "eventFirstSeen": string, "eventLastSeen": string, "additionalInfo": { "type": "object" },
                "userFeedback": { "type": "string", "enum": ["USEFUL", "NOT_USEFUL"] }
            }))
        }),
    );
    let criteria = object(&[], json!({ "criterion": { "type": "object" } }));
    let filter = object(
        &[
            "name",
            "description",
            "action",
            "rank",
            "findingCriteria",
            "createdAt",
            "updatedAt",
            "version",
        ],
        json!({ "name": string, "description": string, "action": { "type": "string", "enum": ["NOOP", "ARCHIVE"] },
                "rank": { "type": "integer" }, "findingCriteria": criteria, "createdAt": string, "updatedAt": string, "version": { "type": "integer" } }),
    );
    json!({
        "Problem": object(&["type", "title", "status", "detail"], json!({ "type": string, "title": string, "status": { "type": "integer" }, "detail": string })),
        "Finding": finding,
        "FindingPage": object(&["findings", "nextToken"], json!({ "findings": { "type": "array", "items": reference("Finding") }, "nextToken": { "type": ["string", "null"] } })),
        "FindingIds": ids,
        "FindingsById": object(&["findings", "unprocessedIds"], json!({ "findings": { "type": "array", "items": reference("Finding") }, "unprocessedIds": strings })),
        "Unprocessed": object(&["unprocessedIds"], json!({ "unprocessedIds": strings })),
        "Feedback": object(&["findingIds", "feedback"], json!({ "findingIds": strings, "feedback": { "type": "string", "enum": ["USEFUL", "NOT_USEFUL"] }, "comments": string })),
        "Search": object(&[], json!({ "findingCriteria": criteria, "sortCriteria": object(&[], json!({ "attributeName": string, "orderBy": { "type": "string", "enum": ["ASC", "DESC"] } })), "maxResults": { "type": "integer" }, "nextToken": string })),
        "Statistics": object(&["findingStatistics"], json!({ "findingStatistics": { "type": "object" } })),
        "FilterSpec": object(&["findingCriteria"], json!({ "name": string, "description": string, "action": { "type": "string", "enum": ["NOOP", "ARCHIVE"] }, "rank": { "type": "integer" }, "findingCriteria": criteria })),
        "Filter": filter,
        "Filters": object(&["filters"], json!({ "filters": { "type": "array", "items": reference("Filter") } })),
        "ThreatLists": object(&["threatLists", "trustedList"], json!({ "threatLists": { "type": "array", "items": object(&["name", "kind", "entries"], json!({ "name": string, "kind": string, "entries": { "type": "integer" } })) }, "trustedList": { "type": ["object", "null"] } })),
        "ListUpload": object(&["entries", "skippedEntries", "skipped"], json!({ "entries": { "type": "integer" }, "skippedEntries": { "type": "integer" }, "skipped": { "type": "array" } })),
        "AuditReceipt": object(&["accepted", "judged", "findings", "malformed"], json!({ "accepted": { "type": "integer" }, "judged": { "type": "integer" }, "findings": { "type": "integer" }, "malformed": { "type": "integer" } })),
        "Status": object(&["kind", "apiVersion", "status", "message", "reason", "code"], json!({ "kind": { "const": "Status" }, "apiVersion": string, "metadata": { "type": "object" }, "status": string, "message": string, "reason": string, "code": { "type": "integer" }, "details": object(&[], json!({ "retryAfterSeconds": { "type": "integer" } })) })),
        "Rules": object(&["rules", "failed"], json!({ "rules": { "type": "array", "items": object(&["module", "findingType", "version", "status", "counters"], json!({ "module": string, "findingType": string, "version": string, "status": { "type": "string", "enum": ["ACTIVE", "QUARANTINED"] }, "counters": { "type": "object" } })) }, "failed": { "type": "array" } })),
    })
}

/// kube-apiserver's webhook backend posts here; errors are Kubernetes `Status` objects,
/// which its client reads.
fn audit_webhook() -> Value {
    let status = json!({ "description": "refused", "content": { "application/json": { "schema": reference("Status") } } });
    let retry = json!({ "description": "retry later (Retry-After)", "content": { "application/json": { "schema": reference("Status") } } });
    json!({
        "summary": "audit events from kube-apiserver's webhook backend (EventList, a single event, or a CloudWatch Logs subscription payload, optionally gzipped); answered once their findings are committed",
        "security": [{ "bearer": [] }],
        "parameters": [{ "name": "cluster", "in": "path", "required": true, "schema": { "type": "string" } }],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
        "responses": {
            "200": { "description": "judged and committed", "content": { "application/json": { "schema": reference("AuditReceipt") } } },
            "400": status.clone(), "401": status,
            "429": retry.clone(), "503": retry,
        }
    })
}

/// The document.
pub fn document() -> Value {
    let list_params = with(&[
        ("maxResults", "query", "integer"),
        ("nextToken", "query", "string"),
        ("sortBy", "query", "string"),
        ("orderBy", "query", "string"),
    ]);
    let stats_params = with(&[
        ("groupBy", "query", "string"),
        ("maxResults", "query", "integer"),
    ]);
    let name = [("name", "path", "string")];
    let format = [("name", "path", "string"), ("format", "query", "string")];
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Peregrine", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Kubernetes threat-detection findings in GuardDuty's format." },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas(),
        },
        "paths": {
            "/healthz": { "get": { "summary": "liveness", "responses": { "200": { "description": "ok" } } } },
            "/readyz": { "get": { "summary": "readiness: rules loaded, store reachable, not stopping", "responses": { "200": { "description": "ready" }, "503": { "description": "not ready, with the reasons" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics (text exposition format)", "security": [{ "bearer": [] }], "responses": { "200": { "description": "metrics", "content": { "text/plain": { "schema": { "type": "string" } } } }, "401": { "description": "no valid token" } } } },
            "/v1/audit/{cluster}": { "post": audit_webhook() },
            "/v1/openapi.json": { "get": operation("this document", &[], None, (200, None), &[401]) },
            "/v1/findings": { "get": operation("list findings, most recently updated first", &list_params, None, (200, Some("FindingPage")), &[400, 401, 503]) },
            "/v1/findings/{id}": { "get": operation("one finding", &[("id", "path", "string")], None, (200, Some("Finding")), &[401, 404]) },
            "/v1/findings/get": { "post": operation("findings by id", &[], Some("FindingIds"), (200, Some("FindingsById")), &[400, 401]) },
            "/v1/findings/search": { "post": operation("findings matching filter criteria", &[], Some("Search"), (200, Some("FindingPage")), &[400, 401]) },
            "/v1/findings/archive": { "post": operation("archive findings", &[], Some("FindingIds"), (200, Some("Unprocessed")), &[400, 401, 403]) },
            "/v1/findings/unarchive": { "post": operation("unarchive findings", &[], Some("FindingIds"), (200, Some("Unprocessed")), &[400, 401, 403]) },
            "/v1/findings/feedback": { "post": operation("feedback on findings", &[], Some("Feedback"), (200, Some("Unprocessed")), &[400, 401, 403]) },
            "/v1/findings/statistics": { "get": operation("finding counts by group", &stats_params, None, (200, Some("Statistics")), &[400, 401]) },
            "/v1/filters": {
                "get": operation("saved filters and suppression rules", &[], None, (200, Some("Filters")), &[401]),
                "post": operation("create a filter", &[], Some("FilterSpec"), (201, Some("Filter")), &[400, 401, 403, 409]),
            },
            "/v1/filters/{name}": {
                "get": operation("one filter", &name, None, (200, Some("Filter")), &[401, 404]),
                "put": operation("replace a filter's settings", &name, Some("FilterSpec"), (200, Some("Filter")), &[400, 401, 403, 404]),
                "delete": operation("delete a filter", &name, None, (204, None), &[401, 403, 404]),
            },
            "/v1/rules": { "get": operation("loaded rule modules", &[], None, (200, Some("Rules")), &[401]) },
            "/v1/threat-lists": { "get": operation("threat lists and the trusted list", &[], None, (200, Some("ThreatLists")), &[401, 404]) },
            "/v1/threat-lists/{name}": {
                "put": operation("upload a custom threat list (body: the list)", &format, None, (200, Some("ListUpload")), &[400, 401, 403, 413]),
                "delete": operation("delete a custom threat list", &name, None, (204, None), &[401, 403, 404]),
            },
            "/v1/trusted-list": {
                "put": operation("upload the trusted list (body: the list)", &[("format", "query", "string")], None, (200, Some("ListUpload")), &[400, 401, 403, 413]),
                "delete": operation("delete the trusted list", &[], None, (204, None), &[401, 403, 404]),
            },
        }
    })
}

pub async fn serve() -> axum::Json<Value> {
    axum::Json(document())
}
