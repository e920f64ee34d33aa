use super::*;

fn accounts() -> AccountMapping {
    AccountMapping {
        clearing: "1002".into(),
        fees: "6601.05".into(),
        refunds: "6001.99".into(),
        revenue: "6001".into(),
        other_income: "6051".into(),
    }
}

/// Small deterministic generator (xorshift64*), so random cases are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

fn source(
    label: &str,
    currency: &str,
    gross: i64,
    fees: i64,
    refunds: i64,
    other: i64,
) -> SourceTotals {
    SourceTotals {
        label: label.into(),
        currency: currency.into(),
        gross,
        fees,
        refunds,
        other,
        // What the contract's net = gross − fee gives.
        net: gross - refunds - fees + other,
    }
}

/// Journals built from consistent settlement totals balance and pass validation, for
/// thousands of random mixes of sales, fees, refunds and subsidies (any sign, several
/// sources and currencies), and every entry sits on exactly one non-negative side.
#[test]
fn built_journals_balance_for_random_inputs() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..3_000 {
        let n = rng.range(1, 5);
        let sources: Vec<SourceTotals> = (0..n)
            .map(|i| {
                let currency = ["CNY", "USD", "JPY", "KWD"][rng.range(0, 3) as usize];
                source(
                    &format!("shop-{i}"),
                    currency,
                    rng.range(0, 5_000_000),
                    rng.range(-1_000, 300_000),
                    rng.range(0, 2_000_000),
                    rng.range(-50_000, 50_000),
                )
            })
            .collect();
        let journals = build("m1:p", (0, 86_400_000), "memo", &accounts(), &sources);
        for j in &journals {
            assert_eq!(validate(j), Ok(()), "{j:?}");
            let (d, c) = totals(j);
            assert_eq!(d, c);
            assert!(j.reference.ends_with(&format!(":{}", j.currency)));
        }
        let currencies: std::collections::BTreeSet<&str> =
            sources.iter().map(|s| s.currency.as_str()).collect();
        assert!(journals.len() <= currencies.len());
    }
}

/// A period of 100.00 sales, 5.00 fees, 10.00 refunded and a 2.00 subsidy posts exactly
/// these five entries: Dr clearing 87.00, Dr fees 5.00, Dr refunds 10.00 / Cr revenue
/// 100.00, Cr other income 2.00.
#[test]
fn builds_the_expected_entries() {
    let j = build(
        "ref",
        (0, 1),
        "m",
        &accounts(),
        &[source("taobao/s1", "CNY", 10_000, 500, 1_000, 200)],
    );
    assert_eq!(j.len(), 1);
    let got: Vec<(&str, i64, i64)> = j[0]
        .entries
        .iter()
        .map(|e| (e.account.as_str(), e.debit.minor, e.credit.minor))
        .collect();
    assert_eq!(
        got,
        vec![
            ("1002", 8_700, 0),
            ("6601.05", 500, 0),
            ("6001.99", 1_000, 0),
            ("6001", 0, 10_000),
            ("6051", 0, 200),
        ]
    );
    assert_eq!(j[0].reference, "ref:CNY");
}

/// A period where refunds exceed sales puts the clearing account on the credit side
/// (money went back), still balanced; a negative adjustment becomes a debit.
#[test]
fn negative_amounts_move_to_the_other_side() {
    let j = build(
        "r",
        (0, 1),
        "m",
        &accounts(),
        &[source("s", "USD", 1_000, 100, 3_000, -50)],
    );
    let clearing = &j[0].entries[0];
    assert_eq!((clearing.debit.minor, clearing.credit.minor), (0, 2_150));
    let other = j[0].entries.iter().find(|e| e.account == "6051").unwrap();
    assert_eq!((other.debit.minor, other.credit.minor), (50, 0));
    assert_eq!(validate(&j[0]), Ok(()));
}

/// Lines whose net does not equal gross − fee give an unbalanced journal, and
/// validation refuses it naming the difference.
#[test]
fn imbalance_is_refused() {
    let mut s = source("s", "CNY", 10_000, 500, 0, 0);
    s.net += 7;
    let j = build("r", (0, 1), "m", &accounts(), &[s]);
    let errors = validate(&j[0]).unwrap_err();
    assert!(errors.iter().any(|e| e.contains("off by 7")), "{errors:?}");
}

/// Hand-made journals with a negative amount, both sides set, a foreign currency or a
/// single entry are each refused with a reason.
#[test]
fn malformed_entries_are_refused() {
    let e = |account: &str, d: i64, c: i64, cur: &str| JournalEntry {
        account: account.into(),
        debit: Money::new(d, cur),
        credit: Money::new(c, cur),
        memo: String::new(),
        order_reference: None,
    };
    let j = |entries| Journal {
        reference: "r".into(),
        period_start: 0,
        period_end: 1,
        currency: "CNY".into(),
        memo: String::new(),
        entries,
    };
    let cases = [
        (
            j(vec![e("1", -5, 0, "CNY"), e("2", 0, -5, "CNY")]),
            "negative",
        ),
        (
            j(vec![e("1", 5, 5, "CNY"), e("2", 0, 0, "CNY")]),
            "both debit and credit",
        ),
        (j(vec![e("1", 5, 0, "USD"), e("2", 0, 5, "CNY")]), "in USD"),
        (j(vec![e("1", 0, 0, "CNY")]), "at least two"),
        (
            j(vec![e("", 5, 0, "CNY"), e("2", 0, 5, "CNY")]),
            "no account",
        ),
    ];
    for (journal, want) in cases {
        let errors = validate(&journal).unwrap_err();
        assert!(
            errors.iter().any(|m| m.contains(want)),
            "{want}: {errors:?}"
        );
    }
}

/// Minor units become exact decimal text for 0-, 2- and 3-digit currencies, negative
/// amounts and values floats cannot hold exactly; an unknown currency is an error.
#[test]
fn formats_minor_units_as_exact_decimals() {
    let d = |minor, cur: &str| decimal(&Money::new(minor, cur)).unwrap();
    assert_eq!(d(0, "CNY"), "0.00");
    assert_eq!(d(1234, "USD"), "12.34");
    assert_eq!(d(5, "CNY"), "0.05");
    assert_eq!(d(-507, "EUR"), "-5.07");
    assert_eq!(d(1234, "JPY"), "1234");
    assert_eq!(d(0, "JPY"), "0");
    assert_eq!(d(1234, "KWD"), "1.234");
    assert_eq!(d(5, "BHD"), "0.005");
    assert_eq!(d(9_007_199_254_740_993, "USD"), "90071992547409.93");
    assert!(decimal(&Money::new(1, "XYZ")).is_err());
}

/// A mapping with an empty or spaced account is refused, naming the key.
#[test]
fn mapping_is_validated() {
    assert_eq!(accounts().validate(), Ok(()));
    let mut bad = accounts();
    bad.fees = " ".into();
    bad.revenue = "60 01".into();
    let errors = bad.validate().unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("fees") && errors[1].contains("revenue"));
}
