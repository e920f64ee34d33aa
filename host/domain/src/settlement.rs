//! Host-side mirrors of the contract's settlement records (`fetch-settlements`): what a
//! channel paid out, line by line, and the payouts that carried the money. The runtime
//! converts the generated WIT types into these; the store keeps them keyed by
//! (installation, platform line id) and (installation, payout id).

use serde::{Deserialize, Serialize};

use crate::Money;

/// What a settlement line is for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SettlementKind {
    /// Money in from a sale.
    Sale,
    /// Money out for a refund.
    Refund,
    /// The platform's commission or service fee.
    Commission,
    /// A discount the platform funded (paid to the merchant).
    PlatformDiscount,
    /// A shipping subsidy from the platform.
    ShippingSubsidy,
    /// Any other adjustment.
    Adjustment,
}

impl SettlementKind {
    pub const ALL: [SettlementKind; 6] = [
        Self::Sale,
        Self::Refund,
        Self::Commission,
        Self::PlatformDiscount,
        Self::ShippingSubsidy,
        Self::Adjustment,
    ];

    /// The snake_case name stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::Refund => "refund",
            Self::Commission => "commission",
            Self::PlatformDiscount => "platform_discount",
            Self::ShippingSubsidy => "shipping_subsidy",
            Self::Adjustment => "adjustment",
        }
    }

    /// The kind named `s` (as [`as_str`](Self::as_str) writes it).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One line of a channel's settlement report. By the contract `net = gross − fee`; real
/// reports break that now and then, which reconciliation reports rather than repairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettlementLine {
    /// The channel's id of the line: unique per installation (the idempotency key).
    pub line_id: String,
    /// The order it relates to (the channel's external order id), if any.
    pub order_external_id: Option<String>,
    pub kind: SettlementKind,
    /// Gross amount (negative for money out, e.g. a refund).
    pub gross: Money,
    /// Fees withheld.
    pub fee: Money,
    /// Net amount (gross − fee).
    pub net: Money,
    /// When it settled (Unix ms, UTC).
    pub settled_at: i64,
    /// The payout that carried it, once paid out.
    pub payout_id: Option<String>,
}

/// A transfer from the channel to the merchant's bank account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payout {
    /// The channel's payout id: unique per installation.
    pub payout_id: String,
    pub amount: Money,
    /// When it was paid (Unix ms, UTC).
    pub paid_at: i64,
    /// The channel's status word (e.g. "paid", "in_transit").
    pub status: String,
}

/// One page of `fetch-settlements`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettlementPage {
    #[serde(default)]
    pub lines: Vec<SettlementLine>,
    #[serde(default)]
    pub payouts: Vec<Payout>,
    /// Where the next page starts (give it back with the same period).
    #[serde(default)]
    pub cursor: Option<String>,
    /// Whether another page follows.
    #[serde(default)]
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind round-trips through its stored name and its serde name.
    #[test]
    fn kinds_round_trip() {
        for k in SettlementKind::ALL {
            assert_eq!(SettlementKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(SettlementKind::parse("bogus"), None);
    }
}
