//! The idempotency rule of `confirm-shipment` for platforms that ship whole orders: read
//! the order as the platform has it (mapped to the contract's [`Order`]) and the
//! tracking numbers it already carries, then [`decide`]:
//!
//! | the order | answer |
//! |---|---|
//! | paid | [`Decision::Send`] |
//! | shipped / completed / partially shipped, with this tracking number | [`Decision::Done`] (`ok`, nothing sent) |
//! | shipped / completed, with another tracking number or none | `permanent`, naming both |
//! | pending payment, cancelled, refunded | `invalid-input` naming the order and the platform's status |
//!
//! `line-ids` must be empty or name every line: a platform that cannot split an order
//! refuses a subset as `invalid-input` rather than ship lines the merchant kept back.
//!
//! [`confirm_once`] is the flow around it: decide on the order as read, send only when
//! needed, and when the platform refuses the send as a business error (`permanent`: the
//! order shipped or changed since it was read), read and decide once more, so a
//! concurrent shipment with the same tracking number still answers `ok`.

use crate::http::Transport;
use crate::types::{ChannelStatus, ConnectorError, Order, Shipment};

/// What to do with a shipment, given the order as the platform has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The order already shows this shipment.
    Done,
    /// Report the shipment.
    Send,
}

/// Decide for a whole-order platform (see the module doc). `shipped_with` are the
/// tracking numbers the order already carries.
pub fn decide(
    platform: &str,
    order: &Order,
    shipped_with: &[String],
    shipment: &Shipment,
) -> Result<Decision, ConnectorError> {
    let id = &order.external_id;
    let mut named: Vec<&str> = shipment.line_ids.iter().map(|s| s.trim()).collect();
    if !named.is_empty() {
        for l in &named {
            if !order.lines.iter().any(|x| x.line_id == *l) {
                return Err(ConnectorError::InvalidInput(format!(
                    "{platform} order {id} has no line {l:?}"
                )));
            }
        }
        named.sort_unstable();
        named.dedup();
        if named.len() < order.lines.len() {
            return Err(ConnectorError::InvalidInput(format!(
                "{platform} order {id}: {platform} ships whole orders only, and the shipment \
                 names {} of its {} lines",
                named.len(),
                order.lines.len()
            )));
        }
    }
    let tracking = shipment.tracking_number.trim();
    match order.status {
        ChannelStatus::Paid => Ok(Decision::Send),
        ChannelStatus::Shipped | ChannelStatus::Completed | ChannelStatus::PartiallyShipped => {
            if shipped_with.iter().any(|t| t.trim() == tracking) {
                Ok(Decision::Done)
            } else {
                Err(ConnectorError::Permanent(format!(
                    "{platform} order {id} already shipped ({}) with tracking number {}, not \
                     {tracking:?}",
                    order.raw_status,
                    match shipped_with {
                        [] => "none".to_string(),
                        some => format!("{:?}", some.join(", ")),
                    }
                )))
            }
        }
        ChannelStatus::PendingPayment | ChannelStatus::Cancelled | ChannelStatus::Refunded => {
            Err(ConnectorError::InvalidInput(format!(
                "{platform} order {id} is {} ({}): it cannot ship",
                match order.status {
                    ChannelStatus::PendingPayment => "awaiting payment",
                    ChannelStatus::Cancelled => "cancelled",
                    _ => "refunded",
                },
                order.raw_status
            )))
        }
    }
}

