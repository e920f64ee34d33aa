//! Workload 3, ingest end to end: signed Shopify `orders/create` webhooks over loopback
//! HTTP to the release `wharf serve` → verified by the plugin → stored (acknowledged only
//! after commit). Two load shapes, each with distinct realistic orders:
//! - saturation: `senders` concurrent closed-loop senders, bounded by count and time;
//!   orders/s and p50/p99 acknowledgement latency;
//! - fixed offered load of 1,000 orders/s (open loop: a request is sent on schedule
//!   whether or not earlier ones were answered; latency counts from the scheduled time).
//!
//! - the sandbox's cost: the same saturation run against `wharf-native-bench` (the server
//!   with the Shopify plugin call replaced by the connector's code compiled natively),
//!   alternating with the sandboxed server ([`run_native_ratio`]).
//!
//! After each run the installation's `orders_created` counter must have grown by at least
//! the number of acknowledged orders (every acknowledged order is stored; a delivery the
//! client gave up on may still commit). Unacknowledged deliveries are counted, not timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use tokio::sync::Mutex;

use crate::payload::{self, Delivery};
use crate::report::Report;
use crate::server::{Backend, Db, Env};
use crate::stats::{ms, rate, thousands, Summary};
use crate::Iters;

const W: &str = "3 ingest";

/// Sequence numbers of the orders each phase sends (ranges never overlap).
/// How long a sender waits for an acknowledgement before counting it as failed.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

const SAT_FIRST: u64 = 1_000_000;
const FIXED_FIRST: u64 = 2_000_000;
const NODES_FIRST: u64 = 3_000_000;
const NATIVE_FIRST: u64 = 4_000_000;

/// Rounds of the sandboxed vs native-plugin comparison (each round runs both, in turn).
const NATIVE_ROUNDS: u64 = 2;

/// The sandbox's cost on SQLite: saturation throughput of the sandboxed server beside the
/// same pipeline in `native_bin` (`wharf-native-bench`), each on a fresh database,
/// alternating [`NATIVE_ROUNDS`] times; each side's best round is compared (the machine is
/// shared with the senders, and the best round is the least disturbed).
pub async fn run_native_ratio(
    report: &mut Report,
    native_bin: &std::path::Path,
    it: Iters,
) -> Result<()> {
    let (mut sandboxed, mut native) = (0f64, 0f64);
    for round in 0..NATIVE_ROUNDS {
        for bin in [None, Some(native_bin)] {
            let db = Db::fresh(&Backend::Sqlite).await?;
            let first = NATIVE_FIRST + (2 * round + u64::from(bin.is_some())) * 100_000;
            let result = saturation_of(&db, bin, first, it).await;
            db.drop_now().await?;
            let per_sec = result?;
            let best = if bin.is_some() {
                &mut native
            } else {
                &mut sandboxed
            };
            *best = best.max(per_sec);
        }
    }
    let what = format!("SQLite: saturation, {} senders", it.senders);
    report.row(
        W,
        &format!("{what}, sandboxed plugin (best of {NATIVE_ROUNDS})"),
        rate(sandboxed),
    );
    report.row(
        W,
        &format!("{what}, plugin code compiled natively (best of {NATIVE_ROUNDS})"),
        rate(native),
    );
    let share = sandboxed / native;
    report.target(
        W,
        "sandboxed ÷ native-plugin pipeline throughput",
        format!("{:.0} %", share * 100.0),
        "≥ 80 %",
        share >= 0.8,
    );
    Ok(())
}

/// Orders/s of one saturation run of the server `bin` (default `WHARF_BIN`) on `db`.
async fn saturation_of(
    db: &Db,
    bin: Option<&std::path::Path>,
    first: u64,
    it: Iters,
) -> Result<f64> {
    let env = Env::start_bin(db, bin).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(it.senders * 2)
        .timeout(CLIENT_TIMEOUT)
        .build()?;
    let before = created(&env).await?;
    let sat = payload::deliveries(first, it.ingest_orders);
    let urls = [env.webhook_url.clone()];
    let o = saturate(&http, &urls, sat, it.senders, it.ingest_time).await?;
    let after = created(&env).await?;
    let acked = o.lat.len();
    ensure!(
        o.failed.is_empty() && after - before >= acked as i64,
        "{}: {acked} acknowledged, {} failed (first: {:?}), orders_created grew by {}",
        bin.map_or("wharf".into(), |b| b.display().to_string()),
        o.failed.len(),
        o.failed.first(),
        after - before
    );
    Ok(acked as f64 / o.elapsed.as_secs_f64())
}

