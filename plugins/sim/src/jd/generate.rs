//! Realistic random JD POP orders (pure, seedable). Every amount is built from integer
//! fen and written as JOS does, yuan with two decimals ("128.50").
//!
//! The simulator's amount model (JD's field descriptions, the arithmetic between them
//! partly guessed):
//! - `orderTotalPrice` = Σ `jdPrice × itemTotal` (goods at list price);
//! - `sellerDiscount` = the seller's discounts: per-SKU promotions (`couponDetailList`
//!   entries with the line's `skuId`, type `30-单品促销优惠`) plus a shop coupon (no
//!   `skuId`, type `100-店铺优惠`);
//! - `orderSellerPrice` = `orderTotalPrice − sellerDiscount`;
//! - `orderPayment` = `orderSellerPrice + freightPrice −` JD-borne coupons (no `skuId`,
//!   type `41-京东券优惠`): what the buyer pays.

use rand::Rng;
use serde_json::{json, Value};
use wharf_domain::money::format_minor;

use super::jos;

/// Every `orderState` a generated order can have, with JD's `orderStateRemark`.
pub const STATES: [(&str, &str); 9] = [
    ("WAIT_SELLER_STOCK_OUT", "等待出库"),
    ("WAIT_SELLER_DELIVERY", "等待发货"),
    ("WAIT_SEND_CODE", "等待发码"),
    ("POP_ORDER_PAUSE", "POP暂停"),
    ("PAUSE", "暂停"),
    ("LOCKED", "已锁定"),
    ("WAIT_GOODS_RECEIVE_CONFIRM", "等待确认收货"),
    ("FINISHED_L", "完成"),
    ("TRADE_CANCELED", "取消"),
];

/// JD's remark for a state.
pub fn remark(state: &str) -> &'static str {
    STATES
        .iter()
        .find(|(s, _)| *s == state)
        .map(|(_, r)| *r)
        .unwrap_or("")
}

const PRODUCTS: [(&str, &str); 8] = [
    ("小米 Redmi 充电宝 20000mAh 22.5W", "PB"),
    ("蓝月亮 洗衣液 3kg 薰衣草", "LD"),
    ("三只松鼠 每日坚果 750g/30袋", "NUT"),
    ("罗技 MX Master 3S 无线鼠标", "MS"),
    ("安踏 男子跑步鞋 轻便透气 42码", "SH"),
    ("九阳 豆浆机 1.2L 破壁免滤", "SM"),
    ("得力 A4 复印纸 70g 500张/包 5包", "PP"),
    ("维达 抽纸 3层130抽 24包", "TP"),
];

/// (fullname, province, city, county, town, street)
const CONSIGNEES: [(&str, &str, &str, &str, &str, &str); 5] = [
    (
        "王磊",
        "北京",
        "朝阳区",
        "三环以内",
        "",
        "建国路88号SOHO现代城2号楼",
    ),
    (
        "赵敏",
        "江苏",
        "南京市",
        "鼓楼区",
        "宁海路街道",
        "汉口路22号",
    ),
    (
        "孙浩",
        "广东",
        "广州市",
        "天河区",
        "石牌街道",
        "天河路385号",
    ),
    (
        "周婷",
        "湖北",
        "武汉市",
        "洪山区",
        "珞南街道",
        "珞喻路129号",
    ),
    ("吴强", "上海", "上海市", "徐汇区", "", "漕溪北路88号"),
];

fn yuan(fen: i64) -> Value {
    Value::String(format_minor(fen, 2))
}

fn price(rng: &mut impl Rng) -> i64 {
    rng.gen_range(5..=800) * 100 - [0, 10, 100][rng.gen_range(0..3)]
}

fn pick_state(rng: &mut impl Rng) -> &'static str {
    match rng.gen_range(0..100) {
        0..=29 => "WAIT_SELLER_STOCK_OUT",
        30..=32 => "WAIT_SELLER_DELIVERY",
        33..=35 => "WAIT_SEND_CODE",
        36..=38 => "POP_ORDER_PAUSE",
        39..=40 => "PAUSE",
        41..=45 => "LOCKED",
        46..=67 => "WAIT_GOODS_RECEIVE_CONFIRM",
        68..=89 => "FINISHED_L",
        _ => "TRADE_CANCELED",
    }
}

