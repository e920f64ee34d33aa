//! confirm-shipment run natively against the SP-API simulator over real HTTP (reqwest
//! instead of wasi:http; the rest is the plugin's own code): LWA token, getOrder,
//! getOrderItems and confirmShipment with the simulator's checks.

use serde_json::json;
use wharf_plugin_amazon::api;
use wharf_plugin_amazon::settings::Settings;
use wharf_plugin_amazon::shipment::{self, package_reference_id};
use wharf_plugin_amazon::spapi::Credentials;
use wharf_sdk::carrier::Carriers;
use wharf_sdk::types::{ChannelStatus, ConnectorError, Order, Shipment};
use wharf_sim::amazon::{AmazonSim, AmazonSimConfig, Fault, RateLimits};
use wharf_sim::native::Transport;

struct Harness {
    net: Transport,
    sim: AmazonSim,
    settings: Settings,
    carriers: Carriers,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let cfg = AmazonSimConfig {
            limits: RateLimits::fast(),
            ..AmazonSimConfig::default()
        };
        let sim = net.block_on(AmazonSim::start(cfg)).unwrap();
        let settings = Settings {
            endpoint: sim.base_url(),
            token_url: format!("{}/auth/o2/token", sim.base_url()),
            marketplace_ids: sim.config().marketplace_ids.clone(),
            seller_id: Some(sim.config().seller_id.clone()),
            page_size: 20,
            lookback_days: 1,
        };
        Harness {
            net,
            sim,
            settings,
            carriers: shipment::carriers(None).unwrap(),
        }
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            refresh_token: c.refresh_token.clone(),
        }
    }

    /// An Unshipped order with nothing shipped; its id.
    fn paid_order(&self, seed: u64) -> String {
        let o = self.sim.generate_order(seed, self.sim.now_ms() - 3_600_000);
        let id = o["AmazonOrderId"].as_str().unwrap().to_string();
        self.sim.update_order(&id, |o, items| {
            o["OrderStatus"] = json!("Unshipped");
            for i in items.iter_mut() {
                i["QuantityShipped"] = json!(0);
            }
        });
        id
    }

    fn confirm_with(&self, creds: &Credentials, s: &Shipment) -> Result<(), ConnectorError> {
        shipment::confirm_shipment(&self.settings, creds, &self.carriers, s, &mut |r| {
            self.net.send(r)
        })
    }

    fn confirm(&self, s: &Shipment) -> Result<(), ConnectorError> {
        self.confirm_with(&self.creds(), s)
    }

    fn get(&self, id: &str) -> Order {
        api::get_order(&self.settings, &self.creds(), id, &mut |r| self.net.send(r))
            .unwrap()
            .unwrap()
    }

    fn ship(&self, id: &str, lines: &[String], carrier: &str, tracking: &str) -> Shipment {
        Shipment {
            external_order_id: id.into(),
            line_ids: lines.to_vec(),
            carrier: carrier.into(),
            tracking_number: tracking.into(),
            shipped_at: self.sim.now_ms(),
        }
    }
}

// A shipment of the whole order makes it Shipped with one package carrying every item's
// quantity, the carrier code and the reference derived from the tracking number.
#[test]
fn a_shipment_ships_the_order() {
    let h = Harness::new();
    let id = h.paid_order(1);
    let before = h.get(&id);
    h.confirm(&h.ship(&id, &[], "UPS", "1Z999AA10123456784"))
        .unwrap();
    let after = h.get(&id);
    assert_eq!(
        (after.status, after.raw_status.as_str()),
        (ChannelStatus::Shipped, "Shipped")
    );
    assert!(after.updated_at > before.updated_at);
    let p = &h.sim.packages()[0];
    assert_eq!(
        (p.carrier_code.as_str(), p.tracking_number.as_str()),
        ("UPS", "1Z999AA10123456784")
    );
    assert_eq!(
        p.package_reference_id,
        package_reference_id("1Z999AA10123456784")
    );
    let ordered: u32 = before.lines.iter().map(|l| l.quantity).sum();
    assert_eq!(p.items.iter().map(|(_, q)| *q as u32).sum::<u32>(), ordered);
}

