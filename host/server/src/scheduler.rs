//! The pull scheduler: every tick, enqueue a pull job for each enabled installation whose
//! next pull is due, and move its next pull one interval on. The job queue runs the pull
//! (with retries); its unique key keeps one pull per installation queued or running, even
//! with several nodes ticking. Verification sweeps are scheduled the same way (daily at
//! the configured time and at an interval), the daily settlement import of the previous
//! local day is enqueued at its configured time, and stock pushes left dirty without a job are
//! re-enqueued, overdue SLA deadlines are escalated (once per breach), and shipped
//! shipments get a tracking poll each `--track-interval-secs`. A restart picks
//! the schedule up from the store.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::AppState;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Run until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(state.config().scheduler_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = enqueue_due(&state).await {
            tracing::warn!(error = %e, "scheduler tick failed");
        }
    }
    Ok(())
}

async fn enqueue_due(state: &AppState) -> anyhow::Result<()> {
    let now = now_ms();
    for id in state.store().due_pulls(now).await? {
        let Some(inst) = state.store().get_installation_unscoped(id).await? else {
            continue;
        };
        let interval_ms = inst.pull_interval_secs.max(1) * 1000;
        state
            .store()
            .schedule_next_pull(id, now + interval_ms)
            .await?;
        state
            .store()
            .enqueue(crate::jobs::pull_job(inst.merchant_id, id, now))
            .await?;
    }
    for id in state.store().due_verifies(now).await? {
        let Some(inst) = state.store().get_installation_unscoped(id).await? else {
            continue;
        };
        let next = state.config().verify.next_after(now);
        state.store().schedule_next_verify(id, next).await?;
        state
            .store()
            .enqueue(crate::jobs::verify_job(inst.merchant_id, id, now))
            .await?;
    }
    // Daily settlement import of the previous local day.
    if let Some((h, m)) = state.config().settlements.daily_at {
        let offset = state.config().verify.utc_offset_minutes;
        for id in state.store().due_settlements(now).await? {
            let Some(inst) = state.store().get_installation_unscoped(id).await? else {
                continue;
            };
            let next = wharf_domain::schedule::next_daily(now, h, m, offset);
            state.store().schedule_next_settlement(id, next).await?;
            let (start, end) = wharf_domain::reconcile::previous_day(now, offset);
            state
                .store()
                .enqueue(crate::jobs::settlements_job(
                    inst.merchant_id,
                    id,
                    start,
                    end,
                    now,
                ))
                .await?;
        }
    }
    // Stock changes schedule their own push; this re-enqueues any whose job was lost
    // (a crash between commit and claim cannot happen — the job is in the same
    // transaction — but a push that ended while a new change raced it can leave one).
    let settle = 2 * state.config().stock_push_delay.as_millis() as i64 + 1_000;
    for d in state.store().unscheduled_pushes(now - settle).await? {
        state
            .store()
            .enqueue_push(d.merchant_id, d.installation_id)
            .await?;
    }
    // Shipped shipments are polled for tracking every interval until final.
    let interval = state.config().track_interval.as_millis() as i64;
    for (merchant_id, shipment_id, tracker) in state.store().due_tracking(now, interval).await? {
        state
            .store()
            .enqueue(crate::jobs::track_job(
                merchant_id,
                tracker,
                shipment_id,
                now,
            ))
            .await?;
    }
    // SLA deadlines are stored; each breach becomes one escalation (+ its notify job).
    for e in state.store().detect_breaches(now).await? {
        tracing::info!(merchant_id = e.merchant_id, order_id = e.order_id, step = %e.step, "SLA breach escalated");
    }
    Ok(())
}
