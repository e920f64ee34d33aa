//! Shipping: `/v1/carrier-rules` and `/v1/shipping-settings` (the carrier strategy, the
//! sender address, tracking providers), and per order `/waybill` (create / re-create on
//! demand), `/waybill/cancel`, `/label` (the printable bytes), `/shipments`, `/ship` and
//! `/tracking`. Invalid rules are 422 with the reason; illegal moves 409.

use axum::extract::{Path, State as AxState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use wharf_domain::carrier::CarrierRules;
use wharf_domain::courier::LabelFormat;
use wharf_domain::fulfillment::State;
use wharf_store::fulfillment::{Fulfillment, TransitionRequest};
use wharf_store::shipping::{Shipment, ShippingSettings, StoredTrackingEvent};
use wharf_store::StoreError;

use super::auth::{Actor, Merchant};
use crate::shipping::Choice;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/carrier-rules", get(show_rules).put(put_rules))
        .route(
            "/v1/shipping-settings",
            get(show_settings).put(put_settings),
        )
        .route("/v1/orders/{id}/waybill", post(waybill))
        .route("/v1/orders/{id}/waybill/cancel", post(cancel))
        .route("/v1/orders/{id}/label", get(label))
        .route("/v1/orders/{id}/shipments", get(shipments))
        .route("/v1/orders/{id}/ship", post(ship))
        .route("/v1/orders/{id}/tracking", get(tracking))
}

fn unprocessable(e: StoreError) -> ApiError {
    match e {
        StoreError::InvalidInput(m) => ApiError::Unprocessable(m),
        other => other.into(),
    }
}

/// The merchant's carrier rules (ordered) and default pick.
#[utoipa::path(get, path = "/v1/carrier-rules", tag = "shipping",
    responses((status = 200, body = CarrierRules)), security(("bearer" = [])))]
pub async fn show_rules(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
) -> Result<Json<CarrierRules>, ApiError> {
    Ok(Json(state.store().carrier_rules(m).await?))
}

/// Replace the carrier rules. The first rule matching the destination region and parcel
/// weight picks a fixed courier installation or the cheapest quote among several; the
/// default applies when none matches.
#[utoipa::path(put, path = "/v1/carrier-rules", tag = "shipping", request_body = CarrierRules,
    responses((status = 200, body = CarrierRules),
        (status = 422, description = "unknown installation, not a courier, bad weight range, …")),
    security(("bearer" = [])))]
pub async fn put_rules(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Json(rules): Json<CarrierRules>,
) -> Result<Json<CarrierRules>, ApiError> {
    Ok(Json(
        state
            .store()
            .put_carrier_rules(m, rules)
            .await
            .map_err(unprocessable)?,
    ))
}

/// The sender (warehouse) address and which courier installation tracks which carrier.
#[utoipa::path(get, path = "/v1/shipping-settings", tag = "shipping",
    responses((status = 200, body = ShippingSettings)), security(("bearer" = [])))]
pub async fn show_settings(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
) -> Result<Json<ShippingSettings>, ApiError> {
    Ok(Json(state.store().shipping_settings(m).await?))
}

/// Replace the shipping settings.
#[utoipa::path(put, path = "/v1/shipping-settings", tag = "shipping", request_body = ShippingSettings,
    responses((status = 200, body = ShippingSettings), (status = 422)), security(("bearer" = [])))]
pub async fn put_settings(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Json(settings): Json<ShippingSettings>,
) -> Result<Json<ShippingSettings>, ApiError> {
    Ok(Json(
        state
            .store()
            .put_shipping_settings(m, settings)
            .await
            .map_err(unprocessable)?,
    ))
}

/// An on-demand waybill: pick another carrier (or service), or let the rules choose.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaybillBody {
    /// A courier installation to use instead of the rules.
    pub installation_id: Option<i64>,
    /// The carrier's service code.
    pub service_code: Option<String>,
}

/// Create (or re-create) the order's waybill now. A labelled order's current waybill is
/// cancelled at its courier first.
#[utoipa::path(post, path = "/v1/orders/{id}/waybill", tag = "shipping",
    params(("id" = i64, Path)), request_body = WaybillBody,
    responses((status = 200, body = Shipment), (status = 404),
        (status = 409, description = "the order is not packed or labelled"),
        (status = 422, description = "no rule matches, unknown courier, no sender address, …"),
        (status = 502, description = "the courier failed")),
    security(("bearer" = [])))]
pub async fn waybill(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
    body: Option<Json<WaybillBody>>,
) -> Result<Json<Shipment>, ApiError> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let choice = Choice {
        installation_id: body.installation_id,
        service_code: body.service_code,
    };
    let result = crate::shipping::create_waybill(&state, m, id, Some(choice), &actor).await;
    Ok(Json(result.map_err(|e| match e {
        ApiError::Plugin(wharf_domain::connector::ConnectorError::InvalidInput(m)) => {
            ApiError::Unprocessable(m)
        }
        other => other,
    })?))
}

/// Cancel the order's waybill at its courier (the order goes back to packed). Refused
/// once shipped.
#[utoipa::path(post, path = "/v1/orders/{id}/waybill/cancel", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, body = Shipment), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn cancel(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Shipment>, ApiError> {
    Ok(Json(
        crate::shipping::cancel_waybill(&state, m, id, &actor).await?,
    ))
}

/// The label of the order's live shipment: `application/pdf`, or ZPL as `text/plain`
/// with a `.zpl` attachment filename.
#[utoipa::path(get, path = "/v1/orders/{id}/label", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the label bytes", content_type = "application/pdf"),
        (status = 404, description = "no such order, or no label yet")),
    security(("bearer" = [])))]
pub async fn label(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (format, bytes, tracking) = state.store().label(m, id).await?;
    let safe: String = tracking
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let (content_type, ext) = match format {
        LabelFormat::Pdf => ("application/pdf", "pdf"),
        LabelFormat::Zpl => ("text/plain; charset=utf-8", "zpl"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"label-{safe}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The order's shipments, oldest first (cancelled ones included).
#[utoipa::path(get, path = "/v1/orders/{id}/shipments", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Shipment>), (status = 404)), security(("bearer" = [])))]
pub async fn shipments(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Shipment>>, ApiError> {
    Ok(Json(state.store().shipments(m, id).await?))
}

/// Hand a labelled order to the carrier: `labelled → shipped` (needs a label), which
/// enqueues the channel's confirm-shipment and starts tracking.
#[utoipa::path(post, path = "/v1/orders/{id}/ship", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, body = Fulfillment), (status = 404),
        (status = 409, description = "no label yet, or the order is not labelled")),
    security(("bearer" = [])))]
pub async fn ship(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Fulfillment>, ApiError> {
    let live = state.store().live_shipment(m, id).await?;
    if live.is_none_or(|s| s.state != "labelled") {
        return Err(ApiError::Conflict(format!(
            "order {id} has no label to ship with: create its waybill first (POST /v1/orders/{id}/waybill)"
        )));
    }
    let req = TransitionRequest {
        to: State::Shipped,
        reason: "handed to the carrier".into(),
        carrier: None,
        tracking_number: None,
    };
    Ok(Json(
        state.store().transition_order(m, id, &req, &actor).await?,
    ))
}

/// The order's tracking events, oldest first.
#[utoipa::path(get, path = "/v1/orders/{id}/tracking", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<StoredTrackingEvent>), (status = 404)),
    security(("bearer" = [])))]
pub async fn tracking(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<StoredTrackingEvent>>, ApiError> {
    Ok(Json(state.store().tracking_events(m, id).await?))
}
