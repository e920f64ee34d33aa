//! Record types the store reads and writes. Every record derives `Debug, Clone, Serialize`
//! and `utoipa::ToSchema` so the server can return and document them as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_domain::anomaly::Flag;
use wharf_domain::manifest::Manifest;
use wharf_domain::{ChannelStatus, Order};

/// Which database a [`crate::Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A tenant: every installation and order belongs to exactly one merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Merchant {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

/// What an API token may act as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// The operator of the Wharf host: manages merchants and the plugin registry.
    Operator,
    /// One merchant's staff: sees only that merchant's installations and orders.
    Merchant(i64),
}

/// A plugin version in the operator-owned registry (the component bytes are read apart,
/// with [`crate::Store::plugin_component`]).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PluginRecord {
    pub id: i64,
    pub name: String,
    pub version: String,
    pub kind: String,
    pub wit_version: String,
    pub manifest: Manifest,
    /// Lower-case hex SHA-256 of the component bytes.
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: i64,
    /// Who signed the package it came from, and whether the server verified it.
    pub signature: PluginSignature,
}

/// How a plugin's package was signed, as checked when it was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PluginSignature {
    pub status: SignatureStatus,
    /// The signer's key id (hex of the first 8 bytes of SHA-256 of its public key).
    pub key_id: Option<String>,
    /// The vendor name the server's trusted-keys file gives that key.
    pub vendor: Option<String>,
}

impl PluginSignature {
    /// No signature (accepted only by a server in development mode).
    pub fn unsigned() -> Self {
        Self {
            status: SignatureStatus::Unsigned,
            key_id: None,
            vendor: None,
        }
    }
}

/// The outcome of the signature check on upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// Signed by a key in the server's trusted keys, and the signature verified.
    Verified,
    /// Not signed: uploaded to a server in development mode (or registered before
    /// signatures existed).
    Unsigned,
    /// Signed by a key the server does not trust, so not verified: development mode only.
    UntrustedKey,
}

impl SignatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Unsigned => "unsigned",
            Self::UntrustedKey => "untrusted_key",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Verified, Self::Unsigned, Self::UntrustedKey]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A merchant enabling a plugin for one of their shops. `Debug` shows secret names only.
#[derive(Clone, Deserialize)]
pub struct NewInstallation {
    pub merchant_id: i64,
    pub plugin_id: i64,
    pub shop: String,
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub egress_grant: Vec<String>,
    pub pull_interval_secs: i64,
}

impl std::fmt::Debug for NewInstallation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewInstallation")
            .field("merchant_id", &self.merchant_id)
            .field("plugin_id", &self.plugin_id)
            .field("shop", &self.shop)
            .field("config", &self.config)
            .field("secrets", &Redacted(&self.secrets))
            .field("egress_grant", &self.egress_grant)
            .field("pull_interval_secs", &self.pull_interval_secs)
            .finish()
    }
}

/// Shows the keys of a secret map, never the values.
pub struct Redacted<'a>(pub &'a BTreeMap<String, String>);

impl std::fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

/// Per-installation activity counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counters {
    pub orders_created: i64,
    pub orders_updated: i64,
    pub webhooks_accepted: i64,
    pub webhooks_rejected: i64,
    pub pulls_ok: i64,
    pub pulls_failed: i64,
}

/// One of the [`Counters`], for [`crate::Store::bump_counter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    OrdersCreated,
    OrdersUpdated,
    WebhooksAccepted,
    WebhooksRejected,
    PullsOk,
    PullsFailed,
}

impl Counter {
    /// The column holding this counter (a fixed identifier, never user input).
    pub(crate) fn column(self) -> &'static str {
        match self {
            Counter::OrdersCreated => "orders_created",
            Counter::OrdersUpdated => "orders_updated",
            Counter::WebhooksAccepted => "webhooks_accepted",
            Counter::WebhooksRejected => "webhooks_rejected",
            Counter::PullsOk => "pulls_ok",
            Counter::PullsFailed => "pulls_failed",
        }
    }
}

/// A merchant's connector for one shop. Carries no secrets: safe to return from the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Installation {
    pub id: i64,
    pub merchant_id: i64,
    pub plugin_id: i64,
    /// The plugin's name, e.g. `shopify`: the channel platform of the orders.
    pub platform: String,
    pub shop: String,
    pub config: BTreeMap<String, String>,
    pub egress_grant: Vec<String>,
    pub enabled: bool,
    pub pull_interval_secs: i64,
    pub cursor: Option<String>,
    pub next_pull_at: i64,
    pub last_sync_at: Option<i64>,
    /// `code: message` of the last recorded error.
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub counters: Counters,
    /// The circuit breaker: calls failed in a row, and while open, until when calls are
    /// suspended and why (recovery is automatic after that time).
    pub breaker: Breaker,
    pub created_at: i64,
}

/// An installation's circuit breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Breaker {
    pub consecutive_failures: i64,
    pub open_until: Option<i64>,
    pub reason: Option<String>,
}

/// One line of an installation's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LogLine {
    pub id: i64,
    pub installation_id: i64,
    pub at: i64,
    pub level: String,
    pub message: String,
}

/// Where a batch of orders came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum IngestSource {
    /// A verified webhook; `delivery_id` is the platform's idempotency key if it sends one.
    Webhook {
        delivery_id: Option<String>,
        topic: String,
    },
    /// A scheduled pull; `cursor` is where the next pull starts (`None` keeps the old one).
    Pull { cursor: Option<String> },
    /// The verification sweep re-reading an order with `get-order`.
    Verify,
}

/// What one [`crate::Store::ingest`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct IngestReport {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Store ids of the batch's orders, in input order.
    pub order_ids: Vec<i64>,
    /// The webhook delivery id had been seen before (the batch was still applied
    /// idempotently).
    pub duplicate_delivery: bool,
}

/// Filters for [`crate::Store::list_orders`]; all optional, combined with AND. Time bounds
/// are inclusive Unix ms on the platform's `created_at` / `updated_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderFilter {
    pub installation_id: Option<i64>,
    pub platform: Option<String>,
    pub status: Option<ChannelStatus>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub updated_from: Option<i64>,
    pub updated_to: Option<i64>,
    pub flagged: Option<bool>,
}

/// An order as listed: the header fields, without lines and events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderSummary {
    pub id: i64,
    pub installation_id: i64,
    pub platform: String,
    pub shop: String,
    pub external_id: String,
    pub number: String,
    pub status: ChannelStatus,
    pub raw_status: String,
    pub currency: String,
    pub total_paid_minor: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub flagged: bool,
    pub flags: Vec<Flag>,
    /// When the host first stored the order (host clock, Unix ms).
    pub ingested_at: i64,
    /// Where the order is in Wharf's own handling: the fulfillment state (`received`,
    /// `ready`, `on_hold`, `allocated`, `picking`, `packed`, `labelled`, `shipped`,
    /// `delivered`, `exception`, `cancelled`, `returned`).
    pub state: String,
}

/// One page of orders; `next` is the opaque token for the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    pub next: Option<String>,
}

/// One entry of an order's append-only history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderEvent {
    pub id: i64,
    pub at: i64,
    /// `created` or `updated` (channel), `state` (a fulfillment transition: from/to are
    /// states, detail the reason), `review`, `task` or `escalation`.
    pub kind: String,
    /// `webhook:<topic>`, `pull` or `verify`; for fulfillment rows the actor (`system`,
    /// `inventory`, `channel`, `api:<token label>`).
    pub source: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
}

/// An order with everything the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderDetail {
    pub summary: OrderSummary,
    pub order: Order,
    pub events: Vec<OrderEvent>,
}
