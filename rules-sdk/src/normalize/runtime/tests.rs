use super::*;

#[test]
fn command_lines_split_as_a_shell_splits_them() {
    assert_eq!(
        split_arguments(r#"-c "cat /etc/passwd" 'a b' c\ d e"#),
        vec!["-c", "cat /etc/passwd", "a b", "c d", "e"]
    );
    assert_eq!(split_arguments("  "), Vec::<String>::new());
    assert_eq!(split_arguments(r#""unbalanced"#), vec!["unbalanced"]);
    assert_eq!(split_arguments(r#"''"#), vec![""]);
}

fn exec(id: &str, parent: Option<&str>, binary: &str) -> RuntimeEvent {
    let mut p = process(binary);
    p.id = id.into();
    p.parent_id = parent.map(str::to_string);
    event("c", "n", Sensor::Falco, 0, p, Activity::Exec)
}

#[test]
fn the_process_table_gives_every_event_its_whole_lineage() {
    let mut table = ProcessTable::new(100);
    for e in [
        exec("1", None, "/sbin/init"),
        exec("2", Some("1"), "/usr/bin/containerd-shim"),
        exec("3", Some("2"), "/bin/sh"),
    ] {
        let mut e = e;
        table.attach(&mut e);
    }
    // A later event of pid 4 names only its parent; the table knows the rest.
    let mut e = exec("4", Some("3"), "/usr/bin/curl");
    e.activity = Activity::Userfaultfd;
    table.attach(&mut e);
    let names: Vec<&str> = e.lineage.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["sh", "containerd-shim", "init"]);

    // The sensor's own lineage is kept and extended past its end.
    let mut e = exec("5", Some("3"), "/bin/cat");
    let mut parent = process("/bin/sh");
    parent.id = "3".into();
    parent.parent_id = Some("2".into());
    e.lineage = vec![parent];
    table.attach(&mut e);
    let names: Vec<&str> = e.lineage.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["sh", "containerd-shim", "init"]);
}

#[test]
fn the_process_table_is_bounded_and_survives_cycles() {
    let mut table = ProcessTable::new(10);
    for i in 0..1000 {
        let mut e = exec(&i.to_string(), Some(&(i + 1).to_string()), "/bin/x");
        table.attach(&mut e);
    }
    assert_eq!(table.len(), 10);
    // An attacker-chosen cycle (a is b's parent and b is a's) ends.
    let mut a = exec("a", Some("b"), "/bin/a");
    table.attach(&mut a);
    let mut b = exec("b", Some("a"), "/bin/b");
    table.attach(&mut b);
    let mut c = exec("c", Some("b"), "/bin/c");
    table.attach(&mut c);
    let names: Vec<&str> = c.lineage.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["b", "a"]);
}
