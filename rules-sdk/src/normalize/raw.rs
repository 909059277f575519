//! The wire shape of `audit.k8s.io/v1` and `v1beta1` events, as far as Peregrine reads it.
//! Everything but `verb` and `requestURI` may be missing; unknown fields are ignored.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub kind: Option<String>,
    #[serde(rename = "auditID")]
    pub audit_id: Option<String>,
    pub stage: Option<String>,
    pub level: Option<String>,
    pub verb: String,
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    pub user: Option<User>,
    pub impersonated_user: Option<User>,
    #[serde(rename = "sourceIPs")]
    pub source_ips: Option<Vec<String>>,
    pub user_agent: Option<String>,
    pub object_ref: Option<ObjectRef>,
    pub response_status: Option<Status>,
    pub request_object: Option<Box<RawValue>>,
    pub response_object: Option<Box<RawValue>>,
    pub request_received_timestamp: Option<String>,
    pub stage_timestamp: Option<String>,
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
pub struct User {
    pub username: Option<String>,
    pub uid: Option<String>,
    pub groups: Option<Vec<String>>,
    pub extra: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub resource: Option<String>,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub uid: Option<String>,
    pub api_group: Option<String>,
    pub api_version: Option<String>,
}

#[derive(Deserialize)]
pub struct Status {
    pub code: Option<i32>,
}
