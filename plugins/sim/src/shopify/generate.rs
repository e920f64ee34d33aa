//! Realistic Shopify orders, generated from a seeded RNG (pure: same seed, same order).
//!
//! Amounts are computed in integer minor units and written as decimal strings with the
//! currency's digits, so every generated order is internally consistent:
//! `total_price = Σ(quantity × price) − total_discounts + Σ shipping + total_tax`
//! (the tax term only when `taxes_included` is false), and
//! `subtotal_price = Σ(quantity × price) − line and order discounts` (shipping discounts
//! are in `total_discounts` but not in the subtotal, as on Shopify).

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use wharf_domain::money::{format_minor, minor_digits};

use crate::time;

/// (currency, weight, tax rate in percent, taxes included in prices)
const CURRENCIES: [(&str, u32, i64, bool); 6] = [
    ("USD", 35, 8, false),
    ("EUR", 20, 20, true),
    ("GBP", 10, 20, true),
    ("CAD", 10, 13, false),
    ("JPY", 15, 10, false),
    ("KWD", 10, 0, false),
];

const PRODUCTS: [(&str, &str); 8] = [
    ("Ceramic Mug", "MUG"),
    ("Linen Apron", "APRON"),
    ("Cast Iron Pan", "PAN"),
    ("Tea Towel Set", "TOWEL"),
    ("Olive Wood Spoon", "SPOON"),
    ("Espresso Cups (2)", "CUPS"),
    ("Bread Knife", "KNIFE"),
    ("Gift Card", "GIFT"),
];

const PEOPLE: [(&str, &str, &str, &str, &str, &str, &str); 6] = [
    (
        "Ada", "Lovelace", "London", "England", "ENG", "GB", "EC1A 1BB",
    ),
    (
        "Bob",
        "Norman",
        "Louisville",
        "Kentucky",
        "KY",
        "US",
        "40202",
    ),
    (
        "Chloé",
        "Martin",
        "Lyon",
        "Auvergne-Rhône-Alpes",
        "ARA",
        "FR",
        "69002",
    ),
    (
        "Daichi", "Sato", "Osaka", "Osaka", "JP-27", "JP", "530-0001",
    ),
    (
        "Fatima",
        "Al-Sabah",
        "Kuwait City",
        "Al Asimah",
        "KU",
        "KW",
        "13001",
    ),
    (
        "Grace",
        "Tremblay",
        "Montréal",
        "Quebec",
        "QC",
        "CA",
        "H2X 1Y4",
    ),
];

const TAGS: [&str; 5] = ["", "vip", "wholesale", "vip, repeat", "gift"];

fn money(minor: i64, digits: u32) -> Value {
    Value::String(format_minor(minor, digits))
}

/// A unit price in minor units that looks like a shop's price in that currency.
fn unit_price(rng: &mut impl Rng, digits: u32) -> i64 {
    match digits {
        0 => rng.gen_range(3..=200) * 100,    // ¥300 – ¥20,000
        3 => rng.gen_range(200..=10_000) * 5, // 1.000 – 50.000 KWD
        _ => rng.gen_range(3..=150) * 100 - [0, 1, 5][rng.gen_range(0..3)], // 2.99 … 150.00
    }
}

fn shipping_price(rng: &mut impl Rng, digits: u32) -> i64 {
    match digits {
        0 => rng.gen_range(50..=150) * 10,
        3 => rng.gen_range(200..=600) * 5,
        _ => rng.gen_range(499..=1500),
    }
}

