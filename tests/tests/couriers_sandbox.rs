//! The compiled SF and Kuaidi100 courier plugins, run by the production runtime (the real
//! sandbox: fresh instance per call, memory and time limits, the egress granter) against
//! their simulators on loopback, reached under the platforms' host names through the
//! operator's resolver override: create-waybill and track end to end, signing and all.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use wharf_domain::courier::{LabelFormat, Parcel, TrackingStatus, WaybillRequest};
use wharf_domain::{Address, Money};
use wharf_runtime::{
    CallContext, ConnectorError, EgressPolicy, LogLevel, LogSink, Runtime, RuntimeConfig,
};
use wharf_sim::kuaidi100::{Kuaidi100Sim, Kuaidi100SimConfig};
use wharf_sim::sf::{SfSim, SfSimConfig};
use wharf_tests::{paths, read};

const SF_HOST: &str = "bspgw.sf-express.com";
const K100_HOST: &str = "poll.kuaidi100.com";

/// Log lines as the runtime delivered them.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl LogSink for Lines {
    fn log(&self, _installation_id: i64, _level: LogLevel, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
}

fn manifest_hosts(plugin: &str) -> Vec<String> {
    let m: Value = serde_json::from_slice(&read(paths::manifest(plugin))).unwrap();
    m["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

fn ctx(
    plugin: &str,
    host: &str,
    addr: std::net::SocketAddr,
    config: &[(&str, &str)],
    secrets: &[(&str, &str)],
) -> (CallContext, Arc<Lines>) {
    let logs = Arc::new(Lines::default());
    let pairs = |p: &[(&str, &str)]| -> BTreeMap<String, String> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let ctx = CallContext {
        installation_id: 7,
        merchant_id: 1,
        config: pairs(config),
        secrets: pairs(secrets),
        egress: EgressPolicy {
            manifest_hosts: manifest_hosts(plugin),
            granted_hosts: vec![host.to_string()],
            resolve: [(host.to_string(), addr)].into_iter().collect(),
        },
        logs: logs.clone(),
    };
    (ctx, logs)
}

fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig::default()).unwrap()
}

fn address(name: &str) -> Address {
    Address {
        name: name.into(),
        phone: "13800001234".into(),
        country: "CN".into(),
        province: "Zhejiang".into(),
        city: "Hangzhou".into(),
        district: "Xihu".into(),
        street: "1 Wharf Road".into(),
        postal_code: "310000".into(),
        encrypted: false,
    }
}

fn request(order: &str) -> WaybillRequest {
    WaybillRequest {
        order_reference: order.into(),
        service_code: Some("1".into()),
        sender: address("Warehouse"),
        receiver: address("Ann Receiver"),
        parcels: vec![Parcel {
            weight_g: 800,
            length_mm: 0,
            width_mm: 0,
            height_mm: 0,
        }],
        declared_value: Money::new(9900, "CNY"),
    }
}

// The compiled SF plugin books a waybill (carrier SF, PDF label with the number), tracks
// its scans and cancels another, all through the sandbox's granted egress; a wrong check
// word is unauthorized and never reaches the logs.
#[tokio::test]
async fn sf_component_creates_tracks_and_cancels() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    let rt = runtime();
    let plugin = rt
        .load(&read(paths::plugin("wharf_plugin_sf")), "0.2.0")
        .unwrap();
    let cfg = sim.config().clone();
    let config = [
        ("base_url", "http://bspgw.sf-express.com"),
        ("partner_id", cfg.partner_id.as_str()),
    ];
    let (c, logs) = ctx(
        "sf",
        SF_HOST,
        sim.addr(),
        &config,
        &[("check_word", &cfg.check_word)],
    );

    assert_eq!(rt.describe(&plugin, &c).await.unwrap().platform, "sf");
    let w = rt
        .create_waybill(&plugin, &c, &request("ORD-RT-1"))
        .await
        .unwrap();
    assert_eq!(w.carrier, "SF");
    assert_eq!(w.label_format, LabelFormat::Pdf);
    assert!(w.label.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&w.label).contains(&w.tracking_number));
    assert_eq!(
        sim.waybill(&w.tracking_number).unwrap().order_id,
        "ORD-RT-1"
    );

    for op in ["50", "31", "44", "80"] {
        sim.advance(&w.tracking_number, op).unwrap();
    }
    let events = rt.track(&plugin, &c, &w.tracking_number).await.unwrap();
    let statuses: Vec<_> = events.iter().map(|e| e.status).collect();
    use TrackingStatus as T;
    assert_eq!(
        statuses,
        [T::InTransit, T::InTransit, T::OutForDelivery, T::Delivered]
    );
    assert_eq!(events[3].raw_status, "80");

    let other = rt
        .create_waybill(&plugin, &c, &request("ORD-RT-2"))
        .await
        .unwrap();
    rt.cancel_waybill(&plugin, &c, &other.tracking_number)
        .await
        .unwrap();
    assert!(sim.waybill(&other.tracking_number).unwrap().cancelled);

    let (bad, bad_logs) = ctx(
        "sf",
        SF_HOST,
        sim.addr(),
        &config,
        &[("check_word", "wrong")],
    );
    assert!(matches!(
        rt.create_waybill(&plugin, &bad, &request("ORD-RT-3")).await,
        Err(ConnectorError::Unauthorized(m)) if m.contains("A1006")
    ));
    for line in logs
        .0
        .lock()
        .unwrap()
        .iter()
        .chain(bad_logs.0.lock().unwrap().iter())
    {
        assert!(!line.contains(&cfg.check_word), "{line}");
    }
}

