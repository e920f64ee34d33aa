//! Server settings.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Settings of one `wharf serve` process.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `sqlite://path` (default) or `postgres://…`.
    pub database_url: String,
    /// Largest webhook body accepted, in bytes.
    pub max_webhook_bytes: usize,
    /// How often the scheduler looks for due pulls.
    pub scheduler_tick: Duration,
    /// Default pull interval for new installations.
    pub default_pull_interval: Duration,
    /// Upper bound on pages fetched in one pull run (a runaway plugin cannot loop forever).
    pub max_pages_per_pull: u32,
    /// Operator-level resolver overrides (host → address), like `curl --resolve`.
    pub resolve: BTreeMap<String, SocketAddr>,
    /// Limits applied to every plugin call.
    pub runtime: wharf_runtime::RuntimeConfig,
    /// Job runner: leases, polling, retry policies per job kind.
    pub jobs: crate::jobs::JobSettings,
    /// Active verification sweeps.
    pub verify: VerifySettings,
    /// The daily settlement import (its local time uses `verify.utc_offset_minutes`).
    pub settlements: SettlementSettings,
    /// Per-installation circuit breaker.
    pub breaker: wharf_domain::breaker::BreakerPolicy,
    /// Coalescing window of stock pushes: a burst of stock changes within it becomes
    /// one push per listing.
    pub stock_push_delay: Duration,
    /// Which plugin packages are accepted: trusted signing keys, development mode.
    pub trust: crate::package::TrustSettings,
    /// How often a shipped shipment's tracking is polled.
    pub track_interval: Duration,
}

/// When and how the verification sweep re-reads stuck orders.
#[derive(Debug, Clone)]
pub struct VerifySettings {
    /// Daily run at this local time (hour, minute); `None` disables the daily run.
    pub daily_at: Option<(u32, u32)>,
    /// The merchants' UTC offset for `daily_at`, in minutes (480 = UTC+8).
    pub utc_offset_minutes: i32,
    /// Also run this often.
    pub interval: Duration,
    /// An order in a non-final status not updated for this long is re-read.
    pub stale_after: Duration,
    /// At most this many orders re-read per installation per sweep.
    pub max_orders: u32,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            daily_at: Some((9, 0)),
            utc_offset_minutes: 0,
            interval: Duration::from_secs(3600),
            stale_after: Duration::from_secs(1800),
            max_orders: 500,
        }
    }
}

impl VerifySettings {
    /// The next sweep after `now_ms`: the earlier of the daily time and now + interval.
    pub fn next_after(&self, now_ms: i64) -> i64 {
        let by_interval = now_ms + self.interval.as_millis() as i64;
        match self.daily_at {
            Some((h, m)) => by_interval.min(wharf_domain::schedule::next_daily(
                now_ms,
                h,
                m,
                self.utc_offset_minutes,
            )),
            None => by_interval,
        }
    }
}

/// When the daily settlement import runs.
#[derive(Debug, Clone)]
pub struct SettlementSettings {
    /// Daily at this local time (hour, minute), importing the previous local day; `None`
    /// disables the import.
    pub daily_at: Option<(u32, u32)>,
    /// Upper bound on fetch-settlements pages in one run.
    pub max_pages: u32,
}

impl Default for SettlementSettings {
    fn default() -> Self {
        Self {
            daily_at: Some((6, 0)),
            max_pages: 10_000,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            database_url: "sqlite://wharf.db".into(),
            max_webhook_bytes: 2 * 1024 * 1024,
            scheduler_tick: Duration::from_secs(1),
            default_pull_interval: Duration::from_secs(300),
            max_pages_per_pull: 10_000,
            resolve: BTreeMap::new(),
            runtime: wharf_runtime::RuntimeConfig::default(),
            jobs: crate::jobs::JobSettings::default(),
            verify: VerifySettings::default(),
            settlements: SettlementSettings::default(),
            breaker: wharf_domain::breaker::BreakerPolicy::default(),
            stock_push_delay: Duration::from_millis(
                wharf_store::db::DEFAULT_STOCK_PUSH_DELAY_MS as u64,
            ),
            trust: crate::package::TrustSettings::default(),
            track_interval: Duration::from_secs(1800),
        }
    }
}

/// Parse `host=ip:port` into a resolver override.
pub fn parse_resolve(s: &str) -> Result<(String, SocketAddr), String> {
    let (host, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected host=ip:port"))?;
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if host.is_empty() {
        return Err(format!("{s:?}: empty host"));
    }
    Ok((host.to_ascii_lowercase(), addr))
}
