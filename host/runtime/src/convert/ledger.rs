//! Accounting (`wharf:connector/ledger`, 0.2.0) types ↔ domain `accounting` types, and
//! the size estimate of their results.

use wharf_domain::accounting::{Journal, JournalEntry, Voucher};

use super::s;
use super::shipping::wit_money;
use crate::bindings::v0_2::ledger as wit;

fn entry(e: &JournalEntry) -> wit::JournalEntry {
    wit::JournalEntry {
        account: e.account.clone(),
        debit: wit_money(&e.debit),
        credit: wit_money(&e.credit),
        memo: e.memo.clone(),
        order_reference: e.order_reference.clone(),
    }
}

pub(crate) fn journal(j: &Journal) -> wit::Journal {
    wit::Journal {
        reference: j.reference.clone(),
        period_start: j.period_start,
        period_end: j.period_end,
        currency: j.currency.clone(),
        memo: j.memo.clone(),
        entries: j.entries.iter().map(entry).collect(),
    }
}

pub(crate) fn voucher(v: wit::Voucher) -> Voucher {
    Voucher {
        id: v.id,
        number: v.number,
    }
}

pub(crate) fn voucher_bytes(v: &wit::Voucher) -> usize {
    s(&v.id) + s(&v.number)
}
