//! Realistic random doudian shop orders (pure, seedable), as `order.searchList` and
//! `order.orderDetail` return them. Every amount is an integer in fen, as doudian sends.
//!
//! The amounts follow one model (the documented field meanings; the exact formulas are
//! not published — see the plugin README):
//! - sku order: `origin_amount = goods_price × item_num`; `promotion_amount` = its shop +
//!   platform + influencer (talent) discounts; `pay_amount = origin_amount −
//!   promotion_amount` (postage is the shop order's);
//! - shop order: `order_amount = Σ origin_amount + post_amount`; `promotion_amount =
//!   promotion_shop_amount + promotion_platform_amount + promotion_talent_amount = Σ sku
//!   promotion_amount`; `pay_amount = order_amount − promotion_amount`;
//!   `platform_cost_amount` = what the platform bears (its own discounts).

use rand::Rng;
use serde_json::{json, Value};

/// Every `order_status` a generated order can have, with its `order_status_desc`.
pub const STATUSES: [(i64, &str); 11] = [
    (1, "待确认/待支付"),
    (103, "部分支付"),
    (105, "已支付"),
    (2, "备货中"),
    (101, "部分发货"),
    (3, "已发货"),
    (4, "已取消"),
    (5, "已完成"),
    (21, "发货前退款完结"),
    (22, "发货后退款完结"),
    (39, "收货后退款完结"),
];

/// A sku order's `after_sale_info {after_sale_status, after_sale_type, refund_status}`:
/// refunded statuses (21, 22, 39) carry a finished refund; a few paid or shipped sku orders
/// (picked from the id, so the random stream of the rest is unchanged) carry a case in
/// each after-sales state; the rest none (0). `after_sale_type` 0 return + refund, 1 refund
/// after shipping, 2 refund before shipping; `refund_status` 0 none, 1 refunding, 3
/// refunded (doudian's codes as public SDKs show them; unverified).
pub fn after_sale_info(status: i64, sku_order_id: u64) -> Value {
    let shipped = matches!(status, 3 | 5 | 101);
    let (after_sale_status, after_sale_type, refund_status) = match status {
        21 | 22 | 39 => (12, if shipped { 1 } else { 2 }, 3),
        2 | 105 | 3 | 5 | 101 => match (sku_order_id % 13, shipped) {
            (0, false) => (6, 2, 1),
            (0, true) => (6, 1, 1),
            (1, true) => (6, 0, 0),
            (2, true) => (7, 0, 0),
            (3, _) => (27, 1, 0),
            (4, true) => (29, 0, 0),
            _ => (0, 0, 0),
        },
        _ => (0, 0, 0),
    };
    json!({
        "after_sale_status": after_sale_status,
        "after_sale_type": after_sale_type,
        "refund_status": refund_status,
    })
}

pub fn status_desc(status: i64) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, d)| *d)
        .unwrap_or("未知")
}

const PRODUCTS: [(&str, &str); 8] = [
    ("网红同款奶茶杯 450ml", "CUP"),
    ("冰丝防晒衣 女款", "SUN"),
    ("原切牛排 10片装", "BEEF"),
    ("蓝牙运动耳机", "EAR"),
    ("氨基酸洗面奶 120g", "WASH"),
    ("儿童益智积木 300粒", "TOY"),
    ("云南小粒咖啡豆 500g", "COF"),
    ("纯棉四件套 1.8m", "BED"),
];

