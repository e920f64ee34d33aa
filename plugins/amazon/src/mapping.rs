//! SP-API Orders v0 JSON (an `Order` and its `OrderItems`) → the contract's [`Order`].
//! Pure: no host calls, so every rule is unit-tested natively.
//!
//! Amounts are `{CurrencyCode, Amount}` decimal strings turned into integer minor units
//! of their currency by `wharf_sdk::money` (exponent per currency: JPY has none, so
//! "1980" is 1980 minor units). `ItemPrice` is for the whole quantity. The rules, chosen
//! so that `Σ(quantity × unit-price − line discount) + shipping − discount + tax =
//! total-paid` holds whenever `OrderTotal = Σ (ItemPrice + ItemTax + ShippingPrice +
//! ShippingTax − PromotionDiscount − PromotionDiscountTax − ShippingDiscount −
//! ShippingDiscountTax)`:
//! - unit price = `ItemPrice / QuantityOrdered`, rounded up to the minor unit; the
//!   rounding (`unit × quantity − ItemPrice`) is added to the line discount, so the line
//!   nets exactly `ItemPrice − PromotionDiscount`;
//! - line discount = `PromotionDiscount` (+ that rounding);
//! - shipping fee = Σ `ShippingPrice`; order discount = Σ `ShippingDiscount`;
//! - tax = Σ (`ItemTax` + `ShippingTax` − `PromotionDiscountTax` − `ShippingDiscountTax`);
//! - total paid = `OrderTotal` (0 when absent: `Pending` orders carry no prices).

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::money;
use wharf_sdk::types::{
    Address, Buyer, ChannelStatus, ConnectorError, Line, Money, Order, Presale, PresaleStage,
};

use crate::spapi::parse_time;

/// Every `OrderStatus` Orders v0 documents, in the README's table order.
pub const STATUSES: [&str; 8] = [
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
];

/// `{CurrencyCode, Amount}`; both optional in Amazon's schema.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AmzMoney {
    pub currency_code: Option<String>,
    pub amount: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerInfo {
    pub buyer_email: Option<String>,
    pub buyer_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AmzAddress {
    pub name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub address_line3: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub district: Option<String>,
    pub state_or_region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

/// The fields of an order the connector reads. Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AmzOrder {
    pub amazon_order_id: String,
    pub purchase_date: String,
    pub last_update_date: String,
    pub order_status: String,
    pub fulfillment_channel: Option<String>,
    pub sales_channel: Option<String>,
    pub order_total: Option<AmzMoney>,
    pub marketplace_id: Option<String>,
    pub latest_ship_date: Option<String>,
    pub is_prime: Option<bool>,
    pub is_business_order: Option<bool>,
    pub is_replacement_order: Option<Flag>,
    pub buyer_info: Option<BuyerInfo>,
    pub shipping_address: Option<AmzAddress>,
}

/// A boolean Amazon sends as JSON `true` or as the string `"true"` (`IsReplacementOrder`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    fn is_true(&self) -> bool {
        match self {
            Flag::Bool(b) => *b,
            Flag::Text(s) => s.eq_ignore_ascii_case("true"),
        }
    }
}

/// One order item: a line.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AmzItem {
    #[serde(rename = "ASIN")]
    pub asin: Option<String>,
    #[serde(rename = "SellerSKU")]
    pub seller_sku: Option<String>,
    pub order_item_id: String,
    pub title: Option<String>,
    pub quantity_ordered: u32,
    pub item_price: Option<AmzMoney>,
    pub item_tax: Option<AmzMoney>,
    pub shipping_price: Option<AmzMoney>,
    pub shipping_tax: Option<AmzMoney>,
    pub shipping_discount: Option<AmzMoney>,
    pub shipping_discount_tax: Option<AmzMoney>,
    pub promotion_discount: Option<AmzMoney>,
    pub promotion_discount_tax: Option<AmzMoney>,
}

/// The currency of a public marketplace id.
pub fn marketplace_currency(id: &str) -> Option<&'static str> {
    Some(match id {
        "ATVPDKIKX0DER" => "USD",
        "A2EUQ1WTGCTBG2" => "CAD",
        "A1AM78C64UM0Y8" => "MXN",
        "A2Q3Y263D00KWC" => "BRL",
        "A1PA6795UKMFR9" | "A13V1IB3VIYZZH" | "APJ6JRA9NG5V4" | "A1RKKUPIHCS9HS"
        | "A1805IZSGTT6HS" | "AMEN7PMS3EDWL" => "EUR",
        "A1F83G8C2ARO7P" => "GBP",
        "A2NODRKZP88ZB9" => "SEK",
        "A1C3SOZRARQ6R3" => "PLN",
        "A33AVAJ2PDY3EV" => "TRY",
        "A21TJRUUN4KGV" => "INR",
        "A2VIGQ35RCS4UG" => "AED",
        "A17E79C6D8DWNP" => "SAR",
        "ARBP9OOSHTCHU" => "EGP",
        "A1VC38T7YXB528" => "JPY",
        "A39IBJ37TRP1C6" => "AUD",
        "A19VAU5U5O7RUS" => "SGD",
        _ => return None,
    })
}

