//! Host-side mirrors of the accounting contract (`wharf:connector/ledger`, WIT 0.2.0):
//! the journal the host posts and the voucher the ERP answers. Types only; the runtime
//! converts at its edge.
//!
//! Conventions: money in integer minor units, times in Unix ms UTC.

use serde::{Deserialize, Serialize};

use crate::Money;

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JournalEntry {
    /// The account code in the merchant's chart of accounts.
    pub account: String,
    /// Amount debited; zero when none.
    pub debit: Money,
    /// Amount credited; zero when none.
    pub credit: Money,
    /// Line memo.
    pub memo: String,
    /// The order the line comes from, when it comes from one.
    pub order_reference: Option<String>,
}

/// A balanced journal for one period, posted as one voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Journal {
    /// Idempotency key: posting the same reference twice must not create two vouchers.
    pub reference: String,
    /// Start of the period, inclusive (Unix ms, UTC).
    pub period_start: i64,
    /// End of the period, exclusive (Unix ms, UTC).
    pub period_end: i64,
    /// ISO 4217 currency of every entry.
    pub currency: String,
    /// Voucher-level memo.
    pub memo: String,
    /// The lines.
    pub entries: Vec<JournalEntry>,
}

/// The voucher an ERP created, as it reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Voucher {
    /// The ERP's internal id.
    pub id: String,
    /// The voucher number people see; may equal `id`.
    pub number: String,
}
