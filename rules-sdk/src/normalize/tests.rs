use super::*;
use crate::{ContainerKind, ObjectSource};

fn normalize(json: &str) -> AuditEvent {
    Normalizer::new("c1")
        .event_from_json(json)
        .expect("an event")
}

#[test]
fn exec_command_is_decoded_from_the_uri() {
    let e = normalize(
        r#"{"kind":"Event","auditID":"a","stage":"ResponseStarted","verb":"create",
        "requestURI":"/api/v1/namespaces/kube-system/pods/p/exec?command=sh&command=-c&command=cat%20%2Fetc%2Fshadow&container=app&stdin=true&tty=1",
        "objectRef":{"resource":"pods","subresource":"exec","namespace":"kube-system","name":"p"},
        "responseStatus":{"code":101},"user":{"username":"u"},"sourceIPs":["10.0.0.1","203.0.113.9"]}"#,
    );
    let exec = e.exec.clone().expect("exec decoded");
    assert_eq!(exec.command, ["sh", "-c", "cat /etc/shadow"]);
    assert_eq!(exec.container.as_deref(), Some("app"));
    assert!(exec.stdin && exec.tty);
    assert_eq!(e.cluster, "c1");
    assert_eq!(e.response_code, Some(101));
    assert!(!e.source_ips[0].is_public);
    assert!(e.source_ips[1].is_public);
    assert_eq!(e.caller_ip().unwrap().address, "203.0.113.9");
}

