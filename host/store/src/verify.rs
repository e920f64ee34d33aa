//! Active verification: which orders look stuck, and when each installation's next sweep
//! is due. The sweep itself (re-reading through the plugin's get-order) runs in the server.

use wharf_domain::ChannelStatus;

use crate::db::col;
use crate::{Store, StoreError};

impl Store {
    /// External ids of an installation's orders in a non-final channel status whose
    /// platform `updated_at` is older than `older_than_ms`, oldest first.
    pub async fn stale_orders(
        &self,
        installation_id: i64,
        older_than_ms: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let open: Vec<&str> = ChannelStatus::ALL
            .iter()
            .filter(|s| !s.is_final())
            .map(|s| s.as_str())
            .collect();
        let list = open
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT external_id FROM orders WHERE installation_id = $1 AND status IN ({list}) \
             AND updated_at < $2 ORDER BY updated_at, id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(installation_id)
            .bind(older_than_ms)
            .bind(i64::from(limit.max(1)))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| col(r, "external_id")).collect()
    }

    /// Enabled marketplace installations whose verification sweep is due.
    pub async fn due_verifies(&self, now_ms: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT id FROM installations WHERE enabled = 1 AND next_verify_at <= $1 \
             AND plugin_id IN (SELECT id FROM plugins WHERE kind = 'marketplace') ORDER BY next_verify_at, id")
            .bind(now_ms)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| col(r, "id")).collect()
    }

    /// Set when the installation's next verification sweep is due.
    pub async fn schedule_next_verify(
        &self,
        installation_id: i64,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE installations SET next_verify_at = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(installation_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
