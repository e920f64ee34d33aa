//! Workload 6, inventory burst: 10,000 paid orders across 5 channel installations over
//! 1,000 SKUs (each listed on all 5 channels), ingested concurrently — one order per
//! transaction, as webhooks arrive — through `Store::ingest`, which reserves stock in the
//! same transaction. Meanwhile a push runner does what the server's `push_inventory` job
//! does (claim the coalesced job, read the dirty listings, record the pushes), with the
//! plugin call counted instead of sent: the figure is the store's reservation throughput
//! and how far coalescing cuts the channel calls.
//!
//! Reported: orders/s, reservation conflicts (lines no warehouse could hold: oversold),
//! stock changes, push-inventory calls and listing values pushed. Checked: reserved never
//! exceeds on-hand, and the held reservations add up to the reserved stock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use wharf_domain::inventory::StockRow;
use wharf_domain::manifest::Manifest;
use wharf_domain::{Address, ChannelStatus, Line, Money, Order};
use wharf_store::inventory::NewListing;
use wharf_store::stock_sync::{PushOutcome, PUSH_INVENTORY};
use wharf_store::{IngestSource, Installation, NewInstallation, Store};

use crate::report::Report;
use crate::server::{Backend, Db};
use crate::stats::{rate, thousands};

const W: &str = "6 inventory";
const CHANNELS: usize = 5;
const SKUS: usize = 1_000;
/// Units per SKU: demand (≈ 10,000 orders × 1.5 lines × 1.5 units) exceeds the 20,000
/// units on hand, so the burst runs SKUs out and conflicts happen.
const ON_HAND: i64 = 20;
/// Listings per push-inventory call (the server's batch).
const PUSH_BATCH: i64 = 50;

/// Figures of one run.
struct Burst {
    orders: usize,
    wall: Duration,
    held: i64,
    short: i64,
    oversold_orders: i64,
    stock_changes: i64,
    push_calls: u64,
    values_pushed: u64,
    drain: Duration,
}

pub async fn run(report: &mut Report, backend: &Backend, orders: usize) -> Result<()> {
    let db = Db::fresh(backend).await?;
    let result = run_on(&db, orders).await;
    db.drop_now().await?;
    let b = result?;
    let label = backend.label();
    report.row(
        W,
        &format!(
            "{label}: {} paid orders, 5 channels × 1,000 SKUs, one order per transaction",
            thousands(b.orders as u64)
        ),
        format!(
            "{} ({:.1} s)",
            rate(b.orders as f64 / b.wall.as_secs_f64()),
            b.wall.as_secs_f64()
        ),
    );
    report.row(
        W,
        &format!("{label}: reservation conflicts (lines short → orders held as oversold)"),
        format!(
            "{} lines held, {} short; {} orders oversold",
            thousands(b.held as u64),
            thousands(b.short as u64),
            thousands(b.oversold_orders as u64)
        ),
    );
    report.row(
        W,
        &format!("{label}: push-inventory calls after coalescing (1 s window, 50 per call)"),
        format!(
            "{} calls carrying {} listing values, for {} stock changes × 5 channels; drained {:.1} s after the burst",
            thousands(b.push_calls),
            thousands(b.values_pushed),
            thousands(b.stock_changes as u64),
            b.drain.as_secs_f64()
        ),
    );
    Ok(())
}

