//! doudian shop-order JSON (`order.searchList` / `order.orderDetail`) → the contract's
//! [`Order`]. Pure: no host calls, so every rule is unit-tested natively.
//!
//! Every doudian amount is already an integer in fen: it is carried as is (a JSON
//! integer, or a string of digits), never parsed as a decimal, never a float. The rules
//! (see the plugin README for the amount model):
//! - a line per `sku_order_list[]`: unit price `goods_price`, quantity `item_num`, line
//!   discount = the sku order's `promotion_amount`;
//! - shipping fee = `post_amount`;
//! - order discount = `promotion_amount` − Σ sku `promotion_amount` (what is not already
//!   on the lines; 0 when doudian allocates every discount);
//! - tax = 0 (prices include VAT; doudian reports no tax); total paid = `pay_amount`;
//! - the discount split and stock / presale facts go to `tags` as `key=value`;
//! - the sku orders' `after_sale_info` adds the after-sales tags ([`after_sales_tag`]).

use serde_json::Value;
use wharf_sdk::after_sales;
use wharf_sdk::types::{
    Address, Buyer, ChannelStatus, ConnectorError, Line, Money, Order, Presale, PresaleStage,
};

/// The after-sales tag of a sku order's `after_sale_info` (`after_sale_status`,
/// `after_sale_type`; README table "After-sales"). Codes without one give `None`.
pub fn after_sales_tag(after_sale_status: i64, after_sale_type: i64) -> Option<&'static str> {
    Some(match (after_sale_status, after_sale_type) {
        (6, 0) | (7, _) => after_sales::RETURN_REQUESTED,
        (6, _) => after_sales::REFUND_REQUESTED,
        (12, _) => after_sales::REFUNDED,
        (27..=29, _) => after_sales::CLOSED,
        _ => return None,
    })
}

/// doudian settles in yuan (amounts in fen).
pub const CURRENCY: &str = "CNY";

/// The normalised status of a doudian `order_status` (see the table in the README).
pub fn status(code: i64) -> Result<ChannelStatus, ConnectorError> {
    Ok(match code {
        1 | 103 => ChannelStatus::PendingPayment,
        105 | 2 => ChannelStatus::Paid,
        101 => ChannelStatus::PartiallyShipped,
        3 => ChannelStatus::Shipped,
        4 => ChannelStatus::Cancelled,
        5 => ChannelStatus::Completed,
        21 | 22 | 39 => ChannelStatus::Refunded,
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "order_status: unknown status {other}"
            )))
        }
    })
}

fn bad(field: &str, why: &str) -> ConnectorError {
    ConnectorError::InvalidInput(format!("{field}: {why}"))
}

/// An integer field (JSON integer or digit string), `None` when absent, null or "".
pub(crate) fn int_opt(v: &Value, key: &str, field: &str) -> Result<Option<i64>, ConnectorError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(field, &format!("not an integer: {n}"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            let digits = t.strip_prefix('-').unwrap_or(t);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                t.parse()
                    .map(Some)
                    .map_err(|_| bad(field, &format!("out of range: {s:?}")))
            } else {
                Err(bad(field, &format!("not an integer: {s:?}")))
            }
        }
        Some(other) => Err(bad(field, &format!("not an integer: {other}"))),
    }
}

fn int(v: &Value, key: &str, field: &str) -> Result<i64, ConnectorError> {
    int_opt(v, key, field)?.ok_or_else(|| bad(field, "missing"))
}

/// Unix seconds → ms; 0 or absent → `None`.
fn time_opt(v: &Value, key: &str) -> Result<Option<i64>, ConnectorError> {
    Ok(int_opt(v, key, key)?.filter(|s| *s > 0).map(|s| s * 1000))
}

fn time(v: &Value, key: &str) -> Result<i64, ConnectorError> {
    time_opt(v, key)?.ok_or_else(|| bad(key, "missing or not a Unix time"))
}

/// An id sent as a string or a number; "" when absent.
fn id_text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn cny(minor: i64) -> Money {
    Money {
        minor,
        currency: CURRENCY.to_string(),
    }
}

/// Map one shop order; an unreadable field is `invalid-input` naming the order and field.
pub fn order_from_json(v: &Value) -> Result<Order, ConnectorError> {
    let id = id_text(v, "order_id");
    map_inner(v, &id).map_err(|e| match e {
        ConnectorError::InvalidInput(m) => {
            let id = if id.is_empty() { "?" } else { id.as_str() };
            ConnectorError::InvalidInput(format!("Douyin order {id}: {m}"))
        }
        other => other,
    })
}

