//! The harness knobs of the runtime: fuel metering and reports, a fake HTTP transport
//! behind the production granter, a frozen clock, and the network transport.

mod common;

use std::sync::{Arc, Mutex};

use common::{ctx, hostile, plugin_bytes, test_config, TinyServer};
use wharf_runtime::{
    CallOptions, ConnectorError, EgressPolicy, FrozenClock, HttpRequest, HttpResponse,
    HttpTransport, NetworkTransport, Runtime, RuntimeConfig, TransportFuture, WIT_VERSION,
};

/// Answers every request with `status` + `body` and remembers the requests.
#[derive(Default)]
struct Canned {
    status: u16,
    body: &'static str,
    seen: Mutex<Vec<HttpRequest>>,
}

impl HttpTransport for Canned {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        self.seen.lock().unwrap().push(request);
        Box::pin(async move { Ok(HttpResponse::new(self.status, self.body)) })
    }
}

fn metered(fuel: u64) -> (Runtime, wharf_runtime::Plugin) {
    let rt = Runtime::new(RuntimeConfig {
        fuel: Some(fuel),
        ..test_config()
    })
    .unwrap();
    let plugin = rt
        .load(&plugin_bytes("wharf_plugin_hostile"), WIT_VERSION)
        .unwrap();
    (rt, plugin)
}

fn granted(host: &str) -> EgressPolicy {
    EgressPolicy {
        manifest_hosts: vec!["*.hostile.test".into()],
        granted_hosts: vec![host.into()],
        resolve: Default::default(),
    }
}

// A metered runtime reports the instructions a call used, its peak memory and wall time.
#[tokio::test]
async fn metered_calls_report_fuel_memory_and_time() {
    let (rt, plugin) = metered(1_000_000_000);
    let (c, _) = ctx(1, &[("mode", "good")]);
    let (page, report) = rt
        .pull_orders_with(&plugin, &c, &CallOptions::default(), None)
        .await;
    assert_eq!(page.unwrap().orders.len(), 1);
    let fuel = report.fuel_used.expect("a metered call reports fuel");
    assert!(fuel > 1000 && fuel < 1_000_000_000, "{fuel}");
    assert!(report.peak_memory_bytes >= 65536, "{report:?}");
    assert!(!report.out_of_fuel);
    assert!(report.wall_time.as_nanos() > 0);
}

// An unmetered (production) runtime reports no fuel but still memory and time.
#[tokio::test]
async fn production_runtime_reports_no_fuel() {
    let (rt, plugin) = hostile();
    let (c, _) = ctx(1, &[("mode", "good")]);
    let (page, report) = rt
        .pull_orders_with(plugin, &c, &CallOptions::default(), None)
        .await;
    assert!(page.is_ok());
    assert_eq!(report.fuel_used, None);
    assert!(report.peak_memory_bytes > 0);
}

// A spinning plugin runs out of its instruction budget before the wall-clock deadline, and
// the error says so.
#[tokio::test]
async fn running_out_of_fuel_is_a_typed_trap() {
    let (rt, plugin) = metered(50_000_000);
    let (c, _) = ctx(1, &[("mode", "loop")]);
    let (result, report) = rt
        .pull_orders_with(&plugin, &c, &CallOptions::default(), None)
        .await;
    match result {
        Err(ConnectorError::Trap(m)) => assert!(m.starts_with("out of fuel"), "{m}"),
        other => panic!("expected out of fuel, got {other:?}"),
    }
    assert!(report.out_of_fuel);
    assert_eq!(report.fuel_used, Some(50_000_000));
}

// With a fake transport a granted request is answered by it, never by the network.
#[tokio::test]
async fn fake_transport_answers_granted_requests() {
    let (rt, plugin) = hostile();
    let url = "http://api.hostile.test/orders?x=1";
    let (mut c, _) = ctx(2, &[("mode", "egress"), ("url", url)]);
    c.egress = granted("api.hostile.test");
    let fake = Arc::new(Canned {
        status: 200,
        body: "twelve bytes",
        ..Canned::default()
    });
    let opts = CallOptions {
        transport: Some(fake.clone()),
        clock: None,
    };
    let (page, _) = rt.pull_orders_with(plugin, &c, &opts, None).await;
    assert_eq!(page.unwrap().orders[0].total_paid.minor, 12);
    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].url.as_str()),
        ("GET", url)
    );
}