fn manifest() -> Result<Manifest> {
    let json = serde_json::json!({
        "name": "bench-channel", "version": "0.1.0", "kind": "marketplace", "wit_version": "0.1.0",
        "hosts": ["*.example.com"],
        "config_schema": {"type": "object", "properties": {}},
        "secrets": []
    });
    Manifest::from_json(json.to_string().as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn money(minor: i64) -> Money {
    Money::new(minor, "CNY")
}

fn sku_code(n: usize) -> String {
    format!("SKU-{n:04}")
}

/// A paid order of 1–2 lines of 1–2 units, lines addressed by the channel's SKU id.
fn order(rng: &mut StdRng, channel: usize, n: usize) -> Order {
    let lines: Vec<Line> = (0..rng.gen_range(1..=2))
        .map(|l| {
            let sku = rng.gen_range(0..SKUS);
            Line {
                line_id: format!("{n}-{l}"),
                sku: String::new(),
                channel_sku: format!("ch{channel}-{}", sku_code(sku)),
                title: "Item".into(),
                quantity: rng.gen_range(1..=2),
                unit_price: money(1_990),
                discount: money(0),
            }
        })
        .collect();
    let goods: i64 = lines.iter().map(|l| 1_990 * i64::from(l.quantity)).sum();
    Order {
        external_id: format!("B{channel}-{n}"),
        number: format!("B{channel}-{n}"),
        status: ChannelStatus::Paid,
        raw_status: "WAIT_SELLER_SEND_GOODS".into(),
        created_at: 1_760_000_000_000,
        updated_at: 1_760_000_000_000 + n as i64,
        currency: "CNY".into(),
        buyer: None,
        shipping_address: Some(Address {
            name: "王小明".into(),
            phone: "13800000000".into(),
            country: "CN".into(),
            province: "浙江省".into(),
            city: "杭州市".into(),
            district: "西湖区".into(),
            street: "文三路 100 号".into(),
            postal_code: "310000".into(),
            encrypted: false,
        }),
        lines,
        shipping_fee: money(0),
        discount: money(0),
        tax: money(0),
        total_paid: money(goods),
        presale: None,
        tags: Vec::new(),
    }
}

async fn run_on(db: &Db, total: usize) -> Result<Burst> {
    let store = Store::connect(&db.url).await.context("connecting")?;
    let merchant = store.create_merchant("Burst").await?;
    let plugin = store.insert_plugin(&manifest()?, b"\0asm bench").await?;
    let mut insts: Vec<Installation> = Vec::new();
    for c in 0..CHANNELS {
        insts.push(
            store
                .create_installation(NewInstallation {
                    merchant_id: merchant.id,
                    plugin_id: plugin.id,
                    shop: format!("channel-{c}"),
                    config: BTreeMap::new(),
                    secrets: BTreeMap::new(),
                    egress_grant: Vec::new(),
                    pull_interval_secs: 3600,
                })
                .await?,
        );
    }
    let rows: Vec<StockRow> = (0..SKUS)
        .map(|n| StockRow {
            line: n + 2,
            sku: sku_code(n),
            warehouse: "main".into(),
            on_hand: ON_HAND,
            title: String::new(),
        })
        .collect();
    store
        .import_stock(merchant.id, &rows, "bench opening count")
        .await?;
    for (c, inst) in insts.iter().enumerate() {
        for n in 0..SKUS {
            store
                .create_listing(
                    merchant.id,
                    &NewListing {
                        installation_id: inst.id,
                        sku: sku_code(n),
                        channel_sku: format!("ch{c}-{}", sku_code(n)),
                        outer_code: String::new(),
                    },
                )
                .await?;
        }
    }
    // The listings' first pushes are set-up, not burst: drain them before measuring.
    let counters = Arc::new(Counters::default());
    drain(&store, &counters, Duration::from_secs(120)).await?;
    let (calls0, values0) = counters.read();

    let stop = Arc::new(AtomicBool::new(false));
    let runner = tokio::spawn(push_runner(store.clone(), counters.clone(), stop.clone()));
    let started = Instant::now();
    let per_channel = total / CHANNELS;
    let mut tasks = Vec::new();
    for (c, inst) in insts.iter().cloned().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(c as u64);
            for n in 0..per_channel {
                store
                    .ingest(&inst, &[order(&mut rng, c, n)], IngestSource::Verify)
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let wall = started.elapsed();
    let drained_at = Instant::now();
    // Let the runner catch up with the last coalescing window, then stop it.
    wait_until_clean(&store, &db.url, Duration::from_secs(120)).await?;
    let drain_time = drained_at.elapsed();
    stop.store(true, Ordering::SeqCst);
    runner.await??;
    let (calls1, values1) = counters.read();

    let pool = sqlx::AnyPool::connect(&db.url).await?;
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            anyhow::Ok(
                sqlx::query(sql)
                    .fetch_one(&pool)
                    .await?
                    .try_get::<i64, _>(0)?,
            )
        }
    };
    let held = count("SELECT COUNT(*) FROM reservations WHERE state = 'held'").await?;
    let short = count("SELECT COUNT(*) FROM reservations WHERE state = 'short'").await?;
    let oversold = count("SELECT COUNT(*) FROM orders WHERE state = 'on_hold'").await?;
    let changes = count("SELECT COUNT(*) FROM stock_events WHERE kind = 'reserve'").await?;
    let over = count("SELECT COUNT(*) FROM stock WHERE reserved > on_hand").await?;
    let reserved = count("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock").await?;
    let held_qty = count(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM reservations WHERE state = 'held'",
    )
    .await?;
    pool.close().await;
    ensure!(over == 0, "{over} stock rows hold more than they have");
    ensure!(
        reserved == held_qty,
        "reserved stock {reserved} ≠ held reservations {held_qty}"
    );
    Ok(Burst {
        orders: per_channel * CHANNELS,
        wall,
        held,
        short,
        oversold_orders: oversold,
        stock_changes: changes,
        push_calls: calls1 - calls0,
        values_pushed: values1 - values0,
        drain: drain_time,
    })
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    values: AtomicU64,
}

impl Counters {
    fn read(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::SeqCst),
            self.values.load(Ordering::SeqCst),
        )
    }
}

