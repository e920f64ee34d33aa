//! The plugin's doudian paging, mapping and stock push, run natively against the doudian
//! simulator over real HTTP (the transport is reqwest instead of wasi:http; everything
//! else is the plugin's own code). The simulator recomputes every signature over the
//! canonical `param_json` and enforces the window and page-size rules, so a pull that
//! completes here signed and windowed every request right.

use std::collections::BTreeSet;

use serde_json::Value;
use wharf_plugin_douyin::api;
use wharf_plugin_douyin::doudian::Credentials;
use wharf_plugin_douyin::settings::Settings;
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel};
use wharf_sdk::windows::Cursor;
use wharf_sim::douyin::{DoudianError, DouyinSim, DouyinSimConfig, Fault};
use wharf_sim::native::{self, dedup, Transport};
use wharf_sim::time::now_ms;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

struct Harness {
    net: Transport,
    sim: DouyinSim,
    settings: Settings,
}

impl Harness {
    fn new(window_minutes: u32, page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(DouyinSim::start(DouyinSimConfig::default()))
            .unwrap();
        let settings = Settings {
            api_url: sim.base_url(),
            window_minutes,
            page_size,
            lookback_days: 1,
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

fn id_of(o: &Value) -> String {
    o["order_id"].as_str().unwrap().to_string()
}

fn num_id(o: &Value) -> u64 {
    id_of(o).parse().unwrap()
}

fn updated(o: &Value) -> i64 {
    o["update_time"].as_i64().unwrap() * 1000
}

/// The (update_time_start, update_time_end) of every admitted searchList call, in ms.
fn windows(sim: &DouyinSim) -> Vec<(i64, i64)> {
    sim.calls()
        .iter()
        .filter(|c| c.method == "order.searchList")
        .map(|c| {
            let t = |k: &str| c.params[k].as_i64().unwrap() * 1000;
            (t("update_time_start"), t("update_time_end"))
        })
        .collect()
}

// A pull over hours of orders reads every order, with windows that never exceed the
// configured length, never leave a gap, and stop at the horizon; a second round reads
// nothing new.
#[test]
fn a_pull_reads_every_order_through_gapless_windows() {
    let h = Harness::new(60, 7);
    let now = now_ms();
    let made = h.sim.generate_orders(60, 1, now - 5 * HOUR, now - 2 * MIN);
    let (seen, cursor) = h.pull_round(None, 0, |_| {});
    let ids: BTreeSet<String> = seen.iter().map(|o| o.external_id.clone()).collect();
    let expected: BTreeSet<String> = made.iter().map(id_of).collect();
    assert_eq!(ids, expected);
    let w = windows(&h.sim);
    assert!(w[0].0 <= now - 24 * HOUR + 1000, "starts at the look-back");
    for pair in w.windows(2) {
        assert!(
            pair[1] == pair[0] || pair[1].0 == pair[0].1,
            "same window or the next, no gap: {pair:?}"
        );
    }
    assert!(w.iter().all(|(s, e)| e - s <= HOUR && e > s));
    assert!(
        w.last().unwrap().1 <= now_ms() - MIN,
        "never past the horizon"
    );
    for c in h.sim.calls() {
        assert_eq!(
            (
                c.params["order_by"].as_str(),
                c.params["order_asc"].as_bool()
            ),
            (Some("update_time"), Some(false))
        );
    }

    let before = h.sim.calls().len();
    let (again, _) = h.pull_round(cursor, 0, |_| {});
    assert!(again.is_empty(), "nothing changed, nothing read");
    assert!(h.sim.calls().len() - before <= 1);
}

/// The mutation policy of the in-flight tests: after each page, touch one order of the
/// page just read (a visited page) and one order of the current window not read yet.
/// Touching bumps `update_time` to now, moving the order out of its window.
fn touch_during_pull(
    sim: &DouyinSim,
    page: &Page,
    read: &mut BTreeSet<String>,
    touched: &mut BTreeSet<String>,
) {
    read.extend(page.orders.iter().map(|o| o.external_id.clone()));
    let Some(raw) = &page.cursor else { return };
    let c = serde_json::from_str::<Cursor>(raw).unwrap();
    let Some(w) = c.window() else {
        return;
    };
    let in_window: Vec<Value> = sim
        .orders()
        .into_iter()
        .filter(|o| (c.start..=w.end).contains(&updated(o)))
        .collect();
    let visited = in_window
        .iter()
        .find(|o| read.contains(&id_of(o)) && !touched.contains(&id_of(o)));
    let unvisited = in_window
        .iter()
        .find(|o| !read.contains(&id_of(o)) && !touched.contains(&id_of(o)));
    for o in [visited, unvisited].into_iter().flatten() {
        sim.update_order(num_id(o), |o| o["seller_words"] = "改地址".into())
            .unwrap();
        touched.insert(id_of(o));
    }
}

// Orders modified while a pull is in flight — on pages already read and on pages not
// read yet — and orders created meanwhile are never lost: every untouched order is read
// by the pull, every touched or new order's current version by the next one, and the
// host's dedup keeps exactly one current version of each.
#[test]
fn mutations_in_flight_lose_nothing() {
    let h = Harness::new(60, 10);
    let now = now_ms();
    h.sim.generate_orders(120, 7, now - 4 * HOUR, now - HOUR);
    let (mut read, mut touched) = (BTreeSet::new(), BTreeSet::new());
    let mut created = 0;
    let (first, cursor) = h.pull_round(None, 0, |p| {
        touch_during_pull(&h.sim, p, &mut read, &mut touched);
        if created < 5 {
            h.sim.generate_order(100 + created, now_ms());
            created += 1;
        }
    });
    assert!(touched.len() >= 10, "the pull was disturbed: {touched:?}");
    let untouched: BTreeSet<String> = h
        .sim
        .orders()
        .iter()
        .filter(|o| updated(o) < now - HOUR + 1000)
        .map(id_of)
        .filter(|t| !touched.contains(t))
        .collect();
    assert_eq!(untouched.len(), 120 - touched.len());
    let first_ids: BTreeSet<String> = first.iter().map(|o| o.external_id.clone()).collect();
    assert!(
        untouched.is_subset(&first_ids),
        "untouched orders missed: {:?}",
        untouched.difference(&first_ids).collect::<Vec<_>>()
    );
    assert!(
        first.len() > first_ids.len(),
        "page 0 and shifted orders are read twice (the host deduplicates)"
    );

    // The touched and created orders now carry an update_time of "now": the next pull,
    // once the horizon has passed it (the plugin's clock 2 minutes ahead), reads them.
    let (second, _) = h.pull_round(cursor, 2 * MIN, |_| {});
    let all: Vec<Order> = first.into_iter().chain(second).collect();
    let kept = dedup(&all);
    assert_eq!(
        kept.len(),
        125,
        "exactly one order per platform order after dedup"
    );
    for o in h.sim.orders() {
        assert_eq!(
            kept[&id_of(&o)].0,
            updated(&o),
            "order {} is at its current version",
            id_of(&o)
        );
    }
}

// The same disturbance defeats forward paging (page 0, 1, 2 …): an order nobody touched
// is skipped. This is the failure the plugin's backward paging exists to prevent.
#[test]
fn forward_paging_would_skip_an_order() {
    let h = Harness::new(60, 10);
    let now = now_ms();
    let end = (now - HOUR).div_euclid(1000) * 1000;
    let start = end - HOUR;
    let made = h.sim.generate_orders(40, 7, start + 1000, end - 1000);
    let creds = h.creds();
    let (mut read, mut touched) = (BTreeSet::new(), BTreeSet::new());
    for page in 0..4 {
        let got = api::fetch_page(
            &h.settings,
            &creds,
            (start, end),
            page,
            now_ms(),
            &mut |r| h.net.send(r),
        )
        .unwrap();
        read.extend(got.orders.iter().map(id_of));
        if let Some(o) = got.orders.iter().find(|o| !touched.contains(&id_of(o))) {
            h.sim.update_order(num_id(o), |_| {}).unwrap();
            touched.insert(id_of(o));
        }
    }
    let skipped: Vec<String> = made
        .iter()
        .map(id_of)
        .filter(|t| !read.contains(t) && !touched.contains(t))
        .collect();
    assert!(
        !skipped.is_empty(),
        "forward paging should have skipped an untouched order"
    );
}

// An order updated exactly on a window boundary is read by both windows (or once), never
// lost, and deduplicates to one.
#[test]
fn a_boundary_order_is_never_lost() {
    let h = Harness::new(30, 5);
    let start = (now_ms() - 3 * HOUR).div_euclid(1000) * 1000;
    let boundary = start + 30 * MIN;
    let on = id_of(&h.sim.generate_order(1, boundary));
    let before = id_of(&h.sim.generate_order(2, boundary - 1000));
    let after = id_of(&h.sim.generate_order(3, boundary + 1000));
    let (seen, _) = h.pull_round(Some(Cursor::at(start).encode()), 0, |_| {});
    let count = |id: &str| seen.iter().filter(|o| o.external_id == id).count();
    assert!(
        (1..=2).contains(&count(&on)),
        "boundary order read {} times",
        count(&on)
    );
    assert_eq!((count(&before), count(&after)), (1, 1));
    assert_eq!(dedup(&seen).len(), 3);
    let w = windows(&h.sim);
    assert_eq!((w[0].1, w[1].0), (boundary, boundary));
}

// A wrong app secret or access token is unauthorized; flow control is rate-limited;
// service errors and HTTP 5xx are transient; an expired token is unauthorized; after
// them the pull resumes and completes.
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
        access_token: "revoked".into(),
        ..good.clone()
    };
    assert!(matches!(
        h.pull_with(&bad_secret, None, now_ms()),
        Err(ConnectorError::Unauthorized(m)) if m.contains("40004") && !m.contains("wrong")
    ));
    assert!(matches!(
        h.pull_with(&bad_token, None, now_ms()),
        Err(ConnectorError::Unauthorized(m)) if m.contains("30001") && !m.contains("revoked")
    ));
    h.sim
        .fail_next(1, Fault::Doudian(DoudianError::flow_limited()));
    h.sim
        .fail_next(1, Fault::Doudian(DoudianError::service_unavailable()));
    h.sim.fail_next(1, Fault::Http(502));
    h.sim
        .fail_next(1, Fault::Doudian(DoudianError::token_expired()));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::RateLimited(1000))
    ));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        h.pull_with(&good, None, now_ms()),
        Err(ConnectorError::Transient(_))
    ));
    assert!(
        matches!(h.pull_with(&good, None, now_ms()), Err(ConnectorError::Unauthorized(m)) if m.contains("30002"))
    );
    let (seen, _) = h.pull_round(None, 0, |_| {});
    assert_eq!(dedup(&seen).len(), 12);
}

