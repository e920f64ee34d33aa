//! Workload 4, pull: N orders waiting in the Shopify simulator, pulled in pages of 250
//! through the real plugin by the release `wharf serve` (`POST
//! /v1/installations/{id}/pull`, which returns when the last page is committed). Reports
//! orders/s and the wharf process's peak RSS (VmHWM) at two sizes, each in a fresh
//! process and database, so a memory use that grows with the number of orders shows.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use serde_json::json;

use crate::report::Report;
use crate::server::{Backend, Db, Env};
use crate::stats::{rate, thousands};

const W: &str = "4 pull";

/// Peak RSS at the larger size may exceed the smaller one's by this factor and still
/// count as flat.
const FLAT: f64 = 1.25;

struct Outcome {
    per_sec: f64,
    peak_kib: u64,
    base_kib: u64,
}

pub async fn run(report: &mut Report, sizes: [usize; 2]) -> Result<()> {
    let mut outcomes = Vec::new();
    for n in sizes {
        let db = Db::fresh(&Backend::Sqlite).await?;
        let o = one(report, &db, n).await;
        db.drop_now().await?;
        outcomes.push(o?);
    }
    let (small, large) = (&outcomes[0], &outcomes[1]);
    let growth = large.peak_kib as f64 / small.peak_kib as f64;
    report.target(
        W,
        &format!(
            "peak RSS at {} ÷ at {} orders",
            thousands(sizes[1] as u64),
            thousands(sizes[0] as u64)
        ),
        format!("{growth:.2}×"),
        &format!("flat (≤ {FLAT}×)"),
        growth <= FLAT,
    );
    report.note(format!(
        "Pull: SQLite, page size 250, each size in a fresh `wharf serve` and database; RSS \
         of the idle server after set-up was {} MiB and {} MiB; throughput {} and {}.",
        small.base_kib / 1024,
        large.base_kib / 1024,
        rate(small.per_sec),
        rate(large.per_sec)
    ));
    Ok(())
}

async fn one(report: &mut Report, db: &Db, n: usize) -> Result<Outcome> {
    let env = Env::start(db).await?;
    let (_, base_kib) = env.memory_kib()?;
    env.sim.generate_orders(n, 7);
    let path = format!("/v1/installations/{}/pull", env.installation);
    let t = Instant::now();
    let (status, body) = tokio::time::timeout(
        Duration::from_secs(900),
        env.merchant.post(&path, json!({})),
    )
    .await
    .map_err(|_| anyhow::anyhow!("pull of {n} orders did not finish within 900 s"))?;
    let elapsed = t.elapsed();
    ensure!(status == 200, "pull-now: {status} {body}");
    let created = body["created"].as_u64().unwrap_or(0) as usize;
    ensure!(created == n, "pull of {n} orders created {created}: {body}");
    let (peak_kib, _) = env.memory_kib()?;
    let per_sec = n as f64 / elapsed.as_secs_f64();
    report.row(
        W,
        &format!(
            "SQLite: {} orders, {} pages",
            thousands(n as u64),
            body["pages"]
        ),
        format!(
            "{} · {:.1} s · peak RSS {} MiB",
            rate(per_sec),
            elapsed.as_secs_f64(),
            peak_kib / 1024
        ),
    );
    Ok(Outcome {
        per_sec,
        peak_kib,
        base_kib,
    })
}
