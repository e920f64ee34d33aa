use super::*;
use serde_json::{json, Value};

/// An order as `jingdong.pop.order.get` returns it (trimmed to what matters, plus noise).
fn sample() -> Value {
    json!({
        "orderId": "230012345678",
        "venderId": "10086001",
        "orderType": "22",
        "payType": "4-在线支付",
        "orderState": "WAIT_SELLER_STOCK_OUT",
        "orderStateRemark": "等待出库",
        "orderTotalPrice": "358.00",
        "orderSellerPrice": "318.20",
        "orderPayment": "325.20",
        "freightPrice": "12.00",
        "sellerDiscount": "39.80",
        "orderStartTime": "2024-04-01 22:00:00",
        "modified": "2024-04-02 08:30:15",
        "paymentConfirmTime": "2024-04-01 22:03:00",
        "pin": "jd_5f3a9c",
        "venderRemark": "",
        "consigneeInfo": {
            "fullname": "王磊", "mobile": "13800138000", "telephone": "010-88888888",
            "province": "北京", "city": "朝阳区", "county": "三环以内", "town": "",
            "fullAddress": "北京朝阳区三环以内建国路88号SOHO现代城2号楼", "provinceId": "1"
        },
        "itemInfoList": [
            {"skuId": "100012345678", "outerSkuId": "PB-1234-01", "skuName": " 小米 充电宝 20000mAh ",
             "jdPrice": "99.00", "itemTotal": "2", "wareId": "10001234567", "giftPoint": "0"},
            {"skuId": 100087654321u64, "outerSkuId": "", "skuName": "蓝月亮 洗衣液 3kg",
             "jdPrice": "160.00", "itemTotal": 1, "wareId": "10007654321"}
        ],
        "couponDetailList": [
            {"skuId": "100012345678", "couponType": "30-单品促销优惠", "couponPrice": "19.80", "orderId": "230012345678"},
            {"couponType": "100-店铺优惠", "couponPrice": "20.00", "orderId": "230012345678"},
            {"skuId": "", "couponType": "41-京东券优惠", "couponPrice": "5.00", "orderId": "230012345678"}
        ]
    })
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

// Every field of a typical order maps as the README says, amounts exact in fen.
#[test]
fn maps_a_full_order() {
    let o = map(&sample());
    assert_eq!(
        (o.external_id.as_str(), o.number.as_str()),
        ("230012345678", "230012345678")
    );
    assert!(matches!(o.status, ChannelStatus::Paid));
    assert_eq!(o.raw_status, "WAIT_SELLER_STOCK_OUT");
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
        ("100012345678", "PB-1234-01", "100012345678")
    );
    assert_eq!(l.title, "小米 充电宝 20000mAh");
    assert_eq!(
        (l.quantity, l.unit_price.minor, l.discount.minor),
        (2, 9900, 1980)
    );
    let l = &o.lines[1];
    assert_eq!(
        (l.line_id.as_str(), l.sku.as_str(), l.channel_sku.as_str()),
        ("100087654321", "", "100087654321"),
        "numeric skuId, no outer SKU"
    );
    assert_eq!(
        (l.quantity, l.unit_price.minor, l.discount.minor),
        (1, 16000, 0)
    );
    assert_eq!(o.shipping_fee.minor, 1200);
    assert_eq!(o.discount.minor, 2500, "shop coupon 20.00 + JD coupon 5.00");
    assert_eq!(o.tax.minor, 0);
    assert_eq!(o.total_paid.minor, 32520);
    assert_eq!(net(&o), o.total_paid.minor, "the host's balance rule holds");
    assert!(o.presale.is_none());
    assert_eq!(o.tags, ["orderType:22"]);
    let b = o.buyer.as_ref().unwrap();
    assert_eq!(
        (b.id.as_deref(), b.name.as_str()),
        (Some("jd_5f3a9c"), "jd_5f3a9c")
    );
    let a = o.shipping_address.as_ref().unwrap();
    assert_eq!(
        (a.name.as_str(), a.phone.as_str(), a.country.as_str()),
        ("王磊", "13800138000", "CN")
    );
    assert_eq!(
        (a.province.as_str(), a.city.as_str(), a.district.as_str()),
        ("北京", "朝阳区", "三环以内")
    );
    assert_eq!(
        a.street, "建国路88号SOHO现代城2号楼",
        "fullAddress without the region prefix"
    );
    assert!(!a.encrypted);
}