// get-order returns the order as doudian has it now, and none for an unknown id.
#[test]
fn get_order_reads_the_current_version() {
    let h = Harness::new(60, 5);
    let o = h.sim.generate_order(11, now_ms() - HOUR);
    let id = num_id(&o);
    let advanced = h.sim.advance_order(id, 1);
    let current = h.sim.order(id).unwrap();
    let creds = h.creds();
    let got = api::get_order(&h.settings, &creds, &id.to_string(), now_ms(), &mut |r| {
        h.net.send(r)
    })
    .unwrap()
    .unwrap();
    assert_eq!(got.external_id, id.to_string());
    assert_eq!(got.raw_status, current["order_status"].to_string());
    assert_eq!(got.updated_at, updated(&current));
    assert_eq!(
        got.total_paid.minor,
        current["pay_amount"].as_i64().unwrap()
    );
    assert!(advanced.is_none() || got.updated_at > updated(&o));
    let missing =
        api::get_order(&h.settings, &creds, "1", now_ms(), &mut |r| h.net.send(r)).unwrap();
    assert!(missing.is_none());
}

// push-inventory sets each SKU's stock on the platform (read back from the simulator),
// by sku_id or by merchant code; an unknown SKU is a per-item failure; a revoked token
// fails the whole push.
#[test]
fn push_inventory_sets_stock_on_the_platform() {
    let h = Harness::new(60, 5);
    let o = h.sim.generate_order(5, now_ms() - HOUR);
    let sku_id = o["sku_order_list"][0]["sku_id"].as_u64().unwrap();
    h.sim.add_sku(1_780_000_000_999_999, "MUG-9");
    let levels = vec![
        StockLevel {
            sku: "A".into(),
            channel_sku: sku_id.to_string(),
            available: 17,
        },
        StockLevel {
            sku: "MUG-9".into(),
            channel_sku: String::new(),
            available: 4,
        },
        StockLevel {
            sku: "GONE".into(),
            channel_sku: "123".into(),
            available: 1,
        },
    ];
    let creds = h.creds();
    let r = api::push_inventory(&h.settings, &creds, &levels, now_ms(), &mut |r| {
        h.net.send(r)
    })
    .unwrap();
    let oks: Vec<bool> = r.iter().map(|x| x.ok).collect();
    assert_eq!(oks, [true, true, false]);
    assert!(r[2].message.contains("50002"), "{}", r[2].message);
    assert_eq!(h.sim.stock(sku_id), Some(17));
    assert_eq!(h.sim.stock(1_780_000_000_999_999), Some(4));
    let again = vec![StockLevel {
        sku: "A".into(),
        channel_sku: sku_id.to_string(),
        available: 5,
    }];
    api::push_inventory(&h.settings, &creds, &again, now_ms(), &mut |r| {
        h.net.send(r)
    })
    .unwrap();
    assert_eq!(h.sim.stock(sku_id), Some(5), "absolute, not incremental");
    let revoked = Credentials {
        access_token: "x".into(),
        ..creds
    };
    assert!(matches!(
        api::push_inventory(&h.settings, &revoked, &again, now_ms(), &mut |r| h
            .net
            .send(r)),
        Err(ConnectorError::Unauthorized(_))
    ));
}
