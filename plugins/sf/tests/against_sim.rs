//! The plugin's SF calls run natively against the SF simulator over real HTTP (reqwest
//! instead of wasi:http; everything else is the plugin's own code). The simulator
//! recomputes every digest and validates every field, so a call that succeeds here
//! signed and shaped its request right.

use wharf_plugin_sf::api::{self, Client};
use wharf_plugin_sf::routes::OP_CODES;
use wharf_plugin_sf::settings::Settings;
use wharf_sdk::courier::{LabelFormat, Parcel, TrackingStatus, WaybillRequest};
use wharf_sdk::types::{Address, ConnectorError, Money};
use wharf_sim::native::Transport;
use wharf_sim::sf::{Fault, SfSim, SfSimConfig};

struct Harness {
    net: Transport,
    sim: SfSim,
    settings: Settings,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net.block_on(SfSim::start(SfSimConfig::default())).unwrap();
        let cfg = sim.config().clone();
        let settings = Settings::from_lookup(|k| match k {
            "base_url" => Some(sim.base_url()),
            "partner_id" => Some(cfg.partner_id.clone()),
            "month_card" => cfg.month_card.clone(),
            _ => None,
        })
        .unwrap();
        Harness { net, sim, settings }
    }

    fn run<T>(
        &self,
        check_word: &str,
        f: impl FnOnce(
            &Client<'_>,
            &mut dyn FnMut(
                wharf_sdk::http::Request,
            ) -> Result<wharf_sdk::http::Response, ConnectorError>,
        ) -> T,
    ) -> T {
        let client = Client {
            settings: &self.settings,
            check_word,
            now_ms: wharf_sim::time::now_ms(),
        };
        f(&client, &mut |r| self.net.send(r))
    }

    fn cw(&self) -> String {
        self.sim.config().check_word.clone()
    }

    fn create(&self, order: &str) -> Result<wharf_sdk::courier::Waybill, ConnectorError> {
        self.run(&self.cw(), |c, send| {
            api::create_waybill(c, &request(order), send)
        })
    }

    fn track(&self, no: &str) -> Result<Vec<wharf_sdk::courier::TrackingEvent>, ConnectorError> {
        self.run(&self.cw(), |c, send| api::track(c, no, send))
    }

    fn cancel(&self, no: &str) -> Result<(), ConnectorError> {
        self.run(&self.cw(), |c, send| api::cancel_waybill(c, no, send))
    }
}

fn address(name: &str, city: &str) -> Address {
    Address {
        name: name.into(),
        phone: "13800000000".into(),
        country: "CN".into(),
        province: "Zhejiang".into(),
        city: city.into(),
        district: "Xihu".into(),
        street: "1 Wharf Road".into(),
        postal_code: "310000".into(),
        encrypted: false,
    }
}

fn request(order: &str) -> WaybillRequest {
    WaybillRequest {
        order_reference: order.into(),
        service_code: None,
        sender: address("Warehouse", "Shenzhen"),
        receiver: address("Ann Receiver", "Hangzhou"),
        parcels: vec![Parcel {
            weight_g: 1500,
            length_mm: 300,
            width_mm: 200,
            height_mm: 100,
        }],
        declared_value: Money {
            minor: 9900,
            currency: "CNY".into(),
        },
    }
}

