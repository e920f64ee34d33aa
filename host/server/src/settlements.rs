//! The daily settlement import: for one installation and a period `[start, end)` (the
//! previous local day when the scheduler enqueues it), page through the plugin's
//! `fetch-settlements` with its cursor and store every page through
//! `Store::import_settlements` — the same function the admin import endpoint uses — so
//! re-running a day changes nothing. A plugin that answers `unsupported` is skipped
//! quietly: the job succeeds, nothing is retried.

use serde::{Deserialize, Serialize};
use wharf_domain::connector::ConnectorError;
use wharf_store::settlements::SettlementImport;
use wharf_store::{Installation, StoreError};

use crate::{ApiError, AppState};

/// The `settlements` job's payload: the period to import, Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: i64,
    pub end: i64,
}

/// What one import run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportRun {
    /// Pages fetched.
    pub pages: u32,
    /// The plugin does not implement fetch-settlements (nothing imported).
    pub unsupported: bool,
    #[serde(flatten)]
    pub import: SettlementImport,
}

/// Import the installation's settlements for `period`, page by page.
pub async fn import(
    state: &AppState,
    inst: &Installation,
    period: Period,
) -> Result<ImportRun, ApiError> {
    let (plugin, hosts) = state.plugin(inst.plugin_id).await?;
    let ctx = state.call_context(inst, hosts).await?;
    let mut run = ImportRun::default();
    let mut cursor: Option<String> = None;
    let max_pages = state.config().settlements.max_pages;
    loop {
        let answer = state
            .timed_call(
                inst.id,
                "fetch_settlements",
                state.runtime().fetch_settlements(
                    &plugin,
                    &ctx,
                    period.start,
                    period.end,
                    cursor.clone(),
                ),
            )
            .await;
        let page = match answer {
            Ok(page) => page,
            Err(ConnectorError::Unsupported) if run.pages == 0 => {
                tracing::debug!(
                    installation_id = inst.id,
                    "fetch-settlements unsupported: settlement import skipped"
                );
                run.unsupported = true;
                return Ok(run);
            }
            Err(e) => return Err(ApiError::Plugin(e)),
        };
        run.pages += 1;
        let stored = state
            .store()
            .import_settlements(inst.merchant_id, inst.id, &page)
            .await
            .map_err(|e| match e {
                // The plugin handed over records that cannot be stored: a plugin bug that
                // retrying will not fix.
                StoreError::InvalidInput(m) => ApiError::Plugin(ConnectorError::Permanent(
                    format!("fetch-settlements returned an invalid page: {m}"),
                )),
                other => other.into(),
            })?;
        run.import.lines_changed += stored.lines_changed;
        run.import.lines_unchanged += stored.lines_unchanged;
        run.import.payouts_changed += stored.payouts_changed;
        run.import.payouts_unchanged += stored.payouts_unchanged;
        if !page.more {
            break;
        }
        if page.cursor.is_none() || page.cursor == cursor {
            return Err(ApiError::Plugin(ConnectorError::Permanent(
                "fetch-settlements said more pages follow but gave no new cursor".into(),
            )));
        }
        if run.pages >= max_pages {
            return Err(ApiError::Plugin(ConnectorError::Permanent(format!(
                "settlement import stopped after {} pages without reaching the end",
                run.pages
            ))));
        }
        cursor = page.cursor;
    }
    tracing::info!(
        installation_id = inst.id,
        merchant_id = inst.merchant_id,
        pages = run.pages,
        lines_changed = run.import.lines_changed,
        payouts_changed = run.import.payouts_changed,
        "settlement import finished"
    );
    Ok(run)
}
