//! Persistence:Runtime/SensitiveFileModified: a process modified a file of SSH keys, accounts, cron, services and shell start-up files. The logic and the path lists
//! are shared by the three SensitiveFileModified rules:
//! `peregrine_rules_sdk::sensitive_files`, which also tests the fixtures (written by
//! `scripts/runtime_process_fixtures.py`). Fed by Tetragon's file hooks
//! (`peregrine-files`) and Tracee's file events.

peregrine_rules_sdk::export_sensitive_file_rule!(Persistence);
