//! confirm-shipment run natively against the Pinduoduo simulator over real HTTP (reqwest
//! instead of wasi:http; the rest is the plugin's own code). The simulator checks every
//! signature and parameter and ships the order as PDD does.

use serde_json::json;
use wharf_plugin_pinduoduo::api;
use wharf_plugin_pinduoduo::router::Credentials;
use wharf_plugin_pinduoduo::settings::Settings;
use wharf_plugin_pinduoduo::shipment::{self, CARRIERS};
use wharf_sdk::carrier::Carriers;
use wharf_sdk::types::{ChannelStatus, ConnectorError, Order, Shipment};
use wharf_sim::native::Transport;
use wharf_sim::pinduoduo::{Failure, PddError, PddSim, PddSimConfig, COMPANIES};
use wharf_sim::time::now_ms;

struct Harness {
    net: Transport,
    sim: PddSim,
    settings: Settings,
    creds: Credentials,
    carriers: Carriers,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(PddSim::start(PddSimConfig::default()))
            .unwrap();
        let c = sim.config();
        let creds = Credentials {
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            access_token: c.access_token.clone(),
        };
        let settings =
            Settings::from_lookup(|k| (k == "api_url").then(|| sim.router_url())).unwrap();
        Harness {
            net,
            sim,
            settings,
            creds,
            carriers: shipment::carriers(None).unwrap(),
        }
    }

    /// A paid order awaiting shipment; its order_sn.
    fn paid_order(&self, seed: u64) -> String {
        let o = self.sim.generate_order_at(seed, now_ms() - 3_600_000);
        let sn = o["order_sn"].as_str().unwrap().to_string();
        self.sim.update_order(&sn, |o| {
            o["order_status"] = json!(1);
            o["refund_status"] = json!(1);
            o["after_sales_status"] = json!(0);
            o["confirm_status"] = json!(1);
            o["tracking_number"] = json!("");
        });
        sn
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
        self.confirm_with(&self.creds, s)
    }

    fn get(&self, sn: &str) -> Order {
        api::get_order(&self.settings, &self.creds, sn, now_ms(), &mut |r| {
            self.net.send(r)
        })
        .unwrap()
        .unwrap()
    }
}

fn ship(sn: &str, lines: &[&str], carrier: &str, tracking: &str) -> Shipment {
    Shipment {
        external_order_id: sn.into(),
        line_ids: lines.iter().map(|s| s.to_string()).collect(),
        carrier: carrier.into(),
        tracking_number: tracking.into(),
        shipped_at: now_ms(),
    }
}

// A shipment makes the order shipped (order_status 2) with the tracking number and PDD's
// numeric company id, and bumps updated_at so the next pull sees it.
#[test]
fn a_shipment_ships_the_order() {
    let h = Harness::new();
    let sn = h.paid_order(1);
    let before = h.get(&sn);
    let all_lines: Vec<String> = before.lines.iter().map(|l| l.line_id.clone()).collect();
    let all: Vec<&str> = all_lines.iter().map(String::as_str).collect();
    h.confirm(&ship(&sn, &all, "SF", "SF1234567")).unwrap();
    let after = h.get(&sn);
    assert_eq!(after.status, ChannelStatus::Shipped);
    assert!(after.updated_at > before.updated_at);
    let stored = h.sim.order(&sn).unwrap();
    assert_eq!(
        (
            stored["order_status"].as_i64(),
            stored["tracking_number"].as_str()
        ),
        (Some(2), Some("SF1234567"))
    );
    assert_eq!(h.sim.shipments()[0].logistics_id, 44);
}

// The same shipment again is ok without a second send; another number is permanent.
#[test]
fn re_confirming_is_idempotent_and_another_number_is_refused() {
    let h = Harness::new();
    let sn = h.paid_order(2);
    h.confirm(&ship(&sn, &[], "YTO", "YT1")).unwrap();
    h.confirm(&ship(&sn, &[], "YTO", "YT1")).unwrap();
    assert_eq!(h.sim.shipments().len(), 1);
    match h.confirm(&ship(&sn, &[], "YTO", "YT2")) {
        Err(ConnectorError::Permanent(m)) => assert!(m.contains("YT1") && m.contains("YT2"), "{m}"),
        other => panic!("{other:?}"),
    }
}

