use super::*;
use serde_json::{json, Value};

/// A trade as `taobao.trade.fullinfo.get` returns it (trimmed to what matters, plus noise).
fn sample() -> Value {
    let mut t = json!({
        "tid": 3900000000000123u64,
        "tid_str": "3900000000000123",
        "type": "fixed",
        "status": "WAIT_SELLER_SEND_GOODS",
        "seller_nick": "wharf旗舰店",
        "buyer_nick": "t**8",
        "buyer_open_uid": "AAHabc123",
        "created": "2024-04-01 22:00:00",
        "modified": "2024-04-02 08:30:15",
        "pay_time": "2024-04-01 22:03:00",
        "total_fee": "318.00",
        "discount_fee": "38.90",
        "adjust_fee": "0.00",
        "post_fee": "12.00",
        "payment": "291.10",
        "received_payment": "0.00",
        "commission_fee": "0.00"
    });
    let receiver = json!({
        "receiver_name": "张伟",
        "receiver_mobile": "13800138000",
        "receiver_phone": "0571-88888888",
        "receiver_country": "",
        "receiver_state": "浙江省",
        "receiver_city": "杭州市",
        "receiver_district": "余杭区",
        "receiver_town": "五常街道",
        "receiver_address": "文一西路969号",
        "receiver_zip": "311121"
    });
    for (k, v) in receiver.as_object().unwrap() {
        t[k] = v.clone();
    }
    let first = json!({
        "oid": 39000000000001231u64, "num_iid": 600000001234u64, "sku_id": "5000000000001",
        "outer_iid": "TS-1234", "outer_sku_id": "TS-1234-01", "title": " 纯棉短袖T恤 男款 ",
        "price": "99.00", "num": 2, "discount_fee": "19.80", "adjust_fee": "0.00",
        "total_fee": "178.20", "payment": "169.10", "part_mjz_discount": "9.10",
        "status": "WAIT_SELLER_SEND_GOODS", "refund_status": "NO_REFUND"
    });
    let second = json!({
        "oid": "39000000000001232", "num_iid": 600000005678u64,
        "outer_iid": "CUP-5678", "title": "保温杯 316不锈钢 500ml",
        "price": "120.00", "num": "1", "discount_fee": "0.00",
        "total_fee": "120.00", "payment": "110.00",
        "status": "WAIT_SELLER_SEND_GOODS", "refund_status": "NO_REFUND"
    });
    t["orders"] = json!({ "order": [first, second] });
    t
}

fn map(v: &Value) -> Order {
    order_from_json(v).unwrap_or_else(|e| panic!("{e:?}"))
}

