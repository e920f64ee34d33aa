//! Host-side mirrors of the courier contract (`wharf:connector/shipping`, WIT 0.2.0):
//! what the host asks a courier connector for (quotes, waybills, cancellation, tracking)
//! and what it answers. Types only; the runtime converts at its edge.
//!
//! Conventions: money in integer minor units, times in Unix ms UTC, weights in grams,
//! lengths in millimetres.

use serde::{Deserialize, Serialize};

use crate::{Address, Money};

/// One physical package of a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Parcel {
    /// Gross weight in grams.
    pub weight_g: u32,
    /// Outer length in millimetres; 0 when not measured.
    pub length_mm: u32,
    /// Outer width in millimetres; 0 when not measured.
    pub width_mm: u32,
    /// Outer height in millimetres; 0 when not measured.
    pub height_mm: u32,
}

/// What to ship: the input of `quote` and `create-waybill`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaybillRequest {
    /// The merchant's order this shipment belongs to.
    pub order_reference: String,
    /// The carrier's service code; `None` quotes every service / books the default one.
    pub service_code: Option<String>,
    /// Where the parcels are collected.
    pub sender: Address,
    /// Where the parcels go.
    pub receiver: Address,
    /// The packages, at least one.
    pub parcels: Vec<Parcel>,
    /// Declared (insured / customs) value of the contents.
    pub declared_value: Money,
}

/// One price a carrier offers for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceQuote {
    /// The carrier's service code (pass back in [`WaybillRequest::service_code`]).
    pub service_code: String,
    /// Human-readable service name.
    pub service_name: String,
    /// What the carrier will charge.
    pub price: Money,
    /// Promised transit time in whole days, when the carrier gives one.
    pub transit_days: Option<u32>,
}

/// Encoding of a label document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelFormat {
    Pdf,
    Zpl,
}

/// An electronic waybill a carrier issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Waybill {
    /// The carrier's code, e.g. "sf", "ups".
    pub carrier: String,
    /// The tracking (waybill) number.
    pub tracking_number: String,
    /// How `label` is encoded.
    pub label_format: LabelFormat,
    /// The printable label document.
    pub label: Vec<u8>,
    /// What the carrier charged, when it said at issue time.
    pub price: Option<Money>,
}

/// Normalised stage of a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    InfoReceived,
    InTransit,
    OutForDelivery,
    Delivered,
    Exception,
    Returned,
}

/// One scan or status change in a shipment's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackingEvent {
    /// When it happened (Unix ms, UTC).
    pub at: i64,
    /// The stage, normalised.
    pub status: TrackingStatus,
    /// The carrier's own status code or word.
    pub raw_status: String,
    /// The carrier's description.
    pub description: String,
    /// Where it happened; may be empty.
    pub location: String,
}
