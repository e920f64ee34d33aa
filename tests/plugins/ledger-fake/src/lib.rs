//! Test-only accounting plugin on `wharf:connector@0.2.0` (the SDK's `Accounting` +
//! `export_accounting!`). `post-journal` answers a voucher derived from the journal's
//! reference (`V-<reference>`, number = entry count), or `invalid-input` when debits and
//! credits do not balance.

use wharf_sdk::accounting::{Journal, Voucher};
use wharf_sdk::types::{ConnectorError, ConnectorInfo};
use wharf_sdk::{Accounting, Result};

pub struct Fake;

impl Accounting for Fake {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            platform: "fake-ledger".into(),
            display_name: "Fake Ledger".into(),
            capabilities: vec!["post-journal".into()],
        }
    }

    fn post_journal(journal: Journal) -> Result<Voucher> {
        let debit: i64 = journal.entries.iter().map(|e| e.debit.minor).sum();
        let credit: i64 = journal.entries.iter().map(|e| e.credit.minor).sum();
        if debit != credit {
            return Err(ConnectorError::InvalidInput(format!(
                "unbalanced journal: debit {debit} != credit {credit}"
            )));
        }
        Ok(Voucher {
            id: format!("V-{}", journal.reference),
            number: format!("记-{:04}", journal.entries.len()),
        })
    }
}

wharf_sdk::export_accounting!(Fake);
