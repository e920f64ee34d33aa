//! Isolated databases for tests anywhere in the repository.
//!
//! [`fresh_url`] reads `WHARF_TEST_DATABASE_URL`:
//! - unset or empty: a new SQLite file in a new temporary directory;
//! - `postgres://user@host:port/db`: creates `wharf_t_<random>` on that server and
//!   returns its URL, so tests are isolated and may run in parallel.
//!
//! [`fresh_sqlite_path`] is a SQLite file whatever the variable says;
//! [`sqlite_writer_pragma`] reads a setting of a store's SQLite writer.

use rand::RngCore;
use sqlx::{Connection, Executor};

/// The environment variable naming the server tests should use.
pub const ENV: &str = "WHARF_TEST_DATABASE_URL";

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A URL for a new, empty database (see the module docs). Panics if the test server
/// cannot be reached: a test must not silently run against nothing.
pub async fn fresh_url() -> String {
    match std::env::var(ENV) {
        Ok(base) if !base.trim().is_empty() => fresh_postgres(base.trim()).await,
        _ => fresh_sqlite(),
    }
}

fn fresh_sqlite() -> String {
    format!("sqlite://{}", fresh_sqlite_path().display())
}

/// The path of a new SQLite database file (not created yet) in a new temporary directory,
/// for tests that must run on SQLite whatever [`ENV`] says, or that look at its files.
pub fn fresh_sqlite_path() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wharf-test-{}", random_suffix()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory for the test database");
    dir.join("wharf.db")
}

async fn fresh_postgres(base: &str) -> String {
    assert!(
        base.starts_with("postgres://") || base.starts_with("postgresql://"),
        "{ENV} must be a postgres:// URL"
    );
    let name = format!("wharf_t_{}", random_suffix());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .unwrap_or_else(|e| panic!("{ENV}: cannot connect to the test server: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("{ENV}: cannot create database {name}: {e}"));
    conn.close().await.ok();
    with_database(base, &name)
}

/// Replace the database name in a postgres URL, keeping any query string.
fn with_database(base: &str, name: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("URL has a scheme");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// The value of `PRAGMA <name>` on the store's SQLite writer connection (tests that pin
/// its durability and scratch settings). `name` must be a plain pragma name.
pub async fn sqlite_writer_pragma(store: &crate::Store, name: &str) -> String {
    assert!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "not a pragma name: {name:?}"
    );
    assert!(
        matches!(store.backend, crate::Backend::Sqlite),
        "the store is not on SQLite"
    );
    let row = sqlx::query(&format!("PRAGMA {name}"))
        .fetch_one(&store.write)
        .await
        .unwrap_or_else(|e| panic!("PRAGMA {name} on the writer: {e}"));
    use sqlx::Row;
    match row.try_get::<String, _>(0) {
        Ok(text) => text,
        Err(_) => row
            .try_get::<i64, _>(0)
            .unwrap_or_else(|e| panic!("PRAGMA {name} answered neither text nor integer: {e}"))
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The database name is swapped and the rest of the URL kept.
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://root@127.0.0.1:5432/test", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
