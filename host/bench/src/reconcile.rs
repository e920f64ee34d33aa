//! Workload 8, reconciliation: one merchant's month — 300,000 orders and 1,000,000
//! settlement lines (sales, commissions, platform discounts, refunds; unmatched lines,
//! lines whose net ≠ gross − fee, a payout that does not add up, orders that never
//! settled) — reconciled by a fresh release `wharf serve` through the variance export
//! (`GET /v1/reconciliation/{month}/variances.csv`, streamed) and the summary. Wall time
//! of each request and the server's peak RSS, beside the same month at a tenth of the
//! size in the same database: with the report streamed, the peak must not grow with the
//! lines.
//!
//! The data is seeded straight into the database with SQL (`WITH RECURSIVE` counts, the
//! same statements on SQLite and PostgreSQL), shaped like the Shopify installation's own
//! rows; seeding is not measured. Every figure is checked against what was seeded: the
//! export has one row per judged order, unmatched line and overdue order, and the
//! summary counts the same orders and red orders.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use sqlx::Row;
use wharf_tests::Wharf;

use crate::report::Report;
use crate::server::{memory_kib, Backend, Db, Env};
use crate::stats::thousands;

const W: &str = "8 reconcile";
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

/// One seeded month.
#[derive(Debug, Clone, Copy)]
pub struct Month {
    /// `YYYY-MM` (UTC: the server runs with offset 0).
    pub period: &'static str,
    /// Unix ms of the month's first midnight.
    pub start: i64,
    /// Orders (1 in 100 never settles: overdue).
    pub orders: i64,
    /// Settlement lines.
    pub lines: i64,
}

impl Month {
    fn prefix(&self) -> String {
        self.period.replace('-', "")
    }
    fn settled_orders(&self) -> i64 {
        self.orders - self.orders / 100
    }
    /// Lines naming an order Wharf does not have (1 in 2,000).
    fn unmatched(&self) -> i64 {
        (self.lines + 1999) / 2000
    }
}

/// The two sizes: a tenth, then the month.
pub fn months(quick: bool) -> [Month; 2] {
    let scale = if quick { 10 } else { 1 };
    [
        Month {
            period: "2026-09",
            start: 1_788_220_800_000, // 2026-09-01T00:00Z
            orders: 30_000 / scale,
            lines: 100_000 / scale,
        },
        Month {
            period: "2026-10",
            start: 1_790_812_800_000, // 2026-10-01T00:00Z
            orders: 300_000 / scale,
            lines: 1_000_000 / scale,
        },
    ]
}

pub async fn run(report: &mut Report, backend: &Backend, quick: bool) -> Result<()> {
    let db = Db::fresh(backend).await?;
    let result = run_on(report, backend, &db, quick).await;
    db.drop_now().await?;
    result
}

/// What one measured request saw.
struct Measured {
    wall: Duration,
    bytes: u64,
    rows: u64,
    body: String,
}

