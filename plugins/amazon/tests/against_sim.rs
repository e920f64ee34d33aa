//! The plugin's SP-API paging, mapping and stock push, run natively against the Amazon
//! simulator over real HTTP (the transport is reqwest instead of wasi:http; everything
//! else is the plugin's own code). The simulator checks every access token, enforces the
//! two-minute rule, binds NextTokens to their filter and throttles per operation, so a
//! pull that completes here spoke the protocol right.

use std::collections::BTreeSet;

use serde_json::Value;
use wharf_domain::money::{minor_digits, parse_decimal};
use wharf_plugin_amazon::api;
use wharf_plugin_amazon::cursor::Cursor;
use wharf_plugin_amazon::settings::Settings;
use wharf_plugin_amazon::spapi::{self, Credentials};
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel};
use wharf_sim::amazon::{AmazonSim, AmazonSimConfig, Fault, Limit, RateLimits};
use wharf_sim::native::{self, dedup, Transport};

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DE: &str = "A1PA6795UKMFR9";
const UK: &str = "A1F83G8C2ARO7P";
const JP: &str = "A1VC38T7YXB528";

struct Harness {
    net: Transport,
    sim: AmazonSim,
    settings: Settings,
}

impl Harness {
    fn new(cfg: AmazonSimConfig, page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net.block_on(AmazonSim::start(cfg)).unwrap();
        let settings = Settings {
            endpoint: sim.base_url(),
            token_url: format!("{}/auth/o2/token", sim.base_url()),
            marketplace_ids: sim.config().marketplace_ids.clone(),
            seller_id: Some(sim.config().seller_id.clone()),
            page_size,
            lookback_days: 1,
        };
        Harness { net, sim, settings }
    }

    fn fast(page_size: u32) -> Harness {
        Harness::new(
            AmazonSimConfig {
                limits: RateLimits::fast(),
                ..AmazonSimConfig::default()
            },
            page_size,
        )
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            refresh_token: c.refresh_token.clone(),
        }
    }

    /// One pull call with the simulator's clock as the plugin's.
    fn pull_with(&self, creds: &Credentials, cursor: Option<&str>) -> Result<Page, ConnectorError> {
        api::pull_orders(&self.settings, creds, cursor, self.sim.now_ms(), &mut |r| {
            self.net.send(r)
        })
    }

    /// Pull pages until `more` is false, calling `between` after every page. Returns the
    /// orders in arrival order and the final cursor.
    fn pull_round(
        &self,
        cursor: Option<String>,
        between: impl FnMut(&Page),
    ) -> (Vec<Order>, Option<String>) {
        let pull = |c: Option<&str>| self.pull_with(&self.creds(), c);
        native::pull_round(pull, cursor, between)
    }

    fn list_calls(&self) -> Vec<wharf_sim::amazon::Call> {
        self.sim
            .calls()
            .into_iter()
            .filter(|c| c.operation == "getOrders")
            .collect()
    }
}

fn oid(o: &Value) -> String {
    o["AmazonOrderId"].as_str().unwrap().to_string()
}

fn updated(o: &Value) -> i64 {
    spapi::parse_time("t", o["LastUpdateDate"].as_str().unwrap()).unwrap()
}

