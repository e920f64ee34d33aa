//! `/v1/installations`: a merchant enables a plugin for one shop with config, secrets and
//! an egress grant; reads status, counters and logs; pulls on demand.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use wharf_domain::manifest::{host_matches, valid_host_pattern, validate_config, Manifest};
use wharf_store::{Installation, LogLine, NewInstallation};

use super::auth::{Actor, Merchant};
use super::consent::InstallationView;
use crate::ingest::{self, PullReport};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/installations", get(list).post(create))
        .route("/v1/installations/{id}", get(show))
        .route("/v1/installations/{id}/enable", post(enable))
        .route("/v1/installations/{id}/disable", post(disable))
        .route("/v1/installations/{id}/pull", post(pull_now))
        .route("/v1/installations/{id}/logs", get(logs))
}

/// Enable a plugin for a shop.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstallation {
    pub plugin_id: i64,
    /// The shop on the platform, e.g. `acme.myshopify.com`.
    pub shop: String,
    /// Configuration, validated against the plugin's config schema.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Secrets named in the plugin's manifest. Write-only: never returned.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Hosts the merchant allows the plugin to reach; each must be requested by the plugin.
    #[serde(default)]
    pub egress_grant: Vec<String>,
    /// Pull interval in seconds (default 300, minimum 5).
    pub pull_interval_secs: Option<i64>,
    /// The merchant's explicit grant of what the plugin requests: exactly the manifest's
    /// `hosts` and `secrets` (`GET /v1/plugins/{id}/capabilities` lists them). Required.
    pub consent: Option<GrantConsent>,
}

/// `consent`: both lists, restating the plugin's requests one for one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantConsent {
    pub hosts: Option<Vec<String>>,
    pub secrets: Option<Vec<String>>,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

/// Check a request against the plugin's manifest; every problem is reported.
fn check_against_manifest(
    req: &CreateInstallation,
    manifest: &Manifest,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut problems = Vec::new();
    let consent = req.consent.as_ref();
    problems.extend(manifest.check_consent(
        consent.and_then(|c| c.hosts.as_deref()),
        consent.and_then(|c| c.secrets.as_deref()),
    ));
    let config = match validate_config(&manifest.config_schema, &req.config) {
        Ok(c) => c,
        Err(p) => {
            problems.extend(p.0);
            BTreeMap::new()
        }
    };
    if req.shop.trim().is_empty() {
        problems.push("shop: required".into());
    }
    for name in req.secrets.keys() {
        if !manifest.secrets.contains(name) {
            problems.push(format!(
                "secrets.{name}: the plugin does not declare this secret"
            ));
        }
    }
    for name in &manifest.secrets {
        if !req.secrets.contains_key(name) {
            problems.push(format!("secrets.{name}: required by the plugin"));
        }
    }
    for host in &req.egress_grant {
        if !valid_host_pattern(host) {
            problems.push(format!(
                "egress_grant: {host:?} is not a host name or *.suffix pattern"
            ));
        } else if !manifest
            .hosts
            .iter()
            .any(|p| p == host || host_matches(p, host.trim_start_matches("*.")))
        {
            problems.push(format!(
                "egress_grant: the plugin does not request access to {host:?} (it requests {:?})",
                manifest.hosts
            ));
        }
    }
    match req.pull_interval_secs {
        Some(s) if !(5..=86_400).contains(&s) => {
            problems.push("pull_interval_secs: must be between 5 and 86400".into())
        }
        _ => {}
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ApiError::Unprocessable(problems.join("; ")))
    }
}

/// Enable a plugin for a shop.
#[utoipa::path(post, path = "/v1/installations", tag = "installations", request_body = CreateInstallation,
    responses((status = 201, body = Installation), (status = 404, description = "no such plugin"),
        (status = 409, description = "already installed for this shop"),
        (status = 422, description = "config, secrets, grant or consent do not fit the plugin's manifest")),
    security(("bearer" = [])))]
