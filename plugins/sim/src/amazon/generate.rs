//! Realistic random SP-API orders and their order items (pure, seedable). Every amount
//! is built from integer minor units of the marketplace's currency and written as Amazon
//! does: a decimal string with the currency's exponent ("19.99", JPY "1980").
//!
//! The amounts of a priced order follow one model (the US style: prices exclude tax,
//! tax is reported beside them; `ItemPrice` and `ShippingPrice` are for the whole
//! quantity):
//! `OrderTotal = Σ (ItemPrice + ItemTax + ShippingPrice + ShippingTax − PromotionDiscount
//! − PromotionDiscountTax − ShippingDiscount − ShippingDiscountTax)`.
//! Orders in `Pending` status carry no prices at all (no `OrderTotal`, no item amounts),
//! as Amazon sends them before the payment is authorised.

use rand::Rng;
use serde_json::{json, Value};
use wharf_domain::money::{format_minor, minor_digits};

use super::config::marketplace_currency;
use super::format_time as format_utc_seconds;

/// Every `OrderStatus` a generated order can have.
pub const STATUSES: [&str; 8] = [
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
];

const PRODUCTS: [(&str, &str, i64); 8] = [
    (
        "Edelstahl Trinkflasche 750 ml, auslaufsicher",
        "BTL-750",
        1899,
    ),
    ("USB-C Ladekabel 2 m, geflochten", "CBL-USBC-2M", 999),
    ("Bio Grüntee Sencha 250 g", "TEA-SEN-250", 1450),
    ("Kinder Regenjacke, Größe 116", "JKT-K-116", 3495),
    ("Mechanische Tastatur, 87 Tasten", "KB-87-BRN", 7990),
    ("Yogamatte rutschfest 6 mm", "YOGA-6MM", 2599),
    ("LED Schreibtischlampe dimmbar", "LMP-LED-D", 4299),
    ("Notizbuch A5 punktiert, 3er Pack", "NB-A5-3", 1199),
];

/// Every `SellerSKU` the generator uses (listed in the simulator from the start).
pub const SKUS: [&str; 8] = [
    "BTL-750",
    "CBL-USBC-2M",
    "TEA-SEN-250",
    "JKT-K-116",
    "KB-87-BRN",
    "YOGA-6MM",
    "LMP-LED-D",
    "NB-A5-3",
];

/// (Name, AddressLine1, City, StateOrRegion, PostalCode, CountryCode)
const ADDRESSES: [(&str, &str, &str, &str, &str, &str); 5] = [
    (
        "Anna Schmidt",
        "Hauptstraße 12",
        "Berlin",
        "Berlin",
        "10115",
        "DE",
    ),
    (
        "Jonas Weber",
        "Lindenallee 5a",
        "München",
        "Bayern",
        "80331",
        "DE",
    ),
    (
        "Oliver Smith",
        "221B Baker Street",
        "London",
        "Greater London",
        "NW1 6XE",
        "GB",
    ),
    (
        "Emily Jones",
        "14 Deansgate",
        "Manchester",
        "Lancashire",
        "M3 2BW",
        "GB",
    ),
    (
        "Hanako Sato",
        "1-2-3 Jingumae",
        "Shibuya-ku",
        "Tokyo",
        "150-0001",
        "JP",
    ),
];

/// The VAT / sales-tax rate of a currency's home market, in percent (a simplification).
fn tax_percent(currency: &str) -> i64 {
    match currency {
        "EUR" => 19,
        "GBP" => 20,
        "JPY" => 10,
        _ => 8,
    }
}

/// `{"CurrencyCode", "Amount"}` with the currency's exponent.
pub fn money(minor: i64, currency: &str) -> Value {
    let digits = minor_digits(currency).unwrap_or(2);
    json!({"CurrencyCode": currency, "Amount": format_minor(minor, digits)})
}

fn minor_of(v: &Value) -> i64 {
    let currency = v["CurrencyCode"].as_str().unwrap_or("USD");
    let digits = minor_digits(currency).unwrap_or(2);
    wharf_domain::money::parse_decimal(v["Amount"].as_str().unwrap_or("0"), digits).unwrap_or(0)
}

/// A price in the currency's minor units: EUR/GBP/USD cents as listed, JPY whole yen.
fn scale(cents: i64, currency: &str) -> i64 {
    match minor_digits(currency) {
        Some(0) => (cents * 150 / 100 / 10) * 10,
        Some(3) => cents * 10,
        _ => cents,
    }
}