// Every orderState of the README's table maps to its status and tag; the table is this test.
#[test]
fn status_table_matches_the_readme() {
    use ChannelStatus as S;
    let table: [(&str, ChannelStatus, Option<&str>); 9] = [
        ("WAIT_SELLER_STOCK_OUT", S::Paid, None),
        ("WAIT_SELLER_DELIVERY", S::Paid, Some("overseas")),
        ("WAIT_SEND_CODE", S::Paid, Some("loc")),
        ("POP_ORDER_PAUSE", S::Paid, Some("paused")),
        ("PAUSE", S::Paid, Some("paused")),
        ("LOCKED", S::Paid, Some("locked")),
        ("WAIT_GOODS_RECEIVE_CONFIRM", S::Shipped, None),
        ("FINISHED_L", S::Completed, None),
        ("TRADE_CANCELED", S::Cancelled, None),
    ];
    assert_eq!(
        table.len(),
        ORDER_STATES.len(),
        "every state the search asks for is in the table"
    );
    for (raw, want, tag) in table {
        assert!(
            ORDER_STATES.contains(&raw),
            "{raw} is asked for by the search"
        );
        let mut v = sample();
        v["orderState"] = json!(raw);
        let o = map(&v);
        assert_eq!(o.status, want, "{raw}");
        assert_eq!(o.raw_status, raw);
        assert_eq!(
            o.tags
                .first()
                .map(String::as_str)
                .filter(|t| !t.starts_with("orderType")),
            tag,
            "{raw}"
        );
    }
}

// An unknown state is invalid-input naming the order and the field, so the cursor stays.
#[test]
fn unknown_states_are_refused() {
    for bad in ["WAIT_BUYER_PAY", "", "finished_l"] {
        let mut v = sample();
        v["orderState"] = json!(bad);
        let m = invalid(&v);
        assert!(
            m.contains("230012345678") && m.contains("orderState"),
            "{m}"
        );
    }
}

// Malformed amounts, times, counts and ids are invalid-input naming the order and field.
#[test]
fn malformed_fields_name_the_order_and_field() {
    let cases: [(&str, Value, &str); 6] = [
        ("orderPayment", json!("12.345"), "orderPayment"),
        ("freightPrice", json!("free"), "freightPrice"),
        ("modified", json!("2024-04-02T08:30:15"), "modified"),
        ("orderTotalPrice", json!("1,000.00"), "orderTotalPrice"),
        ("orderId", json!("JD-1"), "orderId"),
        ("orderStartTime", json!("17"), "orderStartTime"),
    ];
    for (field, value, named) in cases {
        let mut v = sample();
        v[field] = value;
        let m = invalid(&v);
        assert!(m.contains(named), "{field}: {m}");
    }
    let mut v = sample();
    v["itemInfoList"][1]["itemTotal"] = json!("two");
    assert!(invalid(&v).contains("itemInfoList[1].itemTotal"));
    let mut v = sample();
    v["itemInfoList"][0]["jdPrice"] = json!("-");
    assert!(invalid(&v).contains("itemInfoList[0].jdPrice"));
    let mut v = sample();
    v["couponDetailList"][2]["couponPrice"] = json!("5元");
    assert!(invalid(&v).contains("couponDetailList[2].couponPrice"));
    let mut v = sample();
    v.as_object_mut().unwrap().remove("orderPayment");
    assert!(invalid(&v).contains("230012345678"));
}

// Amounts are exact: no float rounding on the way to fen.
#[test]
fn amounts_are_exact_fen() {
    let mut v = sample();
    v["orderPayment"] = json!("0.29");
    v["freightPrice"] = json!("1234567.89");
    let o = map(&v);
    assert_eq!(
        (o.total_paid.minor, o.shipping_fee.minor),
        (29, 123_456_789)
    );
}

// Cash on delivery is tagged; a LOC order without consignee has no address and no buyer.
#[test]
fn cod_and_consignee_less_orders() {
    let mut v = sample();
    v["payType"] = json!("1-货到付款");
    v["orderType"] = json!(75);
    v.as_object_mut().unwrap().remove("consigneeInfo");
    v.as_object_mut().unwrap().remove("pin");
    let o = map(&v);
    assert_eq!(o.tags, ["cod", "orderType:75"]);
    assert!(o.shipping_address.is_none() && o.buyer.is_none());
    let mut v = sample();
    v["consigneeInfo"] = json!({"fullname": "", "mobile": ""});
    assert!(
        map(&v).shipping_address.is_none(),
        "an all-empty consignee is none"
    );
}

// Null lists, a coupon naming no line and a skuId repeated in one order are handled.
#[test]
fn coupon_and_line_edge_cases() {
    let mut v = sample();
    v["couponDetailList"] = Value::Null;
    let o = map(&v);
    assert_eq!((o.discount.minor, o.lines[0].discount.minor), (0, 0));
    let mut v = sample();
    v["couponDetailList"] =
        json!([{"skuId": "999", "couponType": "30-单品促销优惠", "couponPrice": "3.00"}]);
    assert_eq!(
        map(&v).discount.minor,
        300,
        "a coupon of no line is order-level"
    );
    let mut v = sample();
    v["itemInfoList"][1]["skuId"] = json!("100012345678");
    let o = map(&v);
    assert_eq!(
        (o.lines[0].line_id.as_str(), o.lines[1].line_id.as_str()),
        ("100012345678", "100012345678#1")
    );
    assert_eq!(
        o.lines[1].discount.minor, 0,
        "the coupon counts once, on the first line"
    );
    let mut v = sample();
    v["consigneeInfo"]["fullAddress"] = json!("建国路88号");
    v["consigneeInfo"]["town"] = json!("建外街道");
    assert_eq!(
        map(&v).shipping_address.unwrap().street,
        "建外街道 建国路88号"
    );
}
