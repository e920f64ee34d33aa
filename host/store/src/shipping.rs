//! Shipping: the merchant's carrier rules and shipping settings, shipments (waybill,
//! label, price, the chosen rule and why), channel confirmation results, and tracking
//! (deduplicated events, order moves on delivered / refused / returned).
//!
//! - A completed pack task enqueues the `create_waybill` job in the same transaction
//!   ([`enqueue_waybill`], unique per order); the server runs the strategy and the
//!   courier, then [`Store::record_waybill`] stores the shipment ONCE (one live shipment
//!   per order is unique in the schema: a retried job that already stored it just
//!   returns it) and moves the order `packed → labelled`.
//! - Shipping an order ([`on_shipped`], inside the transition's transaction) enqueues
//!   the `confirm_shipment` job and starts tracking the live shipment.
//! - Tracking events are unique per (shipment, at, raw status); the newest status moves
//!   the order through the state machine's `move_state` (audited) and ends tracking at
//!   delivered / returned.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wharf_domain::carrier::CarrierRules;
use wharf_domain::courier::{LabelFormat, TrackingEvent, TrackingStatus, Waybill};
use wharf_domain::fulfillment::{PackRecord, State};
use wharf_domain::{Address, Money};

use crate::db::{cap, col, from_json, now_ms, to_json};
use crate::fulfillment::{append, lock_order, move_state};
use crate::inventory::Tx;
use crate::{Store, StoreError};

/// Job kind: run the carrier strategy and create the waybill of a packed order.
pub const CREATE_WAYBILL: &str = "create_waybill";
/// Job kind: report a shipped order's carrier + tracking number to its channel.
pub const CONFIRM_SHIPMENT: &str = "confirm_shipment";
/// Job kind: poll a shipment's tracking history.
pub const TRACK: &str = "track";

/// Which courier installation tracks which carrier codes (default: the waybill's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingProvider {
    /// The carrier code on the waybill (e.g. "sf").
    pub carrier: String,
    pub installation_id: i64,
}

/// Merchant shipping settings besides the rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingSettings {
    /// Where parcels are collected (the warehouse): the waybill's sender.
    pub sender: Option<Address>,
    #[serde(default)]
    pub tracking: Vec<TrackingProvider>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SettingsDoc {
    #[serde(default)]
    rules: CarrierRules,
    #[serde(default)]
    settings: ShippingSettings,
}

/// A shipment as the API shows it (the label bytes are served by their own endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shipment {
    pub id: i64,
    pub order_id: i64,
    /// The courier installation that issued the waybill.
    pub installation_id: i64,
    pub carrier: String,
    pub service_code: Option<String>,
    pub tracking_number: String,
    pub label_format: LabelFormat,
    pub label_bytes: i64,
    pub price: Option<Money>,
    /// The rule that chose the carrier (its name, or "default" / "manual").
    pub rule: String,
    /// Why, e.g. "region CN/广东* → installation 3" or "cheapest of 3 quotes: …".
    pub rule_reason: String,
    /// `labelled`, `shipped`, `delivered`, `exception`, `returned` or `cancelled`.
    pub state: String,
    pub tracking_installation_id: Option<i64>,
    /// Newest normalised tracking status.
    pub tracking_status: Option<String>,
    pub shipped_at: Option<i64>,
    /// When the channel accepted the shipment.
    pub confirmed_at: Option<i64>,
    /// The last failed confirmation's error.
    pub confirm_error: Option<String>,
    /// A note on the confirmation (e.g. the channel does not support it).
    pub confirm_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A stored tracking event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StoredTrackingEvent {
    pub shipment_id: i64,
    pub at: i64,
    pub status: TrackingStatus,
    pub raw_status: String,
    pub description: String,
    pub location: String,
}

/// A waybill to store, with the choice that led to it.
#[derive(Debug, Clone)]
pub struct NewShipment {
    pub installation_id: i64,
    pub service_code: Option<String>,
    pub waybill: Waybill,
    pub rule: String,
    pub rule_reason: String,
}

