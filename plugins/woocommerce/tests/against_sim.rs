//! The plugin's paging, mapping, authentication and stock push, run natively against the
//! WooCommerce simulator over real HTTP (the transport is reqwest instead of wasi:http;
//! everything else is the plugin's own code). The simulator verifies every OAuth 1.0a
//! signature as WooCommerce does, so a pull that completes here signed every request right.

use std::collections::BTreeSet;

use serde_json::Value;
use wharf_plugin_woocommerce::api::{self, format_gmt};
use wharf_plugin_woocommerce::auth::{self, Credentials};
use wharf_plugin_woocommerce::cursor::Cursor;
use wharf_plugin_woocommerce::settings::Settings;
use wharf_sdk::types::{self as wit, ConnectorError, Order, Page, StockLevel};
use wharf_sim::native::{self, dedup, Transport};
use wharf_sim::time::now_ms;
use wharf_sim::woocommerce::{Fault, WooSim, WooSimConfig};

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

struct Harness {
    net: Transport,
    sim: WooSim,
    settings: Settings,
}

impl Harness {
    fn with(cfg: WooSimConfig, page_size: u32, lag: u32) -> Harness {
        let net = Transport::new().https_as_http();
        let sim = net.block_on(WooSim::start(cfg)).unwrap();
        let scheme = if sim.config().behind_tls {
            "https"
        } else {
            "http"
        };
        let settings = Settings {
            site_url: format!("{scheme}://{}", sim.addr()),
            page_size,
            lookback_days: 1,
            safety_lag_seconds: lag,
        };
        Harness { net, sim, settings }
    }

    fn new(page_size: u32) -> Harness {
        Harness::with(WooSimConfig::default(), page_size, 60)
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            consumer_key: c.consumer_key.clone(),
            consumer_secret: c.consumer_secret.clone(),
        }
    }

    fn pull_with(
        &self,
        creds: &Credentials,
        cursor: Option<&str>,
        now: i64,
    ) -> Result<Page, ConnectorError> {
        api::pull_orders(&self.settings, creds, cursor, now, &mut |r| {
            self.net.send(r)
        })
    }

    /// Pull pages until `more` is false, calling `between` after every page. Returns the
    /// orders in arrival order and the final cursor. `clock_ahead_ms` shifts the plugin's
    /// clock (and so its horizon) past the simulator's.
    fn pull_round(
        &self,
        cursor: Option<String>,
        clock_ahead_ms: i64,
        between: impl FnMut(&Page),
    ) -> (Vec<Order>, Option<String>) {
        let pull = |c: Option<&str>| self.pull_with(&self.creds(), c, now_ms() + clock_ahead_ms);
        native::pull_round(pull, cursor, between)
    }
}

fn id(o: &Value) -> String {
    o["id"].as_u64().unwrap().to_string()
}

fn modified(o: &Value) -> i64 {
    wharf_sim::time::parse(&format!("{}Z", o["date_modified_gmt"].as_str().unwrap())).unwrap()
}

// A pull over hours of orders reads every order exactly once, always asking for page 1
// of an ascending modified-time keyset; a second round reads nothing.
#[test]
fn a_pull_reads_every_order_through_page_one() {
    let h = Harness::new(7);
    let now = now_ms();
    let made = h.sim.generate_orders(40, 1, now - 5 * HOUR, now - 2 * MIN);
    let (seen, cursor) = h.pull_round(None, 0, |_| {});
    let ids: Vec<String> = seen.iter().map(|o| o.external_id.clone()).collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique, made.iter().map(id).collect::<BTreeSet<_>>());
    assert_eq!(ids.len(), 40, "no order twice when nothing changes");
    let calls = h.sim.calls();
    assert!(calls.len() >= 6);
    for c in &calls {
        assert_eq!(c.path, "/wp-json/wc/v3/orders");
        assert_eq!(
            (
                c.param("page"),
                c.param("orderby"),
                c.param("order"),
                c.param("dates_are_gmt")
            ),
            (Some("1"), Some("modified"), Some("asc"), Some("true"))
        );
    }
    let first_after =
        wharf_sim::time::parse(&format!("{}Z", calls[0].param("modified_after").unwrap())).unwrap();
    assert!(
        (now - 24 * HOUR - 3000..=now - 24 * HOUR).contains(&first_after),
        "the first pull starts at the look-back, one second early"
    );
    let before = calls.len();
    let (again, _) = h.pull_round(cursor, 0, |_| {});
    assert!(again.is_empty(), "nothing changed, nothing read");
    assert!(h.sim.calls().len() - before <= 1);
}

