//! Shipping work that calls plugins: the carrier strategy and waybill creation (the
//! `create_waybill` job and `POST /v1/orders/{id}/waybill`), waybill cancellation, the
//! channel's `confirm-shipment` (the `confirm_shipment` job) and tracking polls (the
//! `track` job). Each returns a connector-style error so the job runner's retry policy
//! applies: transient failures are retried, invalid input dead-letters and the order
//! stays where it was, with the reason in its history and on the job.

use wharf_domain::carrier::{cheapest, Candidate, Pick};
use wharf_domain::connector::{ConnectorError, Shipment as ChannelShipment};
use wharf_domain::courier::{Parcel, WaybillRequest};
use wharf_domain::fulfillment::State;
use wharf_runtime::{CallContext, Plugin};
use wharf_store::shipping::{ConfirmOutcome, NewShipment, Shipment};
use wharf_store::{Installation, Job};

use crate::{ApiError, AppState};

/// A merchant's explicit carrier choice (on-demand waybill).
#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub installation_id: Option<i64>,
    pub service_code: Option<String>,
}

/// A loaded courier installation of the merchant.
struct Courier {
    inst: Installation,
    plugin: Plugin,
    ctx: CallContext,
}

async fn courier(state: &AppState, merchant_id: i64, id: i64) -> Result<Courier, ApiError> {
    let inst = state
        .store()
        .get_installation(merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::Unprocessable(format!("unknown installation {id}")))?;
    if state.store().installation_kind(id).await?.as_deref() != Some("courier") {
        return Err(ApiError::Unprocessable(format!(
            "installation {id} is not a courier"
        )));
    }
    if !inst.enabled {
        return Err(ApiError::Unprocessable(format!(
            "courier installation {id} is disabled"
        )));
    }
    let (plugin, hosts) = state.plugin(inst.plugin_id).await?;
    let ctx = state.call_context(&inst, hosts).await?;
    Ok(Courier { inst, plugin, ctx })
}

/// Run the strategy (or the merchant's choice) for a packed order, book the waybill and
/// store the shipment (order → labelled). With a choice, a labelled order's current
/// waybill is cancelled at its courier first. Without one, an existing live shipment is
/// returned as is (a retried job books nothing twice).
pub async fn create_waybill(
    state: &AppState,
    merchant_id: i64,
    order_id: i64,
    choice: Option<Choice>,
    actor: &str,
) -> Result<Shipment, ApiError> {
    let store = state.store();
    let mut ctx = store.waybill_context(merchant_id, order_id).await?;
    if let Some(live) = ctx.live.clone() {
        if choice.is_none() {
            return Ok(live);
        }
        cancel_waybill(state, merchant_id, order_id, actor).await?;
        ctx = store.waybill_context(merchant_id, order_id).await?;
    }
    if ctx.state != State::Packed {
        return Err(ApiError::Conflict(format!(
            "a waybill is made for a packed order; order {order_id} is {}",
            ctx.state
        )));
    }
    let invalid = |m: &str| ApiError::Plugin(ConnectorError::InvalidInput(m.to_string()));
    let parcel = ctx
        .parcel
        .ok_or_else(|| invalid("the order has no parcel record: complete its pack task"))?;
    let sender = ctx
        .settings
        .sender
        .clone()
        .ok_or_else(|| invalid("no sender address: set it with PUT /v1/shipping-settings"))?;
    let detail = store
        .get_order(merchant_id, order_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("order {order_id} not found")))?;
    let receiver = detail
        .order
        .shipping_address
        .clone()
        .ok_or_else(|| invalid("the order has no shipping address"))?;
    if receiver.encrypted {
        return Err(invalid(
            "the shipping address is encrypted by the channel; decrypt it before booking a waybill",
        ));
    }
    let weight_g = u32::try_from(parcel.weight_g).unwrap_or(u32::MAX);
    let reference = if ctx.cancelled == 0 {
        format!("order-{order_id}")
    } else {
        format!("order-{order_id}-{}", ctx.cancelled + 1)
    };
    let mut request = WaybillRequest {
        order_reference: reference,
        service_code: None,
        sender,
        receiver,
        parcels: vec![Parcel {
            weight_g,
            length_mm: u32::try_from(parcel.length_mm).unwrap_or(0),
            width_mm: u32::try_from(parcel.width_mm).unwrap_or(0),
            height_mm: u32::try_from(parcel.height_mm).unwrap_or(0),
        }],
        declared_value: detail.order.total_paid.clone(),
    };
    let (pick, rule, mut reason) = match &choice {
        Some(Choice {
            installation_id: Some(id),
            service_code,
        }) => (
            Pick::Fixed {
                installation_id: *id,
                service_code: service_code.clone(),
            },
            "manual".to_string(),
            format!("chosen by {actor}: installation {id}"),
        ),
        _ => {
            let sel = ctx
                .rules
                .select(&request.receiver, weight_g)
                .ok_or_else(|| invalid("no carrier rule matches this parcel and no default is set: PUT /v1/carrier-rules"))?;
            let mut pick = sel.pick;
            // An explicit service code without an installation overrides the rule's.
            if let Some(Choice {
                service_code: Some(code),
                ..
            }) = &choice
            {
                match &mut pick {
                    Pick::Fixed { service_code, .. } | Pick::Cheapest { service_code, .. } => {
                        *service_code = Some(code.clone())
                    }
                }
            }
            let name = if sel.position == 0 {
                sel.name
            } else {
                format!("#{} {}", sel.position, sel.name)
            };
            (pick, name, sel.why)
        }
    };
    let (courier, service) = match pick {
        Pick::Fixed {
            installation_id,
            service_code,
        } => (
            courier(state, merchant_id, installation_id).await?,
            service_code,
        ),
        Pick::Cheapest {
            installation_ids,
            service_code,
        } => {
            request.service_code = service_code;
            let mut candidates = Vec::new();
            let mut loaded = Vec::new();
            let mut first_error = None;
            for id in installation_ids {
                let c = courier(state, merchant_id, id).await?;
                let quotes = state
                    .timed_call(
                        id,
                        "quote",
                        state.runtime().quote(&c.plugin, &c.ctx, &request),
                    )
                    .await;
                match quotes {
                    Ok(qs) => candidates.extend(qs.into_iter().map(|quote| Candidate {
                        installation_id: id,
                        quote,
                    })),
                    Err(e) => {
                        tracing::warn!(installation_id = id, error = %e, "quote failed; other carriers compared");
                        first_error.get_or_insert(e);
                    }
                }
                loaded.push(c);
            }
            if candidates.is_empty() {
                if let Some(e) = first_error {
                    return Err(ApiError::Plugin(e));
                }
            }
            let won = cheapest(&candidates).map_err(|m| invalid(&m))?;
            reason = format!("{reason}; {}", won.why);
            let c = loaded
                .into_iter()
                .find(|c| c.inst.id == won.installation_id)
                .expect("the winner was loaded");
            (c, Some(won.quote.service_code))
        }
    };
    request.service_code = service.clone();
    let waybill = state
        .timed_call(
            courier.inst.id,
            "create_waybill",
            state
                .runtime()
                .create_waybill(&courier.plugin, &courier.ctx, &request),
        )
        .await?;
    let new = NewShipment {
        installation_id: courier.inst.id,
        service_code: service,
        waybill,
        rule,
        rule_reason: reason,
    };
    Ok(store
        .record_waybill(merchant_id, order_id, &new, actor)
        .await?)
}

