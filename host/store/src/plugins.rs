//! The operator-owned plugin registry: one row per (name, version), with the component.

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use wharf_domain::manifest::Manifest;

use crate::db::{col, from_json, now_ms, to_json};
use crate::error::is_unique_violation;
use crate::{PluginRecord, PluginSignature, SignatureStatus, Store, StoreError};

const PLUGIN_COLS: &str = "id, name, version, kind, wit_version, manifest, sha256, size_bytes, \
     created_at, signature_status, signer_key_id, signer_vendor";

fn plugin_from_row(row: &AnyRow) -> Result<PluginRecord, StoreError> {
    let manifest: String = col(row, "manifest")?;
    let status: String = col(row, "signature_status")?;
    let status = SignatureStatus::parse(&status).ok_or_else(|| {
        StoreError::corrupt(format!("unknown plugin signature status {status:?}"))
    })?;
    Ok(PluginRecord {
        id: col(row, "id")?,
        name: col(row, "name")?,
        version: col(row, "version")?,
        kind: col(row, "kind")?,
        wit_version: col(row, "wit_version")?,
        manifest: from_json("manifest", &manifest)?,
        sha256: col(row, "sha256")?,
        size_bytes: col(row, "size_bytes")?,
        created_at: col(row, "created_at")?,
        signature: PluginSignature {
            status,
            key_id: col(row, "signer_key_id")?,
            vendor: col(row, "signer_vendor")?,
        },
    })
}

impl Store {
    /// Register an unsigned plugin version (see [`Store::insert_signed_plugin`]).
    pub async fn insert_plugin(
        &self,
        manifest: &Manifest,
        component: &[u8],
    ) -> Result<PluginRecord, StoreError> {
        self.insert_signed_plugin(manifest, component, &PluginSignature::unsigned())
            .await
    }

    /// Register a plugin version with the outcome of its package's signature check. The
    /// manifest is validated again here; the same (name, version) twice is a
    /// [`StoreError::Conflict`].
    pub async fn insert_signed_plugin(
        &self,
        manifest: &Manifest,
        component: &[u8],
        signature: &PluginSignature,
    ) -> Result<PluginRecord, StoreError> {
        manifest
            .validate()
            .map_err(|p| StoreError::InvalidInput(format!("manifest: {p}")))?;
        if component.is_empty() {
            return Err(StoreError::InvalidInput("the component is empty".into()));
        }
        let kind = serde_json::to_value(manifest.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| StoreError::InvalidInput("manifest kind".into()))?;
        let sha256 = hex::encode(Sha256::digest(component));
        let size_bytes = i64::try_from(component.len())
            .map_err(|_| StoreError::InvalidInput("component too large".into()))?;
        let created_at = now_ms();
        let res = sqlx::query(
            "INSERT INTO plugins (name, version, kind, wit_version, manifest, component, sha256, \
             size_bytes, created_at, signature_status, signer_key_id, signer_vendor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(&manifest.name)
        .bind(&manifest.version)
        .bind(&kind)
        .bind(&manifest.wit_version)
        .bind(to_json(manifest)?)
        .bind(component.to_vec())
        .bind(&sha256)
        .bind(size_bytes)
        .bind(created_at)
        .bind(signature.status.as_str())
        .bind(signature.key_id.clone())
        .bind(signature.vendor.clone())
        .fetch_one(&self.write)
        .await;
        let row = match res {
            Ok(row) => row,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "plugin {} version {} is already registered",
                    manifest.name, manifest.version
                )))
            }
            Err(e) => return Err(e.into()),
        };
        Ok(PluginRecord {
            id: col(&row, "id")?,
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            kind,
            wit_version: manifest.wit_version.clone(),
            manifest: manifest.clone(),
            sha256,
            size_bytes,
            created_at,
            signature: signature.clone(),
        })
    }

    /// Every registered plugin version, oldest first.
    pub async fn list_plugins(&self) -> Result<Vec<PluginRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {PLUGIN_COLS} FROM plugins ORDER BY id"))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(plugin_from_row).collect()
    }

    /// One plugin version's record.
    pub async fn get_plugin(&self, id: i64) -> Result<Option<PluginRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {PLUGIN_COLS} FROM plugins WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(plugin_from_row).transpose()
    }

    /// One plugin version's component bytes.
    pub async fn plugin_component(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT component FROM plugins WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| col::<Vec<u8>>(&r, "component")).transpose()
    }
}
