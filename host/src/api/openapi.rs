//! The OpenAPI 3.1 document served at `/v1/openapi.json`, built here beside the routes it
//! describes. It is exact: request schemas say what the server takes (unknown fields are
//! refused, so `additionalProperties: false`), every status a route answers is listed, and
//! tests check real responses against it, that it has the router's routes and no others,
//! and (schemathesis, `scripts/schemathesis.sh`) that the server agrees with it.

use serde_json::{Map, Value, json};

use super::findings::{MAX_IDS, MAX_PAGE};
use crate::findings::criteria::{MAX_CRITERIA, MAX_PATTERN_LEN, MAX_PATTERNS, MAX_VALUES};
use crate::findings::saved_filters::MAX_FILTERS;

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// Text the store can hold: anything without a NUL character.
fn text() -> Value {
    json!({ "type": "string", "pattern": "^[^\\x00]*$" })
}

const SORT_ATTRIBUTES: [&str; 6] = [
    "updatedAt",
    "createdAt",
    "severity",
    "service.count",
    "service.eventFirstSeen",
    "service.eventLastSeen",
];
const LIST_FORMATS: [&str; 6] = ["txt", "text", "plain", "csv", "json", "stix"];
const FILTER_NAME: &str = "^[A-Za-z0-9._-]{3,64}$";
const LIST_NAME: &str = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$";

fn describe(code: u16) -> &'static str {
    match code {
        400 => "the request is invalid; the detail says which parameter",
        401 => "no valid bearer token",
        403 => "this request needs an admin token",
        404 => "no such resource",
        409 => "a filter with this name exists, or there are already as many filters as allowed",
        413 => "the request body is too large",
        500 => "the server could not complete the request",
        503 => "the findings store is unavailable; retry later",
        _ => "error",
    }
}

fn problems(codes: &[u16]) -> Map<String, Value> {
    codes
        .iter()
        .map(|code| {
            (
                code.to_string(),
                json!({ "description": describe(*code), "content": { "application/problem+json": { "schema": reference("Problem") } } }),
            )
        })
        .collect()
}

fn query(name: &str, required: bool, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": required, "schema": schema })
}

fn path(name: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

struct Op<'a> {
    summary: &'a str,
    params: Vec<Value>,
    /// The request body: media type and schema.
    body: Option<(&'a str, Value)>,
    ok: u16,
    ok_schema: Option<&'a str>,
    errors: &'a [u16],
}

impl Op<'_> {
    fn build(self) -> Value {
        let mut responses = problems(self.errors);
        let mut success = json!({ "description": "success" });
        if let Some(schema) = self.ok_schema {
            success["content"] = json!({ "application/json": { "schema": reference(schema) } });
        }
        responses.insert(self.ok.to_string(), success);
        let mut op = json!({
            "summary": self.summary,
            "security": [{ "bearer": [] }],
            "parameters": self.params,
            "responses": responses,
        });
        if let Some((media, schema)) = self.body {
            op["requestBody"] =
                json!({ "required": true, "content": { media: { "schema": schema } } });
        }
        op
    }
}

fn op<'a>(summary: &'a str, ok: u16, ok_schema: Option<&'a str>, errors: &'a [u16]) -> Op<'a> {
    Op {
        summary,
        params: Vec::new(),
        body: None,
        ok,
        ok_schema,
        errors,
    }
}

/// The filters of `GET /v1/findings` and its statistics.
fn filter_params() -> Vec<Value> {
    vec![
        query("type", false, text()),
        query("cluster", false, text()),
        query("namespace", false, text()),
        query("username", false, text()),
        query("archived", false, json!({ "type": "boolean" })),
    ]
}

/// An object with exactly these properties, of which `required` must be there.
fn strict(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties, "additionalProperties": false })
}

