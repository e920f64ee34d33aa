//! Reconciliation maths: exact allocation of order-level discounts to lines
//! (largest remainder), the merchant's expected-net rule per installation, expected vs
//! actual net of an order, the variance threshold, data-quality checks of settlement lines
//! and payouts, and the calendar of reporting periods in a fixed UTC offset.
//!
//! All amounts are integer minor units; nothing here rounds silently except where a rule
//! says so (commission at a rate, half away from zero) and the allocation, which never
//! loses or invents a minor unit.

use serde::{Deserialize, Serialize};

use crate::settlement::{Payout, SettlementKind, SettlementLine};

// --- allocation ----------------------------------------------------------------------

/// Split `total` over `weights` in proportion, exactly: the parts add up to `total`, each
/// part is the floor of its exact share (towards zero for a negative total) plus at most
/// one unit, and the left-over units go to the largest remainders, ties to the earlier
/// index. Negative weights count as zero; when all weights are zero the split is equal.
/// An empty `weights` gets nothing (and `total` must then be allocated elsewhere).
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let clamped: Vec<i128> = weights.iter().map(|w| i128::from((*w).max(0))).collect();
    let sum: i128 = clamped.iter().sum();
    let (weights, sum) = if sum == 0 {
        (vec![1i128; clamped.len()], clamped.len() as i128)
    } else {
        (clamped, sum)
    };
    let magnitude = i128::from(total).abs();
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = magnitude * w;
        parts.push(exact / sum);
        remainders.push((exact % sum, i));
    }
    let mut left = magnitude - parts.iter().sum::<i128>();
    // Largest remainder first; equal remainders: lower index first (deterministic).
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    let sign: i128 = if total < 0 { -1 } else { 1 };
    parts.into_iter().map(|p| (p * sign) as i64).collect()
}

/// A line of an order for allocation: what it is worth before the order-level discount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAmount {
    pub sku: String,
    pub quantity: u32,
    /// Unit price × quantity − the line's own discount, in minor units.
    pub net_of_line_discount: i64,
}

/// Per-line revenue after allocating the order-level `order_discount` in proportion to the
/// lines' values: the results add up to Σ lines − `order_discount` exactly.
pub fn line_revenue(lines: &[LineAmount], order_discount: i64) -> Vec<i64> {
    let weights: Vec<i64> = lines.iter().map(|l| l.net_of_line_discount).collect();
    allocate(order_discount, &weights)
        .into_iter()
        .zip(lines)
        .map(|(d, l)| l.net_of_line_discount - d)
        .collect()
}

// --- the expected-net rule -----------------------------------------------------------

/// How a component counts towards the expected net.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    Plus,
    Minus,
    Ignore,
}

impl Sign {
    fn apply(self, amount: i64) -> i64 {
        match self {
            Sign::Plus => amount,
            Sign::Minus => -amount,
            Sign::Ignore => 0,
        }
    }
}

/// What starts an order's settlement clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettleFrom {
    /// The order shipped (or completed).
    Shipment,
    /// The order completed (buyer confirmed receipt).
    Completion,
}

/// The merchant's rule for one installation: which components make the expected net of
/// an order, with what sign, and when the channel should have settled it.
///
/// Components (all magnitudes in the order's minor units):
/// - `paid`: what the buyer paid (the order's `total_paid`), counted once the order has a
///   `sale` line;
/// - `commission`: at `commission_rate_bps` of paid, or — when that is `null` — as the
///   platform reports it (fees of all lines plus `commission` lines);
/// - `merchant_discount`: the order's own discounts (order + lines) — most channels' paid
///   is already net of them, hence `ignore` by default;
/// - `platform_discount`, `shipping_subsidy`, `adjustments`: as reported by their lines;
/// - `refunds`: as reported by `refund` lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetRule {
    pub paid: Sign,
    pub commission: Sign,
    /// Commission rate in basis points of paid (500 = 5 %); `null`: as reported.
    #[serde(default)]
    pub commission_rate_bps: Option<u32>,
    pub merchant_discount: Sign,
    pub platform_discount: Sign,
    pub shipping_subsidy: Sign,
    pub refunds: Sign,
    pub adjustments: Sign,
    /// The channel's cycle: settlement is due this many days after `settle_from`.
    pub settle_after_days: u32,
    pub settle_from: SettleFrom,
}

/// Largest settlement cycle accepted, in days.
pub const MAX_SETTLE_DAYS: u32 = 365;

