//! Retry policy for durable jobs: what to do after a failed attempt, steered by the kind
//! of error the connector (or the sandbox) reported.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connector::ConnectorError;

/// Delays between attempts; after the last one the job goes to the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Delay before retry n (1-based): the default is 1, 5 and 15 minutes.
    pub delays_secs: Vec<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            delays_secs: vec![60, 300, 900],
        }
    }
}

/// What happens to a job after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run again after this delay. `counts` is false when the attempt should not use up
    /// one of the policy's retries (the platform asked us to wait, nothing failed).
    Retry { after: Duration, counts: bool },
    /// Give up: dead-letter with the error.
    Dead,
    /// Credentials were rejected: dead-letter and suspend the installation until the
    /// merchant fixes them.
    Suspend,
}

impl RetryPolicy {
    /// Decide after failed attempt number `attempt` (1-based, counting only attempts that
    /// used up a retry).
    pub fn decide(&self, attempt: u32, error: &ConnectorError) -> Decision {
        match error {
            ConnectorError::RateLimited(ms) => Decision::Retry {
                after: Duration::from_millis((*ms).max(1000)),
                counts: false,
            },
            ConnectorError::Unauthorized(_) => Decision::Suspend,
            ConnectorError::Permanent(_)
            | ConnectorError::InvalidInput(_)
            | ConnectorError::InvalidSignature(_)
            | ConnectorError::Unsupported
            | ConnectorError::Instantiate(_) => Decision::Dead,
            ConnectorError::Transient(_)
            | ConnectorError::Timeout(_)
            | ConnectorError::MemoryLimit(_)
            | ConnectorError::Panic(_)
            | ConnectorError::Trap(_)
            | ConnectorError::OutputTooLarge(_) => {
                match self.delays_secs.get(attempt.saturating_sub(1) as usize) {
                    Some(secs) => Decision::Retry {
                        after: Duration::from_secs(*secs),
                        counts: true,
                    },
                    None => Decision::Dead,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> ConnectorError {
        ConnectorError::Transient("503".into())
    }

    #[test]
    fn default_policy_retries_after_1_5_15_minutes_then_dead_letters() {
        let p = RetryPolicy::default();
        let mins = |m: u64| Decision::Retry {
            after: Duration::from_secs(m * 60),
            counts: true,
        };
        assert_eq!(p.decide(1, &transient()), mins(1));
        assert_eq!(p.decide(2, &transient()), mins(5));
        assert_eq!(p.decide(3, &transient()), mins(15));
        assert_eq!(p.decide(4, &transient()), Decision::Dead);
    }

    #[test]
    fn error_kinds_steer_the_decision() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(9, &ConnectorError::RateLimited(2500)),
            Decision::Retry {
                after: Duration::from_millis(2500),
                counts: false
            },
            "rate limits wait for retry-after and never exhaust the retries"
        );
        assert_eq!(
            p.decide(1, &ConnectorError::Unauthorized("401".into())),
            Decision::Suspend
        );
        assert_eq!(
            p.decide(1, &ConnectorError::Permanent("gone".into())),
            Decision::Dead
        );
        assert_eq!(p.decide(1, &ConnectorError::Unsupported), Decision::Dead);
        assert!(matches!(
            p.decide(1, &ConnectorError::Timeout(30_000)),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn a_custom_policy_is_honoured() {
        let p = RetryPolicy {
            delays_secs: vec![2],
        };
        assert_eq!(
            p.decide(1, &transient()),
            Decision::Retry {
                after: Duration::from_secs(2),
                counts: true
            }
        );
        assert_eq!(p.decide(2, &transient()), Decision::Dead);
        assert_eq!(
            RetryPolicy {
                delays_secs: vec![]
            }
            .decide(1, &transient()),
            Decision::Dead
        );
    }
}
