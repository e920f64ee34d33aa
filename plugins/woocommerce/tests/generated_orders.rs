//! The mapping over the simulator's generated orders satisfies the host's anomaly rules:
//! amounts balance in every status, and only genuinely address-less (virtual goods)
//! orders are flagged.

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::SeedableRng;
use wharf_domain::anomaly;
use wharf_domain::money::parse_decimal;
use wharf_domain::{Address, Buyer, ChannelStatus, Line, Money, Order, Presale, PresaleStage};
use wharf_plugin_woocommerce::mapping::order_from_str;
use wharf_sdk::types as wit;

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

fn cents(v: &serde_json::Value) -> i64 {
    parse_decimal(v.as_str().unwrap(), 2).unwrap()
}

// 1000 generated orders map without error and raise no amount/currency flag; only the
// virtual ones (empty shipping) are flagged, as missing_address. Totals are exact cents,
// whatever the float `price` says.
#[test]
fn generated_orders_pass_the_anomaly_check() {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut statuses = BTreeSet::new();
    let mut virtual_orders = 0;
    for i in 0..1000u64 {
        let json = wharf_sim::woocommerce::generate::order(
            &mut rng,
            5000 + i,
            1_712_000_000_000 + i as i64 * 1000,
            "USD",
            120,
        );
        let mapped = order_from_str(&json.to_string()).unwrap_or_else(|e| panic!("{e:?}\n{json}"));
        let order = to_domain(&mapped);
        let codes: Vec<String> = anomaly::check(&order).into_iter().map(|f| f.code).collect();
        let has_address = json["shipping"]["address_1"] != "";
        let expected: Vec<&str> = if has_address {
            vec![]
        } else {
            vec!["missing_address"]
        };
        assert_eq!(
            codes,
            expected,
            "order {i}: {:?}\n{json}",
            anomaly::check(&order)
        );
        assert_eq!(order.total_paid.minor, cents(&json["total"]));
        assert_eq!(order.tax.minor, cents(&json["total_tax"]));
        assert_eq!(order.currency, "USD");
        virtual_orders += usize::from(!has_address);
        statuses.insert(order.status.as_str());
    }
    assert!(virtual_orders > 0, "the generator produces virtual orders");
    for s in [
        "pending_payment",
        "paid",
        "completed",
        "cancelled",
        "refunded",
    ] {
        assert!(statuses.contains(s), "the generator covers status {s}");
    }
}
