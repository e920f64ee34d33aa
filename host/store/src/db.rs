//! Connecting: URL parsing, pool setup per backend, migrations, and the small helpers
//! every query module shares (clock, transactions, JSON columns).

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

use crate::checkpoint::{Checkpointer, WRITER_FALLBACK_PAGES};
use crate::{Backend, StoreError};

/// Handle to the Wharf database. Cheap to clone; every clone shares the same pools.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Pool for writes. On SQLite it holds ONE connection, so writers queue in the
    /// process instead of failing with `SQLITE_BUSY`. WAL with `synchronous = FULL`: the
    /// WAL is fsynced at every commit, so a committed (acknowledged) order survives a
    /// process crash and power loss; concurrent webhooks share commits through
    /// [`crate::group_commit`], so one fsync covers many orders.
    pub(crate) write: AnyPool,
    /// Pool for reads. On SQLite several WAL readers run beside the writer; on
    /// PostgreSQL this is the same pool as `write`.
    pub(crate) read: AnyPool,
    /// How long a stock change waits before its push job runs, so a burst of changes
    /// becomes one push per listing (see [`crate::stock_sync`]).
    pub(crate) stock_push_delay_ms: i64,
    /// The queue to the group committers of [`Store::ingest_grouped`].
    pub(crate) group: std::sync::Arc<crate::group_commit::GroupQueue>,
    /// SQLite: the WAL checkpointer (see [`crate::checkpoint`]), stopped with the last handle.
    pub(crate) _checkpoints: Option<std::sync::Arc<Checkpointer>>,
}

/// Default coalescing window of stock pushes.
pub const DEFAULT_STOCK_PUSH_DELAY_MS: i64 = 1_000;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

const SQLITE_BUSY_TIMEOUT_MS: u32 = 15_000;

impl Store {
    /// Connect to `url` and apply pending migrations.
    ///
    /// - `postgres://…` / `postgresql://…`: PostgreSQL.
    /// - `sqlite://path`, `sqlite:path`, or a plain file path: SQLite in WAL mode; the
    ///   file (and its directory) is created if missing. In-memory SQLite is refused:
    ///   each pooled connection would see a different database.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url).await
        } else {
            Self::connect_sqlite(&sqlite_url(url)?).await
        }
    }

    async fn connect_postgres(url: &str) -> Result<Store, StoreError> {
        let pool = AnyPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store {
            backend: Backend::Postgres,
            write: pool.clone(),
            read: pool,
            stock_push_delay_ms: DEFAULT_STOCK_PUSH_DELAY_MS,
            group: Default::default(),
            _checkpoints: None,
        })
    }

    async fn connect_sqlite(url: &str) -> Result<Store, StoreError> {
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            // `temp_store = MEMORY`: a multi-row statement's journal (kept so the statement
            // can be undone alone) lives in memory, not in a temporary file written per
            // insert. It is scratch within one transaction; the WAL keeps durability.
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        format!(
                            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                             PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA wal_autocheckpoint = {WRITER_FALLBACK_PAGES}; \
                             PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = ON;"
                        )
                        .as_str(),
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        // Readers connect lazily, after the writer has switched the file to WAL.
        let read = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        format!(
                            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                             PRAGMA foreign_keys = ON; PRAGMA query_only = ON;"
                        )
                        .as_str(),
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_lazy(url)?;
        let checkpoints = Checkpointer::start(url, SQLITE_BUSY_TIMEOUT_MS).await?;
        Ok(Store {
            backend: Backend::Sqlite,
            write,
            read,
            stock_push_delay_ms: DEFAULT_STOCK_PUSH_DELAY_MS,
            group: Default::default(),
            _checkpoints: Some(std::sync::Arc::new(checkpoints)),
        })
    }

    /// Set the coalescing window of stock pushes (see [`crate::stock_sync`]).
    pub fn set_stock_push_delay(&mut self, delay: Duration) {
        self.stock_push_delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Check both pools answer a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        sqlx::query("SELECT 1").execute(&self.write).await?;
        Ok(())
    }

    /// Start a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a transaction never fails half-way on lock upgrade.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// Row-lock suffix for a `SELECT` inside a write transaction (SQLite's writer lock
    /// already covers the whole database). On PostgreSQL `FOR NO KEY UPDATE`: it
    /// serialises writers of the row like `FOR UPDATE` (we never change key columns) but
    /// does not block other transactions' foreign-key checks against it — an ingest that
    /// holds its installation must not stop another channel's ingest from enqueueing a
    /// push job that references it (that was a deadlock between channels).
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR NO KEY UPDATE",
        }
    }
}

/// Normalise a SQLite location into an sqlx URL that creates the file if missing.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = if let Some(r) = url.strip_prefix("sqlite://") {
        r
    } else if let Some(r) = url.strip_prefix("sqlite:") {
        r
    } else if url.contains("://") {
        return Err(StoreError::UnsupportedUrl(format!(
            "{}: use postgres://…, sqlite://… or a file path",
            url.split("://").next().unwrap_or_default()
        )));
    } else {
        url
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" || query.is_some_and(|q| q.contains("memory")) {
        return Err(StoreError::UnsupportedUrl(
            "in-memory SQLite is not supported; give a file path".into(),
        ));
    }
    if let Some(dir) = Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::InvalidInput(format!("cannot create database directory: {e}"))
            })?;
        }
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => format!("sqlite://{path}?{q}"),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    })
}

