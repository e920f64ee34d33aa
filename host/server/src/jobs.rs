//! The job runner: claims due jobs from the store with a lease, runs them, and settles
//! each by the retry policy of its kind (retry later, dead-letter, or suspend the
//! installation when its credentials were rejected). Every node runs one; leases make
//! a job run on one node at a time, and a dead node's jobs are taken over when their
//! lease expires.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::watch;
use wharf_domain::breaker::BreakerPolicy;
use wharf_domain::connector::ConnectorError;
use wharf_domain::retry::{Decision, RetryPolicy};
use wharf_store::{Job, NewJob};

use crate::{ApiError, AppState};

/// Job kinds.
pub mod kind {
    /// Pull an installation's orders from its cursor to the end.
    pub const PULL: &str = "pull";
    /// Re-read an installation's stuck orders through get-order and repair them.
    pub const VERIFY: &str = "verify";
    /// Push an installation's changed available-to-sell to its channel (coalesced).
    pub const PUSH_INVENTORY: &str = wharf_store::stock_sync::PUSH_INVENTORY;
    /// Send one SLA escalation to the merchant's notification webhook (signed).
    pub const NOTIFY: &str = wharf_store::sla::NOTIFY;
    /// Import an installation's settlements of one period (payload: `{start, end}`).
    pub const SETTLEMENTS: &str = "settlements";
    /// Run the carrier strategy and book the waybill of a packed order (payload
    /// `{order_id}`; one per order).
    pub const CREATE_WAYBILL: &str = wharf_store::shipping::CREATE_WAYBILL;
    /// Report a shipped order's carrier + tracking number to its channel (`{order_id}`).
    pub const CONFIRM_SHIPMENT: &str = wharf_store::shipping::CONFIRM_SHIPMENT;
    /// Poll one shipment's tracking (`{shipment_id}`).
    pub const TRACK: &str = wharf_store::shipping::TRACK;
    /// Post one journal to the accounting connector (payload: `{journal_id}`).
    pub const POST_JOURNAL: &str = wharf_store::journals::POST_JOURNAL;
}

/// Runner settings.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// How long a claimed job stays ours without finishing before others may take it.
    pub lease: Duration,
    /// How often the runner looks for due jobs.
    pub poll: Duration,
    /// Jobs claimed per poll (and run concurrently).
    pub batch: u32,
    /// Retry policy per job kind; kinds not listed use `default_policy`.
    pub policies: BTreeMap<String, RetryPolicy>,
    pub default_policy: RetryPolicy,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            poll: Duration::from_millis(500),
            batch: 8,
            policies: BTreeMap::new(),
            default_policy: RetryPolicy::default(),
        }
    }
}

impl JobSettings {
    pub fn policy(&self, kind: &str) -> &RetryPolicy {
        self.policies.get(kind).unwrap_or(&self.default_policy)
    }
}

/// The job that pulls an installation; at most one is queued or running per installation.
pub fn pull_job(merchant_id: i64, installation_id: i64, run_at: i64) -> NewJob {
    NewJob {
        merchant_id: Some(merchant_id),
        installation_id: Some(installation_id),
        kind: kind::PULL.into(),
        payload: serde_json::json!({}),
        unique_key: Some(format!("pull:{installation_id}")),
        run_at,
    }
}

/// The verification sweep of an installation; at most one queued or running.
pub fn verify_job(merchant_id: i64, installation_id: i64, run_at: i64) -> NewJob {
    NewJob {
        merchant_id: Some(merchant_id),
        installation_id: Some(installation_id),
        kind: kind::VERIFY.into(),
        payload: serde_json::json!({}),
        unique_key: Some(format!("verify:{installation_id}")),
        run_at,
    }
}

/// The settlement import of an installation for `[start, end)`; at most one queued or
/// running per installation and period (re-running a period is harmless: idempotent).
pub fn settlements_job(
    merchant_id: i64,
    installation_id: i64,
    start: i64,
    end: i64,
    run_at: i64,
) -> NewJob {
    NewJob {
        merchant_id: Some(merchant_id),
        installation_id: Some(installation_id),
        kind: kind::SETTLEMENTS.into(),
        payload: serde_json::json!({"start": start, "end": end}),
        unique_key: Some(format!("settlements:{installation_id}:{start}")),
        run_at,
    }
}

/// A tracking poll of one shipment through its tracking installation; at most one
/// queued or running per shipment.
pub fn track_job(merchant_id: i64, installation_id: i64, shipment_id: i64, run_at: i64) -> NewJob {
    NewJob {
        merchant_id: Some(merchant_id),
        installation_id: Some(installation_id),
        kind: kind::TRACK.into(),
        payload: serde_json::json!({"shipment_id": shipment_id}),
        unique_key: Some(format!("track:shipment:{shipment_id}")),
        run_at,
    }
}

