//! Period journals: build a period's journals from settled channel money (the revenue
//! figures per installation and currency, `wharf_domain::journal::build` with the
//! merchant's account mapping), check them balanced, queue them with their
//! `post_journal` jobs ([`queue_period`], used by `POST /v1/journals` and by the
//! automatic daily posting after a settlement import alike), and post one through the
//! accounting plugin ([`post`], the job), recording the voucher — or the failure, which
//! dead-letters as `failed` with the reason on the journal.

use wharf_domain::connector::ConnectorError;
use wharf_domain::journal::{self, SourceTotals};
use wharf_domain::reconcile;
use wharf_domain::retry::Decision;
use wharf_store::journals::{NewJournals, Queued};
use wharf_store::reconcile::RevenueGroup;
use wharf_store::{Installation, Job};

use crate::{ApiError, AppState};

/// Build, check and queue the journals of `period` (`YYYY-MM-DD` or `YYYY-MM`, local to
/// the merchant's UTC offset) for one source installation or all of the merchant's.
pub async fn queue_period(
    state: &AppState,
    merchant_id: i64,
    period: &str,
    source: Option<i64>,
) -> Result<Queued, ApiError> {
    let store = state.store();
    let settings = store
        .accounting_settings(merchant_id)
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(
                "no accounting connector set: PUT /v1/accounting/settings first".into(),
            )
        })?;
    let offset = state.config().verify.utc_offset_minutes;
    let (start, end) = reconcile::parse_period(period, offset).ok_or_else(|| {
        ApiError::BadRequest(format!("period {period:?}: expected YYYY-MM-DD or YYYY-MM"))
    })?;
    if end > crate::scheduler::now_ms() {
        return Err(ApiError::BadRequest(format!(
            "period {period} has not ended yet: post it once it is over"
        )));
    }
    if let Some(id) = source {
        if id == settings.installation_id {
            return Err(ApiError::BadRequest(format!(
                "installation {id} is the accounting connector, not a channel"
            )));
        }
        store
            .get_installation(merchant_id, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("installation {id}")))?;
    }
    let group = RevenueGroup {
        channel: true,
        day: false,
    };
    let sources: Vec<SourceTotals> = store
        .revenue(merchant_id, start, end, offset, group)
        .await?
        .into_iter()
        .filter(|r| source.is_none() || r.installation_id == source)
        .map(|r| SourceTotals {
            label: format!(
                "{}/{}",
                r.platform.unwrap_or_default(),
                r.shop.unwrap_or_default()
            ),
            currency: r.currency,
            gross: r.gross,
            fees: r.fees,
            refunds: r.refunds,
            other: r.other,
            net: r.net,
        })
        .collect();
    let base = format!(
        "wharf:{merchant_id}:{}:{}:{period}",
        settings.installation_id,
        source.map_or_else(|| "all".to_string(), |s| s.to_string())
    );
    let memo = format!("Wharf channel settlements {period}");
    let journals = journal::build(&base, (start, end), &memo, &settings.accounts, &sources);
    for j in &journals {
        journal::validate(j).map_err(|e| {
            ApiError::Unprocessable(format!(
                "the {} journal of {period} does not balance ({}): settlement lines whose net \
                 is not gross − fee are listed under data_quality in GET /v1/reconciliation/{period}",
                j.currency,
                e.join("; ")
            ))
        })?;
    }
    let queued = store
        .queue_journals(
            merchant_id,
            &NewJournals {
                accounting_installation_id: settings.installation_id,
                source_installation_id: source,
                period: period.to_string(),
                period_start: start,
                period_end: end,
                journals,
            },
        )
        .await?;
    Ok(queued)
}

/// After an installation's daily settlement import: queue that day's journal for it when
/// the merchant asked for automatic posting. Failures are logged, never fail the import.
pub async fn auto_post(state: &AppState, inst: &Installation, period_start: i64) {
    let settings = match state.store().accounting_settings(inst.merchant_id).await {
        Ok(Some(s)) if s.auto_post && s.installation_id != inst.id => s,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(installation_id = inst.id, error = %e, "reading accounting settings failed");
            return;
        }
    };
    let offset = state.config().verify.utc_offset_minutes;
    let day = reconcile::local_day(period_start, offset);
    match queue_period(state, inst.merchant_id, &day, Some(inst.id)).await {
        Ok(Queued::Created(j)) => tracing::info!(
            installation_id = inst.id,
            accounting_installation_id = settings.installation_id,
            %day,
            journals = j.len(),
            "journals queued automatically"
        ),
        Ok(Queued::Exists(_)) => {}
        // A day without settled money has nothing to post.
        Err(ApiError::Unprocessable(m)) | Err(ApiError::BadRequest(m)) => tracing::warn!(
            installation_id = inst.id,
            %day,
            reason = %m,
            "automatic journal not queued"
        ),
        Err(e) => {
            tracing::warn!(installation_id = inst.id, %day, error = %e, "automatic journal failed")
        }
    }
}

fn transient(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Transient(e.to_string())
}

/// The `post_journal` job: post the journal through its accounting installation and
/// record the voucher; a failure is recorded on the journal (`failed` once the job's
/// policy gives up on it).
pub async fn post(state: &AppState, job: &Job) -> Result<(), ConnectorError> {
    let id = job
        .payload
        .get("journal_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| ConnectorError::Permanent("post_journal job without journal_id".into()))?;
    let store = state.store();
    let Some((_, record)) = store.journal_unscoped(id).await.map_err(transient)? else {
        return Ok(()); // nothing left to post
    };
    if record.state == "posted" {
        return Ok(());
    }
    let result = call(state, record.accounting_installation_id, &record.journal).await;
    match result {
        Ok(voucher) => {
            store
                .journal_posted(id, &voucher)
                .await
                .map_err(transient)?;
            tracing::info!(journal_id = id, voucher = %voucher.number, "journal posted");
            Ok(())
        }
        Err(e) => {
            let attempt = u32::try_from(job.attempts)
                .unwrap_or(u32::MAX)
                .saturating_add(1);
            let policy = state.config().jobs.policy(&job.kind);
            let dead = !matches!(policy.decide(attempt, &e), Decision::Retry { .. });
            let message = format!("{}: {e}", e.code());
            if let Err(db) = store.journal_attempt_failed(id, &message, dead).await {
                tracing::warn!(journal_id = id, error = %db, "recording the failed post failed");
            }
            Err(e)
        }
    }
}

async fn call(
    state: &AppState,
    installation_id: i64,
    journal: &wharf_domain::accounting::Journal,
) -> Result<wharf_domain::accounting::Voucher, ConnectorError> {
    let inst = state
        .store()
        .get_installation_unscoped(installation_id)
        .await
        .map_err(transient)?
        .ok_or_else(|| {
            ConnectorError::Permanent(format!("accounting installation {installation_id} is gone"))
        })?;
    if !inst.enabled {
        return Err(ConnectorError::Permanent(format!(
            "accounting installation {installation_id} is disabled: enable it and re-drive the job"
        )));
    }
    let plugin_error = |e: ApiError| match e {
        ApiError::Plugin(ce) => ce,
        other => transient(other),
    };
    let (plugin, hosts) = state.plugin(inst.plugin_id).await.map_err(plugin_error)?;
    let ctx = state
        .call_context(&inst, hosts)
        .await
        .map_err(plugin_error)?;
    state
        .timed_call(
            inst.id,
            "post_journal",
            state.runtime().post_journal(&plugin, &ctx, journal),
        )
        .await
}
