//! The per-installation circuit breaker: after repeated failed calls, suspend calls for
//! a back-off period that doubles while failures continue; one success closes it.

use std::time::Duration;

use crate::connector::ConnectorError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures in a row that open the breaker.
    pub threshold: u32,
    /// First suspension; doubles with each further failure.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            base_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(3600),
        }
    }
}

impl BreakerPolicy {
    /// Whether a failure says something about the installation's health. Rate limits
    /// (the platform asked us to wait), bad input and unsupported calls do not.
    pub fn counts(error: &ConnectorError) -> bool {
        matches!(
            error,
            ConnectorError::Transient(_)
                | ConnectorError::Timeout(_)
                | ConnectorError::MemoryLimit(_)
                | ConnectorError::Panic(_)
                | ConnectorError::Trap(_)
                | ConnectorError::OutputTooLarge(_)
                | ConnectorError::Instantiate(_)
        )
    }

    /// After `consecutive` failures in a row: how long to suspend calls, if at all.
    pub fn open_for(&self, consecutive: u32) -> Option<Duration> {
        if self.threshold == 0 || consecutive < self.threshold {
            return None;
        }
        let doublings = (consecutive - self.threshold).min(20);
        Some(
            self.base_backoff
                .saturating_mul(1 << doublings)
                .min(self.max_backoff),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_at_the_threshold_and_backs_off_exponentially_up_to_the_cap() {
        let p = BreakerPolicy::default();
        assert_eq!(p.open_for(4), None);
        assert_eq!(p.open_for(5), Some(Duration::from_secs(60)));
        assert_eq!(p.open_for(6), Some(Duration::from_secs(120)));
        assert_eq!(p.open_for(7), Some(Duration::from_secs(240)));
        assert_eq!(p.open_for(50), Some(Duration::from_secs(3600)), "capped");
        assert_eq!(
            BreakerPolicy { threshold: 0, ..p }.open_for(100),
            None,
            "threshold 0 disables it"
        );
    }

    #[test]
    fn only_health_failures_count() {
        assert!(BreakerPolicy::counts(&ConnectorError::Transient(
            "503".into()
        )));
        assert!(BreakerPolicy::counts(&ConnectorError::Timeout(30_000)));
        assert!(!BreakerPolicy::counts(&ConnectorError::RateLimited(1000)));
        assert!(!BreakerPolicy::counts(&ConnectorError::InvalidInput(
            "x".into()
        )));
        assert!(!BreakerPolicy::counts(&ConnectorError::Unauthorized(
            "x".into()
        )));
    }
}
