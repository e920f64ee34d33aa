//! Merchants (tenants) and API tokens. Tokens are shown once; only their SHA-256 is kept.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{col, now_ms};
use crate::{Merchant, Store, StoreError, TokenScope};

const TOKEN_PREFIX: &str = "wharf_";
const TOKEN_BYTES: usize = 32;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Create a merchant.
    pub async fn create_merchant(&self, name: &str) -> Result<Merchant, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(StoreError::InvalidInput(
                "merchant name must be 1-200 bytes".into(),
            ));
        }
        let created_at = now_ms();
        let row =
            sqlx::query("INSERT INTO merchants (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(created_at)
                .fetch_one(&self.write)
                .await?;
        Ok(Merchant {
            id: col(&row, "id")?,
            name: name.to_string(),
            created_at,
        })
    }

    /// Look a merchant up by id.
    pub async fn get_merchant(&self, id: i64) -> Result<Option<Merchant>, StoreError> {
        let row = sqlx::query("SELECT id, name, created_at FROM merchants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(Merchant {
                id: col(&r, "id")?,
                name: col(&r, "name")?,
                created_at: col(&r, "created_at")?,
            })
        })
        .transpose()
    }

    /// Issue a new API token: `wharf_` + 32 random bytes in hex. The plain token is
    /// returned once; the store keeps only its SHA-256.
    pub async fn issue_token(&self, scope: TokenScope, label: &str) -> Result<String, StoreError> {
        let merchant_id = match scope {
            TokenScope::Operator => None,
            TokenScope::Merchant(id) => {
                if self.get_merchant(id).await?.is_none() {
                    return Err(StoreError::NotFound(format!("merchant {id}")));
                }
                Some(id)
            }
        };
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        sqlx::query(
            "INSERT INTO api_tokens (token_sha256, scope, merchant_id, label, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(if merchant_id.is_some() {
            "merchant"
        } else {
            "operator"
        })
        .bind(merchant_id)
        .bind(label)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(token)
    }

    /// The label of a valid presented token (who acted, for audit trails); `None` for
    /// unknown or revoked tokens.
    pub async fn token_label(&self, token: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT label FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| col(&r, "label")).transpose()
    }

    /// Resolve a presented token to its scope; `None` for unknown, malformed or revoked
    /// tokens.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenScope>, StoreError> {
        let well_formed = token.strip_prefix(TOKEN_PREFIX).is_some_and(|h| {
            h.len() == TOKEN_BYTES * 2 && h.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !well_formed {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT scope, merchant_id FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let scope: String = col(&row, "scope")?;
        let merchant_id: Option<i64> = col(&row, "merchant_id")?;
        match (scope.as_str(), merchant_id) {
            ("operator", None) => Ok(Some(TokenScope::Operator)),
            ("merchant", Some(id)) => Ok(Some(TokenScope::Merchant(id))),
            _ => Err(StoreError::corrupt(
                "api_tokens: scope and merchant disagree",
            )),
        }
    }
}
