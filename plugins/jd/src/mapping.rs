//! JD POP order JSON (`jingdong.pop.order.search` / `jingdong.pop.order.get`) → the
//! contract's [`Order`]. Pure: no host calls, so every rule is unit-tested natively.
//!
//! Amounts are yuan strings turned into integer fen by `wharf_sdk::money` (never
//! floats). The amount model (JD's field descriptions; the arithmetic between them is
//! partly guessed, see the README):
//! - `orderTotalPrice` = Σ `jdPrice × itemTotal`; `freightPrice` the shipping;
//! - `couponDetailList[]` are the discounts: an entry with a `skuId` belongs to that
//!   item's line, one without (shop coupons, JD coupons) to the whole order;
//! - `orderPayment` = what the buyer pays = goods − every coupon + freight.
//!
//! So the order maps as:
//! - line discount = Σ `couponPrice` of the coupons carrying the line's `skuId`;
//! - order discount = Σ `couponPrice` of the other coupons;
//! - shipping fee = `freightPrice`; tax = 0 (JD prices include VAT); total paid =
//!   `orderPayment`;
//!
//! and `Σ(quantity × unit-price − line discount) + shipping − discount = total-paid`
//! holds for every consistent order (the host's anomaly check flags any that do not).

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::money;
use wharf_sdk::types::{Address, Buyer, ChannelStatus, ConnectorError, Line, Money, Order};

use crate::jos::{parse_time, text_of};

/// JD settles in yuan.
pub const CURRENCY: &str = "CNY";

/// The `optional_fields` every order request asks for: exactly what [`map_order`] reads.
pub const ORDER_FIELDS: &str = "orderId,venderId,orderType,payType,orderState,\
orderStateRemark,orderTotalPrice,orderSellerPrice,orderPayment,freightPrice,sellerDiscount,\
orderStartTime,modified,paymentConfirmTime,pin,consigneeInfo,itemInfoList,couponDetailList";

/// Every `orderState` the plugin knows (the README's table), in the order the search's
/// `order_state` parameter lists them: JD returns only the states asked for.
pub const ORDER_STATES: [&str; 9] = [
    "WAIT_SELLER_STOCK_OUT",
    "WAIT_SELLER_DELIVERY",
    "WAIT_SEND_CODE",
    "POP_ORDER_PAUSE",
    "PAUSE",
    "LOCKED",
    "WAIT_GOODS_RECEIVE_CONFIRM",
    "FINISHED_L",
    "TRADE_CANCELED",
];

/// An id or count JOS may send as a JSON string or number.
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

/// The fields of an order the connector reads. Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JdOrder {
    pub order_id: Id,
    pub vender_id: Option<Id>,
    pub order_type: Option<Id>,
    pub pay_type: Option<String>,
    pub order_state: String,
    pub order_state_remark: Option<String>,
    pub order_total_price: Option<String>,
    pub order_payment: String,
    pub freight_price: Option<String>,
    pub order_start_time: String,
    pub modified: String,
    pub pin: Option<String>,
    pub consignee_info: Option<Consignee>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub item_info_list: Vec<Item>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub coupon_detail_list: Vec<Coupon>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Consignee {
    pub fullname: Option<String>,
    pub mobile: Option<String>,
    pub telephone: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub town: Option<String>,
    #[serde(rename = "fullAddress")]
    pub full_address: Option<String>,
}

/// One item (`itemInfoList[]`): a line.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub sku_id: Id,
    pub outer_sku_id: Option<String>,
    #[serde(default)]
    pub sku_name: String,
    pub jd_price: String,
    pub item_total: Id,
    pub ware_id: Option<Id>,
}

/// One discount (`couponDetailList[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    pub sku_id: Option<Id>,
    pub coupon_type: Option<String>,
    pub coupon_price: String,
}

/// Parse one order object and map it.
pub fn order_from_json(value: &Value) -> Result<Order, ConnectorError> {
    let id = value
        .get("orderId")
        .and_then(text_of)
        .unwrap_or_else(|| "?".into());
    let raw: JdOrder = serde_json::from_value(value.clone()).map_err(|e| {
        ConnectorError::InvalidInput(format!("JD order {id}: not an order object: {e}"))
    })?;
    map_order(&raw)
}

/// The normalised status of a JD `orderState`, and the tag it adds (see the README's
/// table). Any other state is `invalid-input`.
pub fn status(raw: &str) -> Result<(ChannelStatus, Option<&'static str>), ConnectorError> {
    Ok(match raw {
        "WAIT_SELLER_STOCK_OUT" => (ChannelStatus::Paid, None),
        "WAIT_SELLER_DELIVERY" => (ChannelStatus::Paid, Some("overseas")),
        "WAIT_SEND_CODE" => (ChannelStatus::Paid, Some("loc")),
        "POP_ORDER_PAUSE" | "PAUSE" => (ChannelStatus::Paid, Some("paused")),
        "LOCKED" => (ChannelStatus::Paid, Some("locked")),
        "WAIT_GOODS_RECEIVE_CONFIRM" => (ChannelStatus::Shipped, None),
        "FINISHED_L" => (ChannelStatus::Completed, None),
        "TRADE_CANCELED" => (ChannelStatus::Cancelled, None),
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "orderState: unknown state {other:?}"
            )))
        }
    })
}

