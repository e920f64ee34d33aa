//! Registering a plugin: the manifest must be valid and target a contract version this host
//! supports, and the component must load in the sandbox and describe itself.

use wharf_domain::manifest::{Manifest, PluginKind};
use wharf_store::PluginRecord;

use crate::{ApiError, AppState};

/// Contract versions this host can run.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &["0.1.0"];

/// Largest component accepted.
pub const MAX_COMPONENT_BYTES: usize = 32 * 1024 * 1024;

/// Validate and store a plugin. Errors say what is wrong with the upload.
pub async fn register(
    state: &AppState,
    manifest_json: &[u8],
    component: &[u8],
) -> Result<PluginRecord, ApiError> {
    let manifest = Manifest::from_json(manifest_json)
        .map_err(|p| ApiError::Unprocessable(format!("invalid manifest: {p}")))?;
    if !SUPPORTED_WIT_VERSIONS.contains(&manifest.wit_version.as_str()) {
        return Err(ApiError::Unprocessable(format!(
            "plugin was built against wharf:connector@{}; this host supports {}",
            manifest.wit_version,
            SUPPORTED_WIT_VERSIONS.join(", ")
        )));
    }
    if manifest.kind != PluginKind::Marketplace {
        return Err(ApiError::Unprocessable(format!(
            "plugin kind {:?} is not supported by this host yet",
            manifest.kind
        )));
    }
    if component.is_empty() {
        return Err(ApiError::Unprocessable("component is empty".into()));
    }
    if component.len() > MAX_COMPONENT_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "component is larger than {MAX_COMPONENT_BYTES} bytes"
        )));
    }
    state
        .load_component(component.to_vec())
        .await?
        .map_err(|e| ApiError::Unprocessable(format!("invalid component: {e}")))?;
    Ok(state.store().insert_plugin(&manifest, component).await?)
}