/// After each page, touch one order of the page just read and one order not read yet
/// (bumping `date_modified` to now), and create a new order. Records what was touched.
fn disturb(
    sim: &WooSim,
    page: &Page,
    read: &mut BTreeSet<String>,
    touched: &mut BTreeSet<String>,
    seed: &mut u64,
) {
    read.extend(page.orders.iter().map(|o| o.external_id.clone()));
    let all = sim.orders();
    let visited = all
        .iter()
        .find(|o| read.contains(&id(o)) && !touched.contains(&id(o)));
    let unvisited = all
        .iter()
        .find(|o| !read.contains(&id(o)) && !touched.contains(&id(o)));
    for o in [visited, unvisited].into_iter().flatten() {
        let n = o["id"].as_u64().unwrap();
        sim.update_order(n, |o| o["customer_note"] = "please ring twice".into())
            .unwrap();
        touched.insert(n.to_string());
    }
    *seed += 1;
    let new = sim.generate_order(*seed, now_ms());
    touched.insert(id(&new));
}

// Orders modified or created while a pull is in flight — on pages already read and on
// pages not read yet — are never lost: every untouched order arrives in the same round,
// every touched or new order at its latest version by the next one, and after the host's
// dedup there is exactly one current version of each.
#[test]
fn mutations_in_flight_lose_nothing() {
    let h = Harness::new(10);
    let now = now_ms();
    h.sim.generate_orders(120, 7, now - 4 * HOUR, now - HOUR);
    let (mut read, mut touched, mut seed) = (BTreeSet::new(), BTreeSet::new(), 1000);
    let (first, cursor) = h.pull_round(None, 0, |p| {
        disturb(&h.sim, p, &mut read, &mut touched, &mut seed)
    });
    assert!(
        touched.len() >= 30,
        "the pull was disturbed: {}",
        touched.len()
    );
    let first_ids: BTreeSet<String> = first.iter().map(|o| o.external_id.clone()).collect();
    let untouched: BTreeSet<String> = h
        .sim
        .orders()
        .iter()
        .map(id)
        .filter(|i| !touched.contains(i))
        .collect();
    assert!(
        untouched.is_subset(&first_ids),
        "untouched orders missed: {:?}",
        untouched.difference(&first_ids).collect::<Vec<_>>()
    );
    // The touched orders now carry a modified time of "now": the next round, once the
    // horizon (now − 60 s) has passed it (the plugin's clock 2 minutes ahead), reads them.
    let (second, _) = h.pull_round(cursor, 2 * MIN, |_| {});
    let all: Vec<Order> = first.into_iter().chain(second).collect();
    let kept = dedup(&all);
    let orders = h.sim.orders();
    assert_eq!(
        kept.len(),
        orders.len(),
        "exactly one order per store order after dedup"
    );
    for o in orders {
        assert_eq!(
            kept[&id(&o)].0,
            modified(&o),
            "order {} is at its current version",
            id(&o)
        );
    }
}

// With no safety lag, orders touched mid-pull move ahead of the keyset and arrive in the
// same round, at their latest version.
#[test]
fn without_a_lag_the_same_round_catches_up() {
    let h = Harness::with(WooSimConfig::default(), 8, 0);
    let now = now_ms();
    h.sim.generate_orders(50, 9, now - 3 * HOUR, now - HOUR);
    let (mut read, mut touched, mut seed) = (BTreeSet::new(), BTreeSet::new(), 2000);
    let (seen, _) = h.pull_round(None, 0, |p| {
        if p.more {
            disturb(&h.sim, p, &mut read, &mut touched, &mut seed)
        }
    });
    assert!(
        touched.len() >= 10,
        "the pull was disturbed: {}",
        touched.len()
    );
    let kept = dedup(&seen);
    let orders = h.sim.orders();
    assert_eq!(kept.len(), orders.len());
    for o in orders {
        assert_eq!(kept[&id(&o)].0, modified(&o), "order {}", id(&o));
    }
}