/// This process's identity as a lease owner.
fn owner_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Run until `stop` turns true; finishes the jobs in hand before returning.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let owner = owner_id();
    let settings = state.config().jobs.clone();
    let mut tick = tokio::time::interval(settings.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        while running.try_join_next().is_some() {}
        let free = settings.batch.saturating_sub(running.len() as u32);
        if free == 0 {
            continue;
        }
        let jobs = match state
            .store()
            .claim_jobs(&owner, settings.lease.as_millis() as i64, free)
            .await
        {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "claiming jobs failed");
                continue;
            }
        };
        for job in jobs {
            let (state, owner) = (state.clone(), owner.clone());
            running.spawn(async move { settle(&state, &owner, job).await });
        }
    }
    while running.join_next().await.is_some() {}
    Ok(())
}

/// Run one job and record its outcome.
async fn settle(state: &AppState, owner: &str, job: Job) {
    // While the installation's circuit breaker is open, the job waits for it to close
    // without using up a retry.
    if let Some((until, reason)) = open_breaker(state, &job).await {
        let message = format!("circuit open: {reason}");
        if let Err(e) = state
            .store()
            .retry_job(job.id, owner, until, false, "circuit_open", &message)
            .await
        {
            tracing::warn!(job_id = job.id, error = %e, "could not postpone the job");
        }
        return;
    }
    let Some(outcome) = run_leased(state, owner, &job).await else {
        tracing::warn!(job_id = job.id, kind = %job.kind, "lease lost while running; another node owns the job now");
        return;
    };
    if let Some(id) = job.installation_id {
        if let Err(e) = update_breaker(state, id, &outcome).await {
            tracing::warn!(installation_id = id, error = %e, "could not update the circuit breaker");
        }
    }
    let store = state.store();
    let result = match outcome {
        Ok(()) => store.complete_job(job.id, owner).await,
        Err(error) => {
            let policy = state.config().jobs.policy(&job.kind);
            let attempt = u32::try_from(job.attempts)
                .unwrap_or(u32::MAX)
                .saturating_add(1);
            let (code, message) = (error.code(), error.to_string());
            tracing::warn!(job_id = job.id, kind = %job.kind, installation_id = job.installation_id, attempt, %message, "job failed");
            match policy.decide(attempt, &error) {
                Decision::Retry { after, counts } => {
                    state.metrics().inc(
                        "wharf_job_retries_total",
                        vec![("kind", job.kind.clone())],
                        1,
                    );
                    let run_at = crate::scheduler::now_ms() + after.as_millis() as i64;
                    store
                        .retry_job(job.id, owner, run_at, counts, code, &message)
                        .await
                }
                Decision::Dead => {
                    state.metrics().inc(
                        "wharf_dead_letters_total",
                        vec![("kind", job.kind.clone())],
                        1,
                    );
                    store.dead_letter_job(job.id, owner, code, &message).await
                }
                Decision::Suspend => {
                    state.metrics().inc(
                        "wharf_dead_letters_total",
                        vec![("kind", job.kind.clone())],
                        1,
                    );
                    if let Some(id) = job.installation_id {
                        let reason = format!("credentials rejected ({message}); fix them and enable the installation again");
                        if let Err(e) = store.suspend_installation(id, &reason).await {
                            tracing::warn!(installation_id = id, error = %e, "could not suspend installation");
                        }
                    }
                    store.dead_letter_job(job.id, owner, code, &message).await
                }
            }
        }
    };
    match result {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            job_id = job.id,
            "lease lost before the job was settled; another node owns it"
        ),
        Err(e) => tracing::warn!(job_id = job.id, error = %e, "recording the job outcome failed"),
    }
}