/// Generate order `order_id` of `vender_id`, last modified at `modified_ms` (rounded down
/// to the second). Mix: 1–4 items, per-SKU promotions, shop and JD coupons, free or paid
/// freight, cash on delivery, items with and without an outer SKU id, LOC (code-delivery)
/// orders without a consignee, and every state of [`STATES`].
pub fn order(rng: &mut impl Rng, order_id: u64, modified_ms: i64, vender_id: &str) -> Value {
    let state = pick_state(rng);
    let loc = state == "WAIT_SEND_CODE";
    let cod = !loc && rng.gen_bool(0.1);
    let n = rng.gen_range(1..=4usize);
    let mut items = Vec::with_capacity(n);
    let mut coupons = Vec::new();
    let (mut total, mut promos) = (0i64, 0i64);
    for i in 0..n {
        let (p, qty) = (price(rng), rng.gen_range(1..=3i64));
        let sku_id = 100_000_000_000 + rng.gen_range(0..900_000_000_000u64);
        let ware_id = 10_000_000_000 + rng.gen_range(0..90_000_000_000u64);
        let (name, code) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        total += p * qty;
        if rng.gen_bool(0.3) {
            let promo = p * qty * [5, 10, 15][rng.gen_range(0..3)] / 100;
            promos += promo;
            coupons.push(
                json!({"skuId": sku_id.to_string(), "couponType": "30-单品促销优惠",
                                "couponPrice": yuan(promo), "orderId": order_id.to_string()}),
            );
        }
        let outer = if rng.gen_bool(0.8) {
            format!("{code}-{:04}-{:02}", ware_id % 10_000, i + 1)
        } else {
            String::new()
        };
        items.push(json!({
            "skuId": sku_id.to_string(), "outerSkuId": outer, "skuName": name,
            "jdPrice": yuan(p), "itemTotal": qty.to_string(), "wareId": ware_id.to_string(),
            "productNo": format!("{code}{ware_id}"), "giftPoint": "0", "newStoreId": "0",
            "itemExt": "", "invoiceContentId": "1",
        }));
    }
    let shop = if total - promos >= 10_000 && rng.gen_bool(0.3) {
        1_000
    } else {
        0
    };
    if shop > 0 {
        coupons.push(
            json!({"couponType": "100-店铺优惠", "couponPrice": yuan(shop),
                            "orderId": order_id.to_string()}),
        );
    }
    let seller_discount = promos + shop;
    let seller_price = total - seller_discount;
    let freight = if loc || rng.gen_bool(0.6) {
        0
    } else {
        rng.gen_range(5..=15) * 100
    };
    let jd_coupon = if seller_price > 2_000 && rng.gen_bool(0.2) {
        500
    } else {
        0
    };
    if jd_coupon > 0 {
        coupons.push(
            json!({"couponType": "41-京东券优惠", "couponPrice": yuan(jd_coupon),
                            "orderId": order_id.to_string()}),
        );
    }
    let payment = seller_price + freight - jd_coupon;

    let modified = modified_ms.div_euclid(1000) * 1000;
    let created = modified - rng.gen_range(0..=3 * 86_400i64) * 1000;
    let mut o = json!({
        "orderId": order_id.to_string(),
        "venderId": vender_id,
        "orderType": if loc { "75" } else { "22" },
        "payType": if cod { "1-货到付款" } else { "4-在线支付" },
        "orderState": state,
        "orderStateRemark": remark(state),
        "orderTotalPrice": yuan(total),
        "orderSellerPrice": yuan(seller_price),
        "orderPayment": yuan(payment),
        "freightPrice": yuan(freight),
        "sellerDiscount": yuan(seller_discount),
        "orderStartTime": jos::format_time(created),
        "modified": jos::format_time(modified),
        "pin": format!("jd_{:010x}", rng.gen_range(0..0xff_ffff_ffffu64)),
        "orderRemark": "",
        "venderRemark": "",
        "itemInfoList": items,
        "couponDetailList": coupons,
    });
    if !cod {
        o["paymentConfirmTime"] = json!(jos::format_time(created + rng.gen_range(5..=300) * 1000));
    }
    if !loc {
        let (name, province, city, county, town, street) =
            CONSIGNEES[rng.gen_range(0..CONSIGNEES.len())];
        o["consigneeInfo"] = json!({
            "fullname": name,
            "mobile": format!("1{}", rng.gen_range(3_000_000_000u64..9_999_999_999)),
            "telephone": "",
            "province": province, "city": city, "county": county, "town": town,
            "fullAddress": format!("{province}{city}{county}{town}{street}"),
            "provinceId": "1", "cityId": "72", "countyId": "2799", "townId": "0",
        });
    }
    o
}

