//! Realistic random WooCommerce orders (pure, seedable), in the REST API v3 shape.
//! Every amount is built from integer cents and written as WooCommerce does: decimal
//! strings with two digits, except the line `price`, which WooCommerce computes in PHP as
//! `total / quantity` and writes as a JSON number (`3.3333333333333335`).
//!
//! The amounts follow WooCommerce's model: a line's `subtotal` is `price × quantity`
//! before coupons, its `total` after them (both without tax); `discount_total` is the sum
//! of the lines' coupon discounts; taxes are per line and on shipping; the order's
//! `total = Σ line total + Σ fee total + shipping_total + total_tax`.

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Number, Value};
use wharf_domain::money::format_minor;

use crate::time;

/// Every order status WooCommerce core has.
pub const STATUSES: [&str; 9] = [
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
    "checkout-draft",
];

/// Statuses of generated orders (trash and checkout-draft only by [`order_with_status`]).
const LIVE: [(&str, u32); 7] = [
    ("pending", 2),
    ("processing", 5),
    ("on-hold", 2),
    ("completed", 4),
    ("cancelled", 1),
    ("refunded", 1),
    ("failed", 1),
];

/// The catalog: (product id, name, sku, unit price in cents, variations (id, sku, label)).
/// A catalog entry: (product id, name, sku, unit price in cents, variations).
pub type Product = (
    u64,
    &'static str,
    &'static str,
    i64,
    &'static [(u64, &'static str, &'static str)],
);

pub const CATALOG: [Product; 5] = [
    (93, "Woo Single #1", "WOO-SINGLE-1", 1999, &[]),
    (94, "Woo Album #2", "WOO-ALBUM-2", 900, &[]),
    (
        22,
        "Ship Your Idea",
        "SYI",
        2500,
        &[(23, "SYI-BLACK", "Black"), (24, "SYI-GREEN", "Green")],
    ),
    (31, "Hoodie with Logo", "HOODIE-LOGO", 4500, &[]),
    (40, "Beanie", "BEANIE", 1800, &[]),
];

const PEOPLE: [(&str, &str, &str, &str, &str, &str, &str); 4] = [
    (
        "John",
        "Doe",
        "969 Market",
        "San Francisco",
        "CA",
        "94103",
        "US",
    ),
    (
        "Marie",
        "Curie",
        "12 Rue de la Paix",
        "Paris",
        "",
        "75002",
        "FR",
    ),
    (
        "Hans",
        "Müller",
        "Hauptstraße 5",
        "Berlin",
        "BE",
        "10115",
        "DE",
    ),
    (
        "Aiko",
        "Tanaka",
        "1-2-3 Shibuya",
        "Tokyo",
        "JP13",
        "150-0002",
        "JP",
    ),
];

const COUPONS: [(&str, i64); 3] = [("spring10", 10), ("vip20", 20), ("welcome5", 5)];

/// Tax rate in basis points (8.25 %).
const TAX_BP: i64 = 825;

fn money(cents: i64) -> String {
    format_minor(cents, 2)
}

fn tax(cents: i64) -> i64 {
    (cents * TAX_BP + 5_000).div_euclid(10_000)
}

/// WooCommerce's naive `Y-m-d\TH:i:s` in a fixed offset (0 for the `_gmt` fields).
pub fn naive(ms: i64, offset_minutes: i32) -> String {
    time::format_offset(ms, offset_minutes)[..19].to_string()
}

/// `total / quantity` as PHP's float, as a JSON number.
fn price(total_cents: i64, quantity: i64) -> Value {
    let f = total_cents as f64 / 100.0 / quantity as f64;
    Number::from_f64(f).map(Value::Number).unwrap_or(json!(0))
}

/// A random order with a status drawn from the live statuses.
pub fn order(rng: &mut impl Rng, id: u64, modified_ms: i64, currency: &str, offset: i32) -> Value {
    let status = LIVE
        .choose_weighted(rng, |(_, w)| *w)
        .map(|(s, _)| *s)
        .unwrap_or("processing");
    order_with_status(rng, id, modified_ms, currency, offset, status)
}

