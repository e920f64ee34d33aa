//! `/v1/plugins`: the plugin registry. Uploading is the operator's; any authenticated
//! caller may list and read plugins and what they request (merchants choose from them).

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use wharf_domain::manifest::Capabilities;
use wharf_store::PluginRecord;

use super::auth::{Operator, Principal};
use crate::package::Package;
use crate::{registry, ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/plugins", get(list).post(upload))
        .route("/v1/plugins/{id}", get(show))
        .route("/v1/plugins/{id}/capabilities", get(capabilities))
        .layer(axum::extract::DefaultBodyLimit::max(
            registry::MAX_COMPONENT_BYTES + 1024 * 1024,
        ))
}

/// Upload a plugin package (`wharf plugin pack`, signed with `wharf plugin sign`): the
/// request body is the `.wharfpkg` file (`Content-Type: application/vnd.wharf.package` or
/// `application/octet-stream`), or a multipart form with one `package` part. Its signature
/// must verify against a trusted key (`wharf serve --trusted-keys`). A multipart form with
/// `manifest` and `component` parts is an unsigned package: accepted only in `--dev-mode`.
#[utoipa::path(post, path = "/v1/plugins", tag = "plugins",
    request_body(content_type = "application/vnd.wharf.package", description = "a `.wharfpkg` file; or multipart/form-data with a `package` part, or (dev mode only) `manifest` + `component` parts"),
    responses((status = 201, body = PluginRecord), (status = 409, description = "this name and version exist"),
        (status = 422, description = "unsigned, tampered or untrusted package; invalid manifest or component")),
    security(("bearer" = [])))]
pub async fn upload(
    _op: Operator,
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<PluginRecord>), ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let max = registry::MAX_COMPONENT_BYTES;
    let package = if multipart {
        let form = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("multipart: {e}")))?;
        package_from_form(form, max).await?
    } else {
        let body = Bytes::from_request(req, &state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("body: {e}")))?;
        parse_package(&body, max)?
    };
    let record = registry::register_package(&state, &package).await?;
    tracing::info!(plugin = %record.name, version = %record.version,
        signature = record.signature.status.as_str(), key_id = ?record.signature.key_id,
        "plugin registered");
    Ok((StatusCode::CREATED, Json(record)))
}

fn parse_package(bytes: &[u8], max: usize) -> Result<Package, ApiError> {
    Package::parse(bytes, max).map_err(|e| ApiError::Unprocessable(format!("plugin refused: {e}")))
}

/// A `package` part, or `manifest` + `component` parts (an unsigned package).
async fn package_from_form(mut form: Multipart, max: usize) -> Result<Package, ApiError> {
    let (mut manifest, mut component, mut package) = (None, None, None);
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
            "package" => package = Some(bytes),
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unexpected multipart part {other:?}"
                )))
            }
        }
    }
    if let Some(package) = package {
        if manifest.is_some() || component.is_some() {
            return Err(ApiError::BadRequest(
                "send either a `package` part or `manifest` + `component` parts, not both".into(),
            ));
        }
        return parse_package(&package, max);
    }
    let manifest =
        manifest.ok_or_else(|| ApiError::BadRequest("missing multipart part `manifest`".into()))?;
    let component = component
        .ok_or_else(|| ApiError::BadRequest("missing multipart part `component`".into()))?;
    Ok(Package::new(manifest.to_vec(), component.to_vec()))
}

/// A plugin and what it requests of the merchant who installs it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PluginDetail {
    #[serde(flatten)]
    pub plugin: PluginRecord,
    pub capabilities: Capabilities,
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

async fn load(state: &AppState, id: i64) -> Result<PluginRecord, ApiError> {
    state
        .store()
        .get_plugin(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("plugin {id} not found")))
}

/// Show one plugin: its record, signature status and signer, and the capabilities (hosts,
/// secrets, config keys) it requests, in plain words too.
#[utoipa::path(get, path = "/v1/plugins/{id}", tag = "plugins",
    params(("id" = i64, Path)), responses((status = 200, body = PluginDetail), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    _p: Principal,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<PluginDetail>, ApiError> {
    let plugin = load(&state, id).await?;
    let capabilities = plugin.manifest.capabilities();
    Ok(Json(PluginDetail {
        plugin,
        capabilities,
    }))
}

/// What a plugin requests — hosts, secrets, config keys — in plain words, with the
/// `consent` an installation must send to grant it.
#[utoipa::path(get, path = "/v1/plugins/{id}/capabilities", tag = "plugins",
    params(("id" = i64, Path)), responses((status = 200, body = Capabilities), (status = 404)),
    security(("bearer" = [])))]
pub async fn capabilities(
    _p: Principal,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Capabilities>, ApiError> {
    Ok(Json(load(&state, id).await?.manifest.capabilities()))
}
