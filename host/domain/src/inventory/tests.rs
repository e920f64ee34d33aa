use super::*;

fn rule(safety: i64, ratio_bp: i64) -> SyncRule {
    SyncRule {
        safety_stock: safety,
        ratio_bp,
    }
}

/// ATS subtracts reservations and safety stock, then floors the channel's share.
#[test]
fn ats_floors_the_channel_share() {
    assert_eq!(available_to_sell(10, 2, &rule(1, 5_000)), 3); // floor(7 × 0.5)
    assert_eq!(available_to_sell(10, 0, &rule(0, 3_333)), 3); // floor(3.333)
    assert_eq!(available_to_sell(10, 0, &SyncRule::default()), 10);
}

/// ATS never goes below zero, even when reservations or safety stock exceed on-hand.
#[test]
fn ats_is_never_negative() {
    assert_eq!(available_to_sell(3, 5, &SyncRule::default()), 0);
    assert_eq!(available_to_sell(3, 0, &rule(4, FULL_RATIO_BP)), 0);
    assert_eq!(available_to_sell(0, 0, &rule(0, 0)), 0);
}

/// A huge on-hand does not overflow the multiplication.
#[test]
fn ats_does_not_overflow() {
    assert_eq!(
        available_to_sell(i64::MAX, 0, &SyncRule::default()),
        i64::MAX
    );
}

/// The SKU rule beats the product rule, which beats the shop rule; no rule means 100 %.
#[test]
fn the_more_specific_rule_wins() {
    let rules = vec![
        ScopedRule {
            scope: RuleScope::Shop,
            target: String::new(),
            rule: rule(1, 8_000),
        },
        ScopedRule {
            scope: RuleScope::Product,
            target: "TEE".into(),
            rule: rule(2, 5_000),
        },
        ScopedRule {
            scope: RuleScope::Sku,
            target: "TEE-M".into(),
            rule: rule(3, 2_000),
        },
    ];
    assert_eq!(effective_rule(&rules, "TEE-M", "TEE"), rule(3, 2_000));
    assert_eq!(effective_rule(&rules, "TEE-L", "TEE"), rule(2, 5_000));
    assert_eq!(effective_rule(&rules, "MUG", "MUGS"), rule(1, 8_000));
    assert_eq!(effective_rule(&rules, "MUG", ""), rule(1, 8_000));
    assert_eq!(effective_rule(&[], "MUG", ""), SyncRule::default());
}

/// Rules outside their bounds are refused with the reason.
#[test]
fn rule_bounds_are_checked() {
    assert!(rule(-1, 100)
        .validate()
        .unwrap_err()
        .contains("safety_stock"));
    assert!(rule(0, 10_001).validate().unwrap_err().contains("ratio_bp"));
    assert!(rule(0, -1).validate().is_err());
    assert!(rule(5, 0).validate().is_ok());
}

/// Awaiting payment holds stock only on order-reducing channels; paid holds; shipped
/// consumes; cancelled and refunded release.
#[test]
fn stock_intent_follows_status_and_mode() {
    use ChannelStatus::*;
    assert_eq!(
        stock_intent(PendingPayment, ReduceStockAt::Payment),
        StockIntent::None
    );
    assert_eq!(
        stock_intent(PendingPayment, ReduceStockAt::Order),
        StockIntent::Hold
    );
    for s in [Paid, PartiallyShipped] {
        assert_eq!(stock_intent(s, ReduceStockAt::Payment), StockIntent::Hold);
    }
    for s in [Shipped, Completed] {
        assert_eq!(stock_intent(s, ReduceStockAt::Order), StockIntent::Consume);
    }
    for s in [Cancelled, Refunded] {
        assert_eq!(
            stock_intent(s, ReduceStockAt::Payment),
            StockIntent::Release
        );
    }
}

/// A CSV with columns in any order, quotes and a default warehouse parses row by row.
#[test]
fn csv_parses_rows() {
    let rows = parse_stock_csv(
        "on_hand,sku,title\n5,TEE-M,\"Tee, medium\"\n\n0,MUG,\"Mug \"\"big\"\"\"\n",
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].sku, "TEE-M");
    assert_eq!(rows[0].warehouse, "main");
    assert_eq!(rows[0].on_hand, 5);
    assert_eq!(rows[0].title, "Tee, medium");
    assert_eq!(rows[1].title, "Mug \"big\"");
    assert_eq!(rows[1].line, 4);
}

/// Every bad line is reported with its number and reason, and nothing is accepted.
#[test]
fn csv_reports_every_bad_line() {
    let errs = parse_stock_csv(
        "sku,warehouse,on_hand\nA,main,-1\nB,main,x\n,main,3\nC,main\nD,main,2\nD,main,4\n",
    )
    .unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 7]);
    assert!(errs[0].error.contains("on_hand"));
    assert!(errs[2].error.contains("sku is empty"));
    assert!(errs[3].error.contains("expected 3 cells"));
    assert!(errs[4].error.contains("appears twice"));
}

/// A file without the required header columns is refused as a whole.
#[test]
fn csv_needs_a_header() {
    let e = parse_stock_csv("").unwrap_err();
    assert!(e[0].error.contains("empty"));
    let e = parse_stock_csv("code,qty\nA,1\n").unwrap_err();
    assert!(e[0].error.contains("sku and on_hand"));
}