/// A random order with `status`, created up to three days before `modified_ms`.
pub fn order_with_status(
    rng: &mut impl Rng,
    id: u64,
    modified_ms: i64,
    currency: &str,
    offset: i32,
    status: &str,
) -> Value {
    let modified_ms = modified_ms.div_euclid(1000) * 1000;
    let created_ms = modified_ms - rng.gen_range(0..3 * 86_400) * 1000;
    let coupon = rng.gen_bool(0.3).then(|| *COUPONS.choose(rng).unwrap());
    let mut items = Vec::new();
    let (mut sum_total, mut sum_discount, mut sum_tax) = (0i64, 0i64, 0i64);
    let n_lines = rng.gen_range(1..=3);
    for i in 0..n_lines {
        let (pid, name, sku, unit, variations) = CATALOG[rng.gen_range(0..CATALOG.len())];
        let (vid, sku, name) = match variations.choose(rng) {
            Some((vid, vsku, label)) => (*vid, *vsku, format!("{name} - Color: {label}")),
            None => (0, sku, name.to_string()),
        };
        let qty = rng.gen_range(1..=3i64);
        let subtotal = unit * qty;
        let discount = coupon.map(|(_, pct)| subtotal * pct / 100).unwrap_or(0);
        let total = subtotal - discount;
        let (sub_tax, line_tax) = (tax(subtotal), tax(total));
        sum_total += total;
        sum_discount += discount;
        sum_tax += line_tax;
        items.push(json!({
            "id": id * 100 + i as u64 + 1, "name": name, "product_id": pid,
            "variation_id": vid, "quantity": qty, "tax_class": "",
            "subtotal": money(subtotal), "subtotal_tax": money(sub_tax),
            "total": money(total), "total_tax": money(line_tax),
            "taxes": [{"id": 1, "total": money(line_tax), "subtotal": money(sub_tax)}],
            "meta_data": [], "sku": sku, "price": price(total, qty),
            "image": {"id": "", "src": ""}, "parent_name": null
        }));
    }
    let shipping = [0, 500, 1000][rng.gen_range(0..3)];
    let shipping_tax = tax(shipping);
    let fee = if rng.gen_bool(0.1) { 300 } else { 0 };
    let total_tax = sum_tax + shipping_tax;
    let total = sum_total + fee + shipping + total_tax;
    let virtual_goods = rng.gen_bool(0.1);
    let (first, last, street, city, state, postcode, country) = *PEOPLE.choose(rng).unwrap();
    let email = format!("{}.{}@example.com", first.to_lowercase(), id);
    let billing = json!({
        "first_name": first, "last_name": last, "company": "", "address_1": street,
        "address_2": "", "city": city, "state": state, "postcode": postcode,
        "country": country, "email": email, "phone": "(555) 555-5555"
    });
    let shipping_address = if virtual_goods {
        json!({"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "",
               "city": "", "state": "", "postcode": "", "country": "", "phone": ""})
    } else {
        json!({"first_name": first, "last_name": last, "company": "", "address_1": street,
               "address_2": "", "city": city, "state": state, "postcode": postcode,
               "country": country, "phone": ""})
    };
    let paid = !matches!(status, "pending" | "on-hold" | "failed" | "checkout-draft")
        && (status != "cancelled" || !rng.gen_bool(0.5));
    let date = |ms: Option<i64>, gmt: bool| match ms {
        Some(ms) => json!(naive(ms, if gmt { 0 } else { offset })),
        None => Value::Null,
    };
    let paid_ms = paid.then_some(created_ms + 60_000);
    let completed_ms = (status == "completed").then_some(modified_ms);
    let customer_id = if rng.gen_bool(0.7) {
        rng.gen_range(1..500)
    } else {
        0
    };
    let mut o = json!({
        "id": id, "parent_id": 0, "status": status, "currency": currency,
        "version": "8.9.1", "prices_include_tax": false,
        "date_created": date(Some(created_ms), false), "date_created_gmt": date(Some(created_ms), true),
        "date_modified": date(Some(modified_ms), false), "date_modified_gmt": date(Some(modified_ms), true),
        "discount_total": money(sum_discount), "discount_tax": money(tax(sum_discount)),
        "shipping_total": money(shipping), "shipping_tax": money(shipping_tax),
        "cart_tax": money(sum_tax), "total": money(total), "total_tax": money(total_tax),
        "customer_id": customer_id, "order_key": format!("wc_order_{id:x}k{}", rng.gen_range(1000..9999)),
        "billing": billing, "shipping": shipping_address
    });
    let more = json!({
        "payment_method": "stripe", "payment_method_title": "Credit Card (Stripe)",
        "transaction_id": if paid { format!("ch_{id:x}") } else { String::new() },
        "customer_ip_address": "203.0.113.7", "customer_user_agent": "Mozilla/5.0",
        "created_via": "checkout", "customer_note": "",
        "date_completed": date(completed_ms, false), "date_completed_gmt": date(completed_ms, true),
        "date_paid": date(paid_ms, false), "date_paid_gmt": date(paid_ms, true),
        "cart_hash": "", "number": id.to_string(), "meta_data": []
    });
    let tax_lines = json!([{"id": id * 100 + 50, "rate_code": "US-CA-TAX-1",
        "rate_id": 1, "label": "Tax", "compound": false, "tax_total": money(sum_tax),
        "shipping_tax_total": money(shipping_tax), "meta_data": []}]);
    let shipping_lines = if shipping > 0 {
        json!([{"id": id * 100 + 60, "method_title": "Flat rate", "method_id": "flat_rate",
                "instance_id": "1", "total": money(shipping), "total_tax": money(shipping_tax),
                "taxes": [], "meta_data": []}])
    } else {
        json!([])
    };
    let fee_lines = if fee > 0 {
        json!([{"id": id * 100 + 70, "name": "Gift wrap", "tax_class": "", "tax_status": "none",
                "total": money(fee), "total_tax": "0.00", "taxes": [], "meta_data": []}])
    } else {
        json!([])
    };
    let coupon_lines = match coupon {
        Some((code, _)) => json!([{"id": id * 100 + 80, "code": code,
            "discount": money(sum_discount), "discount_tax": money(tax(sum_discount)),
            "meta_data": []}]),
        None => json!([]),
    };
    let refunds = if status == "refunded" {
        json!([{"id": id * 100 + 90, "reason": "", "total": format!("-{}", money(total))}])
    } else {
        json!([])
    };
    let tail = json!({
        "line_items": items, "tax_lines": tax_lines, "shipping_lines": shipping_lines,
        "fee_lines": fee_lines, "coupon_lines": coupon_lines, "refunds": refunds,
        "payment_url": format!("https://shop.example/checkout/order-pay/{id}/"),
        "is_editable": matches!(status, "pending" | "on-hold" | "checkout-draft"),
        "needs_payment": matches!(status, "pending" | "failed"),
        "needs_processing": true, "currency_symbol": "$",
        "_links": {"self": [{"href": format!("/wp-json/wc/v3/orders/{id}")}],
                   "collection": [{"href": "/wp-json/wc/v3/orders"}]}
    });
    for part in [more, tail] {
        if let (Some(dst), Value::Object(src)) = (o.as_object_mut(), part) {
            dst.extend(src);
        }
    }
    o
}

