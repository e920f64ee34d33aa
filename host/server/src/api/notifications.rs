//! `/v1/notification-settings`: where the merchant's escalations are POSTed, signed with
//! HMAC-SHA256 of the secret (`X-Wharf-Signature: sha256=<hex>`). The secret is write-only.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use wharf_store::sla::NotificationSettings;

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/notification-settings", get(show).put(put))
}

/// The webhook to send notifications to. `Debug` hides the secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Signing secret, 16-200 bytes; never shown again.
    pub secret: String,
}

impl std::fmt::Debug for NotificationBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationBody")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The notification webhook (the secret is never returned).
#[utoipa::path(get, path = "/v1/notification-settings", tag = "notifications",
    responses((status = 200, body = NotificationSettings), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    Merchant(m): Merchant,
    State(state): State<AppState>,
) -> Result<Json<NotificationSettings>, ApiError> {
    state
        .store()
        .notification_settings(m)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no notification webhook is set".into()))
}

/// Set the notification webhook.
#[utoipa::path(put, path = "/v1/notification-settings", tag = "notifications",
    request_body = NotificationBody,
    responses((status = 200, body = NotificationSettings), (status = 400)),
    security(("bearer" = [])))]
pub async fn put(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Json(body): Json<NotificationBody>,
) -> Result<Json<NotificationSettings>, ApiError> {
    Ok(Json(
        state
            .store()
            .put_notification_settings(m, &body.url, &body.secret)
            .await?,
    ))
}