/// An Amazon order id, `NNN-NNNNNNN-NNNNNNN`, unique per `serial`.
pub fn order_id(serial: u64, rng: &mut impl Rng) -> String {
    format!(
        "{:03}-{:07}-{:07}",
        [302, 303, 304, 305, 28][rng.gen_range(0..5)],
        serial % 10_000_000,
        rng.gen_range(0..10_000_000u64)
    )
}

fn pick_status(rng: &mut impl Rng) -> &'static str {
    match rng.gen_range(0..100) {
        0..=3 => "PendingAvailability",
        4..=11 => "Pending",
        12..=31 => "Unshipped",
        32..=37 => "PartiallyShipped",
        38..=78 => "Shipped",
        79..=86 => "Canceled",
        87..=89 => "Unfulfillable",
        _ => "InvoiceUnconfirmed",
    }
}

/// Fill in the amounts of `items` (and return the `OrderTotal` minor units): item price
/// for the whole quantity (sometimes with a business quantity discount, so it is not a
/// multiple of the quantity), tax, a promotion now and then, shipping on the first item
/// and sometimes a free-shipping promotion that cancels it.
pub fn price_items(rng: &mut impl Rng, currency: &str, items: &mut [Value]) -> i64 {
    let pct = tax_percent(currency);
    let mut total = 0;
    for (i, item) in items.iter_mut().enumerate() {
        let qty = item["QuantityOrdered"].as_i64().unwrap_or(1);
        let unit = item["_unit"].as_i64().unwrap_or(999);
        let mut price = unit * qty;
        if qty > 1 && rng.gen_bool(0.3) {
            // Quantity pricing: 5% off the line, rounded to the minor unit.
            price = price * 95 / 100;
        }
        let tax = price * pct / 100;
        let promo = if rng.gen_bool(0.2) { price / 10 } else { 0 };
        let promo_tax = promo * pct / 100;
        let (ship, ship_disc) = if i == 0 && rng.gen_bool(0.5) {
            let ship = scale(499, currency);
            (ship, if rng.gen_bool(0.4) { ship } else { 0 })
        } else {
            (0, 0)
        };
        let (ship_tax, ship_disc_tax) = (ship * pct / 100, ship_disc * pct / 100);
        item["ItemPrice"] = money(price, currency);
        item["ItemTax"] = money(tax, currency);
        item["PromotionDiscount"] = money(promo, currency);
        item["PromotionDiscountTax"] = money(promo_tax, currency);
        item["ShippingPrice"] = money(ship, currency);
        item["ShippingTax"] = money(ship_tax, currency);
        item["ShippingDiscount"] = money(ship_disc, currency);
        item["ShippingDiscountTax"] = money(ship_disc_tax, currency);
        total += price + tax + ship + ship_tax - promo - promo_tax - ship_disc - ship_disc_tax;
    }
    total
}

