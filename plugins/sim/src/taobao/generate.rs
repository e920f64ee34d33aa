//! Realistic random Taobao/Tmall trades (pure, seedable). Every amount is built from
//! integer fen and written as TOP does, yuan with two decimals ("128.50").
//!
//! The amounts of a generated trade follow TOP's published formulas:
//! - sub-order: `total_fee = price × num + adjust_fee − discount_fee` (its own discounts
//!   and the seller's manual adjustment), `payment = total_fee − part_mjz_discount` (its
//!   share of the shop-wide discount);
//! - trade: `total_fee = Σ price × num`, `discount_fee` = every discount (sub-order ones
//!   plus shop-wide), `adjust_fee = Σ orders.adjust_fee`,
//!   `payment = total_fee − discount_fee + adjust_fee + post_fee = Σ orders.payment + post_fee`.

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use wharf_domain::money::format_minor;

use super::top;

/// Every `status` a generated trade can have (plus the presale stages below).
pub const STATUSES: [&str; 12] = [
    "TRADE_NO_CREATE_PAY",
    "WAIT_BUYER_PAY",
    "PAY_PENDING",
    "WAIT_PRE_AUTH_CONFIRM",
    "WAIT_SELLER_SEND_GOODS",
    "PAID_FORBID_CONSIGN",
    "SELLER_CONSIGNED_PART",
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_BUYER_SIGNED",
    "TRADE_FINISHED",
    "TRADE_CLOSED",
    "TRADE_CLOSED_BY_TAOBAO",
];

/// `step_trade_status` of presale (`type: "step"`) trades.
pub const STEP_STATUSES: [&str; 3] = [
    "FRONT_NOPAID_FINAL_NOPAID",
    "FRONT_PAID_FINAL_NOPAID",
    "FRONT_PAID_FINAL_PAID",
];

const PRODUCTS: [(&str, &str); 8] = [
    ("纯棉短袖T恤 男款", "TS"),
    ("保温杯 316不锈钢 500ml", "CUP"),
    ("无线蓝牙耳机 降噪版", "EAR"),
    ("明前龙井 特级 250g", "TEA"),
    ("真丝围巾 春夏款", "SCF"),
    ("儿童绘本 全10册", "BK"),
    ("机械键盘 87键 茶轴", "KB"),
    ("手工皂 玫瑰 3块装", "SOAP"),
];

/// (name, province, city, district, town, street, zip)
const RECEIVERS: [(&str, &str, &str, &str, &str, &str, &str); 5] = [
    (
        "张伟",
        "浙江省",
        "杭州市",
        "余杭区",
        "五常街道",
        "文一西路969号",
        "311121",
    ),
    (
        "李娜",
        "广东省",
        "深圳市",
        "南山区",
        "粤海街道",
        "科技园南区8栋",
        "518057",
    ),
    (
        "王芳",
        "北京",
        "北京市",
        "朝阳区",
        "",
        "建国路88号SOHO现代城",
        "100022",
    ),
    (
        "刘洋",
        "四川省",
        "成都市",
        "武侯区",
        "",
        "天府大道北段1700号",
        "610041",
    ),
    (
        "陈静",
        "上海",
        "上海市",
        "浦东新区",
        "陆家嘴街道",
        "世纪大道100号",
        "200120",
    ),
];

fn yuan(fen: i64) -> Value {
    Value::String(format_minor(fen, 2))
}

/// A price in fen that looks like a shop's: 9.90 … 599.00, often ending in .90 or .00.
fn price(rng: &mut impl Rng) -> i64 {
    rng.gen_range(10..=600) * 100 - [0, 10, 100][rng.gen_range(0..3)]
}

