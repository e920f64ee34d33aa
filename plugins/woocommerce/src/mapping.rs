//! WooCommerce order JSON (REST API v3, also the `order.*` webhook payload) → the
//! contract's [`Order`]. Pure: no host calls, so every rule is unit-tested natively.
//!
//! Amounts are decimal strings turned into integer minor units by `wharf_sdk::money`
//! (never floats). WooCommerce's model: a line's `subtotal` is before coupons and its
//! `total` after them, both without tax; the order's `total` is
//! `Σ line total + Σ fee total + shipping_total + total_tax`. The rules, chosen so that
//! `Σ(quantity × unit-price − line discount) + shipping − discount + tax = total-paid`
//! holds for every consistent order:
//! - unit price = `subtotal ÷ quantity` (rounded up to a minor unit when it does not
//!   divide; the rest goes into the line discount); without `subtotal`, the line's
//!   `price`, read from the JSON number's text, never through a float;
//! - line discount = `quantity × unit price − total` (coupons, incl. the rounding rest);
//! - shipping fee = `shipping_total`;
//! - order discount = − Σ `fee_lines[].total` (a fee is a charge, a negative fee a
//!   discount);
//! - tax = `total_tax`;
//! - total paid = `total`.
//!
//! `price` is `total ÷ quantity` as PHP computes it (after coupons, e.g.
//! `3.3333333333333335`), so it is never the money source when `subtotal` is present.

use serde::Deserialize;
use serde_json::value::RawValue;
use wharf_sdk::money;
use wharf_sdk::time::parse_rfc3339_ms;
use wharf_sdk::types::{Address, Buyer, ChannelStatus, ConnectorError, Line, Money, Order};

/// The fields of an order the connector reads. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub struct WcOrder {
    pub id: u64,
    pub number: Option<String>,
    pub status: String,
    pub currency: String,
    pub date_created_gmt: Option<String>,
    pub date_modified_gmt: Option<String>,
    pub total: String,
    pub shipping_total: Option<String>,
    pub total_tax: Option<String>,
    #[serde(default)]
    pub customer_id: u64,
    pub billing: Option<WcAddress>,
    pub shipping: Option<WcAddress>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub fee_lines: Vec<FeeLine>,
    #[serde(default)]
    pub coupon_lines: Vec<CouponLine>,
    pub created_via: Option<String>,
    /// Refunds made on the order (`id`, `reason`, `total`); non-empty → after-sales:refunded.
    #[serde(default)]
    pub refunds: Vec<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WcAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LineItem {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub product_id: u64,
    #[serde(default)]
    pub variation_id: u64,
    pub sku: Option<String>,
    pub quantity: i64,
    pub subtotal: Option<String>,
    pub total: Option<String>,
    /// A JSON number (PHP float) or string: read from its text.
    pub price: Option<Box<RawValue>>,
}

#[derive(Debug, Deserialize)]
pub struct FeeLine {
    pub total: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CouponLine {
    #[serde(default)]
    pub code: String,
}

/// A WooCommerce `status` → the contract's status (the README's table); any other is
/// `None`.
pub fn map_status(status: &str) -> Option<ChannelStatus> {
    Some(match status {
        "pending" | "on-hold" | "checkout-draft" => ChannelStatus::PendingPayment,
        "processing" => ChannelStatus::Paid,
        "completed" => ChannelStatus::Completed,
        "cancelled" | "failed" | "trash" => ChannelStatus::Cancelled,
        "refunded" => ChannelStatus::Refunded,
        _ => return None,
    })
}

/// The after-sales tag of an order (README table "After-sales"): `after-sales:refunded`
/// when the order has refunds (full or partial) or its status is `refunded`. WooCommerce
/// core has no refund request or return workflow, so no other tag applies.
pub fn after_sales_tag(status: &str, refunds: usize) -> Option<&'static str> {
    (refunds > 0 || status == "refunded").then_some(wharf_sdk::after_sales::REFUNDED)
}