fn invalid(v: &Value) -> String {
    match order_from_json(v) {
        Err(ConnectorError::InvalidInput(m)) => m,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

fn net(o: &Order) -> i64 {
    let lines: i64 = o
        .lines
        .iter()
        .map(|l| l.unit_price.minor * i64::from(l.quantity) - l.discount.minor)
        .sum();
    lines + o.shipping_fee.minor - o.discount.minor + o.tax.minor
}

// Every field of a typical trade maps as the README says, amounts exact in fen.
#[test]
fn maps_a_full_trade() {
    let o = map(&sample());
    assert_eq!(o.external_id, "3900000000000123");
    assert_eq!(o.number, "3900000000000123");
    assert!(matches!(o.status, ChannelStatus::Paid));
    assert_eq!(o.raw_status, "WAIT_SELLER_SEND_GOODS");
    assert_eq!(o.created_at, 1_711_980_000_000, "22:00 GMT+8 = 14:00Z");
    assert_eq!(
        o.updated_at, 1_712_017_815_000,
        "08:30:15 GMT+8 = 00:30:15Z"
    );
    assert_eq!(o.currency, "CNY");
    assert_eq!(o.lines.len(), 2);
    let l = &o.lines[0];
    assert_eq!(
        (l.line_id.as_str(), l.sku.as_str(), l.channel_sku.as_str()),
        ("39000000000001231", "TS-1234-01", "5000000000001")
    );
    assert_eq!(l.title, "纯棉短袖T恤 男款");
    assert_eq!(
        (l.quantity, l.unit_price.minor, l.discount.minor),
        (2, 9900, 1980)
    );
    assert_eq!(l.unit_price.currency, "CNY");
    let l = &o.lines[1];
    assert_eq!(
        (l.line_id.as_str(), l.sku.as_str(), l.channel_sku.as_str()),
        ("39000000000001232", "CUP-5678", "600000005678"),
        "no SKU: the item's outer_iid and num_iid stand in"
    );
    assert_eq!(
        (l.quantity, l.unit_price.minor, l.discount.minor),
        (1, 12000, 0)
    );
    assert_eq!(o.shipping_fee.minor, 1200);
    assert_eq!(o.discount.minor, 1910, "38.90 total − 19.80 on sub-orders");
    assert_eq!(o.tax.minor, 0);
    assert_eq!(o.total_paid.minor, 29110);
    assert_eq!(net(&o), o.total_paid.minor, "the host's balance rule holds");
    assert!(o.presale.is_none());
    assert_eq!(o.tags, ["type:fixed"]);
    let b = o.buyer.unwrap();
    assert_eq!(
        (b.name.as_str(), b.id.as_deref()),
        ("t**8", Some("AAHabc123"))
    );
    let a = o.shipping_address.unwrap();
    assert_eq!((a.name.as_str(), a.phone.as_str()), ("张伟", "13800138000"));
    assert_eq!(
        (
            a.country.as_str(),
            a.province.as_str(),
            a.city.as_str(),
            a.district.as_str()
        ),
        ("CN", "浙江省", "杭州市", "余杭区")
    );
    assert_eq!(a.street, "五常街道 文一西路969号");
    assert_eq!(a.postal_code, "311121");
    assert!(!a.encrypted);
}

/// The README's status table, row by row: (TOP status, normalised status).
const STATUS_TABLE: [(&str, &str); 12] = [
    ("TRADE_NO_CREATE_PAY", "pending-payment"),
    ("WAIT_BUYER_PAY", "pending-payment"),
    ("PAY_PENDING", "pending-payment"),
    ("WAIT_PRE_AUTH_CONFIRM", "pending-payment"),
    ("WAIT_SELLER_SEND_GOODS", "paid"),
    ("PAID_FORBID_CONSIGN", "paid"),
    ("SELLER_CONSIGNED_PART", "partially-shipped"),
    ("WAIT_BUYER_CONFIRM_GOODS", "shipped"),
    ("TRADE_BUYER_SIGNED", "shipped"),
    ("TRADE_FINISHED", "completed"),
    ("TRADE_CLOSED", "refunded"),
    ("TRADE_CLOSED_BY_TAOBAO", "cancelled"),
];

fn name(s: ChannelStatus) -> &'static str {
    match s {
        ChannelStatus::PendingPayment => "pending-payment",
        ChannelStatus::Paid => "paid",
        ChannelStatus::PartiallyShipped => "partially-shipped",
        ChannelStatus::Shipped => "shipped",
        ChannelStatus::Completed => "completed",
        ChannelStatus::Cancelled => "cancelled",
        ChannelStatus::Refunded => "refunded",
    }
}

// Every TOP status maps as the README's status table says, and raw-status keeps it.
#[test]
fn status_table_matches_the_readme() {
    let readme = include_str!("../../README.md");
    for (raw, expected) in STATUS_TABLE {
        let mut t = sample();
        t["status"] = json!(raw);
        let o = map(&t);
        assert_eq!(name(o.status), expected, "{raw}");
        assert_eq!(o.raw_status, raw);
        let row = format!("| `{raw}` | {expected} |");
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
    let mut t = sample();
    t["status"] = json!("TRADE_TELEPORTED");
    assert!(invalid(&t).contains("TRADE_TELEPORTED"));
}

// Presale stages, deposit (step_paid_fee) and balance are carried; raw-status names the stage.
#[test]
fn presale_trades_carry_their_stage() {
    for (step, stage, status) in [
        (
            "FRONT_NOPAID_FINAL_NOPAID",
            PresaleStage::DepositPending,
            "WAIT_BUYER_PAY",
        ),
        (
            "FRONT_PAID_FINAL_NOPAID",
            PresaleStage::DepositPaid,
            "WAIT_BUYER_PAY",
        ),
        (
            "FRONT_PAID_FINAL_PAID",
            PresaleStage::BalancePaid,
            "WAIT_SELLER_SEND_GOODS",
        ),
    ] {
        let mut t = sample();
        t["type"] = json!("step");
        t["status"] = json!(status);
        t["step_trade_status"] = json!(step);
        t["step_paid_fee"] = json!("58.00");
        let o = map(&t);
        let p = o.presale.as_ref().expect("presale");
        assert_eq!(p.stage, stage, "{step}");
        assert_eq!(p.deposit.as_ref().map(|m| m.minor), Some(5800));
        assert_eq!(p.balance.as_ref().map(|m| m.minor), Some(29110 - 5800));
        assert_eq!(o.raw_status, format!("{status}/{step}"));
        assert_eq!(o.tags, ["type:step", "presale"]);
        assert_eq!(
            o.total_paid.minor, 29110,
            "total-paid stays the whole price"
        );
    }
    let mut t = sample();
    t["step_trade_status"] = json!("FRONT_HALF_PAID");
    assert!(invalid(&t).contains("step_trade_status"));
    let mut t = sample();
    t["step_trade_status"] = json!("FRONT_NOPAID_FINAL_NOPAID");
    let p = map(&t).presale.unwrap();
    assert!(
        p.deposit.is_none() && p.balance.is_none(),
        "no step_paid_fee: amounts unknown"
    );
}

// A seller's manual price change (adjust_fee) is part of the line discount, and the
// trade still balances.
#[test]
fn adjust_fee_is_a_line_discount() {
    let t = json!({
        "tid": 1, "status": "WAIT_SELLER_SEND_GOODS",
        "created": "2024-04-01 10:00:00", "modified": "2024-04-01 10:00:00",
        "total_fee": "100.00", "discount_fee": "10.00", "adjust_fee": "-5.00",
        "post_fee": "0.00", "payment": "85.00", "receiver_name": "王芳",
        "receiver_state": "北京", "receiver_city": "北京市", "receiver_address": "建国路88号",
        "orders": {"order": [{"oid": 11, "title": "茶", "price": "50.00", "num": 2,
                              "discount_fee": "10.00", "adjust_fee": "-5.00"}]}
    });
    let o = map(&t);
    assert_eq!(
        o.lines[0].discount.minor, 1500,
        "10.00 discount + 5.00 knocked off"
    );
    assert_eq!(o.discount.minor, 0);
    assert_eq!(net(&o), o.total_paid.minor);
}

// Virtual goods have no receiver: no shipping address (the host flags it); missing
// buyer fields give no buyer.
#[test]
fn a_trade_without_receiver_has_no_address() {
    let mut t = sample();
    for k in [
        "receiver_name",
        "receiver_mobile",
        "receiver_phone",
        "receiver_country",
        "receiver_state",
        "receiver_city",
        "receiver_district",
        "receiver_town",
        "receiver_address",
        "receiver_zip",
        "buyer_nick",
        "buyer_open_uid",
    ] {
        t.as_object_mut().unwrap().remove(k);
    }
    let o = map(&t);
    assert!(o.shipping_address.is_none());
    assert!(o.buyer.is_none());
}

// Ids may come as numbers or strings; counts as strings; a trade without orders has no lines.
#[test]
fn ids_and_counts_in_either_form() {
    let mut t = sample();
    t["tid"] = json!("3900000000000123");
    t["orders"]["order"][0]["num"] = json!("2");
    t["orders"]["order"][0]["sku_id"] = json!(5000000000001u64);
    let o = map(&t);
    assert_eq!(o.external_id, "3900000000000123");
    assert_eq!(
        (o.lines[0].quantity, o.lines[0].channel_sku.as_str()),
        (2, "5000000000001")
    );
    t.as_object_mut().unwrap().remove("orders");
    assert!(map(&t).lines.is_empty());
}

// Malformed amounts, times, counts or ids fail with invalid-input naming the tid and field.
#[test]
fn malformed_fields_are_named() {
    let cases: [(&str, Value, &str); 6] = [
        ("payment", json!("lots"), "payment"),
        ("modified", json!("2024-04-01T10:00:00Z"), "modified"),
        ("created", json!("yesterday"), "created"),
        ("post_fee", json!("1.234"), "post_fee"),
        ("tid", json!("39x"), "tid"),
        ("status", json!(5), "not a trade object"),
    ];
    for (key, value, needle) in cases {
        let mut t = sample();
        t[key] = value;
        let m = invalid(&t);
        assert!(m.contains(needle), "{key}: {m}");
        assert!(m.starts_with("Taobao trade"), "{m}");
    }
    let mut t = sample();
    t["orders"]["order"][1]["price"] = json!("12,00");
    let m = invalid(&t);
    assert!(
        m.contains("3900000000000123") && m.contains("orders.order[1].price"),
        "{m}"
    );
    let mut t = sample();
    t["orders"]["order"][0]["num"] = json!("two");
    assert!(invalid(&t).contains("orders.order[0].num"));
}

// The fields requested from TOP cover every key the mapping reads.
#[test]
fn requested_fields_cover_the_mapping() {
    let requested: Vec<&str> = TRADE_FIELDS.split(',').collect();
    for key in sample().as_object().unwrap().keys() {
        let read_by_mapping = !matches!(
            key.as_str(),
            "tid_str" | "total_fee" | "received_payment" | "commission_fee" | "adjust_fee"
        );
        if read_by_mapping {
            assert!(
                requested.contains(&key.as_str()),
                "{key} is read but not requested"
            );
        }
    }
    assert!(requested.contains(&"seller_nick"));
}

/// The README's after-sales table, row by row: (sub-order `refund_status`, tag or "none").
const AFTER_SALES_TABLE: [(&str, &str); 7] = [
    ("WAIT_SELLER_AGREE", "after-sales:refund-requested"),
    ("SELLER_REFUSE_BUYER", "after-sales:refund-requested"),
    ("WAIT_BUYER_RETURN_GOODS", "after-sales:return-requested"),
    ("WAIT_SELLER_CONFIRM_GOODS", "after-sales:return-requested"),
    ("SUCCESS", "after-sales:refunded"),
    ("CLOSED", "after-sales:closed"),
    ("NO_REFUND", "none"),
];

// Every sub-order refund_status tags the order as the README's after-sales table says.
#[test]
fn after_sales_table_matches_the_readme() {
    let readme = include_str!("../../README.md");
    for (raw, expected) in AFTER_SALES_TABLE {
        let mut t = sample();
        t["orders"]["order"][0]["refund_status"] = json!(raw);
        let tags: Vec<String> = map(&t)
            .tags
            .into_iter()
            .filter(|t| t.starts_with("after-sales:"))
            .collect();
        let want: Vec<String> = if expected == "none" {
            vec![]
        } else {
            vec![expected.to_string()]
        };
        assert_eq!(tags, want, "{raw}");
        let row = format!("| `{raw}` | {expected} |");
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

// Tags of several sub-orders are listed once each, in the convention's order.
#[test]
fn after_sales_tags_of_sub_orders_are_merged() {
    let mut t = sample();
    let sub = t["orders"]["order"][0].clone();
    let mut subs = vec![];
    for (i, rs) in ["SUCCESS", "WAIT_SELLER_AGREE", "SUCCESS"]
        .into_iter()
        .enumerate()
    {
        let mut o = sub.clone();
        o["oid"] = json!(1000 + i);
        o["refund_status"] = json!(rs);
        subs.push(o);
    }
    t["orders"]["order"] = json!(subs);
    let tags: Vec<String> = map(&t)
        .tags
        .into_iter()
        .filter(|t| t.starts_with("after-sales:"))
        .collect();
    assert_eq!(
        tags,
        ["after-sales:refund-requested", "after-sales:refunded"]
    );
}