// Without the merchant's grant the SF component cannot reach the gateway: nothing is booked.
#[tokio::test]
async fn sf_component_needs_the_egress_grant() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    let rt = runtime();
    let plugin = rt
        .load(&read(paths::plugin("wharf_plugin_sf")), "0.2.0")
        .unwrap();
    let cfg = sim.config().clone();
    let (mut c, _) = ctx(
        "sf",
        SF_HOST,
        sim.addr(),
        &[
            ("base_url", "http://bspgw.sf-express.com"),
            ("partner_id", cfg.partner_id.as_str()),
        ],
        &[("check_word", &cfg.check_word)],
    );
    c.egress.granted_hosts.clear();
    assert!(matches!(
        rt.create_waybill(&plugin, &c, &request("ORD-RT-4")).await,
        Err(ConnectorError::Permanent(m)) if m.contains("refused by the sandbox")
    ));
    assert!(sim.waybills().is_empty());
}

// The compiled Kuaidi100 plugin tracks a parcel by its canonical-prefixed number, through
// the sandbox; its waybill exports are unsupported.
#[tokio::test]
async fn kuaidi100_component_tracks() {
    let sim = Kuaidi100Sim::start(Kuaidi100SimConfig::default())
        .await
        .unwrap();
    sim.register("shunfeng", "SF1440000000042", Some("13800001234"))
        .unwrap();
    sim.return_to_sender("SF1440000000042").unwrap();
    let rt = runtime();
    let plugin = rt
        .load(&read(paths::plugin("wharf_plugin_kuaidi100")), "0.2.0")
        .unwrap();
    let cfg = sim.config().clone();
    let (c, _) = ctx(
        "kuaidi100",
        K100_HOST,
        sim.addr(),
        &[("base_url", "http://poll.kuaidi100.com")],
        &[("key", &cfg.key), ("customer", &cfg.customer)],
    );
    let events = rt
        .track(&plugin, &c, "SF:SF1440000000042:1234")
        .await
        .unwrap();
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.status, e.raw_status.as_str()))
        .collect();
    use TrackingStatus as T;
    assert_eq!(
        got,
        [
            (T::InTransit, "1"),
            (T::InTransit, "0"),
            (T::OutForDelivery, "5"),
            (T::Exception, "14"),
            (T::Returned, "6"),
            (T::Returned, "4")
        ]
    );
    assert_eq!(
        rt.create_waybill(&plugin, &c, &request("ORD-RT-5")).await,
        Err(ConnectorError::Unsupported)
    );
    let (bad, _) = ctx(
        "kuaidi100",
        K100_HOST,
        sim.addr(),
        &[("base_url", "http://poll.kuaidi100.com")],
        &[("key", "wrong"), ("customer", &cfg.customer)],
    );
    assert!(matches!(
        rt.track(&plugin, &bad, "SF:SF1440000000042:1234").await,
        Err(ConnectorError::Unauthorized(_))
    ));
}
