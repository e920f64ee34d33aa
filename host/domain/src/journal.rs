//! Period journals from settled channel money: which accounts a period's sales, fees,
//! refunds, platform money and net receipts go to, the balance check every journal passes
//! before it is queued, and the exact minor-unit → decimal text an ERP takes.
//!
//! One journal per (period, currency). For each source installation the entries are
//! (debit-positive, then a negative amount moved to the other side, so each entry has
//! exactly one non-negative side):
//!
//! | account (mapping key) | side | amount |
//! |---|---|---|
//! | `clearing` (bank / platform clearing) | debit | net received (Σ line net) |
//! | `fees` (commission and fee expense) | debit | fees withheld + commission lines |
//! | `refunds` (sales returns) | debit | refunded |
//! | `revenue` (sales) | credit | gross of sale lines |
//! | `other_income` (platform subsidies) | credit | platform discounts, shipping subsidies, adjustments |
//!
//! By the settlement contract `net = gross − fee`, so `clearing + fees + refunds =
//! revenue + other_income` and the journal balances; a period whose lines break that
//! identity yields an unbalanced journal, which [`validate`] refuses with the difference.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::accounting::{Journal, JournalEntry};
use crate::money::{format_minor, minor_digits};
use crate::{DomainError, Money};

/// The merchant's account numbers (their chart of accounts) for channel money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountMapping {
    /// Bank or platform clearing account receiving the net (e.g. "1002" or "1122.01").
    pub clearing: String,
    /// Commission and fee expense (e.g. "6601.05").
    pub fees: String,
    /// Sales returns and refunds (e.g. "6001.99" or a contra-revenue account).
    pub refunds: String,
    /// Sales revenue (e.g. "6001").
    pub revenue: String,
    /// Platform-funded discounts, shipping subsidies, adjustments (e.g. "6051").
    pub other_income: String,
}

impl AccountMapping {
    /// Check the mapping: every account set, no spaces or control characters.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        for (key, value) in [
            ("clearing", &self.clearing),
            ("fees", &self.fees),
            ("refunds", &self.refunds),
            ("revenue", &self.revenue),
            ("other_income", &self.other_income),
        ] {
            if value.trim().is_empty() {
                errors.push(format!("account `{key}` is empty"));
            } else if value.len() > 64 || value.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                errors.push(format!(
                    "account `{key}` {value:?} must be at most 64 characters without spaces"
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// What one installation settled in one currency over a period (the revenue figures of
/// `wharf_store`: fees and refunds as positive magnitudes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTotals {
    /// How entries name the source, e.g. "taobao/shop-1".
    pub label: String,
    pub currency: String,
    /// Σ gross of sale lines.
    pub gross: i64,
    /// Fees withheld plus commission lines (a cost, positive).
    pub fees: i64,
    /// Refunded (positive).
    pub refunds: i64,
    /// Platform discounts, shipping subsidies and adjustments (signed).
    pub other: i64,
    /// Σ net of all lines: what the channel paid.
    pub net: i64,
}

/// Build one journal per currency from the sources' totals. `reference_base` is extended
/// with the currency (`<base>:<CUR>`), the host's idempotency key. Zero amounts make no
/// entry; a currency with no money at all makes no journal.
pub fn build(
    reference_base: &str,
    period: (i64, i64),
    memo: &str,
    accounts: &AccountMapping,
    sources: &[SourceTotals],
) -> Vec<Journal> {
    let mut by_currency: BTreeMap<&str, Vec<&SourceTotals>> = BTreeMap::new();
    for s in sources {
        by_currency.entry(s.currency.as_str()).or_default().push(s);
    }
    let mut out = Vec::new();
    for (currency, sources) in by_currency {
        let mut entries = Vec::new();
        for s in sources {
            // Debit-positive amounts per role.
            let rows = [
                (&accounts.clearing, s.net, "net received"),
                (&accounts.fees, s.fees, "commission and fees"),
                (&accounts.refunds, s.refunds, "refunds"),
                (&accounts.revenue, -s.gross, "sales"),
                (
                    &accounts.other_income,
                    -s.other,
                    "platform subsidies and adjustments",
                ),
            ];
            for (account, signed, what) in rows {
                if signed == 0 {
                    continue;
                }
                let (debit, credit) = if signed > 0 {
                    (signed, 0)
                } else {
                    (0, signed.checked_neg().unwrap_or(i64::MAX))
                };
                entries.push(JournalEntry {
                    account: account.clone(),
                    debit: Money::new(debit, currency),
                    credit: Money::new(credit, currency),
                    memo: format!("{} {what}", s.label),
                    order_reference: None,
                });
            }
        }
        if entries.is_empty() {
            continue;
        }
        out.push(Journal {
            reference: format!("{reference_base}:{currency}"),
            period_start: period.0,
            period_end: period.1,
            currency: currency.to_string(),
            memo: memo.to_string(),
            entries,
        });
    }
    out
}

/// Σ debits and Σ credits of a journal (wide, so no sum overflows).
pub fn totals(journal: &Journal) -> (i128, i128) {
    journal.entries.iter().fold((0, 0), |(d, c), e| {
        (
            d + i128::from(e.debit.minor),
            c + i128::from(e.credit.minor),
        )
    })
}

/// Check a journal before it is queued or sent: at least two entries, every amount in the
/// journal's currency and not negative, each entry on exactly one side, an account on
/// each, Σ debit = Σ credit. The messages say what is wrong.
pub fn validate(journal: &Journal) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if journal.reference.trim().is_empty() {
        errors.push("reference is empty".into());
    }
    if minor_digits(&journal.currency).is_none() {
        errors.push(format!("unknown currency {:?}", journal.currency));
    }
    if journal.entries.len() < 2 {
        errors.push(format!(
            "a journal needs at least two entries, this one has {}",
            journal.entries.len()
        ));
    }
    for (i, e) in journal.entries.iter().enumerate() {
        let n = i + 1;
        if e.account.trim().is_empty() {
            errors.push(format!("entry {n}: no account"));
        }
        for (side, m) in [("debit", &e.debit), ("credit", &e.credit)] {
            if m.currency != journal.currency {
                errors.push(format!(
                    "entry {n}: {side} in {} in a {} journal",
                    m.currency, journal.currency
                ));
            }
            if m.minor < 0 {
                errors.push(format!("entry {n}: negative {side} {}", m.minor));
            }
        }
        match (e.debit.minor != 0, e.credit.minor != 0) {
            (true, true) => errors.push(format!("entry {n}: both debit and credit are set")),
            (false, false) => errors.push(format!("entry {n}: neither debit nor credit is set")),
            _ => {}
        }
    }
    let (debit, credit) = totals(journal);
    if debit != credit {
        errors.push(format!(
            "unbalanced: debits {debit} ≠ credits {credit} (off by {})",
            debit - credit
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Minor units as the exact decimal text of the currency's exponent ("12.34" for 1234
/// USD, "1234" JPY, "1.234" KWD): no float on the way.
pub fn decimal(money: &Money) -> Result<String, DomainError> {
    let digits = minor_digits(&money.currency)
        .ok_or_else(|| DomainError::UnknownCurrency(money.currency.clone()))?;
    Ok(format_minor(money.minor, digits))
}

#[cfg(test)]
mod tests;
