use serde_json::{json, Value};
use wharf_sdk::types::{ChannelStatus, ConnectorError, PresaleStage};

use super::*;

fn m(amount: &str, currency: &str) -> Value {
    json!({"CurrencyCode": currency, "Amount": amount})
}

fn full_order() -> Value {
    json!({
        "AmazonOrderId": "302-1234567-7654321",
        "SellerOrderId": "302-1234567-7654321",
        "PurchaseDate": "2024-04-01T10:00:00Z",
        "LastUpdateDate": "2024-04-02T08:30:00Z",
        "OrderStatus": "Unshipped",
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.de",
        "OrderTotal": m("56.48", "EUR"),
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 3,
        "PaymentMethod": "Other",
        "MarketplaceId": "A1PA6795UKMFR9",
        "ShipmentServiceLevelCategory": "Standard",
        "EarliestShipDate": "2024-04-02T00:00:00Z",
        "LatestShipDate": "2024-04-04T00:00:00Z",
        "IsPrime": true,
        "IsBusinessOrder": false,
        "IsReplacementOrder": "false",
        "BuyerInfo": {"BuyerEmail": "abc123@marketplace.amazon.de"},
        "ShippingAddress": {"Name": "Anna Schmidt", "AddressLine1": "Hauptstraße 12",
            "AddressLine2": "Hinterhaus", "City": "Berlin", "StateOrRegion": "Berlin",
            "PostalCode": "10115", "CountryCode": "DE", "Phone": "+49 30 1234567"}
    })
}

fn items() -> Vec<Value> {
    vec![
        json!({"ASIN": "B000000001", "SellerSKU": "BTL-750", "OrderItemId": "11111111111111",
               "Title": "Trinkflasche", "QuantityOrdered": 2, "QuantityShipped": 0,
               "ItemPrice": m("37.98", "EUR"), "ItemTax": m("7.22", "EUR"),
               "PromotionDiscount": m("3.80", "EUR"), "PromotionDiscountTax": m("0.72", "EUR"),
               "ShippingPrice": m("4.99", "EUR"), "ShippingTax": m("0.95", "EUR"),
               "ShippingDiscount": m("0.00", "EUR"), "ShippingDiscountTax": m("0.00", "EUR")}),
        json!({"ASIN": "B000000002", "SellerSKU": "CBL-USBC-2M", "OrderItemId": "22222222222222",
               "Title": "Kabel", "QuantityOrdered": 1, "QuantityShipped": 0,
               "ItemPrice": m("8.39", "EUR"), "ItemTax": m("1.47", "EUR")}),
    ]
}

fn map(order: &Value, items: &[Value]) -> Result<Order, ConnectorError> {
    order_from_json(order, items)
}

fn total_balances(o: &Order) -> bool {
    let lines: i64 = o
        .lines
        .iter()
        .map(|l| i64::from(l.quantity) * l.unit_price.minor - l.discount.minor)
        .sum();
    lines + o.shipping_fee.minor - o.discount.minor + o.tax.minor == o.total_paid.minor
}

// Every field of a full order maps: ids, times, status, buyer, address, lines, amounts
// in cents, tags.
#[test]
fn maps_a_full_order() {
    let o = map(&full_order(), &items()).unwrap();
    assert_eq!(
        (o.external_id.as_str(), o.number.as_str()),
        ("302-1234567-7654321", "302-1234567-7654321")
    );
    assert_eq!(
        (o.status, o.raw_status.as_str()),
        (ChannelStatus::Paid, "Unshipped")
    );
    assert_eq!(o.created_at, 1_711_965_600_000);
    assert_eq!(o.updated_at, 1_712_046_600_000);
    assert_eq!(o.currency, "EUR");
    let b = o.buyer.as_ref().unwrap();
    assert_eq!(
        (b.email.as_deref(), b.name.as_str(), b.id.as_deref()),
        (Some("abc123@marketplace.amazon.de"), "", None)
    );
    let a = o.shipping_address.as_ref().unwrap();
    assert_eq!(
        (
            a.name.as_str(),
            a.street.as_str(),
            a.city.as_str(),
            a.province.as_str(),
            a.postal_code.as_str(),
            a.country.as_str(),
            a.phone.as_str()
        ),
        (
            "Anna Schmidt",
            "Hauptstraße 12, Hinterhaus",
            "Berlin",
            "Berlin",
            "10115",
            "DE",
            "+49 30 1234567"
        )
    );
    assert!(!a.encrypted);
    assert_eq!(o.lines.len(), 2);
    let l = &o.lines[0];
    assert_eq!(
        (
            l.line_id.as_str(),
            l.sku.as_str(),
            l.channel_sku.as_str(),
            l.title.as_str()
        ),
        ("11111111111111", "BTL-750", "BTL-750", "Trinkflasche")
    );
    assert_eq!(
        (l.quantity, l.unit_price.minor, l.discount.minor),
        (2, 1899, 380)
    );
    assert_eq!(
        (o.lines[1].unit_price.minor, o.lines[1].discount.minor),
        (839, 0)
    );
    assert_eq!(o.shipping_fee.minor, 499);
    assert_eq!(o.discount.minor, 0);
    assert_eq!(o.tax.minor, 722 + 95 - 72 + 147);
    assert_eq!(o.total_paid.minor, 5648);
    assert!(total_balances(&o));
    assert!(o.presale.is_none());
    assert_eq!(
        o.tags,
        [
            "fulfillment:MFN",
            "marketplace:A1PA6795UKMFR9",
            "sales-channel:Amazon.de",
            "prime"
        ]
    );
}

