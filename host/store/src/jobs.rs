//! Durable jobs: enqueue (deduplicated by a unique key while active), claim with a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer serialises claims),
//! complete, retry, dead-letter, and re-drive. A job whose lease expired (its node died)
//! is claimed again by anyone. Every state change is fenced by the lease owner, so a node
//! that lost its lease cannot overwrite the new owner's outcome.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use crate::db::{cap, col, from_json, now_ms, to_json};
use crate::{Backend, Store, StoreError};

const MAX_ERROR_BYTES: usize = 4096;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub merchant_id: Option<i64>,
    pub installation_id: Option<i64>,
    pub kind: String,
    pub payload: serde_json::Value,
    /// At most one queued or running job per key (e.g. `pull:42`).
    pub unique_key: Option<String>,
    pub run_at: i64,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: i64,
    pub merchant_id: Option<i64>,
    pub installation_id: Option<i64>,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub unique_key: Option<String>,
    /// `queued`, `running`, `done` or `dead`.
    pub state: String,
    /// Failed attempts that used up a retry.
    pub attempts: i64,
    /// Times the job was claimed.
    pub runs: i64,
    pub run_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error_code: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

/// Number of jobs per kind and state (queue depth, dead letters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JobCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

const COLUMNS: &str = "id, merchant_id, installation_id, kind, payload, unique_key, state, attempts, runs, \
     run_at, lease_owner, lease_until, last_error_code, last_error, created_at, updated_at, finished_at";

fn job(row: &AnyRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: col(row, "id")?,
        merchant_id: col(row, "merchant_id")?,
        installation_id: col(row, "installation_id")?,
        kind: col(row, "kind")?,
        payload: from_json("payload", &col::<String>(row, "payload")?)?,
        unique_key: col(row, "unique_key")?,
        state: col(row, "state")?,
        attempts: col(row, "attempts")?,
        runs: col(row, "runs")?,
        run_at: col(row, "run_at")?,
        lease_owner: col(row, "lease_owner")?,
        lease_until: col(row, "lease_until")?,
        last_error_code: col(row, "last_error_code")?,
        last_error: col(row, "last_error")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        finished_at: col(row, "finished_at")?,
    })
}

impl Store {
    /// Enqueue a job. Returns its id, or `None` when a job with the same unique key is
    /// already queued or running (nothing is added).
    pub async fn enqueue(&self, new: NewJob) -> Result<Option<i64>, StoreError> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO jobs (merchant_id, installation_id, kind, payload, unique_key, state, run_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $7) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(new.merchant_id)
        .bind(new.installation_id)
        .bind(&new.kind)
        .bind(to_json(&new.payload)?)
        .bind(&new.unique_key)
        .bind(new.run_at)
        .bind(now)
        .fetch_optional(&self.write)
        .await?;
        row.map(|r| col(&r, "id")).transpose()
    }

    /// Claim up to `limit` due jobs (queued and due, or running with an expired lease)
    /// for `owner`, leased until `now + lease_ms`.
    pub async fn claim_jobs(
        &self,
        owner: &str,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let now = now_ms();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, runs = runs + 1, \
             updated_at = $3 WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $3) \
             OR (state = 'running' AND lease_until < $3) ORDER BY run_at, id LIMIT $4{lock}) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(now + lease_ms)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.write)
            .await?;
        let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// Extend a running job's lease (long-running work). False if the lease was lost.
    pub async fn extend_lease(
        &self,
        id: i64,
        owner: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now_ms() + lease_ms)
        .bind(id)
        .bind(owner)
        .execute(&self.write)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Mark a job done. False if `owner` no longer holds it.
    pub async fn complete_job(&self, id: i64, owner: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let res = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $1, updated_at = $1, lease_owner = NULL, \
             lease_until = NULL WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.write)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Put a failed job back in the queue to run at `run_at`; `counts` says whether the
    /// attempt used up a retry.
    pub async fn retry_job(
        &self,
        id: i64,
        owner: &str,
        run_at: i64,
        counts: bool,
        error_code: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $1, attempts = attempts + $2, last_error_code = $3, \
             last_error = $4, updated_at = $5, lease_owner = NULL, lease_until = NULL \
             WHERE id = $6 AND lease_owner = $7 AND state = 'running'",
        )
        .bind(run_at)
        .bind(i64::from(counts))
        .bind(error_code)
        .bind(cap(error, MAX_ERROR_BYTES))
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&self.write)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Move a failed job to the dead-letter queue with its last error.
    pub async fn dead_letter_job(
        &self,
        id: i64,
        owner: &str,
        error_code: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let res = sqlx::query(
            "UPDATE jobs SET state = 'dead', attempts = attempts + 1, last_error_code = $1, last_error = $2, \
             finished_at = $3, updated_at = $3, lease_owner = NULL, lease_until = NULL \
             WHERE id = $4 AND lease_owner = $5 AND state = 'running'",
        )
        .bind(error_code)
        .bind(cap(error, MAX_ERROR_BYTES))
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.write)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// A merchant's jobs, newest first, optionally in one state.
    pub async fn list_jobs(
        &self,
        merchant_id: i64,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE merchant_id = $1 AND ($2 = '' OR state = $2) ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(state.unwrap_or(""))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(job).collect()
    }

    /// One job of a merchant.
    pub async fn get_job(&self, merchant_id: i64, id: i64) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE merchant_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(job).transpose()
    }

    /// Re-drive a dead-lettered job of a merchant: queued again now, with fresh retries.
    /// `Conflict` if the job is not dead, or another job with its key is already active.
    pub async fn redrive_job(&self, merchant_id: i64, id: i64) -> Result<Job, StoreError> {
        let now = now_ms();
        let res = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL \
             WHERE id = $2 AND merchant_id = $3 AND state = 'dead'",
        )
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .execute(&self.write)
        .await;
        let res = match res {
            Ok(r) => r,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "another job like job {id} is already queued"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let job = self
            .get_job(merchant_id, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job {id} not found")))?;
        if res.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "job {id} is {}, only dead jobs can be re-driven",
                job.state
            )));
        }
        Ok(job)
    }

    /// Jobs per kind and state, across merchants (queue depth and dead letters).
    pub async fn job_counts(&self) -> Result<Vec<JobCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JobCount {
                    kind: col(r, "kind")?,
                    state: col(r, "state")?,
                    count: col(r, "n")?,
                })
            })
            .collect()
    }

    /// Suspend an installation (credentials rejected): disabled, with the reason recorded,
    /// until the merchant fixes it and enables it again.
    pub async fn suspend_installation(
        &self,
        installation_id: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE installations SET enabled = 0 WHERE id = $1")
            .bind(installation_id)
            .execute(&self.write)
            .await?;
        self.record_error(installation_id, "suspended", reason)
            .await
    }
}
