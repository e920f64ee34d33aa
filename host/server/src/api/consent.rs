//! The merchant's consent to what an installation's plugin may use, as recorded: shown on
//! `GET /v1/installations/{id}`, given again with `POST /v1/installations/{id}/consent`,
//! and checked before an installation is enabled — a plugin asking for more than the
//! recorded consent (another plugin than the one consented to, a host or secret not
//! consented) is refused until the merchant consents again.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use wharf_store::{Consent, Installation, NewConsent, PluginRecord};

use super::auth::{Actor, Merchant};
use super::installations::GrantConsent;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/installations/{id}/consent", post(consent_again))
}

/// An installation with the merchant's recorded consent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstallationView {
    #[serde(flatten)]
    pub installation: Installation,
    /// What the merchant consented to (none for installations created before consent was
    /// recorded).
    pub consent: Option<Consent>,
    /// What the installation's plugin asks for beyond `consent` (empty when covered):
    /// non-empty means the merchant must consent again before enabling it.
    pub consent_missing: Vec<String>,
}

/// The consent recorded with a new installation: the checked request (it restates the
/// manifest's lists exactly), by the caller.
pub(crate) fn recorded(
    plugin: &PluginRecord,
    consent: &Option<GrantConsent>,
    actor: String,
) -> NewConsent {
    let list = |v: Option<&Vec<String>>| v.cloned().unwrap_or_default();
    NewConsent {
        plugin_id: plugin.id,
        hosts: list(consent.as_ref().and_then(|c| c.hosts.as_ref())),
        secrets: list(consent.as_ref().and_then(|c| c.secrets.as_ref())),
        consented_by: actor,
    }
}

/// What `plugin` asks for beyond `consent`.
fn missing(consent: Option<&Consent>, plugin: &PluginRecord) -> Vec<String> {
    match consent {
        None => Vec::new(),
        Some(c) if c.plugin_id != plugin.id => vec![format!(
            "the consent was given for plugin {}, the installation now runs plugin {} ({} {})",
            c.plugin_id, plugin.id, plugin.name, plugin.version
        )],
        Some(c) => c.exceeded_by(&plugin.manifest.hosts, &plugin.manifest.secrets),
    }
}

async fn plugin_of(state: &AppState, inst: &Installation) -> Result<PluginRecord, ApiError> {
    state
        .store()
        .get_plugin(inst.plugin_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("plugin {} not found", inst.plugin_id)))
}

pub(crate) async fn view(
    state: &AppState,
    installation: Installation,
) -> Result<InstallationView, ApiError> {
    let consent = state
        .store()
        .get_consent(installation.merchant_id, installation.id)
        .await?;
    let plugin = plugin_of(state, &installation).await?;
    Ok(InstallationView {
        consent_missing: missing(consent.as_ref(), &plugin),
        consent,
        installation,
    })
}

/// Refuse (409, naming what is missing) when the plugin asks for more than was consented.
pub(crate) async fn check_covers(state: &AppState, inst: &Installation) -> Result<(), ApiError> {
    let v = view(state, inst.clone()).await?;
    if v.consent_missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "installation {}: {}; consent again with POST /v1/installations/{}/consent",
            inst.id,
            v.consent_missing.join("; "),
            inst.id
        )))
    }
}

/// Consent again to what the installation's plugin requests (exactly its manifest's
/// `hosts` and `secrets`); replaces the recorded consent.
#[utoipa::path(post, path = "/v1/installations/{id}/consent", tag = "installations",
    params(("id" = i64, Path)), request_body = GrantConsent,
    responses((status = 200, body = Consent), (status = 404),
        (status = 422, description = "the lists do not restate the plugin's requests")),
    security(("bearer" = [])))]
pub async fn consent_again(
    Merchant(merchant_id): Merchant,
    Actor(actor): Actor,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(req): Json<GrantConsent>,
) -> Result<Json<Consent>, ApiError> {
    let inst = state
        .store()
        .get_installation(merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("installation {id} not found")))?;
    let plugin = plugin_of(&state, &inst).await?;
    let problems = plugin
        .manifest
        .check_consent(req.hosts.as_deref(), req.secrets.as_deref());
    if !problems.is_empty() {
        return Err(ApiError::Unprocessable(problems.join("; ")));
    }
    let consent = recorded(&plugin, &Some(req), actor);
    Ok(Json(
        state
            .store()
            .record_consent(merchant_id, id, consent)
            .await?,
    ))
}