/// A response object: these properties, maybe others.
fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn condition() -> Value {
    let values = json!({ "type": "array", "maxItems": MAX_VALUES, "items": text() });
    let patterns = json!({ "type": "array", "maxItems": MAX_PATTERNS, "items": { "type": "string", "pattern": "^[^\\x00]*$", "maxLength": MAX_PATTERN_LEN } });
    let number = json!({ "type": ["integer", "null"], "minimum": i64::MIN, "maximum": i64::MAX });
    let lists = ["equals", "notEquals", "matches", "notMatches"];
    let numbers = [
        "greaterThan",
        "greaterThanOrEqual",
        "lessThan",
        "lessThanOrEqual",
    ];
    // At least one operator with a value.
    let any_of: Vec<Value> = lists
        .iter()
        .map(|l| json!({ "required": [l], "properties": { *l: { "minItems": 1 } } }))
        .chain(
            numbers
                .iter()
                .map(|n| json!({ "required": [n], "properties": { *n: { "type": "integer" } } })),
        )
        .collect();
    let mut schema = strict(
        &[],
        json!({
            "equals": values, "notEquals": values, "matches": patterns, "notMatches": patterns,
            "greaterThan": number, "greaterThanOrEqual": number, "lessThan": number, "lessThanOrEqual": number,
        }),
    );
    schema["anyOf"] = json!(any_of);
    schema["description"] =
        json!("GuardDuty's condition; the deprecated eq, neq, gt, gte, lt and lte are also read");
    schema
}

fn criteria(at_least_one: bool) -> Value {
    let mut criterion = json!({
        "type": "object",
        "maxProperties": MAX_CRITERIA,
        "propertyNames": { "pattern": "^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$" },
        "additionalProperties": reference("Condition"),
        "description": "conditions by field path of the finding (resource.eksClusterDetails.name)",
    });
    if at_least_one {
        criterion["minProperties"] = json!(1);
        strict(&["criterion"], json!({ "criterion": criterion }))
    } else {
        strict(&[], json!({ "criterion": criterion }))
    }
}

fn filter_spec(create: bool) -> Value {
    let mut properties = json!({
        "description": { "type": "string", "pattern": "^[^\\x00]*$", "maxLength": 512 },
        "action": { "type": "string", "enum": ["NOOP", "ARCHIVE"] },
        "rank": { "type": ["integer", "null"], "minimum": 1, "maximum": MAX_FILTERS },
        "findingCriteria": reference("FilterCriteria"),
    });
    if create {
        properties["name"] = json!({ "type": "string", "pattern": FILTER_NAME });
        strict(&["name", "findingCriteria"], properties)
    } else {
        strict(&["findingCriteria"], properties)
    }
}