fn pick_status(rng: &mut impl Rng) -> &'static str {
    match rng.gen_range(0..100) {
        0..=1 => "TRADE_NO_CREATE_PAY",
        2..=11 => "WAIT_BUYER_PAY",
        12..=13 => "PAY_PENDING",
        14 => "WAIT_PRE_AUTH_CONFIRM",
        15..=36 => "WAIT_SELLER_SEND_GOODS",
        37..=38 => "PAID_FORBID_CONSIGN",
        39..=46 => "SELLER_CONSIGNED_PART",
        47..=64 => "WAIT_BUYER_CONFIRM_GOODS",
        65..=67 => "TRADE_BUYER_SIGNED",
        68..=85 => "TRADE_FINISHED",
        86..=92 => "TRADE_CLOSED",
        _ => "TRADE_CLOSED_BY_TAOBAO",
    }
}

/// A sub-order's `refund_status`: SUCCESS for a closed (refunded) trade; for paid ones a
/// few sub-orders in each after-sales state (derived from the oid, so the random stream of
/// the rest of the trade is unchanged); NO_REFUND otherwise. Returns are only asked for
/// goods that shipped.
fn refund_status(status: &str, sub_status: &str, oid: u64) -> &'static str {
    let shipped = matches!(
        sub_status,
        "WAIT_BUYER_CONFIRM_GOODS" | "TRADE_BUYER_SIGNED" | "TRADE_FINISHED"
    );
    match status {
        "TRADE_CLOSED" => "SUCCESS",
        s if !is_paid(s) => "NO_REFUND",
        _ => match ((oid / 10 + oid % 10) % 16, shipped) {
            (0, _) => "WAIT_SELLER_AGREE",
            (1, true) => "WAIT_BUYER_RETURN_GOODS",
            (2, true) => "WAIT_SELLER_CONFIRM_GOODS",
            (3, _) => "CLOSED",
            (4, _) => "SELLER_REFUSE_BUYER",
            _ => "NO_REFUND",
        },
    }
}

fn is_paid(status: &str) -> bool {
    !matches!(
        status,
        "TRADE_NO_CREATE_PAY"
            | "WAIT_BUYER_PAY"
            | "PAY_PENDING"
            | "WAIT_PRE_AUTH_CONFIRM"
            | "TRADE_CLOSED_BY_TAOBAO"
    )
}

