//! Shopify's leaky bucket for the REST Admin API.

use std::time::Instant;

use super::config::RateLimit;

#[derive(Debug)]
pub(crate) struct LeakyBucket {
    limit: RateLimit,
    level: f64,
    last: Instant,
}

/// The outcome of taking one call from the bucket.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Take {
    /// Allowed; the bucket now holds `used` calls (for `X-Shopify-Shop-Api-Call-Limit`).
    Allowed { used: u32, size: u32 },
    /// Refused; one slot frees in `retry_after_s` seconds.
    Refused { retry_after_s: f64, size: u32 },
}

impl LeakyBucket {
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        LeakyBucket {
            limit,
            level: 0.0,
            last: now,
        }
    }

    pub(crate) fn take(&mut self, now: Instant) -> Take {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let rate = f64::from(self.limit.leak_per_second.max(1));
        let size = self.limit.bucket_size.max(1);
        self.level = (self.level - elapsed * rate).max(0.0);
        if self.level + 1.0 > f64::from(size) {
            let wait = (self.level + 1.0 - f64::from(size)) / rate;
            // Round up to the tenth Shopify prints, never advertising a too-early retry.
            Take::Refused {
                retry_after_s: (wait * 10.0).ceil() / 10.0,
                size,
            }
        } else {
            self.level += 1.0;
            Take::Allowed {
                used: self.level.ceil() as u32,
                size,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    // A full bucket refuses with a wait that lets exactly one call through after it.
    #[test]
    fn fills_refuses_and_leaks() {
        let t0 = Instant::now();
        let mut b = LeakyBucket::new(
            RateLimit {
                bucket_size: 2,
                leak_per_second: 2,
            },
            t0,
        );
        assert_eq!(b.take(t0), Take::Allowed { used: 1, size: 2 });
        assert_eq!(b.take(t0), Take::Allowed { used: 2, size: 2 });
        assert_eq!(
            b.take(t0),
            Take::Refused {
                retry_after_s: 0.5,
                size: 2
            }
        );
        let later = t0 + Duration::from_millis(500);
        assert_eq!(b.take(later), Take::Allowed { used: 2, size: 2 });
        let much_later = later + Duration::from_secs(10);
        assert_eq!(b.take(much_later), Take::Allowed { used: 1, size: 2 });
    }
}