fn finding() -> Value {
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let boolean = json!({ "type": "boolean" });
    let user = strict(
        &["username", "groups"],
        json!({
            "username": string, "uid": string, "groups": strings, "sessionName": strings,
            "impersonatedUser": strict(&["username", "groups"], json!({ "username": string, "groups": strings })),
        }),
    );
    let container = strict(
        &[
            "name",
            "image",
            "imagePrefix",
            "securityContext",
            "volumeMounts",
        ],
        json!({
            "containerRuntime": string, "id": string,
            "name": string, "image": string, "imagePrefix": string,
            "securityContext": strict(&[], json!({ "privileged": boolean, "allowPrivilegeEscalation": boolean })),
            "volumeMounts": { "type": "array", "items": strict(&["name", "mountPath"], json!({ "name": string, "mountPath": string })) },
        }),
    );
    let volume = strict(
        &["name"],
        json!({ "name": string, "hostPath": strict(&["path"], json!({ "path": string })) }),
    );
    let nullable = json!({ "type": ["string", "null"] });
    let workload = json!({
        "oneOf": [
            { "type": "null" },
            strict(
                &["name", "type", "namespace", "hostNetwork", "hostPID", "hostIPC", "containers", "volumes"],
                json!({
                    "name": nullable, "type": string, "uid": string, "namespace": nullable,
                    "hostNetwork": boolean, "hostPID": boolean, "hostIPC": boolean, "serviceAccountName": string,
                    "containers": { "type": "array", "items": container },
                    "volumes": { "type": "array", "items": volume },
                    "podName": string, "podUid": string,
                }),
            ),
        ]
    });
    let uint = json!({ "type": "integer", "minimum": 0 });
    let process_properties = json!({
        "name": string, "executablePath": string, "executableSha256": string,
        "namespacePid": uint, "pwd": string, "pid": uint, "startTime": string,
        "uuid": string, "parentUuid": string, "user": string, "userId": uint, "euid": uint,
        "commandLine": string,
    });
    let ancestor = strict(
        &["name", "executablePath", "uuid", "commandLine"],
        process_properties.clone(),
    );
    let mut with_lineage = process_properties;
    with_lineage["lineage"] = json!({ "type": "array", "items": ancestor });
    let process = strict(
        &["name", "executablePath", "uuid", "commandLine"],
        with_lineage,
    );
    let api_call = strict(
        &["requestUri", "verb", "sourceIPs"],
        json!({
            "requestUri": string, "verb": string, "resource": string, "subresource": string,
            "namespace": string, "resourceName": string, "sourceIPs": strings, "userAgent": string,
            "remoteIpDetails": strict(&[], json!({ "ipAddressV4": string, "ipAddressV6": string })),
            "statusCode": { "type": "integer" }, "parameters": string,
        }),
    );
    // Runtime findings have an empty action.
    let action = strict(
        &[],
        json!({
            "actionType": string,
            "kubernetesApiCallAction": api_call,
            "kubernetesPermissionCheckedDetails": strict(&[], json!({ "verb": string, "resource": string, "namespace": string, "allowed": boolean })),
            "kubernetesRoleBindingDetails": strict(&["kind", "roleRefName", "roleRefKind"], json!({ "kind": string, "name": string, "uid": string, "roleRefName": string, "roleRefKind": string })),
            "kubernetesRoleDetails": strict(&["kind"], json!({ "kind": string, "name": string, "uid": string })),
        }),
    );
    let service = strict(
        &[
            "serviceName",
            "detectorId",
            "action",
            "additionalInfo",
            "archived",
            "count",
            "eventFirstSeen",
            "eventLastSeen",
            "featureName",
        ],
        json!({
            "serviceName": string, "detectorId": string, "action": action,
            "evidence": strict(&["threatIntelligenceDetails"], json!({ "threatIntelligenceDetails": { "type": "array", "items": strict(&["threatListName", "threatNames"], json!({ "threatListName": string, "threatNames": strings, "threatFileSha256": string })) } })),
            "additionalInfo": { "type": "object" },
            "detection": strict(&["anomaly"], json!({ "anomaly": {} })),
            "archived": boolean, "count": { "type": "integer", "minimum": 1 },
            "eventFirstSeen": string, "eventLastSeen": string, "resourceRole": string, "featureName": string,
            "userFeedback": { "type": "string", "enum": ["USEFUL", "NOT_USEFUL"] },
            "runtimeDetails": strict(&["process", "context"], json!({
                "process": process,
                "context": { "type": "object" },
            })),
        }),
    );
    strict(
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
            "resource": strict(&["resourceType", "eksClusterDetails", "kubernetesDetails"], json!({
                "resourceType": string,
                "eksClusterDetails": strict(&["name"], json!({ "name": string })),
                "nodeDetails": strict(&["name"], json!({ "name": string })),
                "kubernetesDetails": strict(&["kubernetesWorkloadDetails"], json!({
                    "kubernetesUserDetails": user,
                    "kubernetesWorkloadDetails": workload,
                })),
            })),
            "service": service,
        }),
    )
}

