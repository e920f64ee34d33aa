//! Reconciliation reads: a period's report (expected vs actual net per order, unmatched
//! lines, overdue orders, payout checks, data-quality issues, summary per installation
//! and currency) and the revenue analysis per channel and day. The store selects; the
//! maths is `wharf_domain::reconcile`.
//!
//! The report streams: [`Store::reconcile_stream`] reads the period's lines through one
//! cursor ordered by order and hands each judged order, unmatched line, payout check,
//! data-quality issue and overdue order to a [`ReconcileSink`] as soon as it is known, so
//! memory holds one order's lines and the summary rows whatever the period's size (the
//! exports write straight to their files). [`Store::reconciliation`] collects the same
//! records into one [`ReconciliationReport`].
//!
//! Which orders a period judges: every order with a settlement line settled in
//! `[start, end)`, taking all of its lines settled before `end` (so a sale settled in one
//! period and its commission in the next are judged together once both are in). Unmatched
//! lines, data-quality issues and payouts are those of the period itself. An order is
//! overdue in a period when its settlement fell due in it (its last platform update in a
//! shipped/completed status, per the rule's `settle_from`, plus `settle_after_days`), is
//! already due now, and it has no settlement line at all.

use std::collections::{BTreeMap, HashMap};

use futures::TryStreamExt;

use serde::Serialize;
use utoipa::ToSchema;
use wharf_domain::reconcile::{
    self, check_line, check_payout, DataIssue, ExpectedNet, NetRule, OrderAmounts, PayoutCheck,
    SettleFrom,
};
use wharf_domain::settlement::{Payout, SettlementKind, SettlementLine};
use wharf_domain::Money;

use crate::db::{col, from_json};
use crate::{Store, StoreError};

const DAY_MS: i64 = 86_400_000;
/// At most this many overdue orders listed per installation and period.
const MAX_OVERDUE: i64 = 10_000;

/// Expected vs actual net of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderVariance {
    pub installation_id: i64,
    pub platform: String,
    pub shop: String,
    pub order_id: i64,
    pub external_id: String,
    pub currency: String,
    pub paid: i64,
    pub expected: ExpectedNet,
    pub actual_net: i64,
    /// `actual_net − expected.total`.
    pub variance: i64,
    /// |variance| over the merchant's threshold.
    pub red: bool,
    pub line_count: i64,
}

/// A settlement line that names no order, or an order Wharf does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnmatchedLine {
    pub installation_id: i64,
    pub line: SettlementLine,
}

/// An order whose settlement is due by the channel's cycle but has not come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OverdueOrder {
    pub installation_id: i64,
    pub order_id: i64,
    pub external_id: String,
    pub status: String,
    pub currency: String,
    pub total_paid: i64,
    /// When it shipped/completed (the platform's last update), Unix ms.
    pub since: i64,
    /// When settlement was due, Unix ms.
    pub due_at: i64,
}

/// A payout checked against its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PayoutReport {
    pub installation_id: i64,
    pub paid_at: i64,
    pub status: String,
    #[serde(flatten)]
    pub check: PayoutCheck,
}

/// A data-quality issue with the installation it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InstallationIssue {
    pub installation_id: i64,
    #[serde(flatten)]
    pub issue: DataIssue,
}

/// Totals of a period per installation and currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SummaryRow {
    pub installation_id: i64,
    pub platform: String,
    pub shop: String,
    pub currency: String,
    pub orders: i64,
    pub red_orders: i64,
    pub expected_net: i64,
    pub actual_net: i64,
    pub variance: i64,
    pub unmatched_lines: i64,
    pub unmatched_net: i64,
    pub overdue_orders: i64,
    pub payouts: i64,
    pub payout_mismatches: i64,
    pub data_issues: i64,
}

/// A period's reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReconciliationReport {
    pub period_start: i64,
    pub period_end: i64,
    pub variance_threshold_minor: i64,
    pub summary: Vec<SummaryRow>,
    pub orders: Vec<OrderVariance>,
    pub unmatched: Vec<UnmatchedLine>,
    pub overdue: Vec<OverdueOrder>,
    pub payouts: Vec<PayoutReport>,
    pub data_quality: Vec<InstallationIssue>,
}