// The same disturbance defeats page-number paging (page 1, 2, 3 … of the same query): an
// order nobody touched is skipped. This is what the keyset cursor exists to prevent.
#[test]
fn page_numbers_would_skip_an_order() {
    let h = Harness::new(10);
    let now = now_ms();
    let made = h.sim.generate_orders(40, 7, now - 3 * HOUR, now - 2 * HOUR);
    let creds = h.creds();
    let (mut read, mut touched) = (BTreeSet::new(), BTreeSet::new());
    let after = format_gmt(now - 4 * HOUR);
    for page in 1..=4 {
        let p = page.to_string();
        let url = format!("{}/orders", h.settings.api_base());
        let nonce = auth::nonce(&creds, now_ms(), &url);
        let req = auth::request(
            "GET",
            &url,
            &[
                ("modified_after", &after),
                ("dates_are_gmt", "true"),
                ("orderby", "modified"),
                ("order", "asc"),
                ("per_page", "10"),
                ("page", &p),
            ],
            &creds,
            now_ms(),
            &nonce,
        );
        let resp = auth::check(h.net.send(req).unwrap()).unwrap();
        let got: Vec<Value> = serde_json::from_slice(&resp.body).unwrap();
        read.extend(got.iter().map(id));
        if let Some(o) = got.iter().find(|o| !touched.contains(&id(o))) {
            h.sim
                .update_order(o["id"].as_u64().unwrap(), |_| {})
                .unwrap();
            touched.insert(id(o));
        }
    }
    let skipped: Vec<String> = made
        .iter()
        .map(id)
        .filter(|i| !read.contains(i) && !touched.contains(i))
        .collect();
    assert!(
        !skipped.is_empty(),
        "page-number paging should have skipped an untouched order"
    );
}

// More orders than a page sharing one modified second (a bulk status change) are paged
// by the exclude list without looping or losing one.
#[test]
fn a_bulk_edit_in_one_second_is_paged() {
    let h = Harness::new(10);
    let at = (now_ms() - HOUR).div_euclid(1000) * 1000;
    let made = h.sim.generate_orders(25, 3, at, at);
    h.sim.generate_orders(3, 4, at + 1000, at + 5000);
    let (seen, _) = h.pull_round(None, 0, |p| {
        let c = Cursor::decode(p.cursor.as_deref().unwrap()).unwrap();
        assert!(c.seen.len() <= 25);
    });
    let ids: BTreeSet<String> = seen.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!(ids.len(), 28);
    assert_eq!(seen.len(), 28, "no order read twice");
    assert!(made.iter().all(|o| ids.contains(&id(o))));
    let excludes: Vec<usize> = h
        .sim
        .calls()
        .iter()
        .map(|c| c.param("exclude").map_or(0, |e| e.split(',').count()))
        .collect();
    assert!(
        excludes.contains(&10) && excludes.contains(&20),
        "{excludes:?}"
    );
}

// A wrong consumer secret is unauthorized (the signature does not match); injected 429,
// 500 and 503 are rate-limited and transient; then the pull resumes and completes.
#[test]
fn platform_errors_become_typed_errors() {
    let h = Harness::new(5);
    let now = now_ms();
    h.sim.generate_orders(12, 3, now - 3 * HOUR, now - 2 * MIN);
    let bad = Credentials {
        consumer_secret: "cs_wrong".into(),
        ..h.creds()
    };
    assert!(matches!(
        h.pull_with(&bad, None, now_ms()),
        Err(ConnectorError::Unauthorized(m)) if m.contains("woocommerce_rest_authentication_error") && !m.contains("cs_wrong")
    ));
    h.sim.fail_next(1, Fault::RateLimited(7));
    h.sim.fail_next(1, Fault::Status(500));
    h.sim.fail_next(1, Fault::Status(503));
    h.sim.fail_next(1, Fault::Unauthorized);
    let good = h.creds();
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::RateLimited(7000))
    ));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::Unauthorized(_))
    ));
    let (seen, _) = h.pull_round(None, 0, |_| {});
    assert_eq!(dedup(&seen).len(), 12);
}

