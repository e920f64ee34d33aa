//! Host-side mirrors of the connector contract's results and errors, so that code above
//! the runtime (ingest, jobs, API) never sees wasmtime or generated binding types.

use serde::{Deserialize, Serialize};

use crate::Order;

/// A typed error from a connector call. Plugin-reported kinds come first; the rest are
/// raised by the sandbox when a plugin misbehaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ConnectorError {
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    #[error("rate limited: retry after {0} ms")]
    RateLimited(u64),
    #[error("transient: {0}")]
    Transient(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("unsupported by this connector")]
    Unsupported,
    #[error("permanent: {0}")]
    Permanent(String),
    // --- raised by the sandbox ---
    /// The call ran past its wall-clock deadline.
    #[error("timeout: the plugin ran past its {0} ms deadline")]
    Timeout(u64),
    /// The plugin tried to grow memory past its cap.
    #[error("memory limit: the plugin tried to use more than {0} bytes")]
    MemoryLimit(u64),
    /// The plugin panicked (message as the plugin printed it, truncated).
    #[error("plugin panicked: {0}")]
    Panic(String),
    /// Any other trap (unreachable, out-of-bounds, stack overflow).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// The plugin returned more than the output bound.
    #[error("output too large: {0}")]
    OutputTooLarge(String),
    /// The component could not be loaded or instantiated.
    #[error("plugin could not be instantiated: {0}")]
    Instantiate(String),
}

impl ConnectorError {
    /// Short stable code, for metrics, API errors and stored last-error fields.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::InvalidSignature(_) => "invalid_signature",
            Self::RateLimited(_) => "rate_limited",
            Self::Transient(_) => "transient",
            Self::InvalidInput(_) => "invalid_input",
            Self::Unsupported => "unsupported",
            Self::Permanent(_) => "permanent",
            Self::Timeout(_) => "timeout",
            Self::MemoryLimit(_) => "memory_limit",
            Self::Panic(_) => "panic",
            Self::Trap(_) => "trap",
            Self::OutputTooLarge(_) => "output_too_large",
            Self::Instantiate(_) => "instantiate",
        }
    }

    /// Raised by the sandbox (the plugin misbehaved) rather than reported by the plugin.
    pub fn is_sandbox_fault(&self) -> bool {
        matches!(
            self,
            Self::Timeout(_)
                | Self::MemoryLimit(_)
                | Self::Panic(_)
                | Self::Trap(_)
                | Self::OutputTooLarge(_)
                | Self::Instantiate(_)
        )
    }
}

/// What a connector says about itself (`describe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    pub platform: String,
    pub display_name: String,
    pub capabilities: Vec<String>,
}

/// A verified webhook delivery, translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub delivery_id: Option<String>,
    pub topic: String,
    pub orders: Vec<Order>,
}

/// One page of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub orders: Vec<Order>,
    pub cursor: Option<String>,
    pub more: bool,
}

/// Available-to-sell for one listing, as pushed to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The merchant's SKU code.
    pub sku: String,
    /// The channel's SKU / listing id.
    pub channel_sku: String,
    pub available: i64,
}

/// The channel's answer for one pushed level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockPushResult {
    pub sku: String,
    pub ok: bool,
    pub message: String,
}

/// Log levels a plugin can log at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// A shipment reported back to the channel (`confirm-shipment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The channel's order id.
    pub external_order_id: String,
    /// Channel line ids shipped; empty means the whole order.
    pub line_ids: Vec<String>,
    /// Carrier code as the channel knows it.
    pub carrier: String,
    pub tracking_number: String,
    /// When the parcel left (Unix ms, UTC).
    pub shipped_at: i64,
}
