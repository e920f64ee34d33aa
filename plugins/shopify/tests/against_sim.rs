//! The plugin's REST paging and mapping, run natively against the Shopify simulator over
//! real HTTP (the transport is reqwest instead of wasi:http; everything else is the
//! plugin's own code).

use std::collections::BTreeSet;

use serde_json::Value;
use wharf_plugin_shopify::api;
use wharf_plugin_shopify::settings::Settings;
use wharf_sdk::types::{ConnectorError, Page, StockLevel};
use wharf_sim::native::Transport;
use wharf_sim::shopify::{RateLimit, ShopifySim, ShopifySimConfig};

struct Harness {
    net: Transport,
    sim: ShopifySim,
    settings: Settings,
}

impl Harness {
    fn new(cfg: ShopifySimConfig, page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net.block_on(ShopifySim::start(cfg)).unwrap();
        let settings = Settings {
            shop_url: sim.base_url(),
            api_version: "2024-04".into(),
            page_size,
            lookback_days: 30,
            location_id: Some(sim.config().location_id),
        };
        Harness { net, sim, settings }
    }

    fn pull(&self, token: &str, cursor: Option<&str>) -> Result<Page, ConnectorError> {
        let now = wharf_sim::time::now_ms();
        api::pull_orders(&self.settings, token, cursor, now, &mut |r| {
            self.net.send(r)
        })
    }

    /// Pull pages until `more` is false; the orders' (id, updated_at) in arrival order.
    fn pull_round(&self, cursor: Option<String>) -> (Vec<(String, i64)>, Option<String>, usize) {
        let mut cursor = cursor;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = self
                .pull(&self.sim.config().access_token, cursor.as_deref())
                .unwrap();
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
            assert!(pages < 100, "paging must end");
        }
    }
}

fn id_of(o: &Value) -> String {
    o["id"].as_u64().unwrap().to_string()
}

// A full pull round visits every order exactly once in updated_at order, page by page;
// the next round starts at the watermark and sees the boundary order plus later changes.
#[test]
fn pull_rounds_see_every_order_once_then_only_changes() {
    let h = Harness::new(ShopifySimConfig::default(), 5);
    let orders = h.sim.generate_orders(23, 9);
    let (seen, cursor, pages) = h.pull_round(None);
    assert_eq!(pages, 5, "23 orders in pages of 5");
    let ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
    let unique: BTreeSet<&String> = ids.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no order twice in one round");
    let expected: BTreeSet<String> = orders.iter().map(id_of).collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected
    );
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "updated_at ascending"
    );

    // Nothing changed: the next round re-reads only the boundary order.
    let (again, cursor, _) = h.pull_round(cursor);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, seen.last().unwrap().0);

    // A change to an old order is picked up by the next round.
    let old = id_of(&orders[0]).parse::<u64>().unwrap();
    h.sim
        .update_order(old, |o| o["tags"] = "changed".into())
        .unwrap();
    let (changed, _, _) = h.pull_round(cursor);
    let changed_ids: Vec<&str> = changed.iter().map(|(id, _)| id.as_str()).collect();
    assert!(
        changed_ids.contains(&old.to_string().as_str()),
        "{changed_ids:?}"
    );
}

// Orders sharing one updated_at across a page boundary are all read (none skipped).
#[test]
fn shared_timestamps_across_pages_are_not_skipped() {
    let h = Harness::new(ShopifySimConfig::default(), 3);
    let now = wharf_sim::time::now_ms();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(4);
    for i in 0..7u64 {
        // All seven orders updated in the same second.
        let o = wharf_sim::shopify::generate::order(&mut rng, 9_000 + i, 2000 + i, now, 60);
        h.sim.insert_order(o).unwrap();
    }
    let (seen, _, pages) = h.pull_round(None);
    assert_eq!(pages, 3);
    let ids: BTreeSet<String> = seen.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), 7);
}

// Wrong token → unauthorized; rate limit → rate-limited with Retry-After; 5xx → transient.
#[test]
fn platform_errors_become_typed_errors() {
    let cfg = ShopifySimConfig {
        rate_limit: Some(RateLimit {
            bucket_size: 2,
            leak_per_second: 1,
        }),
        ..ShopifySimConfig::default()
    };
    let h = Harness::new(cfg, 5);
    assert!(matches!(
        h.pull("wrong", None),
        Err(ConnectorError::Unauthorized(_))
    ));
    let token = h.sim.config().access_token.clone();
    h.pull(&token, None).unwrap();
    h.pull(&token, None).unwrap();
    match h.pull(&token, None) {
        Err(ConnectorError::RateLimited(ms)) => assert!((100..=1000).contains(&ms), "{ms}"),
        other => panic!("expected rate-limited, got {other:?}"),
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    h.sim.fail_next(1, 502);
    assert!(matches!(
        h.pull(&token, None),
        Err(ConnectorError::Transient(_))
    ));
}

// get-order returns the simulator's order mapped, and none for an unknown id.
#[test]
fn get_order_reads_the_current_version() {
    let h = Harness::new(ShopifySimConfig::default(), 5);
    let o = h.sim.generate_order(11);
    let token = h.sim.config().access_token.clone();
    let id = id_of(&o);
    let got = api::get_order(&h.settings, &token, &id, &mut |r| h.net.send(r))
        .unwrap()
        .unwrap();
    assert_eq!(got.external_id, id);
    assert_eq!(got.number, o["name"].as_str().unwrap());
    let missing = api::get_order(&h.settings, &token, "1", &mut |r| h.net.send(r)).unwrap();
    assert!(missing.is_none());
}

/// push-inventory looks up each variant's inventory item and sets `available` at the
/// configured location; an unknown variant fails only its own level, a bad token the call.
#[test]
fn push_inventory_sets_available_per_variant() {
    let h = Harness::new(ShopifySimConfig::default(), 50);
    let item = h.sim.add_variant(4_400_001, "MUG-1");
    h.sim.add_variant(4_400_002, "TEE-M");
    let level = |sku: &str, ch: &str, n: i64| StockLevel {
        sku: sku.into(),
        channel_sku: ch.into(),
        available: n,
    };
    let levels = vec![
        level("MUG-1", "4400001", 7),
        level("GHOST", "4400999", 3),
        level("TEE-M", "4400002", 0),
    ];
    let token = h.sim.config().access_token.clone();
    let results =
        api::push_inventory(&h.settings, &token, &levels, &mut |r| h.net.send(r)).unwrap();
    let oks: Vec<(String, bool)> = results.iter().map(|r| (r.sku.clone(), r.ok)).collect();
    assert_eq!(
        oks,
        vec![
            ("MUG-1".into(), true),
            ("GHOST".into(), false),
            ("TEE-M".into(), true)
        ]
    );
    assert!(
        results[1].message.contains("not found"),
        "{}",
        results[1].message
    );
    assert_eq!(h.sim.available(4_400_001), Some(7));
    assert_eq!(h.sim.available(4_400_002), Some(0));
    let sets = h.sim.inventory_sets();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0].inventory_item_id, item);
    let err =
        api::push_inventory(&h.settings, "wrong", &levels, &mut |r| h.net.send(r)).unwrap_err();
    assert!(matches!(err, ConnectorError::Unauthorized(_)), "{err:?}");
}