/// The next status of an order along WooCommerce's usual flow; `None` when final.
pub fn next_status(status: &str) -> Option<&'static str> {
    Some(match status {
        "checkout-draft" => "pending",
        "pending" | "on-hold" | "failed" => "processing",
        "processing" => "completed",
        "completed" => "refunded",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use wharf_domain::money::parse_decimal;

    fn cents(v: &Value) -> i64 {
        parse_decimal(v.as_str().unwrap(), 2).unwrap()
    }

    // Generated orders add up as WooCommerce's do, in every status.
    #[test]
    fn generated_orders_balance() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut statuses = std::collections::BTreeSet::new();
        for id in 1..300u64 {
            let o = order(&mut rng, id, 1_712_000_000_000, "USD", 120);
            let lines: i64 = o["line_items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| cents(&l["total"]))
                .sum();
            let fees: i64 = o["fee_lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| cents(&l["total"]))
                .sum();
            assert_eq!(
                lines + fees + cents(&o["shipping_total"]) + cents(&o["total_tax"]),
                cents(&o["total"]),
                "{o}"
            );
            for l in o["line_items"].as_array().unwrap() {
                assert!(
                    l["price"].is_number(),
                    "price is a JSON number as WooCommerce writes it"
                );
            }
            assert_eq!(o["date_modified_gmt"], "2024-04-01T19:33:20");
            assert_eq!(o["date_modified"], "2024-04-01T21:33:20");
            statuses.insert(o["status"].as_str().unwrap().to_string());
        }
        assert_eq!(statuses.len(), 7, "{statuses:?}");
    }
}
