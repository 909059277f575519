//! DefenseEvasion:Runtime/SensitiveFileModified: a process modified a file of logs, audit and syslog configuration and shell histories (destroying content only). The logic and the path lists
//! are shared by the three SensitiveFileModified rules:
//! `peregrine_rules_sdk::sensitive_files`, which also tests the fixtures (written by
//! `scripts/runtime_process_fixtures.py`). Fed by Tetragon's file hooks
//! (`peregrine-files`) and Tracee's file events.

peregrine_rules_sdk::export_sensitive_file_rule!(DefenseEvasion);