/// Generate one trade `tid` of `seller_nick`, last modified at `modified_ms` (rounded down
/// to the second, as TOP's timestamps are). Mix: 1–4 sub-orders, line and trade-level
/// discounts, free or paid shipping, items with and without SKUs, virtual goods without a
/// receiver, presale (`step`) trades in every stage, and every status.
pub fn trade(rng: &mut impl Rng, tid: u64, modified_ms: i64, seller_nick: &str) -> Value {
    let presale = rng.gen_bool(0.1);
    let (status, step) = if presale {
        let step = *STEP_STATUSES.choose(rng).expect("non-empty");
        let status = match step {
            "FRONT_PAID_FINAL_PAID" => "WAIT_SELLER_SEND_GOODS",
            _ => "WAIT_BUYER_PAY",
        };
        (status, Some(step))
    } else {
        (pick_status(rng), None)
    };
    let virtual_goods = !presale && rng.gen_bool(0.05);

    let n = rng.gen_range(1..=4usize);
    struct L {
        price: i64,
        num: i64,
        discount: i64,
        adjust: i64,
    }
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        let (price, num) = (price(rng), rng.gen_range(1..=3i64));
        let discount = if rng.gen_bool(0.3) {
            price * num * [5, 10, 15][rng.gen_range(0..3)] / 100
        } else {
            0
        };
        // The seller knocked a few yuan off by hand (single-item trades only, as on TOP).
        let adjust = if n == 1 && rng.gen_bool(0.15) {
            -rng.gen_range(1..=5) * 100
        } else {
            0
        };
        lines.push(L {
            price,
            num,
            discount,
            adjust,
        });
    }
    let total_fee: i64 = lines.iter().map(|l| l.price * l.num).sum();
    let after_lines: i64 = lines
        .iter()
        .map(|l| l.price * l.num - l.discount + l.adjust)
        .sum();
    let line_discounts: i64 = lines.iter().map(|l| l.discount).sum();
    let adjust: i64 = lines.iter().map(|l| l.adjust).sum();
    // 满减: 10 yuan off orders of 100 yuan or more, sometimes.
    let trade_discount = if after_lines >= 10_000 && rng.gen_bool(0.3) {
        1_000
    } else {
        0
    };
    let post_fee = if virtual_goods || rng.gen_bool(0.6) {
        0
    } else {
        rng.gen_range(5..=15) * 100
    };
    let payment = after_lines - trade_discount + post_fee;

    // The trade-level discount is allocated over the sub-orders (part_mjz_discount).
    let mut allocated = 0;
    let mut orders = Vec::with_capacity(n);
    for (i, l) in lines.iter().enumerate() {
        let net = l.price * l.num - l.discount + l.adjust;
        let share = if i + 1 == n {
            trade_discount - allocated
        } else {
            trade_discount * net / after_lines.max(1)
        };
        allocated += share;
        let (title, code) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let oid = tid * 10 + i as u64 + 1;
        let num_iid = 600_000_000_000 + rng.gen_range(0..1_000_000u64);
        let with_sku = rng.gen_bool(0.8);
        let sub_status = match status {
            "SELLER_CONSIGNED_PART" if i == 0 => "WAIT_BUYER_CONFIRM_GOODS",
            "SELLER_CONSIGNED_PART" => "WAIT_SELLER_SEND_GOODS",
            s => s,
        };
        let mut o = json!({
            "oid": oid,
            "oid_str": oid.to_string(),
            "num_iid": num_iid,
            "title": title,
            "pic_path": format!("https://img.alicdn.com/bao/uploaded/i{}/{num_iid}.jpg", rng.gen_range(1..5)),
            "price": yuan(l.price),
            "num": l.num,
            "total_fee": yuan(net),
            "discount_fee": yuan(l.discount),
            "adjust_fee": yuan(l.adjust),
            "part_mjz_discount": yuan(share),
            "payment": yuan(net - share),
            "status": sub_status,
            "refund_status": refund_status(status, sub_status, oid),
            "outer_iid": format!("{code}-{:04}", num_iid % 10_000),
        });
        if with_sku {
            let sku_id = 5_000_000_000_000 + rng.gen_range(0..1_000_000u64);
            o["sku_id"] = json!(sku_id.to_string());
            o["sku_properties_name"] = json!("颜色分类:黑色;尺码:L");
            o["outer_sku_id"] = json!(format!("{code}-{:04}-{:02}", num_iid % 10_000, i + 1));
        }
        if matches!(
            sub_status,
            "WAIT_BUYER_CONFIRM_GOODS" | "TRADE_BUYER_SIGNED" | "TRADE_FINISHED"
        ) {
            o["invoice_no"] = json!(format!("SF{oid}"));
            o["logistics_company"] = json!("顺丰速运");
        }
        orders.push(o);
    }

    let modified = modified_ms.div_euclid(1000) * 1000;
    let created = modified - rng.gen_range(0..=3 * 86_400i64) * 1000;
    let paid = is_paid(status) || step == Some("FRONT_PAID_FINAL_NOPAID");
    let pay_time = created + rng.gen_range(10..=600) * 1000;
    let finished = status == "TRADE_FINISHED";
    let mut t = json!({
        "tid": tid,
        "tid_str": tid.to_string(),
        "type": if presale { "step" } else { "fixed" },
        "status": status,
        "seller_nick": seller_nick,
        "buyer_nick": format!("t**{}", rng.gen_range(1..99)),
        "buyer_open_uid": format!("AAH{:013}", rng.gen_range(0..10_000_000_000_000u64)),
        "created": top::format_time(created),
        "modified": top::format_time(modified),
        "total_fee": yuan(total_fee),
        "discount_fee": yuan(line_discounts + trade_discount),
        "adjust_fee": yuan(adjust),
        "post_fee": yuan(post_fee),
        "payment": yuan(payment),
        "received_payment": yuan(if finished { payment } else { 0 }),
        "commission_fee": yuan(if finished { payment * 5 / 100 } else { 0 }),
        "num": lines.iter().map(|l| l.num).sum::<i64>(),
        "orders": {"order": orders},
    });
    if paid && status != "TRADE_CLOSED_BY_TAOBAO" {
        t["pay_time"] = json!(top::format_time(pay_time));
    }
    if let Some(step) = step {
        // The deposit is a fifth of the price, in whole yuan.
        let deposit = (payment / 5).div_euclid(100) * 100;
        t["step_trade_status"] = json!(step);
        t["step_paid_fee"] = yuan(deposit);
    }
    if !virtual_goods {
        let (name, state, city, district, town, street, zip) =
            RECEIVERS[rng.gen_range(0..RECEIVERS.len())];
        t["receiver_name"] = json!(name);
        t["receiver_mobile"] = json!(format!(
            "1{}",
            rng.gen_range(3_000_000_000u64..9_999_999_999)
        ));
        t["receiver_country"] = json!("");
        t["receiver_state"] = json!(state);
        t["receiver_city"] = json!(city);
        t["receiver_district"] = json!(district);
        t["receiver_town"] = json!(town);
        t["receiver_address"] = json!(street);
        t["receiver_zip"] = json!(zip);
    }
    t
}

