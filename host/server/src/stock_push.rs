//! Pushing available-to-sell to a channel: read the installation's dirty listings (value
//! computed now, by its sync rules), skip those the channel already shows, send the rest
//! through the plugin's push-inventory in batches, and record per listing what the
//! channel answered. Runs as the `push_inventory` job, so a failed call is retried by
//! the job's policy; a listing the channel refuses keeps the channel's reason, visible
//! on the SKU, and is tried again on its next change.

use std::collections::{BTreeMap, BTreeSet};

use wharf_domain::connector::ConnectorError;
use wharf_store::stock_sync::{PendingPush, PushOutcome};
use wharf_store::Installation;

use crate::{ApiError, AppState};

/// Listings sent in one push-inventory call.
pub const BATCH: i64 = 50;

/// What one push run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// push-inventory calls made.
    pub calls: u32,
    /// Listings the channel took.
    pub pushed: u32,
    /// Listings already showing the value (no call needed).
    pub unchanged: u32,
    /// Listings the channel refused.
    pub refused: u32,
}

/// Push the installation's waiting stock changes.
pub async fn push(state: &AppState, inst: &Installation) -> Result<PushReport, ApiError> {
    let mut report = PushReport::default();
    // A listing refused in this run stays refused until it changes again: never retried
    // in a loop here.
    let mut attempted: BTreeSet<(i64, i64)> = BTreeSet::new();
    let mut plugin = None;
    loop {
        let pending: Vec<PendingPush> = state
            .store()
            .pending_pushes(inst.id, BATCH)
            .await?
            .into_iter()
            .filter(|p| !attempted.contains(&(p.listing_id, p.change_seq)))
            .collect();
        if pending.is_empty() {
            break;
        }
        attempted.extend(pending.iter().map(|p| (p.listing_id, p.change_seq)));
        let (same, changed): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| p.unchanged);
        let mut outcomes: Vec<(PendingPush, PushOutcome)> =
            same.into_iter().map(|p| (p, PushOutcome::Pushed)).collect();
        report.unchanged += outcomes.len() as u32;
        if !changed.is_empty() {
            if plugin.is_none() {
                let (p, hosts) = state.plugin(inst.plugin_id).await?;
                let ctx = state.call_context(inst, hosts).await?;
                plugin = Some((p, ctx));
            }
            let (p, ctx) = plugin.as_ref().expect("loaded above");
            let levels: Vec<_> = changed.iter().map(|c| c.level.clone()).collect();
            report.calls += 1;
            let answer = state
                .timed_call(
                    inst.id,
                    "push_inventory",
                    state.runtime().push_inventory(p, ctx, &levels),
                )
                .await;
            match answer {
                Ok(results) => {
                    let refused: BTreeMap<String, String> = results
                        .into_iter()
                        .filter(|r| !r.ok)
                        .map(|r| (r.sku, r.message))
                        .collect();
                    for c in changed {
                        match refused.get(&c.level.sku) {
                            Some(msg) => {
                                report.refused += 1;
                                let why =
                                    format!("the channel refused {}: {msg}", c.level.available);
                                outcomes.push((c, PushOutcome::Refused(why)));
                            }
                            None => {
                                report.pushed += 1;
                                outcomes.push((c, PushOutcome::Pushed));
                            }
                        }
                    }
                }
                Err(e) => {
                    let why = match &e {
                        ConnectorError::Unsupported => {
                            "the channel's plugin does not support push-inventory".to_string()
                        }
                        other => format!("push failed: {other}"),
                    };
                    // A failed call keeps the listings dirty: the job's retry pushes
                    // them again. An unsupported export never will: dead-letter it.
                    let keep_dirty: Vec<_> = changed
                        .into_iter()
                        .map(|c| (c, PushOutcome::Failed(why.clone())))
                        .collect();
                    outcomes.extend(keep_dirty);
                    state.store().record_pushes(&outcomes).await?;
                    state.store().record_error(inst.id, e.code(), &why).await?;
                    return Err(ApiError::Plugin(match e {
                        ConnectorError::Unsupported => ConnectorError::Permanent(why),
                        other => other,
                    }));
                }
            }
        }
        state.store().record_pushes(&outcomes).await?;
    }
    if report.calls > 0 || report.refused > 0 {
        tracing::info!(
            installation_id = inst.id,
            merchant_id = inst.merchant_id,
            calls = report.calls,
            pushed = report.pushed,
            unchanged = report.unchanged,
            refused = report.refused,
            "stock pushed"
        );
    }
    Ok(report)
}
