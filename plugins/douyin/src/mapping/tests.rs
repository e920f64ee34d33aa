use super::*;
use serde_json::json;

/// A full shop order as doudian sends it (two sku orders, every discount kind, an
/// encrypted receiver).
fn full() -> Value {
    json!({
        "order_id": "6919000000000000010", "order_status": 2, "order_status_desc": "备货中",
        "main_status": 2, "create_time": 1_712_000_000, "update_time": 1_712_003_600,
        "pay_time": 1_712_000_300, "order_amount": 20_300, "pay_amount": 17_300,
        "post_amount": 800, "promotion_amount": 3_000, "promotion_shop_amount": 2_000,
        "promotion_platform_amount": 700, "promotion_talent_amount": 300,
        "platform_cost_amount": 700, "reduce_stock_type": 2, "pre_sale_type": 0,
        "order_type": 0, "buyer_words": "请尽快发货", "doudian_open_id": "1@#abc",
        "post_receiver": "*", "post_tel": "138****0000",
        "encrypt_post_receiver": "#Ab1c#xyz=#1##", "encrypt_post_tel": "#Tel9#qqq=#1##",
        "post_addr": {
            "province": {"name": "浙江省", "id": "33"}, "city": {"name": "杭州市", "id": "3301"},
            "town": {"name": "余杭区", "id": "330110"}, "street": {"name": "五常街道", "id": "1"},
            "detail": "文一***", "encrypt_detail": "#Det0#zzz=#1##"
        },
        "sku_order_list": [
            {"order_id": "6919000000000000011", "sku_id": 1_780_000_000_000_001u64,
             "out_sku_id": "CUP-1", "code": "C1", "product_name": "奶茶杯", "item_num": 2,
             "goods_price": 5_000, "origin_amount": 10_000, "promotion_amount": 1_000,
             "pay_amount": 9_000},
            {"order_id": "6919000000000000012", "sku_id": "1780000000000000002",
             "out_sku_id": "", "code": "SUN-2", "product_name": "防晒衣", "item_num": 1,
             "goods_price": 9_500, "origin_amount": 9_500, "promotion_amount": 1_500,
             "pay_amount": 8_000}
        ]
    })
}

