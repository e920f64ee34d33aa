//! `confirm-shipment` over Shopify's fulfillment orders (Admin REST 2024-04):
//!
//! 1. `GET /orders/{id}/fulfillment_orders.json` lists the order's fulfillment orders;
//! 2. `POST /fulfillments.json` with `line_items_by_fulfillment_order` (the open
//!    fulfillment orders, with their line items limited to the shipped lines when the
//!    host names them) and `tracking_info {number, company}`.
//!
//! A retried call whose first attempt went through finds no open fulfillment order
//! left but a closed one: that is success, so a retry never fulfils twice. A 422 (e.g. a
//! fulfillment order that was closed or cancelled meanwhile) is permanent, with
//! Shopify's message.

use serde::Deserialize;
use wharf_sdk::http::Request;
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api::Transport;
use crate::settings::Settings;

#[derive(Deserialize)]
struct FulfillmentOrders {
    fulfillment_orders: Vec<FulfillmentOrder>,
}

#[derive(Deserialize)]
struct FulfillmentOrder {
    id: u64,
    status: String,
    #[serde(default)]
    line_items: Vec<FoLineItem>,
}

#[derive(Deserialize)]
struct FoLineItem {
    id: u64,
    line_item_id: u64,
    #[serde(default)]
    fulfillable_quantity: u64,
}

/// Fulfillment-order statuses a fulfillment can be created for.
const FULFILLABLE: [&str; 2] = ["open", "in_progress"];

