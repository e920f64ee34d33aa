//! Courier (`wharf:connector/shipping`, 0.2.0) types ↔ domain `courier` types, and the
//! size estimate of their results.

use wharf_domain::courier::{
    LabelFormat, Parcel, ServiceQuote, TrackingEvent, TrackingStatus, Waybill, WaybillRequest,
};
use wharf_domain::{Address, Money};

use super::v0_2::{m, money};
use super::{s, SLOT};
use crate::bindings::v0_2::shipping as wit;
use crate::bindings::v0_2::wit as types;

pub(crate) fn wit_money(x: &Money) -> types::Money {
    types::Money {
        minor: x.minor,
        currency: x.currency.clone(),
    }
}

pub(crate) fn wit_address(a: &Address) -> types::Address {
    types::Address {
        name: a.name.clone(),
        phone: a.phone.clone(),
        country: a.country.clone(),
        province: a.province.clone(),
        city: a.city.clone(),
        district: a.district.clone(),
        street: a.street.clone(),
        postal_code: a.postal_code.clone(),
        encrypted: a.encrypted,
    }
}

fn wit_parcel(p: &Parcel) -> wit::Parcel {
    wit::Parcel {
        weight_g: p.weight_g,
        length_mm: p.length_mm,
        width_mm: p.width_mm,
        height_mm: p.height_mm,
    }
}

pub(crate) fn request(r: &WaybillRequest) -> wit::WaybillRequest {
    wit::WaybillRequest {
        order_reference: r.order_reference.clone(),
        service_code: r.service_code.clone(),
        sender: wit_address(&r.sender),
        receiver: wit_address(&r.receiver),
        parcels: r.parcels.iter().map(wit_parcel).collect(),
        declared_value: wit_money(&r.declared_value),
    }
}

pub(crate) fn quote(q: wit::ServiceQuote) -> ServiceQuote {
    ServiceQuote {
        service_code: q.service_code,
        service_name: q.service_name,
        price: money(q.price),
        transit_days: q.transit_days,
    }
}

pub(crate) fn waybill(w: wit::Waybill) -> Waybill {
    Waybill {
        carrier: w.carrier,
        tracking_number: w.tracking_number,
        label_format: match w.label_format {
            wit::LabelFormat::Pdf => LabelFormat::Pdf,
            wit::LabelFormat::Zpl => LabelFormat::Zpl,
        },
        label: w.label,
        price: w.price.map(money),
    }
}

pub(crate) fn tracking_event(e: wit::TrackingEvent) -> TrackingEvent {
    TrackingEvent {
        at: e.at,
        status: match e.status {
            wit::TrackingStatus::InfoReceived => TrackingStatus::InfoReceived,
            wit::TrackingStatus::InTransit => TrackingStatus::InTransit,
            wit::TrackingStatus::OutForDelivery => TrackingStatus::OutForDelivery,
            wit::TrackingStatus::Delivered => TrackingStatus::Delivered,
            wit::TrackingStatus::Exception => TrackingStatus::Exception,
            wit::TrackingStatus::Returned => TrackingStatus::Returned,
        },
        raw_status: e.raw_status,
        description: e.description,
        location: e.location,
    }
}

// --- output size estimates -------------------------------------------------------------

pub(crate) fn quote_bytes(q: &wit::ServiceQuote) -> usize {
    s(&q.service_code) + s(&q.service_name) + m(&q.price) + 8
}

pub(crate) fn waybill_bytes(w: &wit::Waybill) -> usize {
    s(&w.carrier) + s(&w.tracking_number) + 8 + SLOT + w.label.len() + w.price.as_ref().map_or(0, m)
}

pub(crate) fn event_bytes(e: &wit::TrackingEvent) -> usize {
    16 + s(&e.raw_status) + s(&e.description) + s(&e.location)
}