/// Revenue of one group (channel and/or day, always per currency).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RevenueRow {
    /// Set when grouped by channel (installation).
    pub installation_id: Option<i64>,
    pub platform: Option<String>,
    pub shop: Option<String>,
    /// Local day `YYYY-MM-DD`, when grouped by day.
    pub day: Option<String>,
    pub currency: String,
    /// Σ gross of sale lines.
    pub gross: i64,
    /// Fees withheld plus commission lines (a positive cost).
    pub fees: i64,
    /// Refunded (positive).
    pub refunds: i64,
    /// Platform discounts, shipping subsidies and adjustments.
    pub other: i64,
    /// Σ net of all lines: what the channel paid.
    pub net: i64,
    pub lines: i64,
    /// Σ quantity × unit cost of the settled orders' lines; `null` when any SKU has no
    /// cost (or one in another currency) — unknown, not zero.
    pub cost_of_goods: Option<i64>,
    /// `net − cost_of_goods`; `null` when the cost is unknown.
    pub margin: Option<i64>,
    /// Sale lines whose order (and so whose cost) Wharf does not know.
    pub sales_without_order: i64,
}

/// How to group revenue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevenueGroup {
    pub channel: bool,
    pub day: bool,
}

struct Inst {
    platform: String,
    shop: String,
    rule: NetRule,
}

/// One record of a streamed reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Order(OrderVariance),
    Unmatched(UnmatchedLine),
    Issue(InstallationIssue),
    Payout(PayoutReport),
    Overdue(OverdueOrder),
}

/// Where [`Store::reconcile_stream`] sends its records (a file, an HTTP body, a report).
pub trait ReconcileSink: Send {
    /// The sink's own failure; the store's failures convert into it.
    type Error: From<StoreError> + Send;

    /// Take one record; an error stops the stream.
    fn record(
        &mut self,
        record: Record,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send;
}

/// What a streamed reconciliation adds up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileTotals {
    pub period_start: i64,
    pub period_end: i64,
    pub variance_threshold_minor: i64,
    pub summary: Vec<SummaryRow>,
}

/// A reconciliation ready to stream: the period, the installations in scope with their
/// rules, and the merchant's threshold.
pub struct ReconcilePlan {
    merchant_id: i64,
    start: i64,
    end: i64,
    now: i64,
    threshold: i64,
    insts: BTreeMap<i64, Inst>,
}

impl ReconcilePlan {
    /// The platform and shop of an installation in scope.
    pub fn channel(&self, installation_id: i64) -> Option<(&str, &str)> {
        self.insts
            .get(&installation_id)
            .map(|i| (i.platform.as_str(), i.shop.as_str()))
    }

    pub fn period(&self) -> (i64, i64) {
        (self.start, self.end)
    }

    pub fn variance_threshold_minor(&self) -> i64 {
        self.threshold
    }
}

/// Collects the records into a report's lists.
#[derive(Default)]
struct Collect {
    orders: Vec<OrderVariance>,
    unmatched: Vec<UnmatchedLine>,
    overdue: Vec<OverdueOrder>,
    payouts: Vec<PayoutReport>,
    data_quality: Vec<InstallationIssue>,
}

impl ReconcileSink for Collect {
    type Error = StoreError;

    async fn record(&mut self, record: Record) -> Result<(), StoreError> {
        match record {
            Record::Order(o) => self.orders.push(o),
            Record::Unmatched(u) => self.unmatched.push(u),
            Record::Issue(i) => self.data_quality.push(i),
            Record::Payout(p) => self.payouts.push(p),
            Record::Overdue(o) => self.overdue.push(o),
        }
        Ok(())
    }
}

/// An order whose lines are being read.
struct Pending {
    order_id: i64,
    inst: i64,
    external_id: String,
    amounts: OrderAmounts,
    lines: Vec<SettlementLine>,
}

