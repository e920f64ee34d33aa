use super::*;
use crate::settlement::{Payout, SettlementKind, SettlementLine};
use crate::Money;

/// A small deterministic generator for property-style checks (no external crate).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

fn line(id: &str, kind: SettlementKind, gross: i64, fee: i64, net: i64) -> SettlementLine {
    SettlementLine {
        line_id: id.into(),
        order_external_id: Some("o1".into()),
        kind,
        gross: Money::new(gross, "USD"),
        fee: Money::new(fee, "USD"),
        net: Money::new(net, "USD"),
        settled_at: 0,
        payout_id: None,
    }
}

/// Allocation preserves the total exactly, never moves a part by more than one unit from
/// its exact share, and is deterministic — over thousands of random cases.
#[test]
fn allocation_preserves_the_sum_and_stays_within_one_unit() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5_000 {
        let n = rng.range(1, 12) as usize;
        let weights: Vec<i64> = (0..n).map(|_| rng.range(0, 100_000)).collect();
        let total = rng.range(-1_000_000, 1_000_000);
        let parts = allocate(total, &weights);
        assert_eq!(parts.len(), n);
        assert_eq!(parts.iter().sum::<i64>(), total, "{weights:?} {total}");
        let wsum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        for (p, w) in parts.iter().zip(&weights) {
            // |part − exact share| < 1 ⇔ |part·Σw − total·w| < Σw.
            let (num, den) = if wsum == 0 {
                (i128::from(total), n as i128)
            } else {
                (i128::from(total) * i128::from(*w), wsum)
            };
            assert!(
                (i128::from(*p) * den - num).abs() < den,
                "{p} vs {num}/{den}"
            );
            assert!(
                p.signum() * total.signum() >= 0,
                "no part has the wrong sign"
            );
        }
        assert_eq!(parts, allocate(total, &weights), "deterministic");
    }
}

/// Equal remainders go to the earlier line: 100 over three equal lines is 34, 33, 33.
#[test]
fn allocation_breaks_ties_by_position() {
    assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
    assert_eq!(allocate(-100, &[1, 1, 1]), vec![-34, -33, -33]);
    assert_eq!(allocate(2, &[5, 5, 5, 5]), vec![1, 1, 0, 0]);
    // The largest remainder wins over position: 10 over (1, 2) is 3.33 / 6.67 → 3, 7.
    assert_eq!(allocate(10, &[1, 2]), vec![3, 7]);
}

/// Zero or negative weights are safe: all-zero splits equally, an empty list gets nothing.
#[test]
fn allocation_handles_degenerate_weights() {
    assert_eq!(allocate(5, &[0, 0]), vec![3, 2]);
    assert_eq!(allocate(5, &[-4, 0, 10]), vec![0, 0, 5]);
    assert_eq!(allocate(7, &[]), Vec::<i64>::new());
    assert_eq!(allocate(0, &[3, 4]), vec![0, 0]);
    assert_eq!(
        allocate(i64::MAX, &[1, 1])
            .iter()
            .map(|p| i128::from(*p))
            .sum::<i128>(),
        i128::from(i64::MAX)
    );
}

/// Per-SKU revenue after an order discount adds up to the order's goods total exactly.
#[test]
fn line_revenue_adds_up_to_the_order() {
    let lines = vec![
        LineAmount {
            sku: "A".into(),
            quantity: 1,
            net_of_line_discount: 1999,
        },
        LineAmount {
            sku: "B".into(),
            quantity: 3,
            net_of_line_discount: 2997,
        },
        LineAmount {
            sku: "C".into(),
            quantity: 1,
            net_of_line_discount: 1,
        },
    ];
    let rev = line_revenue(&lines, 1000);
    assert_eq!(rev.iter().sum::<i64>(), 1999 + 2997 + 1 - 1000);
    assert_eq!(rev, vec![1999 - 400, 2997 - 600, 1]);
}

/// The default rule with reported commission: expected = paid − fees + platform money −
/// refunds, so a consistent settlement has zero variance.
#[test]
fn expected_net_with_reported_commission() {
    let rule = NetRule::default_for("douyin");
    let order = OrderAmounts {
        currency: "USD".into(),
        total_paid: 10_000,
        merchant_discount: 500,
    };
    let lines = [
        line("s", SettlementKind::Sale, 10_000, 300, 9_700),
        line("p", SettlementKind::PlatformDiscount, 200, 0, 200),
        line("c", SettlementKind::Commission, -100, 0, -100),
        line("r", SettlementKind::Refund, -1_000, 0, -1_000),
    ];
    let refs: Vec<&SettlementLine> = lines.iter().collect();
    let e = expected_net(&rule, &order, &refs);
    assert_eq!(e.paid, 10_000);
    assert_eq!(e.commission, -400);
    assert_eq!(e.merchant_discount, 0, "ignored by default");
    assert_eq!(e.platform_discount, 200);
    assert_eq!(e.refunds, -1_000);
    assert_eq!(e.total, 8_800);
    assert_eq!(actual_net(&refs), 8_800);
}