fn authed(req: Request, token: &str) -> Request {
    req.header("X-Shopify-Access-Token", token)
        .header("Accept", "application/json")
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

/// Report the shipment: fulfil the order's open fulfillment orders with the tracking
/// number and carrier.
pub fn confirm_shipment(
    settings: &Settings,
    token: &str,
    shipment: &Shipment,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let order = &shipment.external_order_id;
    if order.is_empty() || !order.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{order:?} is not a Shopify order id (digits only)"
        )));
    }
    if shipment.tracking_number.trim().is_empty() {
        return Err(ConnectorError::InvalidInput("no tracking number".into()));
    }
    let url = format!(
        "{}/orders/{order}/fulfillment_orders.json",
        settings.api_base()
    );
    let resp = send(authed(Request::get(url), token))?;
    if resp.status == 404 {
        return Err(ConnectorError::Permanent(format!(
            "order {order} not found"
        )));
    }
    let fos = resp
        .error_for_status()?
        .json::<FulfillmentOrders>()?
        .fulfillment_orders;
    let wanted: Vec<u64> = shipment
        .line_ids
        .iter()
        .filter_map(|l| l.parse().ok())
        .collect();
    let mut groups = Vec::new();
    for fo in fos
        .iter()
        .filter(|f| FULFILLABLE.contains(&f.status.as_str()))
    {
        let items: Vec<serde_json::Value> = fo
            .line_items
            .iter()
            .filter(|li| li.fulfillable_quantity > 0)
            .filter(|li| wanted.is_empty() || wanted.contains(&li.line_item_id))
            .map(|li| serde_json::json!({"id": li.id, "quantity": li.fulfillable_quantity}))
            .collect();
        if !items.is_empty() {
            groups.push(serde_json::json!({
                "fulfillment_order_id": fo.id,
                "fulfillment_order_line_items": items,
            }));
        }
    }
    if groups.is_empty() {
        // Nothing left to fulfil: an earlier attempt did it (a closed fulfillment order),
        // or there is nothing that can be fulfilled.
        if fos.iter().any(|f| f.status == "closed") {
            return Ok(());
        }
        let statuses: Vec<&str> = fos.iter().map(|f| f.status.as_str()).collect();
        return Err(ConnectorError::Permanent(format!(
            "order {order} has no open fulfillment order (statuses: {})",
            if statuses.is_empty() {
                "none".to_string()
            } else {
                statuses.join(", ")
            }
        )));
    }
    let body = serde_json::json!({"fulfillment": {
        "line_items_by_fulfillment_order": groups,
        "tracking_info": {"number": shipment.tracking_number, "company": shipment.carrier},
        "notify_customer": true,
    }});
    let url = format!("{}/fulfillments.json", settings.api_base());
    let req = authed(Request::post(url, body.to_string().into_bytes()), token)
        .header("Content-Type", "application/json");
    let resp = send(req)?;
    if resp.status == 422 || resp.status == 404 {
        return Err(ConnectorError::Permanent(format!(
            "Shopify refused the fulfillment (HTTP {}): {}",
            resp.status,
            snippet(&resp.body)
        )));
    }
    resp.error_for_status()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use wharf_sdk::http::Response;

    fn settings() -> Settings {
        Settings::from_lookup(|k| match k {
            "shop_url" => Some("https://s.myshopify.com".into()),
            _ => None,
        })
        .unwrap()
    }

    fn shipment(lines: &[&str]) -> Shipment {
        Shipment {
            external_order_id: "1001".into(),
            line_ids: lines.iter().map(|s| s.to_string()).collect(),
            carrier: "SF Express".into(),
            tracking_number: "SF123".into(),
            shipped_at: 0,
        }
    }

    fn ok(status: u16, body: serde_json::Value) -> Result<Response, ConnectorError> {
        Ok(Response {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        })
    }

    fn fos(status: &str) -> serde_json::Value {
        serde_json::json!({"fulfillment_orders": [{"id": 77, "status": status, "line_items": [
            {"id": 701, "line_item_id": 11, "fulfillable_quantity": 2},
            {"id": 702, "line_item_id": 12, "fulfillable_quantity": 1}]}]})
    }

    // Lists the fulfillment orders, then posts one fulfillment with the shipped lines'
    // fulfillment-order line items and the tracking info.
    #[test]
    fn posts_the_open_fulfillment_order_with_tracking() {
        let sent = RefCell::new(Vec::new());
        let mut send = |r: Request| {
            sent.borrow_mut().push((r.url.clone(), r.body.clone()));
            if r.url.ends_with("fulfillment_orders.json") {
                ok(200, fos("open"))
            } else {
                ok(
                    201,
                    serde_json::json!({"fulfillment": {"id": 1, "status": "success"}}),
                )
            }
        };
        confirm_shipment(&settings(), "t", &shipment(&["11"]), &mut send).unwrap();
        let sent = sent.into_inner();
        assert_eq!(sent.len(), 2);
        assert!(
            sent[0].0.ends_with("/orders/1001/fulfillment_orders.json"),
            "{}",
            sent[0].0
        );
        assert!(sent[1].0.ends_with("/fulfillments.json"));
        let body: serde_json::Value = serde_json::from_slice(&sent[1].1).unwrap();
        let f = &body["fulfillment"];
        assert_eq!(f["tracking_info"]["number"], "SF123");
        assert_eq!(f["tracking_info"]["company"], "SF Express");
        let items = &f["line_items_by_fulfillment_order"][0];
        assert_eq!(items["fulfillment_order_id"], 77);
        assert_eq!(
            items["fulfillment_order_line_items"],
            serde_json::json!([{"id": 701, "quantity": 2}])
        );
    }

    // A retry after a successful first attempt finds the fulfillment order closed and
    // succeeds without posting again; a cancelled one is a permanent error.
    #[test]
    fn closed_is_done_and_cancelled_is_permanent() {
        let posts = RefCell::new(0);
        let mut send = |r: Request| {
            if r.url.ends_with("fulfillments.json") {
                *posts.borrow_mut() += 1;
            }
            ok(200, fos("closed"))
        };
        confirm_shipment(&settings(), "t", &shipment(&[]), &mut send).unwrap();
        assert_eq!(*posts.borrow(), 0);
        let mut send = |_r: Request| ok(200, fos("cancelled"));
        let err = confirm_shipment(&settings(), "t", &shipment(&[]), &mut send).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Permanent(m) if m.contains("cancelled")),
            "{err:?}"
        );
    }

    // Shopify's 422 is permanent with its message; a 503 is transient (retried).
    #[test]
    fn refusals_and_outages_keep_their_kind() {
        let mut send = |r: Request| {
            if r.url.ends_with("fulfillment_orders.json") {
                ok(200, fos("open"))
            } else {
                ok(
                    422,
                    serde_json::json!({"errors": ["Fulfillment order 77 has an unfulfillable status= closed."]}),
                )
            }
        };
        let err = confirm_shipment(&settings(), "t", &shipment(&[]), &mut send).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Permanent(m) if m.contains("unfulfillable")),
            "{err:?}"
        );
        let mut send = |_r: Request| ok(503, serde_json::json!({"errors": "busy"}));
        let err = confirm_shipment(&settings(), "t", &shipment(&[]), &mut send).unwrap_err();
        assert!(matches!(err, ConnectorError::Transient(_)), "{err:?}");
    }
}
