//! Wharf's store: orders, installations, the plugin registry and API tokens, on SQLite
//! (file, WAL — the embedded default) or PostgreSQL (when the URL starts with
//! `postgres://`), with one behaviour on both. Queries go through `sqlx::AnyPool` with
//! `$N` placeholders; times are BIGINT Unix ms (UTC), money BIGINT minor units, JSON as
//! TEXT, booleans BIGINT 0/1.
//!
//! Layout:
//! - [`db`]: [`Store`], connecting (URL → backend, pools, pragmas), migrations, shared
//!   helpers. SQLite writes go through a one-connection pool with `BEGIN IMMEDIATE`, so
//!   concurrent writers queue instead of failing with `SQLITE_BUSY`; PostgreSQL uses
//!   `ON CONFLICT` upserts and `FOR UPDATE` row locks.
//! - `checkpoint`: SQLite WAL checkpoints in a task of their own, off the commit path.
//! - [`types`]: every record the store reads or writes (all `Serialize` + `ToSchema`).
//! - [`tenancy`]: merchants and API tokens (only SHA-256 of a token is kept).
//! - [`plugins`]: the operator-owned plugin registry.
//! - [`installations`]: installations, secrets, errors, counters, logs, pull schedule.
//! - [`consent`]: the merchant's recorded consent per installation (hosts, secrets, when,
//!   by whom), written with the installation.
//! - [`ingest`]: a batch of orders in ONE transaction — anomaly flags, dedup upsert,
//!   "never regress" rule, lines, events, counters, pull cursor / webhook delivery.
//! - [`group_commit`]: concurrent webhook ingests applied in one transaction (one commit
//!   for all; a savepoint per batch only when one of them failed), each acknowledged after
//!   that commit.
//! - `audit`: order event rows collected while an order is processed and inserted in one
//!   multi-row statement.
//! - `pending`: the rows of a transaction's new orders (lines, pick tasks, events) and its
//!   webhook deliveries, held back and written per table in multi-row statements before
//!   the commit.
//! - [`inventory`]: SKUs, stock per warehouse (set / adjust / CSV import, audited),
//!   listings (channel SKU or outer code → SKU), sync rules, stock-reduction mode.
//! - [`reservations`]: order lines hold, release or consume stock inside the ingest
//!   transaction; unmapped and oversold orders are flagged (oversold ones held).
//! - [`stock_sync`]: dirty listings, coalesced push jobs, push results, the sweep.
//! - [`fulfillment`]: the order state machine applied to stored orders (checked against
//!   the domain's one table, audited in `order_events`), automatic progression inside
//!   ingest, reviews, merchant transitions (cancel releases / ship consumes stock via
//!   [`reservations`]), and warehouse tasks (pick, pack).
//! - [`warehouse`]: reads for the warehouse page — scan lookup (order number, channel
//!   order id, tracking number), one order's pick view, the open / per-worker task boards.
//! - [`sla`]: SLA rules, stored deadlines, breach detection (one escalation per breach),
//!   the merchant's notification webhook and its `notify` jobs.
//! - [`settlements`]: the ONE settlement import (lines + payouts, idempotent per platform
//!   id; used by the daily job and the admin endpoint), expected-net rules per
//!   installation, the variance threshold, SKU unit costs, the daily import schedule.
//! - [`reconcile`]: a period's reconciliation (expected vs actual net per order,
//!   unmatched lines, overdue orders, payout checks, data quality) and revenue per
//!   channel and day.
//! - [`shipping`]: carrier rules and shipping settings, shipments (waybill, label, chosen
//!   rule), the `create_waybill` / `confirm_shipment` / `track` job hand-offs, tracking
//!   events (deduplicated) and the order moves they cause.
//! - [`after_sales`]: refund / return tickets opened inside ingest from the channel status
//!   and `after-sales:*` tags, and their life cycle (assign, start, resolve, reject, notes).
//! - [`journals`]: the merchant's accounting connector and account mapping, period
//!   journals (unique per period, source and currency) queued with their `post_journal`
//!   jobs in one transaction, and each post's voucher or failure.
//! - [`revenue_sku`]: revenue per SKU (and channel), every settled line split over its
//!   order's lines by largest remainder so SKU figures add up to the channel totals.
//! - [`orders`]: merchant-scoped reads with keyset pagination and filters.
//! - [`jobs`]: the durable job queue — leases, retries, dead letters, re-drive.
//! - [`verify`]: stale-order selection and the verification-sweep schedule.
//! - [`breaker`]: per-installation circuit-breaker state.
//! - [`testing`]: isolated databases for tests.
//! - [`error`]: [`StoreError`], the crate's one error type.
//!
//! Migrations are append-only, one folder per backend: `migrations/sqlite` and
//! `migrations/postgres`, embedded at build time and applied by [`Store::connect`].
//!
//! # Testing on both databases
//!
//! Every test in the repository gets its database from [`testing::fresh_url`]:
//! with `WHARF_TEST_DATABASE_URL` unset it is a new SQLite file in a temporary
//! directory; with `WHARF_TEST_DATABASE_URL=postgres://user@host:port/db` a new
//! database `wharf_t_<random>` is created on that server for each call. So:
//!
//! ```text
//! cargo test -p wharf-store                                                      # SQLite
//! WHARF_TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/test cargo test -p wharf-store
//! ```

pub mod after_sales;
mod audit;
pub mod breaker;
mod checkpoint;
pub mod consent;
pub mod db;
pub mod error;
pub mod fulfillment;
pub mod group_commit;
pub mod ingest;
pub mod installations;
pub mod inventory;
pub mod jobs;
pub mod journals;
pub mod orders;
mod pending;
pub mod plugins;
pub mod reconcile;
pub mod reservations;
pub mod revenue_sku;
pub mod settlements;
pub mod shipping;
pub mod sla;
pub mod stock_sync;
pub mod tenancy;
pub mod testing;
pub mod types;
pub mod verify;
pub mod warehouse;

pub use consent::{Consent, NewConsent};
pub use db::Store;
pub use error::StoreError;
pub use jobs::{Job, JobCount, NewJob};
pub use types::{
    Backend, Breaker, Counter, Counters, IngestReport, IngestSource, Installation, LogLine,
    Merchant, NewInstallation, OrderDetail, OrderEvent, OrderFilter, OrderPage, OrderSummary,
    PluginRecord, PluginSignature, Redacted, SignatureStatus, TokenScope,
};
