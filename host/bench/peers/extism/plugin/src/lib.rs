//! The Extism peer of the translate benchmark: the Shopify connector's own
//! `webhook::verify` (HMAC-SHA256 of `X-Shopify-Hmac-Sha256` over the body, serde parse,
//! mapping to the contract's `Order`) behind one Extism export, so the same code runs in
//! Extism as in the Wharf component.
//!
//! Export `verify`: the input is the delivery framed as
//!
//! ```text
//! u32 header count, then per header: u32 name length, name, u32 value length, value;
//! then the body (the rest of the input).   (integers little-endian)
//! ```
//!
//! The client secret is the plugin config `client_secret` (Extism's `config_get`, a host
//! call per delivery like the component's `config.secret`). The output is the webhook
//! event as JSON: `{"delivery_id", "topic", "orders": [order]}`, every field of each order
//! (money as integer minor units of the order's currency). A refused delivery is an error.

use extism_pdk::{config, plugin_fn, FnResult, WithReturnCode};
use serde::Serialize;
use wharf_sdk::types::{
    Address, Buyer, ChannelStatus, Header, Line, Order, Presale, PresaleStage, WebhookEvent,
};

/// The config key of the app's client secret (the webhook HMAC key).
const CLIENT_SECRET: &str = "client_secret";

#[plugin_fn]
pub fn verify(input: Vec<u8>) -> FnResult<Vec<u8>> {
    let (headers, body) = decode(&input).map_err(fail)?;
    let secret = config::get(CLIENT_SECRET)?.ok_or_else(|| fail("no client_secret config"))?;
    let ev = wharf_plugin_shopify::webhook::verify(&headers, body, &secret)
        .map_err(|e| fail(format!("verify refused the delivery: {e:?}")))?;
    Ok(serde_json::to_vec(&EventJson::of(&ev))?)
}

fn fail(msg: impl std::fmt::Display) -> WithReturnCode<extism_pdk::Error> {
    WithReturnCode::new(extism_pdk::Error::msg(msg.to_string()), 1)
}

/// The framed input → the headers (as the component would lift them) and the body.
fn decode(input: &[u8]) -> Result<(Vec<Header>, &[u8]), &'static str> {
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], &'static str> {
        if rest.len() < n {
            return Err("truncated input");
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head)
    }
    fn len(rest: &mut &[u8]) -> Result<usize, &'static str> {
        let b = take(rest, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn text(rest: &mut &[u8]) -> Result<String, &'static str> {
        let n = len(rest)?;
        String::from_utf8(take(rest, n)?.to_vec()).map_err(|_| "header is not UTF-8")
    }
    let mut rest = input;
    let count = len(&mut rest)?;
    let mut headers = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let name = text(&mut rest)?;
        let value = text(&mut rest)?;
        headers.push(Header { name, value });
    }
    Ok((headers, rest))
}

#[derive(Serialize)]
struct EventJson<'a> {
    delivery_id: Option<&'a str>,
    topic: &'a str,
    orders: Vec<OrderJson<'a>>,
}

#[derive(Serialize)]
struct OrderJson<'a> {
    external_id: &'a str,
    number: &'a str,
    status: &'static str,
    raw_status: &'a str,
    created_at: i64,
    updated_at: i64,
    currency: &'a str,
    buyer: Option<BuyerJson<'a>>,
    shipping_address: Option<AddressJson<'a>>,
    lines: Vec<LineJson<'a>>,
    shipping_fee: i64,
    discount: i64,
    tax: i64,
    total_paid: i64,
    presale: Option<PresaleJson>,
    tags: &'a [String],
}

#[derive(Serialize)]
struct BuyerJson<'a> {
    id: Option<&'a str>,
    name: &'a str,
    email: Option<&'a str>,
    phone: Option<&'a str>,
}

#[derive(Serialize)]
struct AddressJson<'a> {
    name: &'a str,
    phone: &'a str,
    country: &'a str,
    province: &'a str,
    city: &'a str,
    district: &'a str,
    street: &'a str,
    postal_code: &'a str,
    encrypted: bool,
}

#[derive(Serialize)]
struct LineJson<'a> {
    line_id: &'a str,
    sku: &'a str,
    channel_sku: &'a str,
    title: &'a str,
    quantity: u32,
    unit_price: i64,
    discount: i64,
}

#[derive(Serialize)]
struct PresaleJson {
    stage: &'static str,
    deposit: Option<i64>,
    balance: Option<i64>,
    ship_by: Option<i64>,
}

impl<'a> EventJson<'a> {
    fn of(ev: &'a WebhookEvent) -> EventJson<'a> {
        EventJson {
            delivery_id: ev.delivery_id.as_deref(),
            topic: &ev.topic,
            orders: ev.orders.iter().map(OrderJson::of).collect(),
        }
    }
}

impl<'a> OrderJson<'a> {
    fn of(o: &'a Order) -> OrderJson<'a> {
        OrderJson {
            external_id: &o.external_id,
            number: &o.number,
            status: status_name(o.status),
            raw_status: &o.raw_status,
            created_at: o.created_at,
            updated_at: o.updated_at,
            currency: &o.currency,
            buyer: o.buyer.as_ref().map(|b: &'a Buyer| BuyerJson {
                id: b.id.as_deref(),
                name: &b.name,
                email: b.email.as_deref(),
                phone: b.phone.as_deref(),
            }),
            shipping_address: o
                .shipping_address
                .as_ref()
                .map(|a: &'a Address| AddressJson {
                    name: &a.name,
                    phone: &a.phone,
                    country: &a.country,
                    province: &a.province,
                    city: &a.city,
                    district: &a.district,
                    street: &a.street,
                    postal_code: &a.postal_code,
                    encrypted: a.encrypted,
                }),
            lines: o
                .lines
                .iter()
                .map(|l: &'a Line| LineJson {
                    line_id: &l.line_id,
                    sku: &l.sku,
                    channel_sku: &l.channel_sku,
                    title: &l.title,
                    quantity: l.quantity,
                    unit_price: l.unit_price.minor,
                    discount: l.discount.minor,
                })
                .collect(),
            shipping_fee: o.shipping_fee.minor,
            discount: o.discount.minor,
            tax: o.tax.minor,
            total_paid: o.total_paid.minor,
            presale: o.presale.as_ref().map(|p: &Presale| PresaleJson {
                stage: stage_name(p.stage),
                deposit: p.deposit.as_ref().map(|m| m.minor),
                balance: p.balance.as_ref().map(|m| m.minor),
                ship_by: p.ship_by,
            }),
            tags: &o.tags,
        }
    }
}

fn status_name(s: ChannelStatus) -> &'static str {
    match s {
        ChannelStatus::PendingPayment => "pending-payment",
        ChannelStatus::Paid => "paid",
        ChannelStatus::PartiallyShipped => "partially-shipped",
        ChannelStatus::Shipped => "shipped",
        ChannelStatus::Completed => "completed",
        ChannelStatus::Cancelled => "cancelled",
        ChannelStatus::Refunded => "refunded",
    }
}

fn stage_name(s: PresaleStage) -> &'static str {
    match s {
        PresaleStage::DepositPending => "deposit-pending",
        PresaleStage::DepositPaid => "deposit-paid",
        PresaleStage::BalancePaid => "balance-paid",
    }
}