/// The id of an order JSON text, for error messages ("?" when unreadable).
fn id_of(text: &str) -> String {
    #[derive(Deserialize)]
    struct Id {
        id: serde_json::Value,
    }
    serde_json::from_str::<Id>(text)
        .map(|i| i.id.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Parse one order object (JSON text) and map it. Errors are `invalid-input` naming the
/// order and the field.
pub fn order_from_str(text: &str) -> Result<Order, ConnectorError> {
    let raw: WcOrder = serde_json::from_str(text)
        .map_err(|e| ConnectorError::InvalidInput(format!("order {}: {e}", id_of(text))))?;
    map_order(&raw)
}

/// Like [`order_from_str`], from bytes (a webhook body).
pub fn order_from_bytes(body: &[u8]) -> Result<Order, ConnectorError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ConnectorError::InvalidInput(format!("order body is not UTF-8: {e}")))?;
    order_from_str(text)
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().map(str::trim).unwrap_or("")
}

fn non_empty(s: &Option<String>) -> Option<String> {
    let t = opt(s);
    (!t.is_empty()).then(|| t.to_string())
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JSON number's or string's text as a decimal amount: `18.99`, `18`, `"18.99"`,
/// `1.899e1`. Exact: the digits are shifted, never converted to a float.
pub fn decimal_text(raw: &RawValue) -> Option<String> {
    let t = raw.get().trim();
    let t = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
        None => (t, 0),
    };
    let (neg, m) = match mantissa.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, mantissa),
    };
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        || exp.abs() > 30
    {
        return None;
    }
    let digits = format!("{int}{frac}");
    let point = int.len() as i32 + exp;
    let s = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    Some(if neg { format!("-{s}") } else { s })
}

fn map_line(order: &str, i: usize, l: &LineItem, currency: &str) -> Result<Line, ConnectorError> {
    let field = |f: &str| format!("order {order}: line_items[{i}].{f}");
    let quantity = u32::try_from(l.quantity)
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!(
                "{}: {} is not positive",
                field("quantity"),
                l.quantity
            ))
        })?;
    let total = match &l.total {
        Some(t) => Some(money::parse(&field("total"), t, currency)?.minor),
        None => None,
    };
    let unit = match (&l.subtotal, &l.price) {
        (Some(sub), _) => {
            let sub = money::parse(&field("subtotal"), sub, currency)?.minor;
            // Round up: the rest becomes discount, so the line's net stays `total`.
            sub.div_euclid(i64::from(quantity))
                + i64::from(sub.rem_euclid(i64::from(quantity)) != 0)
        }
        (None, Some(price)) => {
            let text = decimal_text(price).ok_or_else(|| {
                ConnectorError::InvalidInput(format!(
                    "{}: {} is not a number",
                    field("price"),
                    price.get()
                ))
            })?;
            money::parse(&field("price"), &text, currency)?.minor
        }
        (None, None) => {
            return Err(ConnectorError::InvalidInput(format!(
                "{}: neither subtotal nor price is given",
                field("subtotal")
            )))
        }
    };
    let gross = unit.saturating_mul(i64::from(quantity));
    let discount = total.map(|t| gross - t).unwrap_or(0);
    let channel_sku = match (l.product_id, l.variation_id) {
        (0, _) => String::new(),
        (p, 0) => p.to_string(),
        (p, v) => format!("{p}/{v}"),
    };
    Ok(Line {
        line_id: l.id.to_string(),
        sku: opt(&l.sku).to_string(),
        channel_sku,
        title: l.name.clone(),
        quantity,
        unit_price: Money {
            minor: unit,
            currency: currency.to_string(),
        },
        discount: Money {
            minor: discount,
            currency: currency.to_string(),
        },
    })
}

