//! The store's one error type. Messages are safe to show to API users: they never carry
//! SQL text or driver details (those stay in the `source` chain for logs).

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness rule refused the write, e.g. a plugin version uploaded twice.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller's input cannot be stored as given.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The database URL is not one the store understands.
    #[error("unsupported database url: {0}")]
    UnsupportedUrl(String),
    /// Stored data could not be decoded (a bug or a hand-edited row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Applying the schema migrations failed.
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// Any other database failure. The message deliberately hides the driver text.
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}

/// Which constraint family a database error belongs to, if any.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// A unique, check or foreign-key violation: the data, not the database, is at fault.
pub(crate) fn is_constraint_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.is_unique_violation() || d.is_check_violation() || d.is_foreign_key_violation()
    })
}
