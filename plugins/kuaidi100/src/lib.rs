//! The Kuaidi100 (快递100) connector: a `wharf:connector` **courier** plugin that tracks
//! parcels of any carrier Kuaidi100 covers through its real-time query
//! (`POST {base_url}/poll/query.do`). It issues no waybills: quote, create-waybill and
//! cancel-waybill answer `unsupported` (the SDK's defaults).
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`base_url`, `default_com`).
//! - [`carriers`]: Wharf carrier codes ↔ Kuaidi100 company codes, and the tracking-number
//!   form `[<company>:]<number>[:<phone>]`. Pure.
//! - [`query`]: the signed query (MD5(param + key + customer), upper-case hex), the answer
//!   and its `returnCode`s → connector error kinds.
//! - [`mapping`]: `state` codes and state words → tracking status; answer → events. Pure.
//! - this file: the [`Kuaidi100`] `Courier` impl wiring them to the host's config,
//!   secrets and HTTP.

pub mod carriers;
pub mod mapping;
pub mod query;
pub mod settings;

use wharf_sdk::courier::TrackingEvent;
use wharf_sdk::types::ConnectorInfo;
use wharf_sdk::{config, http, Courier, Result};

use query::Credentials;
use settings::Settings;

/// Secret: the authorisation key (signs every query, never sent).
pub const KEY: &str = "key";
/// Secret: the enterprise account's `customer` code.
pub const CUSTOMER: &str = "customer";

pub struct Kuaidi100;

/// What [`Kuaidi100::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "kuaidi100".into(),
        display_name: "Kuaidi100 (快递100) tracking".into(),
        capabilities: vec!["track".into()],
    }
}

impl Courier for Kuaidi100 {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn track(tracking_number: String) -> Result<Vec<TrackingEvent>> {
        let settings = Settings::from_lookup(config::get)?;
        let creds = Credentials {
            customer: config::require_secret(CUSTOMER)?,
            key: config::require_secret(KEY)?,
        };
        let target = carriers::parse_tracking(&tracking_number, settings.default_com.as_deref())?;
        query::track(&settings, &creds, &target, &mut http::send)
    }
}

wharf_sdk::export_courier!(Kuaidi100);

#[cfg(test)]
mod tests {
    // The connector names itself kuaidi100 and claims tracking only.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(
            (i.platform.as_str(), i.capabilities.as_slice()),
            ("kuaidi100", &["track".to_string()][..])
        );
    }
}
