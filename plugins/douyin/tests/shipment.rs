//! confirm-shipment run natively against the doudian simulator over real HTTP (reqwest
//! instead of wasi:http; the rest is the plugin's own code). The simulator checks every
//! signature and parameter and ships the order as doudian does.

use serde_json::json;
use wharf_plugin_douyin::api;
use wharf_plugin_douyin::doudian::Credentials;
use wharf_plugin_douyin::settings::Settings;
use wharf_plugin_douyin::shipment::{self, CARRIERS};
use wharf_sdk::carrier::Carriers;
use wharf_sdk::types::{ChannelStatus, ConnectorError, Order, Shipment};
use wharf_sim::douyin::{DoudianError, DouyinSim, DouyinSimConfig, Fault, COMPANIES};
use wharf_sim::native::Transport;
use wharf_sim::time::now_ms;

struct Harness {
    net: Transport,
    sim: DouyinSim,
    settings: Settings,
    carriers: Carriers,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(DouyinSim::start(DouyinSimConfig::default()))
            .unwrap();
        let settings = Settings::from_lookup(|k| (k == "api_url").then(|| sim.base_url())).unwrap();
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
            app_key: c.app_key.clone(),
            app_secret: c.app_secret.clone(),
            access_token: c.access_token.clone(),
        }
    }

    /// An order awaiting shipment (备货中, 2) without after-sales; its id.
    fn paid_order(&self, seed: u64) -> u64 {
        let o = self.sim.generate_order(seed, now_ms() - 3_600_000);
        let id: u64 = o["order_id"]
            .as_str()
            .map(|s| s.parse().unwrap())
            .or(o["order_id"].as_u64())
            .unwrap();
        self.sim.update_order(id, |o| {
            o["order_status"] = json!(2);
            o.as_object_mut().unwrap().remove("logistics_info");
            for s in o["sku_order_list"].as_array_mut().unwrap() {
                s["order_status"] = json!(2);
                s["after_sale_info"] =
                    json!({"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0});
            }
        });
        id
    }

    fn confirm_with(&self, creds: &Credentials, s: &Shipment) -> Result<(), ConnectorError> {
        shipment::confirm_shipment(
            &self.settings,
            creds,
            &self.carriers,
            s,
            now_ms(),
            &mut |r| self.net.send(r),
        )
    }

    fn confirm(&self, s: &Shipment) -> Result<(), ConnectorError> {
        self.confirm_with(&self.creds(), s)
    }

    fn get(&self, id: u64) -> Order {
        api::get_order(
            &self.settings,
            &self.creds(),
            &id.to_string(),
            now_ms(),
            &mut |r| self.net.send(r),
        )
        .unwrap()
        .unwrap()
    }
}

fn ship(id: u64, lines: &[&str], carrier: &str, tracking: &str) -> Shipment {
    Shipment {
        external_order_id: id.to_string(),
        line_ids: lines.iter().map(|s| s.to_string()).collect(),
        carrier: carrier.into(),
        tracking_number: tracking.into(),
        shipped_at: now_ms(),
    }
}

// A shipment makes the order shipped (3) with the tracking number and doudian's company
// code, and bumps update_time so the next pull sees it.
#[test]
fn a_shipment_ships_the_order() {
    let h = Harness::new();
    let id = h.paid_order(1);
    let before = h.get(id);
    h.confirm(&ship(id, &[], "SF", "SF1234567")).unwrap();
    let after = h.get(id);
    assert_eq!(
        (after.status, after.raw_status.as_str()),
        (ChannelStatus::Shipped, "3")
    );
    assert!(after.updated_at > before.updated_at);
    let stored = h.sim.order(id).unwrap();
    assert_eq!(stored["logistics_info"][0]["tracking_no"], "SF1234567");
    assert_eq!(h.sim.shipments()[0].company_code, "shunfeng");
}

// The same shipment again is ok without a second send; another number is permanent.
#[test]
fn re_confirming_is_idempotent_and_another_number_is_refused() {
    let h = Harness::new();
    let id = h.paid_order(2);
    h.confirm(&ship(id, &[], "ZTO", "ZT1")).unwrap();
    h.confirm(&ship(id, &[], "ZTO", "ZT1")).unwrap();
    assert_eq!(h.sim.shipments().len(), 1);
    match h.confirm(&ship(id, &[], "ZTO", "ZT2")) {
        Err(ConnectorError::Permanent(m)) => assert!(m.contains("ZT1") && m.contains("ZT2"), "{m}"),
        other => panic!("{other:?}"),
    }
}

// When doudian refuses the send because the order shipped between our read and our
// send, the order is read again: the same number is ok.
#[test]
fn a_refused_send_is_decided_on_the_order_as_it_is_now() {
    let h = Harness::new();
    let id = h.paid_order(3);
    let sim = h.sim.clone();
    let mut send = |r: wharf_sdk::http::Request| {
        if r.url.contains("/order/logisticsAdd") {
            sim.update_order(id, |o| {
                o["order_status"] = json!(3);
                o["logistics_info"] = json!([{"tracking_no": "YT1", "company": "yuantong"}]);
            });
        }
        h.net.send(r)
    };
    shipment::confirm_shipment(
        &h.settings,
        &h.creds(),
        &h.carriers,
        &ship(id, &[], "YTO", "YT1"),
        now_ms(),
        &mut send,
    )
    .unwrap();
    assert!(
        h.sim.shipments().is_empty(),
        "doudian refused the send itself"
    );
}

// Cancelled and refunded orders cannot ship (invalid-input naming the order and status);
// a subset of sku orders is refused; nothing is sent.
#[test]
fn orders_that_cannot_ship_are_invalid_input() {
    let h = Harness::new();
    for (seed, status) in [(4, 4), (5, 21)] {
        let id = h.paid_order(seed);
        h.sim
            .update_order(id, |o| o["order_status"] = json!(status));
        match h.confirm(&ship(id, &[], "SF", "SF1")) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(
                    m.contains(&id.to_string()) && m.contains(&format!("({status})")),
                    "{m}"
                )
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    let id = h.paid_order(6);
    h.sim.update_order(id, |o| {
        let mut extra = o["sku_order_list"][0].clone();
        extra["order_id"] = json!((id + 9).to_string());
        o["sku_order_list"].as_array_mut().unwrap().push(extra);
    });
    let lines = h.get(id).lines;
    assert!(lines.len() > 1);
    assert!(
        matches!(h.confirm(&ship(id, &[&lines[0].line_id], "SF", "SF1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("whole orders"))
    );
    assert!(
        matches!(h.confirm(&ship(6_919_000_999_999_999_999, &[], "SF", "SF1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("does not exist"))
    );
    assert!(h.sim.shipments().is_empty());
}

// An unknown carrier is invalid-input before any request; carrier_codes adds one; every
// built-in code is one the simulated company list knows.
#[test]
fn unknown_carriers_are_refused_unless_overridden() {
    let mut h = Harness::new();
    let id = h.paid_order(7);
    assert!(matches!(h.confirm(&ship(id, &[], "DBL", "DB1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("DBL")));
    assert_eq!(h.sim.requests(), 0);
    h.carriers = shipment::carriers(Some(r#"{"DBL": "ems"}"#)).unwrap();
    h.confirm(&ship(id, &[], "DBL", "DB1")).unwrap();
    assert_eq!(h.sim.shipments()[0].company_code, "ems");
    for (_, code) in CARRIERS {
        assert!(COMPANIES.iter().any(|(c, _)| c == code), "{code}");
    }
}

// A wrong app secret is unauthorized, flow control rate-limited, a broken gateway
// transient; none ships anything.
#[test]
fn protocol_failures_are_typed() {
    let h = Harness::new();
    let id = h.paid_order(8);
    let mut bad = h.creds();
    bad.app_secret = "wrong".into();
    assert!(matches!(
        h.confirm_with(&bad, &ship(id, &[], "SF", "SF1")),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim
        .fail_next(1, Fault::Doudian(DoudianError::flow_limited()));
    assert!(matches!(
        h.confirm(&ship(id, &[], "SF", "SF1")),
        Err(ConnectorError::RateLimited(_))
    ));
    h.sim.fail_next(1, Fault::Http(503));
    assert!(matches!(
        h.confirm(&ship(id, &[], "SF", "SF1")),
        Err(ConnectorError::Transient(_))
    ));
    assert!(h.sim.shipments().is_empty());
}

// An after-sales case the simulator sets on a sku order comes back as the order's tag.
#[test]
fn after_sale_info_becomes_after_sales_tags() {
    let h = Harness::new();
    let id = h.paid_order(9);
    h.sim.update_order(id, |o| {
        o["sku_order_list"][0]["after_sale_info"] =
            json!({"after_sale_status": 6, "after_sale_type": 2, "refund_status": 1});
    });
    assert!(h
        .get(id)
        .tags
        .contains(&"after-sales:refund-requested".to_string()));
}
