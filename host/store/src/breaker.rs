//! Circuit-breaker state of installations (the policy is `wharf_domain::breaker`).

use crate::db::{cap, col};
use crate::{Store, StoreError};

impl Store {
    /// Count one more failed call in a row; returns the new count.
    pub async fn note_call_failure(&self, installation_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE installations SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 \
             RETURNING consecutive_failures",
        )
        .bind(installation_id)
        .fetch_one(&self.write)
        .await?;
        col(&row, "consecutive_failures")
    }

    /// Open the breaker: calls are suspended until `until_ms`, for `reason`.
    pub async fn open_breaker(
        &self,
        installation_id: i64,
        until_ms: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE installations SET breaker_open_until = $1, breaker_reason = $2 WHERE id = $3",
        )
        .bind(until_ms)
        .bind(cap(reason, 4096))
        .bind(installation_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A call succeeded: close the breaker and clear the failure count (no write when
    /// there is nothing to clear).
    pub async fn close_breaker(&self, installation_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE installations SET consecutive_failures = 0, breaker_open_until = NULL, breaker_reason = NULL \
             WHERE id = $1 AND (consecutive_failures <> 0 OR breaker_open_until IS NOT NULL)",
        )
        .bind(installation_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