fn schemas() -> Value {
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let integer = json!({ "type": "integer" });
    let ids = json!({ "type": "array", "minItems": 1, "maxItems": MAX_IDS, "items": text() });
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
                "rank": integer, "findingCriteria": { "type": "object" }, "createdAt": string, "updatedAt": string, "version": integer }),
    );
    let upload = object(
        &["entries", "skippedEntries", "skipped"],
        json!({ "name": string, "category": string, "entries": integer, "skippedEntries": integer,
                "skipped": { "type": "array", "items": object(&["line", "message"], json!({ "line": integer, "message": string })) } }),
    );
    let kinds: Vec<String> = peregrine_rules_sdk::runtime::ThreatCategory::ALL
        .into_iter()
        .map(super::lists::kind_of)
        .chain(["TRUSTED".to_string()])
        .collect();
    let categories: Vec<&str> = peregrine_rules_sdk::runtime::ThreatCategory::ALL
        .map(|c| c.name())
        .to_vec();
    let list = object(
        &[
            "name",
            "kind",
            "entries",
            "networks",
            "domains",
            "sha256",
            "skippedEntries",
        ],
        json!({ "name": string, "kind": { "type": "string", "enum": kinds }, "category": { "type": "string", "enum": categories }, "entries": integer, "networks": integer, "domains": integer, "sha256": integer, "skippedEntries": integer }),
    );
    let mut trusted = list.clone();
    trusted["type"] = json!(["object", "null"]);
    let counters = object(
        &[
            "calls",
            "evaluated",
            "findings",
            "failures",
            "timeouts",
            "outOfMemory",
        ],
        json!({ "calls": integer, "evaluated": integer, "findings": integer, "failures": integer, "timeouts": integer, "outOfMemory": integer }),
    );
    json!({
        "Problem": object(&["type", "title", "status", "detail"], json!({ "type": string, "title": string, "status": integer, "detail": string })),
        "Finding": finding(),
        "FindingPage": object(&["findings", "nextToken"], json!({ "findings": { "type": "array", "items": reference("Finding") }, "nextToken": { "type": ["string", "null"] } })),
        "FindingIds": strict(&["findingIds"], json!({ "findingIds": ids })),
        "FindingsById": object(&["findings", "unprocessedIds"], json!({ "findings": { "type": "array", "items": reference("Finding") }, "unprocessedIds": strings })),
        "Unprocessed": object(&["unprocessedIds"], json!({ "unprocessedIds": strings })),
        "Feedback": strict(&["findingIds", "feedback"], json!({
            "findingIds": ids,
            "feedback": { "type": "string", "enum": ["USEFUL", "NOT_USEFUL"] },
            "comments": { "type": ["string", "null"], "pattern": "^[^\\x00]*$", "maxLength": 1024 },
        })),
        "Condition": condition(),
        "Criteria": criteria(false),
        "FilterCriteria": criteria(true),
        "Search": strict(&[], json!({
            "findingCriteria": reference("Criteria"),
            "sortCriteria": strict(&[], json!({
                "attributeName": { "type": ["string", "null"], "enum": SORT_ATTRIBUTES.iter().map(|a| json!(a)).chain([Value::Null]).collect::<Vec<_>>() },
                "orderBy": { "type": ["string", "null"], "enum": ["ASC", "DESC", null] },
            })),
            "maxResults": { "type": ["integer", "null"], "minimum": 1, "maximum": MAX_PAGE },
            "nextToken": { "type": ["string", "null"], "description": "the nextToken of the previous page, for the same sortCriteria" },
        })),
        "Statistics": object(&["findingStatistics"], json!({ "findingStatistics": { "type": "object" } })),
        "FilterCreate": filter_spec(true),
        "FilterUpdate": filter_spec(false),
        "Filter": filter,
        "Filters": object(&["filters"], json!({ "filters": { "type": "array", "items": reference("Filter") } })),
        "ThreatLists": object(&["threatLists", "trustedList"], json!({ "threatLists": { "type": "array", "items": list }, "trustedList": trusted })),
        "ListUpload": upload,
        "AuditReceipt": object(&["accepted", "judged", "findings", "malformed"], json!({ "accepted": integer, "judged": integer, "findings": integer, "malformed": integer })),
        "Status": object(&["kind", "apiVersion", "status", "message", "reason", "code"], json!({ "kind": { "const": "Status" }, "apiVersion": string, "metadata": { "type": "object" }, "status": string, "message": string, "reason": string, "code": integer, "details": object(&[], json!({ "retryAfterSeconds": integer })) })),
        "Rules": object(&["rules", "failed"], json!({
            "directory": string, "generation": integer,
            "rules": { "type": "array", "items": object(&["module", "findingType", "version", "status", "counters"], json!({ "module": string, "findingType": string, "severity": { "type": "number" }, "title": string, "description": string, "version": string, "status": { "type": "string", "enum": ["ACTIVE", "QUARANTINED"] }, "counters": counters, "lastError": { "type": ["string", "null"] } })) },
            "failed": { "type": "array", "items": object(&["module", "status", "error"], json!({ "module": string, "status": { "const": "FAILED" }, "error": string })) },
        })),
    })
}

/// Fluent Bit's and Vector's HTTP outputs post the runtime sensors' lines here; answers as
/// for the audit webhook.
fn runtime_webhook() -> Value {
    let mut operation = audit_webhook();
    operation["summary"] = json!(
        "runtime sensor events (Tetragon, Falco, Tracee) as JSON lines, a JSON array or one event, optionally gzipped; records a log shipper wrapped in `log` or `message` are unwrapped; answered once their findings are committed"
    );
    operation["requestBody"] = json!({ "required": true, "content": {
        "application/x-ndjson": { "schema": { "type": "string" } },
        "application/json": { "schema": {} },
    } });
    operation["responses"]["400"]["description"] = json!("no runtime event in the body");
    operation
}