/// Commission at a rate is rounded half away from zero; a platform that under-pays shows
/// as a negative variance over the threshold (red).
#[test]
fn expected_net_with_commission_rate_and_variance() {
    let rule = NetRule {
        commission_rate_bps: Some(250),
        merchant_discount: Sign::Minus,
        ..NetRule::default_for("shopify")
    };
    assert!(rule.validate().is_ok());
    let order = OrderAmounts {
        currency: "USD".into(),
        total_paid: 10_010,
        merchant_discount: 300,
    };
    let lines = [line("s", SettlementKind::Sale, 9_000, 250, 8_750)];
    let refs: Vec<&SettlementLine> = lines.iter().collect();
    let e = expected_net(&rule, &order, &refs);
    assert_eq!(e.commission, -250, "10010 × 2.5 % = 250.25 → 250");
    assert_eq!(e.merchant_discount, -300);
    assert_eq!(e.total, 10_010 - 250 - 300);
    let variance = actual_net(&refs) - e.total;
    assert_eq!(variance, 8_750 - 9_460);
    assert!(is_red(variance, DEFAULT_VARIANCE_THRESHOLD));
    assert!(!is_red(500, 500), "exactly at the threshold is not red");
    assert!(is_red(-501, 500));
    assert_eq!(apply_rate_bps(15, 5_000), 8, "7.5 → 8");
    assert_eq!(apply_rate_bps(-15, 5_000), -8);
}

/// Without a sale line (refund-only), paid is not expected again.
#[test]
fn refund_only_lines_expect_only_the_refund() {
    let rule = NetRule::default_for("taobao");
    let order = OrderAmounts {
        currency: "USD".into(),
        total_paid: 5_000,
        merchant_discount: 0,
    };
    let lines = [line("r", SettlementKind::Refund, -5_000, 0, -5_000)];
    let refs: Vec<&SettlementLine> = lines.iter().collect();
    assert_eq!(expected_net(&rule, &order, &refs).total, -5_000);
}

/// Nonsense rules are refused with a reason per problem; every platform default is valid.
#[test]
fn rule_validation() {
    for p in [
        "shopify",
        "taobao",
        "tmall",
        "pinduoduo",
        "jd",
        "douyin",
        "woocommerce",
        "amazon",
        "other",
    ] {
        assert_eq!(NetRule::default_for(p).validate(), Ok(()), "{p}");
    }
    let bad = NetRule {
        paid: Sign::Minus,
        commission: Sign::Ignore,
        commission_rate_bps: Some(20_000),
        refunds: Sign::Plus,
        settle_after_days: 1_000,
        ..NetRule::default_for("jd")
    };
    let errors = bad.validate().unwrap_err();
    assert_eq!(errors.len(), 5, "{errors:?}");
    let json = serde_json::to_value(NetRule::default_for("shopify")).unwrap();
    assert_eq!(json["commission"], "minus");
    assert_eq!(json["settle_from"], "shipment");
    assert!(serde_json::from_value::<NetRule>(serde_json::json!({"paid": "plus"})).is_err());
}

/// A line whose net ≠ gross − fee, or with mixed currencies, is reported as it is.
#[test]
fn line_data_quality() {
    assert!(check_line(&line("ok", SettlementKind::Sale, 1000, 30, 970)).is_empty());
    let bad = check_line(&line("bad", SettlementKind::Sale, 1000, 30, 975));
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].code, "net_mismatch");
    assert_eq!(bad[0].reference, "bad");
    let mut mixed = line("mixed", SettlementKind::Sale, 1000, 30, 970);
    mixed.fee.currency = "EUR".into();
    assert_eq!(check_line(&mixed)[0].code, "mixed_currency");
}

/// A payout that does not equal the sum of its lines is a reported issue with the
/// difference; one that adds up is ok.
#[test]
fn payout_data_quality() {
    let payout = Payout {
        payout_id: "P1".into(),
        amount: Money::new(10_000, "USD"),
        paid_at: 0,
        status: "paid".into(),
    };
    let (check, issue) = check_payout(&payout, 10_000, 3);
    assert!(check.ok && issue.is_none());
    let (check, issue) = check_payout(&payout, 9_990, 3);
    assert!(!check.ok);
    assert_eq!(check.difference, 10);
    assert_eq!(issue.unwrap().code, "payout_mismatch");
}

/// Civil dates round-trip over four centuries, and periods are local days / months.
#[test]
fn calendar_and_periods() {
    for z in (-200_000..200_000).step_by(7) {
        let (y, m, d) = civil_from_days(z);
        assert_eq!(days_from_civil(y, m, d), z);
    }
    let jan1 = 1_704_067_200_000; // 2024-01-01T00:00Z
    assert_eq!(parse_period("2024-01-01", 0), Some((jan1, jan1 + DAY_MS)));
    assert_eq!(
        parse_period("2024-01-01", 480),
        Some((jan1 - 8 * 3_600_000, jan1 + DAY_MS - 8 * 3_600_000))
    );
    assert_eq!(
        parse_period("2024-02", 0),
        Some((jan1 + 31 * DAY_MS, jan1 + 60 * DAY_MS)),
        "leap February"
    );
    for bad in [
        "2024-13",
        "2024-02-30",
        "2024-1-01",
        "24-01",
        "2024-01-01-01",
        "x",
        "2024-00",
    ] {
        assert_eq!(parse_period(bad, 0), None, "{bad}");
    }
    assert_eq!(parse_day("2024-01", 0), None);
    assert_eq!(local_day(jan1 - 1, 0), "2023-12-31");
    assert_eq!(local_day(jan1 - 1, 60), "2024-01-01");
    assert_eq!(previous_day(jan1 + 5, 0), (jan1 - DAY_MS, jan1));
    // 00:30 on Jan 1 at UTC+8 is 16:30Z on Dec 31: the previous local day is Dec 31 local.
    let (s, e) = previous_day(jan1 - 7 * 3_600_000 - 1_800_000, 480);
    assert_eq!(
        (s, e),
        (jan1 - DAY_MS - 8 * 3_600_000, jan1 - 8 * 3_600_000)
    );
}
