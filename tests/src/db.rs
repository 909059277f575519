//! Databases for store and API tests: PostgreSQL from `PEREGRINE_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, where tests create and drop their own
//! databases) and SQLite files in temporary directories.

use sqlx::Connection;

fn admin_url() -> String {
    std::env::var("PEREGRINE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test, dropped at the end.
pub struct TestDatabase {
    /// The database URL to connect to.
    pub url: String,
    drop_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn postgres() -> TestDatabase {
        let name = format!("peregrine_test_{}_{}", std::process::id(), rand_suffix());
        let mut admin = sqlx::PgConnection::connect(&admin_url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is needed at {} ({e}); `cargo xtask test` starts it",
                    admin_url()
                )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = admin_url();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        TestDatabase {
            url,
            drop_name: Some(name),
            _dir: None,
        }
    }

    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("findings.db").display()
        );
        TestDatabase {
            url,
            drop_name: None,
            _dir: Some(dir),
        }
    }

    pub async fn cleanup(self) {
        if let Some(name) = self.drop_name {
            let mut admin = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    h.finish() % 1_000_000_000
}

/// Runs `test` against a fresh PostgreSQL database and a fresh SQLite file.
pub async fn on_both_backends<F, Fut>(test: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in [TestDatabase::postgres().await, TestDatabase::sqlite()] {
        test(db.url.clone()).await;
        db.cleanup().await;
    }
}