// A pull over hours of orders in three marketplaces (EUR, GBP, JPY) reads every order
// once, with totals exactly OrderTotal's minor units; every getOrders call keeps
// LastUpdatedBefore two minutes behind the simulator's clock; a second round reads nothing.
#[test]
fn a_pull_reads_every_order_exactly() {
    let h = Harness::new(
        AmazonSimConfig {
            limits: RateLimits::fast(),
            marketplace_ids: vec![DE.into(), UK.into(), JP.into()],
            ..AmazonSimConfig::default()
        },
        7,
    );
    let now = h.sim.now_ms();
    let made = h.sim.generate_orders(60, 1, now - 5 * HOUR, now - 3 * MIN);
    let (seen, cursor) = h.pull_round(None, |_| {});
    let ids: Vec<String> = seen.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!(ids.len(), 60, "each order once");
    assert_eq!(
        ids.iter().cloned().collect::<BTreeSet<_>>(),
        made.iter().map(oid).collect::<BTreeSet<_>>()
    );
    let mut currencies = BTreeSet::new();
    for o in &seen {
        let raw = h.sim.order(&o.external_id).unwrap();
        match raw.get("OrderTotal") {
            Some(t) => {
                let c = t["CurrencyCode"].as_str().unwrap();
                let want =
                    parse_decimal(t["Amount"].as_str().unwrap(), minor_digits(c).unwrap()).unwrap();
                assert_eq!((o.total_paid.minor, o.currency.as_str()), (want, c));
            }
            None => assert_eq!(o.total_paid.minor, 0),
        }
        assert_eq!(o.lines.len(), h.sim.items(&o.external_id).unwrap().len());
        currencies.insert(o.currency.clone());
    }
    assert_eq!(currencies.len(), 3, "{currencies:?}");
    let calls = h.list_calls();
    // The round pages one window; if the wall clock crossed a second meanwhile, the round
    // may also open the next (empty) window — the first window alone is 9 pages.
    let first_window = calls
        .iter()
        .filter(|c| c.query["LastUpdatedBefore"] == calls[0].query["LastUpdatedBefore"])
        .count();
    assert_eq!(first_window, 9, "60 orders in pages of 7");
    assert!(
        calls.len() <= 10,
        "at most one more, empty, window: {}",
        calls.len()
    );
    let before = spapi::parse_time("b", &calls[0].query["LastUpdatedBefore"]).unwrap();
    assert!(before <= h.sim.now_ms() - 2 * MIN);

    h.sim.advance_clock(10_000);
    let (again, _) = h.pull_round(cursor, |_| {});
    assert!(again.is_empty(), "nothing changed, nothing read");
}

// Orders updated while a pull is in flight — ones already delivered and ones not reached
// yet — orders created meanwhile, and a NextToken that expires mid-window lose nothing:
// every untouched order is read by the pull, every touched or new one by the next pull,
// and the host's dedup keeps exactly one current version of each.
#[test]
fn mutations_in_flight_lose_nothing() {
    let h = Harness::fast(10);
    let now = h.sim.now_ms();
    h.sim.generate_orders(120, 7, now - 4 * HOUR, now - HOUR);
    let (mut delivered, mut touched) = (BTreeSet::new(), BTreeSet::new());
    let mut created = Vec::new();
    let mut pages = 0;
    let mut expired = false;
    let (first, cursor) = h.pull_round(None, |p| {
        pages += 1;
        delivered.extend(p.orders.iter().map(|o| o.external_id.clone()));
        let Some(c) = p.cursor.as_deref().map(|c| Cursor::decode(c).unwrap()) else {
            return;
        };
        // The cursor's guarantee: no order below its position (the mark while paging,
        // the next window's start between windows) is still undelivered.
        let position = if c.before.is_some() {
            c.mark.unwrap_or(c.after)
        } else {
            c.after
        };
        let behind: Vec<String> = h
            .sim
            .orders()
            .iter()
            .filter(|o| updated(o) < position && !delivered.contains(&oid(o)))
            .map(oid)
            .collect();
        assert!(behind.is_empty(), "the cursor moved past {behind:?}");
        let Some(before) = c.before else { return };
        let in_window: Vec<Value> = h
            .sim
            .orders()
            .into_iter()
            .filter(|o| (c.after..=before).contains(&updated(o)) && !touched.contains(&oid(o)))
            .collect();
        let done = in_window.iter().find(|o| delivered.contains(&oid(o)));
        let ahead = in_window
            .iter()
            .rev()
            .find(|o| !delivered.contains(&oid(o)));
        for o in [done, ahead].into_iter().flatten() {
            let id = oid(o);
            if h.sim.advance_order(&id, pages).is_none() {
                h.sim
                    .update_order(&id, |o, _| o["IsPrime"] = Value::Bool(true))
                    .unwrap();
            }
            touched.insert(id);
        }
        created.push(oid(&h.sim.generate_order(1000 + pages, h.sim.now_ms())));
        if pages == 4 && !expired {
            h.sim.expire_next_tokens();
            expired = true;
        }
    });
    assert!(
        pages >= 10 && touched.len() >= 15,
        "the pull was disturbed: {pages} pages, {} touched",
        touched.len()
    );
    let first_ids: BTreeSet<String> = first.iter().map(|o| o.external_id.clone()).collect();
    let untouched: Vec<String> = h
        .sim
        .orders()
        .iter()
        .map(oid)
        .filter(|id| !touched.contains(id) && !created.contains(id))
        .collect();
    let missed: Vec<&String> = untouched
        .iter()
        .filter(|id| !first_ids.contains(*id))
        .collect();
    assert!(missed.is_empty(), "untouched orders missed: {missed:?}");

    // The touched and created orders carry the simulator's "now": once two minutes have
    // passed, the next pull reads them.
    h.sim.advance_clock(3 * MIN);
    let (second, _) = h.pull_round(cursor, |_| {});
    let second_ids: BTreeSet<String> = second.iter().map(|o| o.external_id.clone()).collect();
    assert!(
        touched.iter().all(|id| second_ids.contains(id)),
        "every touched order is read again"
    );
    assert!(
        created.iter().all(|id| second_ids.contains(id)),
        "every created order is read"
    );
    let all: Vec<Order> = first.into_iter().chain(second).collect();
    let kept = dedup(&all);
    assert_eq!(
        kept.len(),
        120 + created.len(),
        "exactly one order per Amazon order"
    );
    for o in h.sim.orders() {
        assert_eq!(
            kept[&oid(&o)].0,
            updated(&o),
            "order {} is at its current version",
            oid(&o)
        );
    }
}