// The same tracking number again is the same package (ok, nothing added); another number
// on the shipped order is permanent.
#[test]
fn re_confirming_is_idempotent_and_another_number_is_refused() {
    let h = Harness::new();
    let id = h.paid_order(2);
    h.confirm(&h.ship(&id, &[], "FEDEX", "FX1")).unwrap();
    h.confirm(&h.ship(&id, &[], "FEDEX", "FX1")).unwrap();
    assert_eq!(h.sim.packages().len(), 1);
    match h.confirm(&h.ship(&id, &[], "FEDEX", "FX2")) {
        Err(ConnectorError::Permanent(m)) => {
            assert!(m.contains("FX2") && m.contains("Shipped"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

// Shipping one item leaves the order PartiallyShipped; a carrier Amazon does not list
// goes as Other with its name.
#[test]
fn a_partial_shipment_and_an_other_carrier() {
    let h = Harness::new();
    let id = h.paid_order(3);
    let lines: Vec<String> = h.get(&id).lines.iter().map(|l| l.line_id.clone()).collect();
    if lines.len() < 2 {
        h.sim.update_order(&id, |_, items| {
            let mut extra = items[0].clone();
            extra["OrderItemId"] = json!("99999999999999");
            items.push(extra);
        });
    }
    let lines: Vec<String> = h.get(&id).lines.iter().map(|l| l.line_id.clone()).collect();
    h.confirm(&h.ship(&id, &lines[..1], "SF", "SF100")).unwrap();
    assert_eq!(h.get(&id).status, ChannelStatus::PartiallyShipped);
    let p = &h.sim.packages()[0];
    assert_eq!(
        (p.carrier_code.as_str(), p.carrier_name.as_deref()),
        ("Other", Some("SF Express"))
    );
}

// A cancelled or pending order cannot ship (invalid-input naming it and the status); an
// unknown order is invalid-input; an unknown carrier is refused before any request.
#[test]
fn orders_and_carriers_that_cannot_ship_are_invalid_input() {
    let h = Harness::new();
    for (seed, status) in [(4, "Canceled"), (5, "Pending")] {
        let id = h.paid_order(seed);
        h.sim
            .update_order(&id, |o, _| o["OrderStatus"] = json!(status));
        match h.confirm(&h.ship(&id, &[], "UPS", "1Z1")) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.contains(&id) && m.contains(status), "{m}")
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    assert!(
        matches!(h.confirm(&h.ship("111-1111111-1111111", &[], "UPS", "1Z1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("does not exist"))
    );
    let id = h.paid_order(6);
    let before = h.sim.requests();
    assert!(
        matches!(h.confirm(&h.ship(&id, &[], "PIGEON", "P1")), Err(ConnectorError::InvalidInput(m)) if m.contains("PIGEON"))
    );
    assert_eq!(h.sim.requests(), before);
    assert!(h.sim.packages().is_empty());
}

// A wrong client secret is unauthorized, QuotaExceeded rate-limited, a 5xx transient;
// none ships anything.
#[test]
fn protocol_failures_are_typed() {
    let h = Harness::new();
    let id = h.paid_order(8);
    let mut bad = h.creds();
    bad.client_secret = "wrong".into();
    assert!(matches!(
        h.confirm_with(&bad, &h.ship(&id, &[], "UPS", "1Z1")),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim.fail_next(1, Fault::QuotaExceeded);
    assert!(matches!(
        h.confirm(&h.ship(&id, &[], "UPS", "1Z1")),
        Err(ConnectorError::RateLimited(_))
    ));
    h.sim.fail_next(1, Fault::Server(503));
    assert!(matches!(
        h.confirm(&h.ship(&id, &[], "UPS", "1Z1")),
        Err(ConnectorError::Transient(_))
    ));
    assert!(h.sim.packages().is_empty());
}
