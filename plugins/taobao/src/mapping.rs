//! TOP trade JSON (`taobao.trades.sold.increment.get` / `taobao.trade.fullinfo.get`) →
//! the contract's [`Order`]. Pure: no host calls, so every rule is unit-tested natively.
//!
//! Amounts are yuan strings turned into integer fen by `wharf_sdk::money` (never
//! floats). The rules follow TOP's published formulas — sub-order
//! `total_fee = price × num + adjust_fee − discount_fee`, trade
//! `payment = total_fee − discount_fee + adjust_fee + post_fee` where the trade's
//! `discount_fee` holds every discount and its `adjust_fee` is the sum of the sub-orders'
//! — so that `Σ(num × price − line discount) + shipping − discount = total-paid` holds
//! for every consistent trade:
//! - line discount = `orders.order[].discount_fee − orders.order[].adjust_fee`;
//! - shipping fee = `post_fee`;
//! - order discount = trade `discount_fee` − Σ sub-order `discount_fee` (the shop-wide
//!   remainder);
//! - tax = 0 (Taobao prices include VAT; TOP reports no tax);
//! - total paid = `payment`;
//! - after-sales tags from the sub-orders' `refund_status` ([`after_sales_tag`]).

use serde::Deserialize;
use wharf_sdk::types::{
    Address, Buyer, ChannelStatus, ConnectorError, Line, Money, Order, Presale, PresaleStage,
};
use wharf_sdk::{after_sales, money};

use crate::top::parse_time;

/// Taobao settles in yuan.
pub const CURRENCY: &str = "CNY";

/// The `fields` every trade request asks for: exactly what [`map_trade`] reads.
pub const TRADE_FIELDS: &str = "tid,type,status,step_trade_status,step_paid_fee,payment,\
total_fee,post_fee,discount_fee,adjust_fee,created,modified,pay_time,buyer_nick,\
buyer_open_uid,seller_nick,receiver_name,receiver_mobile,receiver_phone,receiver_country,\
receiver_state,receiver_city,receiver_district,receiver_town,receiver_address,receiver_zip,\
orders";

/// A TOP id: a JSON number, or the same digits as a string (`tid_str`, `sku_id`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Id {
    Number(u64),
    Text(String),
}

impl Id {
    pub fn text(&self) -> String {
        match self {
            Id::Number(n) => n.to_string(),
            Id::Text(s) => s.trim().to_string(),
        }
    }
}

/// A count TOP may send as a number or a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Count {
    Number(u32),
    Text(String),
}

/// The fields of a trade the connector reads. Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Trade {
    pub tid: Id,
    pub status: String,
    #[serde(rename = "type")]
    pub trade_type: Option<String>,
    pub step_trade_status: Option<String>,
    pub step_paid_fee: Option<String>,
    pub payment: String,
    pub post_fee: Option<String>,
    pub discount_fee: Option<String>,
    pub created: String,
    pub modified: String,
    pub buyer_nick: Option<String>,
    pub buyer_open_uid: Option<String>,
    pub seller_nick: Option<String>,
    pub receiver_name: Option<String>,
    pub receiver_mobile: Option<String>,
    pub receiver_phone: Option<String>,
    pub receiver_country: Option<String>,
    pub receiver_state: Option<String>,
    pub receiver_city: Option<String>,
    pub receiver_district: Option<String>,
    pub receiver_town: Option<String>,
    pub receiver_address: Option<String>,
    pub receiver_zip: Option<String>,
    pub orders: Option<SubOrders>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SubOrders {
    #[serde(default)]
    pub order: Vec<SubOrder>,
}

/// One sub-order (`orders.order[]`): a line.
#[derive(Debug, Clone, Deserialize)]
pub struct SubOrder {
    pub oid: Id,
    #[serde(default)]
    pub title: String,
    num: Count,
    pub price: String,
    pub discount_fee: Option<String>,
    pub adjust_fee: Option<String>,
    pub outer_sku_id: Option<String>,
    pub outer_iid: Option<String>,
    pub sku_id: Option<Id>,
    pub num_iid: Option<Id>,
    /// The sub-order's after-sales state (see [`after_sales_tag`]).
    pub refund_status: Option<String>,
}

/// Parse one trade object and map it.
pub fn order_from_json(value: &serde_json::Value) -> Result<Order, ConnectorError> {
    let tid = match value.get("tid") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "?".into(),
    };
    let raw: Trade = serde_json::from_value(value.clone()).map_err(|e| {
        ConnectorError::InvalidInput(format!("Taobao trade {tid}: not a trade object: {e}"))
    })?;
    map_trade(&raw)
}