// With getOrderItems throttled (burst 3, 0.5/s) a page is delivered in parts: the
// first call returns what its items allowed, the next fails rate-limited for one
// token's refill (2 s, from x-amzn-RateLimit-Limit); after waiting, the pull completes
// with nothing lost or read twice.
#[test]
fn throttled_items_resume_without_loss() {
    let h = Harness::new(
        AmazonSimConfig {
            limits: RateLimits {
                get_order_items: Limit {
                    rate: 0.5,
                    burst: 3,
                },
                ..RateLimits::amazon()
            },
            ..AmazonSimConfig::default()
        },
        5,
    );
    let now = h.sim.now_ms();
    h.sim.generate_orders(8, 2, now - 2 * HOUR, now - HOUR);
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut limited = 0;
    for _ in 0..40 {
        match h.pull_with(&h.creds(), cursor.as_deref()) {
            Ok(p) => {
                seen.extend(p.orders.iter().map(|o| o.external_id.clone()));
                cursor = p.cursor.clone();
                if !p.more {
                    break;
                }
            }
            Err(ConnectorError::RateLimited(ms)) => {
                assert_eq!(ms, 2000);
                limited += 1;
                h.sim.advance_clock(5 * ms as i64);
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(limited >= 1, "the bucket ran dry at least once");
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 8);
}

// Wrong LWA credentials are unauthorized naming LWA's error; 403, 429 and 5xx from the
// SP-API are unauthorized, rate-limited (getOrders' 0.0167/s → about 60 s) and transient;
// afterwards the pull resumes from the same cursor and completes.
#[test]
fn platform_errors_become_typed_errors() {
    let h = Harness::fast(5);
    let now = h.sim.now_ms();
    h.sim.generate_orders(12, 3, now - 3 * HOUR, now - 3 * MIN);
    let good = h.creds();
    let bad_secret = Credentials {
        client_secret: "wrong".into(),
        ..good.clone()
    };
    let bad_refresh = Credentials {
        refresh_token: "Atzr|revoked".into(),
        ..good.clone()
    };
    assert!(
        matches!(h.pull_with(&bad_secret, None), Err(ConnectorError::Unauthorized(m)) if m.contains("invalid_client") && !m.contains("wrong"))
    );
    assert!(
        matches!(h.pull_with(&bad_refresh, None), Err(ConnectorError::Unauthorized(m)) if m.contains("invalid_grant"))
    );
    assert_eq!(h.sim.requests(), 0, "no SP-API call without a token");
    h.sim.fail_next(1, Fault::Unauthorized);
    h.sim.fail_next(1, Fault::QuotaExceeded);
    h.sim.fail_next(1, Fault::Server(503));
    h.sim.fail_next(1, Fault::Server(500));
    assert!(matches!(
        h.pull_with(&good, None),
        Err(ConnectorError::Unauthorized(_))
    ));
    // The fast test limits announce 1000/s: the fault carries the operation's header.
    let limited = Harness::new(AmazonSimConfig::default(), 5);
    limited.sim.fail_next(1, Fault::QuotaExceeded);
    assert!(matches!(
        limited.pull_with(&limited.creds(), None),
        Err(ConnectorError::RateLimited(59_881))
    ));
    assert!(matches!(
        h.pull_with(&good, None),
        Err(ConnectorError::RateLimited(1))
    ));
    assert!(matches!(
        h.pull_with(&good, None),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        h.pull_with(&good, None),
        Err(ConnectorError::Transient(_))
    ));
    let (seen, _) = h.pull_round(None, |_| {});
    assert_eq!(dedup(&seen).len(), 12);
}

// get-order returns the order as Amazon has it now (after a status change), and none
// for an unknown id.
#[test]
fn get_order_reads_the_current_version() {
    let h = Harness::fast(5);
    let now = h.sim.now_ms();
    let mut id = String::new();
    for seed in 0..50 {
        let o = h.sim.generate_order(seed, now - HOUR);
        if h.sim.advance_order(&oid(&o), seed).is_some() {
            id = oid(&o);
            break;
        }
    }
    let current = h.sim.order(&id).unwrap();
    let got = api::get_order(&h.settings, &h.creds(), &id, &mut |r| h.net.send(r))
        .unwrap()
        .unwrap();
    assert_eq!(got.external_id, id);
    assert_eq!(got.raw_status, current["OrderStatus"].as_str().unwrap());
    assert_eq!(got.updated_at, updated(&current));
    assert_eq!(got.lines.len(), h.sim.items(&id).unwrap().len());
    let missing = api::get_order(&h.settings, &h.creds(), "999-0000000-0000000", &mut |r| {
        h.net.send(r)
    })
    .unwrap();
    assert!(missing.is_none());
}

// push-inventory sets each SellerSKU's quantity in every configured marketplace, where
// the simulator stores it; a negative level is pushed as 0; an unknown SKU is a failed
// result naming NotFound while the others succeed.
#[test]
fn push_inventory_sets_quantities() {
    let h = Harness::fast(5);
    let lvl = |sku: &str, ch: &str, n: i64| StockLevel {
        sku: sku.into(),
        channel_sku: ch.into(),
        available: n,
    };
    let levels = [
        lvl("w-btl", "BTL-750", 42),
        lvl("w-tea", "TEA-SEN-250", -2),
        lvl("w-x", "NO-SUCH-SKU", 1),
    ];
    let res =
        api::push_inventory(&h.settings, &h.creds(), &levels, &mut |r| h.net.send(r)).unwrap();
    assert_eq!(
        res.iter()
            .map(|r| (r.sku.as_str(), r.ok))
            .collect::<Vec<_>>(),
        [("w-btl", true), ("w-tea", true), ("w-x", false)]
    );
    assert!(res[2].message.contains("NotFound"), "{}", res[2].message);
    for m in [DE, UK] {
        assert_eq!(h.sim.quantity(m, "BTL-750"), Some(42));
        assert_eq!(h.sim.quantity(m, "TEA-SEN-250"), Some(0));
    }
    assert_eq!(h.sim.quantity(DE, "NO-SUCH-SKU"), None);
    h.sim.fail_next(1, Fault::QuotaExceeded);
    assert!(matches!(
        api::push_inventory(&h.settings, &h.creds(), &levels, &mut |r| h.net.send(r)),
        Err(ConnectorError::RateLimited(_))
    ));
}
