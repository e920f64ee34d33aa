//! Registering a plugin: the manifest must be valid and target a contract version this host
//! supports, and the component must load in the sandbox and describe itself.

use wharf_domain::manifest::{Manifest, PluginKind};
use wharf_store::{PluginRecord, PluginSignature};

use crate::{ApiError, AppState};

/// Contract versions this host can run (0.1.0 plugins are adapted to the newest).
pub const SUPPORTED_WIT_VERSIONS: &[&str] = wharf_runtime::SUPPORTED_WIT_VERSIONS;

/// Largest component accepted.
pub const MAX_COMPONENT_BYTES: usize = 32 * 1024 * 1024;

/// Validate and store a plugin. Errors say what is wrong with the upload.
pub async fn register(
    state: &AppState,
    manifest_json: &[u8],
    component: &[u8],
    signature: &PluginSignature,
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
    if manifest.kind != PluginKind::Marketplace && manifest.wit_version == "0.1.0" {
        return Err(ApiError::Unprocessable(format!(
            "plugin kind {:?} needs wharf:connector@0.2.0 or later; 0.1.0 has only marketplace",
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
    let plugin = state
        .load_component(component.to_vec(), manifest.wit_version.clone())
        .await?
        .map_err(|e| ApiError::Unprocessable(format!("invalid component: {e}")))?;
    if plugin.kind() != manifest.kind {
        return Err(ApiError::Unprocessable(format!(
            "the manifest says kind {:?} but the component implements the {:?} world",
            manifest.kind,
            plugin.kind()
        )));
    }
    // Described through the world it implements (channel, shipping or ledger) with no
    // installation's config: a plugin that cannot say what it is is not registered.
    let ctx = wharf_runtime::CallContext {
        installation_id: 0,
        merchant_id: 0,
        config: Default::default(),
        secrets: Default::default(),
        egress: Default::default(),
        logs: std::sync::Arc::new(wharf_runtime::context::TracingLogSink),
    };
    state.runtime().describe(&plugin, &ctx).await.map_err(|e| {
        ApiError::Unprocessable(format!("the plugin does not describe itself: {e}"))
    })?;
    Ok(state
        .store()
        .insert_signed_plugin(&manifest, component, signature)
        .await?)
}

/// Check a package's signature against the server's trust settings (422 with the reason
/// when refused), then validate and store it like [`register`].
pub async fn register_package(
    state: &AppState,
    package: &crate::package::Package,
) -> Result<PluginRecord, ApiError> {
    let signature = state
        .config()
        .trust
        .check(package)
        .map_err(|reason| ApiError::Unprocessable(format!("plugin refused: {reason}")))?;
    register(state, &package.manifest, &package.component, &signature).await
}