/// Everything the strategy needs about a packed order.
#[derive(Debug, Clone)]
pub struct WaybillContext {
    pub state: State,
    pub parcel: Option<PackRecord>,
    pub rules: CarrierRules,
    pub settings: ShippingSettings,
    /// Cancelled shipments so far (a re-created waybill gets a fresh reference).
    pub cancelled: i64,
    pub live: Option<Shipment>,
}

/// How a confirm-shipment job ended.
#[derive(Debug, Clone)]
pub enum ConfirmOutcome {
    Confirmed,
    Unsupported,
    Failed(String),
}

const SHIPMENT_COLS: &str =
    "id, order_id, installation_id, carrier, service_code, tracking_number, \
     label_format, price_minor, price_currency, rule_name, rule_reason, state, \
     tracking_installation_id, tracking_status, shipped_at, confirmed_at, confirm_error, \
     confirm_note, created_at, updated_at";

fn format_name(f: LabelFormat) -> &'static str {
    match f {
        LabelFormat::Pdf => "pdf",
        LabelFormat::Zpl => "zpl",
    }
}

fn parse_format(s: &str) -> Result<LabelFormat, StoreError> {
    match s {
        "pdf" => Ok(LabelFormat::Pdf),
        "zpl" => Ok(LabelFormat::Zpl),
        other => Err(StoreError::corrupt(format!("label_format {other:?}"))),
    }
}

fn status_name(s: TrackingStatus) -> &'static str {
    match s {
        TrackingStatus::InfoReceived => "info_received",
        TrackingStatus::InTransit => "in_transit",
        TrackingStatus::OutForDelivery => "out_for_delivery",
        TrackingStatus::Delivered => "delivered",
        TrackingStatus::Exception => "exception",
        TrackingStatus::Returned => "returned",
    }
}

fn parse_status(s: &str) -> Result<TrackingStatus, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| StoreError::corrupt(format!("tracking status {s:?}")))
}

fn shipment_from_row(r: &AnyRow, label_bytes: i64) -> Result<Shipment, StoreError> {
    let minor: Option<i64> = col(r, "price_minor")?;
    let currency: Option<String> = col(r, "price_currency")?;
    Ok(Shipment {
        id: col(r, "id")?,
        order_id: col(r, "order_id")?,
        installation_id: col(r, "installation_id")?,
        carrier: col(r, "carrier")?,
        service_code: col(r, "service_code")?,
        tracking_number: col(r, "tracking_number")?,
        label_format: parse_format(&col::<String>(r, "label_format")?)?,
        label_bytes,
        price: minor.zip(currency).map(|(m, c)| Money::new(m, c)),
        rule: col(r, "rule_name")?,
        rule_reason: col(r, "rule_reason")?,
        state: col(r, "state")?,
        tracking_installation_id: col(r, "tracking_installation_id")?,
        tracking_status: col(r, "tracking_status")?,
        shipped_at: col(r, "shipped_at")?,
        confirmed_at: col(r, "confirmed_at")?,
        confirm_error: col(r, "confirm_error")?,
        confirm_note: col(r, "confirm_note")?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
    })
}

/// The unique key of an order's waybill job.
pub fn waybill_key(order_id: i64) -> String {
    format!("{CREATE_WAYBILL}:order:{order_id}")
}

async fn insert_job(
    tx: &mut Tx,
    merchant_id: i64,
    installation_id: Option<i64>,
    kind: &str,
    payload: serde_json::Value,
    key: String,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO jobs (merchant_id, installation_id, kind, payload, unique_key, state, \
         run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6, $6) \
         ON CONFLICT DO NOTHING",
    )
    .bind(merchant_id)
    .bind(installation_id)
    .bind(kind)
    .bind(to_json(&payload)?)
    .bind(key)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enqueue the waybill job of a just-packed order (same transaction; one per order).
pub(crate) async fn enqueue_waybill(
    tx: &mut Tx,
    merchant_id: i64,
    order_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    let payload = serde_json::json!({"order_id": order_id});
    insert_job(
        tx,
        merchant_id,
        None,
        CREATE_WAYBILL,
        payload,
        waybill_key(order_id),
        now,
    )
    .await
}

