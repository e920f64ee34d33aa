//! The Wharf server: admin API, webhook ingress, pull scheduler and the `wharf` CLI.
//!
//! Layout:
//! - [`config`]: server settings (database URL, listen address, limits, resolver overrides).
//! - [`state`]: [`state::AppState`], shared by handlers and background tasks; the plugin
//!   cache and the log sink that attributes plugin logs to installations.
//! - [`error`]: [`error::ApiError`], the crate's one error type; JSON `{code, message}`
//!   responses that never leak internals.
//! - [`registry`]: validating and registering plugins (used by the API and the demo).
//! - [`package`]: the `.wharfpkg` container, Ed25519 signing keys, trusted keys and the
//!   signature check applied on upload.
//! - [`ingest`]: the two ways orders come in — verified webhooks and paged pulls — each
//!   ending in one store transaction. No axum here.
//! - [`stock_push`]: pushing changed available-to-sell to a channel (push-inventory),
//!   recording what the channel answered per listing.
//! - [`settlements`]: the daily settlement import (fetch-settlements with cursor paging,
//!   one store import per page; `unsupported` skipped quietly).
//! - [`shipping`]: the carrier strategy and waybills (`create_waybill` job and on-demand),
//!   waybill cancellation, `confirm_shipment` to the channel and `track` polls.
//! - [`journals`]: period journals from settled money — built, checked balanced and
//!   queued with their `post_journal` jobs (API and automatic daily posting), and the
//!   job posting one through the accounting plugin.
//! - [`export`]: reconciliation reports as tables, written as CSV or XLSX.
//! - [`scheduler`]: the loop that enqueues due pulls, sweeps and lost stock pushes as jobs,
//!   and escalates overdue SLA deadlines.
//! - [`notify`]: the `notify` job — escalations POSTed to the merchant's webhook, signed
//!   with HMAC-SHA256 (`X-Wharf-Signature`).
//! - [`jobs`]: the durable job runner (leases, retry policy per kind, dead letters,
//!   circuit breaker).
//! - [`metrics`]: Prometheus counters and histograms (`GET /metrics`).
//! - [`api`]: axum routers, one module per resource, merged in [`api::router`]; auth as
//!   extractors; the OpenAPI document.
//! - [`warehouse`]: the warehouse page (`GET /warehouse`): embedded HTML, CSS and
//!   JavaScript with a same-origin Content-Security-Policy.
//! - [`demo`]: `wharf demo`, a server wired to a simulated Shopify shop.
//! - [`cli`]: the `wharf` command line.
//! - `native` (feature `native-plugins`): the benchmark's switch that verifies Shopify
//!   webhooks with the connector's code compiled natively (binary `wharf-native-bench`).
//! - [`plugin_cli`]: `wharf plugin run | test | new` over `wharf-harness`, and
//!   `wharf plugin keygen | pack | sign | verify`.

pub mod api;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod ingest;
pub mod jobs;
pub mod journals;
pub mod metrics;
#[cfg(feature = "native-plugins")]
pub mod native;
pub mod notify;
pub mod package;
pub mod plugin_cli;
pub mod registry;
pub mod scheduler;
pub mod settlements;
pub mod shipping;
pub mod state;
pub mod stock_push;
pub mod warehouse;

pub use config::ServerConfig;
pub use error::ApiError;
pub use state::AppState;

/// Start serving on an already-bound listener until `shutdown` resolves: the API, the
/// webhook ingress, the pull scheduler and the job runner. Returns after in-flight requests
/// and jobs drained.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(scheduler::run(state.clone(), stop_rx.clone()));
    let jobs = tokio::spawn(jobs::run(state.clone(), stop_rx));
    let app = api::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await?;
    scheduler.await??;
    jobs.await??;
    Ok(())
}
