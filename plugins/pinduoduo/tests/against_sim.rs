//! The plugin's paging, mapping and stock pushes, run natively against the Pinduoduo simulator over real
//! HTTP (the transport is reqwest instead of wasi:http, and the clock is passed in;
//! everything else is the plugin's own code).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wharf_plugin_pinduoduo::api;
use wharf_plugin_pinduoduo::router::Credentials;
use wharf_plugin_pinduoduo::settings::Settings;
use wharf_plugin_pinduoduo::window::{Cursor, SAFETY_LAG_SECS};
use wharf_sdk::types::{ChannelStatus, ConnectorError, Page, StockLevel, StockPushResult};
use wharf_sim::native::Transport;
use wharf_sim::pinduoduo::{parse_time, AmountStyle, Failure, PddError, PddSim, PddSimConfig};
use wharf_sim::time::now_ms;

struct Harness {
    net: Transport,
    sim: PddSim,
    settings: Settings,
    creds: Credentials,
}

impl Harness {
    fn new(cfg: PddSimConfig, page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net.block_on(PddSim::start(cfg)).unwrap();
        let c = sim.config();
        let creds = Credentials {
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            access_token: c.access_token.clone(),
        };
        let settings = Settings {
            api_url: sim.router_url(),
            window_minutes: 30,
            page_size,
            lookback_days: 1,
        };
        Harness {
            net,
            sim,
            settings,
            creds,
        }
    }

    fn pull_at(&self, cursor: Option<&str>, now: i64) -> Result<Page, ConnectorError> {
        api::pull_orders(&self.settings, &self.creds, cursor, now, &mut |r| {
            self.net.send(r)
        })
    }

    /// Pull pages until `more` is false, calling `between` after every page; the orders'
    /// (order_sn, updated_at) in arrival order, the final cursor and the page count.
    fn round(
        &self,
        cursor: Option<String>,
        now: i64,
        mut between: impl FnMut(&[(String, i64)]),
    ) -> (Vec<(String, i64)>, Option<String>, usize) {
        let mut cursor = cursor;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = self.pull_at(cursor.as_deref(), now).unwrap();
            pages += 1;
            seen.extend(
                page.orders
                    .iter()
                    .map(|o| (o.external_id.clone(), o.updated_at)),
            );
            cursor = page.cursor;
            if !page.more {
                return (seen, cursor, pages);
            }
            between(&seen);
            assert!(pages < 500, "paging must end");
        }
    }
}

fn sn(o: &Value) -> String {
    o["order_sn"].as_str().unwrap().to_string()
}

fn updated_ms(o: &Value) -> i64 {
    parse_time(o["updated_at"].as_str().unwrap()).unwrap()
}

// A full round over a day of windows delivers every order, newest version, exactly as
// generated (amounts as numbers or as strings); the next round at once reads nothing.
#[test]
fn a_round_delivers_every_order_then_nothing_new() {
    for style in [AmountStyle::Numbers, AmountStyle::Strings] {
        let h = Harness::new(
            PddSimConfig {
                amounts: style,
                ..PddSimConfig::default()
            },
            5,
        );
        let orders = h.sim.generate_orders(23, 9);
        let now = now_ms();
        let (seen, cursor, pages) = h.round(None, now, |_| {});
        let ids: BTreeSet<&String> = seen.iter().map(|(id, _)| id).collect();
        let expected: BTreeSet<String> = orders.iter().map(sn).collect();
        assert_eq!(ids.into_iter().cloned().collect::<BTreeSet<_>>(), expected);
        assert!(pages >= 48, "a day is at least 48 windows: {pages}");
        for (id, at) in &seen {
            let o = orders.iter().find(|o| &sn(o) == id).unwrap();
            assert_eq!(*at, updated_ms(o), "{id}");
        }
        let before = h.sim.requests();
        let (again, _, _) = h.round(cursor, now, |_| {});
        assert!(again.is_empty(), "nothing changed: {again:?}");
        assert_eq!(h.sim.requests(), before, "nothing readable, no request");
    }
}

