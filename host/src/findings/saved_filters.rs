//! Saved filters and suppression rules (GuardDuty's `CreateFilter` with `action: ARCHIVE`).

use serde::{Deserialize, Serialize};

use super::criteria::FindingCriteria;

/// GuardDuty's limit on saved filters.
pub const MAX_FILTERS: i64 = 100;

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum FilterAction {
    /// A saved search.
    #[default]
    Noop,
    /// A suppression rule: matching new findings are archived on arrival.
    Archive,
}

impl FilterAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterAction::Noop => "NOOP",
            FilterAction::Archive => "ARCHIVE",
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub name: String,
    pub description: String,
    pub action: FilterAction,
    pub rank: i64,
    pub finding_criteria: FindingCriteria,
    pub created_at: String,
    pub updated_at: String,
    /// Goes up by one on each update.
    pub version: i64,
}

/// What a client sends to create or replace a filter.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterSpec {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub action: FilterAction,
    pub rank: Option<i64>,
    pub finding_criteria: FindingCriteria,
}

impl FilterSpec {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(name) = &self.name {
            validate_name(name)?;
        }
        if self.description.chars().count() > 512 {
            return Err("description may be at most 512 characters".into());
        }
        if self.rank.is_some_and(|r| !(1..=MAX_FILTERS).contains(&r)) {
            return Err(format!("rank must be between 1 and {MAX_FILTERS}"));
        }
        if self.finding_criteria.criterion.is_empty() {
            return Err("findingCriteria needs at least one criterion".into());
        }
        self.finding_criteria.validate()
    }
}

/// 3 to 64 letters, digits, `.`, `_` or `-`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = (3..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "filter name {name:?} must be 3 to 64 letters, digits, '.', '_' or '-'"
        ))
    }
}
