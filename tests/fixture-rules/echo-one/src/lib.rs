//! Version one of the echo fixture rule.
use peregrine_rules_sdk::*;

const VERSION: &str = "one";

include!("../../echo.rs");