/// The normalised status of a TOP trade `status` (see the table in the plugin README).
pub fn status(raw: &str) -> Result<ChannelStatus, ConnectorError> {
    Ok(match raw {
        "TRADE_NO_CREATE_PAY" | "WAIT_BUYER_PAY" | "PAY_PENDING" | "WAIT_PRE_AUTH_CONFIRM" => {
            ChannelStatus::PendingPayment
        }
        "WAIT_SELLER_SEND_GOODS" | "PAID_FORBID_CONSIGN" => ChannelStatus::Paid,
        "SELLER_CONSIGNED_PART" => ChannelStatus::PartiallyShipped,
        "WAIT_BUYER_CONFIRM_GOODS" | "TRADE_BUYER_SIGNED" => ChannelStatus::Shipped,
        "TRADE_FINISHED" => ChannelStatus::Completed,
        "TRADE_CLOSED" => ChannelStatus::Refunded,
        "TRADE_CLOSED_BY_TAOBAO" => ChannelStatus::Cancelled,
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "unknown status {other:?}"
            )))
        }
    })
}

/// The after-sales tag of a sub-order `refund_status` (README table "After-sales");
/// `NO_REFUND`, empty and unknown values carry none. `SELLER_REFUSE_BUYER` stays a
/// request: the buyer may still appeal to Taobao.
pub fn after_sales_tag(refund_status: &str) -> Option<&'static str> {
    Some(match refund_status.trim() {
        "WAIT_SELLER_AGREE" | "SELLER_REFUSE_BUYER" => after_sales::REFUND_REQUESTED,
        "WAIT_BUYER_RETURN_GOODS" | "WAIT_SELLER_CONFIRM_GOODS" => after_sales::RETURN_REQUESTED,
        "SUCCESS" => after_sales::REFUNDED,
        "CLOSED" => after_sales::CLOSED,
        _ => return None,
    })
}

/// The presale stage of a `step_trade_status`.
pub fn presale_stage(step: &str) -> Result<PresaleStage, ConnectorError> {
    Ok(match step {
        "FRONT_NOPAID_FINAL_NOPAID" => PresaleStage::DepositPending,
        "FRONT_PAID_FINAL_NOPAID" => PresaleStage::DepositPaid,
        "FRONT_PAID_FINAL_PAID" => PresaleStage::BalancePaid,
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "unknown step_trade_status {other:?}"
            )))
        }
    })
}

/// Map a parsed trade; an unreadable field is `invalid-input` naming the tid and field.
pub fn map_trade(t: &Trade) -> Result<Order, ConnectorError> {
    map_inner(t).map_err(|e| match e {
        ConnectorError::InvalidInput(m) => {
            ConnectorError::InvalidInput(format!("Taobao trade {}: {m}", t.tid.text()))
        }
        other => other,
    })
}

fn yuan(field: &str, v: &str) -> Result<i64, ConnectorError> {
    Ok(money::parse(field, v, CURRENCY)?.minor)
}

fn yuan_opt(field: &str, v: Option<&str>) -> Result<i64, ConnectorError> {
    Ok(money::parse_opt(field, v, CURRENCY)?.minor)
}

fn cny(minor: i64) -> Money {
    Money {
        minor,
        currency: CURRENCY.to_string(),
    }
}

fn text(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_string()
}

fn non_empty(s: &Option<String>) -> Option<String> {
    Some(text(s)).filter(|v| !v.is_empty())
}

