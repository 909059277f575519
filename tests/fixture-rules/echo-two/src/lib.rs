//! Version two of the echo fixture rule.
use peregrine_rules_sdk::*;

const VERSION: &str = "two";

include!("../../echo.rs");
