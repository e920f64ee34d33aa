//! The mapping over the simulator's generated orders satisfies the host's anomaly rules:
//! amounts balance exactly in EUR, GBP and JPY; only orders without prices (`Pending`)
//! or without a (complete) address are flagged, and for those reasons only.

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::SeedableRng;
use wharf_domain::anomaly;
use wharf_domain::money::{minor_digits, parse_decimal};
use wharf_domain::{Address, Buyer, ChannelStatus, Line, Money, Order, Presale, PresaleStage};
use wharf_plugin_amazon::mapping::order_from_json;
use wharf_sdk::types as wit;
use wharf_sim::amazon::generate;

fn money(m: &wit::Money) -> Money {
    Money::new(m.minor, m.currency.clone())
}

fn status(s: wit::ChannelStatus) -> ChannelStatus {
    match s {
        wit::ChannelStatus::PendingPayment => ChannelStatus::PendingPayment,
        wit::ChannelStatus::Paid => ChannelStatus::Paid,
        wit::ChannelStatus::PartiallyShipped => ChannelStatus::PartiallyShipped,
        wit::ChannelStatus::Shipped => ChannelStatus::Shipped,
        wit::ChannelStatus::Completed => ChannelStatus::Completed,
        wit::ChannelStatus::Cancelled => ChannelStatus::Cancelled,
        wit::ChannelStatus::Refunded => ChannelStatus::Refunded,
    }
}

/// The contract's order → the host's domain order (what the runtime does).
fn to_domain(o: &wit::Order) -> Order {
    Order {
        external_id: o.external_id.clone(),
        number: o.number.clone(),
        status: status(o.status),
        raw_status: o.raw_status.clone(),
        created_at: o.created_at,
        updated_at: o.updated_at,
        currency: o.currency.clone(),
        buyer: o.buyer.as_ref().map(|b| Buyer {
            id: b.id.clone(),
            name: b.name.clone(),
            email: b.email.clone(),
            phone: b.phone.clone(),
        }),
        shipping_address: o.shipping_address.as_ref().map(|a| Address {
            name: a.name.clone(),
            phone: a.phone.clone(),
            country: a.country.clone(),
            province: a.province.clone(),
            city: a.city.clone(),
            district: a.district.clone(),
            street: a.street.clone(),
            postal_code: a.postal_code.clone(),
            encrypted: a.encrypted,
        }),
        lines: o
            .lines
            .iter()
            .map(|l| Line {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                channel_sku: l.channel_sku.clone(),
                title: l.title.clone(),
                quantity: l.quantity,
                unit_price: money(&l.unit_price),
                discount: money(&l.discount),
            })
            .collect(),
        shipping_fee: money(&o.shipping_fee),
        discount: money(&o.discount),
        tax: money(&o.tax),
        total_paid: money(&o.total_paid),
        presale: o.presale.as_ref().map(|p| Presale {
            stage: match p.stage {
                wit::PresaleStage::DepositPending => PresaleStage::DepositPending,
                wit::PresaleStage::DepositPaid => PresaleStage::DepositPaid,
                wit::PresaleStage::BalancePaid => PresaleStage::BalancePaid,
            },
            deposit: p.deposit.as_ref().map(money),
            balance: p.balance.as_ref().map(money),
            ship_by: p.ship_by,
        }),
        tags: o.tags.clone(),
    }
}

// 1200 generated orders over three currencies map without error; totals are exact minor
// units of OrderTotal; the only flags are non_positive_amount for unpriced Pending
// orders and missing/incomplete_address for orders Amazon sent without (full) PII.
#[test]
fn generated_orders_pass_the_anomaly_check() {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut statuses = BTreeSet::new();
    let mut currencies = BTreeSet::new();
    let mut flagged_address = 0;
    for i in 0..1200u64 {
        let market = ["A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"][i as usize % 3];
        let id = generate::order_id(i, &mut rng);
        let (json, items) =
            generate::order(&mut rng, &id, market, 1_712_000_000_000 + i as i64 * 1000);
        let mapped = order_from_json(&json, &items).unwrap_or_else(|e| panic!("{e:?}\n{json}"));
        let order = to_domain(&mapped);
        let codes: BTreeSet<String> = anomaly::check(&order).into_iter().map(|f| f.code).collect();
        let raw = json["OrderStatus"].as_str().unwrap();
        let mut expected = BTreeSet::new();
        match json.get("OrderTotal") {
            Some(t) => {
                let digits = minor_digits(t["CurrencyCode"].as_str().unwrap()).unwrap();
                assert_eq!(
                    order.total_paid.minor,
                    parse_decimal(t["Amount"].as_str().unwrap(), digits).unwrap()
                );
            }
            None => {
                assert_eq!(raw, "Pending");
                assert_eq!(order.total_paid.minor, 0);
                expected.insert("non_positive_amount".to_string());
            }
        }
        match json.get("ShippingAddress") {
            None => {
                expected.insert("missing_address".to_string());
            }
            Some(a) if a.get("Name").is_none() => {
                expected.insert("incomplete_address".to_string());
            }
            Some(_) => {}
        }
        if expected.iter().any(|c| c.ends_with("address")) {
            flagged_address += 1;
        }
        assert_eq!(
            codes,
            expected,
            "order {i}: {:?}\n{json}",
            anomaly::check(&order)
        );
        assert_eq!(order.presale.is_some(), raw == "PendingAvailability");
        statuses.insert(raw.to_string());
        currencies.insert(order.currency.clone());
    }
    assert!(
        flagged_address > 0,
        "the generator produces address-less orders"
    );
    assert_eq!(statuses.len(), generate::STATUSES.len(), "{statuses:?}");
    assert_eq!(
        currencies.into_iter().collect::<Vec<_>>(),
        ["EUR", "GBP", "JPY"]
    );
}
