//! confirm-shipment run natively against the Taobao simulator over real HTTP: the
//! plugin's own code with reqwest as its transport. The simulator checks every
//! signature and parameter and changes the trade as TOP does, so what the next read
//! shows is what the plugin caused.

use serde_json::{json, Value};
use wharf_plugin_taobao::api;
use wharf_plugin_taobao::settings::Settings;
use wharf_plugin_taobao::shipment::{self, CARRIERS};
use wharf_plugin_taobao::top::Credentials;
use wharf_sdk::carrier::Carriers;
use wharf_sdk::types::{ChannelStatus, ConnectorError, Shipment};
use wharf_sim::native::Transport;
use wharf_sim::taobao::{Fault, TaobaoSim, TaobaoSimConfig, TopError};
use wharf_sim::time::now_ms;

struct Harness {
    net: Transport,
    sim: TaobaoSim,
    settings: Settings,
    carriers: Carriers,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(TaobaoSim::start(TaobaoSimConfig::default()))
            .unwrap();
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
            session: c.session.clone(),
        }
    }

    /// A paid trade awaiting shipment with `subs` sub-orders; answers (tid, oids).
    fn paid_trade(&self, seed: u64, subs: usize) -> (u64, Vec<u64>) {
        let t = self.sim.generate_trade(seed, now_ms() - 3_600_000);
        let tid = t["tid"].as_u64().unwrap();
        let sub = t["orders"]["order"][0].clone();
        let orders: Vec<Value> = (0..subs)
            .map(|i| {
                let mut o = sub.clone();
                o["oid"] = json!(tid * 10 + i as u64 + 1);
                o["status"] = json!("WAIT_SELLER_SEND_GOODS");
                o["refund_status"] = json!("NO_REFUND");
                o.as_object_mut().unwrap().remove("invoice_no");
                o
            })
            .collect();
        let oids = orders.iter().map(|o| o["oid"].as_u64().unwrap()).collect();
        self.sim
            .update_trade(tid, |t| {
                t["status"] = json!("WAIT_SELLER_SEND_GOODS");
                t["orders"]["order"] = json!(orders);
                t.as_object_mut().unwrap().remove("step_trade_status");
            })
            .unwrap();
        (tid, oids)
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

    fn get(&self, tid: u64) -> wharf_sdk::types::Order {
        api::get_order(
            &self.settings,
            &self.creds(),
            &tid.to_string(),
            now_ms(),
            &mut |r| self.net.send(r),
        )
        .unwrap()
        .unwrap()
    }
}

fn ship(tid: u64, lines: &[u64], carrier: &str, tracking: &str) -> Shipment {
    Shipment {
        external_order_id: tid.to_string(),
        line_ids: lines.iter().map(u64::to_string).collect(),
        carrier: carrier.into(),
        tracking_number: tracking.into(),
        shipped_at: now_ms(),
    }
}

// A confirmed shipment makes the trade shipped with the tracking number on every
// sub-order, bumps `modified` (so the next pull sees it), and sends TOP's company code.
#[test]
fn a_shipment_ships_the_trade() {
    let h = Harness::new();
    let (tid, oids) = h.paid_trade(1, 2);
    let before = h.get(tid);
    h.confirm(&ship(tid, &[], "sf", "SF1234567890")).unwrap();
    let after = h.get(tid);
    assert_eq!(after.status, ChannelStatus::Shipped);
    assert_eq!(after.raw_status, "WAIT_BUYER_CONFIRM_GOODS");
    assert!(after.updated_at > before.updated_at, "modified moved on");
    let trade = h.sim.trade(tid).unwrap();
    for o in trade["orders"]["order"].as_array().unwrap() {
        assert_eq!(o["invoice_no"], "SF1234567890");
    }
    let sent = h.sim.shipments();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0].tid,
            sent[0].company_code.as_str(),
            sent[0].sub_tids.len()
        ),
        (tid, "SF", 0),
        "whole trade, not split: {oids:?}"
    );
}