/// 60 orders in one closed window, the pull starting just before it.
fn crowded_window(h: &Harness) -> (i64, Vec<Value>) {
    let t0 = (now_ms() - 40 * 60_000) / 1000;
    let orders = h
        .sim
        .generate_orders_between(60, 4, t0 * 1000, (t0 + 25 * 60) * 1000);
    (t0, orders)
}

/// The orders still in `[t0, t0 + 30 min]`, newest first (what page 1 lists first).
fn in_window_newest_first(h: &Harness, t0: i64) -> Vec<String> {
    let mut v: Vec<(i64, String)> = h
        .sim
        .orders()
        .iter()
        .map(|o| (updated_ms(o) / 1000, sn(o)))
        .filter(|(t, _)| (t0..=t0 + 1800).contains(t))
        .collect();
    v.sort_by(|a, b| b.cmp(a));
    v.into_iter().map(|(_, s)| s).collect()
}

fn touch(h: &Harness, order_sn: &str) {
    h.sim
        .update_order(order_sn, |o| {
            let s = o["order_status"].as_i64().unwrap();
            o["order_status"] = (s % 3 + 1).into();
            o["remark"] = "changed mid-pull".into();
        })
        .unwrap();
}

// Orders changing WHILE a pull pages a window (the newest ones and not-yet-read ones) never
// make another order be skipped: every order arrives in this round, or (if it changed before
// its page was read) in the next round with its new version.
#[test]
fn mutations_mid_pull_never_lose_an_order() {
    let h = Harness::new(PddSimConfig::default(), 5);
    let (t0, orders) = crowded_window(&h);
    let now = now_ms();
    let mut mutated = BTreeSet::new();
    let mut step = 0usize;
    let (round1, cursor, pages) = h.round(Some(Cursor::at(t0).encode()), now, |seen| {
        step += 1;
        let delivered: BTreeSet<&String> = seen.iter().map(|(s, _)| s).collect();
        let remaining = in_window_newest_first(&h, t0);
        // The newest order in the window (shifts everything older forward) …
        if let Some(newest) = remaining.first() {
            touch(&h, newest);
            mutated.insert(newest.clone());
        }
        // … and one not yet delivered, from the middle.
        let unread: Vec<&String> = remaining
            .iter()
            .filter(|s| !delivered.contains(s))
            .collect();
        if step.is_multiple_of(2) && !unread.is_empty() {
            let pick = unread[unread.len() / 2].clone();
            touch(&h, &pick);
            mutated.insert(pick);
        }
    });
    assert!(pages >= 13, "the window was paged: {pages}");
    assert!(mutated.len() >= 15, "enough churn: {}", mutated.len());
    let round1_ids: BTreeSet<String> = round1.iter().map(|(s, _)| s.clone()).collect();
    // Every order that did not change was delivered in this very round.
    for o in &orders {
        let id = sn(o);
        if !mutated.contains(&id) {
            assert!(round1_ids.contains(&id), "unchanged order {id} was skipped");
        }
    }
    // Once the lag has passed, the next round delivers every changed order's new version.
    let later = now_ms() + (SAFETY_LAG_SECS + 60) * 1000;
    let (round2, _, _) = h.round(cursor, later, |_| {});
    let latest: BTreeMap<String, i64> = h
        .sim
        .orders()
        .iter()
        .map(|o| (sn(o), updated_ms(o)))
        .collect();
    for id in &mutated {
        assert!(
            round2.iter().any(|(s, at)| s == id && *at == latest[id]),
            "changed order {id} not delivered in its new version"
        );
    }
    let all: BTreeSet<String> = round1
        .iter()
        .chain(&round2)
        .map(|(s, _)| s.clone())
        .collect();
    assert_eq!(all.len(), 60, "every order at least once");
}

