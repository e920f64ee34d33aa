//! Workload 7, fulfillment: signed Shopify `orders/create` webhooks of paid orders over
//! loopback to the release `wharf serve`, then the whole warehouse pipeline through the
//! admin API.
//!
//! - Order → pick task: each sender posts a delivery, and once it is acknowledged looks
//!   the order up by its number (`GET /v1/scan`, what a picker's scan does) and polls
//!   `GET /v1/tasks?order_id=…&kind=pick` until the task is listed. Latency from the 2xx
//!   and from the send, p50/p99; and how many polls it took (the task is created in the
//!   ingest transaction, so one should always do).
//! - Pipeline: `N` concurrent pickers take open pick tasks from `GET /v1/tasks` (each
//!   from its own position in the queue) and drive every order assign → start → complete
//!   pick → assign → start → complete pack (parcel) → `labelled` (carrier + tracking) →
//!   `shipped`: 8 transitions per order (plus a re-assignment by a picker that then lost
//!   the race for the task, which is refused its start). Transitions/s and orders/s over the wall time
//!   until every order is shipped, p50/p99 of one transition call, and the refusals two
//!   pickers racing for one task got (409). Checked afterwards: every order is shipped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use serde_json::{json, Value};
use sqlx::Row;
use tokio::sync::Mutex;
use wharf_tests::Api;

use crate::payload::{self, Delivery};
use crate::report::Report;
use crate::server::{Backend, Db, Env};
use crate::stats::{ms, rate, thousands, Summary};

const W: &str = "7 fulfillment";
/// Order sequence numbers of this workload (distinct from the ingest workload's).
const FIRST: u64 = 4_000_000;
/// Concurrent webhook senders while measuring order → task latency.
const SENDERS: usize = 4;
/// Picker counts, one batch of orders each.
const PICKERS: [usize; 2] = [1, 8];
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Give up on a batch after this long.
const BATCH_LIMIT: Duration = Duration::from_secs(600);

/// One paid order's delivery and its number (what the scan looks up).
struct PaidDelivery {
    number: String,
    delivery: Delivery,
}

fn paid_deliveries(first: u64, n: usize) -> Vec<PaidDelivery> {
    let now = wharf_sim::time::now_ms();
    (0..n as u64)
        .map(|i| {
            let seq = first + i;
            let mut o = payload::order(seq, now - (n as i64 - i as i64) * 10);
            wharf_tests::shopify::make_clean_paid(&mut o, "BENCH-1", 44_000_000_777, 1);
            let number = o["name"].as_str().unwrap_or_default().to_string();
            let body = serde_json::to_vec(&o).expect("JSON serialises");
            PaidDelivery {
                number,
                delivery: Delivery::new(body, &format!("fulfil-{seq:012}")),
            }
        })
        .collect()
}

/// Per-order figures of the latency phase.
#[derive(Default)]
struct Latency {
    from_ack: Vec<Duration>,
    from_send: Vec<Duration>,
    polls: Vec<usize>,
}

pub async fn run(report: &mut Report, backend: &Backend, orders: usize) -> Result<()> {
    let db = Db::fresh(backend).await?;
    let result = run_on(report, backend, &db, orders).await;
    db.drop_now().await?;
    result
}