// When PDD refuses the send because the order shipped between our read and our send,
// the order is read again: the same number is ok.
#[test]
fn a_refused_send_is_decided_on_the_order_as_it_is_now() {
    let h = Harness::new();
    let sn = h.paid_order(3);
    let sim = h.sim.clone();
    let mut send = |r: wharf_sdk::http::Request| {
        if String::from_utf8_lossy(&r.body).contains("logistics.online.send") {
            sim.update_order(&sn, |o| {
                o["order_status"] = json!(2);
                o["tracking_number"] = json!("ZT1");
            });
        }
        h.net.send(r)
    };
    shipment::confirm_shipment(
        &h.settings,
        &h.creds,
        &h.carriers,
        &ship(&sn, &[], "ZTO", "ZT1"),
        now_ms(),
        &mut send,
    )
    .unwrap();
    assert!(h.sim.shipments().is_empty(), "PDD refused the send itself");
}

// Cancelled and refunded orders cannot ship: invalid-input naming the order and its
// codes; a subset of lines is refused (PDD ships whole orders); nothing is sent.
#[test]
fn orders_that_cannot_ship_are_invalid_input() {
    let h = Harness::new();
    for (seed, field, value) in [(4, "confirm_status", 2), (5, "refund_status", 4)] {
        let sn = h.paid_order(seed);
        h.sim.update_order(&sn, |o| o[field] = json!(value));
        match h.confirm(&ship(&sn, &[], "SF", "SF1")) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(
                    m.contains(&sn) && m.contains(&format!("{field}={value}")),
                    "{m}"
                )
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    let sn = h.paid_order(6);
    h.sim.update_order(&sn, |o| {
        let extra = o["item_list"][0].clone();
        o["item_list"].as_array_mut().unwrap().push(extra);
    });
    let lines = h.get(&sn).lines;
    assert!(lines.len() > 1);
    assert!(
        matches!(h.confirm(&ship(&sn, &[&lines[0].line_id], "SF", "SF1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("whole orders"))
    );
    assert!(
        matches!(h.confirm(&ship("240101-999999999", &[], "SF", "SF1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("does not exist"))
    );
    assert!(h.sim.shipments().is_empty());
}

// An unknown carrier is invalid-input before any request; carrier_codes adds one; every
// built-in id is one the simulated company list knows.
#[test]
fn unknown_carriers_are_refused_unless_overridden() {
    let mut h = Harness::new();
    let sn = h.paid_order(7);
    assert!(matches!(h.confirm(&ship(&sn, &[], "JTSD", "JT1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("JTSD")));
    assert_eq!(h.sim.requests(), 0);
    h.carriers = shipment::carriers(Some(r#"{"JTSD": 384}"#)).unwrap();
    h.confirm(&ship(&sn, &[], "jtsd", "JT1")).unwrap();
    assert_eq!(h.sim.shipments()[0].logistics_id, 384);
    for (_, id) in CARRIERS {
        assert!(COMPANIES.iter().any(|(c, _)| c.to_string() == *id), "{id}");
    }
}

// A wrong client secret is unauthorized, PDD's throttle rate-limited, a broken gateway
// transient; none ships anything.
#[test]
fn protocol_failures_are_typed() {
    let h = Harness::new();
    let sn = h.paid_order(8);
    let mut bad = h.creds.clone();
    bad.client_secret = "wrong".into();
    assert!(matches!(
        h.confirm_with(&bad, &ship(&sn, &[], "SF", "SF1")),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim.fail_next(1, Failure::Pdd(PddError::RateLimited));
    assert!(matches!(
        h.confirm(&ship(&sn, &[], "SF", "SF1")),
        Err(ConnectorError::RateLimited(_))
    ));
    h.sim.fail_next(1, Failure::Http(502));
    assert!(matches!(
        h.confirm(&ship(&sn, &[], "SF", "SF1")),
        Err(ConnectorError::Transient(_))
    ));
    assert!(h.sim.shipments().is_empty());
}

// Refund codes the simulator sets come back as the order's after-sales tags.
#[test]
fn refund_codes_become_after_sales_tags() {
    let h = Harness::new();
    let sn = h.paid_order(9);
    h.sim.update_order(&sn, |o| {
        o["refund_status"] = json!(2);
        o["after_sales_status"] = json!(3);
    });
    assert!(h
        .get(&sn)
        .tags
        .contains(&"after-sales:return-requested".to_string()));
}