/// Read and decide, send when the decision is [`Decision::Send`], and after a
/// `permanent` refusal of the send read and decide again: done → `ok`, otherwise the
/// refusal. Both steps get the transport in turn.
pub fn confirm_once(
    send: Transport<'_>,
    mut read_and_decide: impl FnMut(Transport<'_>) -> Result<Decision, ConnectorError>,
    post: impl FnOnce(Transport<'_>) -> Result<(), ConnectorError>,
) -> Result<(), ConnectorError> {
    if read_and_decide(&mut *send)? == Decision::Done {
        return Ok(());
    }
    match post(&mut *send) {
        Err(ConnectorError::Permanent(why)) => match read_and_decide(send)? {
            Decision::Done => Ok(()),
            Decision::Send => Err(ConnectorError::Permanent(why)),
        },
        other => other,
    }
}

/// `invalid-input` for an empty tracking number, else the trimmed number.
pub fn tracking_number<'a>(
    platform: &str,
    shipment: &'a Shipment,
) -> Result<&'a str, ConnectorError> {
    match shipment.tracking_number.trim() {
        "" => Err(ConnectorError::InvalidInput(format!(
            "{platform} order {}: the tracking number is empty",
            shipment.external_order_id
        ))),
        t => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Line, Money};

    fn order(status: ChannelStatus, lines: &[&str]) -> Order {
        let zero = Money {
            minor: 0,
            currency: "CNY".into(),
        };
        Order {
            external_id: "O1".into(),
            number: "O1".into(),
            status,
            raw_status: "RAW".into(),
            created_at: 0,
            updated_at: 0,
            currency: "CNY".into(),
            buyer: None,
            shipping_address: None,
            lines: lines
                .iter()
                .map(|id| Line {
                    line_id: id.to_string(),
                    sku: String::new(),
                    channel_sku: String::new(),
                    title: String::new(),
                    quantity: 1,
                    unit_price: zero.clone(),
                    discount: zero.clone(),
                })
                .collect(),
            shipping_fee: zero.clone(),
            discount: zero.clone(),
            tax: zero.clone(),
            total_paid: zero,
            presale: None,
            tags: vec![],
        }
    }

    fn ship(lines: &[&str], tracking: &str) -> Shipment {
        Shipment {
            external_order_id: "O1".into(),
            line_ids: lines.iter().map(|s| s.to_string()).collect(),
            carrier: "SF".into(),
            tracking_number: tracking.into(),
            shipped_at: 0,
        }
    }

    // Each row of the module's table.
    #[test]
    fn the_table() {
        use ChannelStatus as S;
        let t = |s, with: &[&str], tracking| {
            let with: Vec<String> = with.iter().map(|s| s.to_string()).collect();
            decide("P", &order(s, &["a"]), &with, &ship(&[], tracking))
        };
        assert_eq!(t(S::Paid, &[], "T1").unwrap(), Decision::Send);
        assert_eq!(t(S::Shipped, &["T1"], "T1").unwrap(), Decision::Done);
        assert_eq!(
            t(S::Completed, &["T0", "T1"], " T1 ").unwrap(),
            Decision::Done
        );
        assert!(matches!(t(S::Shipped, &["T0"], "T1"),
            Err(ConnectorError::Permanent(m)) if m.contains("T0") && m.contains("T1") && m.contains("RAW")));
        assert!(
            matches!(t(S::Shipped, &[], "T1"), Err(ConnectorError::Permanent(m)) if m.contains("none"))
        );
        for s in [S::PendingPayment, S::Cancelled, S::Refunded] {
            assert!(
                matches!(t(s, &[], "T1"),
                Err(ConnectorError::InvalidInput(m)) if m.contains("O1") && m.contains("RAW")),
                "{s:?}"
            );
        }
    }

    // confirm_once sends only when the read says so, and after a permanent refusal reads
    // again: done is ok, still to send is the refusal; other errors pass through.
    #[test]
    fn confirm_once_rereads_after_a_refusal() {
        let mut transport =
            |_r: crate::http::Request| -> Result<crate::http::Response, ConnectorError> {
                unreachable!("the steps below do not send")
            };
        let mut run = |reads: Vec<Decision>, post: Result<(), ConnectorError>| {
            let mut reads = reads.into_iter();
            let mut posted = false;
            let r = confirm_once(
                &mut transport,
                |_| Ok(reads.next().expect("a read")),
                |_| {
                    posted = true;
                    post
                },
            );
            (r, posted)
        };
        assert!(matches!(run(vec![Decision::Done], Ok(())), (Ok(()), false)));
        assert!(matches!(run(vec![Decision::Send], Ok(())), (Ok(()), true)));
        let refused = || Err(ConnectorError::Permanent("no".into()));
        assert!(matches!(
            run(vec![Decision::Send, Decision::Done], refused()),
            (Ok(()), true)
        ));
        assert!(
            matches!(run(vec![Decision::Send, Decision::Send], refused()),
            (Err(ConnectorError::Permanent(m)), true) if m == "no")
        );
        assert!(matches!(
            run(
                vec![Decision::Send],
                Err(ConnectorError::Transient("t".into()))
            ),
            (Err(ConnectorError::Transient(_)), true)
        ));
    }

    // Line ids must name every line of the order; unknown ones are named.
    #[test]
    fn line_ids_must_cover_the_order() {
        let o = order(ChannelStatus::Paid, &["a", "b"]);
        assert_eq!(
            decide("P", &o, &[], &ship(&["b", "a"], "T")).unwrap(),
            Decision::Send
        );
        assert!(matches!(decide("P", &o, &[], &ship(&["a"], "T")),
            Err(ConnectorError::InvalidInput(m)) if m.contains("whole orders")));
        assert!(matches!(decide("P", &o, &[], &ship(&["a", "z"], "T")),
            Err(ConnectorError::InvalidInput(m)) if m.contains("\"z\"")));
        assert!(tracking_number("P", &ship(&[], "  ")).is_err());
        assert_eq!(tracking_number("P", &ship(&[], " T ")).unwrap(), "T");
    }
}