// Control: paging the same window FORWARDS under the same churn loses unchanged orders for
// good, so the test above would catch a plugin that paged forwards.
#[test]
fn forward_paging_would_lose_orders() {
    let h = Harness::new(PddSimConfig::default(), 5);
    let (t0, orders) = crowded_window(&h);
    let now_s = now_ms() / 1000;
    let (from, to) = (t0, t0 + 1800);
    let mut seen = BTreeSet::new();
    let mut mutated = BTreeSet::new();
    for page in 1..=12 {
        let listed = api::list_page(&h.settings, &h.creds, from, to, page, 5, now_s, &mut |r| {
            h.net.send(r)
        })
        .unwrap();
        seen.extend(listed.orders.iter().map(|o| o.external_id.clone()));
        if let Some(newest) = in_window_newest_first(&h, t0).first() {
            touch(&h, newest);
            mutated.insert(newest.clone());
        }
    }
    let lost: Vec<String> = orders
        .iter()
        .map(sn)
        .filter(|s| !seen.contains(s) && !mutated.contains(s))
        .collect();
    assert!(
        !lost.is_empty(),
        "forward paging should skip shifted orders"
    );
}

// Platform errors become typed errors: busy → transient, throttled → rate-limited,
// bad secret / revoked token → unauthorized, a gateway 502 → transient.
#[test]
fn platform_errors_become_typed_errors() {
    let h = Harness::new(PddSimConfig::default(), 5);
    h.sim.generate_orders(3, 1);
    let now = now_ms();
    h.sim.fail_next(1, Failure::Pdd(PddError::ServerBusy));
    h.sim.fail_next(1, Failure::Pdd(PddError::RateLimited));
    h.sim.fail_next(1, Failure::Http(502));
    assert!(
        matches!(h.pull_at(None, now), Err(ConnectorError::Transient(m)) if m.contains("50000"))
    );
    assert!(matches!(
        h.pull_at(None, now),
        Err(ConnectorError::RateLimited(1000))
    ));
    assert!(matches!(h.pull_at(None, now), Err(ConnectorError::Transient(m)) if m.contains("502")));
    h.pull_at(None, now).unwrap();
    let wrong_secret = Credentials {
        client_secret: "nope".into(),
        ..h.creds.clone()
    };
    let r = api::pull_orders(&h.settings, &wrong_secret, None, now, &mut |r| {
        h.net.send(r)
    });
    assert!(matches!(r, Err(ConnectorError::Unauthorized(m)) if m.contains("20004")));
    h.sim.revoke_access_token();
    match h.pull_at(None, now) {
        Err(ConnectorError::Unauthorized(m)) => {
            assert!(m.contains("10019") && m.contains("revoked"), "{m}");
            assert!(
                !m.contains(&h.creds.access_token),
                "the token is not echoed"
            );
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

// get-order returns the order as PDD has it now, and none for an unknown number.
#[test]
fn get_order_reads_the_current_version() {
    let h = Harness::new(PddSimConfig::default(), 5);
    let o = h.sim.generate_order_at(11, now_ms() - 600_000);
    let id = sn(&o);
    h.sim.update_order(&id, |o| {
        o["order_status"] = 3.into();
        o["refund_status"] = 1.into();
        o["after_sales_status"] = 0.into();
        o["confirm_status"] = 1.into();
    });
    let get =
        |id: &str| api::get_order(&h.settings, &h.creds, id, now_ms(), &mut |r| h.net.send(r));
    let got = get(&id).unwrap().unwrap();
    assert_eq!(got.external_id, id);
    assert_eq!(got.status, ChannelStatus::Completed);
    assert!(!got.shipping_address.unwrap().encrypted);
    assert!(get("240401-1").unwrap().is_none());
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
    ) -> Result<Vec<StockPushResult>, ConnectorError> {
        api::push_inventory(&self.settings, creds, levels, now_ms(), &mut |r| {
            self.net.send(r)
        })
    }
}

/// push-inventory sets each SKU's quantity (a SKU of a generated order and an added one), read back from the simulator.
#[test]
fn push_inventory_sets_the_quantity_read_back_from_the_sim() {
    let h = Harness::new(PddSimConfig::default(), 50);
    let o = h.sim.generate_order_at(8, now_ms() - 3_600_000);
    let it = &o["item_list"][0];
    let (g, s) = (
        it["goods_id"].as_u64().unwrap(),
        it["sku_id"].as_u64().unwrap(),
    );
    h.sim.add_goods(700_001, 900_001, "MUG-1");
    let levels = [
        level("TEE-M", &format!("{g}:{s}"), 17),
        level("MUG-1", "700001:900001", 3),
    ];
    let results = h.push(&h.creds, &levels).unwrap();
    assert!(results.iter().all(|r| r.ok), "{results:?}");
    assert_eq!(
        results.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>(),
        ["TEE-M", "MUG-1"]
    );
    assert_eq!(h.sim.quantity(g, s), Some(17));
    assert_eq!(h.sim.quantity(700_001, 900_001), Some(3));
    let log: Vec<(u64, u64, u8, i64)> = h
        .sim
        .quantity_updates()
        .iter()
        .map(|u| (u.goods_id, u.sku_id, u.update_type, u.quantity))
        .collect();
    assert_eq!(log, [(g, s, 1, 17), (700_001, 900_001, 1, 3)]);
}

/// Unknown goods or SKUs fail only their own level, with PDD's message; the others are set.
#[test]
fn push_inventory_refuses_an_unknown_sku_per_item() {
    let h = Harness::new(PddSimConfig::default(), 50);
    h.sim.add_goods(700_001, 900_001, "MUG-1");
    let levels = [
        level("GHOST", "799999:900001", 4),
        level("MUG-2", "700001:900002", 4),
        level("MUG-1", "700001:900001", 8),
    ];
    let results = h.push(&h.creds, &levels).unwrap();
    let oks: Vec<bool> = results.iter().map(|r| r.ok).collect();
    assert_eq!(oks, [false, false, true]);
    for r in &results[..2] {
        assert!(r.message.contains("isv.goods-not-exist"), "{}", r.message);
    }
    assert!(
        results[1].message.contains("900002"),
        "{}",
        results[1].message
    );
    assert_eq!(h.sim.quantity(700_001, 900_001), Some(8));
    assert_eq!(h.sim.quantity_updates().len(), 1);
}

/// A wrong client secret, a wrong token or a revoked grant fails the whole push as unauthorized, changing nothing.
#[test]
fn push_inventory_with_bad_credentials_is_unauthorized() {
    let h = Harness::new(PddSimConfig::default(), 50);
    h.sim.add_goods(700_001, 900_001, "MUG-1");
    let levels = [level("MUG-1", "700001:900001", 3)];
    let bad_secret = Credentials {
        client_secret: "wrong".into(),
        ..h.creds.clone()
    };
    let bad_token = Credentials {
        access_token: "expired".into(),
        ..h.creds.clone()
    };
    for creds in [&bad_secret, &bad_token] {
        assert!(matches!(
            h.push(creds, &levels),
            Err(ConnectorError::Unauthorized(_))
        ));
    }
    h.sim.revoke_access_token();
    assert!(matches!(
        h.push(&h.creds, &levels),
        Err(ConnectorError::Unauthorized(m)) if m.contains("10019")
    ));
    assert!(h.sim.quantity_updates().is_empty());
    assert_eq!(
        h.sim.quantity(700_001, 900_001),
        Some(wharf_sim::pinduoduo::goods::INITIAL_QUANTITY)
    );
}

/// A negative available (oversold) is sent as quantity 0.
#[test]
fn push_inventory_sends_negative_available_as_zero() {
    let h = Harness::new(PddSimConfig::default(), 50);
    h.sim.add_goods(700_001, 900_001, "MUG-1");
    let results = h
        .push(&h.creds, &[level("MUG-1", "700001:900001", -3)])
        .unwrap();
    assert!(results[0].ok, "{results:?}");
    assert_eq!(h.sim.quantity(700_001, 900_001), Some(0));
    let u = &h.sim.quantity_updates()[0];
    assert_eq!((u.requested, u.quantity, u.update_type), (0, 0, 1));
}
