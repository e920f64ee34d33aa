//! The plugin's TOP paging, mapping and stock pushes, run natively against the Taobao simulator over
//! real HTTP (the transport is reqwest instead of wasi:http; everything else is the
//! plugin's own code). The simulator recomputes every signature and enforces TOP's
//! window rules, so a pull that completes here signed and windowed every request right.

use std::collections::BTreeSet;

use serde_json::Value;
use wharf_plugin_taobao::api;
use wharf_plugin_taobao::settings::Settings;
use wharf_plugin_taobao::top::{self, Credentials};
use wharf_sdk::types::{self as wit, ConnectorError, Order, Page, StockLevel};
use wharf_sdk::windows::Cursor;
use wharf_sim::native::{self, dedup, Transport};
use wharf_sim::taobao::{Fault, TaobaoSim, TaobaoSimConfig, TopError};
use wharf_sim::time::now_ms;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

struct Harness {
    net: Transport,
    sim: TaobaoSim,
    settings: Settings,
}

impl Harness {
    fn new(window_minutes: u32, page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(TaobaoSim::start(TaobaoSimConfig::default()))
            .unwrap();
        let settings = Settings {
            api_url: sim.router_url(),
            window_minutes,
            page_size,
            lookback_days: 1,
            seller_nick: Some(sim.config().seller_nick.clone()),
        };
        Harness { net, sim, settings }
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            app_key: c.app_key.clone(),
            app_secret: c.app_secret.clone(),
            session: c.session.clone(),
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

fn tid(t: &Value) -> String {
    t["tid"].as_u64().unwrap().to_string()
}

fn modified(t: &Value) -> i64 {
    top::parse_time("modified", t["modified"].as_str().unwrap()).unwrap()
}

// A pull over hours of trades reads every trade, with windows that never exceed the
// configured length, never leave a gap, and stop at the horizon; a second round reads
// nothing new.
#[test]
fn a_pull_reads_every_trade_through_gapless_windows() {
    let h = Harness::new(60, 7);
    let now = now_ms();
    let made = h.sim.generate_trades(60, 1, now - 5 * HOUR, now - 2 * MIN);
    let (seen, cursor) = h.pull_round(None, 0, |_| {});
    let ids: BTreeSet<String> = seen.iter().map(|o| o.external_id.clone()).collect();
    let expected: BTreeSet<String> = made.iter().map(tid).collect();
    assert_eq!(ids, expected);

    let calls = h.sim.calls();
    let windows: Vec<(i64, i64)> = calls
        .iter()
        .map(|c| {
            let t = |k: &str| top::parse_time(k, &c.params[k]).unwrap();
            (t("start_modified"), t("end_modified"))
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

/// The mutation policy of the in-flight tests: after each page, touch one trade of the
/// page just read (a visited page) and one trade of the current window not read yet.
/// Touching bumps `modified` to now, moving the trade out of its window. Returns the
/// touched tids.
fn touch_during_pull(
    sim: &TaobaoSim,
    page: &Page,
    read: &mut BTreeSet<String>,
    touched: &mut BTreeSet<String>,
) {
    read.extend(page.orders.iter().map(|o| o.external_id.clone()));
    let Some(raw) = &page.cursor else { return };
    let cursor: Cursor = serde_json::from_str(raw).unwrap();
    let Some(w) = cursor.window() else {
        return;
    };
    let start = cursor.start;
    let in_window: Vec<Value> = sim
        .trades()
        .into_iter()
        .filter(|t| (start..=w.end).contains(&modified(t)))
        .collect();
    let visited = in_window
        .iter()
        .find(|t| read.contains(&tid(t)) && !touched.contains(&tid(t)));
    let unvisited = in_window
        .iter()
        .find(|t| !read.contains(&tid(t)) && !touched.contains(&tid(t)));
    for t in [visited, unvisited].into_iter().flatten() {
        let id = t["tid"].as_u64().unwrap();
        sim.update_trade(id, |t| t["seller_memo"] = "改地址".into())
            .unwrap();
        touched.insert(id.to_string());
    }
}

// Trades touched while a pull is in flight — on pages already read and on pages not read
// yet — are never lost: every untouched trade is read by the pull, every touched trade's
// new version by the next one, and the host's dedup keeps exactly one current version
// of each.
#[test]
fn mutations_in_flight_lose_nothing() {
    let h = Harness::new(60, 10);
    let now = now_ms();
    h.sim.generate_trades(120, 7, now - 4 * HOUR, now - HOUR);
    let (mut read, mut touched) = (BTreeSet::new(), BTreeSet::new());
    let (first, cursor) = h.pull_round(None, 0, |p| {
        touch_during_pull(&h.sim, p, &mut read, &mut touched)
    });
    assert!(touched.len() >= 10, "the pull was disturbed: {touched:?}");
    let untouched: BTreeSet<String> = h
        .sim
        .trades()
        .iter()
        .map(tid)
        .filter(|t| !touched.contains(t))
        .collect();
    let first_ids: BTreeSet<String> = first.iter().map(|o| o.external_id.clone()).collect();
    assert!(
        untouched.is_subset(&first_ids),
        "untouched trades missed: {:?}",
        untouched.difference(&first_ids).collect::<Vec<_>>()
    );
    assert!(
        first.len() > first_ids.len(),
        "page 1 and shifted trades are read twice (the host deduplicates)"
    );

    // The touched trades now carry a modified time of "now": the next pull, once the
    // horizon has passed it (the plugin's clock 2 minutes ahead), reads them.
    let (second, _) = h.pull_round(cursor, 2 * MIN, |_| {});
    let all: Vec<Order> = first.into_iter().chain(second).collect();
    let kept = dedup(&all);
    assert_eq!(kept.len(), 120, "exactly one order per trade after dedup");
    for t in h.sim.trades() {
        assert_eq!(
            kept[&tid(&t)].0,
            modified(&t),
            "trade {} is at its current version",
            tid(&t)
        );
    }
}

// The same disturbance defeats forward paging (page 1, 2, 3 …): a trade nobody touched
// is skipped. This is the failure the plugin's backward paging exists to prevent.
#[test]
fn forward_paging_would_skip_a_trade() {
    let h = Harness::new(60, 10);
    let now = now_ms();
    let end = now - HOUR;
    let start = end - HOUR;
    let made = h.sim.generate_trades(40, 7, start + 1000, end - 1000);
    let creds = h.creds();
    let (mut read, mut touched) = (BTreeSet::new(), BTreeSet::new());
    for page_no in 1..=4 {
        let got = api::fetch_page(
            &h.settings,
            &creds,
            (start, end),
            page_no,
            now_ms(),
            &mut |r| h.net.send(r),
        )
        .unwrap();
        read.extend(got.trades.iter().map(tid));
        // Touch one trade of the page just read: it leaves the window.
        let first = got
            .trades
            .iter()
            .find(|t| !touched.contains(&tid(t)))
            .cloned();
        if let Some(t) = first {
            h.sim
                .update_trade(t["tid"].as_u64().unwrap(), |_| {})
                .unwrap();
            touched.insert(tid(&t));
        }
    }
    let skipped: Vec<String> = made
        .iter()
        .map(tid)
        .filter(|t| !read.contains(t) && !touched.contains(t))
        .collect();
    assert!(
        !skipped.is_empty(),
        "forward paging should have skipped an untouched trade"
    );
}

// A trade modified exactly on a window boundary is read by both windows (or once), never
// lost, and deduplicates to one.
#[test]
fn a_boundary_trade_is_never_lost() {
    let h = Harness::new(30, 5);
    let start = (now_ms() - 3 * HOUR).div_euclid(1000) * 1000;
    // The windows from `start`: [start, start+30m], [start+30m, start+60m], …
    let boundary = start + 30 * MIN;
    let on = tid(&h.sim.generate_trade(1, boundary));
    let before = tid(&h.sim.generate_trade(2, boundary - 1000));
    let after = tid(&h.sim.generate_trade(3, boundary + 1000));
    let (seen, _) = h.pull_round(Some(Cursor::at(start).encode()), 0, |_| {});
    let count = |id: &str| seen.iter().filter(|o| o.external_id == id).count();
    assert!(
        (1..=2).contains(&count(&on)),
        "boundary trade read {} times",
        count(&on)
    );
    assert_eq!((count(&before), count(&after)), (1, 1));
    assert_eq!(dedup(&seen).len(), 3);
    let first_two: Vec<(String, String)> = h.sim.calls()[..2]
        .iter()
        .map(|c| {
            (
                c.params["start_modified"].clone(),
                c.params["end_modified"].clone(),
            )
        })
        .collect();
    assert_eq!(first_two[0].1, top::format_time(boundary));
    assert_eq!(first_two[1].0, top::format_time(boundary));
}

// A wrong app secret or session is unauthorized; TOP's call limit is rate-limited for the
// announced ban; remote-service errors and HTTP 5xx are transient; after them the pull
// resumes from the same cursor and completes.
#[test]
fn platform_errors_become_typed_errors() {
    let h = Harness::new(60, 5);
    let now = now_ms();
    h.sim.generate_trades(12, 3, now - 3 * HOUR, now - 2 * MIN);
    let good = h.creds();
    let bad_secret = Credentials {
        app_secret: "wrong".into(),
        ..good.clone()
    };
    let bad_session = Credentials {
        session: "expired".into(),
        ..good.clone()
    };
    assert!(matches!(
        h.pull_with(&bad_secret, None, now_ms()),
        Err(ConnectorError::Unauthorized(m)) if m.contains("25")
    ));
    assert!(matches!(
        h.pull_with(&bad_session, None, now_ms()),
        Err(ConnectorError::Unauthorized(m)) if m.contains("27")
    ));
    h.sim
        .fail_next(1, Fault::Top(TopError::app_call_limited(3)));
    h.sim
        .fail_next(1, Fault::Top(TopError::remote_service_error()));
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
    let (seen, _) = h.pull_round(None, 0, |_| {});
    assert_eq!(dedup(&seen).len(), 12);
}

// get-order returns the trade as TOP has it now, and none for an unknown tid.
#[test]
fn get_order_reads_the_current_version() {
    let h = Harness::new(60, 5);
    let t = h.sim.generate_trade(11, now_ms() - HOUR);
    let id = t["tid"].as_u64().unwrap();
    let advanced = h.sim.advance_trade(id, 1);
    let current = h.sim.trade(id).unwrap();
    let creds = h.creds();
    let got = api::get_order(&h.settings, &creds, &id.to_string(), now_ms(), &mut |r| {
        h.net.send(r)
    })
    .unwrap()
    .unwrap();
    assert_eq!(got.external_id, id.to_string());
    assert_eq!(got.raw_status.split('/').next(), current["status"].as_str());
    assert_eq!(got.updated_at, modified(&current));
    assert!(advanced.is_none() || got.updated_at > modified(&t));
    let missing =
        api::get_order(&h.settings, &creds, "1", now_ms(), &mut |r| h.net.send(r)).unwrap();
    assert!(missing.is_none());
}

fn level(sku: &str, channel_sku: &str, available: i64) -> StockLevel {
    StockLevel {
        sku: sku.into(),
        channel_sku: channel_sku.into(),
        available,
    }
}

impl Harness {
    fn push(
        &self,
        creds: &Credentials,
        levels: &[StockLevel],
    ) -> Result<Vec<wit::StockPushResult>, ConnectorError> {
        api::push_inventory(&self.settings, creds, levels, now_ms(), &mut |r| {
            self.net.send(r)
        })
    }
}

/// push-inventory sets a SKU's and a SKU-less item's quantity, read back from the simulator.
#[test]
fn push_inventory_sets_the_quantity_read_back_from_the_sim() {
    let h = Harness::new(60, 5);
    h.sim
        .add_item(600_000_000_001, Some(5_000_000_000_001), "TEE-M");
    h.sim.add_item(600_000_000_002, None, "MUG-1");
    let levels = [
        level("TEE-M", "600000000001:5000000000001", 17),
        level("MUG-1", "600000000002", 3),
    ];
    let results = h.push(&h.creds(), &levels).unwrap();
    assert!(results.iter().all(|r| r.ok), "{results:?}");
    assert_eq!(
        results.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>(),
        ["TEE-M", "MUG-1"]
    );
    assert_eq!(
        h.sim.quantity(600_000_000_001, Some(5_000_000_000_001)),
        Some(17)
    );
    assert_eq!(h.sim.quantity(600_000_000_002, None), Some(3));
    let log: Vec<(u64, Option<u64>, u8, i64)> = h
        .sim
        .quantity_updates()
        .iter()
        .map(|u| (u.num_iid, u.sku_id, u.update_type, u.quantity))
        .collect();
    assert_eq!(
        log,
        [
            (600_000_000_001, Some(5_000_000_000_001), 1, 17),
            (600_000_000_002, None, 1, 3)
        ]
    );
}

/// An unknown item or SKU fails only its own level, with TOP's sub-code; the others are set.
#[test]
fn push_inventory_refuses_an_unknown_item_per_item() {
    let h = Harness::new(60, 5);
    h.sim
        .add_item(600_000_000_001, Some(5_000_000_000_001), "TEE-M");
    let levels = [
        level("GHOST", "600000000999:5000000000001", 4),
        level("TEE-L", "600000000001:5000000000999", 4),
        level("TEE-M", "600000000001:5000000000001", 8),
    ];
    let results = h.push(&h.creds(), &levels).unwrap();
    let oks: Vec<bool> = results.iter().map(|r| r.ok).collect();
    assert_eq!(oks, [false, false, true]);
    assert!(
        results[0].message.contains("isv.item-not-exist"),
        "{}",
        results[0].message
    );
    assert!(
        results[1].message.contains("invalid-numIid-or-skuId"),
        "{}",
        results[1].message
    );
    assert_eq!(
        h.sim.quantity(600_000_000_001, Some(5_000_000_000_001)),
        Some(8)
    );
    assert_eq!(h.sim.quantity_updates().len(), 1);
}

/// A wrong app secret or session fails the whole push as unauthorized and changes nothing.
#[test]
fn push_inventory_with_bad_credentials_is_unauthorized() {
    let h = Harness::new(60, 5);
    h.sim.add_item(600_000_000_002, None, "MUG-1");
    let levels = [level("MUG-1", "600000000002", 3)];
    let good = h.creds();
    for bad in [
        Credentials {
            app_secret: "wrong".into(),
            ..good.clone()
        },
        Credentials {
            session: "expired".into(),
            ..good.clone()
        },
    ] {
        assert!(matches!(
            h.push(&bad, &levels),
            Err(ConnectorError::Unauthorized(_))
        ));
    }
    assert!(h.sim.quantity_updates().is_empty());
    assert_eq!(
        h.sim.quantity(600_000_000_002, None),
        Some(wharf_sim::taobao::items::INITIAL_QUANTITY)
    );
}

/// A negative available (oversold) is sent as quantity 0, for an item listed from a generated trade.
#[test]
fn push_inventory_sends_negative_available_as_zero() {
    let h = Harness::new(60, 5);
    let now = now_ms();
    let made = h.sim.generate_trades(10, 5, now - 2 * HOUR, now - HOUR);
    let o = made
        .iter()
        .flat_map(|t| t["orders"]["order"].as_array().unwrap().clone())
        .find(|o| o.get("sku_id").is_some())
        .expect("ten trades have a sub-order with a SKU");
    let num_iid = o["num_iid"].as_u64().unwrap();
    let sku_id: u64 = o["sku_id"].as_str().unwrap().parse().unwrap();
    let levels = [level("X", &format!("{num_iid}:{sku_id}"), -3)];
    let results = h.push(&h.creds(), &levels).unwrap();
    assert!(results[0].ok, "{results:?}");
    assert_eq!(h.sim.quantity(num_iid, Some(sku_id)), Some(0));
    assert_eq!(h.sim.calls().last().unwrap().params["quantity"], "0");
}