/// Generate one order `id` in `marketplace_id`, last updated at `updated_ms` (on a whole
/// second, as Amazon's timestamps are), and its order items. Mix: 1–3 items of quantity
/// 1–3, every status, MFN and AFN, Prime and business orders, orders without prices
/// (`Pending`), with a restricted (partial) address, or without one (`Canceled`).
pub fn order(
    rng: &mut impl Rng,
    id: &str,
    marketplace_id: &str,
    updated_ms: i64,
) -> (Value, Vec<Value>) {
    let currency = marketplace_currency(marketplace_id).unwrap_or("USD");
    let status = pick_status(rng);
    let n = rng.gen_range(1..=3usize);
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        let (title, sku, cents) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        items.push(json!({
            "ASIN": format!("B0{:08}", rng.gen_range(0..100_000_000u64)),
            "SellerSKU": sku,
            "OrderItemId": format!("{:014}", rng.gen_range(0..100_000_000_000_000u64) + i as u64),
            "Title": title,
            "QuantityOrdered": rng.gen_range(1..=3),
            "QuantityShipped": 0,
            "IsGift": "false",
            "ConditionId": "New",
            "_unit": scale(cents, currency),
        }));
    }
    let updated = updated_ms.div_euclid(1000) * 1000;
    let purchase = updated - rng.gen_range(0..=3 * 86_400i64) * 1000;
    let afn = status == "Unfulfillable" || rng.gen_bool(0.15);
    let (earliest, latest) = if status == "PendingAvailability" {
        (purchase + 14 * 86_400_000, purchase + 16 * 86_400_000)
    } else {
        (purchase + 86_400_000, purchase + 3 * 86_400_000)
    };
    let business = rng.gen_bool(0.1);
    let mut o = json!({
        "AmazonOrderId": id,
        "SellerOrderId": id,
        "PurchaseDate": format_utc_seconds(purchase),
        "LastUpdateDate": format_utc_seconds(updated),
        "OrderStatus": status,
        "FulfillmentChannel": if afn { "AFN" } else { "MFN" },
        "SalesChannel": sales_channel(marketplace_id),
        "ShipServiceLevel": "Std DE Dom_1",
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 0,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": marketplace_id,
        "ShipmentServiceLevelCategory": if rng.gen_bool(0.2) { "Expedited" } else { "Standard" },
        "OrderType": if status == "PendingAvailability" { "Preorder" } else { "StandardOrder" },
        "EarliestShipDate": format_utc_seconds(earliest),
        "LatestShipDate": format_utc_seconds(latest),
        "IsBusinessOrder": business,
        "IsPrime": rng.gen_bool(0.4),
        "IsPremiumOrder": false,
        "IsGlobalExpressEnabled": false,
        "IsReplacementOrder": rng.gen_bool(0.03),
        "IsSoldByAB": false,
        "IsISPU": false,
        "IsAccessPointOrder": false,
        "HasRegulatedItems": false,
    });
    if status != "Pending" {
        let total = price_items(rng, currency, &mut items);
        o["OrderTotal"] = money(total, currency);
    }
    set_quantities(&mut o, &mut items, status);
    if !matches!(status, "Pending" | "Canceled") {
        o["BuyerInfo"] = json!({
            "BuyerEmail": format!("{:012x}@marketplace.amazon.de", rng.gen_range(0..u64::MAX >> 16)),
        });
        let (name, line1, city, state, zip, country) = ADDRESSES[rng.gen_range(0..ADDRESSES.len())];
        o["ShippingAddress"] = if rng.gen_bool(0.1) {
            // Without a Restricted Data Token, Amazon leaves out the PII fields.
            json!({"City": city, "StateOrRegion": state, "PostalCode": zip, "CountryCode": country})
        } else {
            json!({"Name": name, "AddressLine1": line1, "City": city, "StateOrRegion": state,
                   "PostalCode": zip, "CountryCode": country,
                   "Phone": format!("+49 30 {:07}", rng.gen_range(0..10_000_000)),
                   "AddressType": "Residential"})
        };
    }
    for item in &mut items {
        if let Some(m) = item.as_object_mut() {
            m.remove("_unit");
        }
    }
    (o, items)
}

fn sales_channel(marketplace_id: &str) -> &'static str {
    match marketplace_id {
        "A1PA6795UKMFR9" => "Amazon.de",
        "A1F83G8C2ARO7P" => "Amazon.co.uk",
        "A1VC38T7YXB528" => "Amazon.co.jp",
        "ATVPDKIKX0DER" => "Amazon.com",
        "A13V1IB3VIYZZH" => "Amazon.fr",
        _ => "Amazon",
    }
}

/// `QuantityShipped` per item and the order's shipped / unshipped counts for `status`:
/// everything shipped for `Shipped` / `InvoiceUnconfirmed`, the first item for
/// `PartiallyShipped`, nothing otherwise.
fn set_quantities(order: &mut Value, items: &mut [Value], status: &str) {
    let (mut shipped, mut unshipped) = (0, 0);
    for (i, item) in items.iter_mut().enumerate() {
        let q = item["QuantityOrdered"].as_i64().unwrap_or(0);
        let s = match status {
            "Shipped" | "InvoiceUnconfirmed" => q,
            "PartiallyShipped" if i == 0 => q,
            _ => 0,
        };
        item["QuantityShipped"] = json!(s);
        shipped += s;
        if !matches!(status, "Canceled" | "Unfulfillable") {
            unshipped += q - s;
        }
    }
    order["NumberOfItemsShipped"] = json!(shipped);
    order["NumberOfItemsUnshipped"] = json!(unshipped);
}

