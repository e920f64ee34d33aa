//! Resource limits of one call: a memory limiter that remembers a refused growth (so the
//! resulting trap is reported as a memory limit, not a generic trap), and the background
//! ticker of the engine epoch behind the wall-clock deadline.

use std::thread;
use std::time::Duration;

use wasmtime::{EngineWeak, ResourceLimiter};

/// How often the engine epoch advances; the granularity of deadlines and of the yields
/// that keep a spinning plugin from starving other calls on the same executor thread.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Caps the total linear memory of a store and counts instances, tables and memories.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap: usize,
    used: usize,
    /// The largest `used` reached.
    peak: usize,
    /// The total the plugin asked for when a growth was refused.
    refused: Option<usize>,
}

impl MemoryLimiter {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            used: 0,
            peak: 0,
            refused: None,
        }
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// The largest total linear memory granted so far.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// The total the plugin tried to reach when a growth was refused, if one was.
    pub(crate) fn refused(&self) -> Option<usize> {
        self.refused
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used.saturating_sub(current).saturating_add(desired);
        if total > self.cap {
            self.refused = Some(total);
            return Ok(false);
        }
        self.used = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        100
    }

    fn tables(&self) -> usize {
        100
    }

    fn memories(&self) -> usize {
        100
    }
}

/// Start the thread that advances `engine`'s epoch every [`EPOCH_TICK`]; it ends when
/// the engine is dropped.
pub(crate) fn start_epoch_ticker(engine: EngineWeak) -> std::io::Result<()> {
    thread::Builder::new()
        .name("wharf-epoch".into())
        .spawn(move || loop {
            thread::sleep(EPOCH_TICK);
            match engine.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Growth beyond the cap (across memories) is refused and remembered.
    #[test]
    fn refuses_and_records_growth_past_the_cap() {
        let mut l = MemoryLimiter::new(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(
            l.memory_growing(0, 40, None).unwrap(),
            "a second memory fits"
        );
        assert_eq!(l.refused(), None);
        assert!(!l.memory_growing(40, 41, None).unwrap());
        assert_eq!(l.refused(), Some(101));
        assert_eq!(l.peak(), 100, "the refused growth is not counted");
    }
}
