//! `/v1/plugins`: the plugin registry. Uploading is the operator's; any authenticated
//! caller may list and read plugins (merchants choose from them).

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use wharf_store::PluginRecord;

use super::auth::{Operator, Principal};
use crate::{registry, ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/plugins", get(list).post(upload))
        .route("/v1/plugins/{id}", get(show))
        .layer(axum::extract::DefaultBodyLimit::max(
            registry::MAX_COMPONENT_BYTES + 1024 * 1024,
        ))
}

/// Upload a plugin: multipart form with a `manifest` part (JSON) and a `component` part
/// (the Wasm component bytes).
#[utoipa::path(post, path = "/v1/plugins", tag = "plugins",
    request_body(content_type = "multipart/form-data", description = "parts `manifest` (JSON) and `component` (application/wasm)"),
    responses((status = 201, body = PluginRecord), (status = 409, description = "this name and version exist"),
        (status = 422, description = "invalid manifest or component")),
    security(("bearer" = [])))]
pub async fn upload(
    _op: Operator,
    State(state): State<AppState>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<PluginRecord>), ApiError> {
    let (mut manifest, mut component) = (None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(format!("multipart: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::BadRequest(format!("multipart part {name}: {e}")))?;
        match name.as_str() {
            "manifest" => manifest = Some(bytes),
            "component" => component = Some(bytes),
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unexpected multipart part {other:?}"
                )))
            }
        }
    }
    let manifest =
        manifest.ok_or_else(|| ApiError::BadRequest("missing multipart part `manifest`".into()))?;
    let component = component
        .ok_or_else(|| ApiError::BadRequest("missing multipart part `component`".into()))?;
    let record = registry::register(&state, &manifest, &component).await?;
    tracing::info!(plugin = %record.name, version = %record.version, "plugin registered");
    Ok((StatusCode::CREATED, Json(record)))
}

/// List registered plugins.
#[utoipa::path(get, path = "/v1/plugins", tag = "plugins",
    responses((status = 200, body = Vec<PluginRecord>)), security(("bearer" = [])))]
pub async fn list(
    _p: Principal,
    State(state): State<AppState>,
) -> Result<Json<Vec<PluginRecord>>, ApiError> {
    Ok(Json(state.store().list_plugins().await?))
}

/// Show one plugin, with the capabilities (hosts, secrets, config schema) it requests.
#[utoipa::path(get, path = "/v1/plugins/{id}", tag = "plugins",
    params(("id" = i64, Path)), responses((status = 200, body = PluginRecord), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    _p: Principal,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<PluginRecord>, ApiError> {
    let plugin = state
        .store()
        .get_plugin(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("plugin {id} not found")))?;
    Ok(Json(plugin))
}