/// Sustained ingest on `nodes` `wharf serve` processes sharing one database, webhooks
/// spread evenly across them (the scale-out deployment): orders/s and p50/p99.
pub async fn run_nodes(
    report: &mut Report,
    backend: &Backend,
    it: Iters,
    nodes: usize,
) -> Result<()> {
    let db = Db::fresh(backend).await?;
    let result = nodes_on(report, backend, &db, it, nodes).await;
    db.drop_now().await?;
    result
}

async fn nodes_on(
    report: &mut Report,
    backend: &Backend,
    db: &Db,
    it: Iters,
    nodes: usize,
) -> Result<()> {
    let env = Env::start(db).await?;
    let extra = env.more_nodes(db, nodes.saturating_sub(1));
    let mut urls = vec![env.webhook_url.clone()];
    urls.extend(
        extra
            .iter()
            .map(|w| format!("{}/v1/hooks/{}", w.base_url, env.installation)),
    );
    let label = backend.label();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(it.senders * 2)
        .timeout(CLIENT_TIMEOUT)
        .build()?;
    let sat = payload::deliveries(NODES_FIRST, it.ingest_orders);
    let before = created(&env).await?;
    let o = saturate(&http, &urls, sat, it.senders, it.ingest_time).await?;
    let acked = o.lat.len();
    let after = created(&env).await?;
    ensure!(
        after - before >= acked as i64,
        "{label}, {nodes} nodes: {acked} webhooks acknowledged but orders_created grew by {}",
        after - before
    );
    failures(report, label, &format!("{nodes} nodes"), &o.failed);
    let s = Summary::of(o.lat);
    report.row(
        W,
        &format!(
            "{label}: sustained, {nodes} node{} on one database, {} senders spread evenly",
            if nodes == 1 { "" } else { "s" },
            it.senders
        ),
        format!(
            "{} · p50 {} · p99 {}",
            rate(acked as f64 / o.elapsed.as_secs_f64()),
            ms(s.p50),
            ms(s.p99)
        ),
    );
    drop(extra);
    Ok(())
}

pub async fn run(report: &mut Report, backend: &Backend, it: Iters) -> Result<()> {
    let db = Db::fresh(backend).await?;
    let result = run_on(report, backend, &db, it).await;
    db.drop_now().await?;
    result
}

async fn run_on(report: &mut Report, backend: &Backend, db: &Db, it: Iters) -> Result<()> {
    let env = Env::start(db).await?;
    let label = backend.label();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(it.senders * 2)
        .timeout(CLIENT_TIMEOUT)
        .build()?;

    // Saturation.
    let sat = payload::deliveries(SAT_FIRST, it.ingest_orders);
    let bytes = payload::mean_body_bytes(&sat);
    let before = created(&env).await?;
    let urls = [env.webhook_url.clone()];
    let o = saturate(&http, &urls, sat, it.senders, it.ingest_time).await?;
    let acked = o.lat.len();
    let after = created(&env).await?;
    ensure!(
        after - before >= acked as i64,
        "{label}: {acked} webhooks acknowledged but orders_created grew by {}",
        after - before
    );
    failures(report, label, "saturation", &o.failed);
    let s = Summary::of(o.lat);
    let per_sec = acked as f64 / o.elapsed.as_secs_f64();
    let what = format!(
        "{label}: saturation, {} senders, {} orders (mean body {} B)",
        it.senders,
        thousands(acked as u64),
        bytes
    );
    let figure = format!("{} · p50 {} · p99 {}", rate(per_sec), ms(s.p50), ms(s.p99));
    match backend {
        Backend::Sqlite => report.target(W, &what, figure, "≥ 5,000 orders/s", per_sec >= 5000.0),
        Backend::Postgres(_) => report.row(W, &what, figure),
    }
    if acked < it.ingest_orders {
        report.note(format!(
            "{label} saturation stopped at the {} s time bound after {acked} of {} orders.",
            it.ingest_time.as_secs(),
            it.ingest_orders
        ));
    }

    // Fixed offered load.
    let n = (1000.0 * it.fixed_time.as_secs_f64()) as usize;
    let fixed = payload::deliveries(FIXED_FIRST, n);
    let before = created(&env).await?;
    let (o, late) = offered(&http, &env.webhook_url, fixed, 1000).await?;
    let after = created(&env).await?;
    ensure!(
        after - before >= o.lat.len() as i64,
        "{label}: {} webhooks acknowledged but orders_created grew by {}",
        o.lat.len(),
        after - before
    );
    failures(report, label, "fixed load", &o.failed);
    let unanswered = o.failed.len();
    ensure!(
        !o.lat.is_empty(),
        "{label}: no webhook of the fixed load was acknowledged"
    );
    let s = Summary::of(o.lat);
    report.target(
        W,
        &format!(
            "{label}: 1,000 orders/s offered for {} s — ack latency",
            it.fixed_time.as_secs()
        ),
        format!(
            "p50 {} · p99 {} · max {} · {unanswered} unacknowledged",
            ms(s.p50),
            ms(s.p99),
            ms(s.max)
        ),
        "p99 ≤ 25 ms",
        s.p99 <= Duration::from_millis(25) && unanswered == 0,
    );
    if late > 0 {
        report.note(format!(
            "{label} fixed load: the sender itself fell more than 5 ms behind schedule {late} \
             times (the client shares the 2 cores with the server); latency counts from the \
             scheduled send time, so that delay is included."
        ));
    }
    let (hwm, _) = env.memory_kib()?;
    report.row(
        W,
        &format!("{label}: peak RSS of `wharf serve` after ingest"),
        format!("{} MiB", hwm / 1024),
    );
    Ok(())
}