// create-waybill books the order and returns carrier SF, the waybill number and a real
// PDF label (from the cloud print's download) naming the waybill and the receiver.
#[test]
fn create_returns_a_pdf_label_with_the_tracking_number() {
    let h = Harness::new();
    let w = h.create("ORD-1").unwrap();
    assert_eq!(w.carrier, "SF");
    assert!(w.tracking_number.starts_with("SF") && w.tracking_number.len() == 15);
    assert_eq!(w.label_format, LabelFormat::Pdf);
    assert!(w.label.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&w.label);
    assert!(
        text.contains(&w.tracking_number) && text.contains("Ann Receiver"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("%%EOF"));
    let booked = h.sim.waybill(&w.tracking_number).unwrap();
    assert_eq!(booked.order_id, "ORD-1");
    assert_eq!(booked.monthly_card.as_deref(), Some("7551234567"));
    assert_eq!(booked.express_type_id, "2", "the default service");
    let services: Vec<String> = h
        .sim
        .calls()
        .iter()
        .map(|c| c.service_code.clone())
        .collect();
    assert_eq!(
        services,
        ["EXP_RECE_CREATE_ORDER", "COM_RECE_CLOUD_PRINT_WAYBILLS"]
    );
}

// A retried create (same order reference) answers the same waybill and books nothing twice.
#[test]
fn a_retried_create_books_nothing_twice() {
    let h = Harness::new();
    let first = h.create("ORD-2").unwrap();
    let again = h.create("ORD-2").unwrap();
    assert_eq!(first.tracking_number, again.tracking_number);
    assert!(again.label.starts_with(b"%PDF-"));
    assert_eq!(h.sim.waybills().len(), 1);
}

// Cancel works before collection and again (idempotent); after collection SF refuses it
// (permanent, with SF's code); an unknown waybill is invalid-input.
#[test]
fn cancel_before_collection_only() {
    let h = Harness::new();
    let w = h.create("ORD-3").unwrap();
    h.cancel(&w.tracking_number).unwrap();
    assert!(h.sim.waybill(&w.tracking_number).unwrap().cancelled);
    h.cancel(&w.tracking_number).unwrap();
    let collected = h.create("ORD-4").unwrap();
    h.sim.advance(&collected.tracking_number, "50").unwrap();
    match h.cancel(&collected.tracking_number) {
        Err(ConnectorError::Permanent(m)) => assert!(m.contains("8038"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(!h.sim.waybill(&collected.tracking_number).unwrap().cancelled);
    assert!(matches!(
        h.cancel("SF9999999999999"),
        Err(ConnectorError::InvalidInput(_))
    ));
}

// Every opCode of the README's table, scanned by the simulator, comes back with its stage
// and raw opCode; 8000 after 80 stays delivered.
#[test]
fn track_maps_every_op_code_row_by_row() {
    let h = Harness::new();
    let w = h.create("ORD-5").unwrap();
    assert!(
        h.track(&w.tracking_number).unwrap().is_empty(),
        "no scan yet"
    );
    for (i, (op, want)) in OP_CODES.iter().enumerate() {
        h.sim.advance(&w.tracking_number, op).unwrap();
        let events = h.track(&w.tracking_number).unwrap();
        assert_eq!(events.len(), i + 1);
        let last = events.last().unwrap();
        assert_eq!(
            (last.status, last.raw_status.as_str()),
            (*want, *op),
            "opCode {op}"
        );
        assert!(!last.description.is_empty() && !last.location.is_empty());
    }
    let w2 = h.create("ORD-6").unwrap();
    for op in ["50", "44", "80", "8000"] {
        h.sim.advance(&w2.tracking_number, op).unwrap();
    }
    let statuses: Vec<_> = h
        .track(&w2.tracking_number)
        .unwrap()
        .iter()
        .map(|e| e.status)
        .collect();
    use TrackingStatus as T;
    assert_eq!(
        statuses,
        [T::InTransit, T::OutForDelivery, T::Delivered, T::Delivered]
    );
}

// A refused delivery and return reads as exception then returned, oldest first; the
// closing 8000 stays returned.
#[test]
fn a_returned_history_ends_returned() {
    let h = Harness::new();
    let w = h.create("ORD-7").unwrap();
    h.sim.return_to_sender(&w.tracking_number).unwrap();
    let ev = h.track(&w.tracking_number).unwrap();
    use TrackingStatus as T;
    let statuses: Vec<_> = ev.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            T::InTransit,
            T::InTransit,
            T::InTransit,
            T::OutForDelivery,
            T::Exception,
            T::Returned,
            T::Returned
        ]
    );
    assert!(ev.windows(2).all(|p| p[0].at < p[1].at));
}

// An opCode outside the table is refused with invalid-input naming it.
#[test]
fn an_unknown_op_code_is_refused() {
    let h = Harness::new();
    let w = h.create("ORD-8").unwrap();
    h.sim.advance(&w.tracking_number, "9999").unwrap();
    match h.track(&w.tracking_number) {
        Err(ConnectorError::InvalidInput(m)) => {
            assert!(m.contains("9999") && m.contains(&w.tracking_number), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

// A wrong check word is A1006 → unauthorized, and nothing is booked.
#[test]
fn a_bad_digest_is_unauthorized() {
    let h = Harness::new();
    match h.run("not-the-check-word", |c, send| {
        api::create_waybill(c, &request("ORD-9"), send)
    }) {
        Err(ConnectorError::Unauthorized(m)) => assert!(m.contains("A1006"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(h.sim.waybills().is_empty());
}

// Flow control is rate-limited; A1099, HTTP 503 and an unreachable gateway are transient.
#[test]
fn limits_and_server_errors_map_to_retry_kinds() {
    let h = Harness::new();
    h.sim.fail_next(1, Fault::flow_limited());
    assert!(matches!(
        h.create("ORD-10"),
        Err(ConnectorError::RateLimited(1000))
    ));
    h.sim.fail_next(1, Fault::system_error());
    assert!(matches!(h.track("SF1"), Err(ConnectorError::Transient(m)) if m.contains("A1099")));
    h.sim.fail_next(1, Fault::Http(503));
    assert!(matches!(h.track("SF1"), Err(ConnectorError::Transient(_))));
    assert!(h.sim.waybills().is_empty());
    let mut dead = h.settings.clone();
    dead.base_url = "http://127.0.0.1:9".into();
    let client = Client {
        settings: &dead,
        check_word: "x",
        now_ms: wharf_sim::time::now_ms(),
    };
    assert!(matches!(
        api::track(&client, "SF1", &mut |r| h.net.send(r)),
        Err(ConnectorError::Transient(_))
    ));
}

// Bad data is invalid-input: a refused monthly account (SF's 8114), an empty receiver and
// an encrypted one (refused before anything is sent).
#[test]
fn bad_requests_are_invalid_input() {
    let mut h = Harness::new();
    h.settings.month_card = Some("0000000000".into());
    match h.create("ORD-11") {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.contains("8114"), "{m}"),
        other => panic!("{other:?}"),
    }
    let before = h.sim.requests();
    let mut r = request("ORD-12");
    r.receiver.phone.clear();
    assert!(matches!(
        h.run(&h.cw(), |c, s| api::create_waybill(c, &r, s)),
        Err(ConnectorError::InvalidInput(_))
    ));
    r = request("ORD-13");
    r.receiver.encrypted = true;
    assert!(matches!(
        h.run(&h.cw(), |c, s| api::create_waybill(c, &r, s)),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert_eq!(h.sim.requests(), before, "nothing was sent");
}

// quote answers each SF product with its fee in fen and promised days; one service may
// be asked for.
#[test]
fn quote_prices_each_product() {
    let h = Harness::new();
    let quotes = h
        .run(&h.cw(), |c, s| api::quote(c, &request("Q-1"), s))
        .unwrap();
    let got: Vec<_> = quotes
        .iter()
        .map(|q| (q.service_code.as_str(), q.price.minor, q.transit_days))
        .collect();
    // 1.5 kg → 2 started kg: 23 + 13 and 18 + 10 yuan.
    assert_eq!(got, [("1", 3600, Some(1)), ("2", 2800, Some(2))]);
    assert_eq!(quotes[0].service_name, "顺丰特快");
    let mut one = request("Q-2");
    one.service_code = Some("2".into());
    let only = h.run(&h.cw(), |c, s| api::quote(c, &one, s)).unwrap();
    assert_eq!(only.len(), 1);
}