// Every OrderStatus of the README's table maps to its row; PendingAvailability alone
// carries presale.
#[test]
fn status_table_matches_the_readme() {
    let table = [
        ("PendingAvailability", ChannelStatus::PendingPayment),
        ("Pending", ChannelStatus::PendingPayment),
        ("Unshipped", ChannelStatus::Paid),
        ("PartiallyShipped", ChannelStatus::PartiallyShipped),
        ("Shipped", ChannelStatus::Shipped),
        ("InvoiceUnconfirmed", ChannelStatus::Shipped),
        ("Canceled", ChannelStatus::Cancelled),
        ("Unfulfillable", ChannelStatus::Cancelled),
    ];
    assert_eq!(table.map(|r| r.0), STATUSES);
    for (raw, want) in table {
        let mut order = full_order();
        order["OrderStatus"] = json!(raw);
        let o = map(&order, &items()).unwrap();
        assert_eq!((o.status, o.raw_status.as_str()), (want, raw));
        assert_eq!(o.presale.is_some(), raw == "PendingAvailability", "{raw}");
    }
}

// An unknown status is invalid-input naming the order and the field, so the cursor
// never moves past it.
#[test]
fn unknown_status_names_order_and_field() {
    let mut order = full_order();
    order["OrderStatus"] = json!("Delivered");
    match map(&order, &items()) {
        Err(ConnectorError::InvalidInput(m)) => {
            assert!(
                m.contains("302-1234567-7654321")
                    && m.contains("OrderStatus")
                    && m.contains("Delivered"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
}

// A pre-order (PendingAvailability) is pending payment with presale deposit-pending,
// shipping by LatestShipDate, and the presale tag.
#[test]
fn pre_orders_carry_presale() {
    let mut order = full_order();
    order["OrderStatus"] = json!("PendingAvailability");
    order["LatestShipDate"] = json!("2024-04-20T00:00:00Z");
    let o = map(&order, &items()).unwrap();
    let p = o.presale.unwrap();
    assert_eq!(p.stage, PresaleStage::DepositPending);
    assert_eq!(p.ship_by, Some(1_713_571_200_000));
    assert!(p.deposit.is_none() && p.balance.is_none());
    assert!(o.tags.contains(&"presale".to_string()));
}

// A Pending order without OrderTotal or item prices maps with zero amounts in the
// marketplace's currency, not an error.
#[test]
fn pending_orders_without_prices_map_to_zero() {
    let mut order = full_order();
    order["OrderStatus"] = json!("Pending");
    order.as_object_mut().unwrap().remove("OrderTotal");
    order["MarketplaceId"] = json!("A1F83G8C2ARO7P");
    let bare = vec![
        json!({"ASIN": "B0", "SellerSKU": "BTL-750", "OrderItemId": "1", "QuantityOrdered": 3}),
    ];
    let o = map(&order, &bare).unwrap();
    assert_eq!(o.status, ChannelStatus::PendingPayment);
    assert_eq!(o.currency, "GBP");
    assert_eq!(
        (
            o.total_paid.minor,
            o.lines[0].unit_price.minor,
            o.lines[0].quantity
        ),
        (0, 0, 3)
    );
    assert_eq!(o.total_paid.currency, "GBP");
    assert!(total_balances(&o));
}

// JPY has no minor digits: "1980" is 1980 minor units, exactly.
#[test]
fn jpy_amounts_have_no_decimals() {
    let order = json!({
        "AmazonOrderId": "250-1111111-2222222", "PurchaseDate": "2024-04-01T10:00:00Z",
        "LastUpdateDate": "2024-04-01T11:00:00Z", "OrderStatus": "Shipped",
        "MarketplaceId": "A1VC38T7YXB528", "OrderTotal": m("2178", "JPY")
    });
    let items = vec![
        json!({"SellerSKU": "TEA", "OrderItemId": "3", "QuantityOrdered": 1,
        "ItemPrice": m("1980", "JPY"), "ItemTax": m("198.00", "JPY")}),
    ];
    let o = map(&order, &items).unwrap();
    assert_eq!(
        (
            o.currency.as_str(),
            o.total_paid.minor,
            o.lines[0].unit_price.minor,
            o.tax.minor
        ),
        ("JPY", 2178, 1980, 198)
    );
    assert!(total_balances(&o));
    let mut bad = items[0].clone();
    bad["ItemPrice"] = m("19.80", "JPY");
    assert!(
        matches!(map(&order, &[bad]), Err(ConnectorError::InvalidInput(m)) if m.contains("ItemPrice"))
    );
}

// An ItemPrice that is not a multiple of the quantity rounds the unit price up and gives
// the rounding back as line discount: the line still nets ItemPrice exactly.
#[test]
fn whole_quantity_prices_divide_exactly() {
    let mut its = items();
    its[0]["QuantityOrdered"] = json!(3);
    its[0]["ItemPrice"] = m("10.00", "EUR");
    its[0]["PromotionDiscount"] = m("0.00", "EUR");
    let o = map(&full_order(), &its).unwrap();
    let l = &o.lines[0];
    assert_eq!((l.unit_price.minor, l.discount.minor), (334, 2));
    assert_eq!(
        i64::from(l.quantity) * l.unit_price.minor - l.discount.minor,
        1000
    );
}

// Restricted PII may be absent: a partial address maps with empty name/street, an
// absent address and buyer are none; neither is an error.
#[test]
fn restricted_pii_may_be_absent() {
    let mut order = full_order();
    order["ShippingAddress"] = json!({"City": "London", "StateOrRegion": "Greater London",
        "PostalCode": "NW1 6XE", "CountryCode": "GB"});
    let o = map(&order, &items()).unwrap();
    let a = o.shipping_address.unwrap();
    assert_eq!(
        (
            a.name.as_str(),
            a.street.as_str(),
            a.phone.as_str(),
            a.city.as_str()
        ),
        ("", "", "", "London")
    );
    let obj = order.as_object_mut().unwrap();
    obj.remove("ShippingAddress");
    obj.remove("BuyerInfo");
    let o = map(&order, &items()).unwrap();
    assert!(o.shipping_address.is_none() && o.buyer.is_none());
}

// Malformed amounts, times, mixed currencies and missing fields are invalid-input
// naming the order and the field.
#[test]
fn malformed_fields_name_order_and_field() {
    type Edit = Box<dyn Fn(&mut Value, &mut Vec<Value>)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|o, _| o["OrderTotal"] = m("12.3.4", "EUR")),
            "OrderTotal",
        ),
        (
            Box::new(|o, _| o["LastUpdateDate"] = json!("yesterday")),
            "LastUpdateDate",
        ),
        (
            Box::new(|o, _| o["PurchaseDate"] = json!("2024-13-01T00:00:00Z")),
            "PurchaseDate",
        ),
        (
            Box::new(|_, i| i[1]["ItemTax"] = m("1.00", "USD")),
            "OrderItems[1].ItemTax",
        ),
        (
            Box::new(|_, i| i[0]["ShippingPrice"] = m("4.999", "EUR")),
            "OrderItems[0].ShippingPrice",
        ),
        (
            Box::new(|o, _| {
                o.as_object_mut().unwrap().remove("OrderStatus");
            }),
            "OrderStatus",
        ),
        (
            Box::new(|_, i| {
                i[0].as_object_mut().unwrap().remove("QuantityOrdered");
            }),
            "QuantityOrdered",
        ),
    ];
    for (edit, field) in cases {
        let (mut o, mut i) = (full_order(), items());
        edit(&mut o, &mut i);
        match map(&o, &i) {
            Err(ConnectorError::InvalidInput(msg)) => {
                assert!(
                    msg.contains("302-1234567-7654321") && msg.contains(field),
                    "{field}: {msg}"
                )
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}
