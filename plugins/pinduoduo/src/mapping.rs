//! PDD order JSON (an element of `order_sn_list`, or `order_info` of
//! `pdd.order.information.get`) → the contract's [`Order`]. Pure: no host calls.
//!
//! - Amounts are yuan with 2 decimals, sent as JSON numbers or strings; both are read
//!   from the response TEXT (`serde_json::value::RawValue`) into integer fen, never
//!   through a float.
//! - `pay_amount = goods_amount − discount_amount + postage` on PDD, and
//!   `discount_amount` = platform + merchant + group-leader discounts. So the order-level
//!   discount is `discount_amount`, the shipping fee `postage`, lines carry no discount and
//!   no tax: lines + shipping − discount = total-paid holds for every consistent order.
//! - Timestamps (`created_time`, `updated_at`, `pre_sale_time`) are `YYYY-MM-DD HH:MM:SS`
//!   in China time (UTC+8).
//! - Receiver fields awaiting shipment are ciphertext (`~…~`, `$…$` or `#…#`): they are
//!   kept as given and the address is marked `encrypted`.
//! - Status: see [`status`] and the README table.
//! - After-sales tags from `after_sales_status` and `refund_status`: see
//!   [`after_sales_tags`].

use serde::Deserialize;
use serde_json::value::RawValue;
use wharf_sdk::time::parse_local_ms;
use wharf_sdk::types::{
    Address, ChannelStatus, ConnectorError, Line, Money, Order, Presale, PresaleStage,
};
use wharf_sdk::{after_sales, money};

/// PDD sells in renminbi only.
pub const CURRENCY: &str = "CNY";
/// PDD writes times in China Standard Time.
pub const UTC_OFFSET_HOURS: i64 = 8;
/// `after_sales_status` meaning "refund succeeded".
pub const AFTER_SALES_REFUNDED: i64 = 10;

/// The fields of a PDD order the connector reads. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub struct PddOrder<'a> {
    pub order_sn: String,
    pub order_status: i64,
    pub refund_status: i64,
    #[serde(default)]
    pub after_sales_status: i64,
    #[serde(default)]
    pub confirm_status: Option<i64>,
    #[serde(borrow)]
    pub pay_amount: &'a RawValue,
    #[serde(borrow, default)]
    pub discount_amount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub postage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub item_list: Vec<Item<'a>>,
    #[serde(default)]
    pub receiver_name: Option<String>,
    #[serde(default)]
    pub receiver_phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub town: Option<String>,
    pub created_time: String,
    pub updated_at: String,
    #[serde(default)]
    pub is_pre_sale: Option<i64>,
    #[serde(default)]
    pub pre_sale_time: Option<String>,
    #[serde(default)]
    pub trade_type: Option<i64>,
}

/// One entry of `item_list`.
#[derive(Debug, Deserialize)]
pub struct Item<'a> {
    #[serde(default)]
    pub goods_id: Option<i64>,
    #[serde(default)]
    pub sku_id: Option<i64>,
    #[serde(default)]
    pub outer_id: Option<String>,
    #[serde(default)]
    pub outer_goods_id: Option<String>,
    #[serde(default)]
    pub goods_name: String,
    pub goods_count: u32,
    #[serde(borrow)]
    pub goods_price: &'a RawValue,
}

/// Parse one order object from its JSON text and map it. Errors name the order.
pub fn order_from_str(text: &str) -> Result<Order, ConnectorError> {
    let raw: PddOrder<'_> = serde_json::from_str(text).map_err(|e| {
        #[derive(Deserialize)]
        struct Sn {
            order_sn: Option<String>,
        }
        let sn = serde_json::from_str::<Sn>(text)
            .ok()
            .and_then(|s| s.order_sn)
            .unwrap_or_else(|| "?".into());
        ConnectorError::InvalidInput(format!("PDD order {sn}: not an order object: {e}"))
    })?;
    map_order(&raw)
}

