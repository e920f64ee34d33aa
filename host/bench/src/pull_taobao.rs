//! Workload 4, pull, on Taobao payloads: N trades modified over the last day waiting in the
//! Taobao simulator (its TOP gateway on loopback, reached as `gw.api.taobao.com` through
//! the operator's `--resolve`; it checks every signature and TOP's window rules), pulled
//! through the real Taobao component by the release `wharf serve`: the installation's
//! first scheduled pull, which walks the day in 60-minute windows of 100-trade pages and
//! commits each page with its cursor. Reports trades/s (from the installation request
//! until its counters hold all N) and the server's peak RSS, each size in a fresh process
//! and database.

use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Result};
use serde_json::json;
use wharf_sim::taobao::{TaobaoSim, TaobaoSimConfig};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Wharf};

use crate::report::Report;
use crate::server::{memory_kib, Backend, Db};
use crate::stats::{rate, thousands};

const W: &str = "4 pull";
const HOST: &str = "gw.api.taobao.com";
const HOUR: i64 = 3_600_000;

pub async fn run(report: &mut Report, sizes: [usize; 2]) -> Result<()> {
    let mut peaks = Vec::new();
    for n in sizes {
        let db = Db::fresh(&Backend::Sqlite).await?;
        let o = one(report, &db, n).await;
        db.drop_now().await?;
        peaks.push(o?);
    }
    report.row(
        W,
        &format!(
            "Taobao: peak RSS at {} ÷ at {} trades",
            thousands(sizes[1] as u64),
            thousands(sizes[0] as u64)
        ),
        format!("{:.2}×", peaks[1] as f64 / peaks[0] as f64),
    );
    Ok(())
}

/// Pull `n` trades; returns the server's peak RSS in KiB.
async fn one(report: &mut Report, db: &Db, n: usize) -> Result<u64> {
    let sim = TaobaoSim::start(TaobaoSimConfig::default())
        .await
        .map_err(|e| anyhow!("starting the Taobao simulator: {e}"))?;
    let now = wharf_sim::time::now_ms();
    sim.generate_trades(n, 5, now - 20 * HOUR, now - 5 * 60_000);
    let url = db.url.clone();
    let (op, merchant) = tokio::task::spawn_blocking(move || {
        let op = operator_token(&url);
        (op, create_merchant(&url, "bench"))
    })
    .await?;
    let args = [
        "--resolve".to_string(),
        format!("{HOST}={}", sim.addr()),
        "--verify-daily-at".into(),
        "off".into(),
        "--verify-interval-secs".into(),
        "86400".into(),
    ];
    let wharf = Wharf::start(&db.url, &args);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/taobao/manifest.json")),
            read(paths::plugin("wharf_plugin_taobao")),
        )
        .await;
    ensure!(status == 201, "plugin upload: {status} {plugin}");
    let (_, base_kib) = memory_kib(wharf.pid())?;
    let merchant = wharf.api(&merchant.token);
    let cfg = sim.config();
    let t = Instant::now();
    let (status, inst) = merchant
        .post(
            "/v1/installations",
            json!({
                "plugin_id": plugin["id"],
                "shop": cfg.seller_nick,
                "config": {"api_url": format!("http://{HOST}/router/rest"), "window_minutes": 60,
                           "page_size": 100, "lookback_days": 1, "seller_nick": cfg.seller_nick},
                "secrets": {"app_key": cfg.app_key, "app_secret": cfg.app_secret,
                            "session": cfg.session},
                "egress_grant": [HOST],
                "consent": wharf_tests::consent("taobao"),
                "pull_interval_secs": 86400
            }),
        )
        .await;
    ensure!(status == 201, "installation: {status} {inst}");
    let path = format!("/v1/installations/{}", inst["id"]);
    let created = eventually(Duration::from_secs(900), || async {
        let (_, i) = merchant.get(&path).await;
        let created = i["counters"]["orders_created"].as_u64().unwrap_or(0) as usize;
        (created >= n && i["last_sync_at"].as_i64().is_some()).then_some(created)
    })
    .await
    .ok_or_else(|| anyhow!("the first pull of {n} trades did not finish within 900 s"))?;
    let elapsed = t.elapsed();
    ensure!(created == n, "a pull of {n} trades created {created}");
    let (peak_kib, _) = memory_kib(wharf.pid())?;
    let requests = sim.requests();
    report.row(
        W,
        &format!(
            "Taobao (SQLite): {} trades, {requests} TOP requests",
            thousands(n as u64)
        ),
        format!(
            "{} · {:.1} s · peak RSS {} MiB (idle {} MiB)",
            rate(n as f64 / elapsed.as_secs_f64()),
            elapsed.as_secs_f64(),
            peak_kib / 1024,
            base_kib / 1024
        ),
    );
    Ok(peak_kib)
}