/// (province, province id, city, city id, town (district), town id, street, street id,
/// detail)
type Place = (
    &'static str,
    u64,
    &'static str,
    u64,
    &'static str,
    u64,
    &'static str,
    u64,
    &'static str,
);
const PLACES: [Place; 4] = [
    (
        "浙江省",
        33,
        "杭州市",
        3301,
        "余杭区",
        330110,
        "五常街道",
        330110005,
        "文一西路969号",
    ),
    (
        "广东省",
        44,
        "深圳市",
        4403,
        "南山区",
        440305,
        "粤海街道",
        440305007,
        "科技园南区8栋",
    ),
    (
        "北京市",
        11,
        "北京市",
        1101,
        "朝阳区",
        110105,
        "建外街道",
        110105001,
        "建国路88号",
    ),
    (
        "四川省",
        51,
        "成都市",
        5101,
        "武侯区",
        510107,
        "石羊场街道",
        510107018,
        "天府大道北段1700号",
    ),
];

/// Ciphertext in doudian's shape (`#…#…##`, base64-ish inside): opaque to the shop.
fn cipher(rng: &mut impl Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body: String = (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("#{}#{}=#1##", &body[..4], &body[4..])
}

fn pick_status(rng: &mut impl Rng) -> i64 {
    match rng.gen_range(0..100) {
        0..=9 => 1,
        10..=12 => 103,
        13..=22 => 105,
        23..=42 => 2,
        43..=48 => 101,
        49..=66 => 3,
        67..=73 => 4,
        74..=89 => 5,
        90..=93 => 21,
        94..=97 => 22,
        _ => 39,
    }
}

/// Paid (at least partly) in this status.
pub fn is_paid(status: i64) -> bool {
    !matches!(status, 1 | 4)
}

/// Generate one shop order `order_id` of `shop_id`, last updated at `update_ms` (rounded
/// down to the second). Mix: 1–3 sku orders, shop / platform / influencer discounts,
/// free or paid postage, virtual orders without an address, presale (`pre_sale_type`
/// 1 and 2), both `reduce_stock_type`s, every status.
pub fn order(rng: &mut impl Rng, order_id: u64, update_ms: i64, shop_id: u64) -> Value {
    let status = pick_status(rng);
    let presale = if status == 103 {
        1
    } else if rng.gen_bool(0.1) {
        rng.gen_range(1..=2)
    } else {
        0
    };
    let virtual_goods = presale == 0 && rng.gen_bool(0.05);
    let update = update_ms.div_euclid(1000);
    let create = update - rng.gen_range(0..=3 * 86_400i64);
    let pay_time = if is_paid(status) || (status == 4 && rng.gen_bool(0.3)) {
        create + rng.gen_range(5..=900)
    } else {
        0
    };

    let n = rng.gen_range(1..=3usize);
    let mut skus = Vec::with_capacity(n);
    let (mut shop_sum, mut platform_sum, mut talent_sum, mut origin_sum) = (0i64, 0, 0, 0);
    for i in 0..n {
        let goods_price = rng.gen_range(10..=400i64) * 100 - [0, 10, 100][rng.gen_range(0..3)];
        let item_num = rng.gen_range(1..=3i64);
        let origin = goods_price * item_num;
        let shop = if rng.gen_bool(0.35) {
            origin * [5, 10, 20][rng.gen_range(0..3)] / 100
        } else {
            0
        };
        let platform = if rng.gen_bool(0.25) {
            (rng.gen_range(1..=5i64) * 100).min(origin - shop - 1)
        } else {
            0
        };
        let talent = if rng.gen_bool(0.1) {
            (rng.gen_range(1..=3i64) * 100).min(origin - shop - platform - 1)
        } else {
            0
        };
        let promotion = shop + platform + talent;
        shop_sum += shop;
        platform_sum += platform;
        talent_sum += talent;
        origin_sum += origin;
        let (name, code) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let product_id = 3_600_000_000_000_000_000u64 + rng.gen_range(0..1_000_000u64);
        let sku_id = 1_780_000_000_000_000u64 + rng.gen_range(0..100_000u64);
        let sku_status = match status {
            101 if i == 0 => 3,
            101 => 2,
            s => s,
        };
        let mut sku = json!({
            "order_id": (order_id + i as u64 + 1).to_string(),
            "parent_order_id": order_id.to_string(),
            "order_status": sku_status,
            "order_status_desc": status_desc(sku_status),
            "product_id": product_id.to_string(),
            "product_name": name,
            "sku_id": sku_id,
            "code": format!("{code}-{:05}", sku_id % 100_000),
            "item_num": item_num,
            "goods_price": goods_price,
            "origin_amount": origin,
            "promotion_amount": promotion,
            "promotion_shop_amount": shop,
            "promotion_platform_amount": platform,
            "promotion_talent_amount": talent,
            "pay_amount": origin - promotion,
            "spec": [{"name": "颜色", "value": "黑色"}, {"name": "规格", "value": "标准"}],
            "create_time": create,
            "update_time": update,
        });
        if rng.gen_bool(0.8) {
            sku["out_sku_id"] = json!(format!("{code}-{:05}-{}", sku_id % 100_000, i + 1));
        } else {
            sku["out_sku_id"] = json!("");
        }
        sku["after_sale_info"] = after_sale_info(sku_status, order_id + i as u64 + 1);
        skus.push(sku);
    }
    let post = if virtual_goods || rng.gen_bool(0.6) {
        0
    } else {
        rng.gen_range(3..=12i64) * 100
    };
    let promotion = shop_sum + platform_sum + talent_sum;
    let order_amount = origin_sum + post;
    let mut o = json!({
        "order_id": order_id.to_string(),
        "shop_id": shop_id,
        "order_level": 2,
        "order_status": status,
        "order_status_desc": status_desc(status),
        "main_status": status,
        "main_status_desc": status_desc(status),
        "order_type": if virtual_goods { 2 } else { 0 },
        "order_type_desc": if virtual_goods { "普通虚拟订单" } else { "普通实物订单" },
        "create_time": create,
        "update_time": update,
        "pay_time": pay_time,
        "finish_time": if status == 5 { update } else { 0 },
        "order_amount": order_amount,
        "pay_amount": order_amount - promotion,
        "post_amount": post,
        "promotion_amount": promotion,
        "promotion_shop_amount": shop_sum,
        "promotion_platform_amount": platform_sum,
        "promotion_talent_amount": talent_sum,
        "promotion_pay_amount": 0,
        "platform_cost_amount": platform_sum,
        "reduce_stock_type": rng.gen_range(1..=2),
        "pre_sale_type": presale,
        "exp_ship_time": if presale > 0 { create + rng.gen_range(5..=15) * 86_400 } else { create + 2 * 86_400 },
        "buyer_words": if rng.gen_bool(0.2) { "请尽快发货，谢谢" } else { "" },
        "seller_words": "",
        "doudian_open_id": format!("1@#{:020}", rng.gen_range(0..u64::MAX / 2)),
        "sku_order_list": skus,
    });
    if !virtual_goods {
        let (p, pid, c, cid, t, tid, s, sid, detail) = PLACES[rng.gen_range(0..PLACES.len())];
        o["post_addr"] = json!({
            "province": {"name": p, "id": pid.to_string()},
            "city": {"name": c, "id": cid.to_string()},
            "town": {"name": t, "id": tid.to_string()},
            "street": {"name": s, "id": sid.to_string()},
            "detail": format!("{}***", detail.chars().take(2).collect::<String>()),
            "encrypt_detail": cipher(rng, 40),
        });
        o["post_receiver"] = json!("*");
        o["post_tel"] = json!(format!(
            "1{}****{:04}",
            rng.gen_range(30..99),
            rng.gen_range(0..10_000)
        ));
        o["encrypt_post_receiver"] = json!(cipher(rng, 24));
        o["encrypt_post_tel"] = json!(cipher(rng, 28));
    }
    o
}

/// Move an order one plausible step along its life (pay, prepare, ship, complete,
/// cancel, refund), without touching `update_time` (the caller bumps it). Returns the
/// new status, or `None` when the order is final.
pub fn advance(order: &mut Value, rng: &mut impl Rng) -> Option<i64> {
    let status = order["order_status"].as_i64()?;
    let next = match status {
        1 => {
            if rng.gen_bool(0.2) {
                4
            } else {
                105
            }
        }
        103 => 105,
        105 => 2,
        2 => match rng.gen_range(0..10) {
            0 => 21,
            1..=2 => 101,
            _ => 3,
        },
        101 => 3,
        3 => {
            if rng.gen_bool(0.1) {
                22
            } else {
                5
            }
        }
        5 if rng.gen_bool(0.05) => 39,
        _ => return None,
    };
    order["order_status"] = json!(next);
    order["order_status_desc"] = json!(status_desc(next));
    order["main_status"] = json!(next);
    order["main_status_desc"] = json!(status_desc(next));
    if is_paid(next) && order["pay_time"].as_i64() == Some(0) {
        let t = order["create_time"].as_i64().unwrap_or(0) + 60;
        order["pay_time"] = json!(t);
    }
    if let Some(skus) = order["sku_order_list"].as_array_mut() {
        for (i, s) in skus.iter_mut().enumerate() {
            let st = match next {
                101 if i == 0 => 3,
                101 => 2,
                s => s,
            };
            s["order_status"] = json!(st);
            s["order_status_desc"] = json!(status_desc(st));
        }
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    // Generated orders add up by the documented model and cover every status and presale type.
    #[test]
    fn generated_orders_are_consistent() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut statuses = std::collections::BTreeSet::new();
        let mut presales = std::collections::BTreeSet::new();
        for i in 0..600u64 {
            let o = order(
                &mut rng,
                6_900_000_000_000_000_000 + i * 10,
                1_712_000_000_000,
                1,
            );
            let n = |v: &Value, k: &str| v[k].as_i64().unwrap_or_else(|| panic!("{k}: {v}"));
            let skus = o["sku_order_list"].as_array().unwrap();
            let origin: i64 = skus.iter().map(|s| n(s, "origin_amount")).sum();
            let promo: i64 = skus.iter().map(|s| n(s, "promotion_amount")).sum();
            for s in skus {
                assert_eq!(
                    n(s, "goods_price") * n(s, "item_num"),
                    n(s, "origin_amount")
                );
                assert_eq!(
                    n(s, "origin_amount") - n(s, "promotion_amount"),
                    n(s, "pay_amount")
                );
                assert!(n(s, "pay_amount") > 0);
            }
            assert_eq!(origin + n(&o, "post_amount"), n(&o, "order_amount"));
            assert_eq!(promo, n(&o, "promotion_amount"));
            assert_eq!(
                n(&o, "promotion_shop_amount")
                    + n(&o, "promotion_platform_amount")
                    + n(&o, "promotion_talent_amount"),
                promo
            );
            assert_eq!(n(&o, "order_amount") - promo, n(&o, "pay_amount"), "{o}");
            assert_eq!(n(&o, "update_time"), 1_712_000_000);
            statuses.insert(n(&o, "order_status"));
            presales.insert(n(&o, "pre_sale_type"));
        }
        assert_eq!(statuses.len(), STATUSES.len(), "{statuses:?}");
        assert_eq!(presales.len(), 3);
    }

    // advance() only moves forward and reaches a final status.
    #[test]
    fn advance_terminates_in_a_final_status() {
        let mut rng = StdRng::seed_from_u64(5);
        for seed in 0..50 {
            let mut o = order(&mut StdRng::seed_from_u64(seed), 90, 1_712_000_000_000, 1);
            let mut steps = 0;
            while advance(&mut o, &mut rng).is_some() {
                steps += 1;
                assert!(steps < 10, "advance must terminate");
            }
            let end = o["order_status"].as_i64().unwrap();
            assert!([4, 5, 21, 22, 39].contains(&end), "{end}");
        }
    }
}