/// The normalised status and the raw status string from `order_status` ×
/// `refund_status` × `after_sales_status` (× `confirm_status` when it is not 1). Rows
/// are checked top to bottom as in the README table.
pub fn status(
    order_status: i64,
    refund_status: i64,
    after_sales_status: i64,
    confirm_status: Option<i64>,
) -> Result<(ChannelStatus, String), ConnectorError> {
    let bad = |field: &str, v: i64| ConnectorError::InvalidInput(format!("unknown {field} {v}"));
    if !(1..=3).contains(&order_status) {
        return Err(bad("order_status", order_status));
    }
    if !(1..=4).contains(&refund_status) {
        return Err(bad("refund_status", refund_status));
    }
    if after_sales_status < 0 {
        return Err(bad("after_sales_status", after_sales_status));
    }
    let confirm = confirm_status.unwrap_or(1);
    if !(0..=2).contains(&confirm) {
        return Err(bad("confirm_status", confirm));
    }
    let status = if confirm == 2 {
        ChannelStatus::Cancelled
    } else if refund_status == 4 || after_sales_status == AFTER_SALES_REFUNDED {
        ChannelStatus::Refunded
    } else if confirm == 0 {
        ChannelStatus::PendingPayment
    } else {
        match order_status {
            1 => ChannelStatus::Paid,
            2 => ChannelStatus::Shipped,
            _ => ChannelStatus::Completed,
        }
    };
    let mut raw = format!(
        "order_status={order_status};refund_status={refund_status};after_sales_status={after_sales_status}"
    );
    if confirm != 1 {
        raw.push_str(&format!(";confirm_status={confirm}"));
    }
    Ok((status, raw))
}

/// The after-sales tag of an `after_sales_status` (README table "After-sales"); codes
/// without one (none, exchanges, resends, repairs, unknown) give `None`.
pub fn after_sales_tag(after_sales_status: i64) -> Option<&'static str> {
    Some(match after_sales_status {
        2 | 4 | 5 | 6 | 8 | 31 => after_sales::REFUND_REQUESTED,
        3 | 7 => after_sales::RETURN_REQUESTED,
        AFTER_SALES_REFUNDED => after_sales::REFUNDED,
        9 | 11 | 12 | 13 => after_sales::CLOSED,
        _ => return None,
    })
}

/// The order's after-sales tags: the `after_sales_status` tag, `refund_status` 4 →
/// refunded, and `refund_status` 2/3 → refund-requested when the after-sales code says
/// nothing.
pub fn after_sales_tags(refund_status: i64, after_sales_status: i64) -> Vec<String> {
    let mut tags = after_sales::Tags::default();
    let by_code = after_sales_tag(after_sales_status);
    if let Some(t) = by_code {
        tags.add(t);
    }
    match refund_status {
        4 => tags.add(after_sales::REFUNDED),
        2 | 3 if by_code.is_none() => tags.add(after_sales::REFUND_REQUESTED),
        _ => {}
    }
    tags.into_vec()
}

/// Map a parsed order.
pub fn map_order(o: &PddOrder<'_>) -> Result<Order, ConnectorError> {
    map_inner(o).map_err(|e| match e {
        ConnectorError::InvalidInput(m) => {
            ConnectorError::InvalidInput(format!("PDD order {}: {m}", o.order_sn))
        }
        other => other,
    })
}

fn map_inner(o: &PddOrder<'_>) -> Result<Order, ConnectorError> {
    if o.order_sn.trim().is_empty() {
        return Err(ConnectorError::InvalidInput("order_sn is empty".into()));
    }
    let (status, raw_status) = status(
        o.order_status,
        o.refund_status,
        o.after_sales_status,
        o.confirm_status,
    )?;
    let mut lines = Vec::with_capacity(o.item_list.len());
    for (i, item) in o.item_list.iter().enumerate() {
        lines.push(map_item(i, item, &lines)?);
    }
    let presale = match o.is_pre_sale.unwrap_or(0) {
        0 => None,
        1 => Some(Presale {
            // A PDD presale is paid in full up front; the promise is the ship-by time.
            stage: PresaleStage::BalancePaid,
            deposit: None,
            balance: None,
            ship_by: local_time_opt("pre_sale_time", o.pre_sale_time.as_deref())?,
        }),
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "is_pre_sale {other} is neither 0 nor 1"
            )))
        }
    };
    let mut tags = Vec::new();
    if presale.is_some() {
        tags.push("pre_sale".to_string());
    }
    if o.trade_type == Some(1) {
        tags.push("deposit_order".to_string());
    }
    tags.extend(after_sales_tags(o.refund_status, o.after_sales_status));
    Ok(Order {
        external_id: o.order_sn.clone(),
        number: o.order_sn.clone(),
        status,
        raw_status,
        created_at: parse_local_ms("created_time", &o.created_time, UTC_OFFSET_HOURS)?,
        updated_at: parse_local_ms("updated_at", &o.updated_at, UTC_OFFSET_HOURS)?,
        currency: CURRENCY.into(),
        buyer: None,
        shipping_address: address(o),
        lines,
        shipping_fee: amount_opt("postage", o.postage)?,
        discount: amount_opt("discount_amount", o.discount_amount)?,
        tax: money::zero(CURRENCY),
        total_paid: amount("pay_amount", o.pay_amount)?,
        presale,
        tags,
    })
}

