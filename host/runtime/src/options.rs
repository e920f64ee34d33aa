//! Opt-in knobs of one call, for the harness ([`CallOptions`]: a fake HTTP transport, a
//! frozen clock) and what a call cost ([`CallReport`]: wall time, peak linear memory,
//! instructions). `CallOptions::default()` is exactly the production call.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::transport::HttpTransport;

/// Harness options of one call. The sandbox (limits, granter, WASI without grants) is the
/// production one either way.
#[derive(Clone, Default)]
pub struct CallOptions {
    /// Send the plugin's granted HTTP requests here instead of the network.
    pub transport: Option<Arc<dyn HttpTransport>>,
    /// Serve `wasi:clocks/wall-clock` (and `monotonic-clock`) from this clock.
    pub clock: Option<FrozenClock>,
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("transport", &self.transport.as_ref().map(|_| "custom"))
            .field("clock", &self.clock)
            .finish()
    }
}

/// A settable clock shared by every call it is given to: it stands still until set or
/// advanced. The monotonic clock reads the same instant in nanoseconds.
#[derive(Debug, Clone)]
pub struct FrozenClock {
    unix_ms: Arc<AtomicI64>,
}

impl FrozenClock {
    /// A clock standing at `unix_ms` (milliseconds since the Unix epoch, UTC).
    pub fn at(unix_ms: i64) -> Self {
        Self {
            unix_ms: Arc::new(AtomicI64::new(unix_ms)),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.unix_ms.load(Ordering::SeqCst)
    }

    pub fn set_ms(&self, unix_ms: i64) {
        self.unix_ms.store(unix_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.unix_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        // Before the epoch is not representable in wall-clock's datetime: clamp to 0.
        Duration::from_millis(u64::try_from(self.now_ms()).unwrap_or(0))
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        u64::try_from(self.now_ms())
            .unwrap_or(0)
            .saturating_mul(1_000_000)
    }
}

/// What one call cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallReport {
    /// From instantiation to the end of the export (or the failure).
    pub wall_time: Duration,
    /// Largest total linear memory the instance reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Instructions (fuel units) consumed, when the runtime meters fuel
    /// ([`RuntimeConfig::fuel`](crate::RuntimeConfig::fuel)).
    pub fuel_used: Option<u64>,
    /// Whether the call ran out of its fuel budget.
    pub out_of_fuel: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

    // A frozen clock stands still until set or advanced, and both clocks agree.
    #[test]
    fn frozen_clock_moves_only_when_told() {
        let c = FrozenClock::at(1_711_965_600_000);
        assert_eq!(
            HostWallClock::now(&c),
            Duration::from_millis(1_711_965_600_000)
        );
        let shared = c.clone();
        shared.advance(Duration::from_secs(2));
        assert_eq!(c.now_ms(), 1_711_965_602_000);
        assert_eq!(HostMonotonicClock::now(&c), 1_711_965_602_000 * 1_000_000);
        c.set_ms(-5);
        assert_eq!(HostWallClock::now(&c), Duration::ZERO);
    }
}