/// Move an order one plausible step along its life (authorise a pending payment, ship,
/// cancel, release a pre-order), without touching `LastUpdateDate` (the caller bumps it).
/// A `Pending` order that becomes `Unshipped` gets its prices. Returns the new status, or
/// `None` when the order is final.
pub fn advance(order: &mut Value, items: &mut [Value], rng: &mut impl Rng) -> Option<String> {
    let status = order["OrderStatus"].as_str()?.to_string();
    let next = match status.as_str() {
        "PendingAvailability" => "Pending",
        "Pending" => {
            if rng.gen_bool(0.2) {
                "Canceled"
            } else {
                "Unshipped"
            }
        }
        "Unshipped" => match rng.gen_range(0..10) {
            0 => "Canceled",
            1..=2 => "PartiallyShipped",
            _ => "Shipped",
        },
        "PartiallyShipped" | "InvoiceUnconfirmed" => "Shipped",
        _ => return None,
    };
    if status == "Pending" && next == "Unshipped" && order.get("OrderTotal").is_none() {
        let currency = marketplace_currency(order["MarketplaceId"].as_str().unwrap_or(""))
            .unwrap_or("USD")
            .to_string();
        for item in items.iter_mut() {
            item["_unit"] = json!(scale(1999, &currency));
        }
        let total = price_items(rng, &currency, items);
        for item in items.iter_mut() {
            if let Some(m) = item.as_object_mut() {
                m.remove("_unit");
            }
        }
        order["OrderTotal"] = money(total, &currency);
        order["BuyerInfo"] = json!({"BuyerEmail": "buyer@marketplace.amazon.de"});
        order["ShippingAddress"] = json!({"Name": "Anna Schmidt", "AddressLine1": "Hauptstraße 12",
            "City": "Berlin", "StateOrRegion": "Berlin", "PostalCode": "10115", "CountryCode": "DE"});
    }
    if status == "PendingAvailability" {
        order["OrderType"] = json!("StandardOrder");
    }
    order["OrderStatus"] = json!(next);
    set_quantities(order, items, next);
    Some(next.to_string())
}

/// `OrderTotal` recomputed from the items by the module's model (`None` without prices).
pub fn total_of(items: &[Value]) -> Option<i64> {
    let mut total = 0;
    for item in items {
        item.get("ItemPrice")?;
        let m = |k: &str| item.get(k).map(minor_of).unwrap_or(0);
        total += m("ItemPrice") + m("ItemTax") + m("ShippingPrice") + m("ShippingTax")
            - m("PromotionDiscount")
            - m("PromotionDiscountTax")
            - m("ShippingDiscount")
            - m("ShippingDiscountTax");
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    // Generated orders add up by the module's model, in EUR, GBP and JPY alike, and the
    // mix covers every status; Pending orders carry no prices.
    #[test]
    fn generated_orders_are_consistent() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut statuses = std::collections::BTreeSet::new();
        for i in 0..600u64 {
            let mkt = ["A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"][i as usize % 3];
            let id = order_id(i, &mut rng);
            let (o, items) = order(&mut rng, &id, mkt, 1_712_000_000_000);
            let status = o["OrderStatus"].as_str().unwrap().to_string();
            match total_of(&items) {
                None => {
                    assert_eq!(status, "Pending");
                    assert!(o.get("OrderTotal").is_none());
                }
                Some(t) => {
                    assert_eq!(minor_of(&o["OrderTotal"]), t, "{o}");
                    assert_eq!(
                        o["OrderTotal"]["CurrencyCode"],
                        marketplace_currency(mkt).unwrap()
                    );
                    assert!(t > 0);
                }
            }
            if mkt == "A1VC38T7YXB528" && o.get("OrderTotal").is_some() {
                assert!(!o["OrderTotal"]["Amount"].as_str().unwrap().contains('.'));
            }
            assert!(items.iter().all(|i| i.get("_unit").is_none()));
            statuses.insert(status);
        }
        assert_eq!(statuses.len(), STATUSES.len(), "{statuses:?}");
    }

    // advance() only moves forward, prices a pending order, and ends in a final status.
    #[test]
    fn advance_terminates_in_a_final_status() {
        let mut rng = StdRng::seed_from_u64(5);
        for seed in 0..60 {
            let mut g = StdRng::seed_from_u64(seed);
            let (mut o, mut items) = order(&mut g, "302-0000001-0000001", "A1PA6795UKMFR9", 0);
            let mut steps = 0;
            while advance(&mut o, &mut items, &mut rng).is_some() {
                steps += 1;
                assert!(steps < 10, "advance must terminate");
                if o["OrderStatus"] == "Unshipped" {
                    assert_eq!(total_of(&items), Some(minor_of(&o["OrderTotal"])));
                }
            }
            let end = o["OrderStatus"].as_str().unwrap();
            assert!(
                ["Shipped", "Canceled", "Unfulfillable"].contains(&end),
                "{end}"
            );
        }
    }
}
