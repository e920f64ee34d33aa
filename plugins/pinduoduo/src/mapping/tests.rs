use super::*;
use serde_json::{json, Value};

/// An order as `pdd.order.number.list.increment.get` returns it (amounts as JSON numbers,
/// receiver encrypted because it awaits shipment), plus fields the plugin ignores.
const SAMPLE: &str = r#"{
  "order_sn": "240401-123456789012345",
  "order_status": 1, "refund_status": 1, "after_sales_status": 0, "confirm_status": 1,
  "goods_amount": 109.70, "discount_amount": 13.5, "platform_discount": 5.00,
  "seller_discount": 8.50, "capital_free_discount": 0, "postage": 6.00, "pay_amount": 102.20,
  "item_list": [
    {"goods_id": 3001, "sku_id": 9001, "outer_id": "MUG-RED", "outer_goods_id": "MUG",
     "goods_name": "陶瓷马克杯 红色", "goods_count": 2, "goods_price": 29.90, "goods_spec": "红色"},
    {"goods_id": 3002, "sku_id": 9002, "outer_id": "", "outer_goods_id": "TOWEL",
     "goods_name": "茶巾套装", "goods_count": 1, "goods_price": 49.9}
  ],
  "receiver_name": "~AgAAAAFcdW4FnoqwAKbCxWYx1EeTr5S8k6mjfD4zVPs=~7yWb2VQo~1~~",
  "receiver_phone": "$AgAAAAFcdW4GjoqwAKbCxWYx1EeTr5S8k6mjfD4zVPs=$7yWb$1$$",
  "address": "~AgAAAAFcdW4HnoqwAKbCxWYx1EeTr5S8k6mjfD4zVPs=~xyz~1~~",
  "province": "上海市", "city": "上海市", "town": "浦东新区",
  "created_time": "2024-04-01 10:00:00", "updated_at": "2024-04-01 10:05:30",
  "confirm_time": "2024-04-01 10:00:05",
  "is_pre_sale": 0, "pre_sale_time": "", "trade_type": 0, "is_lucky_flag": 1
}"#;

fn sample() -> Value {
    serde_json::from_str(SAMPLE).unwrap()
}

fn map_str(s: &str) -> Order {
    order_from_str(s).unwrap_or_else(|e| panic!("{e:?}"))
}

fn map(v: &Value) -> Order {
    map_str(&v.to_string())
}