/// The skuIds of an order's items.
pub fn sku_ids(order: &Value) -> Vec<u64> {
    order["itemInfoList"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["skuId"].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Move an order one plausible step along its life, without touching `modified` (the
/// caller bumps it). Returns the new state, or `None` when the order is final.
pub fn advance(order: &mut Value, rng: &mut impl Rng) -> Option<String> {
    let state = order["orderState"].as_str()?;
    let next = match state {
        "WAIT_SELLER_STOCK_OUT" => match rng.gen_range(0..10) {
            0 => "LOCKED",
            1 => "TRADE_CANCELED",
            _ => "WAIT_GOODS_RECEIVE_CONFIRM",
        },
        "LOCKED" => {
            if rng.gen_bool(0.5) {
                "TRADE_CANCELED"
            } else {
                "WAIT_SELLER_STOCK_OUT"
            }
        }
        "POP_ORDER_PAUSE" | "PAUSE" => "WAIT_SELLER_STOCK_OUT",
        "WAIT_SELLER_DELIVERY" => "WAIT_GOODS_RECEIVE_CONFIRM",
        "WAIT_SEND_CODE" | "WAIT_GOODS_RECEIVE_CONFIRM" => "FINISHED_L",
        _ => return None,
    };
    order["orderState"] = json!(next);
    order["orderStateRemark"] = json!(remark(next));
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

    // Generated orders add up by the simulator's amount model and cover every state.
    #[test]
    fn generated_orders_are_consistent() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut states = std::collections::BTreeSet::new();
        for i in 0..600u64 {
            let o = order(&mut rng, 2_300_000_000_000 + i, 1_712_000_000_000, "v");
            let items = o["itemInfoList"].as_array().unwrap();
            let goods: i64 = items
                .iter()
                .map(|it| {
                    fen(&it["jdPrice"]) * it["itemTotal"].as_str().unwrap().parse::<i64>().unwrap()
                })
                .sum();
            let coupons = o["couponDetailList"].as_array().unwrap();
            let all: i64 = coupons.iter().map(|c| fen(&c["couponPrice"])).sum();
            let jd: i64 = coupons
                .iter()
                .filter(|c| c["couponType"].as_str().unwrap().starts_with("41-"))
                .map(|c| fen(&c["couponPrice"]))
                .sum();
            assert_eq!(goods, fen(&o["orderTotalPrice"]));
            assert_eq!(all - jd, fen(&o["sellerDiscount"]));
            assert_eq!(
                goods - fen(&o["sellerDiscount"]),
                fen(&o["orderSellerPrice"])
            );
            assert_eq!(
                fen(&o["orderSellerPrice"]) + fen(&o["freightPrice"]) - jd,
                fen(&o["orderPayment"]),
                "{o}"
            );
            assert!(fen(&o["orderPayment"]) > 0);
            assert_eq!(
                o["orderStateRemark"],
                remark(o["orderState"].as_str().unwrap())
            );
            states.insert(o["orderState"].as_str().unwrap().to_string());
        }
        assert_eq!(states.len(), STATES.len(), "{states:?}");
    }

    // The same seed gives the same order.
    #[test]
    fn seeded_generation_is_deterministic() {
        let a = order(&mut StdRng::seed_from_u64(3), 1, 1_712_000_000_000, "v");
        let b = order(&mut StdRng::seed_from_u64(3), 1, 1_712_000_000_000, "v");
        assert_eq!(a, b);
    }

    // advance() only moves forward and reaches a final state.
    #[test]
    fn advance_terminates_in_a_final_state() {
        let mut rng = StdRng::seed_from_u64(5);
        for seed in 0..80 {
            let mut o = order(&mut StdRng::seed_from_u64(seed), 9, 1_712_000_000_000, "v");
            let mut steps = 0;
            while advance(&mut o, &mut rng).is_some() {
                steps += 1;
                assert!(steps < 50, "advance must terminate");
            }
            let end = o["orderState"].as_str().unwrap();
            assert!(["FINISHED_L", "TRADE_CANCELED"].contains(&end), "{end}");
        }
    }
}