fn map_inner(v: &Value, id: &str) -> Result<Order, ConnectorError> {
    if !v.is_object() {
        return Err(bad("order", "not an object"));
    }
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "order_id",
            &format!("{id:?} is not a doudian order id"),
        ));
    }
    let order_status = int(v, "order_status", "order_status")?;
    let status = status(order_status)?;
    let total_paid = int(v, "pay_amount", "pay_amount")?;
    let promotion = int_opt(v, "promotion_amount", "promotion_amount")?.unwrap_or(0);

    let skus = match v.get("sku_order_list") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(bad("sku_order_list", "not a list")),
    };
    let mut lines = Vec::with_capacity(skus.len());
    let mut line_promotions = 0i64;
    for (i, s) in skus.iter().enumerate() {
        let (line, promo) = map_line(i, s)?;
        line_promotions = line_promotions
            .checked_add(promo)
            .ok_or_else(|| bad("sku_order_list", "promotions overflow"))?;
        lines.push(line);
    }

    let pre_sale_type = int_opt(v, "pre_sale_type", "pre_sale_type")?.unwrap_or(0);
    let pay_time = time_opt(v, "pay_time")?;
    let presale = match (pre_sale_type, order_status) {
        (0, 103) | (1 | 2, _) => Some(Presale {
            stage: if order_status == 103 {
                PresaleStage::DepositPaid
            } else if pay_time.is_some() {
                PresaleStage::BalancePaid
            } else {
                PresaleStage::DepositPending
            },
            deposit: None,
            balance: None,
            ship_by: if pre_sale_type > 0 {
                time_opt(v, "exp_ship_time")?
            } else {
                None
            },
        }),
        (0, _) => None,
        (other, _) => {
            return Err(bad(
                "pre_sale_type",
                &format!("unknown presale type {other}"),
            ))
        }
    };

    let amount =
        |key: &str| -> Result<i64, ConnectorError> { Ok(int_opt(v, key, key)?.unwrap_or(0)) };
    let mut tags = vec![
        format!("discount.shop={}", amount("promotion_shop_amount")?),
        format!("discount.platform={}", amount("promotion_platform_amount")?),
        format!("discount.influencer={}", amount("promotion_talent_amount")?),
        format!("platform_cost={}", amount("platform_cost_amount")?),
    ];
    if let Some(n) = int_opt(v, "reduce_stock_type", "reduce_stock_type")? {
        tags.push(format!("reduce_stock_type={n}"));
    }
    tags.push(format!("pre_sale_type={pre_sale_type}"));
    if let Some(n) = int_opt(v, "order_type", "order_type")? {
        tags.push(format!("order_type={n}"));
    }
    let mut after = after_sales::Tags::default();
    for tag in skus.iter().filter_map(|s| {
        let info = s.get("after_sale_info")?;
        let code = |k: &str| info.get(k).and_then(Value::as_i64).unwrap_or(0);
        after_sales_tag(code("after_sale_status"), code("after_sale_type"))
    }) {
        after.add(tag);
    }
    tags.extend(after.into_vec());
    let words = text(v, "buyer_words");
    if !words.is_empty() {
        tags.push(format!("buyer_words={words}"));
    }

    let open_id = text(v, "doudian_open_id");
    let buyer = (!open_id.is_empty()).then(|| Buyer {
        id: Some(open_id),
        name: String::new(),
        email: None,
        phone: None,
    });

    Ok(Order {
        external_id: id.to_string(),
        number: id.to_string(),
        status,
        raw_status: order_status.to_string(),
        created_at: time(v, "create_time")?,
        updated_at: time(v, "update_time")?,
        currency: CURRENCY.to_string(),
        buyer,
        shipping_address: address(v),
        lines,
        shipping_fee: cny(int_opt(v, "post_amount", "post_amount")?.unwrap_or(0)),
        discount: cny(promotion - line_promotions),
        tax: cny(0),
        total_paid: cny(total_paid),
        presale,
        tags,
    })
}

/// A sku order as a line, and its `promotion_amount` (fen).
fn map_line(i: usize, s: &Value) -> Result<(Line, i64), ConnectorError> {
    let field = |name: &str| format!("sku_order_list[{i}].{name}");
    let quantity = int(s, "item_num", &field("item_num"))?;
    let quantity = u32::try_from(quantity)
        .map_err(|_| bad(&field("item_num"), &format!("not a count: {quantity}")))?;
    let promo = int_opt(s, "promotion_amount", &field("promotion_amount"))?.unwrap_or(0);
    let out_sku = text(s, "out_sku_id");
    let sku = if out_sku.is_empty() {
        text(s, "code")
    } else {
        out_sku
    };
    let line = Line {
        line_id: id_text(s, "order_id"),
        sku,
        channel_sku: id_text(s, "sku_id"),
        title: text(s, "product_name"),
        quantity,
        unit_price: cny(int(s, "goods_price", &field("goods_price"))?),
        discount: cny(promo),
    };
    Ok((line, promo))
}

/// A doudian ciphertext (`#…#…##`-style, no whitespace).
pub fn is_ciphertext(s: &str) -> bool {
    let s = s.trim();
    s.len() > 2 && s.starts_with('#') && s.ends_with('#') && !s.contains(char::is_whitespace)
}

/// The receiver, when the order has one (virtual goods have none). doudian returns the
/// name, phone and detail masked, with the real values as ciphertext
/// (`encrypt_post_receiver`, `encrypt_post_tel`, `post_addr.encrypt_detail`): the
/// ciphertext is kept and the address flagged `encrypted`.
fn address(v: &Value) -> Option<Address> {
    let empty = Value::Null;
    let addr = v.get("post_addr").unwrap_or(&empty);
    let region = |k: &str| addr.get(k).map(|r| text(r, "name")).unwrap_or_default();
    let prefer = |enc: String, plain: String| if enc.is_empty() { plain } else { enc };
    let name = prefer(text(v, "encrypt_post_receiver"), text(v, "post_receiver"));
    let phone = prefer(text(v, "encrypt_post_tel"), text(v, "post_tel"));
    let detail = prefer(text(addr, "encrypt_detail"), text(addr, "detail"));
    let (province, city, district, street_name) = (
        region("province"),
        region("city"),
        region("town"),
        region("street"),
    );
    if [
        &name,
        &phone,
        &detail,
        &province,
        &city,
        &district,
        &street_name,
    ]
    .iter()
    .all(|s| s.is_empty())
    {
        return None;
    }
    let encrypted = [&name, &phone, &detail].iter().any(|s| is_ciphertext(s));
    let street = [street_name, detail]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
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
