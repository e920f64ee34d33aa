//! How orders come in. Both paths end in a committed store transaction, so an
//! acknowledged webhook or an advanced cursor always has its orders on disk: a pull
//! commits each page with its cursor; concurrent webhooks are group-committed (one
//! transaction for many deliveries, each in its own savepoint).

use serde::Serialize;
use wharf_domain::connector::ConnectorError;
use wharf_store::{Counter, IngestReport, IngestSource, Installation};

use crate::{ApiError, AppState};

/// What an accepted webhook did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookAck {
    pub topic: String,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub duplicate_delivery: bool,
}

/// Verify a webhook delivery with the installation's plugin and store its orders. Returns
/// only after the orders are committed.
pub async fn webhook(
    state: &AppState,
    installation_id: i64,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<WebhookAck, ApiError> {
    let (inst, secrets) = state
        .store()
        .get_installation_with_secrets(installation_id)
        .await?
        .filter(|(i, _)| i.enabled)
        .ok_or_else(|| ApiError::NotFound(format!("no enabled installation {installation_id}")))?;
    let (plugin, hosts) = state.plugin(inst.plugin_id).await?;
    // Couriers and ledgers take no webhooks: the sender's mistake, told plainly.
    if plugin.kind() != wharf_domain::manifest::PluginKind::Marketplace {
        let kind = format!("{:?}", plugin.kind()).to_lowercase();
        return Err(ApiError::Unprocessable(format!(
            "installation {installation_id} is a {kind} connector; webhooks are for marketplace \
             installations"
        )));
    }
    let ctx = state.call_context_with(&inst, hosts, secrets);
    let event = match state
        .timed_call(
            inst.id,
            "verify_webhook",
            verify_webhook(state, &inst, &plugin, &ctx, headers, body),
        )
        .await
    {
        Ok(event) => event,
        Err(ConnectorError::InvalidSignature(reason)) => {
            state
                .store()
                .bump_counter(inst.id, Counter::WebhooksRejected)
                .await?;
            tracing::warn!(installation_id, %reason, "webhook rejected: bad signature");
            return Err(ApiError::BadSignature(format!(
                "webhook signature rejected: {reason}"
            )));
        }
        Err(ConnectorError::InvalidInput(reason)) => {
            state
                .store()
                .bump_counter(inst.id, Counter::WebhooksRejected)
                .await?;
            return Err(ApiError::BadRequest(format!("malformed webhook: {reason}")));
        }
        // A connector without webhooks (its platform pushes through its own message
        // service): the sender's mistake, not the installation's fault.
        Err(ConnectorError::Unsupported) => {
            return Err(ApiError::Plugin(ConnectorError::Unsupported))
        }
        Err(e) => {
            state
                .store()
                .record_error(inst.id, e.code(), &e.to_string())
                .await?;
            return Err(ApiError::Plugin(e));
        }
    };
    let topic = event.topic.clone();
    let source = IngestSource::Webhook {
        delivery_id: event.delivery_id,
        topic: event.topic,
    };
    // Committed together with concurrent webhooks (one transaction, one fsync); answered
    // only after that commit.
    let report = state
        .store()
        .ingest_grouped(&inst, event.orders, source)
        .await?;
    count_ingested(state, inst.id, "webhook", &report);
    tracing::info!(
        installation_id,
        merchant_id = inst.merchant_id,
        %topic,
        created = report.created,
        updated = report.updated,
        "webhook ingested"
    );
    Ok(WebhookAck {
        topic,
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        duplicate_delivery: report.duplicate_delivery,
    })
}

/// The plugin's `verify-webhook`; in the benchmark build with the native path on, the
/// connector's code compiled natively instead (see `crate::native`).
async fn verify_webhook(
    state: &AppState,
    inst: &Installation,
    plugin: &wharf_runtime::Plugin,
    ctx: &wharf_runtime::CallContext,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<wharf_runtime::WebhookEvent, ConnectorError> {
    #[cfg(feature = "native-plugins")]
    if crate::native::enabled()
        && wharf_runtime::native::PLATFORMS.contains(&inst.platform.as_str())
    {
        return state
            .runtime()
            .verify_webhook_native(&inst.platform, ctx, headers, &body);
    }
    #[cfg(not(feature = "native-plugins"))]
    let _ = inst;
    state
        .runtime()
        .verify_webhook(plugin, ctx, headers, body)
        .await
}

/// Count ingested orders by installation, source and result.
fn count_ingested(state: &AppState, installation_id: i64, source: &'static str, r: &IngestReport) {
    for (result, n) in [
        ("created", r.created),
        ("updated", r.updated),
        ("unchanged", r.unchanged),
    ] {
        if n > 0 {
            let labels = vec![
                ("installation", installation_id.to_string()),
                ("source", source.to_string()),
                ("result", result.to_string()),
            ];
            state
                .metrics()
                .inc("wharf_orders_ingested_total", labels, u64::from(n));
        }
    }
}

/// What one pull run did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PullReport {
    pub pages: u32,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
}

impl PullReport {
    fn add(&mut self, r: &IngestReport) {
        self.pages += 1;
        self.created += r.created;
        self.updated += r.updated;
        self.unchanged += r.unchanged;
    }
}

/// Pull from the stored cursor to the end, one page per call; each page and the cursor
/// after it are committed together, so a crash resumes exactly where it stopped.
pub async fn pull(state: &AppState, inst: &Installation) -> Result<PullReport, ApiError> {
    let Some(_guard) = state.begin_pull(inst.id) else {
        return Err(ApiError::Conflict(format!(
            "a pull of installation {} is already running",
            inst.id
        )));
    };
    let result = pull_pages(state, inst).await;
    if let Err(e) = &result {
        let (code, message) = match e {
            ApiError::Plugin(ce) => (ce.code(), ce.to_string()),
            other => (other.code(), other.to_string()),
        };
        state
            .store()
            .bump_counter(inst.id, Counter::PullsFailed)
            .await?;
        state.store().record_error(inst.id, code, &message).await?;
        tracing::warn!(installation_id = inst.id, merchant_id = inst.merchant_id, %message, "pull failed");
    }
    result
}

async fn pull_pages(state: &AppState, inst: &Installation) -> Result<PullReport, ApiError> {
    let (plugin, hosts) = state.plugin(inst.plugin_id).await?;
    let ctx = state.call_context(inst, hosts).await?;
    // Re-read the cursor: another run may have advanced it since `inst` was loaded.
    let mut cursor = state
        .store()
        .get_installation_unscoped(inst.id)
        .await?
        .and_then(|i| i.cursor);
    let mut report = PullReport::default();
    loop {
        let page = state
            .timed_call(
                inst.id,
                "pull_orders",
                state.runtime().pull_orders(&plugin, &ctx, cursor.clone()),
            )
            .await?;
        let ingested = state
            .store()
            .ingest(
                inst,
                &page.orders,
                IngestSource::Pull {
                    cursor: page.cursor.clone(),
                },
            )
            .await?;
        count_ingested(state, inst.id, "pull", &ingested);
        report.add(&ingested);
        if page.cursor.is_some() {
            cursor = page.cursor;
        }
        if !page.more {
            break;
        }
        if report.pages >= state.config().max_pages_per_pull {
            return Err(ApiError::Plugin(ConnectorError::Permanent(format!(
                "pull stopped after {} pages without reaching the end",
                report.pages
            ))));
        }
    }
    tracing::info!(
        installation_id = inst.id,
        merchant_id = inst.merchant_id,
        pages = report.pages,
        created = report.created,
        updated = report.updated,
        "pull finished"
    );
    Ok(report)
}

/// What one verification sweep did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Stuck orders re-read through get-order.
    pub checked: u32,
    /// Orders the platform had moved on (stored now).
    pub repaired: u32,
    /// Orders the platform no longer returns.
    pub missing: u32,
}