fn map_item(i: usize, item: &Item<'_>, earlier: &[Line]) -> Result<Line, ConnectorError> {
    let sku_id = item.sku_id.map(|v| v.to_string()).unwrap_or_default();
    let base = if sku_id.is_empty() {
        item.goods_id
            .map(|g| format!("g{g}"))
            .unwrap_or_else(|| format!("#{i}"))
    } else {
        sku_id.clone()
    };
    // The same SKU twice in one order gets a stable suffix by occurrence.
    let dupes = earlier
        .iter()
        .filter(|l| l.line_id == base || l.line_id.starts_with(&format!("{base}-")))
        .count();
    let line_id = if dupes == 0 {
        base
    } else {
        format!("{base}-{}", dupes + 1)
    };
    let text = |s: &Option<String>| s.as_deref().unwrap_or("").trim().to_string();
    let sku = match text(&item.outer_id) {
        s if s.is_empty() => text(&item.outer_goods_id),
        s => s,
    };
    Ok(Line {
        line_id,
        sku,
        channel_sku: sku_id,
        title: item.goods_name.trim().to_string(),
        quantity: item.goods_count,
        unit_price: amount(&format!("item_list[{i}].goods_price"), item.goods_price)?,
        discount: money::zero(CURRENCY),
    })
}

/// A yuan amount as PDD wrote it (JSON number or string) → fen.
pub fn amount(field: &str, raw: &RawValue) -> Result<Money, ConnectorError> {
    let text = raw.get().trim();
    let decimal = if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|e| ConnectorError::InvalidInput(format!("{field}: {e}")))?
    } else if text == "null" {
        return Err(ConnectorError::InvalidInput(format!("{field} is null")));
    } else {
        text.to_string()
    };
    money::parse(field, &decimal, CURRENCY)
}

fn amount_opt(field: &str, raw: Option<&RawValue>) -> Result<Money, ConnectorError> {
    match raw {
        Some(r) if r.get().trim() != "null" => amount(field, r),
        _ => Ok(money::zero(CURRENCY)),
    }
}

fn local_time_opt(field: &str, s: Option<&str>) -> Result<Option<i64>, ConnectorError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_local_ms(field, s, UTC_OFFSET_HOURS).map(Some),
    }
}

/// True for PDD ciphertext: `~…~` (names, addresses), `$…$` (phones) or `#…#`.
pub fn is_ciphertext(s: &str) -> bool {
    let s = s.trim();
    s.len() > 2
        && [b'~', b'$', b'#']
            .iter()
            .any(|d| s.as_bytes()[0] == *d && s.as_bytes()[s.len() - 1] == *d)
        && !s.contains(char::is_whitespace)
}

fn address(o: &PddOrder<'_>) -> Option<Address> {
    let t = |s: &Option<String>| s.as_deref().unwrap_or("").trim().to_string();
    let fields = [
        t(&o.receiver_name),
        t(&o.receiver_phone),
        t(&o.address),
        t(&o.province),
        t(&o.city),
        t(&o.town),
    ];
    if fields.iter().all(String::is_empty) {
        return None;
    }
    let encrypted = fields.iter().any(|f| is_ciphertext(f));
    let [name, phone, street, province, city, district] = fields;
    Some(Address {
        name,
        phone,
        country: "CN".into(),
        province,
        city,
        district,
        street,
        postal_code: String::new(),
        encrypted,
    })
}

#[cfg(test)]
mod tests;