fn ids_hex(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

/// Generate one order with `id` and order `number`, last updated at `at_ms`, timestamps
/// written in `utc_offset_minutes`. Realistic mix: 1–5 lines, USD/EUR/GBP/CAD/JPY/KWD,
/// line and order discounts, free-shipping discounts, taxes included or not, guest
/// checkouts, digital orders without shipping (and without an address), and every
/// financial × fulfillment status including cancelled and refunded orders.
pub fn order(
    rng: &mut impl Rng,
    id: u64,
    number: u64,
    at_ms: i64,
    utc_offset_minutes: i32,
) -> Value {
    let weights: u32 = CURRENCIES.iter().map(|c| c.1).sum();
    let mut pick = rng.gen_range(0..weights);
    let &(currency, _, tax_rate, taxes_included) = CURRENCIES
        .iter()
        .find(|c| {
            if pick < c.1 {
                true
            } else {
                pick -= c.1;
                false
            }
        })
        .expect("weights cover the range");
    let digits = minor_digits(currency).expect("known currency");

    let (status_fin, status_ful, cancelled) = pick_status(rng);
    let digital = rng.gen_bool(0.12);
    let n_lines = rng.gen_range(1..=5usize);
    let mut lines = Vec::with_capacity(n_lines);
    let (mut items_total, mut line_discounts) = (0i64, 0i64);
    for i in 0..n_lines {
        let (title, code) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let price = unit_price(rng, digits);
        let quantity = rng.gen_range(1..=3i64);
        let gross = price * quantity;
        let alloc = if rng.gen_bool(0.25) {
            (gross * [10, 15, 20][rng.gen_range(0..3)] / 100).max(1)
        } else {
            0
        };
        items_total += gross;
        line_discounts += alloc;
        let sku = match rng.gen_range(0..20) {
            0 | 1 => Value::Null,
            2 => json!(""),
            _ => json!(format!("{code}-{:03}", rng.gen_range(1..400))),
        };
        let line_id = id * 10 + i as u64;
        let variant_id = 40_000_000_000 + rng.gen_range(0..1_000_000u64);
        let line_fulfillment = match status_ful {
            Some("fulfilled") => json!("fulfilled"),
            Some("partial") if i == 0 => json!("fulfilled"),
            _ => Value::Null,
        };
        let allocations: Vec<Value> = if alloc > 0 {
            vec![
                json!({"amount": money(alloc, digits), "discount_application_index": 0,
                        "amount_set": {"shop_money": {"amount": money(alloc, digits), "currency_code": currency}}}),
            ]
        } else {
            vec![]
        };
        lines.push(json!({
            "id": line_id,
            "admin_graphql_api_id": format!("gid://shopify/LineItem/{line_id}"),
            "variant_id": variant_id,
            "product_id": 7_000_000_000 + (variant_id % 5000),
            "title": title,
            "variant_title": null,
            "name": title,
            "sku": sku,
            "vendor": "Wharf Demo",
            "quantity": quantity,
            "price": money(price, digits),
            "grams": if digital { 0 } else { rng.gen_range(50..2000) },
            "requires_shipping": !digital,
            "taxable": tax_rate > 0,
            "fulfillment_status": line_fulfillment,
            "total_discount": money(0, digits),
            "discount_allocations": allocations,
        }));
    }
    let order_discount = if rng.gen_bool(0.1) {
        ((items_total - line_discounts) * 5 / 100).max(1)
    } else {
        0
    };
    let subtotal = items_total - line_discounts - order_discount;

    let mut shipping_lines = Vec::new();
    let (mut shipping, mut shipping_discount) = (0i64, 0i64);
    if !digital {
        let price = shipping_price(rng, digits);
        let free = rng.gen_bool(0.15);
        shipping = price;
        shipping_discount = if free { price } else { 0 };
        shipping_lines.push(json!({
            "id": id * 10 + 9,
            "title": if free { "Free Shipping" } else { "Standard" },
            "code": "STANDARD",
            "source": "shopify",
            "price": money(price, digits),
            "discounted_price": money(price - shipping_discount, digits),
            "discount_allocations": if free { vec![json!({"amount": money(price, digits), "discount_application_index": 1})] } else { vec![] },
        }));
    }
    let total_discounts = line_discounts + order_discount + shipping_discount;
    // Tax on the discounted goods; when included, the portion of the price that is tax.
    let tax = if taxes_included {
        subtotal - subtotal * 100 / (100 + tax_rate)
    } else {
        subtotal * tax_rate / 100
    };
    let total = subtotal + shipping - shipping_discount + if taxes_included { 0 } else { tax };

    let (first, last, city, province, province_code, country_code, zip) =
        PEOPLE[rng.gen_range(0..PEOPLE.len())];
    let email = format!(
        "{}.{}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    let guest = rng.gen_bool(0.1);
    let customer = if guest {
        Value::Null
    } else {
        json!({"id": 6_000_000_000 + rng.gen_range(0..100_000u64), "first_name": first, "last_name": last,
               "email": email, "phone": null, "currency": currency, "tags": ""})
    };
    let address = json!({
        "first_name": first, "last_name": last, "name": format!("{first} {last}"),
        "address1": format!("{} Harbour Street", rng.gen_range(1..300)), "address2": "",
        "city": city, "province": province, "province_code": province_code,
        "country": country_code, "country_code": country_code, "zip": zip,
        "phone": format!("+{}", rng.gen_range(10_000_000_000u64..99_999_999_999)), "company": null
    });

    let updated = at_ms.div_euclid(1000) * 1000;
    let created = updated - rng.gen_range(0..=3 * 86_400i64) * 1000;
    let ts = |ms: i64| time::format_offset(ms, utc_offset_minutes);
    let closed = cancelled || (status_ful == Some("fulfilled") && status_fin == "paid");
    let mut o = json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
        "name": format!("#{number}"),
        "order_number": number,
        "number": number - 1000,
        "token": ids_hex(rng, 32),
        "email": if guest && rng.gen_bool(0.3) { Value::Null } else { json!(email) },
        "phone": null,
        "created_at": ts(created),
        "processed_at": ts(created),
        "updated_at": ts(updated),
        "cancelled_at": if cancelled { json!(ts(updated)) } else { Value::Null },
        "cancel_reason": if cancelled { json!(["customer", "inventory", "declined"][rng.gen_range(0..3)]) } else { Value::Null },
        "closed_at": if closed { json!(ts(updated)) } else { Value::Null },
        "currency": currency,
        "presentment_currency": currency,
        "financial_status": status_fin,
        "fulfillment_status": status_ful,
        "confirmed": true,
        "test": false,
        "source_name": "web",
        "taxes_included": taxes_included,
        "total_line_items_price": money(items_total, digits),
        "subtotal_price": money(subtotal, digits),
        "total_discounts": money(total_discounts, digits),
        "total_tax": money(tax, digits),
        "total_price": money(total, digits),
        "current_total_price": money(total, digits),
        "total_weight": 0,
        "tags": *TAGS.choose(rng).expect("tags"),
        "line_items": lines,
        "shipping_lines": shipping_lines,
        "customer": customer,
        "discount_applications": [],
    });
    if !digital {
        o["shipping_address"] = address.clone();
    }
    o["billing_address"] = address;
    o
}