/// Judge an order once all its lines are in: expected vs actual, added to the summary.
fn judge(
    p: Pending,
    insts: &BTreeMap<i64, Inst>,
    threshold: i64,
    summary: &mut BTreeMap<(i64, String), SummaryRow>,
) -> OrderVariance {
    let i = &insts[&p.inst];
    let refs: Vec<&SettlementLine> = p.lines.iter().collect();
    let expected = reconcile::expected_net(&i.rule, &p.amounts, &refs);
    let actual = reconcile::actual_net(&refs);
    let variance = actual - expected.total;
    let red = reconcile::is_red(variance, threshold);
    let s = row(summary, insts, p.inst, &p.amounts.currency);
    s.orders += 1;
    s.red_orders += i64::from(red);
    s.expected_net += expected.total;
    s.actual_net += actual;
    s.variance += variance;
    OrderVariance {
        installation_id: p.inst,
        platform: i.platform.clone(),
        shop: i.shop.clone(),
        order_id: p.order_id,
        external_id: p.external_id,
        currency: p.amounts.currency,
        paid: p.amounts.total_paid,
        expected,
        actual_net: actual,
        variance,
        red,
        line_count: p.lines.len() as i64,
    }
}

fn line_from_row(r: &sqlx::any::AnyRow) -> Result<SettlementLine, StoreError> {
    let kind: String = col(r, "kind")?;
    Ok(SettlementLine {
        line_id: col(r, "line_id")?,
        order_external_id: col(r, "order_external_id")?,
        kind: SettlementKind::parse(&kind)
            .ok_or_else(|| StoreError::corrupt(format!("settlement kind {kind:?}")))?,
        gross: Money::new(col(r, "gross_minor")?, col::<String>(r, "gross_currency")?),
        fee: Money::new(col(r, "fee_minor")?, col::<String>(r, "fee_currency")?),
        net: Money::new(col(r, "net_minor")?, col::<String>(r, "net_currency")?),
        settled_at: col(r, "settled_at")?,
        payout_id: col(r, "payout_id")?,
    })
}

/// The summary row of (installation, currency), created on first use.
fn row<'a>(
    summary: &'a mut BTreeMap<(i64, String), SummaryRow>,
    insts: &BTreeMap<i64, Inst>,
    inst: i64,
    currency: &str,
) -> &'a mut SummaryRow {
    summary
        .entry((inst, currency.to_string()))
        .or_insert_with(|| {
            let i = insts.get(&inst);
            SummaryRow {
                installation_id: inst,
                platform: i.map(|i| i.platform.clone()).unwrap_or_default(),
                shop: i.map(|i| i.shop.clone()).unwrap_or_default(),
                currency: currency.to_string(),
                ..SummaryRow::default()
            }
        })
}

const LINE_COLS: &str =
    "l.installation_id, l.line_id, l.order_external_id, l.kind, l.gross_minor, \
     l.gross_currency, l.fee_minor, l.fee_currency, l.net_minor, l.net_currency, l.settled_at, \
     l.payout_id";