async fn run_on(report: &mut Report, backend: &Backend, db: &Db, orders: usize) -> Result<()> {
    let env = Env::start(db).await?;
    let label = backend.label();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(CLIENT_TIMEOUT)
        .build()?;
    let lat = Arc::new(Mutex::new(Latency::default()));
    let mut shipped_total = 0i64;
    for (batch, pickers) in PICKERS.into_iter().enumerate() {
        let first = FIRST + (batch * orders) as u64;
        send_and_watch(&http, &env, paid_deliveries(first, orders), lat.clone()).await?;
        let p = pipeline(&env.merchant, pickers, orders).await?;
        shipped_total += orders as i64;
        let shipped = count_shipped(&db.url).await?;
        ensure!(
            shipped == shipped_total,
            "{label}: {shipped} orders shipped, expected {shipped_total}"
        );
        let s = Summary::of(p.calls);
        report.row(
            W,
            &format!(
                "{label}: pipeline, {pickers} picker{}, {} orders × 8 transitions",
                if pickers == 1 { "" } else { "s" },
                thousands(orders as u64)
            ),
            format!(
                "{} transitions · {} orders · call p50 {} · p99 {} · {} refused (409) · {:.1} s",
                rate(p.transitions as f64 / p.wall.as_secs_f64()),
                rate(orders as f64 / p.wall.as_secs_f64()),
                ms(s.p50),
                ms(s.p99),
                p.conflicts,
                p.wall.as_secs_f64()
            ),
        );
    }
    let lat = std::mem::take(&mut *lat.lock().await);
    let n = lat.from_ack.len();
    let one_poll = lat.polls.iter().filter(|p| **p == 1).count();
    let ack = Summary::of(lat.from_ack);
    let send = Summary::of(lat.from_send);
    report.target(
        W,
        &format!(
            "{label}: webhook 2xx → pick task in GET /v1/tasks, {} paid orders, {SENDERS} senders",
            thousands(n as u64)
        ),
        format!(
            "p50 {} · p99 {} · first poll found it for {}/{}",
            ms(ack.p50),
            ms(ack.p99),
            thousands(one_poll as u64),
            thousands(n as u64)
        ),
        "visible within 1 s (p99)",
        ack.p99 <= Duration::from_secs(1),
    );
    report.row(
        W,
        &format!("{label}: webhook sent → pick task in GET /v1/tasks"),
        format!("p50 {} · p99 {}", ms(send.p50), ms(send.p99)),
    );
    Ok(())
}