impl NetRule {
    /// The default for a platform (the usual arrangement; merchants adjust it):
    /// commission as reported everywhere, platform-funded discounts and subsidies added
    /// back where the platform funds them, refunds subtracted.
    pub fn default_for(platform: &str) -> NetRule {
        let base = NetRule {
            paid: Sign::Plus,
            commission: Sign::Minus,
            commission_rate_bps: None,
            merchant_discount: Sign::Ignore,
            platform_discount: Sign::Plus,
            shipping_subsidy: Sign::Plus,
            refunds: Sign::Minus,
            adjustments: Sign::Plus,
            settle_after_days: 7,
            settle_from: SettleFrom::Completion,
        };
        match platform {
            // Payments settle a few days after capture; no platform-funded discounts.
            "shopify" | "woocommerce" => NetRule {
                platform_discount: Sign::Ignore,
                shipping_subsidy: Sign::Ignore,
                settle_after_days: 3,
                settle_from: SettleFrom::Shipment,
                ..base
            },
            // Settlement groups close every 14 days after shipment.
            "amazon" => NetRule {
                platform_discount: Sign::Ignore,
                settle_after_days: 14,
                settle_from: SettleFrom::Shipment,
                ..base
            },
            // Funds are released when the buyer confirms receipt.
            "taobao" | "tmall" | "pinduoduo" => NetRule {
                settle_after_days: 1,
                ..base
            },
            _ => base,
        }
    }

    /// Check the rule; the messages say what to fix.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.paid != Sign::Plus {
            errors.push(
                "paid must be \"plus\": the expected net starts from what the buyer paid".into(),
            );
        }
        if self.commission == Sign::Plus {
            errors.push("commission cannot be \"plus\": the platform withholds it".into());
        }
        if self.refunds == Sign::Plus {
            errors.push("refunds cannot be \"plus\": a refund reduces the net".into());
        }
        if let Some(bps) = self.commission_rate_bps {
            if bps > 10_000 {
                errors.push(format!("commission_rate_bps {bps} is over 10000 (100 %)"));
            }
            if self.commission == Sign::Ignore {
                errors.push("commission_rate_bps is set but commission is \"ignore\"".into());
            }
        }
        if self.settle_after_days > MAX_SETTLE_DAYS {
            errors.push(format!(
                "settle_after_days {} is over {MAX_SETTLE_DAYS}",
                self.settle_after_days
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// What the order says (its currency's minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAmounts {
    pub currency: String,
    pub total_paid: i64,
    /// Order-level discount plus the lines' own discounts.
    pub merchant_discount: i64,
}

/// The components of an order's expected net, each already signed by the rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExpectedNet {
    pub paid: i64,
    pub commission: i64,
    pub merchant_discount: i64,
    pub platform_discount: i64,
    pub shipping_subsidy: i64,
    pub refunds: i64,
    pub adjustments: i64,
    pub total: i64,
}

/// `amount × bps / 10000`, rounded half away from zero.
pub fn apply_rate_bps(amount: i64, bps: u32) -> i64 {
    let exact = i128::from(amount) * i128::from(bps);
    let q = exact / 10_000;
    let r = exact % 10_000;
    let rounded = if r.abs() * 2 >= 10_000 {
        q + r.signum()
    } else {
        q
    };
    rounded as i64
}

/// The expected net of an order under `rule`, given its settlement lines (those in the
/// order's currency; the caller reports the others as data-quality issues).
pub fn expected_net(
    rule: &NetRule,
    order: &OrderAmounts,
    lines: &[&SettlementLine],
) -> ExpectedNet {
    let sum_gross = |k: SettlementKind| -> i64 {
        lines
            .iter()
            .filter(|l| l.kind == k)
            .map(|l| l.gross.minor)
            .sum()
    };
    let has_sale = lines.iter().any(|l| l.kind == SettlementKind::Sale);
    let paid = if has_sale { order.total_paid } else { 0 };
    let commission = match rule.commission_rate_bps {
        Some(bps) => apply_rate_bps(paid, bps),
        None => {
            lines.iter().map(|l| l.fee.minor).sum::<i64>() - sum_gross(SettlementKind::Commission)
        }
    };
    let mut e = ExpectedNet {
        paid: rule.paid.apply(paid),
        commission: rule.commission.apply(commission),
        merchant_discount: rule.merchant_discount.apply(if has_sale {
            order.merchant_discount
        } else {
            0
        }),
        platform_discount: rule
            .platform_discount
            .apply(sum_gross(SettlementKind::PlatformDiscount)),
        shipping_subsidy: rule
            .shipping_subsidy
            .apply(sum_gross(SettlementKind::ShippingSubsidy)),
        // Refund lines carry negative gross: the refunded magnitude is its negation.
        refunds: rule.refunds.apply(-sum_gross(SettlementKind::Refund)),
        adjustments: rule
            .adjustments
            .apply(sum_gross(SettlementKind::Adjustment)),
        total: 0,
    };
    e.total = e.paid
        + e.commission
        + e.merchant_discount
        + e.platform_discount
        + e.shipping_subsidy
        + e.refunds
        + e.adjustments;
    e
}

/// What the channel actually settled for an order: the sum of its lines' net.
pub fn actual_net(lines: &[&SettlementLine]) -> i64 {
    lines.iter().map(|l| l.net.minor).sum()
}

/// Default variance threshold: 500 minor units (5.00 in a two-digit currency).
pub const DEFAULT_VARIANCE_THRESHOLD: i64 = 500;

/// Whether a variance (actual − expected) is large enough to mark the order red: its
/// magnitude is strictly over the threshold.
pub fn is_red(variance: i64, threshold: i64) -> bool {
    variance.unsigned_abs() > threshold.unsigned_abs()
}

// --- data quality --------------------------------------------------------------------

/// A settlement record that does not add up. Reported, never corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DataIssue {
    /// `net_mismatch` | `mixed_currency` | `currency_mismatch` | `payout_mismatch`.
    pub code: String,
    /// The settlement line id or payout id concerned.
    pub reference: String,
    pub message: String,
}

