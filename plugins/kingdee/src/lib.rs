//! The Kingdee connector: a `wharf:connector` accounting plugin posting journals as
//! vouchers (`GL_VOUCHER`) to Kingdee Cloud Galaxy (金蝶云·星空, K/3 Cloud) over its
//! WebAPI.
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`base_url`, `acct_id`,
//!   `account_book`, `voucher_group`, `reference_field`, `currency`, `lcid`,
//!   `utc_offset_minutes`, `account_map`), validated.
//! - [`voucher`]: the wire pieces, pure: the journal check before any request (balance,
//!   one side per entry, the book's currency), the Save body with exact decimal amounts,
//!   the duplicate query, and the parsing of Kingdee's answers.
//! - [`api`]: login (ValidateUser, session cookie), query-then-save with one re-login on
//!   a lost session, over an injected transport.
//! - this file: the [`Kingdee`] `Accounting` impl wiring them to the host's config,
//!   secrets and HTTP.
//!
//! Errors are the contract's own `ConnectorError`: login refused or the session lost
//! twice → unauthorized, HTTP 5xx → transient, Kingdee's validation errors and an
//! unbalanced journal → invalid-input.

pub mod api;
pub mod settings;
pub mod voucher;

use wharf_sdk::accounting::{Journal, Voucher};
use wharf_sdk::types::ConnectorInfo;
use wharf_sdk::{config, http, Accounting, Result};

use api::Credentials;
use settings::Settings;

/// Secret: the WebAPI user's name.
pub const USERNAME: &str = "username";
/// Secret: the WebAPI user's password.
pub const PASSWORD: &str = "password";

pub struct Kingdee;

/// What [`Kingdee::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "kingdee".into(),
        display_name: "Kingdee Cloud Galaxy (金蝶云·星空)".into(),
        capabilities: vec!["post-journal".into()],
    }
}

impl Accounting for Kingdee {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn post_journal(journal: Journal) -> Result<Voucher> {
        let settings = Settings::from_lookup(config::get)?;
        let creds = Credentials {
            username: config::require_secret(USERNAME)?,
            password: config::require_secret(PASSWORD)?,
        };
        api::post_journal(&settings, &creds, &journal, &mut http::send)
    }
}

wharf_sdk::export_accounting!(Kingdee);

#[cfg(test)]
mod tests {
    // The connector names itself kingdee and claims only post-journal.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "kingdee");
        assert_eq!(i.capabilities, ["post-journal"]);
    }
}