/// Active verification: re-read every order of the installation that sits in a non-final
/// status longer than the threshold, and store what the platform says now. This closes
/// the gap a lost webhook (e.g. a dropped payment callback) leaves.
pub async fn verify(state: &AppState, inst: &Installation) -> Result<VerifyReport, ApiError> {
    let settings = &state.config().verify;
    let older_than = crate::scheduler::now_ms() - settings.stale_after.as_millis() as i64;
    let stale = state
        .store()
        .stale_orders(inst.id, older_than, settings.max_orders)
        .await?;
    let mut report = VerifyReport::default();
    if stale.is_empty() {
        return Ok(report);
    }
    let (plugin, hosts) = state.plugin(inst.plugin_id).await?;
    let ctx = state.call_context(inst, hosts).await?;
    for external_id in stale {
        report.checked += 1;
        match state
            .timed_call(
                inst.id,
                "get_order",
                state.runtime().get_order(&plugin, &ctx, &external_id),
            )
            .await
        {
            Ok(Some(order)) => {
                let ingested = state
                    .store()
                    .ingest(inst, std::slice::from_ref(&order), IngestSource::Verify)
                    .await?;
                count_ingested(state, inst.id, "verify", &ingested);
                report.repaired += ingested.updated;
            }
            Ok(None) => {
                report.missing += 1;
                tracing::warn!(installation_id = inst.id, %external_id, "verification: the platform no longer has this order");
            }
            Err(e) => {
                state
                    .store()
                    .record_error(
                        inst.id,
                        e.code(),
                        &format!("verification of {external_id}: {e}"),
                    )
                    .await?;
                return Err(ApiError::Plugin(e));
            }
        }
    }
    tracing::info!(
        installation_id = inst.id,
        merchant_id = inst.merchant_id,
        checked = report.checked,
        repaired = report.repaired,
        missing = report.missing,
        "verification sweep finished"
    );
    Ok(report)
}
