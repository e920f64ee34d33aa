//! The pull scheduler: every tick, start a pull for each enabled installation whose next
//! pull is due. The next run is scheduled before the pull starts, so a slow pull is never
//! started twice, and a restart picks the schedule up from the store.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::AppState;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Run until `stop` turns true; waits for running pulls to finish before returning.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(state.config().scheduler_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        while tasks.try_join_next().is_some() {}
        if let Err(e) = start_due(&state, &mut tasks).await {
            tracing::warn!(error = %e, "scheduler tick failed");
        }
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn start_due(state: &AppState, tasks: &mut tokio::task::JoinSet<()>) -> anyhow::Result<()> {
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
        let state = state.clone();
        tasks.spawn(async move {
            // Failures are recorded on the installation by `pull`.
            let _ = crate::ingest::pull(&state, &inst).await;
        });
    }
    Ok(())
}
