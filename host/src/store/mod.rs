//! The findings store: PostgreSQL in production, an embedded SQLite file by default. One
//! `--database-url` picks either (`postgres://…` or `sqlite:…`); migrations run on connect.
//!
//! A repeat occurrence of a finding is one atomic upsert (`INSERT … ON CONFLICT DO
//! UPDATE`), so concurrent writers never create duplicates or lose counts: the count
//! adds up, the first-seen and created times keep their minimum, the last-seen and updated
//! times their maximum, and the details (`body`) are those of the latest occurrence.

use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};

mod checkpoints;
mod commit;
pub mod criteria_sql;
mod findings;
mod rule_state;
mod saved_filters;

pub use commit::{RESEND_WINDOW, StoreSink};
pub use findings::{Cursor, FindingFilter, Group, GroupBy, Sort, SortKey};
pub use rule_state::RuleStateRow;

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The default embedded store, a file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://peregrine.db?mode=rwc";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl FromStr for Backend {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0} (use postgres://… or sqlite:…)")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored record {id} is not valid JSON: {source}")]
    Corrupt {
        id: String,
        source: serde_json::Error,
    },
    #[error("a filter named {0} already exists")]
    FilterExists(String),
    #[error(
        "there are already {} filters, the most allowed",
        crate::findings::saved_filters::MAX_FILTERS
    )]
    TooManyFilters,
}

impl StoreError {
    /// Whether the database refused the data itself (a value it cannot hold, a broken
    /// constraint): retrying the same write can never succeed.
    pub fn is_permanent(&self) -> bool {
        let StoreError::Query(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Encode(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // PostgreSQL's SQLSTATE classes: data exception, integrity constraint
                // violation, program limit exceeded. SQLite's (extended) result codes:
                // too big, constraint, mismatch, range.
                code.starts_with("22")
                    || code.starts_with("23")
                    || code.starts_with("54")
                    || code
                        .parse::<u32>()
                        .is_ok_and(|n| matches!(n & 0xff, 18 | 19 | 20 | 25))
            }),
            _ => false,
        }
    }
}

/// A URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend: Backend = url.parse()?;
        install_default_drivers();
        // SQLite allows one writer at a time; one connection keeps writers from colliding.
        let connections = if backend == Backend::Sqlite { 1 } else { 8 };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            // Short: while the database is away, callers learn it soon and say so.
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact(url),
                source,
            })?;
        match backend {
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

/// Text as both databases can hold it: PostgreSQL refuses NUL in text, so NUL becomes
/// U+FFFD (an attacker chooses names, namespaces and paths; one NUL must not stop the
/// store). Everywhere the same, so SQLite and PostgreSQL store the same values.
pub fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}").into()
    } else {
        text.into()
    }
}