/// Cancel the order's live waybill at its courier, then in the store (order back to
/// `packed`). Refused once shipped.
pub async fn cancel_waybill(
    state: &AppState,
    merchant_id: i64,
    order_id: i64,
    actor: &str,
) -> Result<Shipment, ApiError> {
    let live = state
        .store()
        .live_shipment(merchant_id, order_id)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("order {order_id} has no waybill to cancel")))?;
    if live.state != "labelled" {
        return Err(ApiError::Conflict(format!(
            "shipment {} is {}: a waybill can be cancelled only before the order ships",
            live.id, live.state
        )));
    }
    let c = courier(state, merchant_id, live.installation_id).await?;
    state
        .timed_call(
            c.inst.id,
            "cancel_waybill",
            state
                .runtime()
                .cancel_waybill(&c.plugin, &c.ctx, &live.tracking_number),
        )
        .await?;
    Ok(state
        .store()
        .cancel_shipment(merchant_id, order_id, live.id, actor)
        .await?)
}

fn payload_id(job: &Job, key: &str) -> Result<i64, ConnectorError> {
    job.payload
        .get(key)
        .and_then(|v| v.as_i64())
        .ok_or_else(|| ConnectorError::Permanent(format!("{} job without {key}", job.kind)))
}

fn merchant(job: &Job) -> Result<i64, ConnectorError> {
    job.merchant_id
        .ok_or_else(|| ConnectorError::Permanent(format!("{} job without merchant", job.kind)))
}

fn connector_error(e: ApiError) -> ConnectorError {
    match e {
        ApiError::Plugin(ce) => ce,
        ApiError::Unprocessable(m) | ApiError::BadRequest(m) => ConnectorError::InvalidInput(m),
        ApiError::NotFound(m) => ConnectorError::Permanent(m),
        other => ConnectorError::Transient(other.to_string()),
    }
}

