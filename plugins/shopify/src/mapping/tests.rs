use super::*;
use serde_json::{json, Value};

/// A Shopify order as the REST API returns it (trimmed to what matters, plus noise).
fn sample() -> Value {
    json!({
        "id": 450789469,
        "admin_graphql_api_id": "gid://shopify/Order/450789469",
        "name": "#1001",
        "email": "bob.norman@mail.example.com",
        "created_at": "2024-04-01T10:00:00-04:00",
        "updated_at": "2024-04-02T09:30:00-04:00",
        "currency": "USD",
        "financial_status": "paid",
        "fulfillment_status": null,
        "cancelled_at": null,
        "subtotal_price": "51.00",
        "total_discounts": "9.00",
        "total_tax": "4.08",
        "taxes_included": false,
        "total_price": "65.08",
        "tags": "vip, wholesale ,,",
        "line_items": [
            {"id": 466157049, "sku": "IPOD2008GREEN", "variant_id": 39072856, "title": "IPod Nano - 8gb",
             "quantity": 2, "price": "20.00", "grams": 200,
             "discount_allocations": [{"amount": "3.00", "discount_application_index": 0},
                                      {"amount": "1.00", "discount_application_index": 1}]},
            {"id": 518995019, "sku": null, "variant_id": null, "title": "Gift wrap",
             "quantity": 1, "price": "20.00", "grams": 0, "discount_allocations": []}
        ],
        "shipping_lines": [{"id": 369256396, "title": "Standard", "price": "10.00"},
                           {"id": 369256397, "title": "Insurance", "price": "0.00"}],
        "shipping_address": {"first_name": "Bob", "last_name": "Norman", "name": "Bob Norman",
            "address1": "Chestnut Street 92", "address2": "Apt 3", "city": "Louisville",
            "province": "Kentucky", "province_code": "KY", "country": "United States",
            "country_code": "US", "zip": "40202", "phone": "+1-555-555-5555"},
        "customer": {"id": 207119551, "first_name": "Bob", "last_name": "Norman",
                     "email": "bob.norman@mail.example.com", "phone": null}
    })
}

fn map(v: &Value) -> Order {
    order_from_json(v).unwrap()
}