fn err_of(v: &Value) -> String {
    match order_from_json(v) {
        Err(ConnectorError::InvalidInput(m)) => m,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

// Every field of a full order lands where the README's mapping table says, amounts as
// the exact fen integers sent.
#[test]
fn maps_a_full_order() {
    let o = order_from_json(&full()).unwrap();
    assert_eq!(
        (o.external_id.as_str(), o.number.as_str()),
        ("6919000000000000010", "6919000000000000010")
    );
    assert_eq!(
        (o.status, o.raw_status.as_str()),
        (ChannelStatus::Paid, "2")
    );
    assert_eq!(
        (o.created_at, o.updated_at),
        (1_712_000_000_000, 1_712_003_600_000)
    );
    assert_eq!(o.currency, "CNY");
    assert_eq!(o.total_paid.minor, 17_300);
    assert_eq!(o.shipping_fee.minor, 800);
    assert_eq!(o.tax.minor, 0);
    assert_eq!(
        o.discount.minor, 500,
        "promotion_amount − Σ line promotions"
    );
    assert_eq!(o.lines.len(), 2);
    let l = &o.lines[0];
    assert_eq!(
        (
            l.line_id.as_str(),
            l.sku.as_str(),
            l.channel_sku.as_str(),
            l.title.as_str(),
            l.quantity
        ),
        (
            "6919000000000000011",
            "CUP-1",
            "1780000000000001",
            "奶茶杯",
            2
        )
    );
    assert_eq!((l.unit_price.minor, l.discount.minor), (5_000, 1_000));
    assert_eq!(o.lines[1].sku, "SUN-2", "code when out_sku_id is empty");
    assert_eq!(o.lines[1].channel_sku, "1780000000000000002");
    let net: i64 = o
        .lines
        .iter()
        .map(|l| l.unit_price.minor * i64::from(l.quantity) - l.discount.minor)
        .sum();
    assert_eq!(
        net + o.shipping_fee.minor - o.discount.minor,
        o.total_paid.minor,
        "the order balances"
    );
    assert_eq!(o.buyer.as_ref().unwrap().id.as_deref(), Some("1@#abc"));
    assert!(o.presale.is_none());
    assert_eq!(
        o.tags,
        [
            "discount.shop=2000",
            "discount.platform=700",
            "discount.influencer=300",
            "platform_cost=700",
            "reduce_stock_type=2",
            "pre_sale_type=0",
            "order_type=0",
            "buyer_words=请尽快发货"
        ]
    );
}

// The README's status table, row by row; an unknown status is invalid-input naming the
// order and the field, so the cursor never moves past it.
#[test]
fn status_table_matches_the_readme() {
    use ChannelStatus::*;
    let table = [
        (1, PendingPayment),
        (103, PendingPayment),
        (105, Paid),
        (2, Paid),
        (101, PartiallyShipped),
        (3, Shipped),
        (4, Cancelled),
        (5, Completed),
        (21, Refunded),
        (22, Refunded),
        (39, Refunded),
    ];
    for (code, want) in table {
        let mut v = full();
        v["order_status"] = json!(code);
        let o = order_from_json(&v).unwrap();
        assert_eq!((o.status, o.raw_status), (want, code.to_string()), "{code}");
    }
    for unknown in [0, 6, 104, 999] {
        let mut v = full();
        v["order_status"] = json!(unknown);
        let m = err_of(&v);
        assert!(
            m.contains("6919000000000000010") && m.contains("order_status"),
            "{m}"
        );
    }
}

// The discount tags parse back as key=value integers and add up to promotion_amount.
#[test]
fn discount_tags_are_parseable() {
    let o = order_from_json(&full()).unwrap();
    let tag = |k: &str| -> i64 {
        o.tags
            .iter()
            .find_map(|t| t.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k}"))
            .parse()
            .unwrap()
    };
    assert_eq!(
        tag("discount.shop") + tag("discount.platform") + tag("discount.influencer"),
        3_000
    );
    assert_eq!(tag("platform_cost"), 700);
    let mut bare = full();
    for k in [
        "promotion_shop_amount",
        "promotion_platform_amount",
        "promotion_talent_amount",
        "platform_cost_amount",
        "buyer_words",
        "reduce_stock_type",
        "order_type",
    ] {
        bare.as_object_mut().unwrap().remove(k);
    }
    let o = order_from_json(&bare).unwrap();
    assert_eq!(
        o.tags,
        [
            "discount.shop=0",
            "discount.platform=0",
            "discount.influencer=0",
            "platform_cost=0",
            "pre_sale_type=0"
        ]
    );
}

// pre_sale_type 1 and 2 become a presale record with the promised ship time; 103
// (partly paid) is the deposit-paid stage; an unknown type is invalid-input.
#[test]
fn presale_types_carry_their_stage() {
    let mut v = full();
    v["pre_sale_type"] = json!(1);
    v["exp_ship_time"] = json!(1_712_600_000);
    let p = order_from_json(&v).unwrap().presale.unwrap();
    assert_eq!(
        (p.stage, p.ship_by, p.deposit.is_none(), p.balance.is_none()),
        (
            PresaleStage::BalancePaid,
            Some(1_712_600_000_000),
            true,
            true
        )
    );
    v["pre_sale_type"] = json!(2);
    v["order_status"] = json!(1);
    v["pay_time"] = json!(0);
    let o = order_from_json(&v).unwrap();
    assert_eq!(o.presale.unwrap().stage, PresaleStage::DepositPending);
    assert!(o.tags.contains(&"pre_sale_type=2".to_string()));
    v["order_status"] = json!(103);
    v["pre_sale_type"] = json!(0);
    let p = order_from_json(&v).unwrap().presale.unwrap();
    assert_eq!((p.stage, p.ship_by), (PresaleStage::DepositPaid, None));
    v["pre_sale_type"] = json!(7);
    assert!(err_of(&v).contains("pre_sale_type"));
}

// Amounts are integer fen: digit strings are read exactly, decimals and floats refused
// naming the field.
#[test]
fn amounts_are_integer_fen() {
    let mut v = full();
    v["pay_amount"] = json!("17300");
    assert_eq!(order_from_json(&v).unwrap().total_paid.minor, 17_300);
    v["pay_amount"] = json!(9_007_199_254_740_993i64);
    assert_eq!(
        order_from_json(&v).unwrap().total_paid.minor,
        9_007_199_254_740_993,
        "no float on the way"
    );
    for bad in [json!("173.00"), json!(173.5), json!(true), json!("")] {
        let mut v = full();
        v["pay_amount"] = bad.clone();
        assert!(err_of(&v).contains("pay_amount"), "{bad}");
    }
    let mut v = full();
    v["sku_order_list"][1]["goods_price"] = json!("95.00");
    assert!(err_of(&v).contains("sku_order_list[1].goods_price"));
    v["sku_order_list"][1]["goods_price"] = json!(9500);
    v["sku_order_list"][1]["item_num"] = json!(-1);
    assert!(err_of(&v).contains("sku_order_list[1].item_num"));
}

// The encrypted receiver is kept as ciphertext and flagged; plain receivers are not
// flagged; a virtual order without receiver has no address.
#[test]
fn encrypted_receivers_are_kept_and_flagged() {
    let a = order_from_json(&full()).unwrap().shipping_address.unwrap();
    assert!(a.encrypted);
    assert_eq!(
        (a.name.as_str(), a.phone.as_str()),
        ("#Ab1c#xyz=#1##", "#Tel9#qqq=#1##")
    );
    assert_eq!(
        (a.province.as_str(), a.city.as_str(), a.district.as_str()),
        ("浙江省", "杭州市", "余杭区")
    );
    assert_eq!(a.street, "五常街道 #Det0#zzz=#1##");
    assert_eq!(a.country, "CN");

    let mut plain = full();
    for k in ["encrypt_post_receiver", "encrypt_post_tel"] {
        plain.as_object_mut().unwrap().remove(k);
    }
    plain["post_receiver"] = json!("张伟");
    plain["post_tel"] = json!("13800000000");
    plain["post_addr"]
        .as_object_mut()
        .unwrap()
        .remove("encrypt_detail");
    plain["post_addr"]["detail"] = json!("文一西路969号");
    let a = order_from_json(&plain).unwrap().shipping_address.unwrap();
    assert!(!a.encrypted);
    assert_eq!(
        (a.name.as_str(), a.street.as_str()),
        ("张伟", "五常街道 文一西路969号")
    );

    let mut virt = full();
    for k in [
        "post_addr",
        "post_receiver",
        "post_tel",
        "encrypt_post_receiver",
        "encrypt_post_tel",
    ] {
        virt.as_object_mut().unwrap().remove(k);
    }
    assert!(order_from_json(&virt).unwrap().shipping_address.is_none());
}

// Missing times or ids are invalid-input naming the order and field.
#[test]
fn required_fields_are_named() {
    let mut v = full();
    v.as_object_mut().unwrap().remove("update_time");
    assert!(err_of(&v).contains("update_time"));
    let mut v = full();
    v["order_id"] = json!("../1");
    assert!(err_of(&v).contains("order_id"));
    let mut v = full();
    v["sku_order_list"] = json!({});
    assert!(err_of(&v).contains("sku_order_list"));
}

/// The README's after-sales table, row by row: (`after_sale_status`, `after_sale_type`,
/// tag or "none").
const AFTER_SALES_TABLE: [(i64, i64, &str); 9] = [
    (0, 0, "none"),
    (6, 0, "after-sales:return-requested"),
    (6, 1, "after-sales:refund-requested"),
    (6, 2, "after-sales:refund-requested"),
    (7, 0, "after-sales:return-requested"),
    (12, 1, "after-sales:refunded"),
    (27, 1, "after-sales:closed"),
    (28, 2, "after-sales:closed"),
    (29, 0, "after-sales:closed"),
];

// Every sku order after_sale_info tags the order as the README's after-sales table says.
#[test]
fn after_sales_table_matches_the_readme() {
    let readme = include_str!("../../README.md");
    for (status, ty, expected) in AFTER_SALES_TABLE {
        let mut v = full();
        v["sku_order_list"][0]["after_sale_info"] =
            json!({"after_sale_status": status, "after_sale_type": ty, "refund_status": 0});
        let tags: Vec<String> = order_from_json(&v)
            .unwrap()
            .tags
            .into_iter()
            .filter(|t| t.starts_with("after-sales:"))
            .collect();
        let got = tags.first().map(String::as_str).unwrap_or("none");
        assert_eq!(got, expected, "{status}/{ty}");
        let row = format!("| {status} | {ty} | {expected} |");
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}