async fn execute(state: &AppState, job: &Job) -> Result<(), ConnectorError> {
    match job.kind.as_str() {
        kind::PULL => {
            let Some(inst) = enabled_installation(state, job).await? else {
                return Ok(());
            };
            match crate::ingest::pull(state, &inst).await {
                Ok(_) => Ok(()),
                // A pull of this installation is already running in this process (a
                // merchant's pull-now): it reads to the end, which is this job's work.
                Err(ApiError::Conflict(_)) => Ok(()),
                Err(e) => Err(into_connector_error(e)),
            }
        }
        kind::VERIFY => {
            let Some(inst) = enabled_installation(state, job).await? else {
                return Ok(());
            };
            crate::ingest::verify(state, &inst)
                .await
                .map(|_| ())
                .map_err(into_connector_error)
        }
        kind::PUSH_INVENTORY => {
            let Some(inst) = enabled_installation(state, job).await? else {
                return Ok(());
            };
            crate::stock_push::push(state, &inst)
                .await
                .map(|_| ())
                .map_err(into_connector_error)
        }
        kind::NOTIFY => crate::notify::deliver(state, job).await,
        kind::SETTLEMENTS => {
            let Some(inst) = enabled_installation(state, job).await? else {
                return Ok(());
            };
            let period: crate::settlements::Period = serde_json::from_value(job.payload.clone())
                .map_err(|e| ConnectorError::Permanent(format!("settlements job payload: {e}")))?;
            crate::settlements::import(state, &inst, period)
                .await
                .map_err(into_connector_error)?;
            crate::journals::auto_post(state, &inst, period.start).await;
            Ok(())
        }
        kind::CREATE_WAYBILL => crate::shipping::run_create_waybill(state, job).await,
        kind::CONFIRM_SHIPMENT => crate::shipping::run_confirm_shipment(state, job).await,
        kind::TRACK => crate::shipping::run_track(state, job).await,
        kind::POST_JOURNAL => crate::journals::post(state, job).await,
        other => Err(ConnectorError::Permanent(format!(
            "unknown job kind {other:?}"
        ))),
    }
}

/// Run the job while renewing its lease every third of the lease period, so a job that
/// runs longer than the lease is never taken over by another node while it runs. If the
/// lease is lost anyway (this node stalled past it), the work is abandoned — its committed
/// steps stand, the rest rolls back — and `None` is returned: the new owner settles it.
async fn run_leased(
    state: &AppState,
    owner: &str,
    job: &Job,
) -> Option<Result<(), ConnectorError>> {
    let lease = state.config().jobs.lease;
    let lease_ms = lease.as_millis() as i64;
    let work = execute(state, job);
    tokio::pin!(work);
    let mut beat = tokio::time::interval((lease / 3).max(std::time::Duration::from_millis(10)));
    beat.tick().await;
    loop {
        tokio::select! {
            outcome = &mut work => return Some(outcome),
            _ = beat.tick() => match state.store().extend_lease(job.id, owner, lease_ms).await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => tracing::warn!(job_id = job.id, error = %e, "renewing the lease failed; retrying"),
            },
        }
    }
}

/// The open breaker of the job's installation: until when, and why.
async fn open_breaker(state: &AppState, job: &Job) -> Option<(i64, String)> {
    let inst = state
        .store()
        .get_installation_unscoped(job.installation_id?)
        .await
        .ok()??;
    let until = inst
        .breaker
        .open_until
        .filter(|t| *t > crate::scheduler::now_ms())?;
    Some((until, inst.breaker.reason.unwrap_or_default()))
}

/// Close the breaker on success; count a health failure, and open the breaker when the
/// policy says so (the merchant reads the reason on the installation and in its log).
async fn update_breaker(
    state: &AppState,
    installation_id: i64,
    outcome: &Result<(), ConnectorError>,
) -> Result<(), wharf_store::StoreError> {
    let store = state.store();
    match outcome {
        Ok(()) => store.close_breaker(installation_id).await,
        Err(e) if BreakerPolicy::counts(e) => {
            let failures = store.note_call_failure(installation_id).await?;
            let Some(open_for) = state
                .config()
                .breaker
                .open_for(u32::try_from(failures).unwrap_or(u32::MAX))
            else {
                return Ok(());
            };
            let reason = format!(
                "{failures} failed calls in a row (last: {e}); calls suspended for {} s",
                open_for.as_secs()
            );
            let until = crate::scheduler::now_ms() + open_for.as_millis() as i64;
            store.open_breaker(installation_id, until, &reason).await?;
            store
                .append_log(
                    installation_id,
                    "warn",
                    &format!("circuit breaker opened: {reason}"),
                )
                .await?;
            tracing::warn!(installation_id, %reason, "circuit breaker opened");
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

/// The job's installation, or `None` when it was disabled or removed since the job was
/// queued (the job then has nothing to do).
async fn enabled_installation(
    state: &AppState,
    job: &Job,
) -> Result<Option<wharf_store::Installation>, ConnectorError> {
    let id = job.installation_id.ok_or_else(|| {
        ConnectorError::Permanent(format!("{} job without installation", job.kind))
    })?;
    match state.store().get_installation_unscoped(id).await {
        Ok(inst) => Ok(inst.filter(|i| i.enabled)),
        Err(e) => Err(ConnectorError::Transient(e.to_string())),
    }
}

/// Plugin errors keep their kind; host-side failures (database, a pull already running
/// here) are transient.
fn into_connector_error(e: ApiError) -> ConnectorError {
    match e {
        ApiError::Plugin(ce) => ce,
        other => ConnectorError::Transient(other.to_string()),
    }
}