/// (financial_status, fulfillment_status, cancelled) with a realistic spread.
fn pick_status(rng: &mut impl Rng) -> (&'static str, Option<&'static str>, bool) {
    match rng.gen_range(0..100) {
        0..=9 => ("pending", None, false),
        10..=12 => ("partially_paid", None, false),
        13..=17 => ("authorized", None, false),
        18..=44 => ("paid", None, false),
        45..=54 => ("paid", Some("partial"), false),
        55..=74 => ("paid", Some("fulfilled"), false),
        75..=80 => ("partially_refunded", Some("fulfilled"), false),
        81..=86 => ("refunded", None, true),
        87..=89 => ("voided", None, true),
        90..=92 => ("refunded", Some("fulfilled"), false),
        93..=95 => ("voided", None, false),
        _ => ("paid", None, true),
    }
}

/// Move an order one plausible step along its life (pay, fulfil, cancel, refund),
/// without touching `updated_at` (the caller bumps it). Returns the specific webhook topic
/// of the change, or `None` when the order has nothing left to do.
pub fn advance(order: &mut Value, rng: &mut impl Rng) -> Option<&'static str> {
    if !order["cancelled_at"].is_null() {
        return None;
    }
    let fin = order["financial_status"].as_str().unwrap_or("").to_string();
    let ful = order["fulfillment_status"].as_str().map(str::to_string);
    let now = order["updated_at"].clone();
    let mut set = |k: &str, v: Value| order[k] = v;
    match (fin.as_str(), ful.as_deref()) {
        ("pending" | "partially_paid" | "authorized", _) => {
            set("financial_status", json!("paid"));
            Some("orders/paid")
        }
        ("paid", None) => match rng.gen_range(0..100) {
            0..=59 => {
                set("fulfillment_status", json!("fulfilled"));
                set("closed_at", now);
                Some("orders/fulfilled")
            }
            60..=84 => {
                set("fulfillment_status", json!("partial"));
                Some("orders/partially_fulfilled")
            }
            _ => {
                set("financial_status", json!("refunded"));
                set("cancelled_at", now.clone());
                set("closed_at", now);
                set("cancel_reason", json!("customer"));
                Some("orders/cancelled")
            }
        },
        ("paid", Some("partial")) => {
            set("fulfillment_status", json!("fulfilled"));
            set("closed_at", now);
            Some("orders/fulfilled")
        }
        ("paid", Some("fulfilled")) if rng.gen_bool(0.3) => {
            set("financial_status", json!("partially_refunded"));
            Some("orders/updated")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use wharf_domain::money::parse_money;

    fn amount(o: &Value, k: &str) -> i64 {
        parse_money(o[k].as_str().unwrap(), o["currency"].as_str().unwrap())
            .unwrap()
            .minor
    }

    // Generated orders add up by Shopify's own formulas, in every currency.
    #[test]
    fn generated_orders_are_consistent() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut currencies = std::collections::BTreeSet::new();
        for i in 0..300u64 {
            let o = order(&mut rng, 1000 + i, 1001 + i, 1_712_000_000_000, -240);
            let cur = o["currency"].as_str().unwrap().to_string();
            let lines: i64 = o["line_items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    parse_money(l["price"].as_str().unwrap(), &cur)
                        .unwrap()
                        .minor
                        * l["quantity"].as_i64().unwrap()
                })
                .sum();
            let ship: i64 = o["shipping_lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    parse_money(s["price"].as_str().unwrap(), &cur)
                        .unwrap()
                        .minor
                })
                .sum();
            let tax = if o["taxes_included"] == json!(true) {
                0
            } else {
                amount(&o, "total_tax")
            };
            assert_eq!(lines, amount(&o, "total_line_items_price"));
            assert_eq!(
                lines - amount(&o, "total_discounts") + ship + tax,
                amount(&o, "total_price"),
                "{o}"
            );
            assert!(amount(&o, "total_price") > 0);
            currencies.insert(cur);
        }
        assert_eq!(currencies.len(), CURRENCIES.len(), "every currency appears");
    }

    // The same seed gives the same order.
    #[test]
    fn seeded_generation_is_deterministic() {
        let a = order(&mut StdRng::seed_from_u64(3), 1, 1001, 1_712_000_000_000, 0);
        let b = order(&mut StdRng::seed_from_u64(3), 1, 1001, 1_712_000_000_000, 0);
        assert_eq!(a, b);
    }

    // advance() only moves forward and stops at final states.
    #[test]
    fn advance_moves_forward_until_done() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut o = json!({"financial_status": "pending", "fulfillment_status": null,
                           "cancelled_at": null, "updated_at": "2024-04-01T00:00:00Z"});
        assert_eq!(advance(&mut o, &mut rng), Some("orders/paid"));
        assert_eq!(o["financial_status"], "paid");
        let mut steps = 0;
        while advance(&mut o, &mut rng).is_some() {
            steps += 1;
            assert!(steps < 10, "advance must terminate");
        }
        assert!(o["fulfillment_status"] == "fulfilled" || !o["cancelled_at"].is_null());
    }
}
