//! The normalised order: what every channel connector translates its platform's order into.

use serde::{Deserialize, Serialize};

use crate::{DomainError, Money};

/// Channel status, normalised across platforms. The platform's own status is kept beside
/// it as `raw_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelStatus {
    PendingPayment,
    Paid,
    PartiallyShipped,
    Shipped,
    Completed,
    Cancelled,
    Refunded,
}

impl ChannelStatus {
    pub const ALL: [ChannelStatus; 7] = [
        Self::PendingPayment,
        Self::Paid,
        Self::PartiallyShipped,
        Self::Shipped,
        Self::Completed,
        Self::Cancelled,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::PartiallyShipped => "partially_shipped",
            Self::Shipped => "shipped",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| DomainError::UnknownStatus(s.to_string()))
    }

    /// How far along its life an order with this status is. When two versions of an
    /// order carry the same platform `updated_at`, the higher rank wins, so a status never
    /// moves backwards because deliveries arrived out of order.
    pub fn rank(self) -> u8 {
        match self {
            Self::PendingPayment => 0,
            Self::Paid => 1,
            Self::PartiallyShipped => 2,
            Self::Shipped => 3,
            Self::Completed => 4,
            Self::Cancelled => 5,
            Self::Refunded => 6,
        }
    }

    /// A final status: nothing more will happen to the order on the channel.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::Refunded)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Address {
    pub name: String,
    pub phone: String,
    pub country: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub street: String,
    pub postal_code: String,
    /// The receiver fields are ciphertext from the channel and need decryption.
    pub encrypted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Buyer {
    pub id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Line {
    pub line_id: String,
    pub sku: String,
    pub channel_sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub discount: Money,
}

impl Line {
    /// Quantity × unit price − line discount, in minor units (saturating, never panics).
    pub fn net_minor(&self) -> i64 {
        self.unit_price
            .minor
            .saturating_mul(i64::from(self.quantity))
            .saturating_sub(self.discount.minor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresaleStage {
    DepositPending,
    DepositPaid,
    BalancePaid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Presale {
    pub stage: PresaleStage,
    pub deposit: Option<Money>,
    pub balance: Option<Money>,
    pub ship_by: Option<i64>,
}

/// An order as a channel reported it, after the connector normalised it. Times are Unix
/// epoch milliseconds, UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Order {
    pub external_id: String,
    pub number: String,
    pub status: ChannelStatus,
    pub raw_status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub currency: String,
    pub buyer: Option<Buyer>,
    pub shipping_address: Option<Address>,
    pub lines: Vec<Line>,
    pub shipping_fee: Money,
    pub discount: Money,
    pub tax: Money,
    pub total_paid: Money,
    pub presale: Option<Presale>,
    pub tags: Vec<String>,
}

/// Whether an incoming version of an order should replace the stored one: a newer
/// platform `updated_at` wins; on a tie, the status further along its life wins (an
/// identical redelivery also "wins", which is harmless because it changes nothing).
pub fn supersedes(
    incoming_updated_at: i64,
    incoming: ChannelStatus,
    stored_updated_at: i64,
    stored: ChannelStatus,
) -> bool {
    match incoming_updated_at.cmp(&stored_updated_at) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => incoming.rank() >= stored.rank(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_update_supersedes_and_older_never_regresses() {
        use ChannelStatus::*;
        assert!(
            supersedes(2, PendingPayment, 1, Paid),
            "a newer platform update wins even with a lower rank"
        );
        assert!(
            !supersedes(1, Shipped, 2, Paid),
            "an older update never applies"
        );
        assert!(
            supersedes(5, Shipped, 5, Paid),
            "same timestamp: further status wins"
        );
        assert!(
            !supersedes(5, Paid, 5, Shipped),
            "same timestamp: earlier status loses"
        );
    }

    #[test]
    fn status_names_round_trip() {
        for st in ChannelStatus::ALL {
            assert_eq!(ChannelStatus::parse(st.as_str()), Ok(st));
        }
        assert!(ChannelStatus::parse("lost").is_err());
    }
}
