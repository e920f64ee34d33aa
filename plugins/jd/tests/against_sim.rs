//! The plugin's JOS paging, mapping and stock pushes, run natively against the JD
//! simulator over real HTTP (the transport is reqwest instead of wasi:http; everything
//! else is the plugin's own code). The simulator recomputes every signature and enforces
//! the window, page and state rules, so a pull that completes here signed and windowed
//! every request right.

use std::collections::BTreeSet;

use serde_json::Value;
use wharf_plugin_jd::api;
use wharf_plugin_jd::jos::{self, Credentials};
use wharf_plugin_jd::settings::Settings;
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel};
use wharf_sdk::windows::Cursor;
use wharf_sim::jd::{Fault, JdSim, JdSimConfig, JosError};
use wharf_sim::native::{self, dedup, Transport};
use wharf_sim::time::now_ms;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

struct Harness {
    net: Transport,
    sim: JdSim,
    settings: Settings,
}

impl Harness {
    fn new(window_minutes: u32, page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net.block_on(JdSim::start(JdSimConfig::default())).unwrap();
        let settings = Settings {
            api_url: sim.router_url(),
            window_minutes,
            page_size,
            lookback_days: 1,
            vender_id: Some(sim.config().vender_id.clone()),
        };
        Harness { net, sim, settings }
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            app_key: c.app_key.clone(),
            app_secret: c.app_secret.clone(),
            access_token: c.access_token.clone(),
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
    /// orders in arrival order and the final cursor. `clock_ahead_ms` shifts the
    /// plugin's clock (and so its horizon) past the simulator's.
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

fn oid(o: &Value) -> String {
    o["orderId"].as_str().unwrap().to_string()
}

fn oid_num(o: &Value) -> u64 {
    oid(o).parse().unwrap()
}

fn modified(o: &Value) -> i64 {
    jos::parse_time("modified", o["modified"].as_str().unwrap()).unwrap()
}

// A pull over hours of orders reads every order (every state), with windows that never
// exceed the configured length, never leave a gap, and stop at the horizon; a second
// round reads nothing new.
#[test]
fn a_pull_reads_every_order_through_gapless_windows() {
    let h = Harness::new(60, 7);
    let now = now_ms();
    let made = h.sim.generate_orders(60, 1, now - 5 * HOUR, now - 2 * MIN);
    let (seen, cursor) = h.pull_round(None, 0, |_| {});
    let ids: BTreeSet<String> = seen.iter().map(|o| o.external_id.clone()).collect();
    let expected: BTreeSet<String> = made.iter().map(oid).collect();
    assert_eq!(ids, expected);

    let calls = h.sim.calls();
    let windows: Vec<(i64, i64)> = calls
        .iter()
        .map(|c| {
            let t = |k: &str| jos::parse_time(k, c.business[k].as_str().unwrap()).unwrap();
            (t("start_date"), t("end_date"))
        })
        .collect();
    assert!(
        windows[0].0 <= now - 24 * HOUR + 1000,
        "starts at the look-back"
    );
    for w in windows.windows(2) {
        assert!(
            w[1] == w[0] || w[1].0 == w[0].1,
            "same window or the next, no gap: {w:?}"
        );
    }
    assert!(windows.iter().all(|(s, e)| e - s <= HOUR && e > s));
    assert!(
        windows.last().unwrap().1 <= now_ms() - MIN,
        "never past the horizon"
    );

    let before = calls.len();
    let (again, _) = h.pull_round(cursor, 0, |_| {});
    assert!(again.is_empty(), "nothing changed, nothing read");
    assert!(h.sim.calls().len() - before <= 1);
}

/// The mutation policy of the in-flight tests: after each page, touch one order of the
/// page just read (a visited page) and one order of the current window not read yet.
/// Touching bumps `modified` to now, moving the order out of its window.
fn touch_during_pull(
    sim: &JdSim,
    page: &Page,
    read: &mut BTreeSet<String>,
    touched: &mut BTreeSet<String>,
) {
    read.extend(page.orders.iter().map(|o| o.external_id.clone()));
    let Some(raw) = &page.cursor else { return };
    let cursor = serde_json::from_str::<Cursor>(raw).unwrap();
    let Some(w) = cursor.window() else { return };
    let in_window: Vec<Value> = sim
        .orders()
        .into_iter()
        .filter(|o| (cursor.start..=w.end).contains(&modified(o)))
        .collect();
    let visited = in_window
        .iter()
        .find(|o| read.contains(&oid(o)) && !touched.contains(&oid(o)));
    let unvisited = in_window
        .iter()
        .find(|o| !read.contains(&oid(o)) && !touched.contains(&oid(o)));
    for o in [visited, unvisited].into_iter().flatten() {
        sim.update_order(oid_num(o), |o| o["venderRemark"] = "改地址".into())
            .unwrap();
        touched.insert(oid(o));
    }
}

// Orders touched while a pull is in flight — on pages already read and on pages not read
// yet, across several pull calls — are never lost: every untouched order is read by the
// pull, every touched order's new version by the next one, and the host's dedup keeps
// exactly one current version of each.
#[test]
fn mutations_in_flight_lose_nothing() {
    let h = Harness::new(60, 10);
    let now = now_ms();
    h.sim.generate_orders(120, 7, now - 4 * HOUR, now - HOUR);
    let (mut read, mut touched) = (BTreeSet::new(), BTreeSet::new());
    let (first, cursor) = h.pull_round(None, 0, |p| {
        touch_during_pull(&h.sim, p, &mut read, &mut touched)
    });
    assert!(touched.len() >= 10, "the pull was disturbed: {touched:?}");
    let untouched: BTreeSet<String> = h
        .sim
        .orders()
        .iter()
        .map(oid)
        .filter(|t| !touched.contains(t))
        .collect();
    let first_ids: BTreeSet<String> = first.iter().map(|o| o.external_id.clone()).collect();
    assert!(
        untouched.is_subset(&first_ids),
        "untouched orders missed: {:?}",
        untouched.difference(&first_ids).collect::<Vec<_>>()
    );
    assert!(
        first.len() > first_ids.len(),
        "page 1 and shifted orders are read twice (the host deduplicates)"
    );

    // The touched orders now carry a modified time of "now": the next pull, once the
    // horizon has passed it (the plugin's clock 2 minutes ahead), reads them.
    let (second, _) = h.pull_round(cursor, 2 * MIN, |_| {});
    let all: Vec<Order> = first.into_iter().chain(second).collect();
    let kept = dedup(&all);
    assert_eq!(
        kept.len(),
        120,
        "exactly one order per JD order after dedup"
    );
    for o in h.sim.orders() {
        assert_eq!(
            kept[&oid(&o)].0,
            modified(&o),
            "order {} is at its current version",
            oid(&o)
        );
    }
}

// The same disturbance defeats forward paging (page 1, 2, 3 …): an order nobody touched
// is skipped. This is the failure the plugin's backward paging exists to prevent.
#[test]
fn forward_paging_would_skip_an_order() {
    let h = Harness::new(60, 10);
    let now = now_ms();
    let end = now - HOUR;
    let start = end - HOUR;
    let made = h.sim.generate_orders(40, 7, start + 1000, end - 1000);
    let creds = h.creds();
    let (mut read, mut touched) = (BTreeSet::new(), BTreeSet::new());
    for page in 1..=4 {
        let got = api::fetch_page(
            &h.settings,
            &creds,
            (start, end),
            page,
            now_ms(),
            &mut |r| h.net.send(r),
        )
        .unwrap();
        read.extend(got.orders.iter().map(oid));
        if let Some(o) = got
            .orders
            .iter()
            .find(|o| !touched.contains(&oid(o)))
            .cloned()
        {
            h.sim.update_order(oid_num(&o), |_| {}).unwrap();
            touched.insert(oid(&o));
        }
    }
    let skipped: Vec<String> = made
        .iter()
        .map(oid)
        .filter(|t| !read.contains(t) && !touched.contains(t))
        .collect();
    assert!(
        !skipped.is_empty(),
        "forward paging should have skipped an untouched order"
    );
}

// An order modified exactly on a window boundary is read by both windows (or once),
// never lost, and deduplicates to one.
#[test]
fn a_boundary_order_is_never_lost() {
    let h = Harness::new(30, 5);
    let start = (now_ms() - 3 * HOUR).div_euclid(1000) * 1000;
    let boundary = start + 30 * MIN;
    let on = oid(&h.sim.generate_order(1, boundary));
    let before = oid(&h.sim.generate_order(2, boundary - 1000));
    let after = oid(&h.sim.generate_order(3, boundary + 1000));
    let (seen, _) = h.pull_round(Some(Cursor::at(start).encode()), 0, |_| {});
    let count = |id: &str| seen.iter().filter(|o| o.external_id == id).count();
    assert!(
        (1..=2).contains(&count(&on)),
        "boundary order read {} times",
        count(&on)
    );
    assert_eq!((count(&before), count(&after)), (1, 1));
    assert_eq!(dedup(&seen).len(), 3);
    let calls = h.sim.calls();
    assert_eq!(calls[0].business["end_date"], jos::format_time(boundary));
    assert_eq!(calls[1].business["start_date"], jos::format_time(boundary));
}

// A wrong app secret (JOS 12) or access token (JOS 19) is unauthorized; the call limit is
// rate-limited for the announced wait; backend errors and HTTP 5xx are transient; after
// them the pull resumes from the same cursor and completes.
#[test]
fn platform_errors_become_typed_errors() {
    let h = Harness::new(60, 5);
    let now = now_ms();
    h.sim.generate_orders(12, 3, now - 3 * HOUR, now - 2 * MIN);
    let good = h.creds();
    let bad_secret = Credentials {
        app_secret: "wrong".into(),
        ..good.clone()
    };
    let bad_token = Credentials {
        access_token: "expired".into(),
        ..good.clone()
    };
    assert!(
        matches!(h.pull_with(&bad_secret, None, now_ms()), Err(ConnectorError::Unauthorized(m)) if m.contains("12"))
    );
    assert!(
        matches!(h.pull_with(&bad_token, None, now_ms()), Err(ConnectorError::Unauthorized(m)) if m.contains("19"))
    );
    h.sim
        .fail_next(1, Fault::Jos(JosError::app_call_limited(3)));
    h.sim
        .fail_next(1, Fault::Jos(JosError::service_unavailable()));
    h.sim.fail_next(1, Fault::Http(502));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::RateLimited(3000))
    ));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::Transient(_))
    ));
    assert!(h.sim.calls().is_empty(), "no refused call was admitted");
    let (seen, _) = h.pull_round(None, 0, |_| {});
    assert_eq!(dedup(&seen).len(), 12);
}