// Over HTTPS the plugin authenticates with HTTP Basic, which the store behind TLS accepts.
#[test]
fn https_sites_use_basic_auth() {
    let h = Harness::with(
        WooSimConfig {
            behind_tls: true,
            ..WooSimConfig::default()
        },
        5,
        60,
    );
    assert!(h.settings.https());
    let now = now_ms();
    h.sim.generate_orders(6, 5, now - 2 * HOUR, now - 2 * MIN);
    let (seen, _) = h.pull_round(None, 0, |_| {});
    assert_eq!(dedup(&seen).len(), 6);
    let bad = Credentials {
        consumer_secret: "cs_wrong".into(),
        ..h.creds()
    };
    assert!(matches!(
        h.pull_with(&bad, None, now_ms()),
        Err(ConnectorError::Unauthorized(m)) if m.contains("Consumer secret is invalid")
    ));
}

// get-order returns the order as the store has it now (a trashed one as cancelled), and
// none for an unknown id.
#[test]
fn get_order_reads_the_current_version() {
    let h = Harness::new(5);
    let o = h
        .sim
        .generate_order_with_status(11, now_ms() - HOUR, "processing");
    let n = o["id"].as_u64().unwrap();
    let creds = h.creds();
    let get = |id: &str| api::get_order(&h.settings, &creds, id, now_ms(), &mut |r| h.net.send(r));
    let got = get(&n.to_string()).unwrap().unwrap();
    assert_eq!(
        (got.external_id.as_str(), got.status),
        (n.to_string().as_str(), wit::ChannelStatus::Paid)
    );
    let trashed = h.sim.set_status(n, "trash").unwrap();
    let got = get(&n.to_string()).unwrap().unwrap();
    assert_eq!(
        (got.status, got.raw_status.as_str()),
        (wit::ChannelStatus::Cancelled, "trash")
    );
    assert_eq!(got.updated_at, modified(&trashed));
    assert!(get("424242").unwrap().is_none());
}

// push-inventory sets a product's and a variation's stock, which the store keeps; an
// unknown product is a failed result, not a failed call.
#[test]
fn push_inventory_sets_stock_in_the_store() {
    let h = Harness::new(5);
    let creds = h.creds();
    let levels = vec![
        StockLevel {
            sku: "WOO-SINGLE-1".into(),
            channel_sku: "93".into(),
            available: 17,
        },
        StockLevel {
            sku: "SYI-GREEN".into(),
            channel_sku: "22/24".into(),
            available: 3,
        },
        StockLevel {
            sku: "GONE".into(),
            channel_sku: "555".into(),
            available: 1,
        },
    ];
    let got = api::push_inventory(&h.settings, &creds, &levels, now_ms(), &mut |r| {
        h.net.send(r)
    })
    .unwrap();
    let oks: Vec<bool> = got.iter().map(|r| r.ok).collect();
    assert_eq!(oks, [true, true, false]);
    assert!(
        got[2]
            .message
            .contains("woocommerce_rest_product_invalid_id"),
        "{}",
        got[2].message
    );
    let s = h.sim.stock(93, None).unwrap();
    assert_eq!((s.manage_stock, s.stock_quantity), (true, Some(17)));
    assert_eq!(h.sim.stock(22, Some(24)).unwrap().stock_quantity, Some(3));
    h.sim.fail_next(1, Fault::RateLimited(2));
    assert!(matches!(
        api::push_inventory(&h.settings, &creds, &levels, now_ms(), &mut |r| h
            .net
            .send(r)),
        Err(ConnectorError::RateLimited(2000))
    ));
}
