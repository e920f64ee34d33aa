//! Realistic Pinduoduo orders from a seeded RNG (pure: same seed, same order).
//!
//! Amounts are computed in integer fen and written as decimal strings, so every generated
//! order is consistent: `goods_amount = Σ goods_price × goods_count`,
//! `discount_amount = platform_discount + seller_discount + capital_free_discount`,
//! `pay_amount = goods_amount − discount_amount + postage > 0`. Receivers are stored in
//! plaintext; the API encrypts them while the order awaits shipment.

use rand::Rng;
use serde_json::{json, Value};
use wharf_domain::money::format_minor;

use super::format_time;

const GOODS: [(&str, &str, i64); 8] = [
    ("陶瓷马克杯", "MUG", 1990),
    ("亚麻围裙", "APRON", 3990),
    ("铸铁煎锅", "PAN", 12900),
    ("茶巾套装", "TOWEL", 2590),
    ("橄榄木汤勺", "SPOON", 990),
    ("意式咖啡杯两只装", "CUPS", 4990),
    ("面包刀", "KNIFE", 5990),
    ("五常大米 5kg", "RICE", 6990),
];

/// (receiver, phone, province, city, town, street)
const RECEIVERS: [(&str, &str, &str, &str, &str, &str); 6] = [
    (
        "张伟",
        "13800138000",
        "上海市",
        "上海市",
        "浦东新区",
        "世纪大道 100 号 8 楼",
    ),
    (
        "王芳",
        "13912345678",
        "广东省",
        "深圳市",
        "南山区",
        "科技园南区 2 栋 301",
    ),
    (
        "李娜",
        "13700001111",
        "浙江省",
        "杭州市",
        "西湖区",
        "文三路 90 号",
    ),
    (
        "刘洋",
        "18600002222",
        "北京市",
        "北京市",
        "朝阳区",
        "建国路 88 号 SOHO 现代城",
    ),
    (
        "陈静",
        "15000003333",
        "四川省",
        "成都市",
        "武侯区",
        "人民南路四段 1 号",
    ),
    (
        "杨磊",
        "13300004444",
        "湖北省",
        "武汉市",
        "洪山区",
        "珞喻路 1037 号",
    ),
];

fn yuan(fen: i64) -> Value {
    Value::String(format_minor(fen, 2))
}

/// Take up to `room` fen off `part`, returning what is left of `room`.
fn cap(part: &mut i64, room: i64) -> i64 {
    *part = (*part).min(room.max(0));
    room - *part
}