fn invalid(v: &Value) -> String {
    match order_from_str(&v.to_string()) {
        Err(ConnectorError::InvalidInput(m)) => m,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

// Every field of a typical order maps as the README says, amounts exact in fen.
#[test]
fn maps_a_full_order() {
    let o = map_str(SAMPLE);
    assert_eq!(o.external_id, "240401-123456789012345");
    assert_eq!(o.number, "240401-123456789012345");
    assert!(matches!(o.status, ChannelStatus::Paid));
    assert_eq!(
        o.raw_status,
        "order_status=1;refund_status=1;after_sales_status=0"
    );
    assert_eq!(
        o.created_at, 1_711_936_800_000,
        "10:00 China time is 02:00 UTC"
    );
    assert_eq!(o.updated_at, 1_711_936_800_000 + 330_000);
    assert_eq!(o.currency, "CNY");
    assert_eq!(o.lines.len(), 2);
    let l = &o.lines[0];
    assert_eq!(
        (
            l.line_id.as_str(),
            l.sku.as_str(),
            l.channel_sku.as_str(),
            l.quantity
        ),
        ("9001", "MUG-RED", "9001", 2)
    );
    assert_eq!((l.unit_price.minor, l.discount.minor), (2990, 0));
    assert_eq!(l.title, "陶瓷马克杯 红色");
    let l = &o.lines[1];
    assert_eq!(
        l.sku, "TOWEL",
        "an empty outer_id falls back to outer_goods_id"
    );
    assert_eq!(l.unit_price.minor, 4990, "49.9 is 4990 fen");
    assert_eq!(o.discount.minor, 1350);
    assert_eq!(o.shipping_fee.minor, 600);
    assert_eq!(o.tax.minor, 0);
    assert_eq!(o.total_paid.minor, 10220);
    assert!(o.buyer.is_none());
    assert!(o.presale.is_none());
    assert!(o.tags.is_empty());
}

// The sample balances: lines − discount + postage = pay_amount.
#[test]
fn sample_amounts_balance() {
    let o = map_str(SAMPLE);
    let lines: i64 = o
        .lines
        .iter()
        .map(|l| l.unit_price.minor * i64::from(l.quantity) - l.discount.minor)
        .sum();
    assert_eq!(
        lines + o.shipping_fee.minor - o.discount.minor + o.tax.minor,
        o.total_paid.minor
    );
}

// Ciphertext receiver fields are kept verbatim and the address is marked encrypted.
#[test]
fn encrypted_receiver_is_kept_and_flagged() {
    let o = map_str(SAMPLE);
    let a = o.shipping_address.unwrap();
    assert!(a.encrypted);
    assert_eq!(
        a.name,
        "~AgAAAAFcdW4FnoqwAKbCxWYx1EeTr5S8k6mjfD4zVPs=~7yWb2VQo~1~~"
    );
    assert!(a.phone.starts_with("$AgAAAA") && a.phone.ends_with('$'));
    assert!(a.street.starts_with("~AgAAAA"));
    assert_eq!(
        (a.province.as_str(), a.city.as_str(), a.district.as_str()),
        ("上海市", "上海市", "浦东新区")
    );
    assert_eq!(a.country, "CN");
}

// A plaintext receiver (shipped orders) maps to a plain address, not encrypted.
#[test]
fn plaintext_receiver_is_not_encrypted() {
    let mut v = sample();
    v["order_status"] = json!(2);
    v["receiver_name"] = json!("张三");
    v["receiver_phone"] = json!("13800138000");
    v["address"] = json!("世纪大道 100 号 8 楼");
    let a = map(&v).shipping_address.unwrap();
    assert!(!a.encrypted);
    assert_eq!((a.name.as_str(), a.phone.as_str()), ("张三", "13800138000"));
    assert_eq!(a.street, "世纪大道 100 号 8 楼");
    // One ciphertext field is enough to need decryption.
    v["receiver_phone"] = json!("#AgAAAAF1234#");
    assert!(map(&v).shipping_address.unwrap().encrypted);
}

// No receiver fields at all is no address (the host flags it missing).
#[test]
fn no_receiver_is_no_address() {
    let mut v = sample();
    for k in [
        "receiver_name",
        "receiver_phone",
        "address",
        "province",
        "city",
        "town",
    ] {
        v.as_object_mut().unwrap().remove(k);
    }
    assert!(map(&v).shipping_address.is_none());
}

// The ciphertext test recognises the three PDD delimiters and nothing else.
#[test]
fn ciphertext_detection() {
    assert!(is_ciphertext("~AgAAAA=~x~1~~"));
    assert!(is_ciphertext("$AgAAAA$x$1$$"));
    assert!(is_ciphertext("#AgAAAA#"));
    for plain in ["", "~", "~~", "张三", "~ spaced ~", "Room #12", "$5 off"] {
        assert!(!is_ciphertext(plain), "{plain:?}");
    }
}

// Amounts as strings map exactly like numbers; never through a float.
#[test]
fn string_amounts_map_like_numbers() {
    let mut v = sample();
    v["pay_amount"] = json!("102.20");
    v["discount_amount"] = json!("13.50");
    v["postage"] = json!("6");
    v["item_list"][0]["goods_price"] = json!("29.90");
    let o = map(&v);
    assert_eq!(
        (o.total_paid.minor, o.discount.minor, o.shipping_fee.minor),
        (10220, 1350, 600)
    );
    assert_eq!(o.lines[0].unit_price.minor, 2990);
    // Big amounts stay exact (a float would round 9007199254740993 fen).
    let text = SAMPLE.replace(
        "\"pay_amount\": 102.20",
        "\"pay_amount\": 90071992547409.93",
    );
    assert_eq!(map_str(&text).total_paid.minor, 9_007_199_254_740_993);
}

// Missing optional amounts are zero; a null or malformed required amount is invalid-input.
#[test]
fn amounts_missing_or_malformed() {
    let mut v = sample();
    v.as_object_mut().unwrap().remove("discount_amount");
    v["postage"] = Value::Null;
    let o = map(&v);
    assert_eq!((o.discount.minor, o.shipping_fee.minor), (0, 0));
    for (field, bad) in [
        ("pay_amount", json!(null)),
        ("pay_amount", json!("12,50")),
        ("pay_amount", json!(1.005)),
        ("postage", json!(true)),
    ] {
        let mut v = sample();
        v[field] = bad.clone();
        let m = invalid(&v);
        assert!(
            m.contains("240401-123456789012345") && m.contains(field),
            "{field}={bad}: {m}"
        );
    }
    let text = SAMPLE.replace("\"pay_amount\": 102.20", "\"pay_amount\": 1.022e2");
    assert!(
        matches!(order_from_str(&text), Err(ConnectorError::InvalidInput(m)) if m.contains("pay_amount"))
    );
}

// Presale orders carry their promised ship-by time and a tag; deposit orders are tagged.
#[test]
fn presale_carries_ship_by() {
    let mut v = sample();
    v["is_pre_sale"] = json!(1);
    v["pre_sale_time"] = json!("2024-04-20 23:59:59");
    v["trade_type"] = json!(1);
    let o = map(&v);
    let p = o.presale.unwrap();
    assert!(matches!(p.stage, PresaleStage::BalancePaid));
    assert_eq!(
        p.ship_by,
        Some(1_713_628_799_000),
        "23:59:59 China time is 15:59:59 UTC"
    );
    assert_eq!(o.tags, ["pre_sale", "deposit_order"]);
    v["pre_sale_time"] = json!("");
    assert_eq!(map(&v).presale.unwrap().ship_by, None);
    v["is_pre_sale"] = json!(2);
    assert!(invalid(&v).contains("is_pre_sale"));
}

// The same SKU twice gets distinct, stable line ids.
#[test]
fn duplicate_skus_get_distinct_line_ids() {
    let mut v = sample();
    v["item_list"][1]["sku_id"] = json!(9001);
    let mut third = v["item_list"][0].clone();
    third["sku_id"] = json!(9001);
    v["item_list"].as_array_mut().unwrap().push(third);
    let ids: Vec<String> = map(&v).lines.into_iter().map(|l| l.line_id).collect();
    assert_eq!(ids, ["9001", "9001-2", "9001-3"]);
}

// Malformed times, unknown status codes and non-objects are invalid-input naming the order.
#[test]
fn malformed_orders_are_invalid_input() {
    for (field, bad) in [
        ("updated_at", json!("yesterday")),
        ("created_time", json!("2024-13-01 00:00:00")),
        ("order_status", json!(4)),
        ("refund_status", json!(0)),
        ("after_sales_status", json!(-1)),
        ("confirm_status", json!(3)),
        ("order_sn", json!("")),
    ] {
        let mut v = sample();
        v[field] = bad;
        let m = invalid(&v);
        assert!(m.contains("PDD order"), "{field}: {m}");
    }
    let m = invalid(&json!({"order_sn": "240401-1", "order_status": "shipped"}));
    assert!(
        m.contains("240401-1") && m.contains("not an order object"),
        "{m}"
    );
}

/// Every row of the README's status table, top to bottom:
/// (order_status, refund_status, after_sales_status, confirm_status, status, raw-status).
type Row = (i64, i64, i64, Option<i64>, ChannelStatus, &'static str);
const TABLE: &[Row] = &[
    (
        1,
        1,
        0,
        Some(2),
        ChannelStatus::Cancelled,
        "order_status=1;refund_status=1;after_sales_status=0;confirm_status=2",
    ),
    (
        2,
        4,
        10,
        Some(1),
        ChannelStatus::Refunded,
        "order_status=2;refund_status=4;after_sales_status=10",
    ),
    (
        1,
        4,
        0,
        None,
        ChannelStatus::Refunded,
        "order_status=1;refund_status=4;after_sales_status=0",
    ),
    (
        3,
        3,
        10,
        Some(1),
        ChannelStatus::Refunded,
        "order_status=3;refund_status=3;after_sales_status=10",
    ),
    (
        1,
        1,
        0,
        Some(0),
        ChannelStatus::PendingPayment,
        "order_status=1;refund_status=1;after_sales_status=0;confirm_status=0",
    ),
    (
        1,
        1,
        0,
        Some(1),
        ChannelStatus::Paid,
        "order_status=1;refund_status=1;after_sales_status=0",
    ),
    (
        1,
        2,
        2,
        Some(1),
        ChannelStatus::Paid,
        "order_status=1;refund_status=2;after_sales_status=2",
    ),
    (
        2,
        1,
        0,
        Some(1),
        ChannelStatus::Shipped,
        "order_status=2;refund_status=1;after_sales_status=0",
    ),
    (
        2,
        3,
        4,
        Some(1),
        ChannelStatus::Shipped,
        "order_status=2;refund_status=3;after_sales_status=4",
    ),
    (
        3,
        1,
        0,
        None,
        ChannelStatus::Completed,
        "order_status=3;refund_status=1;after_sales_status=0",
    ),
    (
        3,
        1,
        11,
        Some(1),
        ChannelStatus::Completed,
        "order_status=3;refund_status=1;after_sales_status=11",
    ),
];

// The status mapping is exactly the README table.
#[test]
fn status_table_matches_the_readme() {
    for (o, r, a, c, expected, raw) in TABLE {
        let (got, got_raw) = status(*o, *r, *a, *c).unwrap();
        assert_eq!(got, *expected, "row {raw}");
        assert_eq!(got_raw, *raw);
    }
    // And every order's raw status round-trips through the mapping.
    let mut v = sample();
    v["order_status"] = json!(3);
    v["refund_status"] = json!(4);
    v["after_sales_status"] = json!(10);
    let o = map(&v);
    assert!(matches!(o.status, ChannelStatus::Refunded));
    assert_eq!(
        o.raw_status,
        "order_status=3;refund_status=4;after_sales_status=10"
    );
}

/// The README's after-sales table, row by row: (`refund_status`, `after_sales_status`,
/// tags joined by a space, or "none").
const AFTER_SALES_TABLE: [(i64, i64, &str); 16] = [
    (1, 0, "none"),
    (2, 2, "after-sales:refund-requested"),
    (2, 3, "after-sales:return-requested"),
    (3, 4, "after-sales:refund-requested"),
    (3, 5, "after-sales:refund-requested"),
    (2, 6, "after-sales:refund-requested"),
    (2, 7, "after-sales:return-requested"),
    (2, 8, "after-sales:refund-requested"),
    (1, 9, "after-sales:closed"),
    (4, 10, "after-sales:refunded"),
    (1, 11, "after-sales:closed"),
    (1, 12, "after-sales:closed"),
    (1, 13, "after-sales:closed"),
    (2, 31, "after-sales:refund-requested"),
    (3, 0, "after-sales:refund-requested"),
    (4, 0, "after-sales:refunded"),
];

// Every refund / after-sales code pair tags the order as the README's after-sales table says.
#[test]
fn after_sales_table_matches_the_readme() {
    let readme = include_str!("../../README.md");
    for (refund, after, expected) in AFTER_SALES_TABLE {
        let mut v = sample();
        v["refund_status"] = json!(refund);
        v["after_sales_status"] = json!(after);
        let tags: Vec<String> = map(&v)
            .tags
            .into_iter()
            .filter(|t| t.starts_with("after-sales:"))
            .collect();
        let got = if tags.is_empty() {
            "none".to_string()
        } else {
            tags.join(" ")
        };
        assert_eq!(
            got, expected,
            "refund_status {refund}, after_sales_status {after}"
        );
        let row = format!("| {refund} | {after} | {expected} |");
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
    // Exchanges and resends carry no after-sales tag.
    assert!(after_sales_tags(1, 14).is_empty());
}
