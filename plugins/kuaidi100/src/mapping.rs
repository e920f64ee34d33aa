//! Kuaidi100 `state` codes (and the state words of `resultv2` items) → the contract's
//! tracking status; a query answer → tracking events. Pure.

use serde_json::Value;
use wharf_sdk::courier::{TrackingEvent, TrackingStatus};
use wharf_sdk::time::parse_local_ms;
use wharf_sdk::types::ConnectorError;

/// Every `state` Kuaidi100 documents: code, its word in `resultv2` items, the stage (the
/// README's table).
pub const STATES: [(&str, &str, TrackingStatus); 13] = [
    ("0", "在途", TrackingStatus::InTransit),
    ("1", "揽收", TrackingStatus::InTransit),
    ("2", "疑难", TrackingStatus::Exception),
    ("3", "签收", TrackingStatus::Delivered),
    ("4", "退签", TrackingStatus::Returned),
    ("5", "派件", TrackingStatus::OutForDelivery),
    ("6", "退回", TrackingStatus::Returned),
    ("7", "转投", TrackingStatus::InTransit),
    ("10", "待清关", TrackingStatus::InTransit),
    ("11", "清关中", TrackingStatus::InTransit),
    ("12", "已清关", TrackingStatus::InTransit),
    ("13", "清关异常", TrackingStatus::InTransit),
    ("14", "拒签", TrackingStatus::Exception),
];

/// The stage of a `state` code; `None` for a code Kuaidi100 does not document.
pub fn status_of(state: &str) -> Option<TrackingStatus> {
    STATES
        .iter()
        .find(|(c, _, _)| *c == state)
        .map(|(_, _, s)| *s)
}

/// The `state` code of an item's state word.
pub fn code_of_word(word: &str) -> Option<&'static str> {
    STATES
        .iter()
        .find(|(_, w, _)| *w == word)
        .map(|(c, _, _)| *c)
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The events of a successful answer, oldest first. The newest scan takes the answer's
/// `state` (authoritative; an undocumented one is `invalid-input` naming it); older scans
/// take their item's state word, or in-transit when the item has none (`resultv2` off) or
/// one the table lacks (kept as raw-status).
pub fn events(label: &str, answer: &Value) -> Result<Vec<TrackingEvent>, ConnectorError> {
    let state = text(answer, "state").unwrap_or_default();
    let latest = status_of(&state).ok_or_else(|| {
        ConnectorError::InvalidInput(format!(
            "Kuaidi100 {label}: unknown state {state:?}; the plugin maps only the documented states of its README"
        ))
    })?;
    let items = answer
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut scans = Vec::with_capacity(items.len());
    for item in &items {
        let time = text(item, "time")
            .or_else(|| text(item, "ftime"))
            .unwrap_or_default();
        let at = parse_local_ms(&format!("{label} data.time"), &time, 8)?;
        scans.push((at, item));
    }
    scans.sort_by_key(|(at, _)| *at);
    let last = scans.len().saturating_sub(1);
    Ok(scans
        .into_iter()
        .enumerate()
        .map(|(i, (at, item))| {
            let (status, raw) = if i == last {
                (latest, state.clone())
            } else {
                match text(item, "status") {
                    Some(word) => match code_of_word(&word) {
                        Some(code) => (
                            status_of(code).unwrap_or(TrackingStatus::InTransit),
                            code.to_string(),
                        ),
                        None => (TrackingStatus::InTransit, word),
                    },
                    None => (TrackingStatus::InTransit, "0".to_string()),
                }
            };
            TrackingEvent {
                at,
                status,
                raw_status: raw,
                description: text(item, "context").unwrap_or_default(),
                location: text(item, "location")
                    .or_else(|| text(item, "areaName"))
                    .unwrap_or_default(),
            }
        })
        .collect())
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

    // The README's state table and STATES agree row by row (code, word, stage).
    #[test]
    fn status_table_matches_the_readme() {
        let readme = include_str!("../README.md");
        let start = readme.find("<!-- states:start -->").expect("start marker");
        let end = readme.find("<!-- states:end -->").expect("end marker");
        let rows: Vec<(String, String, String)> = readme[start..end]
            .lines()
            .filter_map(|l| {
                let c: Vec<&str> = l
                    .trim()
                    .trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().trim_matches('`'))
                    .collect();
                (c.len() == 4 && !c[0].is_empty() && c[0].chars().all(|x| x.is_ascii_digit()))
                    .then(|| (c[0].to_string(), c[1].to_string(), c[3].to_string()))
            })
            .collect();
        let table: Vec<(String, String, String)> = STATES
            .iter()
            .map(|(c, w, s)| (c.to_string(), w.to_string(), name(*s).to_string()))
            .collect();
        assert_eq!(rows, table);
    }

    // Each state, as the answer's state, gives the newest event that stage and code.
    #[test]
    fn every_state_maps_row_by_row() {
        for (code, _, want) in STATES {
            let a =
                json!({"state": code, "data": [{"time": "2024-05-01 08:00:00", "context": "c"}]});
            let ev = events("yunda:1", &a).unwrap();
            assert_eq!(
                (ev[0].status, ev[0].raw_status.as_str()),
                (want, code),
                "state {code}"
            );
        }
    }

    // Scans are oldest first; older ones take their words; an unknown state is refused.
    #[test]
    fn answers_become_events() {
        let a = json!({"state": "3", "data": [
            {"time": "2024-05-02 10:00:00", "context": "signed", "status": "签收", "location": "杭州市"},
            {"time": "2024-05-01 09:00:00", "context": "out", "status": "派件"},
            {"time": "2024-05-01 08:00:00", "context": "picked", "status": "揽收"}]});
        let ev = events("yunda:1", &a).unwrap();
        let got: Vec<_> = ev
            .iter()
            .map(|e| (e.status, e.raw_status.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (TrackingStatus::InTransit, "1"),
                (TrackingStatus::OutForDelivery, "5"),
                (TrackingStatus::Delivered, "3")
            ]
        );
        assert_eq!(ev[0].at, 1_714_521_600_000);
        assert_eq!(ev[2].location, "杭州市");
        match events("yunda:1", &json!({"state": "99", "data": []})) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.contains("\"99\"") && m.contains("yunda:1"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
}