fn map_inner(t: &Trade) -> Result<Order, ConnectorError> {
    let tid = t.tid.text();
    if tid.is_empty() || !tid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "tid {tid:?} is not a number"
        )));
    }
    let status = status(&t.status)?;
    let step = non_empty(&t.step_trade_status);
    let raw_status = match &step {
        Some(s) => format!("{}/{s}", t.status),
        None => t.status.clone(),
    };
    let total_paid = yuan("payment", &t.payment)?;

    let subs = t.orders.as_ref().map(|o| o.order.as_slice()).unwrap_or(&[]);
    let mut lines = Vec::with_capacity(subs.len());
    let mut sub_discounts = 0i64;
    for (i, o) in subs.iter().enumerate() {
        let (line, discount_fee) = map_line(i, o)?;
        sub_discounts = sub_discounts
            .checked_add(discount_fee)
            .ok_or_else(|| ConnectorError::InvalidInput("sub-order discounts overflow".into()))?;
        lines.push(line);
    }
    let discount = yuan_opt("discount_fee", t.discount_fee.as_deref())? - sub_discounts;

    let presale = match &step {
        None => None,
        Some(s) => {
            let stage = presale_stage(s)?;
            let deposit = match t.step_paid_fee.as_deref().filter(|v| !v.trim().is_empty()) {
                Some(v) => Some(yuan("step_paid_fee", v)?),
                None => None,
            };
            Some(Presale {
                stage,
                deposit: deposit.map(cny),
                balance: deposit.map(|d| cny(total_paid - d)),
                ship_by: None,
            })
        }
    };
    let buyer = match (non_empty(&t.buyer_nick), non_empty(&t.buyer_open_uid)) {
        (None, None) => None,
        (name, id) => Some(Buyer {
            id,
            name: name.unwrap_or_default(),
            email: None,
            phone: None,
        }),
    };
    let mut tags = Vec::new();
    if let Some(ty) = non_empty(&t.trade_type) {
        tags.push(format!("type:{ty}"));
    }
    if presale.is_some() {
        tags.push("presale".to_string());
    }
    let mut after = after_sales::Tags::default();
    for tag in subs
        .iter()
        .filter_map(|o| after_sales_tag(o.refund_status.as_deref().unwrap_or("")))
    {
        after.add(tag);
    }
    tags.extend(after.into_vec());
    Ok(Order {
        number: tid.clone(),
        external_id: tid,
        status,
        raw_status,
        created_at: parse_time("created", &t.created)?,
        updated_at: parse_time("modified", &t.modified)?,
        currency: CURRENCY.to_string(),
        buyer,
        shipping_address: address(t),
        lines,
        shipping_fee: cny(yuan_opt("post_fee", t.post_fee.as_deref())?),
        discount: cny(discount),
        tax: cny(0),
        total_paid: cny(total_paid),
        presale,
        tags,
    })
}

/// A sub-order as a line, and its own `discount_fee` (fen) for the order-level remainder.
fn map_line(i: usize, o: &SubOrder) -> Result<(Line, i64), ConnectorError> {
    let field = |name: &str| format!("orders.order[{i}].{name}");
    let quantity = match &o.num {
        Count::Number(n) => Some(*n),
        Count::Text(s) => s.trim().parse::<u32>().ok(),
    }
    .ok_or_else(|| ConnectorError::InvalidInput(format!("{}: not a count", field("num"))))?;
    let discount_fee = yuan_opt(&field("discount_fee"), o.discount_fee.as_deref())?;
    let adjust_fee = yuan_opt(&field("adjust_fee"), o.adjust_fee.as_deref())?;
    let sku = non_empty(&o.outer_sku_id)
        .or_else(|| non_empty(&o.outer_iid))
        .unwrap_or_default();
    let channel_sku = o
        .sku_id
        .as_ref()
        .map(Id::text)
        .filter(|s| !s.is_empty())
        .or_else(|| o.num_iid.as_ref().map(Id::text))
        .unwrap_or_default();
    let line = Line {
        line_id: o.oid.text(),
        sku,
        channel_sku,
        title: o.title.trim().to_string(),
        quantity,
        unit_price: cny(yuan(&field("price"), &o.price)?),
        discount: cny(discount_fee - adjust_fee),
    };
    Ok((line, discount_fee))
}

/// The receiver, when the trade has one (virtual goods have none). TOP leaves
/// `receiver_country` empty for mainland China.
fn address(t: &Trade) -> Option<Address> {
    let fields = [
        &t.receiver_name,
        &t.receiver_state,
        &t.receiver_city,
        &t.receiver_district,
        &t.receiver_town,
        &t.receiver_address,
        &t.receiver_mobile,
        &t.receiver_phone,
    ];
    if fields.iter().all(|f| text(f).is_empty()) {
        return None;
    }
    let street = [text(&t.receiver_town), text(&t.receiver_address)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Some(Address {
        name: text(&t.receiver_name),
        phone: non_empty(&t.receiver_mobile)
            .or_else(|| non_empty(&t.receiver_phone))
            .unwrap_or_default(),
        country: non_empty(&t.receiver_country).unwrap_or_else(|| "CN".to_string()),
        province: text(&t.receiver_state),
        city: text(&t.receiver_city),
        district: text(&t.receiver_district),
        street,
        postal_code: text(&t.receiver_zip),
        encrypted: false,
    })
}

#[cfg(test)]
mod tests;