// The granter runs before the fake transport: an ungranted host never reaches it.
#[tokio::test]
async fn fake_transport_does_not_bypass_the_granter() {
    let (rt, plugin) = hostile();
    let (mut c, sink) = ctx(3, &[("mode", "egress"), ("url", "http://evil.example/")]);
    c.egress = granted("api.hostile.test");
    let fake = Arc::new(Canned {
        status: 200,
        body: "x",
        ..Canned::default()
    });
    let opts = CallOptions {
        transport: Some(fake.clone()),
        clock: None,
    };
    let (page, _) = rt.pull_orders_with(plugin, &c, &opts, None).await;
    assert!(
        matches!(&page, Err(ConnectorError::Permanent(m)) if m.contains("refused by the sandbox")),
        "{page:?}"
    );
    assert!(fake.seen.lock().unwrap().is_empty());
    assert!(sink.messages().iter().any(|m| m.contains("evil.example")));
}

// A frozen clock is what the plugin reads as "now": Shopify's first pull asks for orders
// updated since now − lookback_days, computed from the frozen instant.
#[tokio::test]
async fn frozen_clock_is_the_plugins_now() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt
        .load(&plugin_bytes("wharf_plugin_shopify"), WIT_VERSION)
        .unwrap();
    let (mut c, _) = ctx(
        4,
        &[
            ("shop_url", "https://a.myshopify.com"),
            ("lookback_days", "1"),
        ],
    );
    c.secrets.insert("access_token".into(), "tok".into());
    c.egress = EgressPolicy {
        manifest_hosts: vec!["*.myshopify.com".into()],
        granted_hosts: vec!["a.myshopify.com".into()],
        resolve: Default::default(),
    };
    let fake = Arc::new(Canned {
        status: 200,
        body: r#"{"orders": []}"#,
        ..Canned::default()
    });
    // 2024-04-02T00:00:00Z; one day of look-back starts at 2024-04-01T00:00:00Z.
    let opts = CallOptions {
        transport: Some(fake.clone()),
        clock: Some(FrozenClock::at(1_712_016_000_000)),
    };
    let (page, _) = rt.pull_orders_with(&plugin, &c, &opts, None).await;
    assert!(page.unwrap().orders.is_empty());
    let url = fake.seen.lock().unwrap()[0].url.clone();
    assert!(
        url.contains("updated_at_min=2024-04-01T00%3A00%3A00"),
        "{url}"
    );
}

// The network transport is the production path: it reaches a pinned simulator address
// and refuses an ungranted host.
#[tokio::test]
async fn network_transport_routes_like_production() {
    let server = TinyServer::start("pong").await;
    let net = NetworkTransport::new(EgressPolicy {
        manifest_hosts: vec!["api.hostile.test".into()],
        granted_hosts: vec!["api.hostile.test".into()],
        resolve: [("api.hostile.test".to_string(), server.addr)].into(),
    });
    let req = |url: &str| HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![("host".into(), "api.hostile.test".into())],
        body: Vec::new(),
    };
    let resp = net.send(req("http://api.hostile.test/ping")).await.unwrap();
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, b"pong".as_slice())
    );
    assert_eq!(server.hosts.lock().unwrap()[0], "api.hostile.test");
    let refused = net.send(req("http://other.hostile.test/")).await;
    assert!(
        matches!(refused, Err(wharf_runtime::TransportError::Refused(_))),
        "{refused:?}"
    );
}

// The pooling allocator: more calls at once than the pool has slots wait for a slot and
// all succeed; a runtime without a pool (`instance_pool: 0`) serves the same calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_instance_pool_wait_for_a_slot() {
    for pool in [2, 0] {
        let rt = Runtime::new(RuntimeConfig {
            instance_pool: pool,
            ..test_config()
        })
        .unwrap();
        let plugin = rt
            .load(&plugin_bytes("wharf_plugin_hostile"), WIT_VERSION)
            .unwrap();
        let calls = (0..6).map(|i| {
            let (rt, plugin) = (rt.clone(), plugin.clone());
            tokio::spawn(async move {
                let (c, _) = ctx(i, &[("mode", "good")]);
                rt.pull_orders(&plugin, &c, None).await
            })
        });
        for call in calls.collect::<Vec<_>>() {
            let page = call
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("pool {pool}: {e}"));
            assert_eq!(page.orders[0].external_id, "H-1", "pool {pool}");
        }
    }
}
