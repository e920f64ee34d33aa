//! The mapping over the simulator's generated orders satisfies the host's anomaly rules:
//! amounts balance in every status (presale included), encrypted receivers are flagged
//! for decryption, and only virtual orders lack an address.

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::SeedableRng;
use wharf_domain::anomaly;
use wharf_domain::{Address, Buyer, ChannelStatus, Line, Money, Order, Presale, PresaleStage};
use wharf_plugin_douyin::mapping::order_from_json;
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

fn tag(o: &Order, key: &str) -> i64 {
    o.tags
        .iter()
        .find_map(|t| t.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("tag {key} missing: {:?}", o.tags))
        .parse()
        .unwrap()
}

// 1000 generated orders map without error and raise no amount/currency flag; physical
// orders are flagged address_needs_decryption, virtual ones missing_address. Totals are
// the exact fen sent, the discount split in the tags adds up to promotion_amount, and
// every status and presale type appears.
#[test]
fn generated_orders_pass_the_anomaly_check() {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut statuses = BTreeSet::new();
    let mut presale_types = BTreeSet::new();
    let (mut virtual_orders, mut presales) = (0, 0);
    for i in 0..1000u64 {
        let json = wharf_sim::douyin::generate::order(
            &mut rng,
            6_919_000_000_000_000_000 + i * 10,
            1_712_000_000_000 + i as i64 * 1000,
            4_463_798,
        );
        let mapped = order_from_json(&json).unwrap_or_else(|e| panic!("{e:?}\n{json}"));
        let order = to_domain(&mapped);
        let codes: Vec<String> = anomaly::check(&order).into_iter().map(|f| f.code).collect();
        let physical = json.get("post_addr").is_some();
        let expected = if physical {
            ["address_needs_decryption"]
        } else {
            ["missing_address"]
        };
        assert_eq!(
            codes,
            expected,
            "order {i}: {:?}\n{json}",
            anomaly::check(&order)
        );
        assert_eq!(order.total_paid.minor, json["pay_amount"].as_i64().unwrap());
        assert_eq!(
            order.shipping_fee.minor,
            json["post_amount"].as_i64().unwrap()
        );
        assert_eq!(order.currency, "CNY");
        assert_eq!(
            tag(&order, "discount.shop")
                + tag(&order, "discount.platform")
                + tag(&order, "discount.influencer"),
            json["promotion_amount"].as_i64().unwrap()
        );
        assert_eq!(
            tag(&order, "platform_cost"),
            json["platform_cost_amount"].as_i64().unwrap()
        );
        assert_eq!(
            tag(&order, "reduce_stock_type"),
            json["reduce_stock_type"].as_i64().unwrap()
        );
        let pst = json["pre_sale_type"].as_i64().unwrap();
        assert_eq!(tag(&order, "pre_sale_type"), pst);
        presale_types.insert(pst);
        if pst > 0 {
            presales += 1;
            let p = order
                .presale
                .as_ref()
                .expect("presale orders carry a presale record");
            assert_eq!(
                p.ship_by,
                Some(json["exp_ship_time"].as_i64().unwrap() * 1000)
            );
        }
        virtual_orders += usize::from(!physical);
        statuses.insert(order.status.as_str());
    }
    assert!(virtual_orders > 0, "the generator produces virtual orders");
    assert!(presales > 0);
    assert_eq!(presale_types.len(), 3, "{presale_types:?}");
    for s in [
        "pending_payment",
        "paid",
        "partially_shipped",
        "shipped",
        "completed",
        "cancelled",
        "refunded",
    ] {
        assert!(statuses.contains(s), "the generator covers status {s}");
    }
}