/// The issues of one line on its own: `net ≠ gross − fee`, or amounts in more than one
/// currency.
pub fn check_line(line: &SettlementLine) -> Vec<DataIssue> {
    let mut out = Vec::new();
    if line.gross.currency != line.fee.currency || line.gross.currency != line.net.currency {
        out.push(DataIssue {
            code: "mixed_currency".into(),
            reference: line.line_id.clone(),
            message: format!(
                "gross {}, fee {} and net {} are not in one currency",
                line.gross.currency, line.fee.currency, line.net.currency
            ),
        });
    } else if line.gross.minor.checked_sub(line.fee.minor) != Some(line.net.minor) {
        out.push(DataIssue {
            code: "net_mismatch".into(),
            reference: line.line_id.clone(),
            message: format!(
                "net {} ≠ gross {} − fee {} (off by {})",
                line.net.minor,
                line.gross.minor,
                line.fee.minor,
                i128::from(line.net.minor)
                    - (i128::from(line.gross.minor) - i128::from(line.fee.minor))
            ),
        });
    }
    out
}

/// The check of a payout against the lines that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PayoutCheck {
    pub payout_id: String,
    pub currency: String,
    pub amount: i64,
    /// Σ net of the lines carried by the payout (in the payout's currency).
    pub lines_net: i64,
    pub line_count: i64,
    /// `amount − lines_net`.
    pub difference: i64,
    pub ok: bool,
}

/// Compare a payout with its lines' net: they must add up exactly.
pub fn check_payout(
    payout: &Payout,
    lines_net: i64,
    line_count: i64,
) -> (PayoutCheck, Option<DataIssue>) {
    let difference = payout.amount.minor - lines_net;
    let check = PayoutCheck {
        payout_id: payout.payout_id.clone(),
        currency: payout.amount.currency.clone(),
        amount: payout.amount.minor,
        lines_net,
        line_count,
        difference,
        ok: difference == 0,
    };
    let issue = (difference != 0).then(|| DataIssue {
        code: "payout_mismatch".into(),
        reference: payout.payout_id.clone(),
        message: format!(
            "payout amount {} ≠ Σ net {} of its {line_count} lines (off by {difference})",
            payout.amount.minor, lines_net
        ),
    });
    (check, issue)
}

// --- periods -------------------------------------------------------------------------

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The local calendar day (`YYYY-MM-DD`) of an instant at `utc_offset_minutes`.
pub fn local_day(at_ms: i64, utc_offset_minutes: i32) -> String {
    let local = at_ms + i64::from(utc_offset_minutes) * 60_000;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The local day before the one containing `now_ms`, as `[start, end)` in Unix ms.
pub fn previous_day(now_ms: i64, utc_offset_minutes: i32) -> (i64, i64) {
    let offset = i64::from(utc_offset_minutes) * 60_000;
    let today = (now_ms + offset).div_euclid(DAY_MS) * DAY_MS - offset;
    (today - DAY_MS, today)
}

fn parse_num(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    (next - days_from_civil(y, m, 1)) as u32
}

/// A reporting period: a local day `YYYY-MM-DD` or month `YYYY-MM`, as `[start, end)` in
/// Unix ms for a zone at `utc_offset_minutes`.
pub fn parse_period(s: &str, utc_offset_minutes: i32) -> Option<(i64, i64)> {
    let offset = i64::from(utc_offset_minutes) * 60_000;
    let mut parts = s.split('-');
    let y = parse_num(parts.next()?, 4)?;
    let m = u32::try_from(parse_num(parts.next()?, 2)?).ok()?;
    if !(1..=12).contains(&m) {
        return None;
    }
    let (start, end) = match parts.next() {
        None => {
            let first = days_from_civil(y, m, 1);
            (first, first + i64::from(days_in_month(y, m)))
        }
        Some(d) => {
            let d = u32::try_from(parse_num(d, 2)?).ok()?;
            if d == 0 || d > days_in_month(y, m) || parts.next().is_some() {
                return None;
            }
            let day = days_from_civil(y, m, d);
            (day, day + 1)
        }
    };
    Some((start * DAY_MS - offset, end * DAY_MS - offset))
}

/// A local day `YYYY-MM-DD` as `[start, end)` in Unix ms.
pub fn parse_day(s: &str, utc_offset_minutes: i32) -> Option<(i64, i64)> {
    (s.len() == 10)
        .then(|| parse_period(s, utc_offset_minutes))
        .flatten()
}

#[cfg(test)]
mod tests;