/// Host clock, Unix milliseconds UTC.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Serialise a value for a JSON TEXT column.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::InvalidInput(format!("not serialisable: {e}")))
}

/// Parse a JSON TEXT column.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(format!("{column}: {e}")))
}

/// Read a column, naming it if it fails.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(name)
        .map_err(|e| StoreError::corrupt(format!("column {name}: {e}")))
}

/// Cap free text (log lines, error messages) so one noisy plugin cannot bloat the store.
pub(crate) fn cap(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What a column of a [`json_rows_select`] holds; PostgreSQL casts each element to it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JsonCol {
    Int,
    Text,
}

/// The `SELECT` of a multi-row insert whose rows come packed in ONE parameter, `$1`: a
/// JSON array of row arrays (`[[1, "a"], [2, null]]`, as `serde_json` writes a `Vec` of
/// tuples), read back in array order, element `i` of a row as column `i` (`cols`).
/// Written as `INSERT INTO t (…) {select} [ON CONFLICT …] [RETURNING …]`. One statement
/// shape for any number of rows, so it is prepared once per connection, and a group's
/// rows of a table go in one statement whatever their count. On SQLite it reads
/// `json_each` (the `WHERE true` keeps a following `ON CONFLICT` from parsing as a join
/// constraint), on PostgreSQL `json_array_elements` with its ordinality.
pub(crate) fn json_rows_select(postgres: bool, cols: &[JsonCol]) -> String {
    use std::fmt::Write;
    let mut sql = String::from("SELECT ");
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = match (postgres, c) {
            (false, _) => write!(sql, "value ->> {i}"),
            (true, JsonCol::Int) => write!(sql, "(r.v ->> {i})::bigint"),
            (true, JsonCol::Text) => write!(sql, "r.v ->> {i}"),
        };
    }
    sql.push_str(if postgres {
        " FROM json_array_elements($1::json) WITH ORDINALITY AS r(v, n) ORDER BY r.n"
    } else {
        " FROM json_each($1) WHERE true ORDER BY key"
    });
    sql
}

/// `INSERT INTO {into} {select} {tail}` in `tx` with `rows` (a `Vec` of tuples, one
/// element per `cols` entry) packed as [`json_rows_select`] reads them; returns what the
/// `tail`'s `RETURNING` gives (nothing without one).
pub(crate) async fn insert_json_rows<R: serde::Serialize>(
    tx: &mut crate::inventory::Tx,
    into: &str,
    cols: &[JsonCol],
    tail: &str,
    rows: &R,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    let conn: &mut sqlx::AnyConnection = tx;
    let postgres = conn.backend_name() == "PostgreSQL";
    let sql = format!(
        "INSERT INTO {into} {} {tail}",
        json_rows_select(postgres, cols)
    );
    Ok(sqlx::query(&sql)
        .bind(to_json(rows)?)
        .fetch_all(&mut *conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    // SQLite locations normalise to create-if-missing URLs; foreign schemes are refused.
    #[test]
    fn sqlite_urls_are_normalised_and_memory_refused() {
        let dir = std::env::temp_dir();
        let p = dir.join("wharf-url-test.db");
        let p = p.to_str().unwrap();
        assert_eq!(sqlite_url(p).unwrap(), format!("sqlite://{p}?mode=rwc"));
        assert_eq!(
            sqlite_url(&format!("sqlite://{p}")).unwrap(),
            format!("sqlite://{p}?mode=rwc")
        );
        assert_eq!(
            sqlite_url(&format!("sqlite://{p}?mode=rw")).unwrap(),
            format!("sqlite://{p}?mode=rw")
        );
        assert!(sqlite_url("sqlite::memory:").is_err());
        assert!(sqlite_url("mysql://x/y").is_err());
    }

    // Capping never splits a UTF-8 character.
    #[test]
    fn cap_respects_char_boundaries() {
        assert_eq!(cap("héllo", 2), "h");
        assert_eq!(cap("abc", 10), "abc");
    }

    // The packed rows are read element by element, typed on PostgreSQL, in array order.
    #[test]
    fn json_rows_select_reads_each_element_in_order() {
        let cols = [JsonCol::Int, JsonCol::Text];
        assert_eq!(
            json_rows_select(false, &cols),
            "SELECT value ->> 0, value ->> 1 FROM json_each($1) WHERE true ORDER BY key"
        );
        assert_eq!(
            json_rows_select(true, &cols),
            "SELECT (r.v ->> 0)::bigint, r.v ->> 1 FROM json_array_elements($1::json) WITH \
             ORDINALITY AS r(v, n) ORDER BY r.n"
        );
    }
}
