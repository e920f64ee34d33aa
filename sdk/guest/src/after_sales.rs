//! The order tags of the after-sales convention: a plugin that sees a refund or return in
//! its platform's order payload tags the order, and the host's after-sales handling reads
//! the tags. [`Tags`] collects them once each, in a fixed order.
//!
//! ```
//! use wharf_sdk::after_sales::{Tags, REFUNDED, REFUND_REQUESTED};
//! let mut tags = Tags::default();
//! tags.add(REFUNDED);
//! tags.add(REFUND_REQUESTED);
//! tags.add(REFUNDED);
//! assert_eq!(tags.into_vec(), ["after-sales:refund-requested", "after-sales:refunded"]);
//! ```

/// The buyer asked for a refund (no goods to return, or not decided yet).
pub const REFUND_REQUESTED: &str = "after-sales:refund-requested";
/// A return of goods is under way (agreed, goods on the way back, awaiting the seller's check).
pub const RETURN_REQUESTED: &str = "after-sales:return-requested";
/// Money went back to the buyer.
pub const REFUNDED: &str = "after-sales:refunded";
/// An after-sales case ended without a refund (withdrawn, refused, closed).
pub const CLOSED: &str = "after-sales:closed";

/// Every tag of the convention, in the order [`Tags`] lists them.
pub const ALL: [&str; 4] = [REFUND_REQUESTED, RETURN_REQUESTED, REFUNDED, CLOSED];

/// A set of after-sales tags, listed in the order of [`ALL`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    seen: [bool; 4],
}

impl Tags {
    /// Add one of the convention's tags (anything else is ignored).
    pub fn add(&mut self, tag: &str) {
        if let Some(i) = ALL.iter().position(|t| *t == tag) {
            self.seen[i] = true;
        }
    }

    /// The tags added, once each, in the order of [`ALL`].
    pub fn into_vec(self) -> Vec<String> {
        ALL.iter()
            .zip(self.seen)
            .filter(|(_, seen)| *seen)
            .map(|(t, _)| t.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tags come out once each in the convention's order; other strings are ignored.
    #[test]
    fn tags_are_unique_and_ordered() {
        let mut t = Tags::default();
        for tag in [CLOSED, "after-sales:other", RETURN_REQUESTED, CLOSED] {
            t.add(tag);
        }
        assert_eq!(t.into_vec(), [RETURN_REQUESTED, CLOSED]);
        assert!(Tags::default().into_vec().is_empty());
    }
}
