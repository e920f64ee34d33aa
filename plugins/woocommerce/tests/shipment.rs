//! confirm-shipment run natively against the WooCommerce simulator over real HTTP
//! (reqwest instead of wasi:http; the rest is the plugin's own code): OAuth 1.0a signed
//! calls to core's REST API and the Shipment Tracking extension's.

use wharf_plugin_woocommerce::api;
use wharf_plugin_woocommerce::auth::Credentials;
use wharf_plugin_woocommerce::settings::Settings;
use wharf_plugin_woocommerce::shipment;
use wharf_sdk::carrier::Carriers;
use wharf_sdk::types::{ChannelStatus, ConnectorError, Order, Shipment};
use wharf_sim::native::Transport;
use wharf_sim::time::now_ms;
use wharf_sim::woocommerce::{Fault, WooSim, WooSimConfig};

struct Harness {
    net: Transport,
    sim: WooSim,
    settings: Settings,
    carriers: Carriers,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(WooSim::start(WooSimConfig::default()))
            .unwrap();
        let settings =
            Settings::from_lookup(|k| (k == "site_url").then(|| format!("http://{}", sim.addr())))
                .unwrap();
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
            consumer_key: c.consumer_key.clone(),
            consumer_secret: c.consumer_secret.clone(),
        }
    }

    /// A processing order; its id.
    fn paid_order(&self, seed: u64) -> u64 {
        let o = self
            .sim
            .generate_order_with_status(seed, now_ms() - 3_600_000, "processing");
        o["id"].as_u64().unwrap()
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

// A shipment adds the tracking item (provider, number) and completes the order, bumping
// date_modified so the next pull sees it.
#[test]
fn a_shipment_tracks_and_completes_the_order() {
    let h = Harness::new();
    let id = h.paid_order(1);
    let before = h.get(id);
    h.confirm(&ship(id, "UPS", "1Z999AA10123456784")).unwrap();
    let after = h.get(id);
    assert_eq!(
        (after.status, after.raw_status.as_str()),
        (ChannelStatus::Completed, "completed")
    );
    assert!(after.updated_at > before.updated_at);
    let items = h.sim.trackings(id);
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0]["tracking_provider"].as_str(),
            items[0]["tracking_number"].as_str()
        ),
        (Some("UPS"), Some("1Z999AA10123456784"))
    );
}

// The same shipment again is ok without a second tracking item; another number on the
// completed order is permanent.
#[test]
fn re_confirming_is_idempotent_and_another_number_is_refused() {
    let h = Harness::new();
    let id = h.paid_order(2);
    h.confirm(&ship(id, "DHL", "DH1")).unwrap();
    h.confirm(&ship(id, "DHL", "DH1")).unwrap();
    assert_eq!(h.sim.trackings(id).len(), 1);
    match h.confirm(&ship(id, "DHL", "DH2")) {
        Err(ConnectorError::Permanent(m)) => assert!(m.contains("DH1") && m.contains("DH2"), "{m}"),
        other => panic!("{other:?}"),
    }
}

// A retry after the tracking item was added but the completion failed adds no second
// item and completes the order.
#[test]
fn a_retry_after_a_failed_completion_adds_no_duplicate() {
    let h = Harness::new();
    let id = h.paid_order(3);
    let mut send = |r: wharf_sdk::http::Request| {
        if r.method == "PUT" {
            h.sim.fail_next(1, Fault::Status(500));
        }
        h.net.send(r)
    };
    let first = shipment::confirm_shipment(
        &h.settings,
        &h.creds(),
        &h.carriers,
        &ship(id, "FEDEX", "FX1"),
        now_ms(),
        &mut send,
    );
    assert!(
        matches!(first, Err(ConnectorError::Transient(_))),
        "{first:?}"
    );
    assert_eq!(h.sim.trackings(id).len(), 1);
    h.confirm(&ship(id, "FEDEX", "FX1")).unwrap();
    assert_eq!(h.sim.trackings(id).len(), 1);
    assert_eq!(h.get(id).status, ChannelStatus::Completed);
}

// Cancelled and refunded orders cannot ship: invalid-input naming the order and status;
// an unknown order is invalid-input too; nothing is tracked.
#[test]
fn orders_that_cannot_ship_are_invalid_input() {
    let h = Harness::new();
    for (seed, status) in [(4, "cancelled"), (5, "refunded")] {
        let id = h.paid_order(seed);
        h.sim.set_status(id, status).unwrap();
        match h.confirm(&ship(id, "UPS", "1Z1")) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.contains(&id.to_string()) && m.contains(status), "{m}")
            }
            other => panic!("{status}: {other:?}"),
        }
        assert!(h.sim.trackings(id).is_empty());
    }
    assert!(matches!(h.confirm(&ship(999_999, "UPS", "1Z1")),
        Err(ConnectorError::InvalidInput(m)) if m.contains("does not exist")));
}

// An unknown carrier is invalid-input before any request; carrier_codes adds one.
#[test]
fn unknown_carriers_are_refused_unless_overridden() {
    let mut h = Harness::new();
    let id = h.paid_order(7);
    let before = h.sim.requests();
    assert!(
        matches!(h.confirm(&ship(id, "DPD", "D1")), Err(ConnectorError::InvalidInput(m)) if m.contains("DPD"))
    );
    assert_eq!(h.sim.requests(), before);
    h.carriers = shipment::carriers(Some(r#"{"DPD": "DPD"}"#)).unwrap();
    h.confirm(&ship(id, "DPD", "D1")).unwrap();
    assert_eq!(h.sim.trackings(id)[0]["tracking_provider"], "DPD");
}

// A wrong consumer secret is unauthorized, 429 rate-limited, 5xx transient; none ships.
#[test]
fn protocol_failures_are_typed() {
    let h = Harness::new();
    let id = h.paid_order(8);
    let mut bad = h.creds();
    bad.consumer_secret = "cs_wrong".into();
    assert!(matches!(
        h.confirm_with(&bad, &ship(id, "UPS", "1Z1")),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim.fail_next(1, Fault::RateLimited(7));
    assert!(matches!(
        h.confirm(&ship(id, "UPS", "1Z1")),
        Err(ConnectorError::RateLimited(7000))
    ));
    h.sim.fail_next(1, Fault::Status(502));
    assert!(matches!(
        h.confirm(&ship(id, "UPS", "1Z1")),
        Err(ConnectorError::Transient(_))
    ));
    assert!(h.sim.trackings(id).is_empty());
}
