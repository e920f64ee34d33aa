//! Sandbox limits applied to every plugin call.

use std::time::Duration;

/// Limits per call. `Default` gives the production values of the design brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Linear memory a single call's instance may grow to (all memories together).
    pub memory_bytes: usize,
    /// Wall-clock deadline of `verify-webhook` (the platform is waiting on the answer).
    pub webhook_timeout: Duration,
    /// Wall-clock deadline of every other export.
    pub call_timeout: Duration,
    /// Bound on the estimated host-side size of one call's result.
    pub max_output_bytes: usize,
    /// Bound on the number of orders one call may return.
    pub max_orders_per_call: usize,
    /// Plugin log lines kept per call; further lines are dropped (one notice says so).
    pub max_log_lines_per_call: usize,
    /// Instruction budget (wasmtime fuel) per call. `None` (production default): no fuel
    /// metering. `Some(n)`: the engine meters fuel, every call gets `n` units, reports
    /// what it used, and one that runs out fails with a `trap` error saying "out of fuel".
    /// Fuel is an engine setting, so a metered runtime is a separate [`crate::Runtime`].
    pub fuel: Option<u64>,
    /// Plugin instances that may be alive at once, pre-allocated by wasmtime's pooling
    /// allocator (memories, tables and stacks reused from call to call, so instantiation
    /// is cheap). A call beyond the pool waits for a free slot (the wait does not count
    /// against its deadline). `0`: no pool — every instance is allocated on demand.
    pub instance_pool: u32,
}

/// Default [`RuntimeConfig::instance_pool`]: more plugin calls at once than two cores can
/// run (further calls wait for a slot), and small enough that the address space the pool
/// reserves (4 memory slots per instance, 4 GiB each: 1 TiB) stays far below the 128 TiB
/// of a process, even with several runtimes in one.
pub const DEFAULT_INSTANCE_POOL: u32 = 64;

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            memory_bytes: 64 * 1024 * 1024,
            webhook_timeout: Duration::from_secs(2),
            call_timeout: Duration::from_secs(30),
            max_output_bytes: 32 * 1024 * 1024,
            max_orders_per_call: 5000,
            max_log_lines_per_call: 1000,
            fuel: None,
            instance_pool: DEFAULT_INSTANCE_POOL,
        }
    }
}