/// Generate one order numbered `sn`, last updated at `updated_ms`. Mix: 1–3 lines,
/// platform / seller / group-leader discounts, mostly free shipping, every order ×
/// refund × after-sales combination the status table knows, unconfirmed group orders,
/// presales.
pub fn order(rng: &mut impl Rng, sn: &str, updated_ms: i64) -> Value {
    let updated_ms = updated_ms.div_euclid(1000) * 1000;
    let created_ms = updated_ms - rng.gen_range(0..=3 * 86_400) * 1000;
    let n_lines = rng.gen_range(1..=3);
    let mut goods_amount = 0i64;
    let mut items = Vec::new();
    for _ in 0..n_lines {
        let g = rng.gen_range(0..GOODS.len());
        let (name, code, base) = GOODS[g];
        let variant = rng.gen_range(1..=3i64);
        let price = base + (variant - 1) * 500;
        let count = rng.gen_range(1..=3i64);
        goods_amount += price * count;
        let outer_id = if rng.gen_bool(0.85) {
            format!("{code}-{variant}")
        } else {
            String::new()
        };
        items.push(json!({
            "goods_id": 300_000 + g as i64,
            "sku_id": 900_000 + g as i64 * 10 + variant,
            "outer_id": outer_id,
            "outer_goods_id": code,
            "goods_name": name,
            "goods_spec": format!("规格{variant}"),
            "goods_count": count,
            "goods_price": yuan(price),
            "goods_img": format!("https://img.pddpic.com/goods/{g}.jpeg"),
        }));
    }
    let mut platform = if rng.gen_bool(0.3) {
        rng.gen_range(1..=5) * 100
    } else {
        0
    };
    let mut seller = if rng.gen_bool(0.4) {
        rng.gen_range(1..=10) * 100
    } else {
        0
    };
    let mut leader = if rng.gen_bool(0.05) {
        rng.gen_range(2..=8) * 100
    } else {
        0
    };
    // Discounts never take the goods below 1 yuan.
    let room = cap(&mut platform, goods_amount - 100);
    let room = cap(&mut seller, room);
    cap(&mut leader, room);
    let discount = platform + seller + leader;
    let postage = if rng.gen_bool(0.2) {
        rng.gen_range(5..=12) * 100
    } else {
        0
    };
    let pay = goods_amount - discount + postage;

    let order_status: i64 = match rng.gen_range(0..100) {
        0..=44 => 1,
        45..=74 => 2,
        _ => 3,
    };
    let refund_status: i64 = match rng.gen_range(0..100) {
        0..=84 => 1,
        85..=89 => 2,
        90..=92 => 3,
        _ => 4,
    };
    let after_sales_status: i64 = match refund_status {
        1 if rng.gen_bool(0.9) => 0,
        1 => [11, 12][rng.gen_range(0..2)],
        2 => [2, 3][rng.gen_range(0..2)],
        3 => [4, 5][rng.gen_range(0..2)],
        _ => 10,
    };
    let confirm_status: i64 = if order_status == 1 && refund_status == 1 {
        match rng.gen_range(0..100) {
            0..=3 => 0,
            4..=5 => 2,
            _ => 1,
        }
    } else {
        1
    };
    let is_pre_sale = rng.gen_bool(0.1);
    let pre_sale_time = if is_pre_sale {
        format_time(created_ms + rng.gen_range(3..=15) * 86_400_000)
    } else {
        String::new()
    };
    let (name, phone, province, city, town, street) = RECEIVERS[rng.gen_range(0..RECEIVERS.len())];
    let shipped = order_status >= 2;
    let pay_type = ["WEIXIN", "ALIPAY", "PDDPAY"][rng.gen_range(0..3)];
    let trade_type = i64::from(is_pre_sale && rng.gen_bool(0.3));
    let pay_no = format!("4200{:016}", rng.gen_range(0..10_000_000_000_000_000u64));
    let tracking_number = if shipped {
        format!("YT{:013}", rng.gen_range(0..10_000_000_000_000u64))
    } else {
        String::new()
    };
    let confirm_time = if confirm_status == 1 {
        format_time(created_ms + 5_000)
    } else {
        String::new()
    };
    let shipping_time = if shipped {
        format_time(created_ms + 86_400_000)
    } else {
        String::new()
    };
    json!({
        "order_sn": sn,
        "order_status": order_status,
        "refund_status": refund_status,
        "after_sales_status": after_sales_status,
        "confirm_status": confirm_status,
        "group_status": 1,
        "is_lucky_flag": 1,
        "trade_type": trade_type,
        "goods_amount": yuan(goods_amount),
        "platform_discount": yuan(platform),
        "seller_discount": yuan(seller),
        "capital_free_discount": yuan(leader),
        "discount_amount": yuan(discount),
        "postage": yuan(postage),
        "pay_amount": yuan(pay),
        "pay_type": pay_type,
        "pay_no": pay_no,
        "item_list": items,
        "receiver_name": name,
        "receiver_phone": phone,
        "country": "中国",
        "province": province,
        "city": city,
        "town": town,
        "address": street,
        "receiver_address": format!("{province}{city}{town}{street}"),
        "created_time": format_time(created_ms),
        "confirm_time": confirm_time,
        "updated_at": format_time(updated_ms),
        "shipping_time": shipping_time,
        "tracking_number": tracking_number,
        "is_pre_sale": i64::from(is_pre_sale),
        "pre_sale_time": pre_sale_time,
        "buyer_memo": "",
        "remark": "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use wharf_domain::money::parse_decimal;

    fn fen(v: &Value) -> i64 {
        parse_decimal(v.as_str().unwrap(), 2).unwrap()
    }

    // Every generated order's amounts are consistent and positive, and the same seed
    // gives the same order.
    #[test]
    fn generated_amounts_are_consistent() {
        let mut rng = StdRng::seed_from_u64(1);
        for i in 0..500 {
            let o = order(&mut rng, &format!("240401-{i}"), 1_712_000_000_000);
            let goods: i64 = o["item_list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|it| fen(&it["goods_price"]) * it["goods_count"].as_i64().unwrap())
                .sum();
            assert_eq!(goods, fen(&o["goods_amount"]));
            let parts = fen(&o["platform_discount"])
                + fen(&o["seller_discount"])
                + fen(&o["capital_free_discount"]);
            assert_eq!(parts, fen(&o["discount_amount"]));
            assert_eq!(goods - parts + fen(&o["postage"]), fen(&o["pay_amount"]));
            assert!(fen(&o["pay_amount"]) > 0);
        }
        let a = order(&mut StdRng::seed_from_u64(9), "240401-1", 1_712_000_000_000);
        let b = order(&mut StdRng::seed_from_u64(9), "240401-1", 1_712_000_000_000);
        assert_eq!(a, b);
    }
}