/// The normalised status of an `OrderStatus` (see the table in the plugin README).
pub fn status(raw: &str) -> Result<ChannelStatus, ConnectorError> {
    Ok(match raw {
        "PendingAvailability" | "Pending" => ChannelStatus::PendingPayment,
        "Unshipped" => ChannelStatus::Paid,
        "PartiallyShipped" => ChannelStatus::PartiallyShipped,
        "Shipped" | "InvoiceUnconfirmed" => ChannelStatus::Shipped,
        "Canceled" | "Unfulfillable" => ChannelStatus::Cancelled,
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "OrderStatus: unknown status {other:?}"
            )))
        }
    })
}

/// The order id of a raw order, for messages.
fn id_of(v: &Value) -> String {
    v.get("AmazonOrderId")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// Parse an order object and its item objects and map them; an unreadable field is
/// `invalid-input` naming the order and the field.
pub fn order_from_json(order: &Value, items: &[Value]) -> Result<Order, ConnectorError> {
    let id = id_of(order);
    let wrap = |m: String| ConnectorError::InvalidInput(format!("Amazon order {id}: {m}"));
    let o: AmzOrder = serde_json::from_value(order.clone())
        .map_err(|e| wrap(format!("not an Orders v0 order: {e}")))?;
    let items = items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<AmzItem>(v.clone())
                .map_err(|e| wrap(format!("OrderItems[{i}]: not an order item: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    map_order(&o, &items)
}

/// Map a parsed order and its items.
pub fn map_order(o: &AmzOrder, items: &[AmzItem]) -> Result<Order, ConnectorError> {
    map_inner(o, items).map_err(|e| match e {
        ConnectorError::InvalidInput(m) => {
            ConnectorError::InvalidInput(format!("Amazon order {}: {m}", o.amazon_order_id))
        }
        other => other,
    })
}

fn text(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_string()
}

fn non_empty(s: &Option<String>) -> Option<String> {
    Some(text(s)).filter(|v| !v.is_empty())
}

/// Minor units of `m` in the order's `currency`; absent → 0. A different currency is
/// `invalid-input` naming the field.
fn minor(field: &str, m: &Option<AmzMoney>, currency: &str) -> Result<i64, ConnectorError> {
    let Some(m) = m else { return Ok(0) };
    if let Some(c) = non_empty(&m.currency_code) {
        if c != currency {
            return Err(ConnectorError::InvalidInput(format!(
                "{field}: amount in {c} on an order in {currency}"
            )));
        }
    }
    Ok(money::parse_opt(field, m.amount.as_deref(), currency)?.minor)
}

fn cur(minor: i64, currency: &str) -> Money {
    Money {
        minor,
        currency: currency.to_string(),
    }
}

/// `OrderTotal`'s currency, else the marketplace's, else the first item amount's.
fn currency_of(o: &AmzOrder, items: &[AmzItem]) -> Result<String, ConnectorError> {
    if let Some(c) = o
        .order_total
        .as_ref()
        .and_then(|t| non_empty(&t.currency_code))
    {
        return Ok(c);
    }
    if let Some(c) = o.marketplace_id.as_deref().and_then(marketplace_currency) {
        return Ok(c.to_string());
    }
    items
        .iter()
        .find_map(|i| {
            i.item_price
                .as_ref()
                .and_then(|p| non_empty(&p.currency_code))
        })
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!(
                "MarketplaceId: no currency known for {:?} and the order has no amounts",
                o.marketplace_id.as_deref().unwrap_or("")
            ))
        })
}

fn map_inner(o: &AmzOrder, items: &[AmzItem]) -> Result<Order, ConnectorError> {
    let id = o.amazon_order_id.trim().to_string();
    if id.is_empty() {
        return Err(ConnectorError::InvalidInput(
            "AmazonOrderId is empty".into(),
        ));
    }
    let status = status(&o.order_status)?;
    let currency = currency_of(o, items)?;
    let c = currency.as_str();
    let total_paid = minor("OrderTotal", &o.order_total, c)?;

    let mut lines = Vec::with_capacity(items.len());
    let (mut shipping, mut ship_discount, mut tax) = (0i64, 0i64, 0i64);
    for (i, it) in items.iter().enumerate() {
        let f = |name: &str| format!("OrderItems[{i}].{name}");
        let price = minor(&f("ItemPrice"), &it.item_price, c)?;
        let promo = minor(&f("PromotionDiscount"), &it.promotion_discount, c)?;
        shipping += minor(&f("ShippingPrice"), &it.shipping_price, c)?;
        ship_discount += minor(&f("ShippingDiscount"), &it.shipping_discount, c)?;
        tax += minor(&f("ItemTax"), &it.item_tax, c)?
            + minor(&f("ShippingTax"), &it.shipping_tax, c)?
            - minor(&f("PromotionDiscountTax"), &it.promotion_discount_tax, c)?
            - minor(&f("ShippingDiscountTax"), &it.shipping_discount_tax, c)?;
        let q = i64::from(it.quantity_ordered);
        // ItemPrice covers the whole quantity: round the unit price up and give the
        // rounding back as discount, so quantity × unit − discount = ItemPrice − promo.
        let unit = if q == 0 {
            0
        } else {
            (price + q - 1).div_euclid(q)
        };
        let rounding = unit * q - price;
        let sku = text(&it.seller_sku);
        lines.push(Line {
            line_id: it.order_item_id.trim().to_string(),
            channel_sku: sku.clone(),
            sku,
            title: text(&it.title),
            quantity: it.quantity_ordered,
            unit_price: cur(unit, c),
            discount: cur(promo + rounding, c),
        });
    }

    let presale = (o.order_status == "PendingAvailability")
        .then(|| -> Result<Presale, ConnectorError> {
            Ok(Presale {
                stage: PresaleStage::DepositPending,
                deposit: None,
                balance: None,
                ship_by: match o.latest_ship_date.as_deref() {
                    Some(s) if !s.trim().is_empty() => Some(parse_time("LatestShipDate", s)?),
                    _ => None,
                },
            })
        })
        .transpose()?;
    let buyer = o.buyer_info.as_ref().and_then(|b| {
        let (email, name) = (non_empty(&b.buyer_email), non_empty(&b.buyer_name));
        (email.is_some() || name.is_some()).then(|| Buyer {
            id: None,
            name: name.unwrap_or_default(),
            email,
            phone: None,
        })
    });
    let mut tags = Vec::new();
    if let Some(fc) = non_empty(&o.fulfillment_channel) {
        tags.push(format!("fulfillment:{fc}"));
    }
    if let Some(m) = non_empty(&o.marketplace_id) {
        tags.push(format!("marketplace:{m}"));
    }
    if let Some(sc) = non_empty(&o.sales_channel) {
        tags.push(format!("sales-channel:{sc}"));
    }
    if o.is_prime == Some(true) {
        tags.push("prime".into());
    }
    if o.is_business_order == Some(true) {
        tags.push("business".into());
    }
    if o.is_replacement_order.as_ref().is_some_and(Flag::is_true) {
        tags.push("replacement".into());
    }
    if presale.is_some() {
        tags.push("presale".into());
    }
    Ok(Order {
        number: id.clone(),
        external_id: id,
        status,
        raw_status: o.order_status.clone(),
        created_at: parse_time("PurchaseDate", &o.purchase_date)?,
        updated_at: parse_time("LastUpdateDate", &o.last_update_date)?,
        currency: currency.clone(),
        buyer,
        shipping_address: o.shipping_address.as_ref().and_then(address),
        lines,
        shipping_fee: cur(shipping, c),
        discount: cur(ship_discount, c),
        tax: cur(tax, c),
        total_paid: cur(total_paid, c),
        presale,
        tags,
    })
}

/// The shipping address as far as Amazon disclosed it: without a Restricted Data Token
/// the PII fields (name, street, phone) are absent and stay empty; none when every
/// field is absent.
fn address(a: &AmzAddress) -> Option<Address> {
    let street = [&a.address_line1, &a.address_line2, &a.address_line3]
        .into_iter()
        .filter_map(non_empty)
        .collect::<Vec<_>>()
        .join(", ");
    let out = Address {
        name: text(&a.name),
        phone: text(&a.phone),
        country: text(&a.country_code),
        province: text(&a.state_or_region),
        city: text(&a.city),
        district: non_empty(&a.district)
            .or_else(|| non_empty(&a.county))
            .unwrap_or_default(),
        street,
        postal_code: text(&a.postal_code),
        encrypted: false,
    };
    let empty = [
        &out.name,
        &out.phone,
        &out.country,
        &out.province,
        &out.city,
        &out.district,
        &out.street,
        &out.postal_code,
    ]
    .iter()
    .all(|s| s.is_empty());
    (!empty).then_some(out)
}

#[cfg(test)]
mod tests;
