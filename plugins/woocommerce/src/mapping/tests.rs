use super::*;
use serde_json::{json, Value};

fn order() -> Value {
    json!({
        "id": 727, "parent_id": 0, "number": "727", "status": "processing", "currency": "USD",
        "date_created": "2024-04-01T06:00:00", "date_created_gmt": "2024-04-01T10:00:00",
        "date_modified": "2024-04-01T06:05:00", "date_modified_gmt": "2024-04-01T10:05:00",
        "date_paid_gmt": "2024-04-01T10:01:00",
        "discount_total": "4.00", "discount_tax": "0.00", "shipping_total": "10.00",
        "shipping_tax": "0.83", "cart_tax": "2.81", "total": "50.64", "total_tax": "3.64",
        "prices_include_tax": false, "customer_id": 26, "created_via": "checkout",
        "billing": {"first_name": "John", "last_name": "Doe", "company": "",
                    "address_1": "969 Market", "address_2": "", "city": "San Francisco",
                    "state": "CA", "postcode": "94103", "country": "US",
                    "email": "john.doe@example.com", "phone": "(555) 555-5555"},
        "shipping": {"first_name": "Jane", "last_name": "Doe", "company": "ACME",
                     "address_1": "969 Market", "address_2": "Suite 5", "city": "San Francisco",
                     "state": "CA", "postcode": "94103", "country": "US", "phone": ""},
        "line_items": [
            {"id": 315, "name": "Woo Single #1", "product_id": 93, "variation_id": 0,
             "quantity": 2, "tax_class": "", "subtotal": "20.00", "subtotal_tax": "1.65",
             "total": "16.00", "total_tax": "1.32", "sku": "WOO-1", "price": 8},
            {"id": 316, "name": "Ship Your Idea - Color: Black", "product_id": 22,
             "variation_id": 23, "quantity": 1, "subtotal": "18.00", "total": "18.00",
             "total_tax": "1.49", "sku": "", "price": 18}
        ],
        "shipping_lines": [{"id": 317, "method_title": "Flat Rate", "method_id": "flat_rate",
                            "total": "10.00", "total_tax": "0.83"}],
        "fee_lines": [{"id": 318, "name": "Gift wrap", "total": "3.00", "total_tax": "0.00"}],
        "coupon_lines": [{"id": 319, "code": "spring20", "discount": "4.00"}],
        "refunds": []
    })
}

fn map(v: &Value) -> Result<Order, ConnectorError> {
    order_from_str(&v.to_string())
}

// Every field of a full order maps as the README says, and the amounts balance.
#[test]
fn maps_a_full_order() {
    let o = map(&order()).unwrap();
    assert_eq!((o.external_id.as_str(), o.number.as_str()), ("727", "727"));
    assert_eq!(o.status, ChannelStatus::Paid);
    assert_eq!(o.raw_status, "processing");
    assert_eq!(o.created_at, 1_711_965_600_000);
    assert_eq!(o.updated_at, 1_711_965_900_000);
    assert_eq!(o.currency, "USD");
    let b = o.buyer.as_ref().unwrap();
    assert_eq!(b.id.as_deref(), Some("26"));
    assert_eq!(b.name, "John Doe");
    assert_eq!(b.email.as_deref(), Some("john.doe@example.com"));
    let a = o.shipping_address.as_ref().unwrap();
    assert_eq!(a.name, "Jane Doe");
    assert_eq!(
        a.phone, "(555) 555-5555",
        "billing phone when shipping has none"
    );
    assert_eq!(a.street, "ACME 969 Market Suite 5");
    assert_eq!(
        (
            a.country.as_str(),
            a.province.as_str(),
            a.city.as_str(),
            a.postal_code.as_str()
        ),
        ("US", "CA", "San Francisco", "94103")
    );
    assert_eq!(o.lines.len(), 2);
    let l = &o.lines[0];
    assert_eq!(
        (l.line_id.as_str(), l.sku.as_str(), l.channel_sku.as_str()),
        ("315", "WOO-1", "93")
    );
    assert_eq!(
        (l.quantity, l.unit_price.minor, l.discount.minor),
        (2, 1000, 400)
    );
    assert_eq!(
        o.lines[1].channel_sku, "22/23",
        "a variation is product/variation"
    );
    assert_eq!(o.shipping_fee.minor, 1000);
    assert_eq!(o.discount.minor, -300, "a fee is a negative discount");
    assert_eq!(o.tax.minor, 364);
    assert_eq!(o.total_paid.minor, 5064);
    let lines: i64 = o
        .lines
        .iter()
        .map(|l| l.unit_price.minor * i64::from(l.quantity) - l.discount.minor)
        .sum();
    assert_eq!(
        lines + o.shipping_fee.minor - o.discount.minor + o.tax.minor,
        o.total_paid.minor
    );
    assert_eq!(o.tags, ["coupon:spring20", "created_via:checkout"]);
    assert!(o.presale.is_none());
}

// Every row of the README's status table, and nothing else.
#[test]
fn status_table_matches_the_readme() {
    use ChannelStatus as S;
    for (wc, want) in [
        ("pending", S::PendingPayment),
        ("on-hold", S::PendingPayment),
        ("checkout-draft", S::PendingPayment),
        ("processing", S::Paid),
        ("completed", S::Completed),
        ("cancelled", S::Cancelled),
        ("failed", S::Cancelled),
        ("trash", S::Cancelled),
        ("refunded", S::Refunded),
    ] {
        let mut v = order();
        v["status"] = json!(wc);
        let o = map(&v).unwrap();
        assert_eq!((o.status, o.raw_status.as_str()), (want, wc), "{wc}");
    }
}