#[test]
fn v1beta1_event_without_api_version_reads() {
    let e = normalize(
        r#"{"metadata":{"creationTimestamp":"2018-10-25T13:58:49Z"},"level":"Request","timestamp":"2018-10-25T13:58:49Z",
        "auditID":"x","stage":"ResponseComplete","requestURI":"/api/v1/namespaces","verb":"create",
        "user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"sourceIPs":["192.168.99.1"],
        "objectRef":{"resource":"namespaces","name":"foo","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},
        "requestReceivedTimestamp":"2018-10-25T13:58:49.730588Z",
        "annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}"#,
    );
    assert!(e.is_anonymous() && e.succeeded());
    assert_eq!(e.request_received_at, Some(1_540_475_929_730_588));
    assert_eq!(e.authorization_decision.as_deref(), Some("allow"));
    assert_eq!(e.name(), Some("foo"));
}

#[test]
fn wrong_types_and_missing_fields_are_errors() {
    let n = Normalizer::new("c");
    assert!(n.event_from_json(r#"{"kind": 0}"#).is_err());
    assert!(
        n.event_from_json(r#"{"verb": 5, "requestURI": "/"}"#)
            .is_err()
    );
    assert!(
        n.event_from_json(r#"{"requestURI": "/"}"#)
            .unwrap_err()
            .0
            .contains("verb")
    );
    assert!(
        n.event_from_json(r#"{"kind":"Pod","verb":"get","requestURI":"/"}"#)
            .is_err()
    );
}

#[test]
fn cronjob_pod_template_is_decoded_from_the_response() {
    let e = normalize(
        r#"{"auditID":"c","stage":"ResponseComplete","verb":"create","requestURI":"/apis/batch/v1/namespaces/ns/cronjobs",
        "objectRef":{"resource":"cronjobs","namespace":"ns","apiGroup":"batch"},"responseStatus":{"code":201},
        "responseObject":{"kind":"CronJob","metadata":{"name":"cj","namespace":"ns","uid":"u1"},
          "spec":{"jobTemplate":{"spec":{"template":{"spec":{"hostPID":true,
            "initContainers":[{"name":"i","image":"busybox"}],
            "containers":[{"name":"c","image":"quay.io/org/app:1","securityContext":{"privileged":true},
               "volumeMounts":[{"name":"root","mountPath":"/host","readOnly":true}]}],
            "volumes":[{"name":"root","hostPath":{"path":"/"}}]}}}}}}}"#,
    );
    let object = e.object.as_ref().unwrap();
    assert_eq!(object.source, ObjectSource::Response);
    let w = e.workload().expect("workload view");
    assert_eq!(
        (w.kind.as_str(), w.name.as_deref(), w.uid.as_deref()),
        ("CronJob", Some("cj"), Some("u1"))
    );
    assert!(w.host_pid && !w.host_network);
    assert_eq!(w.containers.len(), 2);
    assert_eq!(w.containers[0].kind, ContainerKind::Init);
    assert_eq!(w.privileged_containers().count(), 1);
    assert!(w.containers[1].volume_mounts[0].read_only);
    assert_eq!(w.host_path("root"), Some("/"));
    assert_eq!(crate::image_prefix(&w.containers[1].image), "quay.io/org");
}

#[test]
fn patch_of_a_binding_is_marked_as_a_patch() {
    let e = normalize(
        r#"{"auditID":"p","stage":"ResponseComplete","verb":"patch","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cluster-admin",
        "objectRef":{"resource":"clusterrolebindings","name":"cluster-admin"},"responseStatus":{"code":200},
        "requestObject":{"subjects":[{"kind":"ServiceAccount","name":"default","namespace":"default"}]}}"#,
    );
    assert_eq!(e.object.as_ref().unwrap().source, ObjectSource::Patch);
    let b = e.role_binding().unwrap();
    assert_eq!(b.kind, "ClusterRoleBinding");
    assert_eq!(b.name.as_deref(), Some("cluster-admin"));
    assert_eq!(b.subjects[0].name, "default");
}

#[test]
fn a_status_response_falls_back_to_the_request() {
    let e = normalize(
        r#"{"auditID":"s","verb":"create","requestURI":"/api/v1/namespaces/d/services",
        "objectRef":{"resource":"services","namespace":"d"},
        "requestObject":{"kind":"Service","metadata":{"name":"kubernetes-dashboard"},"spec":{"type":"LoadBalancer","ports":[{"port":443,"targetPort":8443}]}},
        "responseObject":{"kind":"Status","code":409}}"#,
    );
    let s = e.service().unwrap();
    assert_eq!(e.object.as_ref().unwrap().source, ObjectSource::Request);
    assert_eq!(s.service_type, "LoadBalancer");
    assert_eq!(s.ports[0].target_port.as_deref(), Some("8443"));
    assert_eq!(s.namespace.as_deref(), Some("d"));
}

#[test]
fn access_review_merges_spec_and_status() {
    let e = normalize(
        r#"{"auditID":"r","verb":"create","requestURI":"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        "objectRef":{"resource":"selfsubjectaccessreviews","apiGroup":"authorization.k8s.io"},
        "responseObject":{"kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"create","resource":"pods","namespace":"kube-system"}},"status":{"allowed":true}}}"#,
    );
    let r = e.access_review().unwrap();
    assert_eq!(
        (r.verb.as_deref(), r.resource.as_deref(), r.allowed),
        (Some("create"), Some("pods"), Some(true))
    );
}

#[test]
fn each_audit_id_is_judged_once_at_its_first_outcome() {
    let stage = |id: &str, stage: &str| {
        normalize(&format!(
            r#"{{"auditID":"{id}","stage":"{stage}","verb":"get","requestURI":"/"}}"#
        ))
    };
    let mut judge = JudgeOnce::with_capacity(2);
    assert!(
        judge
            .admit(&stage("a", "RequestReceived"))
            .judged()
            .is_none()
    );
    assert!(
        judge
            .admit(&stage("a", "ResponseStarted"))
            .judged()
            .is_some()
    );
    assert!(
        judge
            .admit(&stage("a", "ResponseComplete"))
            .judged()
            .is_none()
    );
    assert!(
        judge
            .admit(&stage("b", "ResponseComplete"))
            .judged()
            .is_some()
    );
    assert!(
        judge
            .admit(&stage("c", "ResponseComplete"))
            .judged()
            .is_some()
    );
    // Two generations of two: "a" is still remembered, then forgotten.
    assert!(
        judge
            .admit(&stage("a", "ResponseComplete"))
            .judged()
            .is_none()
    );
    assert!(
        judge
            .admit(&stage("d", "ResponseComplete"))
            .judged()
            .is_some()
    );
    assert!(
        judge
            .admit(&stage("e", "ResponseComplete"))
            .judged()
            .is_some()
    );
    assert!(
        judge
            .admit(&stage("a", "ResponseComplete"))
            .judged()
            .is_some()
    );
}

#[test]
fn public_addresses() {
    let public = |s: &str| is_public_ip(&s.parse().unwrap());
    assert!(public("8.8.8.8") && public("2001:4860::8888") && public("::ffff:1.2.3.4"));
    for private in [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
    ] {
        assert!(!public(private), "{private}");
    }
}

#[test]
fn a_reused_audit_id_does_not_hide_a_different_request() {
    let event = |verb: &str, uri: &str, stage: &str| {
        normalize(&format!(
            r#"{{"auditID":"same","stage":"{stage}","verb":"{verb}","requestURI":"{uri}","user":{{"username":"u"}},
            "requestReceivedTimestamp":"2026-01-01T00:00:00.000000Z","stageTimestamp":"2026-01-01T00:00:0{}.000000Z"}}"#,
            if stage == "ResponseStarted" { 0 } else { 1 }
        ))
    };
    let mut judge = JudgeOnce::default();
    let list = event(
        "list",
        "/api/v1/namespaces/kube-system/pods",
        "ResponseComplete",
    );
    let exec = event(
        "create",
        "/api/v1/namespaces/kube-system/pods/p/exec?command=sh",
        "ResponseStarted",
    );
    assert!(matches!(judge.admit(&list), Admission::Judge(_)));
    // Another stage and a resend of the list are the same request.
    assert_eq!(judge.admit(&list), Admission::Skip);
    // The exec under the list's audit ID is judged, and reported as a reuse.
    assert!(matches!(judge.admit(&exec), Admission::JudgeReusedId(_)));
    let exec_complete = event(
        "create",
        "/api/v1/namespaces/kube-system/pods/p/exec?command=sh",
        "ResponseComplete",
    );
    assert_eq!(judge.admit(&exec_complete), Admission::Skip);
    // The same ID in another cluster is another request.
    let mut other = exec.clone();
    other.cluster = "other".into();
    assert!(matches!(judge.admit(&other), Admission::Judge(_)));
    // A key remembered from an earlier run is skipped.
    let mut restarted = JudgeOnce::default();
    restarted.remember(request_key(&list));
    assert_eq!(restarted.admit(&list), Admission::Skip);
}