impl Store {
    /// The merchant's installations (optionally one) with their rules.
    async fn reconcile_installations(
        &self,
        merchant_id: i64,
        only: Option<i64>,
    ) -> Result<BTreeMap<i64, Inst>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.id, i.platform, i.shop, r.rule FROM installations i \
             LEFT JOIN settlement_rules r ON r.installation_id = i.id \
             WHERE i.merchant_id = $1 ORDER BY i.id",
        )
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        let mut out = BTreeMap::new();
        for r in &rows {
            let id: i64 = col(r, "id")?;
            if only.is_some_and(|o| o != id) {
                continue;
            }
            let platform: String = col(r, "platform")?;
            let rule = match col::<Option<String>>(r, "rule")? {
                Some(text) => from_json("settlement_rules.rule", &text)?,
                None => NetRule::default_for(&platform),
            };
            out.insert(
                id,
                Inst {
                    platform,
                    shop: col(r, "shop")?,
                    rule,
                },
            );
        }
        if let Some(id) = only {
            if !out.contains_key(&id) {
                return Err(StoreError::NotFound(format!("installation {id}")));
            }
        }
        Ok(out)
    }

    /// Plan the reconciliation of `[start, end)` for the merchant (optionally one
    /// installation — `NotFound` if it is not the merchant's), judged at `now`: the rules
    /// and the threshold, read before anything is streamed.
    pub async fn reconcile_plan(
        &self,
        merchant_id: i64,
        start: i64,
        end: i64,
        installation: Option<i64>,
        now: i64,
    ) -> Result<ReconcilePlan, StoreError> {
        let insts = self
            .reconcile_installations(merchant_id, installation)
            .await?;
        let threshold = self
            .reconciliation_settings(merchant_id)
            .await?
            .variance_threshold_minor;
        Ok(ReconcilePlan {
            merchant_id,
            start,
            end,
            now,
            threshold,
            insts,
        })
    }

    /// The reconciliation of `[start, end)` for the merchant (optionally one
    /// installation), judged at `now`, collected into one report (orders by id). Holds
    /// every judged order in memory: large periods stream with [`Store::reconcile_stream`].
    pub async fn reconciliation(
        &self,
        merchant_id: i64,
        start: i64,
        end: i64,
        installation: Option<i64>,
        now: i64,
    ) -> Result<ReconciliationReport, StoreError> {
        let plan = self
            .reconcile_plan(merchant_id, start, end, installation, now)
            .await?;
        self.reconcile_report(&plan).await
    }

    /// The planned reconciliation collected into one report (orders by id).
    pub async fn reconcile_report(
        &self,
        plan: &ReconcilePlan,
    ) -> Result<ReconciliationReport, StoreError> {
        let mut sink = Collect::default();
        let totals = self.reconcile_stream(plan, &mut sink).await?;
        let Collect {
            mut orders,
            unmatched,
            overdue,
            payouts,
            data_quality,
        } = sink;
        orders.sort_by_key(|o| o.order_id);
        Ok(ReconciliationReport {
            period_start: totals.period_start,
            period_end: totals.period_end,
            variance_threshold_minor: totals.variance_threshold_minor,
            summary: totals.summary,
            orders,
            unmatched,
            overdue,
            payouts,
            data_quality,
        })
    }

    /// Stream the planned reconciliation into `sink`, one record at a time, and return
    /// the totals. Memory holds one order's lines and the summary rows, never the
    /// period: lines are read through one cursor ordered by order, each order judged
    /// when its last line has been read.
    ///
    /// Records come in this order: for each line of the period (by installation and
    /// order reference) its data-quality issues, then the line as unmatched or, after
    /// the order's last line, the order's variance; then each payout's issue and check;
    /// then the overdue orders.
    pub async fn reconcile_stream<S: ReconcileSink>(
        &self,
        plan: &ReconcilePlan,
        sink: &mut S,
    ) -> Result<ReconcileTotals, S::Error> {
        let insts = &plan.insts;
        let (merchant_id, start, end) = (plan.merchant_id, plan.start, plan.end);
        let threshold = plan.threshold;
        let mut summary: BTreeMap<(i64, String), SummaryRow> = BTreeMap::new();
        // Lines of the period, plus the earlier lines of the orders they touch.
        let sql = format!(
            "SELECT {LINE_COLS}, o.id AS order_id, o.currency AS order_currency, \
             o.total_paid_minor, o.discount_minor, \
             (SELECT CAST(COALESCE(SUM(ol.discount_minor), 0) AS BIGINT) FROM order_lines ol \
              WHERE ol.order_id = o.id) AS line_discounts \
             FROM settlement_lines l \
             JOIN installations i ON i.id = l.installation_id \
             LEFT JOIN orders o ON o.merchant_id = l.merchant_id AND o.platform = i.platform \
               AND o.shop = i.shop AND o.external_id = l.order_external_id \
             WHERE l.merchant_id = $1 AND l.settled_at < $3 AND (l.settled_at >= $2 OR \
               (l.order_external_id IS NOT NULL AND EXISTS (SELECT 1 FROM settlement_lines p \
                WHERE p.installation_id = l.installation_id \
                AND p.order_external_id = l.order_external_id \
                AND p.settled_at >= $2 AND p.settled_at < $3))) \
             ORDER BY l.installation_id, l.order_external_id, l.settled_at, l.id"
        );
        {
            let mut rows = sqlx::query(&sql)
                .bind(merchant_id)
                .bind(start)
                .bind(end)
                .fetch(&self.read);
            // The order whose lines are being read.
            let mut current: Option<Pending> = None;
            while let Some(r) = rows.try_next().await.map_err(StoreError::from)? {
                let inst: i64 = col(&r, "installation_id")?;
                if !insts.contains_key(&inst) {
                    continue;
                }
                let line = line_from_row(&r)?;
                let order_id = col::<Option<i64>>(&r, "order_id")?;
                if current.as_ref().map(|p| p.order_id) != order_id {
                    if let Some(done) = current.take() {
                        let v = judge(done, insts, threshold, &mut summary);
                        sink.record(Record::Order(v)).await?;
                    }
                }
                let in_period = line.settled_at >= start;
                if in_period {
                    let issues = check_line(&line);
                    row(&mut summary, insts, inst, &line.net.currency).data_issues +=
                        issues.len() as i64;
                    for issue in issues {
                        sink.record(Record::Issue(InstallationIssue {
                            installation_id: inst,
                            issue,
                        }))
                        .await?;
                    }
                }
                let Some(order_id) = order_id else {
                    if in_period {
                        let s = row(&mut summary, insts, inst, &line.net.currency);
                        s.unmatched_lines += 1;
                        s.unmatched_net += line.net.minor;
                        sink.record(Record::Unmatched(UnmatchedLine {
                            installation_id: inst,
                            line,
                        }))
                        .await?;
                    }
                    continue;
                };
                let currency: String = col(&r, "order_currency")?;
                if line.net.currency != currency && in_period {
                    row(&mut summary, insts, inst, &line.net.currency).data_issues += 1;
                    sink.record(Record::Issue(InstallationIssue {
                        installation_id: inst,
                        issue: DataIssue {
                            code: "currency_mismatch".into(),
                            reference: line.line_id.clone(),
                            message: format!(
                                "line in {} for an order in {currency}: left out of the order's net",
                                line.net.currency
                            ),
                        },
                    }))
                    .await?;
                }
                let pending = match &mut current {
                    Some(p) => p,
                    None => {
                        let discount: i64 = col(&r, "discount_minor")?;
                        let line_discounts: i64 = col(&r, "line_discounts")?;
                        current.insert(Pending {
                            order_id,
                            inst,
                            external_id: line.order_external_id.clone().unwrap_or_default(),
                            amounts: OrderAmounts {
                                currency: currency.clone(),
                                total_paid: col(&r, "total_paid_minor")?,
                                merchant_discount: discount + line_discounts,
                            },
                            lines: Vec::new(),
                        })
                    }
                };
                if line.net.currency == currency {
                    pending.lines.push(line);
                }
            }
            if let Some(done) = current.take() {
                let v = judge(done, insts, threshold, &mut summary);
                sink.record(Record::Order(v)).await?;
            }
        }
        // Payouts of the period against the lines that name them.
        {
            let mut rows = sqlx::query(
                "SELECT p.installation_id, p.payout_id, p.amount_minor, p.currency, p.paid_at, p.status, \
                 (SELECT CAST(COALESCE(SUM(l.net_minor), 0) AS BIGINT) FROM settlement_lines l \
                  WHERE l.installation_id = p.installation_id AND l.payout_id = p.payout_id) AS lines_net, \
                 (SELECT COUNT(*) FROM settlement_lines l \
                  WHERE l.installation_id = p.installation_id AND l.payout_id = p.payout_id) AS line_count \
                 FROM payouts p WHERE p.merchant_id = $1 AND p.paid_at >= $2 AND p.paid_at < $3 \
                 ORDER BY p.paid_at, p.id",
            )
            .bind(merchant_id)
            .bind(start)
            .bind(end)
            .fetch(&self.read);
            while let Some(r) = rows.try_next().await.map_err(StoreError::from)? {
                let inst: i64 = col(&r, "installation_id")?;
                if !insts.contains_key(&inst) {
                    continue;
                }
                let payout = Payout {
                    payout_id: col(&r, "payout_id")?,
                    amount: Money::new(col(&r, "amount_minor")?, col::<String>(&r, "currency")?),
                    paid_at: col(&r, "paid_at")?,
                    status: col(&r, "status")?,
                };
                let (check, issue) =
                    check_payout(&payout, col(&r, "lines_net")?, col(&r, "line_count")?);
                let s = row(&mut summary, insts, inst, &payout.amount.currency);
                s.payouts += 1;
                s.payout_mismatches += i64::from(!check.ok);
                s.data_issues += i64::from(issue.is_some());
                if let Some(issue) = issue {
                    sink.record(Record::Issue(InstallationIssue {
                        installation_id: inst,
                        issue,
                    }))
                    .await?;
                }
                sink.record(Record::Payout(PayoutReport {
                    installation_id: inst,
                    paid_at: payout.paid_at,
                    status: payout.status,
                    check,
                }))
                .await?;
            }
        }
        // Orders due by the channel's cycle within the period with no settlement at all.
        let horizon = end.min(plan.now);
        for (&inst, i) in insts {
            let lag = i64::from(i.rule.settle_after_days) * DAY_MS;
            let (from, to) = (start - lag, horizon - lag);
            if to <= from {
                continue;
            }
            let statuses = match i.rule.settle_from {
                SettleFrom::Shipment => "'shipped', 'completed'",
                SettleFrom::Completion => "'completed'",
            };
            let sql = format!(
                "SELECT o.id, o.external_id, o.status, o.currency, o.total_paid_minor, o.updated_at \
                 FROM orders o WHERE o.installation_id = $1 AND o.status IN ({statuses}) \
                 AND o.updated_at >= $2 AND o.updated_at < $3 \
                 AND NOT EXISTS (SELECT 1 FROM settlement_lines l \
                   WHERE l.installation_id = o.installation_id AND l.order_external_id = o.external_id) \
                 ORDER BY o.updated_at, o.id LIMIT $4"
            );
            let mut rows = sqlx::query(&sql)
                .bind(inst)
                .bind(from)
                .bind(to)
                .bind(MAX_OVERDUE)
                .fetch(&self.read);
            while let Some(r) = rows.try_next().await.map_err(StoreError::from)? {
                let since: i64 = col(&r, "updated_at")?;
                let currency: String = col(&r, "currency")?;
                row(&mut summary, insts, inst, &currency).overdue_orders += 1;
                sink.record(Record::Overdue(OverdueOrder {
                    installation_id: inst,
                    order_id: col(&r, "id")?,
                    external_id: col(&r, "external_id")?,
                    status: col(&r, "status")?,
                    currency,
                    total_paid: col(&r, "total_paid_minor")?,
                    since,
                    due_at: since + lag,
                }))
                .await?;
            }
        }
        Ok(ReconcileTotals {
            period_start: start,
            period_end: end,
            variance_threshold_minor: threshold,
            summary: summary.into_values().collect(),
        })
    }

    /// Revenue of settlement lines settled in `[start, end)`, grouped as asked (always
    /// per currency), days taken at `utc_offset_minutes`.
    pub async fn revenue(
        &self,
        merchant_id: i64,
        start: i64,
        end: i64,
        utc_offset_minutes: i32,
        group: RevenueGroup,
    ) -> Result<Vec<RevenueRow>, StoreError> {
        let offset = i64::from(utc_offset_minutes) * 60_000;
        let insts = self.reconcile_installations(merchant_id, None).await?;
        // Local day numbers: settled_at ≥ 0, so integer division is the floor.
        let rows = sqlx::query(
            "SELECT l.installation_id, CAST((l.settled_at + $4) / 86400000 AS BIGINT) AS day, \
             l.net_currency AS currency, \
             CAST(SUM(CASE WHEN l.kind = 'sale' THEN l.gross_minor ELSE 0 END) AS BIGINT) AS gross, \
             CAST(SUM(l.fee_minor) - SUM(CASE WHEN l.kind = 'commission' THEN l.gross_minor ELSE 0 END) AS BIGINT) AS fees, \
             CAST(-SUM(CASE WHEN l.kind = 'refund' THEN l.gross_minor ELSE 0 END) AS BIGINT) AS refunds, \
             CAST(SUM(CASE WHEN l.kind IN ('platform_discount', 'shipping_subsidy', 'adjustment') \
               THEN l.gross_minor ELSE 0 END) AS BIGINT) AS other, \
             CAST(SUM(l.net_minor) AS BIGINT) AS net, COUNT(*) AS lines \
             FROM settlement_lines l WHERE l.merchant_id = $1 AND l.settled_at >= $2 AND l.settled_at < $3 \
             GROUP BY l.installation_id, CAST((l.settled_at + $4) / 86400000 AS BIGINT), l.net_currency",
        )
        .bind(merchant_id)
        .bind(start)
        .bind(end)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        type Key = (Option<i64>, Option<i64>, String);
        let key = |inst: i64, day: i64, currency: String| -> Key {
            (
                group.channel.then_some(inst),
                group.day.then_some(day),
                currency,
            )
        };
        let mut groups: BTreeMap<Key, RevenueRow> = BTreeMap::new();
        for r in &rows {
            let inst: i64 = col(r, "installation_id")?;
            let day: i64 = col(r, "day")?;
            let currency: String = col(r, "currency")?;
            let g = groups.entry(key(inst, day, currency.clone())).or_default();
            g.currency = currency;
            g.gross += col::<i64>(r, "gross")?;
            g.fees += col::<i64>(r, "fees")?;
            g.refunds += col::<i64>(r, "refunds")?;
            g.other += col::<i64>(r, "other")?;
            g.net += col::<i64>(r, "net")?;
            g.lines += col::<i64>(r, "lines")?;
            g.cost_of_goods = Some(0);
        }
        // Cost of goods: each order once, on the day of its first sale line in the range.
        let rows = sqlx::query(
            "SELECT l.installation_id, CAST((l.settled_at + $4) / 86400000 AS BIGINT) AS day, \
             l.net_currency AS currency, l.settled_at, o.id AS order_id, ol.sku, ol.quantity, \
             c.unit_cost_minor, c.currency AS cost_currency \
             FROM settlement_lines l JOIN installations i ON i.id = l.installation_id \
             LEFT JOIN orders o ON o.merchant_id = l.merchant_id AND o.platform = i.platform \
               AND o.shop = i.shop AND o.external_id = l.order_external_id \
             LEFT JOIN order_lines ol ON ol.order_id = o.id \
             LEFT JOIN sku_costs c ON c.merchant_id = l.merchant_id AND c.sku = ol.sku \
             WHERE l.merchant_id = $1 AND l.kind = 'sale' AND l.settled_at >= $2 AND l.settled_at < $3 \
             ORDER BY l.settled_at, l.id, ol.line_no",
        )
        .bind(merchant_id)
        .bind(start)
        .bind(end)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        // order id → the group key it is costed in (first sale line wins).
        let mut costed: HashMap<i64, Key> = HashMap::new();
        for r in &rows {
            let inst: i64 = col(r, "installation_id")?;
            let day: i64 = col(r, "day")?;
            let currency: String = col(r, "currency")?;
            let k = key(inst, day, currency.clone());
            let Some(order_id) = col::<Option<i64>>(r, "order_id")? else {
                if let Some(g) = groups.get_mut(&k) {
                    g.sales_without_order += 1;
                    g.cost_of_goods = None;
                }
                continue;
            };
            let k = costed.entry(order_id).or_insert(k).clone();
            let Some(g) = groups.get_mut(&k) else {
                continue;
            };
            if col::<Option<String>>(r, "sku")?.is_none() {
                continue; // an order without lines costs nothing
            }
            let quantity: i64 = col(r, "quantity")?;
            let cost: Option<i64> = col(r, "unit_cost_minor")?;
            let cost_currency: Option<String> = col(r, "cost_currency")?;
            g.cost_of_goods = match (g.cost_of_goods, cost, cost_currency) {
                (Some(sum), Some(unit), Some(c)) if c == g.currency => {
                    Some(sum + unit.saturating_mul(quantity))
                }
                _ => None,
            };
        }
        Ok(groups
            .into_iter()
            .map(|((inst, day, _), mut g)| {
                if let Some(id) = inst {
                    g.installation_id = Some(id);
                    g.platform = insts.get(&id).map(|i| i.platform.clone());
                    g.shop = insts.get(&id).map(|i| i.shop.clone());
                }
                if let Some(d) = day {
                    let (y, m, dd) = reconcile::civil_from_days(d);
                    g.day = Some(format!("{y:04}-{m:02}-{dd:02}"));
                }
                g.margin = g.cost_of_goods.map(|c| g.net - c);
                g
            })
            .collect())
    }
}
