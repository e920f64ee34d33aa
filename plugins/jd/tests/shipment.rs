//! confirm-shipment run natively against the JD (JOS) simulator over real HTTP (reqwest
//! instead of wasi:http; the rest is the plugin's own code). The simulator checks every
//! signature and parameter and ships the order as JD does.

use serde_json::json;
use wharf_plugin_jd::api;
use wharf_plugin_jd::jos::Credentials;
use wharf_plugin_jd::settings::Settings;
use wharf_plugin_jd::shipment::{self, CARRIERS};
use wharf_sdk::carrier::Carriers;
use wharf_sdk::types::{ChannelStatus, ConnectorError, Order, Shipment};
use wharf_sim::jd::{Fault, JdSim, JdSimConfig, JosError};
use wharf_sim::native::Transport;
use wharf_sim::time::now_ms;

struct Harness {
    net: Transport,
    sim: JdSim,
    settings: Settings,
    carriers: Carriers,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net.block_on(JdSim::start(JdSimConfig::default())).unwrap();
        let settings =
            Settings::from_lookup(|k| (k == "api_url").then(|| sim.router_url())).unwrap();
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

    /// An order awaiting stock-out; its id.
    fn paid_order(&self, seed: u64) -> u64 {
        let o = self.sim.generate_order(seed, now_ms() - 3_600_000);
        let id: u64 = o["orderId"].as_str().unwrap().parse().unwrap();
        self.sim.update_order(id, |o| {
            o["orderState"] = json!("WAIT_SELLER_STOCK_OUT");
            o.as_object_mut().unwrap().remove("waybill");
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

fn ship(id: u64, carrier: &str, tracking: &str) -> Shipment {
    Shipment {
        external_order_id: id.to_string(),
        line_ids: vec![],
        carrier: carrier.into(),
        tracking_number: tracking.into(),
        shipped_at: now_ms(),
    }
}

// A shipment makes the order WAIT_GOODS_RECEIVE_CONFIRM with the waybill and JD's carrier
// id, and bumps modified so the next search sees it.
#[test]
fn a_shipment_ships_the_order() {
    let h = Harness::new();
    let id = h.paid_order(1);
    let before = h.get(id);
    h.confirm(&ship(id, "SF", "SF1234567")).unwrap();
    let after = h.get(id);
    assert_eq!(
        (after.status, after.raw_status.as_str()),
        (ChannelStatus::Shipped, "WAIT_GOODS_RECEIVE_CONFIRM")
    );
    assert!(after.updated_at > before.updated_at);
    assert_eq!(h.sim.order(id).unwrap()["waybill"], "SF1234567");
    assert_eq!(h.sim.shipments()[0].logi_copr_id, "467");
}

// The same shipment again is ok without a second send; another number is permanent.
#[test]
fn re_confirming_is_idempotent_and_another_number_is_refused() {
    let h = Harness::new();
    let id = h.paid_order(2);
    h.confirm(&ship(id, "JD", "JDV1")).unwrap();
    h.confirm(&ship(id, "JD", "JDV1")).unwrap();
    assert_eq!(h.sim.shipments().len(), 1);
    match h.confirm(&ship(id, "JD", "JDV2")) {
        Err(ConnectorError::Permanent(m)) => {
            assert!(m.contains("JDV1") && m.contains("JDV2"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

// When JD refuses the send because the order shipped between our read and our send, the
// order is read again: the same number is ok, another is JD's refusal as permanent.
#[test]
fn a_refused_send_is_decided_on_the_order_as_it_is_now() {
    let h = Harness::new();
    for (seed, theirs, ok) in [(3, "YT1", true), (13, "YT9", false)] {
        let id = h.paid_order(seed);
        let sim = h.sim.clone();
        let mut send = |r: wharf_sdk::http::Request| {
            if String::from_utf8_lossy(&r.body).contains("pop.order.shipment") {
                sim.update_order(id, |o| {
                    o["orderState"] = json!("WAIT_GOODS_RECEIVE_CONFIRM");
                    o["waybill"] = json!(theirs);
                });
            }
            h.net.send(r)
        };
        let got = shipment::confirm_shipment(
            &h.settings,
            &h.creds(),
            &h.carriers,
            &ship(id, "YTO", "YT1"),
            now_ms(),
            &mut send,
        );
        match (got, ok) {
            (Ok(()), true) => {}
            (Err(ConnectorError::Permanent(m)), false) => assert!(m.contains("YT9"), "{m}"),
            (other, _) => panic!("{theirs}: {other:?}"),
        }
    }
    assert!(h.sim.shipments().is_empty());
}

// Cancelled and held orders cannot ship: invalid-input naming the order and state.
#[test]
fn orders_that_cannot_ship_are_invalid_input() {
    let h = Harness::new();
    for (seed, state) in [(4, "TRADE_CANCELED"), (5, "LOCKED")] {
        let id = h.paid_order(seed);
        h.sim.update_order(id, |o| o["orderState"] = json!(state));
        match h.confirm(&ship(id, "SF", "SF1")) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.contains(&id.to_string()) && m.contains(state), "{m}")
            }
            other => panic!("{state}: {other:?}"),
        }
    }
    assert!(matches!(h.confirm(&ship(99_999_999_999, "SF", "SF1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("does not exist")));
    assert!(h.sim.shipments().is_empty());
}

// An unknown carrier is invalid-input before any request; carrier_codes adds one; every
// built-in id is one the simulated shop signed.
#[test]
fn unknown_carriers_are_refused_unless_overridden() {
    let mut h = Harness::new();
    let id = h.paid_order(7);
    assert!(
        matches!(h.confirm(&ship(id, "UPS", "1Z1")), Err(ConnectorError::InvalidInput(m)) if m.contains("UPS"))
    );
    assert_eq!(h.sim.requests(), 0);
    h.carriers = shipment::carriers(Some(r#"{"UPS": "465"}"#)).unwrap();
    h.confirm(&ship(id, "UPS", "1Z1")).unwrap();
    assert_eq!(h.sim.shipments()[0].logi_copr_id, "465");
    for (_, code) in CARRIERS {
        assert!(
            wharf_sim::jd::CARRIERS.iter().any(|(c, _)| c == code),
            "{code}"
        );
    }
}

// A wrong app secret is unauthorized, the call limit rate-limited, a broken gateway
// transient; none ships anything.
#[test]
fn protocol_failures_are_typed() {
    let h = Harness::new();
    let id = h.paid_order(8);
    let mut bad = h.creds();
    bad.app_secret = "wrong".into();
    assert!(matches!(
        h.confirm_with(&bad, &ship(id, "SF", "SF1")),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim
        .fail_next(1, Fault::Jos(JosError::app_call_limited(5)));
    assert!(matches!(
        h.confirm(&ship(id, "SF", "SF1")),
        Err(ConnectorError::RateLimited(_))
    ));
    h.sim.fail_next(1, Fault::Http(502));
    assert!(matches!(
        h.confirm(&ship(id, "SF", "SF1")),
        Err(ConnectorError::Transient(_))
    ));
    assert!(h.sim.shipments().is_empty());
}
