//! Generated WIT types ↔ domain types, plus the estimate of a result's host-side size used
//! by the output bound.
//!
//! The marketplace conversions are written ONCE, in `marketplace_conversions!`, and
//! expanded per contract version ([`v0_1`], [`v0_2`]): the 0.1.0 and 0.2.0 shapes are
//! identical, so the same text type-checks against both generated modules. That is how
//! 0.1.0 results are adapted: straight into the domain types, by the same code as 0.2.0.
//! The courier ([`shipping`]) and accounting ([`ledger`]) conversions exist from 0.2.0.

pub(crate) mod ledger;
pub(crate) mod shipping;

// --- output size estimate: string bytes plus a fixed cost per value -------------------

/// Fixed host-side cost of a `String` / `Vec` header and of small scalar fields.
pub(crate) const SLOT: usize = 24;

pub(crate) fn s(x: &str) -> usize {
    SLOT + x.len()
}

pub(crate) fn os(x: &Option<String>) -> usize {
    SLOT + x.as_ref().map_or(0, |v| v.len())
}

/// The marketplace conversions of one contract version. Expand inside a module that has
/// `wit` (that version's `types` module) and `Level` (its `log.level` enum) in scope.
macro_rules! marketplace_conversions {
    () => {
        use super::{os, s, SLOT};
        use wharf_domain::connector::{
            ConnectorError, ConnectorInfo, LogLevel, Page, StockLevel, StockPushResult,
            WebhookEvent,
        };
        use wharf_domain::{
            Address, Buyer, ChannelStatus, Line, Money, Order, Presale, PresaleStage,
        };

        pub(crate) fn log_level(l: Level) -> LogLevel {
            match l {
                Level::Trace => LogLevel::Trace,
                Level::Debug => LogLevel::Debug,
                Level::Info => LogLevel::Info,
                Level::Warn => LogLevel::Warn,
                Level::Error => LogLevel::Error,
            }
        }

        pub(crate) fn headers(h: Vec<(String, String)>) -> Vec<wit::Header> {
            h.into_iter()
                .map(|(name, value)| wit::Header { name, value })
                .collect()
        }

        pub(crate) fn error(e: wit::ConnectorError) -> ConnectorError {
            match e {
                wit::ConnectorError::Unauthorized(m) => ConnectorError::Unauthorized(m),
                wit::ConnectorError::InvalidSignature(m) => ConnectorError::InvalidSignature(m),
                wit::ConnectorError::RateLimited(ms) => ConnectorError::RateLimited(ms),
                wit::ConnectorError::Transient(m) => ConnectorError::Transient(m),
                wit::ConnectorError::InvalidInput(m) => ConnectorError::InvalidInput(m),
                wit::ConnectorError::Unsupported => ConnectorError::Unsupported,
                wit::ConnectorError::Permanent(m) => ConnectorError::Permanent(m),
            }
        }

        pub(crate) fn info(i: wit::ConnectorInfo) -> ConnectorInfo {
            ConnectorInfo {
                platform: i.platform,
                display_name: i.display_name,
                capabilities: i.capabilities,
            }
        }

        pub(crate) fn page(p: wit::Page) -> Page {
            Page {
                orders: p.orders.into_iter().map(order).collect(),
                cursor: p.cursor,
                more: p.more,
            }
        }

        pub(crate) fn stock_level(l: &StockLevel) -> wit::StockLevel {
            wit::StockLevel {
                sku: l.sku.clone(),
                channel_sku: l.channel_sku.clone(),
                available: l.available,
            }
        }

        pub(crate) fn shipment(x: &wharf_domain::connector::Shipment) -> wit::Shipment {
            wit::Shipment {
                external_order_id: x.external_order_id.clone(),
                line_ids: x.line_ids.clone(),
                carrier: x.carrier.clone(),
                tracking_number: x.tracking_number.clone(),
                shipped_at: x.shipped_at,
            }
        }

        pub(crate) fn stock_push_result(r: wit::StockPushResult) -> StockPushResult {
            StockPushResult {
                sku: r.sku,
                ok: r.ok,
                message: r.message,
            }
        }

        pub(crate) fn webhook_event(e: wit::WebhookEvent) -> WebhookEvent {
            WebhookEvent {
                delivery_id: e.delivery_id,
                topic: e.topic,
                orders: e.orders.into_iter().map(order).collect(),
            }
        }

        pub(crate) fn money(m: wit::Money) -> Money {
            Money {
                minor: m.minor,
                currency: m.currency,
            }
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

        pub(crate) fn address(a: wit::Address) -> Address {
            Address {
                name: a.name,
                phone: a.phone,
                country: a.country,
                province: a.province,
                city: a.city,
                district: a.district,
                street: a.street,
                postal_code: a.postal_code,
                encrypted: a.encrypted,
            }
        }

        fn buyer(b: wit::Buyer) -> Buyer {
            Buyer {
                id: b.id,
                name: b.name,
                email: b.email,
                phone: b.phone,
            }
        }

        fn line(l: wit::Line) -> Line {
            Line {
                line_id: l.line_id,
                sku: l.sku,
                channel_sku: l.channel_sku,
                title: l.title,
                quantity: l.quantity,
                unit_price: money(l.unit_price),
                discount: money(l.discount),
            }
        }

        fn presale(p: wit::Presale) -> Presale {
            Presale {
                stage: match p.stage {
                    wit::PresaleStage::DepositPending => PresaleStage::DepositPending,
                    wit::PresaleStage::DepositPaid => PresaleStage::DepositPaid,
                    wit::PresaleStage::BalancePaid => PresaleStage::BalancePaid,
                },
                deposit: p.deposit.map(money),
                balance: p.balance.map(money),
                ship_by: p.ship_by,
            }
        }

        pub(crate) fn order(o: wit::Order) -> Order {
            Order {
                external_id: o.external_id,
                number: o.number,
                status: status(o.status),
                raw_status: o.raw_status,
                created_at: o.created_at,
                updated_at: o.updated_at,
                currency: o.currency,
                buyer: o.buyer.map(buyer),
                shipping_address: o.shipping_address.map(address),
                lines: o.lines.into_iter().map(line).collect(),
                shipping_fee: money(o.shipping_fee),
                discount: money(o.discount),
                tax: money(o.tax),
                total_paid: money(o.total_paid),
                presale: o.presale.map(presale),
                tags: o.tags,
            }
        }

        pub(crate) fn settlement_page(
            p: wit::SettlementPage,
        ) -> wharf_domain::settlement::SettlementPage {
            use wharf_domain::settlement::{
                Payout, SettlementKind, SettlementLine, SettlementPage,
            };
            SettlementPage {
                lines: p
                    .lines
                    .into_iter()
                    .map(|l| SettlementLine {
                        line_id: l.line_id,
                        order_external_id: l.order_external_id,
                        kind: match l.kind {
                            wit::SettlementKind::Sale => SettlementKind::Sale,
                            wit::SettlementKind::Refund => SettlementKind::Refund,
                            wit::SettlementKind::Commission => SettlementKind::Commission,
                            wit::SettlementKind::PlatformDiscount => {
                                SettlementKind::PlatformDiscount
                            }
                            wit::SettlementKind::ShippingSubsidy => SettlementKind::ShippingSubsidy,
                            wit::SettlementKind::Adjustment => SettlementKind::Adjustment,
                        },
                        gross: money(l.gross),
                        fee: money(l.fee),
                        net: money(l.net),
                        settled_at: l.settled_at,
                        payout_id: l.payout_id,
                    })
                    .collect(),
                payouts: p
                    .payouts
                    .into_iter()
                    .map(|o| Payout {
                        payout_id: o.payout_id,
                        amount: money(o.amount),
                        paid_at: o.paid_at,
                        status: o.status,
                    })
                    .collect(),
                cursor: p.cursor,
                more: p.more,
            }
        }

        /// Estimated host memory of a settlement page, in bytes.
        pub(crate) fn settlement_page_bytes(p: &wit::SettlementPage) -> usize {
            let lines: usize = p
                .lines
                .iter()
                .map(|l| {
                    s(&l.line_id)
                        + os(&l.order_external_id)
                        + 8
                        + m(&l.gross)
                        + m(&l.fee)
                        + m(&l.net)
                        + 8
                        + os(&l.payout_id)
                })
                .sum();
            let payouts: usize = p
                .payouts
                .iter()
                .map(|o| s(&o.payout_id) + m(&o.amount) + 8 + s(&o.status))
                .sum();
            SLOT * 2 + lines + payouts + os(&p.cursor) + 8
        }

        // --- output size estimate --------------------------------------------------------

        pub(crate) fn m(x: &wit::Money) -> usize {
            8 + s(&x.currency)
        }

        /// Estimated host memory of one order, in bytes.
        pub(crate) fn order_bytes(o: &wit::Order) -> usize {
            let lines: usize = o
                .lines
                .iter()
                .map(|l| {
                    s(&l.line_id)
                        + s(&l.sku)
                        + s(&l.channel_sku)
                        + s(&l.title)
                        + 8
                        + m(&l.unit_price)
                        + m(&l.discount)
                })
                .sum();
            let buyer = o
                .buyer
                .as_ref()
                .map_or(0, |b| os(&b.id) + s(&b.name) + os(&b.email) + os(&b.phone));
            let address = o.shipping_address.as_ref().map_or(0, |a| {
                s(&a.name)
                    + s(&a.phone)
                    + s(&a.country)
                    + s(&a.province)
                    + s(&a.city)
                    + s(&a.district)
                    + s(&a.street)
                    + s(&a.postal_code)
                    + 8
            });
            let presale = o.presale.as_ref().map_or(0, |p| {
                16 + p.deposit.as_ref().map_or(0, m) + p.balance.as_ref().map_or(0, m)
            });
            let tags: usize = o.tags.iter().map(|t| s(t)).sum();
            64 + s(&o.external_id)
                + s(&o.number)
                + s(&o.raw_status)
                + s(&o.currency)
                + SLOT
                + lines
                + buyer
                + address
                + m(&o.shipping_fee)
                + m(&o.discount)
                + m(&o.tax)
                + m(&o.total_paid)
                + presale
                + SLOT
                + tags
        }

        /// Check a list of orders (plus `extra` bytes of other fields) against the output bounds.
        pub(crate) fn check_output(
            orders: &[wit::Order],
            extra: usize,
            max_orders: usize,
            max_bytes: usize,
        ) -> Result<(), ConnectorError> {
            if orders.len() > max_orders {
                return Err(ConnectorError::OutputTooLarge(format!(
                    "{} orders in one call, over the limit of {max_orders}",
                    orders.len()
                )));
            }
            let bytes = orders.iter().map(order_bytes).sum::<usize>() + extra;
            if bytes > max_bytes {
                return Err(ConnectorError::OutputTooLarge(format!(
                    "about {bytes} bytes of output, over the limit of {max_bytes}"
                )));
            }
            Ok(())
        }
    };
}

/// Conversions of the frozen `wharf:connector@0.1.0` types.
pub(crate) mod v0_1 {
    use crate::bindings::v0_1::wharf::connector::log::Level;
    use crate::bindings::v0_1::wit;

    marketplace_conversions!();
}

/// Conversions of the `wharf:connector@0.2.0` types (shared by all three worlds).
pub(crate) mod v0_2 {
    use crate::bindings::v0_2::wharf::connector::log::Level;
    use crate::bindings::v0_2::wit;

    marketplace_conversions!();
}

/// The same conversions over the guest SDK's types (the plugin's own code compiled
/// natively, see [`crate::native`]): the SDK is generated from the 0.2.0 contract too.
#[cfg(feature = "native-plugins")]
#[allow(dead_code)]
pub(crate) mod sdk {
    use wharf_sdk::bindings::wharf::connector::log::Level;
    use wharf_sdk::types as wit;

    marketplace_conversions!();
}

#[cfg(test)]
mod tests {
    use super::v0_1;
    use super::v0_2::*;
    use crate::bindings::v0_2::wit;
    use wharf_domain::connector::ConnectorError;
    use wharf_domain::{ChannelStatus, Money, PresaleStage};

    fn usd(minor: i64) -> wit::Money {
        wit::Money {
            minor,
            currency: "USD".into(),
        }
    }

    fn wit_order(title: &str) -> wit::Order {
        wit::Order {
            external_id: "1".into(),
            number: "#1".into(),
            status: wit::ChannelStatus::PartiallyShipped,
            raw_status: "partial".into(),
            created_at: 1,
            updated_at: 2,
            currency: "USD".into(),
            buyer: Some(wit::Buyer {
                id: None,
                name: "Ann".into(),
                email: Some("a@x.io".into()),
                phone: None,
            }),
            shipping_address: None,
            lines: vec![wit::Line {
                line_id: "L".into(),
                sku: "S".into(),
                channel_sku: "C".into(),
                title: title.into(),
                quantity: 3,
                unit_price: usd(100),
                discount: usd(10),
            }],
            shipping_fee: usd(5),
            discount: usd(0),
            tax: usd(0),
            total_paid: usd(295),
            presale: Some(wit::Presale {
                stage: wit::PresaleStage::DepositPaid,
                deposit: Some(usd(50)),
                balance: None,
                ship_by: Some(9),
            }),
            tags: vec!["t".into()],
        }
    }

    // Every field survives the WIT → domain conversion.
    #[test]
    fn order_converts_field_by_field() {
        let o = order(wit_order("Widget"));
        assert_eq!(o.status, ChannelStatus::PartiallyShipped);
        assert_eq!(o.lines[0].quantity, 3);
        assert_eq!(o.lines[0].net_minor(), 290);
        assert_eq!(o.total_paid, Money::new(295, "USD"));
        assert_eq!(o.buyer.unwrap().email.as_deref(), Some("a@x.io"));
        let p = o.presale.unwrap();
        assert_eq!(
            (p.stage, p.deposit, p.ship_by),
            (
                PresaleStage::DepositPaid,
                Some(Money::new(50, "USD")),
                Some(9)
            )
        );
        assert_eq!(o.tags, vec!["t"]);
    }

    // Plugin-reported errors keep their kind and detail.
    #[test]
    fn errors_keep_their_kind() {
        assert_eq!(
            error(wit::ConnectorError::RateLimited(1500)),
            ConnectorError::RateLimited(1500)
        );
        assert_eq!(
            error(wit::ConnectorError::Unsupported),
            ConnectorError::Unsupported
        );
        assert_eq!(
            error(wit::ConnectorError::InvalidSignature("bad".into())),
            ConnectorError::InvalidSignature("bad".into())
        );
    }

    /// The conversion text expanded for 0.1.0 adapts old-contract values the same way.
    #[test]
    fn legacy_values_convert_like_current_ones() {
        use crate::bindings::v0_1::wit as old;
        assert_eq!(
            v0_1::error(old::ConnectorError::RateLimited(1500)),
            error(wit::ConnectorError::RateLimited(1500))
        );
        let money = v0_1::money(old::Money {
            minor: 7,
            currency: "CNY".into(),
        });
        assert_eq!(money, Money::new(7, "CNY"));
    }

    // The output bound refuses too many orders and too many bytes, and passes the rest.
    #[test]
    fn output_bounds_count_orders_and_bytes() {
        let orders = vec![wit_order("a"); 3];
        assert!(check_output(&orders, 0, 3, 1 << 20).is_ok());
        assert!(matches!(
            check_output(&orders, 0, 2, 1 << 20),
            Err(ConnectorError::OutputTooLarge(_))
        ));
        let big = vec![wit_order(&"x".repeat(10_000))];
        assert!(order_bytes(&big[0]) > 10_000);
        assert!(matches!(
            check_output(&big, 0, 10, 5_000),
            Err(ConnectorError::OutputTooLarge(_))
        ));
    }

    /// A settlement page converts line by line (kind, amounts, ids) and payout by payout.
    #[test]
    fn settlement_page_converts() {
        use wharf_domain::settlement::SettlementKind;
        let page = wit::SettlementPage {
            lines: vec![wit::SettlementLine {
                line_id: "L1".into(),
                order_external_id: Some("O1".into()),
                kind: wit::SettlementKind::PlatformDiscount,
                gross: usd(100),
                fee: usd(3),
                net: usd(97),
                settled_at: 42,
                payout_id: Some("P1".into()),
            }],
            payouts: vec![wit::Payout {
                payout_id: "P1".into(),
                amount: usd(97),
                paid_at: 43,
                status: "paid".into(),
            }],
            cursor: Some("next".into()),
            more: true,
        };
        assert!(settlement_page_bytes(&page) > 0);
        let p = settlement_page(page);
        let l = &p.lines[0];
        assert_eq!(l.kind, SettlementKind::PlatformDiscount);
        assert_eq!((l.gross.minor, l.fee.minor, l.net.minor), (100, 3, 97));
        assert_eq!(l.order_external_id.as_deref(), Some("O1"));
        assert_eq!(l.payout_id.as_deref(), Some("P1"));
        assert_eq!(p.payouts[0].amount, Money::new(97, "USD"));
        assert_eq!((p.cursor.as_deref(), p.more), (Some("next"), true));
    }
}
