//! The SF Express (顺丰速运) connector: a `wharf:connector` **courier** plugin for the SF
//! open platform's standard service (`POST {base_url}/std/service`).
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`base_url`, `partner_id`,
//!   `month_card`, `template_code`, `default_service`, the fallback `sender_*`), validated.
//! - [`sfapi`]: the protocol: the signed form and its `msgDigest` (Base64 of MD5 of the
//!   URL-encoded `msgData + timestamp + checkWord`), the `apiResultCode` envelope and the
//!   business result inside `apiResultData`, both code lists → connector error kinds. Pure.
//! - [`routes`]: route scans (`opCode`) → tracking events (the README's table). Pure.
//! - [`api`]: quote, create-waybill (+ cloud-print label), cancel-waybill and track over
//!   an injected transport.
//! - this file: the [`Sf`] `Courier` impl wiring them to the host's config, secrets,
//!   clock and HTTP.
//!
//! Errors are the contract's own `ConnectorError` (one enum, shared with the host).

pub mod api;
pub mod routes;
pub mod settings;
pub mod sfapi;

use wharf_sdk::courier::{ServiceQuote, TrackingEvent, Waybill, WaybillRequest};
use wharf_sdk::types::ConnectorInfo;
use wharf_sdk::{config, http, time, Courier, Result};

use settings::Settings;

/// Secret: the 校验码 (check word) that signs every request (never sent or logged).
pub const CHECK_WORD: &str = "check_word";

pub struct Sf;

/// What [`Sf::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "sf".into(),
        display_name: "SF Express (顺丰速运)".into(),
        capabilities: ["quote", "create-waybill", "cancel-waybill", "track"]
            .map(String::from)
            .to_vec(),
    }
}

fn with_client<T>(f: impl FnOnce(&api::Client<'_>) -> Result<T>) -> Result<T> {
    let settings = Settings::from_lookup(config::get)?;
    let check_word = config::require_secret(CHECK_WORD)?;
    f(&api::Client {
        settings: &settings,
        check_word: &check_word,
        now_ms: time::now_ms(),
    })
}

impl Courier for Sf {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn quote(request: WaybillRequest) -> Result<Vec<ServiceQuote>> {
        with_client(|c| api::quote(c, &request, &mut http::send))
    }

    fn create_waybill(request: WaybillRequest) -> Result<Waybill> {
        with_client(|c| api::create_waybill(c, &request, &mut http::send))
    }

    fn cancel_waybill(tracking_number: String) -> Result<()> {
        with_client(|c| api::cancel_waybill(c, &tracking_number, &mut http::send))
    }

    fn track(tracking_number: String) -> Result<Vec<TrackingEvent>> {
        with_client(|c| api::track(c, &tracking_number, &mut http::send))
    }
}

wharf_sdk::export_courier!(Sf);

#[cfg(test)]
mod tests {
    // The connector names itself sf and claims every courier export.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "sf");
        assert_eq!(
            i.capabilities,
            ["quote", "create-waybill", "cancel-waybill", "track"]
        );
    }
}