// get-order returns the order as JD has it now, and none for an unknown id.
#[test]
fn get_order_reads_the_current_version() {
    let h = Harness::new(60, 5);
    let o = h.sim.generate_order(11, now_ms() - HOUR);
    let id = oid_num(&o);
    let advanced = h.sim.advance_order(id, 1);
    let current = h.sim.order(id).unwrap();
    let creds = h.creds();
    let got = api::get_order(&h.settings, &creds, &id.to_string(), now_ms(), &mut |r| {
        h.net.send(r)
    })
    .unwrap()
    .unwrap();
    assert_eq!(got.external_id, id.to_string());
    assert_eq!(got.raw_status, current["orderState"].as_str().unwrap());
    assert_eq!(got.updated_at, modified(&current));
    assert!(advanced.is_none() || got.updated_at > modified(&o));
    let missing =
        api::get_order(&h.settings, &creds, "1", now_ms(), &mut |r| h.net.send(r)).unwrap();
    assert!(missing.is_none());
}

// push-inventory sets each SKU's stock on the platform (read back from the simulator);
// an unknown SKU fails alone; a bad token fails the whole call.
#[test]
fn push_inventory_sets_stock_on_the_platform() {
    let h = Harness::new(60, 5);
    let o = h.sim.generate_order(5, now_ms() - HOUR);
    let sku: u64 = o["itemInfoList"][0]["skuId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    h.sim.add_sku(100_000_000_001);
    let levels = vec![
        StockLevel {
            sku: "A".into(),
            channel_sku: sku.to_string(),
            available: 17,
        },
        StockLevel {
            sku: "B".into(),
            channel_sku: "100000000001".into(),
            available: -2,
        },
        StockLevel {
            sku: "C".into(),
            channel_sku: "42".into(),
            available: 5,
        },
    ];
    let creds = h.creds();
    let results = api::push_inventory(&h.settings, &creds, &levels, now_ms(), &mut |r| {
        h.net.send(r)
    })
    .unwrap();
    let oks: Vec<bool> = results.iter().map(|r| r.ok).collect();
    assert_eq!(oks, [true, true, false]);
    assert!(
        results[2].message.contains("not exist"),
        "{}",
        results[2].message
    );
    assert_eq!(
        (
            h.sim.stock(sku),
            h.sim.stock(100_000_000_001),
            h.sim.stock(42)
        ),
        (Some(17), Some(0), None)
    );
    let bad = Credentials {
        access_token: "expired".into(),
        ..creds
    };
    assert!(matches!(
        api::push_inventory(&h.settings, &bad, &levels, now_ms(), &mut |r| h.net.send(r)),
        Err(ConnectorError::Unauthorized(_))
    ));
    assert_eq!(h.sim.stock(sku), Some(17));
}