/// The server's push job without the plugin: claim due push jobs, push each
/// installation's dirty listings in batches (counting the calls), complete the job.
async fn push_once(store: &Store, counters: &Counters) -> Result<usize> {
    let jobs = store.claim_jobs("bench-runner", 60_000, 16).await?;
    let n = jobs.len();
    for job in jobs {
        if job.kind == PUSH_INVENTORY {
            let inst = job
                .installation_id
                .context("push job without installation")?;
            loop {
                let pending = store.pending_pushes(inst, PUSH_BATCH).await?;
                if pending.is_empty() {
                    break;
                }
                let changed = pending.iter().filter(|p| !p.unchanged).count() as u64;
                if changed > 0 {
                    counters.calls.fetch_add(1, Ordering::SeqCst);
                    counters.values.fetch_add(changed, Ordering::SeqCst);
                }
                let done: Vec<_> = pending
                    .into_iter()
                    .map(|p| (p, PushOutcome::Pushed))
                    .collect();
                store.record_pushes(&done).await?;
            }
        }
        store.complete_job(job.id, "bench-runner").await?;
    }
    Ok(n)
}

async fn push_runner(store: Store, counters: Arc<Counters>, stop: Arc<AtomicBool>) -> Result<()> {
    while !stop.load(Ordering::SeqCst) {
        if push_once(&store, &counters).await? == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Run the push loop until nothing is queued or dirty.
async fn drain(store: &Store, counters: &Counters, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        ensure!(Instant::now() < deadline, "pushes did not drain");
        if push_once(store, counters).await? == 0
            && store.unscheduled_pushes(i64::MAX).await?.is_empty()
        {
            let jobs = store.job_counts().await?;
            if !jobs
                .iter()
                .any(|j| j.kind == PUSH_INVENTORY && (j.state == "queued" || j.state == "running"))
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Wait until no listing is dirty and no push job is queued or running.
async fn wait_until_clean(store: &Store, url: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    let pool = sqlx::AnyPool::connect(url).await?;
    loop {
        ensure!(Instant::now() < deadline, "pushes did not drain");
        let dirty: i64 = sqlx::query("SELECT COUNT(*) FROM listings WHERE dirty = 1")
            .fetch_one(&pool)
            .await?
            .try_get(0)?;
        let active = store
            .job_counts()
            .await?
            .iter()
            .any(|j| j.kind == PUSH_INVENTORY && (j.state == "queued" || j.state == "running"));
        if dirty == 0 && !active {
            pool.close().await;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