/// Map a parsed order; an unreadable field is `invalid-input` naming the order and field.
pub fn map_order(o: &JdOrder) -> Result<Order, ConnectorError> {
    map_inner(o).map_err(|e| match e {
        ConnectorError::InvalidInput(m) => {
            ConnectorError::InvalidInput(format!("JD order {}: {m}", o.order_id.text()))
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

fn map_inner(o: &JdOrder) -> Result<Order, ConnectorError> {
    let id = o.order_id.text();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "orderId {id:?} is not a number"
        )));
    }
    let (status, state_tag) = status(o.order_state.trim())?;

    // Coupons: those naming a line's skuId are that line's; the rest are order-level.
    let sku_ids: Vec<String> = o.item_info_list.iter().map(|i| i.sku_id.text()).collect();
    let mut line_discounts = vec![0i64; sku_ids.len()];
    let mut order_discount = 0i64;
    for (i, c) in o.coupon_detail_list.iter().enumerate() {
        let price = yuan(
            &format!("couponDetailList[{i}].couponPrice"),
            &c.coupon_price,
        )?;
        let sku = c.sku_id.as_ref().map(Id::text).filter(|s| !s.is_empty());
        match sku.and_then(|s| sku_ids.iter().position(|x| *x == s)) {
            Some(line) => line_discounts[line] += price,
            None => order_discount += price,
        }
    }
    let mut lines = Vec::with_capacity(o.item_info_list.len());
    for (i, item) in o.item_info_list.iter().enumerate() {
        let field = |name: &str| format!("itemInfoList[{i}].{name}");
        let quantity = item.item_total.text().parse::<u32>().map_err(|_| {
            ConnectorError::InvalidInput(format!("{}: not a count", field("itemTotal")))
        })?;
        let sku_id = &sku_ids[i];
        // The line id is the skuId; a skuId repeated in one order gets its position.
        let line_id = if sku_ids[..i].contains(sku_id) {
            format!("{sku_id}#{i}")
        } else {
            sku_id.clone()
        };
        lines.push(Line {
            line_id,
            sku: text(&item.outer_sku_id),
            channel_sku: sku_id.clone(),
            title: item.sku_name.trim().to_string(),
            quantity,
            unit_price: cny(yuan(&field("jdPrice"), &item.jd_price)?),
            discount: cny(line_discounts[i]),
        });
    }
    // Read for validation: a malformed goods total is an unreadable order.
    yuan_opt("orderTotalPrice", o.order_total_price.as_deref())?;

    let mut tags = Vec::new();
    if let Some(t) = state_tag {
        tags.push(t.to_string());
    }
    if text(&o.pay_type).starts_with("1-") || text(&o.pay_type) == "1" {
        tags.push("cod".to_string());
    }
    if let Some(t) = o
        .order_type
        .as_ref()
        .map(Id::text)
        .filter(|t| !t.is_empty())
    {
        tags.push(format!("orderType:{t}"));
    }
    let buyer = non_empty(&o.pin).map(|pin| Buyer {
        id: Some(pin.clone()),
        name: pin,
        email: None,
        phone: None,
    });
    Ok(Order {
        number: id.clone(),
        external_id: id,
        status,
        raw_status: o.order_state.trim().to_string(),
        created_at: parse_time("orderStartTime", &o.order_start_time)?,
        updated_at: parse_time("modified", &o.modified)?,
        currency: CURRENCY.to_string(),
        buyer,
        shipping_address: o.consignee_info.as_ref().and_then(address),
        lines,
        shipping_fee: cny(yuan_opt("freightPrice", o.freight_price.as_deref())?),
        discount: cny(order_discount),
        tax: cny(0),
        total_paid: cny(yuan("orderPayment", &o.order_payment)?),
        presale: None,
        tags,
    })
}

/// The consignee, when the order has one (LOC code-delivery orders have none). JD's
/// `fullAddress` repeats province, city, county and town before the street: they are cut
/// off the street when present.
fn address(c: &Consignee) -> Option<Address> {
    let fields = [
        &c.fullname,
        &c.mobile,
        &c.telephone,
        &c.province,
        &c.city,
        &c.county,
        &c.town,
        &c.full_address,
    ];
    if fields.iter().all(|f| text(f).is_empty()) {
        return None;
    }
    let (province, city, county, town) = (
        text(&c.province),
        text(&c.city),
        text(&c.county),
        text(&c.town),
    );
    let mut rest = text(&c.full_address);
    for part in [&province, &city, &county, &town] {
        if !part.is_empty() {
            if let Some(r) = rest.strip_prefix(part.as_str()) {
                rest = r.trim_start().to_string();
            }
        }
    }
    let street = [town, rest]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Some(Address {
        name: text(&c.fullname),
        phone: non_empty(&c.mobile)
            .or_else(|| non_empty(&c.telephone))
            .unwrap_or_default(),
        country: "CN".to_string(),
        province,
        city,
        district: county,
        street,
        postal_code: String::new(),
        encrypted: false,
    })
}

#[cfg(test)]
mod tests;