// Confirming again with the same number succeeds without a second send; another number
// on the shipped trade is permanent and names both.
#[test]
fn re_confirming_is_idempotent_and_another_number_is_refused() {
    let h = Harness::new();
    let (tid, _) = h.paid_trade(2, 1);
    h.confirm(&ship(tid, &[], "YTO", "YT100")).unwrap();
    h.confirm(&ship(tid, &[], "YTO", "YT100")).unwrap();
    assert_eq!(h.sim.shipments().len(), 1, "the repeat sent nothing");
    match h.confirm(&ship(tid, &[], "YTO", "YT999")) {
        Err(ConnectorError::Permanent(m)) => {
            assert!(m.contains("YT100") && m.contains("YT999"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

// When TOP refuses the send with B04 because another worker shipped the trade between
// our read and our send, the trade is read again: the same number is ok, another is
// permanent.
#[test]
fn a_b04_race_is_decided_on_the_trade_as_it_is_now() {
    let h = Harness::new();
    for (seed, theirs, want_ok) in [(3, "ZT1", true), (13, "ZT9", false)] {
        let (tid, _) = h.paid_trade(seed, 1);
        let sim = h.sim.clone();
        let mut send = |r: wharf_sdk::http::Request| {
            if String::from_utf8_lossy(&r.body).contains("logistics.offline.send") {
                sim.update_trade(tid, |t| {
                    t["status"] = json!("WAIT_BUYER_CONFIRM_GOODS");
                    t["orders"]["order"][0]["status"] = json!("WAIT_BUYER_CONFIRM_GOODS");
                    t["orders"]["order"][0]["invoice_no"] = json!(theirs);
                });
            }
            h.net.send(r)
        };
        let got = shipment::confirm_shipment(
            &h.settings,
            &h.creds(),
            &h.carriers,
            &ship(tid, &[], "ZTO", "ZT1"),
            now_ms(),
            &mut send,
        );
        match (got, want_ok) {
            (Ok(()), true) => {}
            (Err(ConnectorError::Permanent(m)), false) => assert!(m.contains("ZT9"), "{m}"),
            (other, _) => panic!("{theirs}: {other:?}"),
        }
    }
    assert!(h.sim.shipments().is_empty(), "TOP refused both sends");
}

// A trade closed before payment, or refunded, cannot ship: invalid-input naming it and
// TOP's status, and nothing is sent.
#[test]
fn closed_trades_are_invalid_input() {
    let h = Harness::new();
    for (seed, status) in [(4, "TRADE_CLOSED_BY_TAOBAO"), (5, "TRADE_CLOSED")] {
        let (tid, _) = h.paid_trade(seed, 1);
        h.sim.update_trade(tid, |t| {
            t["status"] = json!(status);
            t["orders"]["order"][0]["status"] = json!(status);
        });
        match h.confirm(&ship(tid, &[], "SF", "SF1")) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.contains(&tid.to_string()) && m.contains(status), "{m}")
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    assert!(h.sim.shipments().is_empty());
    match h.confirm(&ship(3_900_000_999_999_999, &[], "SF", "SF1")) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.contains("does not exist"), "{m}"),
        other => panic!("{other:?}"),
    }
}

// An unknown carrier is invalid-input naming it before any request; the installation's
// carrier_codes override adds it.
#[test]
fn unknown_carriers_are_refused_unless_overridden() {
    let mut h = Harness::new();
    let (tid, _) = h.paid_trade(6, 1);
    match h.confirm(&ship(tid, &[], "DBL", "DB1")) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.contains("DBL"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.sim.requests(), 0, "refused before any request");
    h.carriers = shipment::carriers(Some(r#"{"DBL": "POSTB"}"#)).unwrap();
    h.confirm(&ship(tid, &[], "DBL", "DB1")).unwrap();
    assert_eq!(h.sim.shipments()[0].company_code, "POSTB");
    assert!(
        CARRIERS
            .iter()
            .all(|(_, code)| wharf_sim::taobao::COMPANIES.iter().any(|(c, _)| c == code)),
        "every built-in code is one the simulator knows"
    );
}

// Shipping some sub-orders splits the trade (SELLER_CONSIGNED_PART, partially shipped);
// shipping the rest with another number completes it.
#[test]
fn a_split_shipment_ships_part_of_the_trade() {
    let h = Harness::new();
    let (tid, oids) = h.paid_trade(7, 2);
    h.confirm(&ship(tid, &oids[..1], "SF", "SF1")).unwrap();
    let o = h.get(tid);
    assert_eq!(
        (o.status, o.raw_status.as_str()),
        (ChannelStatus::PartiallyShipped, "SELLER_CONSIGNED_PART")
    );
    assert_eq!(h.sim.shipments()[0].sub_tids, [oids[0].to_string()]);
    // The same line again is done; the whole order with the same number ships the rest.
    h.confirm(&ship(tid, &oids[..1], "SF", "SF1")).unwrap();
    h.confirm(&ship(tid, &oids[1..], "ZTO", "ZT2")).unwrap();
    assert_eq!(h.get(tid).status, ChannelStatus::Shipped);
    let t = h.sim.trade(tid).unwrap();
    assert_eq!(t["orders"]["order"][1]["invoice_no"], "ZT2");
    assert_eq!(h.sim.shipments().len(), 2);
}

// A wrong app secret is unauthorized; TOP's call limit is rate-limited for the ban; a
// broken gateway is transient; none of them ships anything.
#[test]
fn protocol_failures_are_typed() {
    let h = Harness::new();
    let (tid, _) = h.paid_trade(8, 1);
    let mut bad = h.creds();
    bad.app_secret = "wrong".into();
    assert!(matches!(
        h.confirm_with(&bad, &ship(tid, &[], "SF", "SF1")),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim
        .fail_next(1, Fault::Top(TopError::app_call_limited(9)));
    assert!(matches!(
        h.confirm(&ship(tid, &[], "SF", "SF1")),
        Err(ConnectorError::RateLimited(9000))
    ));
    h.sim.fail_next(1, Fault::Http(503));
    assert!(matches!(
        h.confirm(&ship(tid, &[], "SF", "SF1")),
        Err(ConnectorError::Transient(_))
    ));
    assert!(h.sim.shipments().is_empty());
    h.confirm(&ship(tid, &[], "SF", "SF1")).unwrap();
}

// After-sales states the simulator sets on a sub-order come back as the order's tags.
#[test]
fn refund_states_become_after_sales_tags() {
    let h = Harness::new();
    let (tid, oids) = h.paid_trade(9, 2);
    h.sim
        .set_refund_status(tid, oids[0], "WAIT_SELLER_AGREE")
        .unwrap();
    h.sim.set_refund_status(tid, oids[1], "SUCCESS").unwrap();
    let tags = h.get(tid).tags;
    assert!(
        tags.contains(&"after-sales:refund-requested".to_string()),
        "{tags:?}"
    );
    assert!(
        tags.contains(&"after-sales:refunded".to_string()),
        "{tags:?}"
    );
}