/// Map a parsed order.
pub fn map_order(o: &WcOrder) -> Result<Order, ConnectorError> {
    let id = o.id.to_string();
    let field = |f: &str| format!("order {id}: {f}");
    let status = map_status(&o.status).ok_or_else(|| {
        ConnectorError::InvalidInput(format!(
            "{}: unknown status {:?}",
            field("status"),
            o.status
        ))
    })?;
    let currency = o.currency.trim().to_uppercase();
    let time = |name: &str, v: &Option<String>| -> Result<Option<i64>, ConnectorError> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_rfc3339_ms(&field(name), s).map(Some),
            None => Ok(None),
        }
    };
    let updated_at = time("date_modified_gmt", &o.date_modified_gmt)?.ok_or_else(|| {
        ConnectorError::InvalidInput(format!("{}: is missing", field("date_modified_gmt")))
    })?;
    let created_at = time("date_created_gmt", &o.date_created_gmt)?.unwrap_or(updated_at);
    let lines = o
        .line_items
        .iter()
        .enumerate()
        .map(|(i, l)| map_line(&id, i, l, &currency))
        .collect::<Result<Vec<_>, _>>()?;
    let mut fees = 0i64;
    for (i, f) in o.fee_lines.iter().enumerate() {
        fees += money::parse_opt(
            &field(&format!("fee_lines[{i}].total")),
            f.total.as_deref(),
            &currency,
        )?
        .minor;
    }
    let billing = o.billing.as_ref();
    let buyer = billing.and_then(|b| {
        let name = join(&[opt(&b.first_name), opt(&b.last_name)]);
        let (email, phone) = (non_empty(&b.email), non_empty(&b.phone));
        let id = (o.customer_id != 0).then(|| o.customer_id.to_string());
        (id.is_some() || !name.is_empty() || email.is_some() || phone.is_some()).then_some(Buyer {
            id,
            name,
            email,
            phone,
        })
    });
    let shipping_address = o.shipping.as_ref().and_then(|s| {
        let any = [&s.address_1, &s.address_2, &s.city, &s.postcode, &s.country]
            .iter()
            .any(|v| !opt(v).is_empty());
        any.then(|| Address {
            name: join(&[opt(&s.first_name), opt(&s.last_name)]),
            phone: non_empty(&s.phone)
                .or_else(|| billing.and_then(|b| non_empty(&b.phone)))
                .unwrap_or_default(),
            country: opt(&s.country).to_string(),
            province: opt(&s.state).to_string(),
            city: opt(&s.city).to_string(),
            district: String::new(),
            street: join(&[opt(&s.company), opt(&s.address_1), opt(&s.address_2)]),
            postal_code: opt(&s.postcode).to_string(),
            encrypted: false,
        })
    });
    let mut tags: Vec<String> = o
        .coupon_lines
        .iter()
        .filter(|c| !c.code.trim().is_empty())
        .map(|c| format!("coupon:{}", c.code.trim()))
        .collect();
    if let Some(via) = non_empty(&o.created_via) {
        tags.push(format!("created_via:{via}"));
    }
    if let Some(tag) = after_sales_tag(&o.status, o.refunds.len()) {
        tags.push(tag.to_string());
    }
    Ok(Order {
        external_id: id.clone(),
        number: non_empty(&o.number).unwrap_or_else(|| id.clone()),
        status,
        raw_status: o.status.clone(),
        created_at,
        updated_at,
        currency: currency.clone(),
        buyer,
        shipping_address,
        lines,
        shipping_fee: money::parse_opt(
            &field("shipping_total"),
            o.shipping_total.as_deref(),
            &currency,
        )?,
        discount: Money {
            minor: -fees,
            currency: currency.clone(),
        },
        tax: money::parse_opt(&field("total_tax"), o.total_tax.as_deref(), &currency)?,
        total_paid: money::parse(&field("total"), &o.total, &currency)?,
        presale: None,
        tags,
    })
}

#[cfg(test)]
mod tests;
