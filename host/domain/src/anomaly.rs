//! Anomaly rules: checks that flag an order for human review. A flagged order is stored
//! like any other; the flags say why it needs a look.

use serde::{Deserialize, Serialize};

use crate::money::is_known_currency;
use crate::Order;

/// One reason an order needs review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    /// Stable machine code, e.g. `missing_address`.
    pub code: String,
    /// Human-readable reason.
    pub reason: String,
}

impl Flag {
    fn new(code: &str, reason: String) -> Self {
        Self {
            code: code.to_string(),
            reason,
        }
    }
}

/// Run every anomaly rule over an order and return the flags it raises (empty = clean).
pub fn check(order: &Order) -> Vec<Flag> {
    let mut flags = Vec::new();
    check_address(order, &mut flags);
    check_amounts(order, &mut flags);
    check_currency(order, &mut flags);
    flags
}

fn check_address(order: &Order, flags: &mut Vec<Flag>) {
    match &order.shipping_address {
        None => flags.push(Flag::new(
            "missing_address",
            "the order has no shipping address".into(),
        )),
        Some(addr) if addr.encrypted => flags.push(Flag::new(
            "address_needs_decryption",
            "the channel returned the receiver encrypted; decrypt before shipping".into(),
        )),
        Some(addr) => {
            let missing: Vec<&str> = [
                ("name", &addr.name),
                ("country", &addr.country),
                ("city", &addr.city),
                ("street", &addr.street),
            ]
            .into_iter()
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(k, _)| k)
            .collect();
            if !missing.is_empty() {
                flags.push(Flag::new(
                    "incomplete_address",
                    format!("the shipping address lacks: {}", missing.join(", ")),
                ));
            }
        }
    }
}

fn check_amounts(order: &Order, flags: &mut Vec<Flag>) {
    if order.total_paid.minor <= 0 {
        flags.push(Flag::new(
            "non_positive_amount",
            format!("the order total is {} minor units", order.total_paid.minor),
        ));
    }
    if order.lines.is_empty() {
        flags.push(Flag::new("no_lines", "the order has no lines".into()));
        return;
    }
    let lines: i64 = order
        .lines
        .iter()
        .map(|l| l.net_minor())
        .fold(0i64, |a, b| a.saturating_add(b));
    let expected = lines
        .saturating_add(order.shipping_fee.minor)
        .saturating_sub(order.discount.minor)
        .saturating_add(order.tax.minor);
    if expected != order.total_paid.minor {
        flags.push(Flag::new(
            "total_mismatch",
            format!(
                "lines {lines} + shipping {} - discount {} + tax {} = {expected}, but the total is {}",
                order.shipping_fee.minor, order.discount.minor, order.tax.minor, order.total_paid.minor
            ),
        ));
    }
}

fn check_currency(order: &Order, flags: &mut Vec<Flag>) {
    if !is_known_currency(&order.currency) {
        flags.push(Flag::new(
            "unknown_currency",
            format!("{:?} is not an ISO 4217 currency", order.currency),
        ));
        return;
    }
    let amounts = order
        .lines
        .iter()
        .flat_map(|l| [&l.unit_price, &l.discount])
        .chain([
            &order.shipping_fee,
            &order.discount,
            &order.tax,
            &order.total_paid,
        ]);
    if let Some(other) = amounts.map(|m| &m.currency).find(|c| **c != order.currency) {
        flags.push(Flag::new(
            "mixed_currency",
            format!("amounts in {other} on an order in {}", order.currency),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Address, ChannelStatus, Line, Money};

    fn usd(minor: i64) -> Money {
        Money::new(minor, "USD")
    }

    fn clean_order() -> Order {
        Order {
            external_id: "1".into(),
            number: "#1001".into(),
            status: ChannelStatus::Paid,
            raw_status: "paid".into(),
            created_at: 1,
            updated_at: 1,
            currency: "USD".into(),
            buyer: None,
            shipping_address: Some(Address {
                name: "Ada".into(),
                phone: String::new(),
                country: "US".into(),
                province: "CA".into(),
                city: "SF".into(),
                district: String::new(),
                street: "1 Main St".into(),
                postal_code: "94105".into(),
                encrypted: false,
            }),
            lines: vec![Line {
                line_id: "l1".into(),
                sku: "SKU-1".into(),
                channel_sku: "v1".into(),
                title: "Mug".into(),
                quantity: 2,
                unit_price: usd(1000),
                discount: usd(100),
            }],
            shipping_fee: usd(500),
            discount: usd(200),
            tax: usd(0),
            total_paid: usd(2200),
            presale: None,
            tags: vec![],
        }
    }

    fn codes(o: &Order) -> Vec<String> {
        check(o).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_consistent_order_raises_no_flag() {
        assert!(check(&clean_order()).is_empty());
    }

    #[test]
    fn missing_incomplete_and_encrypted_addresses_are_flagged_differently() {
        let mut o = clean_order();
        o.shipping_address = None;
        assert_eq!(codes(&o), ["missing_address"]);
        let mut o = clean_order();
        o.shipping_address.as_mut().unwrap().street.clear();
        assert_eq!(codes(&o), ["incomplete_address"]);
        assert!(check(&o)[0].reason.contains("street"));
        let mut o = clean_order();
        o.shipping_address.as_mut().unwrap().encrypted = true;
        assert_eq!(codes(&o), ["address_needs_decryption"]);
    }

    #[test]
    fn totals_that_do_not_add_up_are_flagged() {
        let mut o = clean_order();
        o.total_paid = usd(2201);
        assert_eq!(codes(&o), ["total_mismatch"]);
        let mut o = clean_order();
        o.total_paid = usd(0);
        o.lines.clear();
        o.shipping_fee = usd(0);
        o.discount = usd(0);
        assert_eq!(codes(&o), ["non_positive_amount", "no_lines"]);
    }

    #[test]
    fn unknown_and_mixed_currencies_are_flagged() {
        let mut o = clean_order();
        o.currency = "XYZ".into();
        assert!(codes(&o).contains(&"unknown_currency".to_string()));
        let mut o = clean_order();
        o.shipping_fee = Money::new(500, "EUR");
        assert_eq!(codes(&o), ["mixed_currency"]);
    }
}