/// An order was shipped (same transaction): enqueue its channel confirmation and start
/// tracking its live shipment, if it has one.
pub(crate) async fn on_shipped(
    tx: &mut Tx,
    merchant_id: i64,
    order_id: i64,
    channel_installation_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    let live = sqlx::query(
        "SELECT id, carrier, installation_id FROM shipments WHERE order_id = $1 AND state = 'labelled'",
    )
    .bind(order_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = live {
        let carrier: String = col(&r, "carrier")?;
        let doc = sqlx::query("SELECT settings FROM shipping_settings WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_optional(&mut **tx)
            .await?;
        let doc: SettingsDoc = match doc {
            Some(d) => from_json("shipping_settings", &col::<String>(&d, "settings")?)?,
            None => SettingsDoc::default(),
        };
        // The merchant's tracking provider for this carrier, else the waybill's courier.
        let tracker = doc
            .settings
            .tracking
            .iter()
            .find(|p| p.carrier.trim().eq_ignore_ascii_case(carrier.trim()))
            .map(|p| p.installation_id)
            .unwrap_or(col(&r, "installation_id")?);
        sqlx::query(
            "UPDATE shipments SET state = 'shipped', shipped_at = $1, next_track_at = $1, \
             tracking_installation_id = $2, updated_at = $1 WHERE id = $3",
        )
        .bind(now)
        .bind(tracker)
        .bind(col::<i64>(&r, "id")?)
        .execute(&mut **tx)
        .await?;
    }
    let payload = serde_json::json!({"order_id": order_id, "shipped_at": now});
    insert_job(
        tx,
        merchant_id,
        Some(channel_installation_id),
        CONFIRM_SHIPMENT,
        payload,
        format!("{CONFIRM_SHIPMENT}:order:{order_id}"),
        now,
    )
    .await
}

impl Store {
    async fn settings_doc(&self, merchant_id: i64) -> Result<SettingsDoc, StoreError> {
        let row = sqlx::query("SELECT settings FROM shipping_settings WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(r) => from_json("shipping_settings", &col::<String>(&r, "settings")?),
            None => Ok(SettingsDoc::default()),
        }
    }

    async fn save_doc(&self, merchant_id: i64, doc: &SettingsDoc) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO shipping_settings (merchant_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (merchant_id) DO UPDATE SET settings = excluded.settings, \
             updated_at = excluded.updated_at",
        )
        .bind(merchant_id)
        .bind(to_json(doc)?)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The merchant's installations split into (couriers, others).
    pub async fn installation_kinds(
        &self,
        merchant_id: i64,
    ) -> Result<(BTreeSet<i64>, BTreeSet<i64>), StoreError> {
        let rows = sqlx::query(
            "SELECT i.id, p.kind FROM installations i JOIN plugins p ON p.id = i.plugin_id \
             WHERE i.merchant_id = $1",
        )
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        let (mut couriers, mut others) = (BTreeSet::new(), BTreeSet::new());
        for r in &rows {
            let id: i64 = col(r, "id")?;
            if col::<String>(r, "kind")? == "courier" {
                couriers.insert(id);
            } else {
                others.insert(id);
            }
        }
        Ok((couriers, others))
    }

    /// The plugin kind (`marketplace`, `courier`, `accounting`) of an installation.
    pub async fn installation_kind(
        &self,
        installation_id: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT p.kind FROM installations i JOIN plugins p ON p.id = i.plugin_id WHERE i.id = $1",
        )
        .bind(installation_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| col(&r, "kind")).transpose()
    }

    /// The merchant's carrier rules (empty when never set).
    pub async fn carrier_rules(&self, merchant_id: i64) -> Result<CarrierRules, StoreError> {
        Ok(self.settings_doc(merchant_id).await?.rules)
    }

    /// Replace the carrier rules. `InvalidInput` names what is wrong (unknown
    /// installation, not a courier, bad weight range, …).
    pub async fn put_carrier_rules(
        &self,
        merchant_id: i64,
        rules: CarrierRules,
    ) -> Result<CarrierRules, StoreError> {
        let (couriers, others) = self.installation_kinds(merchant_id).await?;
        rules
            .validate(&couriers, &others)
            .map_err(StoreError::InvalidInput)?;
        let mut doc = self.settings_doc(merchant_id).await?;
        doc.rules = rules;
        self.save_doc(merchant_id, &doc).await?;
        Ok(doc.rules)
    }

    pub async fn shipping_settings(
        &self,
        merchant_id: i64,
    ) -> Result<ShippingSettings, StoreError> {
        Ok(self.settings_doc(merchant_id).await?.settings)
    }

    /// Replace the shipping settings (sender, tracking providers).
    pub async fn put_shipping_settings(
        &self,
        merchant_id: i64,
        settings: ShippingSettings,
    ) -> Result<ShippingSettings, StoreError> {
        let (couriers, others) = self.installation_kinds(merchant_id).await?;
        let mut carriers = BTreeSet::new();
        for p in &settings.tracking {
            let c = p.carrier.trim();
            if c.is_empty() || c.len() > 100 {
                return Err(StoreError::InvalidInput(
                    "tracking: carrier must be 1-100 bytes".into(),
                ));
            }
            if !carriers.insert(c.to_string()) {
                return Err(StoreError::InvalidInput(format!(
                    "tracking: carrier {c:?} is listed twice"
                )));
            }
            if others.contains(&p.installation_id) {
                return Err(StoreError::InvalidInput(format!(
                    "tracking: installation {} is not a courier",
                    p.installation_id
                )));
            }
            if !couriers.contains(&p.installation_id) {
                return Err(StoreError::InvalidInput(format!(
                    "tracking: unknown installation {}",
                    p.installation_id
                )));
            }
        }
        let mut doc = self.settings_doc(merchant_id).await?;
        doc.settings = settings;
        self.save_doc(merchant_id, &doc).await?;
        Ok(doc.settings)
    }

    /// What the waybill strategy needs about an order of the merchant.
    pub async fn waybill_context(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<WaybillContext, StoreError> {
        let row = sqlx::query(
            "SELECT o.state, t.weight_g, t.length_mm, t.width_mm, t.height_mm FROM orders o \
             LEFT JOIN warehouse_tasks t ON t.order_id = o.id AND t.kind = 'pack' AND t.status = 'done' \
             WHERE o.id = $1 AND o.merchant_id = $2",
        )
        .bind(order_id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("order {order_id} not found")))?;
        let state = State::parse(&col::<String>(&row, "state")?).map_err(StoreError::corrupt)?;
        let parcel = col::<Option<i64>>(&row, "weight_g")?
            .map(|weight_g| -> Result<PackRecord, StoreError> {
                Ok(PackRecord {
                    weight_g,
                    length_mm: col::<Option<i64>>(&row, "length_mm")?.unwrap_or_default(),
                    width_mm: col::<Option<i64>>(&row, "width_mm")?.unwrap_or_default(),
                    height_mm: col::<Option<i64>>(&row, "height_mm")?.unwrap_or_default(),
                })
            })
            .transpose()?;
        let cancelled = sqlx::query(
            "SELECT COUNT(*) AS n FROM shipments WHERE order_id = $1 AND state = 'cancelled'",
        )
        .bind(order_id)
        .fetch_one(&self.read)
        .await?;
        let doc = self.settings_doc(merchant_id).await?;
        Ok(WaybillContext {
            state,
            parcel,
            rules: doc.rules,
            settings: doc.settings,
            cancelled: col(&cancelled, "n")?,
            live: self.live_shipment(merchant_id, order_id).await?,
        })
    }

    /// Store an issued waybill as the order's shipment and move the order `packed →
    /// labelled` (carrier and tracking number on the order). Idempotent: when the order
    /// already has a live shipment, that one is returned and nothing changes.
    pub async fn record_waybill(
        &self,
        merchant_id: i64,
        order_id: i64,
        new: &NewShipment,
        actor: &str,
    ) -> Result<Shipment, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let o = lock_order(self, &mut tx, Some(merchant_id), order_id).await?;
        let existing = sqlx::query(&format!(
            "SELECT {SHIPMENT_COLS}, CAST(LENGTH(label) AS BIGINT) AS label_len FROM shipments \
             WHERE order_id = $1 AND state <> 'cancelled'"
        ))
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = existing {
            let s = shipment_from_row(&r, col(&r, "label_len")?)?;
            tx.commit().await?;
            return Ok(s);
        }
        if o.state != State::Packed {
            return Err(StoreError::Conflict(format!(
                "a waybill is made for a packed order; order {order_id} is {}",
                o.state
            )));
        }
        let w = &new.waybill;
        let (carrier, tracking) = (w.carrier.trim(), w.tracking_number.trim());
        if carrier.is_empty() || tracking.is_empty() || carrier.len() > 100 || tracking.len() > 100
        {
            return Err(StoreError::InvalidInput(
                "the courier returned a waybill without a carrier or tracking number (1-100 bytes)"
                    .into(),
            ));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO shipments (merchant_id, order_id, installation_id, carrier, service_code, \
             tracking_number, label, label_format, price_minor, price_currency, rule_name, \
             rule_reason, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, 'labelled', $13, $13) RETURNING {SHIPMENT_COLS}"
        ))
        .bind(merchant_id)
        .bind(order_id)
        .bind(new.installation_id)
        .bind(carrier)
        .bind(new.service_code.as_deref())
        .bind(tracking)
        .bind(w.label.clone())
        .bind(format_name(w.label_format))
        .bind(w.price.as_ref().map(|p| p.minor))
        .bind(w.price.as_ref().map(|p| p.currency.clone()))
        .bind(cap(&new.rule, 100))
        .bind(cap(&new.rule_reason, 500))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let shipment = shipment_from_row(&row, w.label.len() as i64)?;
        sqlx::query("UPDATE orders SET carrier = $1, tracking_number = $2 WHERE id = $3")
            .bind(carrier)
            .bind(tracking)
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        let why = format!(
            "waybill {tracking} ({carrier}) by installation {}: {} — {}",
            new.installation_id, new.rule, new.rule_reason
        );
        move_state(
            &mut tx,
            order_id,
            o.state,
            State::Labelled,
            actor,
            &why,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(shipment)
    }

    /// Note a failed waybill attempt in the order's history (the job keeps the error too).
    pub async fn note_waybill_failure(
        &self,
        order_id: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let detail = format!("waybill not created: {reason}");
        append(
            &mut tx,
            order_id,
            now_ms(),
            "shipping",
            "system",
            None,
            None,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The order's live (not cancelled) shipment.
    pub async fn live_shipment(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<Option<Shipment>, StoreError> {
        Ok(self
            .shipments(merchant_id, order_id)
            .await?
            .into_iter()
            .find(|s| s.state != "cancelled"))
    }

    /// The order's shipments, oldest first (404 for another merchant's order).
    pub async fn shipments(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<Vec<Shipment>, StoreError> {
        self.order_exists(merchant_id, order_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {SHIPMENT_COLS}, CAST(LENGTH(label) AS BIGINT) AS label_len FROM shipments \
             WHERE order_id = $1 AND merchant_id = $2 ORDER BY id"
        ))
        .bind(order_id)
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| shipment_from_row(r, col(r, "label_len")?))
            .collect()
    }

    async fn order_exists(&self, merchant_id: i64, order_id: i64) -> Result<(), StoreError> {
        sqlx::query("SELECT id FROM orders WHERE id = $1 AND merchant_id = $2")
            .bind(order_id)
            .bind(merchant_id)
            .fetch_optional(&self.read)
            .await?
            .map(|_| ())
            .ok_or_else(|| StoreError::NotFound(format!("order {order_id} not found")))
    }

    /// The live shipment's label: (format, bytes, tracking number).
    pub async fn label(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<(LabelFormat, Vec<u8>, String), StoreError> {
        self.order_exists(merchant_id, order_id).await?;
        let row = sqlx::query(
            "SELECT label, label_format, tracking_number FROM shipments WHERE order_id = $1 \
             AND merchant_id = $2 AND state <> 'cancelled'",
        )
        .bind(order_id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("order {order_id} has no label")))?;
        Ok((
            parse_format(&col::<String>(&row, "label_format")?)?,
            col(&row, "label")?,
            col(&row, "tracking_number")?,
        ))
    }

    /// Mark the live shipment cancelled (after the courier cancelled the waybill) and move
    /// a labelled order back to `packed`. Refused once shipped.
    pub async fn cancel_shipment(
        &self,
        merchant_id: i64,
        order_id: i64,
        shipment_id: i64,
        actor: &str,
    ) -> Result<Shipment, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let o = lock_order(self, &mut tx, Some(merchant_id), order_id).await?;
        let moved = sqlx::query(
            "UPDATE shipments SET state = 'cancelled', next_track_at = NULL, updated_at = $1 \
             WHERE id = $2 AND order_id = $3 AND state = 'labelled'",
        )
        .bind(now)
        .bind(shipment_id)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "shipment {shipment_id} is no longer labelled: a shipped waybill cannot be cancelled"
            )));
        }
        sqlx::query("UPDATE orders SET carrier = NULL, tracking_number = NULL WHERE id = $1")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        if o.state == State::Labelled {
            let why = format!("waybill of shipment {shipment_id} cancelled");
            move_state(&mut tx, order_id, o.state, State::Packed, actor, &why, now).await?;
        }
        tx.commit().await?;
        self.shipments(merchant_id, order_id)
            .await?
            .into_iter()
            .find(|s| s.id == shipment_id)
            .ok_or_else(|| StoreError::NotFound(format!("shipment {shipment_id}")))
    }

    /// Record how the channel confirmation went on the order's newest shipment (and in
    /// the order's history).
    pub async fn record_confirmation(
        &self,
        order_id: i64,
        outcome: &ConfirmOutcome,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        const NEWEST: &str =
            "id = (SELECT MAX(id) FROM shipments WHERE order_id = $2 AND state <> 'cancelled')";
        let (set, text, detail) = match outcome {
            ConfirmOutcome::Confirmed => (
                "confirmed_at = $1, confirm_error = NULL, confirm_note = $3",
                None,
                "the channel confirmed the shipment".to_string(),
            ),
            ConfirmOutcome::Unsupported => (
                "confirm_note = $3, confirm_error = NULL",
                Some(
                    "the channel's connector does not support confirm-shipment; mark it \
                     shipped on the channel by hand"
                        .to_string(),
                ),
                "confirm-shipment unsupported by the channel's connector".to_string(),
            ),
            ConfirmOutcome::Failed(e) => (
                "confirm_error = $3",
                Some(cap(e, 1000).to_string()),
                format!("confirm-shipment failed: {e}"),
            ),
        };
        let keep_note = matches!(outcome, ConfirmOutcome::Confirmed);
        let set = if keep_note {
            set.replace(
                "confirm_note = $3",
                "confirm_note = COALESCE($3, confirm_note)",
            )
        } else {
            set.to_string()
        };
        sqlx::query(&format!(
            "UPDATE shipments SET {set}, updated_at = $1 WHERE {NEWEST}"
        ))
        .bind(now)
        .bind(order_id)
        .bind(text)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx, order_id, now, "shipping", "system", None, None, &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Shipments whose tracking poll is due: (merchant, shipment id, tracking
    /// installation). Each is pushed `interval_ms` on, so one poll is enqueued per interval.
    pub async fn due_tracking(
        &self,
        now: i64,
        interval_ms: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.merchant_id, COALESCE(s.tracking_installation_id, s.installation_id) AS inst \
             FROM shipments s WHERE s.state IN ('shipped', 'exception') AND s.next_track_at <= $1 \
             ORDER BY s.next_track_at, s.id LIMIT 500",
        )
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        let mut due = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = col(r, "id")?;
            sqlx::query("UPDATE shipments SET next_track_at = $1 WHERE id = $2")
                .bind(now + interval_ms)
                .bind(id)
                .execute(&self.write)
                .await?;
            due.push((col(r, "merchant_id")?, id, col(r, "inst")?));
        }
        Ok(due)
    }

    /// A shipment of any merchant by id, with its merchant (for the track job).
    pub async fn shipment_unscoped(&self, id: i64) -> Result<Option<(i64, Shipment)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SHIPMENT_COLS}, merchant_id, CAST(LENGTH(label) AS BIGINT) AS label_len FROM shipments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| -> Result<(i64, Shipment), StoreError> {
            Ok((
                col(&r, "merchant_id")?,
                shipment_from_row(&r, col(&r, "label_len")?)?,
            ))
        })
        .transpose()
    }

    /// Store a tracking history (each event once per (shipment, at, raw status)) and
    /// apply the newest status to the shipment and its order: delivered → `delivered`,
    /// exception → `exception`, returned → `returned` (through `exception` from
    /// `shipped`). Delivered and returned end tracking. Returns how many events were new.
    pub async fn record_tracking(
        &self,
        shipment_id: i64,
        events: &[TrackingEvent],
        actor: &str,
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT order_id, merchant_id, state, tracking_number FROM shipments WHERE id = $1{}",
            self.for_update()
        ))
        .bind(shipment_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("shipment {shipment_id}")))?;
        let order_id: i64 = col(&row, "order_id")?;
        let merchant_id: i64 = col(&row, "merchant_id")?;
        let ship_state: String = col(&row, "state")?;
        let tracking: String = col(&row, "tracking_number")?;
        let mut new = 0;
        for e in events {
            let inserted = sqlx::query(
                "INSERT INTO tracking_events (shipment_id, at, status, raw_status, description, \
                 location, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (shipment_id, at, raw_status) DO NOTHING RETURNING id",
            )
            .bind(shipment_id)
            .bind(e.at)
            .bind(status_name(e.status))
            .bind(cap(&e.raw_status, 100))
            .bind(cap(&e.description, 500))
            .bind(cap(&e.location, 200))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            new += usize::from(inserted.is_some());
        }
        let Some(latest) = events
            .iter()
            .enumerate()
            .max_by_key(|(i, e)| (e.at, *i))
            .map(|(_, e)| e)
        else {
            tx.commit().await?;
            return Ok(0);
        };
        let target = match latest.status {
            TrackingStatus::Delivered => Some(State::Delivered),
            TrackingStatus::Exception => Some(State::Exception),
            TrackingStatus::Returned => Some(State::Returned),
            _ => None,
        };
        let final_tracking = matches!(
            latest.status,
            TrackingStatus::Delivered | TrackingStatus::Returned
        );
        let new_ship_state = match latest.status {
            TrackingStatus::Delivered => "delivered",
            TrackingStatus::Exception => "exception",
            TrackingStatus::Returned => "returned",
            _ => ship_state.as_str(),
        };
        sqlx::query(
            "UPDATE shipments SET tracking_status = $1, state = $2, updated_at = $3, \
             next_track_at = CASE WHEN $4 = 1 THEN NULL ELSE next_track_at END WHERE id = $5",
        )
        .bind(status_name(latest.status))
        .bind(new_ship_state)
        .bind(now)
        .bind(i64::from(final_tracking))
        .bind(shipment_id)
        .execute(&mut *tx)
        .await?;
        if let Some(target) = target {
            let o = lock_order(self, &mut tx, Some(merchant_id), order_id).await?;
            let why = format!(
                "tracking {tracking}: {} ({})",
                latest.raw_status,
                status_name(latest.status)
            );
            let mut state = o.state;
            if target == State::Returned && state == State::Shipped {
                move_state(&mut tx, order_id, state, State::Exception, actor, &why, now).await?;
                state = State::Exception;
            }
            if state != target && wharf_domain::fulfillment::check(state, target).is_ok() {
                move_state(&mut tx, order_id, state, target, actor, &why, now).await?;
            }
        }
        tx.commit().await?;
        Ok(new)
    }

    /// The tracking events of the order's shipments, oldest first.
    pub async fn tracking_events(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<Vec<StoredTrackingEvent>, StoreError> {
        self.order_exists(merchant_id, order_id).await?;
        let rows = sqlx::query(
            "SELECT e.shipment_id, e.at, e.status, e.raw_status, e.description, e.location \
             FROM tracking_events e JOIN shipments s ON s.id = e.shipment_id \
             WHERE s.order_id = $1 AND s.merchant_id = $2 ORDER BY e.at, e.id",
        )
        .bind(order_id)
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredTrackingEvent {
                    shipment_id: col(r, "shipment_id")?,
                    at: col(r, "at")?,
                    status: parse_status(&col::<String>(r, "status")?)?,
                    raw_status: col(r, "raw_status")?,
                    description: col(r, "description")?,
                    location: col(r, "location")?,
                })
            })
            .collect()
    }
}