fn invalid(v: &Value) -> String {
    match order_from_json(v) {
        Err(ConnectorError::InvalidInput(m)) => m,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

// Every field of a typical order maps as the README says, amounts exact in minor units.
#[test]
fn maps_a_full_order() {
    let o = map(&sample());
    assert_eq!(o.external_id, "450789469");
    assert_eq!(o.number, "#1001");
    assert!(matches!(o.status, ChannelStatus::Paid));
    assert_eq!(o.raw_status, "paid/null");
    assert_eq!(o.created_at, 1_711_980_000_000); // 2024-04-01T14:00:00Z
    assert_eq!(o.updated_at, 1_712_064_600_000); // 2024-04-02T13:30:00Z
    assert_eq!(o.currency, "USD");
    assert_eq!(o.lines.len(), 2);
    let l = &o.lines[0];
    assert_eq!(
        (
            l.line_id.as_str(),
            l.sku.as_str(),
            l.channel_sku.as_str(),
            l.quantity
        ),
        ("466157049", "IPOD2008GREEN", "39072856", 2)
    );
    assert_eq!((l.unit_price.minor, l.discount.minor), (2000, 400));
    assert_eq!(l.unit_price.currency, "USD");
    let l = &o.lines[1];
    assert_eq!((l.sku.as_str(), l.channel_sku.as_str()), ("", ""));
    assert_eq!(l.discount.minor, 0);
    assert_eq!(o.shipping_fee.minor, 1000);
    assert_eq!(
        o.discount.minor, 500,
        "9.00 total − 4.00 allocated to lines"
    );
    assert_eq!(o.tax.minor, 408);
    assert_eq!(o.total_paid.minor, 6508);
    assert_eq!(o.tags, ["vip", "wholesale"]);
    let b = o.buyer.unwrap();
    assert_eq!(b.id.as_deref(), Some("207119551"));
    assert_eq!(b.name, "Bob Norman");
    assert_eq!(b.email.as_deref(), Some("bob.norman@mail.example.com"));
    assert_eq!(b.phone, None);
    let a = o.shipping_address.unwrap();
    assert_eq!(a.name, "Bob Norman");
    assert_eq!(a.street, "Chestnut Street 92, Apt 3");
    assert_eq!(
        (a.country.as_str(), a.province.as_str()),
        ("US", "Kentucky")
    );
    assert_eq!(
        (a.city.as_str(), a.postal_code.as_str()),
        ("Louisville", "40202")
    );
    assert!(!a.encrypted);
    assert!(o.presale.is_none());
}

// The sample balances: lines + shipping − discount + tax = total.
#[test]
fn sample_amounts_balance() {
    let o = map(&sample());
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

// Currencies keep their own minor digits: JPY has 0, KWD 3, EUR 2.
#[test]
fn currencies_use_their_minor_digits() {
    let mut v = sample();
    v["currency"] = json!("JPY");
    v["line_items"][0]["price"] = json!("1500");
    v["line_items"][1]["price"] = json!("980.00");
    v["total_tax"] = json!("326");
    v["total_price"] = json!("4321");
    let o = map(&v);
    assert_eq!(o.lines[0].unit_price.minor, 1500);
    assert_eq!(o.lines[1].unit_price.minor, 980);
    assert_eq!(o.total_paid.minor, 4321);
    assert_eq!(o.tax.minor, 326);
    assert_eq!(o.total_paid.currency, "JPY");

    let mut v = sample();
    v["currency"] = json!("KWD");
    v["line_items"][0]["price"] = json!("12.345");
    v["total_price"] = json!("30.005");
    let o = map(&v);
    assert_eq!(o.lines[0].unit_price.minor, 12_345);
    assert_eq!(o.total_paid.minor, 30_005);
    assert_eq!(o.shipping_fee.minor, 10_000, "10.00 KWD is 10000 fils");

    let mut v = sample();
    v["currency"] = json!("JPY");
    v["line_items"][0]["price"] = json!("1500.50");
    assert!(
        invalid(&v).contains("line_items[0].price"),
        "a fractional yen is refused, not rounded"
    );
}

// With taxes_included the tax is inside the prices, so it is not added again.
#[test]
fn included_taxes_are_not_added() {
    let mut v = sample();
    v["taxes_included"] = json!(true);
    let o = map(&v);
    assert_eq!(o.tax.minor, 0);
    v["taxes_included"] = json!(null);
    assert_eq!(map(&v).tax.minor, 408, "null taxes_included means excluded");
}

// No shipping address stays none (the host flags it); a guest checkout keeps its email.
#[test]
fn absent_address_and_guest_buyer() {
    let mut v = sample();
    v.as_object_mut().unwrap().remove("shipping_address");
    v["customer"] = json!(null);
    v["email"] = json!("guest@example.com");
    let o = map(&v);
    assert!(o.shipping_address.is_none());
    let b = o.buyer.unwrap();
    assert_eq!((b.id, b.name.as_str()), (None, ""));
    assert_eq!(b.email.as_deref(), Some("guest@example.com"));

    v["email"] = json!(null);
    v["shipping_address"] = json!(null);
    let o = map(&v);
    assert!(o.buyer.is_none() && o.shipping_address.is_none());
}

// An address without `name` builds it from first/last; country falls back to its name.
#[test]
fn address_fallbacks() {
    let mut v = sample();
    v["shipping_address"] = json!({"first_name": "Ana", "last_name": "Lima", "address1": "Rua 1",
        "city": "Porto", "country": "Portugal", "country_code": null, "province_code": "13", "zip": "4000"});
    let a = map(&v).shipping_address.unwrap();
    assert_eq!(a.name, "Ana Lima");
    assert_eq!(
        (a.country.as_str(), a.province.as_str(), a.street.as_str()),
        ("Portugal", "13", "Rua 1")
    );
}

// Malformed amounts, timestamps and statuses are invalid-input naming the order and field.
#[test]
fn bad_input_is_reported_with_the_field() {
    let mut v = sample();
    v["total_price"] = json!("65,08");
    let m = invalid(&v);
    assert!(m.contains("450789469") && m.contains("total_price"), "{m}");

    let mut v = sample();
    v["updated_at"] = json!("yesterday");
    assert!(invalid(&v).contains("updated_at"));

    let mut v = sample();
    v["financial_status"] = json!("expired");
    assert!(invalid(&v).contains("financial_status"));

    let mut v = sample();
    v["fulfillment_status"] = json!("restocked");
    assert!(invalid(&v).contains("fulfillment_status"));

    let mut v = sample();
    v["currency"] = json!("XYZ");
    assert!(invalid(&v).contains("XYZ"));

    let mut v = sample();
    v["line_items"][0]["discount_allocations"][0]["amount"] = json!("abc");
    assert!(invalid(&v).contains("line_items[0].discount_allocations[0].amount"));

    assert!(invalid(&json!({"id": 7})).contains("not an order object"));
    assert!(matches!(
        order_from_bytes(b"{not json"),
        Err(ConnectorError::InvalidInput(m)) if m.contains("webhook body")
    ));
}

/// One row of the README's status table: (cancelled, financial, fulfillment, status, raw).
type Row = (
    bool,
    &'static str,
    Option<&'static str>,
    ChannelStatus,
    &'static str,
);

// Every row of the README's status table, in the README's order.
#[test]
fn status_table_matches_the_readme() {
    use ChannelStatus::*;
    let rows: &[Row] = &[
        // cancelled_at set
        (true, "refunded", None, Refunded, "refunded/null/cancelled"),
        (true, "voided", None, Cancelled, "voided/null/cancelled"),
        (
            true,
            "paid",
            Some("fulfilled"),
            Cancelled,
            "paid/fulfilled/cancelled",
        ),
        (true, "pending", None, Cancelled, "pending/null/cancelled"),
        (
            true,
            "partially_refunded",
            Some("partial"),
            Cancelled,
            "partially_refunded/partial/cancelled",
        ),
        // not cancelled: by financial status
        (
            false,
            "refunded",
            Some("fulfilled"),
            Refunded,
            "refunded/fulfilled",
        ),
        (false, "voided", None, Cancelled, "voided/null"),
        (false, "pending", None, PendingPayment, "pending/null"),
        (
            false,
            "partially_paid",
            None,
            PendingPayment,
            "partially_paid/null",
        ),
        // authorized / paid / partially_refunded: by fulfillment status
        (false, "authorized", None, Paid, "authorized/null"),
        (
            false,
            "authorized",
            Some("partial"),
            PartiallyShipped,
            "authorized/partial",
        ),
        (
            false,
            "authorized",
            Some("fulfilled"),
            Shipped,
            "authorized/fulfilled",
        ),
        (false, "paid", None, Paid, "paid/null"),
        (
            false,
            "paid",
            Some("partial"),
            PartiallyShipped,
            "paid/partial",
        ),
        (false, "paid", Some("fulfilled"), Shipped, "paid/fulfilled"),
        (
            false,
            "partially_refunded",
            None,
            Paid,
            "partially_refunded/null",
        ),
        (
            false,
            "partially_refunded",
            Some("partial"),
            PartiallyShipped,
            "partially_refunded/partial",
        ),
        (
            false,
            "partially_refunded",
            Some("fulfilled"),
            Shipped,
            "partially_refunded/fulfilled",
        ),
    ];
    for &(cancelled, fin, ful, want, raw) in rows {
        let (got, got_raw) = status(fin, ful, cancelled).unwrap();
        assert_eq!(
            (got, got_raw.as_str()),
            (want, raw),
            "row {fin}/{ful:?}/{cancelled}"
        );
    }
}

// The status goes through the whole order mapping too, driven by `cancelled_at`.
#[test]
fn cancelled_at_drives_the_order_status() {
    let mut v = sample();
    v["cancelled_at"] = json!("2024-04-02T09:30:00-04:00");
    v["financial_status"] = json!("refunded");
    let o = map(&v);
    assert!(matches!(o.status, ChannelStatus::Refunded));
    assert_eq!(o.raw_status, "refunded/null/cancelled");
    v["financial_status"] = json!("voided");
    assert!(matches!(map(&v).status, ChannelStatus::Cancelled));
    v["financial_status"] = json!(null);
    assert!(invalid(&v).contains("financial_status is missing"));
}
