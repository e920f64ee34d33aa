//! The plugin's queries run natively against the Kuaidi100 simulator over real HTTP
//! (reqwest instead of wasi:http; everything else is the plugin's own code). The
//! simulator recomputes every signature, so a query answered here was signed right.

use wharf_plugin_kuaidi100::carriers::parse_tracking;
use wharf_plugin_kuaidi100::mapping::STATES;
use wharf_plugin_kuaidi100::query::{self, Credentials};
use wharf_plugin_kuaidi100::settings::Settings;
use wharf_sdk::courier::{TrackingEvent, TrackingStatus};
use wharf_sdk::types::ConnectorError;
use wharf_sim::kuaidi100::{Fault, Kuaidi100Sim, Kuaidi100SimConfig};
use wharf_sim::native::Transport;

struct Harness {
    net: Transport,
    sim: Kuaidi100Sim,
    settings: Settings,
}

impl Harness {
    fn new(default_com: Option<&str>) -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(Kuaidi100Sim::start(Kuaidi100SimConfig::default()))
            .unwrap();
        let base = sim.base_url();
        let dc = default_com.map(String::from);
        let settings = Settings::from_lookup(|k| match k {
            "base_url" => Some(base.clone()),
            "default_com" => dc.clone(),
            _ => None,
        })
        .unwrap();
        Harness { net, sim, settings }
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            customer: c.customer.clone(),
            key: c.key.clone(),
        }
    }

    fn track_with(
        &self,
        creds: &Credentials,
        number: &str,
    ) -> Result<Vec<TrackingEvent>, ConnectorError> {
        let target = parse_tracking(number, self.settings.default_com.as_deref())?;
        query::track(&self.settings, creds, &target, &mut |r| self.net.send(r))
    }

    fn track(&self, number: &str) -> Result<Vec<TrackingEvent>, ConnectorError> {
        self.track_with(&self.creds(), number)
    }
}

// Every documented state, scanned by the simulator, comes back as the newest event with
// the README's stage and the state code as raw-status.
#[test]
fn every_state_maps_row_by_row() {
    let h = Harness::new(None);
    h.sim.register("yuantong", "YT1000", None).unwrap();
    for (i, (code, _, want)) in STATES.iter().enumerate() {
        h.sim.advance("YT1000", code).unwrap();
        let ev = h.track("yuantong:YT1000").unwrap();
        assert_eq!(ev.len(), i + 1);
        let last = ev.last().unwrap();
        assert_eq!(
            (last.status, last.raw_status.as_str()),
            (*want, *code),
            "state {code}"
        );
        assert!(!last.description.is_empty());
    }
}

// A whole delivery reads oldest first, older scans by their state words.
#[test]
fn a_delivery_reads_oldest_first() {
    let h = Harness::new(None);
    h.sim.register("zhongtong", "ZT1", None).unwrap();
    for s in ["1", "0", "5", "3"] {
        h.sim.advance("ZT1", s).unwrap();
    }
    let ev = h.track("ZTO:ZT1").unwrap();
    use TrackingStatus as T;
    let got: Vec<_> = ev
        .iter()
        .map(|e| (e.status, e.raw_status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (T::InTransit, "1"),
            (T::InTransit, "0"),
            (T::OutForDelivery, "5"),
            (T::Delivered, "3")
        ]
    );
    assert!(ev.windows(2).all(|p| p[0].at < p[1].at));
    assert_eq!(ev[3].location, "杭州市");
}

// A refused and returned parcel reads exception then returned.
#[test]
fn a_returned_history_ends_returned() {
    let h = Harness::new(Some("yunda"));
    h.sim.register("yunda", "YD1", None).unwrap();
    h.sim.return_to_sender("YD1").unwrap();
    use TrackingStatus as T;
    let statuses: Vec<_> = h.track("YD1").unwrap().iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            T::InTransit,
            T::InTransit,
            T::OutForDelivery,
            T::Exception,
            T::Returned,
            T::Returned
        ]
    );
}

// A canonical SF prefix becomes shunfeng and the phone part is sent; a wrong phone is
// Kuaidi100's 408 → invalid-input.
#[test]
fn canonical_prefixes_are_translated() {
    let h = Harness::new(None);
    h.sim
        .register("shunfeng", "SF1440000000001", Some("13812345678"))
        .unwrap();
    h.sim.advance("SF1440000000001", "1").unwrap();
    let ev = h.track("SF:SF1440000000001:5678").unwrap();
    assert_eq!(ev.len(), 1);
    let q = h.sim.queries().pop().unwrap();
    assert_eq!(
        (q.com.as_str(), q.phone.as_deref(), q.resultv2.as_deref()),
        ("shunfeng", Some("5678"), Some("1"))
    );
    match h.track("SF:SF1440000000001:0000") {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.contains("408"), "{m}"),
        other => panic!("{other:?}"),
    }
}

// A wrong key is 503 → unauthorized; busy is rate-limited; 501 and HTTP 500 are transient.
#[test]
fn signature_limits_and_server_errors() {
    let h = Harness::new(None);
    h.sim.register("ems", "EM1", None).unwrap();
    h.sim.advance("EM1", "0").unwrap();
    let mut wrong = h.creds();
    wrong.key = "not-the-key".into();
    match h.track_with(&wrong, "ems:EM1") {
        Err(ConnectorError::Unauthorized(m)) => assert!(m.contains("503"), "{m}"),
        other => panic!("{other:?}"),
    }
    h.sim.fail_next(1, Fault::busy());
    assert!(matches!(
        h.track("ems:EM1"),
        Err(ConnectorError::RateLimited(_))
    ));
    h.sim.fail_next(1, Fault::server_error());
    assert!(matches!(
        h.track("ems:EM1"),
        Err(ConnectorError::Transient(_))
    ));
    h.sim.fail_next(1, Fault::Http(500));
    assert!(matches!(
        h.track("ems:EM1"),
        Err(ConnectorError::Transient(_))
    ));
    assert_eq!(h.track("ems:EM1").unwrap().len(), 1, "recovered");
}

// No scan yet is an empty history; an unknown company is invalid-input from Kuaidi100;
// a bare number without default_com is refused before sending.
#[test]
fn empty_unknown_and_malformed_numbers() {
    let h = Harness::new(None);
    h.sim.register("jd", "JD1", None).unwrap();
    assert!(h.track("JD:JD1").unwrap().is_empty());
    match h.track("nosuchcompany:X1") {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.contains("400"), "{m}"),
        other => panic!("{other:?}"),
    }
    let before = h.sim.requests();
    assert!(matches!(
        h.track("JD1"),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert_eq!(h.sim.requests(), before);
}
