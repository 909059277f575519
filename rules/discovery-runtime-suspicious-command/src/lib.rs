//! Discovery:Runtime/SuspiciousCommand: a command line of a known pattern of the tactic
//! (`peregrine_rules_sdk::commands::COMMANDS`, listed in `docs/runtime.md`), with the
//! pattern's severity and `commandLineExample`. Package managers and the node's agents are
//! left out. Fed by every sensor's exec events. Fixtures: `scripts/runtime_command_fixtures.py`.

peregrine_rules_sdk::export_suspicious_command_rule!(Discovery);
