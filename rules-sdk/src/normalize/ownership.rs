//! Which workload runs a pod, as the audit stream tells it: the controller owner
//! references of the pods, ReplicaSets and Jobs it writes (pod → ReplicaSet → Deployment,
//! pod → Job → CronJob). Sensors that name only the pod (Falco, Tracee) then get the
//! workload too, so a runtime finding names the Deployment, not only the pod.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::runtime::WorkloadRef;
use crate::{ObjectRef, RuntimeEvent};

/// The resources whose owners attribution follows. Deployments, StatefulSets, DaemonSets
/// and CronJobs are where it stops: an operator's resource above them is not the workload.
const LEARNED: [&str; 3] = ["pods", "replicasets", "jobs"];

/// An object of the cluster and the controller that owns it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ownership {
    pub cluster: String,
    pub namespace: String,
    /// `Pod`, `ReplicaSet` or `Job`.
    pub kind: String,
    pub name: String,
    pub uid: Option<String>,
    pub owner: WorkloadRef,
}

#[derive(Deserialize)]
struct Head {
    kind: Option<String>,
    metadata: Option<Meta>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    owner_references: Option<Vec<OwnerReference>>,
}

#[derive(Deserialize)]
struct OwnerReference {
    kind: Option<String>,
    name: Option<String>,
    controller: Option<bool>,
}

/// The ownership an audit event shows: its stored object (`responseObject`), else the
/// object it sent, when that is a pod, ReplicaSet or Job with a controller.
pub fn from_event(
    cluster: &str,
    object_ref: Option<&ObjectRef>,
    request: Option<&RawValue>,
    response: Option<&RawValue>,
) -> Option<Ownership> {
    let object_ref = object_ref?;
    if !LEARNED.contains(&object_ref.resource.as_str()) {
        return None;
    }
    // `pods/status` responses carry the whole pod; other subresources carry other kinds.
    if object_ref
        .subresource
        .as_deref()
        .is_some_and(|s| s != "status")
    {
        return None;
    }
    [response, request]
        .into_iter()
        .flatten()
        .find_map(|json| ownership_of(cluster, object_ref, json.get()))
}

fn ownership_of(cluster: &str, object_ref: &ObjectRef, json: &str) -> Option<Ownership> {
    let head: Head = serde_json::from_str(json).ok()?;
    let kind = head.kind.filter(|k| !k.is_empty()).unwrap_or_else(|| {
        match object_ref.resource.as_str() {
            "pods" => "Pod",
            "replicasets" => "ReplicaSet",
            _ => "Job",
        }
        .to_string()
    });
    if !matches!(kind.as_str(), "Pod" | "ReplicaSet" | "Job") {
        return None;
    }
    let meta = head.metadata?;
    let controller = meta
        .owner_references?
        .into_iter()
        .find(|r| r.controller == Some(true))?;
    let owner_kind = controller.kind.filter(|k| !k.is_empty())?;
    // A static pod's mirror is owned by its node: the pod itself is the workload.
    if owner_kind == "Node" {
        return None;
    }
    let name = meta
        .name
        .filter(|n| !n.is_empty())
        .or_else(|| object_ref.name.clone())?;
    let namespace = meta
        .namespace
        .filter(|n| !n.is_empty())
        .or_else(|| object_ref.namespace.clone())?;
    Some(Ownership {
        cluster: cluster.to_string(),
        namespace,
        kind,
        name,
        uid: meta.uid.filter(|u| !u.is_empty()),
        owner: WorkloadRef {
            kind: owner_kind,
            name: controller.name.filter(|n| !n.is_empty())?,
        },
    })
}

/// An object of a cluster: `(cluster, namespace, kind, name)`.
type ObjectKey = (String, String, String, String);