// An unknown status is invalid-input naming the order and the field.
#[test]
fn unknown_status_is_invalid_input() {
    let mut v = order();
    v["status"] = json!("wc-shipped");
    assert!(matches!(
        map(&v),
        Err(ConnectorError::InvalidInput(m)) if m.contains("727") && m.contains("status") && m.contains("wc-shipped")
    ));
}

// A malformed amount or timestamp fails naming the order and field.
#[test]
fn malformed_fields_name_order_and_field() {
    for (path, bad) in [
        ("total", json!("lots")),
        ("date_modified_gmt", json!("yesterday")),
        ("shipping_total", json!("1.234")),
    ] {
        let mut v = order();
        v[path] = bad;
        assert!(
            matches!(map(&v), Err(ConnectorError::InvalidInput(m)) if m.contains("727") && m.contains(path)),
            "{path}"
        );
    }
    let mut v = order();
    v["line_items"][1]["subtotal"] = json!("x");
    assert!(
        matches!(map(&v), Err(ConnectorError::InvalidInput(m)) if m.contains("line_items[1].subtotal"))
    );
    let mut v = order();
    v["line_items"][0]["quantity"] = json!(0);
    assert!(matches!(map(&v), Err(ConnectorError::InvalidInput(m)) if m.contains("quantity")));
    assert!(matches!(
        order_from_str(r#"{"id": 9, "status": 5}"#),
        Err(ConnectorError::InvalidInput(m)) if m.contains("order 9")
    ));
}

// A subtotal that does not divide by the quantity rounds the unit price up and puts the
// rest into the discount, so the line still nets its total.
#[test]
fn indivisible_subtotals_keep_the_line_exact() {
    let mut v = order();
    v["line_items"][1] = json!({"id": 1, "name": "Third", "product_id": 5, "quantity": 3,
                                "subtotal": "10.00", "total": "10.00", "price": 3.3333333333333335});
    let o = map(&v).unwrap();
    let l = &o.lines[1];
    assert_eq!((l.unit_price.minor, l.discount.minor), (334, 2));
    assert_eq!(l.unit_price.minor * 3 - l.discount.minor, 1000);
}

// Without a subtotal, the JSON-number price is read exactly from its text (no float), in
// any JSON number spelling; a price finer than the currency is invalid-input.
#[test]
fn a_numeric_price_is_read_from_its_text() {
    for (price, minor) in [
        (r#"18.99"#, 1899),
        (r#"18"#, 1800),
        (r#""7.10""#, 710),
        (r#"1.899e1"#, 1899),
        (r#"0.07"#, 7),
        (r#"4503599627370.49"#, 450_359_962_737_049),
    ] {
        let text = order()
            .to_string()
            .replace(r#""price":8"#, &format!(r#""price":{price}"#))
            .replace(r#""subtotal":"20.00","#, "");
        let o = order_from_str(&text).unwrap_or_else(|e| panic!("{price}: {e:?}"));
        assert_eq!(o.lines[0].unit_price.minor, minor, "{price}");
    }
    let text = order()
        .to_string()
        .replace(r#""price":8"#, r#""price":0.30000000000000004"#)
        .replace(r#""subtotal":"20.00","#, "");
    assert!(matches!(
        order_from_str(&text),
        Err(ConnectorError::InvalidInput(m)) if m.contains("line_items[0].price")
    ));
}

// The decimal reader shifts digits by the exponent and refuses non-numbers.
#[test]
fn decimal_text_is_exact() {
    let d = |s: &str| decimal_text(&RawValue::from_string(s.to_string()).unwrap());
    assert_eq!(d("12.5").as_deref(), Some("12.5"));
    assert_eq!(d("-3").as_deref(), Some("-3"));
    assert_eq!(d("2.5E-3").as_deref(), Some("0.0025"));
    assert_eq!(d("25e2").as_deref(), Some("2500"));
    assert_eq!(d("\"abc\""), None);
    assert_eq!(d("true"), None);
}

// A virtual order (empty shipping) has no shipping address; a guest has no buyer id.
#[test]
fn virtual_and_guest_orders() {
    let mut v = order();
    v["shipping"] = json!({"first_name": "", "last_name": "", "company": "", "address_1": "",
                           "address_2": "", "city": "", "state": "", "postcode": "",
                           "country": "", "phone": ""});
    v["customer_id"] = json!(0);
    let o = map(&v).unwrap();
    assert!(o.shipping_address.is_none());
    let b = o.buyer.unwrap();
    assert_eq!((b.id, b.name.as_str()), (None, "John Doe"));
}

/// The README's after-sales table, row by row: (status, refunds, tag or "none").
const AFTER_SALES_TABLE: [(&str, usize, &str); 4] = [
    ("processing", 0, "none"),
    ("processing", 1, "after-sales:refunded"),
    ("completed", 1, "after-sales:refunded"),
    ("refunded", 0, "after-sales:refunded"),
];

// Refunds and the refunded status tag the order as the README's after-sales table says.
#[test]
fn after_sales_table_matches_the_readme() {
    let readme = include_str!("../../README.md");
    for (status, refunds, expected) in AFTER_SALES_TABLE {
        let mut v = order();
        v["status"] = json!(status);
        v["refunds"] = json!((0..refunds)
            .map(|i| json!({"id": 900 + i, "reason": "", "total": "-1.00"}))
            .collect::<Vec<_>>());
        let tags: Vec<String> = map(&v)
            .unwrap()
            .tags
            .into_iter()
            .filter(|t| t.starts_with("after-sales:"))
            .collect();
        let got = tags.first().map(String::as_str).unwrap_or("none");
        assert_eq!(got, expected, "{status}/{refunds}");
        let row = format!(
            "| {status} | {} | {expected} |",
            if refunds == 0 { "empty" } else { "non-empty" }
        );
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}
