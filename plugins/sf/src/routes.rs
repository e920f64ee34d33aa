//! SF route scans (`EXP_RECE_SEARCH_ROUTES` → `routeResps[].routes[]`: `acceptTime`,
//! `acceptAddress`, `remark`, `opCode`) → the contract's tracking events. Pure.
//!
//! The stage of a scan comes from its `opCode` by [`OP_CODES`] (the README's table). SF
//! documents hundreds of operation codes; an opCode outside the table fails the call with
//! `invalid-input` naming it, so a stage is never guessed. `8000` (订单结束, the order is
//! closed) repeats the final stage before it (delivered after 80, returned after 99/648);
//! with neither before it, the parcel was closed without a delivery: `exception`.

use serde_json::Value;
use wharf_sdk::courier::{TrackingEvent, TrackingStatus};
use wharf_sdk::time::parse_local_ms;
use wharf_sdk::types::ConnectorError;

use crate::sfapi::text_of;

/// The opCode SF writes when the order is closed.
pub const ORDER_CLOSED: &str = "8000";

/// Every opCode the plugin maps, with its stage (8000 depends on the scan before it: see
/// [`stage`]).
pub const OP_CODES: [(&str, TrackingStatus); 12] = [
    ("50", TrackingStatus::InTransit),
    ("30", TrackingStatus::InTransit),
    ("31", TrackingStatus::InTransit),
    ("36", TrackingStatus::InTransit),
    ("130", TrackingStatus::InTransit),
    ("44", TrackingStatus::OutForDelivery),
    ("204", TrackingStatus::OutForDelivery),
    ("80", TrackingStatus::Delivered),
    ("33", TrackingStatus::Exception),
    ("70", TrackingStatus::Exception),
    ("99", TrackingStatus::Returned),
    ("648", TrackingStatus::Returned),
];

fn is_final(s: TrackingStatus) -> bool {
    matches!(s, TrackingStatus::Delivered | TrackingStatus::Returned)
}

/// The stage of `op_code`, given the stage of the scan before it. `None`: not an opCode
/// the plugin knows.
pub fn stage(op_code: &str, previous: Option<TrackingStatus>) -> Option<TrackingStatus> {
    if op_code == ORDER_CLOSED {
        return Some(match previous {
            Some(p) if is_final(p) => p,
            _ => TrackingStatus::Exception,
        });
    }
    OP_CODES
        .iter()
        .find(|(c, _)| *c == op_code)
        .map(|(_, s)| *s)
}

/// The routes of one waybill → events, oldest first (SF's order is not relied upon).
pub fn events(waybill_no: &str, routes: &[Value]) -> Result<Vec<TrackingEvent>, ConnectorError> {
    let mut scans = Vec::with_capacity(routes.len());
    for r in routes {
        let field = |k: &str| r.get(k).and_then(text_of).unwrap_or_default();
        let at = parse_local_ms(&format!("{waybill_no} acceptTime"), &field("acceptTime"), 8)?;
        scans.push((at, field("opCode"), field("remark"), field("acceptAddress")));
    }
    scans.sort_by_key(|s| s.0);
    let mut out: Vec<TrackingEvent> = Vec::with_capacity(scans.len());
    for (at, op, remark, place) in scans {
        let previous = out.last().map(|e| e.status);
        let status = stage(&op, previous).ok_or_else(|| {
            ConnectorError::InvalidInput(format!(
                "SF waybill {waybill_no}: unknown route opCode {op:?} ({remark}); \
                 the plugin maps only the opCodes of its README"
            ))
        })?;
        out.push(TrackingEvent {
            at,
            status,
            raw_status: op,
            description: remark,
            location: place,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn name(s: TrackingStatus) -> &'static str {
        match s {
            TrackingStatus::InfoReceived => "info-received",
            TrackingStatus::InTransit => "in-transit",
            TrackingStatus::OutForDelivery => "out-for-delivery",
            TrackingStatus::Delivered => "delivered",
            TrackingStatus::Exception => "exception",
            TrackingStatus::Returned => "returned",
        }
    }

    /// The rows of the README's opCode table: (opCode, stage cell).
    fn readme_rows() -> Vec<(String, String)> {
        let readme = include_str!("../README.md");
        let start = readme
            .find("<!-- op-codes:start -->")
            .expect("table start marker");
        let end = readme
            .find("<!-- op-codes:end -->")
            .expect("table end marker");
        readme[start..end]
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l
                    .trim()
                    .trim_matches('|')
                    .split('|')
                    .map(str::trim)
                    .collect();
                (cells.len() == 3
                    && cells[0].chars().all(|c| c.is_ascii_digit())
                    && !cells[0].is_empty())
                .then(|| (cells[0].to_string(), cells[2].trim_matches('`').to_string()))
            })
            .collect()
    }

    // The README's table and the mapping agree row by row, and cover the same opCodes.
    #[test]
    fn op_code_table_matches_the_readme() {
        let rows = readme_rows();
        assert_eq!(
            rows.len(),
            OP_CODES.len() + 1,
            "the table adds 8000: {rows:?}"
        );
        for (op, cell) in &rows {
            if op == ORDER_CLOSED {
                assert!(cell.starts_with("the previous"), "{cell}");
                continue;
            }
            let got = stage(op, None).unwrap_or_else(|| panic!("{op} is mapped"));
            assert_eq!(name(got), cell, "opCode {op}");
        }
    }

    // 8000 repeats a final stage before it, and is an exception without one.
    #[test]
    fn order_closed_repeats_the_final_stage() {
        use TrackingStatus as T;
        assert_eq!(stage("8000", Some(T::Delivered)), Some(T::Delivered));
        assert_eq!(stage("8000", Some(T::Returned)), Some(T::Returned));
        assert_eq!(stage("8000", Some(T::InTransit)), Some(T::Exception));
        assert_eq!(stage("8000", None), Some(T::Exception));
    }

    // Scans are sorted by time (GMT+8), keep SF's opCode as raw-status, and an unknown
    // opCode is invalid-input naming it and the waybill.
    #[test]
    fn routes_become_events_oldest_first() {
        let r = |t: &str, op: &str| json!({"acceptTime": t, "opCode": op, "remark": "r", "acceptAddress": "杭州市"});
        let ev = events(
            "SF1",
            &[
                r("2024-05-02 10:00:00", "80"),
                r("2024-05-01 08:00:00", "50"),
            ],
        )
        .unwrap();
        assert_eq!(
            ev.iter().map(|e| e.raw_status.as_str()).collect::<Vec<_>>(),
            ["50", "80"]
        );
        assert_eq!(ev[0].at, 1_714_521_600_000);
        assert_eq!(ev[1].status, TrackingStatus::Delivered);
        assert_eq!(ev[0].location, "杭州市");
        match events("SF1", &[r("2024-05-01 08:00:00", "9999")]) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.contains("9999") && m.contains("SF1"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            events("SF1", &[r("yesterday", "50")]),
            Err(ConnectorError::InvalidInput(_))
        ));
    }
}