/// kube-apiserver's webhook backend posts here; errors are Kubernetes `Status` objects,
/// which its client reads.
fn audit_webhook() -> Value {
    let status = |description: &str| json!({ "description": description, "content": { "application/json": { "schema": reference("Status") } } });
    json!({
        "summary": "audit events from kube-apiserver's webhook backend (EventList, a single event, or a CloudWatch Logs subscription payload, optionally gzipped); answered once their findings are committed",
        "security": [{ "bearer": [] }],
        "parameters": [path("cluster", json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$" }))],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
        "responses": {
            "200": { "description": "judged and committed", "content": { "application/json": { "schema": reference("AuditReceipt") } } },
            "400": status("not audit events"), "401": status("no valid token for this cluster"),
            "404": status("this server does not ingest audit events"),
            "408": status("the body did not arrive within the read timeout"),
            "413": status("the request body is too large"),
            "429": status("too many events queued; retry later (Retry-After)"),
            "500": status("the events could not be read; retry later"),
            "503": status("cannot take events now (no rules, store down, shutting down); retry later (Retry-After)"),
        }
    })
}

/// The document.
pub fn document() -> Value {
    let page = |max: i64| json!({ "type": "integer", "minimum": 1, "maximum": max });
    let enumerated = |values: &[&str]| json!({ "type": "string", "enum": values });
    let mut list_params = filter_params();
    list_params.extend([
        query("maxResults", false, page(MAX_PAGE)),
        query("nextToken", false, json!({ "type": "string", "description": "the nextToken of the previous page, for the same sortBy and orderBy" })),
        query("sortBy", false, enumerated(&SORT_ATTRIBUTES)),
        query("orderBy", false, enumerated(&["ASC", "DESC"])),
    ]);
    let mut stats_params = vec![
        query(
            "groupBy",
            true,
            enumerated(&["FINDING_TYPE", "SEVERITY", "RESOURCE", "DATE"]),
        ),
        query("maxResults", false, page(100)),
    ];
    stats_params.extend(filter_params());
    let filter_name = || path("name", json!({ "type": "string", "pattern": FILTER_NAME }));
    let list_name = || path("name", json!({ "type": "string", "pattern": LIST_NAME }));
    let format = || query("format", false, enumerated(&LIST_FORMATS));
    let category = || {
        let names: Vec<&str> = peregrine_rules_sdk::runtime::ThreatCategory::ALL
            .map(|c| c.name())
            .to_vec();
        query("category", false, enumerated(&names))
    };
    let list_body = || {
        Some((
            "text/plain",
            json!({ "type": "string", "description": "the list: one IP address or CIDR a line (format txt, the default), a CSV feed (csv) or a STIX 2.1 bundle (stix); at least one entry must be an IP address or CIDR" }),
        ))
    };
    let ids_body = || Some(("application/json", reference("FindingIds")));
    let paths = json!({
        "/healthz": { "get": { "summary": "liveness", "responses": { "200": { "description": "ok", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
        "/readyz": { "get": { "summary": "readiness: rules loaded, store reachable, not stopping", "responses": {
            "200": { "description": "ready", "content": { "text/plain": { "schema": { "type": "string" } } } },
            "503": { "description": "not ready, with the reasons", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
        "/metrics": { "get": { "summary": "Prometheus metrics (text exposition format 0.0.4)", "security": [{ "bearer": [] }], "responses": {
            "200": { "description": "metrics", "content": { "text/plain": { "schema": { "type": "string" } } } },
            "401": problems(&[401])["401"] } } },
        "/v1/audit/{cluster}": { "post": audit_webhook() },
        "/v1/runtime/{cluster}": { "post": runtime_webhook() },
        "/v1/openapi.json": { "get": Op { ok_schema: None, ..op("this document", 200, None, &[401]) }.build() },
        "/v1/findings": { "get": Op { params: list_params, ..op("list findings, most recently updated first", 200, Some("FindingPage"), &[400, 401, 503]) }.build() },
        "/v1/findings/{id}": { "get": Op { params: vec![path("id", text())], ..op("one finding", 200, Some("Finding"), &[400, 401, 404, 503]) }.build() },
        "/v1/findings/get": { "post": Op { body: ids_body(), ..op("findings by id", 200, Some("FindingsById"), &[400, 401, 413, 503]) }.build() },
        "/v1/findings/search": { "post": Op { body: Some(("application/json", reference("Search"))), ..op("findings matching filter criteria", 200, Some("FindingPage"), &[400, 401, 413, 503]) }.build() },
        "/v1/findings/archive": { "post": Op { body: ids_body(), ..op("archive findings", 200, Some("Unprocessed"), &[400, 401, 403, 413, 503]) }.build() },
        "/v1/findings/unarchive": { "post": Op { body: ids_body(), ..op("unarchive findings", 200, Some("Unprocessed"), &[400, 401, 403, 413, 503]) }.build() },
        "/v1/findings/feedback": { "post": Op { body: Some(("application/json", reference("Feedback"))), ..op("feedback on findings", 200, Some("Unprocessed"), &[400, 401, 403, 413, 503]) }.build() },
        "/v1/findings/statistics": { "get": Op { params: stats_params, ..op("finding counts by group", 200, Some("Statistics"), &[400, 401, 503]) }.build() },
        "/v1/filters": {
            "get": op("saved filters and suppression rules", 200, Some("Filters"), &[401, 503]).build(),
            "post": Op { body: Some(("application/json", reference("FilterCreate"))), ..op("create a filter", 201, Some("Filter"), &[400, 401, 403, 409, 413, 503]) }.build(),
        },
        "/v1/filters/{name}": {
            "get": Op { params: vec![filter_name()], ..op("one filter", 200, Some("Filter"), &[401, 404, 503]) }.build(),
            "put": Op { params: vec![filter_name()], body: Some(("application/json", reference("FilterUpdate"))), ..op("replace a filter's settings (its name stays)", 200, Some("Filter"), &[400, 401, 403, 404, 413, 503]) }.build(),
            "delete": Op { params: vec![filter_name()], ..op("delete a filter", 204, None, &[401, 403, 404, 503]) }.build(),
        },
        "/v1/rules": { "get": op("loaded rule modules", 200, Some("Rules"), &[401]).build() },
        "/v1/threat-lists": { "get": op("threat lists and the trusted list", 200, Some("ThreatLists"), &[401, 404]).build() },
        "/v1/threat-lists/{name}": {
            "put": Op { params: vec![list_name(), format(), category()], body: list_body(), ..op("upload a threat list of addresses, domains and SHA-256 hashes, in a category (custom by default)", 200, Some("ListUpload"), &[400, 401, 403, 404, 413, 500]) }.build(),
            "delete": Op { params: vec![list_name()], ..op("delete a threat list, whatever its category", 204, None, &[401, 403, 404]) }.build(),
        },
        "/v1/trusted-list": {
            "put": Op { params: vec![format()], body: list_body(), ..op("upload the trusted list", 200, Some("ListUpload"), &[400, 401, 403, 404, 413, 500]) }.build(),
            "delete": op("delete the trusted list", 204, None, &[401, 403, 404]).build(),
        },
    });
    let mut paths = paths;
    add_examples(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Peregrine", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Kubernetes threat-detection findings in GuardDuty's format." },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas(),
        },
        "paths": paths,
    })
}

/// An example request body for the operations that take one (schemathesis' examples
/// phase sends them).
fn add_examples(paths: &mut Value) {
    let ids = json!({ "findingIds": ["087e4490a671c3dc08fd90d13d0e9dd2"] });
    let criteria = json!({ "criterion": { "resource.kubernetesDetails.kubernetesUserDetails.username": { "equals": ["system:serviceaccount:ci:runner"] } } });
    let list = json!("203.0.113.7\n198.51.100.0/24\n");
    for (path, method, example) in [
        ("/v1/findings/get", "post", ids.clone()),
        ("/v1/findings/archive", "post", ids.clone()),
        ("/v1/findings/unarchive", "post", ids.clone()),
        (
            "/v1/findings/feedback",
            "post",
            json!({ "findingIds": ids["findingIds"], "feedback": "NOT_USEFUL", "comments": "the CI runner execs here" }),
        ),
        (
            "/v1/findings/search",
            "post",
            json!({ "findingCriteria": { "criterion": { "severity": { "greaterThanOrEqual": 7 } } }, "sortCriteria": { "attributeName": "severity", "orderBy": "DESC" }, "maxResults": 10 }),
        ),
        (
            "/v1/filters",
            "post",
            json!({ "name": "ci-runner", "description": "the CI runner's execs", "action": "ARCHIVE", "rank": 1, "findingCriteria": criteria }),
        ),
        (
            "/v1/filters/{name}",
            "put",
            json!({ "description": "the CI runner's execs", "action": "NOOP", "findingCriteria": criteria }),
        ),
        ("/v1/threat-lists/{name}", "put", list.clone()),
        ("/v1/trusted-list", "put", list.clone()),
    ] {
        let content = &mut paths[path][method]["requestBody"]["content"];
        let media = content.as_object_mut().and_then(|c| c.values_mut().next());
        if let Some(media) = media {
            media["example"] = example;
        }
    }
}

pub async fn serve() -> axum::Json<Value> {
    axum::Json(document())
}
