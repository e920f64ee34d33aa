//! Test-only courier plugin on `wharf:connector@0.2.0` (the SDK's `Courier` +
//! `export_courier!`). Answers from its input, without network, so runtime tests can check
//! every courier export end to end:
//!
//! - `quote`: "standard" (10 CNY per started kg, or config `price_per_kg` minor units) and
//!   "express" (double), or only the asked service; `invalid-input` without parcels.
//! - `create-waybill`: tracking number `FAKE-<order-reference>` (carrier config `carrier`,
//!   default "fake"), a ZPL label naming the receiver (a small PDF with config
//!   `label_format` = pdf); service "oversized" returns an 8 MiB label, to hit the output
//!   bound; a receiver named "invalid" is refused with `invalid-input`.
//! - `cancel-waybill`: ok for `FAKE-*`, `invalid-input` otherwise.
//! - `track`: three events, oldest first, ending delivered — or, with config
//!   `track_outcome`, refused (exception) or returned (exception, then returned).

use wharf_sdk::courier::{
    LabelFormat, ServiceQuote, TrackingEvent, TrackingStatus, Waybill, WaybillRequest,
};
use wharf_sdk::types::{ConnectorError, ConnectorInfo, Money};
use wharf_sdk::{config, Courier, Result};

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
        let per_kg = config::get("price_per_kg")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(1000);
        let all = [
            ("standard", "Standard", per_kg * kg, 3),
            ("express", "Express", 2 * per_kg * kg, 1),
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
        if request.receiver.name == "invalid" {
            return Err(ConnectorError::InvalidInput(
                "receiver address refused by the carrier".into(),
            ));
        }
        let pdf = config::get("label_format").as_deref() == Some("pdf");
        let label = if request.service_code.as_deref() == Some("oversized") {
            vec![b'^'; 8 * 1024 * 1024]
        } else if pdf {
            format!("%PDF-1.4\n% label for {}\n%%EOF\n", request.receiver.name).into_bytes()
        } else {
            format!("^XA^FD{}^FS^XZ", request.receiver.name).into_bytes()
        };
        Ok(Waybill {
            carrier: config::get("carrier").unwrap_or_else(|| "fake".into()),
            tracking_number: format!("FAKE-{}", request.order_reference),
            label_format: if pdf {
                LabelFormat::Pdf
            } else {
                LabelFormat::Zpl
            },
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
        let mut history = vec![
            event(1_700_000_000_000, TrackingStatus::InfoReceived, "CREATED"),
            event(1_700_000_100_000, TrackingStatus::InTransit, "PICKED_UP"),
        ];
        match config::get("track_outcome").as_deref() {
            Some("refused") => history.push(event(
                1_700_000_200_000,
                TrackingStatus::Exception,
                "REFUSED",
            )),
            Some("returned") => {
                history.push(event(
                    1_700_000_200_000,
                    TrackingStatus::Exception,
                    "REFUSED",
                ));
                history.push(event(
                    1_700_000_300_000,
                    TrackingStatus::Returned,
                    "RETURNED",
                ));
            }
            _ => history.push(event(
                1_700_000_200_000,
                TrackingStatus::Delivered,
                "SIGNED",
            )),
        }
        Ok(history)
    }
}

wharf_sdk::export_courier!(Fake);
