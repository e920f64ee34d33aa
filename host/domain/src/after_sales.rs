//! After-sales tickets: a refund or return request from a channel, worked by customer
//! service. Pure rules: the ticket life cycle ([`ACTIONS`], one table like fulfillment's)
//! and what an order's channel status and tags say about its after-sales requests
//! ([`signals`]).
//!
//! Tag convention (documented in `docs/wit.md`): plugins put `after-sales:refund-requested`,
//! `after-sales:return-requested`, `after-sales:refunded` or `after-sales:closed` in the
//! order's `tags` when the platform reports such a request.

use serde::{Deserialize, Serialize};

use crate::ChannelStatus;

pub const TAG_REFUND_REQUESTED: &str = "after-sales:refund-requested";
pub const TAG_RETURN_REQUESTED: &str = "after-sales:return-requested";
pub const TAG_REFUNDED: &str = "after-sales:refunded";
pub const TAG_CLOSED: &str = "after-sales:closed";

/// The queue new tickets land in.
pub const DEFAULT_QUEUE: &str = "customer_service";

/// What the buyer asks for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    Refund,
    Return,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refund => "refund",
            Self::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "refund" => Ok(Self::Refund),
            "return" => Ok(Self::Return),
            other => Err(format!("unknown ticket kind {other:?}; refund or return")),
        }
    }
}

/// A ticket's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Open,
    InProgress,
    Resolved,
    Rejected,
    /// The channel closed the request (the buyer withdrew it, or the platform ended it).
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] = [
        Self::Open,
        Self::InProgress,
        Self::Resolved,
        Self::Rejected,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Rejected => "rejected",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown ticket status {s:?}; open, in_progress, resolved, rejected or closed"
                )
            })
    }

    /// Still being worked (at most one live ticket per order and kind).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Open | Self::InProgress)
    }
}

/// What someone does to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketAction {
    Assign,
    Start,
    Resolve,
    Reject,
    /// The channel closed the request.
    ChannelClose,
}

impl TicketAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assign => "assign",
            Self::Start => "start",
            Self::Resolve => "resolve",
            Self::Reject => "reject",
            Self::ChannelClose => "close",
        }
    }
}

use TicketStatus as T;

/// THE ticket table: (action, from statuses, resulting status). `None` as the result
/// keeps the status (assigning does not start the work).
pub const ACTIONS: &[(TicketAction, &[TicketStatus], Option<TicketStatus>)] = &[
    (TicketAction::Assign, &[T::Open, T::InProgress], None),
    (TicketAction::Start, &[T::Open], Some(T::InProgress)),
    (
        TicketAction::Resolve,
        &[T::Open, T::InProgress],
        Some(T::Resolved),
    ),
    (
        TicketAction::Reject,
        &[T::Open, T::InProgress],
        Some(T::Rejected),
    ),
    (
        TicketAction::ChannelClose,
        &[T::Open, T::InProgress],
        Some(T::Closed),
    ),
];

/// The status `action` moves a ticket in `from` to, or why it cannot.
pub fn act(from: TicketStatus, action: TicketAction) -> Result<TicketStatus, String> {
    let (_, froms, to) = ACTIONS
        .iter()
        .find(|(a, _, _)| *a == action)
        .ok_or_else(|| format!("unknown ticket action {}", action.as_str()))?;
    if froms.contains(&from) {
        return Ok(to.unwrap_or(from));
    }
    let allowed: Vec<&str> = froms.iter().map(|s| s.as_str()).collect();
    Err(format!(
        "cannot {} a ticket that is {}; only one that is {}",
        action.as_str(),
        from.as_str(),
        allowed.join(" or ")
    ))
}

/// What an order currently says about after-sales, per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signals {
    pub refund_requested: bool,
    pub return_requested: bool,
    /// The channel refunded the order (status `refunded` after payment, or the tag).
    pub refunded: bool,
    /// The channel closed the request(s).
    pub closed: bool,
}

/// Read the signals from an order's channel status and tags. `was_paid` says whether the
/// order had been paid (a refund of an unpaid order is a cancellation, not after-sales).
pub fn signals(status: ChannelStatus, tags: &[String], was_paid: bool) -> Signals {
    let has = |t: &str| tags.iter().any(|x| x.trim().eq_ignore_ascii_case(t));
    Signals {
        refund_requested: has(TAG_REFUND_REQUESTED),
        return_requested: has(TAG_RETURN_REQUESTED),
        refunded: has(TAG_REFUNDED) || (status == ChannelStatus::Refunded && was_paid),
        closed: has(TAG_CLOSED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The table: open → in_progress → resolved | rejected; the channel can close a live
    // ticket; assigning keeps the status; final tickets take no action.
    #[test]
    fn ticket_table() {
        use TicketAction::*;
        assert_eq!(act(T::Open, Start), Ok(T::InProgress));
        assert_eq!(act(T::Open, Assign), Ok(T::Open));
        assert_eq!(act(T::InProgress, Assign), Ok(T::InProgress));
        assert_eq!(act(T::InProgress, Resolve), Ok(T::Resolved));
        assert_eq!(act(T::Open, Reject), Ok(T::Rejected));
        assert_eq!(act(T::InProgress, ChannelClose), Ok(T::Closed));
        for done in [T::Resolved, T::Rejected, T::Closed] {
            for a in [Assign, Start, Resolve, Reject, ChannelClose] {
                let err = act(done, a).unwrap_err();
                assert!(err.contains(done.as_str()), "{err}");
            }
            assert!(!done.is_live());
        }
        assert!(act(T::InProgress, Start)
            .unwrap_err()
            .contains("only one that is open"));
    }

    // Status names round-trip.
    #[test]
    fn names_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Ok(s));
        }
        assert!(TicketStatus::parse("lost").is_err());
        assert_eq!(TicketKind::parse("return"), Ok(TicketKind::Return));
    }

    // Tags and status become signals; a refunded status counts only after payment.
    #[test]
    fn signals_from_status_and_tags() {
        let tags = vec![
            "vip".to_string(),
            "after-sales:return-requested".to_string(),
        ];
        let s = signals(ChannelStatus::Shipped, &tags, true);
        assert!(s.return_requested && !s.refund_requested && !s.refunded && !s.closed);
        assert!(signals(ChannelStatus::Refunded, &[], true).refunded);
        assert!(!signals(ChannelStatus::Refunded, &[], false).refunded);
        let closed = signals(ChannelStatus::Paid, &["after-sales:closed".into()], true);
        assert!(closed.closed);
        assert!(signals(ChannelStatus::Paid, &[TAG_REFUNDED.into()], true).refunded);
    }
}
