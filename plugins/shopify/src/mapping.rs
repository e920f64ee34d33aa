//! Shopify order JSON (REST Admin API 2024-04, also the `orders/*` webhook payload) →
//! the contract's [`Order`]. Pure: no host calls, so every rule is unit-tested natively.
//!
//! Amounts are decimal strings turned into integer minor units by `wharf_sdk::money`
//! (never floats). The rules, chosen so that
//! `Σ(quantity × unit-price − line discount) + shipping − discount + tax = total-paid`
//! holds for every consistent Shopify order:
//! - line discount = Σ `discount_allocations[].amount` of the line;
//! - shipping fee = Σ `shipping_lines[].price` (before shipping discounts);
//! - order discount = `total_discounts` − Σ line allocations (the order-level remainder,
//!   shipping discounts included);
//! - tax = `total_tax`, or 0 when `taxes_included` (prices already contain it);
//! - total paid = `total_price`.

use serde::Deserialize;
use wharf_sdk::money;
use wharf_sdk::time::parse_rfc3339_ms;
use wharf_sdk::types::{Address, Buyer, ChannelStatus, ConnectorError, Line, Money, Order};

/// The fields of a Shopify order the connector reads. Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopifyOrder {
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub currency: String,
    pub financial_status: Option<String>,
    pub fulfillment_status: Option<String>,
    pub cancelled_at: Option<String>,
    pub total_price: String,
    pub total_discounts: Option<String>,
    pub total_tax: Option<String>,
    #[serde(default)]
    pub taxes_included: Option<bool>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    pub shipping_address: Option<ShopifyAddress>,
    pub customer: Option<Customer>,
    pub tags: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineItem {
    pub id: u64,
    pub sku: Option<String>,
    pub variant_id: Option<u64>,
    #[serde(default)]
    pub title: String,
    pub quantity: u32,
    pub price: String,
    #[serde(default)]
    pub discount_allocations: Vec<DiscountAllocation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DiscountAllocation {
    pub amount: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShippingLine {
    pub price: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShopifyAddress {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub province_code: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub zip: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub id: Option<u64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Parse one order object (the `order` of `{"order": …}`, an element of `orders`, or a
/// webhook body) and map it.
pub fn order_from_json(value: &serde_json::Value) -> Result<Order, ConnectorError> {
    let id = value.get("id").map(|v| v.to_string()).unwrap_or_default();
    let raw: ShopifyOrder = serde_json::from_value(value.clone()).map_err(|e| {
        ConnectorError::InvalidInput(format!("Shopify order {id}: not an order object: {e}"))
    })?;
    map_order(&raw)
}

/// Parse a webhook body holding one order.
pub fn order_from_bytes(body: &[u8]) -> Result<Order, ConnectorError> {
    let raw: ShopifyOrder = serde_json::from_slice(body).map_err(|e| {
        ConnectorError::InvalidInput(format!("webhook body is not a Shopify order: {e}"))
    })?;
    map_order(&raw)
}

/// The normalised status and the raw status string, from `financial_status` ×
/// `fulfillment_status` × `cancelled_at` (see the table in the plugin README).
pub fn status(
    financial: &str,
    fulfillment: Option<&str>,
    cancelled: bool,
) -> Result<(ChannelStatus, String), ConnectorError> {
    let by_fulfillment = || match fulfillment {
        None => Ok(ChannelStatus::Paid),
        Some("partial") => Ok(ChannelStatus::PartiallyShipped),
        Some("fulfilled") => Ok(ChannelStatus::Shipped),
        Some(other) => Err(ConnectorError::InvalidInput(format!(
            "unknown fulfillment_status {other:?}"
        ))),
    };
    let normal = match financial {
        "refunded" => ChannelStatus::Refunded,
        "voided" => ChannelStatus::Cancelled,
        "pending" | "partially_paid" => ChannelStatus::PendingPayment,
        "authorized" | "paid" | "partially_refunded" => by_fulfillment()?,
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "unknown financial_status {other:?}"
            )))
        }
    };
    let status = match (cancelled, financial) {
        (true, "refunded") => ChannelStatus::Refunded,
        (true, _) => ChannelStatus::Cancelled,
        (false, _) => normal,
    };
    let mut raw = format!("{financial}/{}", fulfillment.unwrap_or("null"));
    if cancelled {
        raw.push_str("/cancelled");
    }
    Ok((status, raw))
}

/// Map a parsed Shopify order.
pub fn map_order(o: &ShopifyOrder) -> Result<Order, ConnectorError> {
    let ctx = |e: ConnectorError| match e {
        ConnectorError::InvalidInput(m) => {
            ConnectorError::InvalidInput(format!("Shopify order {}: {m}", o.id))
        }
        other => other,
    };
    map_order_inner(o).map_err(ctx)
}

fn map_order_inner(o: &ShopifyOrder) -> Result<Order, ConnectorError> {
    let cur = o.currency.as_str();
    let financial = o
        .financial_status
        .as_deref()
        .ok_or_else(|| ConnectorError::InvalidInput("financial_status is missing".into()))?;
    let cancelled = o.cancelled_at.as_deref().is_some_and(|s| !s.is_empty());
    let (status, raw_status) = status(financial, o.fulfillment_status.as_deref(), cancelled)?;

    let mut lines = Vec::with_capacity(o.line_items.len());
    let mut allocated = 0i64;
    for (i, li) in o.line_items.iter().enumerate() {
        let line = map_line(i, li, cur)?;
        allocated = allocated
            .checked_add(line.discount.minor)
            .ok_or_else(|| ConnectorError::InvalidInput("line discounts overflow".into()))?;
        lines.push(line);
    }
    let mut shipping = 0i64;
    for (i, s) in o.shipping_lines.iter().enumerate() {
        let p = money::parse_with(|| format!("shipping_lines[{i}].price"), &s.price, cur)?;
        shipping = shipping
            .checked_add(p.minor)
            .ok_or_else(|| ConnectorError::InvalidInput("shipping overflows".into()))?;
    }
    let total_discounts = money::parse_opt("total_discounts", o.total_discounts.as_deref(), cur)?;
    let tax = if o.taxes_included == Some(true) {
        money::zero(cur)
    } else {
        money::parse_opt("total_tax", o.total_tax.as_deref(), cur)?
    };
    Ok(Order {
        external_id: o.id.to_string(),
        number: o.name.clone().unwrap_or_else(|| o.id.to_string()),
        status,
        raw_status,
        created_at: parse_rfc3339_ms("created_at", &o.created_at)?,
        updated_at: parse_rfc3339_ms("updated_at", &o.updated_at)?,
        currency: cur.to_string(),
        buyer: buyer(o),
        shipping_address: o.shipping_address.as_ref().map(address),
        lines,
        shipping_fee: minor(shipping, cur),
        discount: minor(total_discounts.minor - allocated, cur),
        tax,
        total_paid: money::parse("total_price", &o.total_price, cur)?,
        presale: None,
        tags: after_sales_tags(tags(o.tags.as_deref().unwrap_or("")), financial),
    })
}

fn map_line(i: usize, li: &LineItem, cur: &str) -> Result<Line, ConnectorError> {
    let mut discount = 0i64;
    for (j, d) in li.discount_allocations.iter().enumerate() {
        let m = money::parse_with(
            || format!("line_items[{i}].discount_allocations[{j}].amount"),
            &d.amount,
            cur,
        )?;
        discount = discount
            .checked_add(m.minor)
            .ok_or_else(|| ConnectorError::InvalidInput("line discount overflows".into()))?;
    }
    Ok(Line {
        line_id: li.id.to_string(),
        sku: li.sku.clone().unwrap_or_default(),
        channel_sku: li.variant_id.map(|v| v.to_string()).unwrap_or_default(),
        title: li.title.clone(),
        quantity: li.quantity,
        unit_price: money::parse_with(|| format!("line_items[{i}].price"), &li.price, cur)?,
        discount: minor(discount, cur),
    })
}

fn minor(minor: i64, currency: &str) -> Money {
    Money {
        minor,
        currency: currency.to_string(),
    }
}

fn text(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_string()
}

fn full_name(first: &Option<String>, last: &Option<String>) -> String {
    format!("{} {}", text(first), text(last)).trim().to_string()
}

fn buyer(o: &ShopifyOrder) -> Option<Buyer> {
    let non_empty = |s: Option<&String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    match &o.customer {
        Some(c) => Some(Buyer {
            id: c.id.map(|id| id.to_string()),
            name: full_name(&c.first_name, &c.last_name),
            email: non_empty(c.email.as_ref()).or_else(|| non_empty(o.email.as_ref())),
            phone: non_empty(c.phone.as_ref()).or_else(|| non_empty(o.phone.as_ref())),
        }),
        None => {
            let email = non_empty(o.email.as_ref());
            let phone = non_empty(o.phone.as_ref());
            (email.is_some() || phone.is_some()).then(|| Buyer {
                id: None,
                name: String::new(),
                email,
                phone,
            })
        }
    }
}

fn address(a: &ShopifyAddress) -> Address {
    let name = match text(&a.name) {
        n if n.is_empty() => full_name(&a.first_name, &a.last_name),
        n => n,
    };
    let street = [text(&a.address1), text(&a.address2)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let either = |a: &Option<String>, b: &Option<String>| match text(a) {
        s if s.is_empty() => text(b),
        s => s,
    };
    Address {
        name,
        phone: text(&a.phone),
        country: either(&a.country_code, &a.country),
        province: either(&a.province, &a.province_code),
        city: text(&a.city),
        district: String::new(),
        street,
        postal_code: text(&a.zip),
        encrypted: false,
    }
}

/// The contract's after-sales tag convention: a refunded or partially refunded order
/// carries `after-sales:refunded`.
fn after_sales_tags(mut tags: Vec<String>, financial: &str) -> Vec<String> {
    const REFUNDED: &str = "after-sales:refunded";
    if matches!(financial, "refunded" | "partially_refunded") && !tags.iter().any(|t| t == REFUNDED)
    {
        tags.push(REFUNDED.to_string());
    }
    tags
}

fn tags(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests;
