//! The mapping over the simulator's generated orders, as the API writes them (amounts as
//! JSON numbers, receivers encrypted while awaiting shipment), satisfies the host's anomaly
//! rules: amounts balance exactly (goods − discount + postage = pay_amount) and only the
//! encrypted orders are flagged, as address_needs_decryption.

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::SeedableRng;
use wharf_domain::anomaly;
use wharf_domain::money::parse_decimal;
use wharf_domain::{Address, ChannelStatus, Line, Money, Order, Presale, PresaleStage};
use wharf_plugin_pinduoduo::mapping::order_from_str;
use wharf_sdk::types as wit;
use wharf_sim::pinduoduo::{generate, present, render, AmountStyle};

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
        buyer: None,
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

fn fen(v: &serde_json::Value) -> i64 {
    parse_decimal(v.as_str().unwrap(), 2).unwrap()
}

// 1000 generated orders map without error, with exact amounts, raise no amount flag, and
// only the ones awaiting shipment (encrypted receivers) are flagged address_needs_decryption.
#[test]
fn generated_orders_pass_the_anomaly_check() {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut statuses = BTreeSet::new();
    let (mut encrypted, mut presales, mut discounted, mut with_postage) = (0, 0, 0, 0);
    for i in 0..1000u64 {
        let stored = generate::order(
            &mut rng,
            &format!("240401-{}", 100_000_000_000_000 + i),
            1_712_000_000_000 + i as i64 * 1000,
        );
        let text = render(&present(stored.clone(), true), AmountStyle::Numbers);
        let mapped = order_from_str(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let order = to_domain(&mapped);
        assert_eq!(order.total_paid.minor, fen(&stored["pay_amount"]));
        assert_eq!(order.discount.minor, fen(&stored["discount_amount"]));
        assert_eq!(order.shipping_fee.minor, fen(&stored["postage"]));
        let codes: Vec<String> = anomaly::check(&order).into_iter().map(|f| f.code).collect();
        let awaiting = stored["order_status"] == 1;
        let expected: Vec<&str> = if awaiting {
            vec!["address_needs_decryption"]
        } else {
            vec![]
        };
        assert_eq!(
            codes,
            expected,
            "order {i}: {:?}\n{text}",
            anomaly::check(&order)
        );
        let address = order.shipping_address.as_ref().unwrap();
        assert_eq!(address.encrypted, awaiting);
        if awaiting {
            assert_ne!(address.name, stored["receiver_name"].as_str().unwrap());
        }
        if let Some(p) = &order.presale {
            assert!(
                p.ship_by.unwrap() > order.created_at,
                "ship-by after creation"
            );
            presales += 1;
        }
        encrypted += usize::from(awaiting);
        discounted += usize::from(order.discount.minor > 0);
        with_postage += usize::from(order.shipping_fee.minor > 0);
        statuses.insert(order.status.as_str());
    }
    assert!(
        encrypted > 0 && encrypted < 1000,
        "both kinds of receivers: {encrypted}"
    );
    assert!(presales > 0 && discounted > 0 && with_postage > 0);
    for s in [
        "pending_payment",
        "paid",
        "shipped",
        "completed",
        "cancelled",
        "refunded",
    ] {
        assert!(
            statuses.contains(s),
            "the generator covers status {s}: {statuses:?}"
        );
    }
}