/// Unacknowledged deliveries go in the notes (count and the first error), not the
/// latency figures.
fn failures(report: &mut Report, label: &str, phase: &str, failed: &[String]) {
    if let Some(first) = failed.first() {
        report.note(format!(
            "{label} {phase}: {} deliveries were not acknowledged (first: {first}).",
            failed.len()
        ));
    }
}

async fn created(env: &Env) -> Result<i64> {
    let inst = env.installation().await?;
    Ok(inst["counters"]["orders_created"].as_i64().unwrap_or(0))
}

async fn send(http: &reqwest::Client, url: &str, d: &Delivery) -> Result<()> {
    let mut req = http.post(url).body(d.body.clone());
    for (k, v) in &d.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    ensure!(status.is_success(), "webhook answered {status}: {text}");
    Ok(())
}

/// What one load phase saw: latencies of acknowledged deliveries, errors of the others
/// (non-2xx or no answer within the client timeout), wall time.
struct Outcome {
    lat: Vec<Duration>,
    failed: Vec<String>,
    elapsed: Duration,
}

/// Closed loop (senders spread round-robin over `urls`, one per node): `senders` tasks each send the next delivery as soon as their previous one
/// is acknowledged, until all are sent or `limit` has passed. Returns each acknowledged
/// delivery's latency and the wall time.
async fn saturate(
    http: &reqwest::Client,
    urls: &[String],
    deliveries: Vec<Delivery>,
    senders: usize,
    limit: Duration,
) -> Result<Outcome> {
    let deliveries = Arc::new(deliveries);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(deliveries.len())));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let deadline = started + limit;
    let mut tasks = Vec::new();
    for sender in 0..senders {
        let (http, url) = (http.clone(), urls[sender % urls.len()].clone());
        let (deliveries, next) = (deliveries.clone(), next.clone());
        let (latencies, failed) = (latencies.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= deliveries.len() || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                match send(&http, &url, &deliveries[i]).await {
                    Ok(()) => mine.push(t.elapsed()),
                    Err(e) => failed.lock().await.push(format!("{e:#}")),
                }
            }
            latencies.lock().await.extend(mine);
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed();
    let lat = std::mem::take(&mut *latencies.lock().await);
    let failed = std::mem::take(&mut *failed.lock().await);
    Ok(Outcome {
        lat,
        failed,
        elapsed,
    })
}

/// Open loop at `per_sec`: delivery `i` is due at `start + i / per_sec` and sent then on
/// its own task. Returns latencies from the due time, and how often the sender was more
/// than 5 ms late.
async fn offered(
    http: &reqwest::Client,
    url: &str,
    deliveries: Vec<Delivery>,
    per_sec: u32,
) -> Result<(Outcome, usize)> {
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(deliveries.len());
    let mut late = 0;
    for (i, d) in deliveries.into_iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / f64::from(per_sec));
        tokio::time::sleep_until(due).await;
        if due.elapsed() > Duration::from_millis(5) {
            late += 1;
        }
        let (http, url) = (http.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            send(&http, &url, &d).await.map(|()| due.elapsed())
        }));
    }
    let elapsed = start.elapsed();
    let (mut lat, mut failed) = (Vec::with_capacity(tasks.len()), Vec::new());
    for t in tasks {
        match t.await? {
            Ok(d) => lat.push(d),
            Err(e) => failed.push(format!("{e:#}")),
        }
    }
    Ok((
        Outcome {
            lat,
            failed,
            elapsed,
        },
        late,
    ))
}
