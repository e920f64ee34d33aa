//! The merchant's recorded consent per installation: which hosts and secret names were
//! granted to which plugin, when and by whom. Written in the same transaction as the
//! installation it belongs to (or replaced when the merchant consents again); read to
//! show it and to tell whether a plugin asks for more than was consented.

use sqlx::any::AnyRow;
use sqlx::Any;

use crate::db::{col, from_json, now_ms, to_json};
use crate::{Store, StoreError};

/// What the merchant consented to, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Consent {
    /// The plugin the consent was given for.
    pub plugin_id: i64,
    /// Hosts granted (the manifest's `hosts`, as restated by the merchant).
    pub hosts: Vec<String>,
    /// Secret names granted (the manifest's `secrets`).
    pub secrets: Vec<String>,
    /// When (Unix ms, UTC).
    pub consented_at: i64,
    /// Who: `api:<token label>` of the token that consented.
    pub consented_by: String,
}

/// A consent to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    pub plugin_id: i64,
    pub hosts: Vec<String>,
    pub secrets: Vec<String>,
    pub consented_by: String,
}

impl Consent {
    /// What `hosts` / `secrets` (a plugin's requests) ask for beyond this consent, one
    /// line per item (case-insensitive, as consent is checked); empty when covered.
    pub fn exceeded_by(&self, hosts: &[String], secrets: &[String]) -> Vec<String> {
        let beyond = |what: &str, asked: &[String], granted: &[String]| {
            asked
                .iter()
                .filter(|a| !granted.iter().any(|g| g.eq_ignore_ascii_case(a)))
                .map(|a| format!("{what} {a:?} was not consented to"))
                .collect::<Vec<_>>()
        };
        let mut out = beyond("host", hosts, &self.hosts);
        out.extend(beyond("secret", secrets, &self.secrets));
        out
    }
}

fn consent_from_row(row: &AnyRow) -> Result<Consent, StoreError> {
    Ok(Consent {
        plugin_id: col(row, "plugin_id")?,
        hosts: from_json("hosts", &col::<String>(row, "hosts")?)?,
        secrets: from_json("secrets", &col::<String>(row, "secrets")?)?,
        consented_at: col(row, "consented_at")?,
        consented_by: col(row, "consented_by")?,
    })
}

/// Record (or replace) the consent of installation `installation_id` inside `tx`.
pub(crate) async fn put(
    tx: &mut sqlx::Transaction<'_, Any>,
    merchant_id: i64,
    installation_id: i64,
    c: &NewConsent,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM installation_consents WHERE installation_id = $1")
        .bind(installation_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO installation_consents (installation_id, merchant_id, plugin_id, hosts, \
         secrets, consented_at, consented_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(installation_id)
    .bind(merchant_id)
    .bind(c.plugin_id)
    .bind(to_json(&c.hosts)?)
    .bind(to_json(&c.secrets)?)
    .bind(now_ms())
    .bind(&c.consented_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The recorded consent of one of a merchant's installations; `None` when the
    /// installation has none (created before consent was recorded) or is not theirs.
    pub async fn get_consent(
        &self,
        merchant_id: i64,
        installation_id: i64,
    ) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query(
            "SELECT plugin_id, hosts, secrets, consented_at, consented_by \
             FROM installation_consents WHERE installation_id = $1 AND merchant_id = $2",
        )
        .bind(installation_id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(consent_from_row).transpose()
    }

    /// Record the merchant's consent (again) for one of their installations, replacing
    /// the previous one. [`StoreError::NotFound`] when the installation is not theirs.
    pub async fn record_consent(
        &self,
        merchant_id: i64,
        installation_id: i64,
        consent: NewConsent,
    ) -> Result<Consent, StoreError> {
        let mut tx = self.begin().await?;
        let owned = sqlx::query("SELECT id FROM installations WHERE id = $1 AND merchant_id = $2")
            .bind(installation_id)
            .bind(merchant_id)
            .fetch_optional(&mut *tx)
            .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound(format!(
                "installation {installation_id}"
            )));
        }
        put(&mut tx, merchant_id, installation_id, &consent).await?;
        tx.commit().await?;
        self.get_consent(merchant_id, installation_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("installation {installation_id}")))
    }
}