async fn get(http: &reqwest::Client, url: &str, token: &str, keep: bool) -> Result<Measured> {
    let t = Instant::now();
    let mut resp = http.get(url).bearer_auth(token).send().await?;
    ensure!(resp.status() == 200, "GET {url}: {}", resp.status());
    let (mut bytes, mut rows, mut body) = (0u64, 0u64, String::new());
    while let Some(chunk) = resp.chunk().await.context("the export was cut off")? {
        bytes += chunk.len() as u64;
        rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if keep {
            body.push_str(std::str::from_utf8(&chunk)?);
        }
    }
    Ok(Measured {
        wall: t.elapsed(),
        bytes,
        rows,
        body,
    })
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

async fn run_on(report: &mut Report, backend: &Backend, db: &Db, quick: bool) -> Result<()> {
    let env = Env::start(db).await?;
    let label = backend.label();
    let months = months(quick);
    let t = Instant::now();
    for m in &months {
        seed(&db.url, env.installation, m).await?;
    }
    let seeded = t.elapsed();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1800))
        .build()?;
    let token = env.merchant.token.clone();
    let mut growth = Vec::new();
    for m in &months {
        // A fresh server per month: its peak RSS is this month's alone.
        let node = Wharf::start(&db.url, &env.args);
        let (_, idle) = memory_kib(node.pid())?;
        let base = format!("{}/v1/reconciliation/{}", node.base_url, m.period);
        let csv = get(&http, &format!("{base}/variances.csv"), &token, false).await?;
        let (after_csv, _) = memory_kib(node.pid())?;
        let summary = get(&http, &format!("{base}/summary.csv"), &token, true).await?;
        let xlsx = get(&http, &format!("{base}/variances.xlsx"), &token, false).await?;
        let (peak, _) = memory_kib(node.pid())?;
        node.kill();

        // What the export must hold: every settled order, unmatched line, overdue order.
        let overdue = m.orders / 100;
        let expected_rows = 1 + m.settled_orders() + m.unmatched() + overdue;
        ensure!(
            csv.rows as i64 == expected_rows,
            "{label} {}: variance CSV has {} rows, expected {expected_rows}",
            m.period,
            csv.rows
        );
        let (orders, red) = summary_counts(&summary.body)?;
        ensure!(
            orders == m.settled_orders(),
            "{label} {}: summary judged {orders} orders, seeded {} settled",
            m.period,
            m.settled_orders()
        );
        growth.push((m, idle, after_csv, peak));
        report.row(
            W,
            &format!(
                "{label}: {} — {} orders, {} settlement lines: variances.csv (streamed)",
                m.period,
                thousands(m.orders as u64),
                thousands(m.lines as u64)
            ),
            format!(
                "{:.1} s · {} rows · {:.1} MB · {} red · peak RSS {} (idle {})",
                csv.wall.as_secs_f64(),
                thousands(csv.rows),
                csv.bytes as f64 / 1e6,
                thousands(red as u64),
                mib(after_csv),
                mib(idle)
            ),
        );
        report.row(
            W,
            &format!("{label}: {} — summary.csv, variances.xlsx", m.period),
            format!(
                "summary {:.1} s · xlsx {:.1} s, {:.1} MB · peak RSS {}",
                summary.wall.as_secs_f64(),
                xlsx.wall.as_secs_f64(),
                xlsx.bytes as f64 / 1e6,
                mib(peak)
            ),
        );
    }
    let (small, big) = (&growth[0], &growth[1]);
    let ratio = |s: u64, b: u64| b as f64 / s.max(1) as f64;
    let (csv_growth, all_growth) = (ratio(small.2, big.2), ratio(small.3, big.3));
    let lines_ratio = big.0.lines as f64 / small.0.lines as f64;
    let over_idle = |g: &(&Month, u64, u64, u64)| mib(g.2.saturating_sub(g.1));
    report.target(
        W,
        &format!(
            "{label}: peak RSS of the CSV export at {} ÷ at {} lines ({lines_ratio:.0}× the lines)",
            thousands(big.0.lines as u64),
            thousands(small.0.lines as u64)
        ),
        format!(
            "{:.2}× (over idle: +{} → +{})",
            csv_growth,
            over_idle(small),
            over_idle(big)
        ),
        "flat (≤ 1.25×)",
        csv_growth <= 1.25,
    );
    report.row(
        W,
        &format!("{label}: the same with the summary and XLSX exports"),
        format!("{:.2}×", all_growth),
    );
    report.note(format!(
        "Reconcile ({label}): seeding both months took {:.0} s (not measured). Each month is \
         reconciled by a fresh `wharf serve`; idle RSS is read before the first request.",
        seeded.as_secs_f64()
    ));
    drop(env);
    Ok(())
}

/// Σ orders and red orders of the summary CSV.
fn summary_counts(csv: &str) -> Result<(i64, i64)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().context("empty summary")?.split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("summary has no {name}"))
    };
    let (o, r) = (col("orders")?, col("red_orders")?);
    let (mut orders, mut red) = (0, 0);
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        orders += cells[o].parse::<i64>()?;
        red += cells[r].parse::<i64>()?;
    }
    Ok((orders, red))
}