/// The `create_waybill` job: an order that is no longer packed (cancelled, labelled by
/// hand) has nothing left to do; a failure is noted in the order's history.
pub async fn run_create_waybill(state: &AppState, job: &Job) -> Result<(), ConnectorError> {
    let (m, order_id) = (merchant(job)?, payload_id(job, "order_id")?);
    match create_waybill(state, m, order_id, None, "system").await {
        Ok(_) => Ok(()),
        Err(ApiError::Conflict(why)) => {
            tracing::info!(order_id, %why, "waybill job has nothing to do");
            Ok(())
        }
        Err(e) => {
            let e = connector_error(e);
            if let Err(se) = state
                .store()
                .note_waybill_failure(order_id, &e.to_string())
                .await
            {
                tracing::warn!(order_id, error = %se, "could not note the waybill failure");
            }
            Err(e)
        }
    }
}

/// The `confirm_shipment` job: tell the channel the carrier and tracking number.
/// `unsupported` completes quietly with a note on the shipment.
pub async fn run_confirm_shipment(state: &AppState, job: &Job) -> Result<(), ConnectorError> {
    let (m, order_id) = (merchant(job)?, payload_id(job, "order_id")?);
    let transient = |e: wharf_store::StoreError| ConnectorError::Transient(e.to_string());
    let store = state.store();
    let Some(detail) = store.get_order(m, order_id).await.map_err(transient)? else {
        return Err(ConnectorError::Permanent(format!(
            "order {order_id} is gone"
        )));
    };
    let f = store.fulfillment(m, order_id).await.map_err(transient)?;
    let (Some(carrier), Some(tracking)) = (f.carrier, f.tracking_number) else {
        return Err(ConnectorError::InvalidInput(format!(
            "order {order_id} was shipped without a carrier and tracking number"
        )));
    };
    let inst = store
        .get_installation(m, detail.summary.installation_id)
        .await
        .map_err(transient)?
        .ok_or_else(|| ConnectorError::Permanent("the order's installation is gone".into()))?;
    let shipment = ChannelShipment {
        external_order_id: detail.order.external_id.clone(),
        line_ids: detail
            .order
            .lines
            .iter()
            .map(|l| l.line_id.clone())
            .collect(),
        carrier,
        tracking_number: tracking,
        shipped_at: job
            .payload
            .get("shipped_at")
            .and_then(|v| v.as_i64())
            .unwrap_or_else(crate::scheduler::now_ms),
    };
    let (plugin, hosts) = state
        .plugin(inst.plugin_id)
        .await
        .map_err(connector_error)?;
    let ctx = state
        .call_context(&inst, hosts)
        .await
        .map_err(connector_error)?;
    let result = state
        .timed_call(
            inst.id,
            "confirm_shipment",
            state.runtime().confirm_shipment(&plugin, &ctx, &shipment),
        )
        .await;
    let (outcome, out) = match result {
        Ok(()) => (ConfirmOutcome::Confirmed, Ok(())),
        Err(ConnectorError::Unsupported) => (ConfirmOutcome::Unsupported, Ok(())),
        Err(e) => (ConfirmOutcome::Failed(e.to_string()), Err(e)),
    };
    store
        .record_confirmation(order_id, &outcome)
        .await
        .map_err(transient)?;
    out
}

/// The `track` job: read the shipment's history from its tracking installation, store
/// new events and move the order on delivered / refused / returned.
pub async fn run_track(state: &AppState, job: &Job) -> Result<(), ConnectorError> {
    let shipment_id = payload_id(job, "shipment_id")?;
    let transient = |e: wharf_store::StoreError| ConnectorError::Transient(e.to_string());
    let Some((m, shipment)) = state
        .store()
        .shipment_unscoped(shipment_id)
        .await
        .map_err(transient)?
    else {
        return Ok(());
    };
    if !matches!(shipment.state.as_str(), "shipped" | "exception") {
        return Ok(());
    }
    let tracker = shipment
        .tracking_installation_id
        .unwrap_or(shipment.installation_id);
    let c = courier(state, m, tracker).await.map_err(connector_error)?;
    let number = tracking_reference(&shipment, tracker);
    let events = state
        .timed_call(
            tracker,
            "track",
            state.runtime().track(&c.plugin, &c.ctx, &number),
        )
        .await?;
    let new = state
        .store()
        .record_tracking(shipment_id, &events, "tracking")
        .await
        .map_err(transient)?;
    tracing::debug!(shipment_id, new, "tracking polled");
    Ok(())
}

/// What a tracking provider is asked to track: the bare tracking number when the waybill's
/// own courier tracks it, else `<carrier>:<number>` (the Wharf carrier code first), since a
/// provider tracking many carriers (Kuaidi100) must be told whose number it is.
fn tracking_reference(shipment: &wharf_store::shipping::Shipment, tracker: i64) -> String {
    if tracker == shipment.installation_id || shipment.carrier.trim().is_empty() {
        shipment.tracking_number.clone()
    } else {
        format!("{}:{}", shipment.carrier.trim(), shipment.tracking_number)
    }
}