/// Two generations of a map: lookups see both, inserts go to the newer, and when it
/// fills the older is dropped. Bounded, and what was used recently stays.
struct Generations<K, V> {
    newer: HashMap<K, V>,
    older: HashMap<K, V>,
    capacity: usize,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Generations<K, V> {
    fn new(capacity: usize) -> Self {
        Generations {
            newer: HashMap::new(),
            older: HashMap::new(),
            capacity,
        }
    }

    fn insert(&mut self, key: K, value: V) {
        if self.newer.len() >= self.capacity {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(key, value);
    }

    fn get(&mut self, key: &K) -> Option<V> {
        if let Some(v) = self.newer.get(key) {
            return Some(v.clone());
        }
        let v = self.older.get(key)?.clone();
        // Still in use: carried into the newer generation.
        self.insert(key.clone(), v.clone());
        Some(v)
    }

    fn len(&self) -> usize {
        self.newer.len() + self.older.len()
    }
}

/// How many objects (and pod UIDs) a table remembers per generation.
pub const OWNERS_CAPACITY: usize = 32_768;

/// What the audit stream has shown of pod ownership, bounded.
pub struct Owners {
    controllers: Generations<ObjectKey, WorkloadRef>,
    pods_by_uid: Generations<(String, String), (String, String)>,
}

impl Default for Owners {
    fn default() -> Self {
        Owners::with_capacity(OWNERS_CAPACITY)
    }
}

/// Links followed from a pod to its top owner: pod → ReplicaSet → Deployment is two.
const MAX_DEPTH: usize = 4;

impl Owners {
    pub fn with_capacity(capacity: usize) -> Self {
        Owners {
            controllers: Generations::new(capacity),
            pods_by_uid: Generations::new(capacity),
        }
    }

    /// Remembers what an audit event showed.
    pub fn learn(&mut self, o: Ownership) {
        if o.kind == "Pod"
            && let Some(uid) = &o.uid
        {
            self.pods_by_uid.insert(
                (o.cluster.clone(), uid.clone()),
                (o.namespace.clone(), o.name.clone()),
            );
        }
        self.controllers
            .insert((o.cluster, o.namespace, o.kind, o.name), o.owner);
    }

    /// Objects remembered.
    pub fn len(&self) -> usize {
        self.controllers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The top owner of a pod (by UID when the audit stream gave it, else by name), or
    /// `None` when the audit stream has not shown one.
    pub fn owner_of_pod(
        &mut self,
        cluster: &str,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
    ) -> Option<WorkloadRef> {
        let (namespace, name) = uid
            .and_then(|uid| {
                self.pods_by_uid
                    .get(&(cluster.to_string(), uid.to_string()))
            })
            .unwrap_or_else(|| (namespace.to_string(), name.to_string()));
        let first = self.controllers.get(&(
            cluster.to_string(),
            namespace.clone(),
            "Pod".to_string(),
            name,
        ))?;
        Some(self.top(cluster, &namespace, first))
    }

    /// Follows `owner` up to the controller of its controller.
    fn top(&mut self, cluster: &str, namespace: &str, mut owner: WorkloadRef) -> WorkloadRef {
        for _ in 0..MAX_DEPTH {
            let key = (
                cluster.to_string(),
                namespace.to_string(),
                owner.kind.clone(),
                owner.name.clone(),
            );
            match self.controllers.get(&key) {
                Some(up) => owner = up,
                None => break,
            }
        }
        owner
    }

    /// Names the workload of a runtime event's pod from what the audit stream showed: when
    /// the sensor named none, or named a ReplicaSet or Job whose own controller is known.
    pub fn attribute(&mut self, event: &mut RuntimeEvent) {
        if self.is_empty() {
            return;
        }
        let Some(pod) = &event.pod else { return };
        let namespace = pod.namespace.clone();
        let found = match &event.workload {
            None => self.owner_of_pod(&event.cluster, &namespace, &pod.name, pod.uid.as_deref()),
            Some(w) if w.kind.is_empty() || w.kind == "Pod" => {
                self.owner_of_pod(&event.cluster, &namespace, &pod.name, pod.uid.as_deref())
            }
            Some(w) if w.kind == "ReplicaSet" || w.kind == "Job" => {
                let top = self.top(&event.cluster, &namespace, w.clone());
                (top != *w).then_some(top)
            }
            Some(_) => None,
        };
        if let Some(owner) = found {
            event.workload = Some(owner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalizer;

    fn audit(line: &str) -> Option<Ownership> {
        Normalizer::new("prod")
            .audit_from_json(line)
            .expect("an audit event")
            .1
    }

    const POD: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/shop/pods","user":{"username":"system:serviceaccount:kube-system:replicaset-controller"},"objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"},"responseStatus":{"code":201},
        "requestObject":{"kind":"Pod","metadata":{"generateName":"api-5c9d7-","namespace":"shop","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"api-5c9d7","uid":"rs-1","controller":true}]}},
        "responseObject":{"kind":"Pod","metadata":{"name":"api-5c9d7-xk2lp","generateName":"api-5c9d7-","namespace":"shop","uid":"pod-uid-1","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"api-5c9d7","uid":"rs-1","controller":true,"blockOwnerDeletion":true}]}}}"#;

    const REPLICA_SET: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a2","stage":"ResponseComplete","verb":"create","requestURI":"/apis/apps/v1/namespaces/shop/replicasets","user":{"username":"system:serviceaccount:kube-system:deployment-controller"},"objectRef":{"resource":"replicasets","namespace":"shop","name":"api-5c9d7","apiGroup":"apps","apiVersion":"v1"},"responseStatus":{"code":201},
        "requestObject":{"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":"api-5c9d7","namespace":"shop","ownerReferences":[{"kind":"Other","name":"x"},{"apiVersion":"apps/v1","kind":"Deployment","name":"api","uid":"d-1","controller":true}]}}}"#;

    #[test]
    fn controllers_are_read_from_the_stored_object_or_the_request() {
        let pod = audit(POD).expect("the pod's controller");
        assert_eq!(
            pod,
            Ownership {
                cluster: "prod".into(),
                namespace: "shop".into(),
                kind: "Pod".into(),
                name: "api-5c9d7-xk2lp".into(),
                uid: Some("pod-uid-1".into()),
                owner: WorkloadRef {
                    kind: "ReplicaSet".into(),
                    name: "api-5c9d7".into()
                },
            }
        );
        let rs = audit(REPLICA_SET).expect("the ReplicaSet's controller");
        assert_eq!(
            (rs.kind.as_str(), rs.name.as_str()),
            ("ReplicaSet", "api-5c9d7")
        );
        assert_eq!(rs.owner.kind, "Deployment");
        assert_eq!(rs.uid, None);
    }

    #[test]
    fn other_objects_and_owners_teach_nothing() {
        let static_pod = POD.replace(r#""kind":"ReplicaSet""#, r#""kind":"Node""#);
        let no_controller = POD.replace(r#""controller":true"#, r#""controller":false"#);
        let exec = POD.replace(
            r#""resource":"pods","#,
            r#""resource":"pods","subresource":"exec","#,
        );
        let secret = POD.replace(r#""resource":"pods""#, r#""resource":"secrets""#);
        let garbage = POD.replace(
            r#""ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"api-5c9d7","uid":"rs-1","controller":true,"blockOwnerDeletion":true}]"#,
            r#""ownerReferences":"yes""#,
        );
        // A response that cannot be read leaves the request, which names no pod yet
        // (`generateName`): nothing is learned rather than a guess.
        for line in [&static_pod, &no_controller, &exec, &secret, &garbage] {
            assert_eq!(audit(line), None, "{line}");
        }
    }

    fn pod_event(workload: Option<WorkloadRef>, uid: Option<&str>, name: &str) -> RuntimeEvent {
        let mut event = crate::normalize::runtime::event(
            "prod",
            "node-1",
            crate::normalize::runtime::Sensor::Falco,
            0,
            crate::normalize::runtime::process("/bin/sh"),
            crate::runtime::Activity::Exec,
        );
        event.pod = Some(crate::runtime::Pod {
            namespace: "shop".into(),
            name: name.into(),
            uid: uid.map(str::to_string),
            labels: Vec::new(),
        });
        event.workload = workload;
        event
    }

    #[test]
    fn a_pod_is_attributed_to_the_top_of_its_controller_chain() {
        let mut owners = Owners::default();
        let mut unknown = pod_event(None, Some("pod-uid-1"), "api-5c9d7-xk2lp");
        owners.attribute(&mut unknown);
        assert_eq!(unknown.workload, None);
        owners.learn(audit(POD).unwrap());
        owners.learn(audit(REPLICA_SET).unwrap());
        let deployment = Some(WorkloadRef {
            kind: "Deployment".into(),
            name: "api".into(),
        });
        // By UID (whatever name the sensor gives), by name without one, and up from a
        // ReplicaSet a sensor named.
        for mut event in [
            pod_event(None, Some("pod-uid-1"), "renamed"),
            pod_event(None, None, "api-5c9d7-xk2lp"),
            pod_event(
                Some(WorkloadRef {
                    kind: "ReplicaSet".into(),
                    name: "api-5c9d7".into(),
                }),
                None,
                "other",
            ),
        ] {
            owners.attribute(&mut event);
            assert_eq!(event.workload, deployment);
        }
        // Another cluster's pod of the same name, and a sensor's own Deployment, stay.
        let mut elsewhere = pod_event(None, None, "api-5c9d7-xk2lp");
        elsewhere.cluster = "staging".into();
        owners.attribute(&mut elsewhere);
        assert_eq!(elsewhere.workload, None);
        let named = Some(WorkloadRef {
            kind: "DaemonSet".into(),
            name: "agent".into(),
        });
        let mut sensor = pod_event(named.clone(), Some("pod-uid-1"), "x");
        owners.attribute(&mut sensor);
        assert_eq!(sensor.workload, named);
    }

    #[test]
    fn the_table_is_bounded_and_keeps_what_is_used() {
        let mut owners = Owners::with_capacity(4);
        let ownership = |i: usize| Ownership {
            cluster: "prod".into(),
            namespace: "ns".into(),
            kind: "Pod".into(),
            name: format!("p{i}"),
            uid: None,
            owner: WorkloadRef {
                kind: "StatefulSet".into(),
                name: format!("s{i}"),
            },
        };
        owners.learn(ownership(0));
        for i in 1..100 {
            owners.learn(ownership(i));
            // p0 is looked up all along, so it stays.
            assert!(owners.owner_of_pod("prod", "ns", "p0", None).is_some());
            assert!(owners.len() <= 8, "{}", owners.len());
        }
        assert!(owners.owner_of_pod("prod", "ns", "p1", None).is_none());
        assert!(owners.owner_of_pod("prod", "ns", "p99", None).is_some());
    }
}