pub async fn create(
    Merchant(merchant_id): Merchant,
    Actor(actor): Actor,
    State(state): State<AppState>,
    Json(req): Json<CreateInstallation>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    let plugin = state
        .store()
        .get_plugin(req.plugin_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("plugin {} not found", req.plugin_id)))?;
    let config = check_against_manifest(&req, &plugin.manifest)?;
    let default_interval = state.config().default_pull_interval.as_secs() as i64;
    // Checked above to restate the manifest's lists exactly: record them as consented.
    let consent = super::consent::recorded(&plugin, &req.consent, actor);
    let inst = state
        .store()
        .create_installation_with_consent(
            NewInstallation {
                merchant_id,
                plugin_id: plugin.id,
                shop: req.shop.trim().to_string(),
                config,
                secrets: req.secrets,
                egress_grant: req.egress_grant,
                pull_interval_secs: req.pull_interval_secs.unwrap_or(default_interval),
            },
            Some(consent),
        )
        .await?;
    tracing::info!(merchant_id, installation_id = inst.id, plugin = %plugin.name, "installation created");
    Ok((StatusCode::CREATED, Json(inst)))
}

/// The merchant's installations.
#[utoipa::path(get, path = "/v1/installations", tag = "installations",
    responses((status = 200, body = Vec<Installation>)), security(("bearer" = [])))]
pub async fn list(
    Merchant(merchant_id): Merchant,
    State(state): State<AppState>,
) -> Result<Json<Vec<Installation>>, ApiError> {
    Ok(Json(state.store().list_installations(merchant_id).await?))
}

async fn load(state: &AppState, merchant_id: i64, id: i64) -> Result<Installation, ApiError> {
    state
        .store()
        .get_installation(merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("installation {id} not found")))
}

/// One installation: last sync, last error, counters, and the merchant's recorded consent.
#[utoipa::path(get, path = "/v1/installations/{id}", tag = "installations", params(("id" = i64, Path)),
    responses((status = 200, body = InstallationView), (status = 404)), security(("bearer" = [])))]
pub async fn show(
    Merchant(merchant_id): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<InstallationView>, ApiError> {
    let installation = load(&state, merchant_id, id).await?;
    Ok(Json(super::consent::view(&state, installation).await?))
}

async fn set_enabled(
    state: &AppState,
    merchant_id: i64,
    id: i64,
    enabled: bool,
) -> Result<Json<Installation>, ApiError> {
    if !state
        .store()
        .set_installation_enabled(merchant_id, id, enabled)
        .await?
    {
        return Err(ApiError::NotFound(format!("installation {id} not found")));
    }
    Ok(Json(load(state, merchant_id, id).await?))
}

/// Enable an installation (webhooks accepted, pulls scheduled).
#[utoipa::path(post, path = "/v1/installations/{id}/enable", tag = "installations", params(("id" = i64, Path)),
    responses((status = 200, body = Installation), (status = 404),
        (status = 409, description = "the plugin asks for more than the recorded consent: consent again")),
    security(("bearer" = [])))]
pub async fn enable(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Installation>, ApiError> {
    super::consent::check_covers(&state, &load(&state, m, id).await?).await?;
    set_enabled(&state, m, id, true).await
}

/// Disable an installation: its webhooks get 404 and no pulls run.
#[utoipa::path(post, path = "/v1/installations/{id}/disable", tag = "installations", params(("id" = i64, Path)),
    responses((status = 200, body = Installation), (status = 404)), security(("bearer" = [])))]
pub async fn disable(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Installation>, ApiError> {
    set_enabled(&state, m, id, false).await
}

/// Pull now, from the stored cursor to the end; returns what the pull did.
#[utoipa::path(post, path = "/v1/installations/{id}/pull", tag = "installations", params(("id" = i64, Path)),
    responses((status = 200, body = PullReport), (status = 404), (status = 409, description = "a pull is already running"),
        (status = 502, description = "the plugin or platform failed")),
    security(("bearer" = [])))]
pub async fn pull_now(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<PullReport>, ApiError> {
    let inst = load(&state, m, id).await?;
    if !inst.enabled {
        return Err(ApiError::Conflict(format!("installation {id} is disabled")));
    }
    Ok(Json(ingest::pull(&state, &inst).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LogQuery {
    /// Most recent lines to return (default 100, max 1000).
    pub limit: Option<u32>,
}

/// The installation's log: plugin log lines and sandbox refusals (e.g. egress denied).
#[utoipa::path(get, path = "/v1/installations/{id}/logs", tag = "installations", params(("id" = i64, Path), LogQuery),
    responses((status = 200, body = Vec<LogLine>), (status = 404)), security(("bearer" = [])))]
pub async fn logs(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<LogQuery>,
) -> Result<Json<Vec<LogLine>>, ApiError> {
    load(&state, m, id).await?;
    Ok(Json(
        state
            .store()
            .list_logs(m, id, q.limit.unwrap_or(100).min(1000))
            .await?,
    ))
}