/// Seed one month for the installation: orders (one order line each), settlement lines,
/// payouts (one per day, one of them off by one unit).
async fn seed(url: &str, installation: i64, m: &Month) -> Result<()> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await?;
    let row = sqlx::query("SELECT merchant_id, platform, shop FROM installations WHERE id = $1")
        .bind(installation)
        .fetch_one(&pool)
        .await?;
    let merchant: i64 = row.try_get("merchant_id")?;
    let platform: String = row.try_get("platform")?;
    let shop: String = row.try_get("shop")?;
    ensure!(
        !shop.contains('\'') && !platform.contains('\''),
        "unexpected quote in the shop name"
    );
    let p = m.prefix();
    let start = m.start;
    let n = m.orders;
    // i: order number 1..=n. Paid 100.00–1000.00; created within the first 26 days, so
    // settlement (3 days after shipment, the Shopify default) falls due in the month.
    let paid = "(10000 + (i * 37) % 90000)";
    let span = 26 * DAY; // a literal over 2^31: BIGINT on PostgreSQL
    let created = format!("({start} + (i * 7919) % {span})");
    // The numbers 1..=upto as `n(var)`, BIGINT on PostgreSQL (products overflow INT).
    let count = |var: &str, upto: i64| {
        format!(
            "WITH RECURSIVE n({var}) AS (SELECT CAST(1 AS BIGINT) UNION ALL \
             SELECT {var} + 1 FROM n WHERE {var} < {upto}) "
        )
    };
    let orders = format!(
        "{} INSERT INTO orders (merchant_id, installation_id, platform, shop, external_id, number, \
         status, raw_status, currency, created_at, updated_at, shipping_fee_minor, \
         shipping_fee_currency, discount_minor, discount_currency, tax_minor, tax_currency, \
         total_paid_minor, total_paid_currency, tags, flagged, flags, content_sha256, \
         ingested_at, last_ingested_at) \
         SELECT {merchant}, {installation}, '{platform}', '{shop}', '{p}-' || CAST(i AS TEXT), \
         '#{p}' || CAST(i AS TEXT), 'completed', 'fulfilled', 'CNY', {created}, {created} + {HOUR}, \
         0, 'CNY', (i % 5) * 100, 'CNY', 0, 'CNY', {paid}, 'CNY', '[]', 0, '[]', 'seed', \
         {created}, {created} FROM n",
        count("i", n)
    );
    sqlx::query(&orders)
        .execute(&pool)
        .await
        .context("seeding orders")?;
    let order_lines = format!(
        "INSERT INTO order_lines (order_id, line_no, line_id, sku, channel_sku, title, quantity, \
         unit_price_minor, unit_price_currency, discount_minor, discount_currency) \
         SELECT id, 1, 'L1', 'SKU-' || CAST(id % 1000 AS TEXT), 'SKU-' || CAST(id % 1000 AS TEXT), \
         'Item', 1, total_paid_minor, 'CNY', 0, 'CNY' FROM orders \
         WHERE installation_id = {installation} AND number LIKE '#{p}%'"
    );
    sqlx::query(&order_lines)
        .execute(&pool)
        .await
        .context("seeding order lines")?;
    // Line j (1..=lines) goes to settled order k = (j − 1) mod M + 1, in rounds r =
    // (j − 1) div M: sale, commission, platform discount, then refunds for the rest.
    // Settled order k is order i = k + (k − 1) div 99 (every 100th order never settles).
    let settled = m.settled_orders();
    let i = format!("(((j - 1) % {settled} + 1) + ((j - 1) % {settled}) / 99)");
    let r = format!("((j - 1) / {settled})");
    let paid_j = paid.replace('i', &i);
    let created_j = created.replace("(i *", &format!("({i} *"));
    let gross = format!(
        "CASE {r} WHEN 0 THEN {paid_j} WHEN 1 THEN -({paid_j} * 5 / 100) \
         WHEN 2 THEN ({i} % 7) * 100 ELSE -({paid_j} / 10) END"
    );
    let fee = format!("CASE {r} WHEN 0 THEN {paid_j} * 2 / 100 ELSE 0 END");
    let kind = format!(
        "CASE {r} WHEN 0 THEN 'sale' WHEN 1 THEN 'commission' WHEN 2 THEN 'platform_discount' \
         ELSE 'refund' END"
    );
    let settled_at = format!("({created_j} + {DAY} + {r} * {HOUR})");
    let lines = format!(
        "{} INSERT INTO settlement_lines (merchant_id, installation_id, line_id, order_external_id, \
         kind, gross_minor, gross_currency, fee_minor, fee_currency, net_minor, net_currency, \
         settled_at, payout_id, imported_at, updated_at) \
         SELECT {merchant}, {installation}, '{p}-L' || CAST(j AS TEXT), \
         CASE WHEN j % 2000 = 1 THEN 'X{p}-' || CAST(j AS TEXT) ELSE '{p}-' || CAST({i} AS TEXT) END, \
         {kind}, {gross}, 'CNY', {fee}, 'CNY', \
         ({gross}) - ({fee}) + CASE WHEN j % 5000 = 2 THEN 1 ELSE 0 END, 'CNY', \
         {settled_at}, 'PO-{p}-' || CAST(({settled_at} - {start}) / {DAY} AS TEXT), \
         {start}, {start} FROM n",
        count("j", m.lines)
    );
    sqlx::query(&lines)
        .execute(&pool)
        .await
        .context("seeding settlement lines")?;
    let payouts = format!(
        "INSERT INTO payouts (merchant_id, installation_id, payout_id, amount_minor, currency, \
         paid_at, status, imported_at, updated_at) \
         SELECT {merchant}, {installation}, payout_id, CAST(SUM(net_minor) AS BIGINT) \
         + CASE WHEN payout_id = 'PO-{p}-5' THEN 1 ELSE 0 END, 'CNY', MAX(settled_at) + {HOUR}, \
         'paid', {start}, {start} FROM settlement_lines \
         WHERE installation_id = {installation} AND payout_id LIKE 'PO-{p}-%' GROUP BY payout_id"
    );
    sqlx::query(&payouts)
        .execute(&pool)
        .await
        .context("seeding payouts")?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    let got: i64 = sqlx::query(&format!(
        "SELECT COUNT(*) FROM settlement_lines WHERE line_id LIKE '{p}-L%'"
    ))
    .fetch_one(&pool)
    .await?
    .try_get(0)?;
    ensure!(got == m.lines, "seeded {got} lines, meant {}", m.lines);
    pool.close().await;
    Ok(())
}