/// Send every delivery (closed loop, [`SENDERS`] at a time) and time each order until
/// its pick task is listed.
async fn send_and_watch(
    http: &reqwest::Client,
    env: &Env,
    deliveries: Vec<PaidDelivery>,
    lat: Arc<Mutex<Latency>>,
) -> Result<()> {
    let queue = Arc::new(Mutex::new(deliveries.into_iter()));
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        let (queue, lat, http) = (queue.clone(), lat.clone(), http.clone());
        let (url, api) = (env.webhook_url.clone(), env.merchant.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(d) = queue.lock().await.next() else {
                    return anyhow::Ok(());
                };
                let sent = Instant::now();
                let mut req = http.post(&url).body(d.delivery.body.clone());
                for (k, v) in &d.delivery.headers {
                    req = req.header(k, v);
                }
                let res = req.send().await.context("sending a webhook")?;
                ensure!(
                    res.status().is_success(),
                    "webhook refused: {}",
                    res.status()
                );
                let acked = Instant::now();
                let polls = wait_pick_task(&api, &d.number).await?;
                let seen = Instant::now();
                let mut l = lat.lock().await;
                l.from_ack.push(seen - acked);
                l.from_send.push(seen - sent);
                l.polls.push(polls);
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Find the order by its number, then poll its pick task; returns the number of task
/// polls it took.
async fn wait_pick_task(api: &Api, number: &str) -> Result<usize> {
    let code: String = number.trim_start_matches('#').to_string();
    let (s, found) = api.get(&format!("/v1/scan?code={code}")).await;
    ensure!(s == 200, "scan {number}: {s} {found}");
    let id = found["orders"][0]["order_id"]
        .as_i64()
        .ok_or_else(|| anyhow!("scan {number}: {found}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    for polls in 1.. {
        let (s, tasks) = api.get(&format!("/v1/tasks?order_id={id}&kind=pick")).await;
        ensure!(s == 200, "tasks: {s} {tasks}");
        if tasks.as_array().is_some_and(|t| !t.is_empty()) {
            return Ok(polls);
        }
        ensure!(
            Instant::now() < deadline,
            "order {number}: no pick task within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    unreachable!("the loop returns or fails")
}

/// Figures of one pipeline batch.
struct Pipeline {
    transitions: usize,
    conflicts: usize,
    calls: Vec<Duration>,
    wall: Duration,
}

/// Outcome of one transition call.
enum Step {
    Done(Value),
    /// 409: another picker got there first.
    Refused,
}

async fn transition(api: &Api, path: &str, body: Value, calls: &mut Vec<Duration>) -> Result<Step> {
    let t = Instant::now();
    let (s, v) = api.post(path, body).await;
    calls.push(t.elapsed());
    match s {
        200 => Ok(Step::Done(v)),
        409 => Ok(Step::Refused),
        _ => Err(anyhow!("POST {path}: {s} {v}")),
    }
}

/// `pickers` workers drive `orders` open pick tasks to shipped.
async fn pipeline(api: &Api, pickers: usize, orders: usize) -> Result<Pipeline> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..pickers {
        let api = api.clone();
        tasks.push(tokio::spawn(picker(api, p, started)));
    }
    let (mut transitions, mut conflicts, mut calls) = (0, 0, Vec::new());
    for t in tasks {
        let (n, c, mut l) = t.await??;
        transitions += n;
        conflicts += c;
        calls.append(&mut l);
    }
    let wall = started.elapsed();
    // A picker that lost a race still re-assigned the task once: at least 8 per order.
    ensure!(
        transitions >= orders * 8,
        "{transitions} transitions for {orders} orders (8 each at least)"
    );
    Ok(Pipeline {
        transitions,
        conflicts,
        calls,
        wall,
    })
}

/// One picker: until no pick task is open, take one and ship its order. Returns
/// (transitions, refusals, call latencies).
async fn picker(api: Api, me: usize, started: Instant) -> Result<(usize, usize, Vec<Duration>)> {
    let name = format!("picker-{me}");
    let (mut done, mut refused, mut calls) = (0usize, 0usize, Vec::new());
    loop {
        ensure!(
            started.elapsed() < BATCH_LIMIT,
            "batch over {BATCH_LIMIT:?}"
        );
        let (s, open) = api.get("/v1/tasks?status=open&kind=pick&limit=64").await;
        ensure!(s == 200, "open tasks: {s} {open}");
        let open = open.as_array().cloned().unwrap_or_default();
        if open.is_empty() {
            return Ok((done, refused, calls));
        }
        let task = &open[me % open.len()];
        let (pick, order) = (
            task["id"].as_i64().context("task id")?,
            task["order_id"].as_i64().context("order id")?,
        );
        // Assigning an assigned task re-assigns it, so the race is decided by the start.
        let steps = [
            (
                format!("/v1/tasks/{pick}/assign"),
                json!({"assignee": name}),
            ),
            (format!("/v1/tasks/{pick}/start"), json!({})),
        ];
        let mut lost = false;
        for (path, body) in steps {
            match transition(&api, &path, body, &mut calls).await? {
                Step::Done(_) => done += 1,
                Step::Refused => {
                    refused += 1;
                    lost = true;
                    break;
                }
            }
        }
        if lost {
            continue;
        }
        let mut expect = |step: Step, what: &str| match step {
            Step::Done(v) => {
                done += 1;
                Ok(v)
            }
            Step::Refused => Err(anyhow!("{what} of order {order} refused")),
        };
        let path = format!("/v1/tasks/{pick}/complete");
        expect(
            transition(&api, &path, json!({}), &mut calls).await?,
            "pick",
        )?;
        let (s, packs) = api
            .get(&format!("/v1/tasks?order_id={order}&kind=pack"))
            .await;
        ensure!(s == 200, "pack task: {s} {packs}");
        let pack = packs[0]["id"].as_i64().context("the pack task")?;
        let parcel = json!({"parcel": {"weight_g": 640, "length_mm": 300, "width_mm": 200, "height_mm": 120}});
        let label = json!({"to": "labelled", "reason": "label printed", "carrier": "UPS",
                           "tracking_number": format!("1ZBENCH{order:08}")});
        let ship = json!({"to": "shipped", "reason": "collected by UPS"});
        for (path, body) in [
            (
                format!("/v1/tasks/{pack}/assign"),
                json!({"assignee": name}),
            ),
            (format!("/v1/tasks/{pack}/start"), json!({})),
            (format!("/v1/tasks/{pack}/complete"), parcel),
            (format!("/v1/orders/{order}/transitions"), label),
            (format!("/v1/orders/{order}/transitions"), ship),
        ] {
            expect(transition(&api, &path, body, &mut calls).await?, &path)?;
        }
    }
}

async fn count_shipped(url: &str) -> Result<i64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await?;
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM orders WHERE state = 'shipped'")
        .fetch_one(&pool)
        .await?
        .try_get(0)?;
    pool.close().await;
    Ok(n)
}