/// Move a trade one plausible step along its life (pay, ship, confirm, close, pay the
/// presale balance), without touching `modified` (the caller bumps it). Returns the new
/// status, or `None` when the trade is final.
pub fn advance(trade: &mut Value, rng: &mut impl Rng) -> Option<String> {
    let status = trade["status"].as_str()?.to_string();
    let step = trade["step_trade_status"].as_str().map(str::to_string);
    let next = match (status.as_str(), step.as_deref()) {
        ("WAIT_BUYER_PAY", Some("FRONT_NOPAID_FINAL_NOPAID")) => {
            trade["step_trade_status"] = json!("FRONT_PAID_FINAL_NOPAID");
            "WAIT_BUYER_PAY"
        }
        ("WAIT_BUYER_PAY", Some("FRONT_PAID_FINAL_NOPAID")) => {
            trade["step_trade_status"] = json!("FRONT_PAID_FINAL_PAID");
            "WAIT_SELLER_SEND_GOODS"
        }
        ("TRADE_NO_CREATE_PAY" | "WAIT_BUYER_PAY" | "PAY_PENDING" | "WAIT_PRE_AUTH_CONFIRM", _) => {
            if rng.gen_bool(0.2) {
                "TRADE_CLOSED_BY_TAOBAO"
            } else {
                "WAIT_SELLER_SEND_GOODS"
            }
        }
        ("WAIT_SELLER_SEND_GOODS" | "PAID_FORBID_CONSIGN", _) => match rng.gen_range(0..10) {
            0 => "TRADE_CLOSED",
            1..=2 => "SELLER_CONSIGNED_PART",
            _ => "WAIT_BUYER_CONFIRM_GOODS",
        },
        ("SELLER_CONSIGNED_PART", _) => "WAIT_BUYER_CONFIRM_GOODS",
        ("WAIT_BUYER_CONFIRM_GOODS" | "TRADE_BUYER_SIGNED", _) => "TRADE_FINISHED",
        _ => return None,
    };
    trade["status"] = json!(next);
    let pay_time = trade["created"].clone();
    if is_paid(next) && trade.get("pay_time").is_none() {
        trade["pay_time"] = pay_time;
    }
    if let Some(orders) = trade["orders"]["order"].as_array_mut() {
        for (i, o) in orders.iter_mut().enumerate() {
            o["status"] = json!(match next {
                "SELLER_CONSIGNED_PART" if i == 0 => "WAIT_BUYER_CONFIRM_GOODS",
                "SELLER_CONSIGNED_PART" => "WAIT_SELLER_SEND_GOODS",
                s => s,
            });
            if next == "TRADE_CLOSED" {
                o["refund_status"] = json!("SUCCESS");
            }
        }
    }
    if next == "TRADE_FINISHED" {
        let payment = trade["payment"].clone();
        trade["received_payment"] = payment;
    }
    Some(next.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use wharf_domain::money::parse_decimal;

    fn fen(v: &Value) -> i64 {
        parse_decimal(v.as_str().expect("amount string"), 2).expect("yuan amount")
    }

    // Generated trades add up by the documented formulas and cover every status and stage.
    #[test]
    fn generated_trades_are_consistent() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut statuses = std::collections::BTreeSet::new();
        let mut steps = std::collections::BTreeSet::new();
        for i in 0..600u64 {
            let t = trade(&mut rng, 4_000_000_000_000 + i, 1_712_000_000_000, "shop");
            let orders = t["orders"]["order"].as_array().unwrap();
            let goods: i64 = orders
                .iter()
                .map(|o| fen(&o["price"]) * o["num"].as_i64().unwrap())
                .sum();
            let line_disc: i64 = orders.iter().map(|o| fen(&o["discount_fee"])).sum();
            let line_adj: i64 = orders.iter().map(|o| fen(&o["adjust_fee"])).sum();
            let sub_pay: i64 = orders.iter().map(|o| fen(&o["payment"])).sum();
            assert_eq!(goods, fen(&t["total_fee"]));
            assert_eq!(line_adj, fen(&t["adjust_fee"]));
            assert!(line_disc <= fen(&t["discount_fee"]));
            assert_eq!(
                goods - fen(&t["discount_fee"]) + fen(&t["adjust_fee"]) + fen(&t["post_fee"]),
                fen(&t["payment"]),
                "{t}"
            );
            for o in orders {
                assert_eq!(
                    fen(&o["price"]) * o["num"].as_i64().unwrap() + fen(&o["adjust_fee"])
                        - fen(&o["discount_fee"]),
                    fen(&o["total_fee"])
                );
            }
            assert_eq!(sub_pay + fen(&t["post_fee"]), fen(&t["payment"]), "{t}");
            assert!(fen(&t["payment"]) > 0);
            assert!(
                t["payment"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap()
                    .len()
                    == 2
            );
            statuses.insert(t["status"].as_str().unwrap().to_string());
            if let Some(s) = t["step_trade_status"].as_str() {
                steps.insert(s.to_string());
                assert!(fen(&t["step_paid_fee"]) < fen(&t["payment"]));
            }
        }
        assert_eq!(statuses.len(), STATUSES.len(), "{statuses:?}");
        assert_eq!(steps.len(), STEP_STATUSES.len());
    }

    // The same seed gives the same trade.
    #[test]
    fn seeded_generation_is_deterministic() {
        let a = trade(&mut StdRng::seed_from_u64(3), 1, 1_712_000_000_000, "s");
        let b = trade(&mut StdRng::seed_from_u64(3), 1, 1_712_000_000_000, "s");
        assert_eq!(a, b);
    }

    // advance() only moves forward and reaches a final status.
    #[test]
    fn advance_terminates_in_a_final_status() {
        let mut rng = StdRng::seed_from_u64(5);
        for seed in 0..50 {
            let mut t = trade(&mut StdRng::seed_from_u64(seed), 9, 1_712_000_000_000, "s");
            let mut steps = 0;
            while advance(&mut t, &mut rng).is_some() {
                steps += 1;
                assert!(steps < 10, "advance must terminate");
            }
            let end = t["status"].as_str().unwrap();
            assert!(
                ["TRADE_FINISHED", "TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"].contains(&end),
                "{end}"
            );
        }
    }
}
