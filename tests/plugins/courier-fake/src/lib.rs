//! Test-only courier plugin on `wharf:connector@0.2.0` (the SDK's `Courier` +
//! `export_courier!`). Answers from its input, without network, so runtime tests can check
//! every courier export end to end:
//!
//! - `quote`: "standard" (10 CNY per started kg) and "express" (double), or only the asked
//!   service; `invalid-input` without parcels.
//! - `create-waybill`: tracking number `FAKE-<order-reference>`, a ZPL label naming the
//!   receiver; service "oversized" returns an 8 MiB label, to hit the output bound.
//! - `cancel-waybill`: ok for `FAKE-*`, `invalid-input` otherwise.
//! - `track`: three events, oldest first, ending delivered.

use wharf_sdk::courier::{
    LabelFormat, ServiceQuote, TrackingEvent, TrackingStatus, Waybill, WaybillRequest,
};
use wharf_sdk::types::{ConnectorError, ConnectorInfo, Money};
use wharf_sdk::{Courier, Result};

pub struct Fake;

fn cny(minor: i64) -> Money {
    Money {
        minor,
        currency: "CNY".into(),
    }
}

impl Courier for Fake {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            platform: "fake-courier".into(),
            display_name: "Fake Courier".into(),
            capabilities: ["quote", "create-waybill", "cancel-waybill", "track"]
                .map(String::from)
                .to_vec(),
        }
    }

    fn quote(request: WaybillRequest) -> Result<Vec<ServiceQuote>> {
        if request.parcels.is_empty() {
            return Err(ConnectorError::InvalidInput("no parcels".into()));
        }
        let grams: u64 = request.parcels.iter().map(|p| u64::from(p.weight_g)).sum();
        let kg = grams.div_ceil(1000) as i64;
        let all = [
            ("standard", "Standard", 1000 * kg, 3),
            ("express", "Express", 2000 * kg, 1),
        ];
        Ok(all
            .into_iter()
            .filter(|(code, ..)| request.service_code.as_deref().is_none_or(|s| s == *code))
            .map(|(code, name, price, days)| ServiceQuote {
                service_code: code.into(),
                service_name: name.into(),
                price: cny(price),
                transit_days: Some(days),
            })
            .collect())
    }

    fn create_waybill(request: WaybillRequest) -> Result<Waybill> {
        let label = if request.service_code.as_deref() == Some("oversized") {
            vec![b'^'; 8 * 1024 * 1024]
        } else {
            format!("^XA^FD{}^FS^XZ", request.receiver.name).into_bytes()
        };
        Ok(Waybill {
            carrier: "fake".into(),
            tracking_number: format!("FAKE-{}", request.order_reference),
            label_format: LabelFormat::Zpl,
            label,
            price: Some(cny(1000)),
        })
    }

    fn cancel_waybill(tracking_number: String) -> Result<()> {
        if tracking_number.starts_with("FAKE-") {
            Ok(())
        } else {
            Err(ConnectorError::InvalidInput(format!(
                "unknown waybill {tracking_number}"
            )))
        }
    }

    fn track(tracking_number: String) -> Result<Vec<TrackingEvent>> {
        let event = |at, status, raw: &str| TrackingEvent {
            at,
            status,
            raw_status: raw.into(),
            description: format!("{tracking_number}: {raw}"),
            location: "Hangzhou".into(),
        };
        Ok(vec![
            event(1_700_000_000_000, TrackingStatus::InfoReceived, "CREATED"),
            event(1_700_000_100_000, TrackingStatus::InTransit, "PICKED_UP"),
            event(1_700_000_200_000, TrackingStatus::Delivered, "SIGNED"),
        ])
    }
}

wharf_sdk::export_courier!(Fake);
