//! Merchant-scoped order reads: keyset-paginated listing with filters, one order with
//! lines and history, and counts.

use sqlx::any::AnyRow;
use sqlx::{Any, Row};
use wharf_domain::{ChannelStatus, Line, Money, Order};

use crate::db::{col, from_json};
use crate::{OrderDetail, OrderEvent, OrderFilter, OrderPage, OrderSummary, Store, StoreError};

/// Largest page [`Store::list_orders`] returns.
pub const MAX_PAGE: u32 = 500;

const ORDER_COLS: &str = "id, installation_id, platform, shop, external_id, number, status, \
     raw_status, currency, created_at, updated_at, buyer, shipping_address, \
     shipping_fee_minor, shipping_fee_currency, discount_minor, discount_currency, tax_minor, \
     tax_currency, total_paid_minor, total_paid_currency, presale, tags, flagged, flags, \
     ingested_at, state";

const TOKEN_PREFIX: &str = "orders-after:";

/// The opaque page token for "orders after this id".
fn encode_after(id: i64) -> String {
    hex::encode(format!("{TOKEN_PREFIX}{id}"))
}

fn decode_after(token: &str) -> Result<i64, StoreError> {
    let bad = || StoreError::InvalidInput("malformed page token".into());
    let bytes = hex::decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let id: i64 = text
        .strip_prefix(TOKEN_PREFIX)
        .ok_or_else(bad)?
        .parse()
        .map_err(|_| bad())?;
    if id < 0 {
        return Err(bad());
    }
    Ok(id)
}

fn parse_status(s: &str) -> Result<ChannelStatus, StoreError> {
    ChannelStatus::parse(s).map_err(|e| StoreError::corrupt(format!("orders.status: {e}")))
}

fn summary_from_row(row: &AnyRow) -> Result<OrderSummary, StoreError> {
    let flags: String = col(row, "flags")?;
    Ok(OrderSummary {
        id: col(row, "id")?,
        installation_id: col(row, "installation_id")?,
        platform: col(row, "platform")?,
        shop: col(row, "shop")?,
        external_id: col(row, "external_id")?,
        number: col(row, "number")?,
        status: parse_status(&col::<String>(row, "status")?)?,
        raw_status: col(row, "raw_status")?,
        currency: col(row, "currency")?,
        total_paid_minor: col(row, "total_paid_minor")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        flagged: col::<i64>(row, "flagged")? != 0,
        flags: from_json("flags", &flags)?,
        ingested_at: col(row, "ingested_at")?,
        state: col(row, "state")?,
    })
}

fn json_opt<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    name: &str,
) -> Result<Option<T>, StoreError> {
    col::<Option<String>>(row, name)?
        .map(|t| from_json(name, &t))
        .transpose()
}

fn money(row: &AnyRow, prefix: &str) -> Result<Money, StoreError> {
    Ok(Money::new(
        col::<i64>(row, &format!("{prefix}_minor"))?,
        col::<String>(row, &format!("{prefix}_currency"))?,
    ))
}

fn order_from_row(row: &AnyRow, lines: Vec<Line>) -> Result<Order, StoreError> {
    let tags: String = col(row, "tags")?;
    Ok(Order {
        external_id: col(row, "external_id")?,
        number: col(row, "number")?,
        status: parse_status(&col::<String>(row, "status")?)?,
        raw_status: col(row, "raw_status")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        currency: col(row, "currency")?,
        buyer: json_opt(row, "buyer")?,
        shipping_address: json_opt(row, "shipping_address")?,
        lines,
        shipping_fee: money(row, "shipping_fee")?,
        discount: money(row, "discount")?,
        tax: money(row, "tax")?,
        total_paid: money(row, "total_paid")?,
        presale: json_opt(row, "presale")?,
        tags: from_json("tags", &tags)?,
    })
}

fn line_from_row(row: &AnyRow) -> Result<Line, StoreError> {
    let quantity: i64 = col(row, "quantity")?;
    Ok(Line {
        line_id: col(row, "line_id")?,
        sku: col(row, "sku")?,
        channel_sku: col(row, "channel_sku")?,
        title: col(row, "title")?,
        quantity: u32::try_from(quantity)
            .map_err(|_| StoreError::corrupt("order_lines.quantity out of range"))?,
        unit_price: money(row, "unit_price")?,
        discount: money(row, "discount")?,
    })
}

/// A value bound to a dynamically built query.
enum Bind {
    Int(i64),
    Text(String),
}

impl Store {
    /// One page of the merchant's orders matching `filter`, by id ascending. Pass the
    /// previous page's `next` as `after` to continue; orders inserted meanwhile get
    /// higher ids, so paging never skips or repeats an order. `limit` is clamped to
    /// 1-500. A token that is not one this store issued → [`StoreError::InvalidInput`].
    pub async fn list_orders(
        &self,
        merchant_id: i64,
        filter: &OrderFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<OrderPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut binds = vec![Bind::Int(merchant_id)];
        let mut sql = format!("SELECT {ORDER_COLS} FROM orders WHERE merchant_id = $1");
        let mut add = |clause: &str, b: Bind, sql: &mut String| {
            binds.push(b);
            sql.push_str(&format!(" AND {clause} ${}", binds.len()));
        };
        if let Some(token) = after {
            add("id >", Bind::Int(decode_after(token)?), &mut sql);
        }
        if let Some(v) = filter.installation_id {
            add("installation_id =", Bind::Int(v), &mut sql);
        }
        if let Some(v) = &filter.platform {
            add("platform =", Bind::Text(v.clone()), &mut sql);
        }
        if let Some(v) = filter.status {
            add("status =", Bind::Text(v.as_str().into()), &mut sql);
        }
        if let Some(v) = filter.created_from {
            add("created_at >=", Bind::Int(v), &mut sql);
        }
        if let Some(v) = filter.created_to {
            add("created_at <=", Bind::Int(v), &mut sql);
        }
        if let Some(v) = filter.updated_from {
            add("updated_at >=", Bind::Int(v), &mut sql);
        }
        if let Some(v) = filter.updated_to {
            add("updated_at <=", Bind::Int(v), &mut sql);
        }
        if let Some(v) = filter.flagged {
            add("flagged =", Bind::Int(i64::from(v)), &mut sql);
        }
        binds.push(Bind::Int(i64::from(limit) + 1));
        sql.push_str(&format!(" ORDER BY id ASC LIMIT ${}", binds.len()));

        let mut query = sqlx::query::<Any>(&sql);
        for b in binds {
            query = match b {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
            };
        }
        let rows = query.fetch_all(&self.read).await?;
        let mut orders = rows
            .iter()
            .map(summary_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if orders.len() > limit as usize {
            orders.truncate(limit as usize);
            orders.last().map(|o| encode_after(o.id))
        } else {
            None
        };
        Ok(OrderPage { orders, next })
    }

    /// One of the merchant's orders with its lines and history; `None` if it does not
    /// exist or belongs to another merchant.
    pub async fn get_order(
        &self,
        merchant_id: i64,
        id: i64,
    ) -> Result<Option<OrderDetail>, StoreError> {
        // One read transaction so the header, lines and events are one snapshot.
        let mut tx = self.read.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM orders WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let lines = sqlx::query(
            "SELECT line_id, sku, channel_sku, title, quantity, unit_price_minor, \
             unit_price_currency, discount_minor, discount_currency FROM order_lines \
             WHERE order_id = $1 ORDER BY line_no",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(line_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        let events = sqlx::query(
            "SELECT id, at, kind, source, from_status, to_status, detail FROM order_events \
             WHERE order_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(OrderEvent {
                id: col(r, "id")?,
                at: col(r, "at")?,
                kind: col(r, "kind")?,
                source: col(r, "source")?,
                from_status: col(r, "from_status")?,
                to_status: col(r, "to_status")?,
                detail: col(r, "detail")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        tx.commit().await?;
        Ok(Some(OrderDetail {
            summary: summary_from_row(&row)?,
            order: order_from_row(&row, lines)?,
            events,
        }))
    }

    /// How many orders the merchant has.
    pub async fn count_orders(&self, merchant_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM orders WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Page tokens round-trip; anything else is refused as invalid input.
    #[test]
    fn page_tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_after(&encode_after(42)).unwrap(), 42);
        for bad in [
            "",
            "zz",
            "42",
            &hex::encode("orders-after:x"),
            &hex::encode("other:1"),
        ] {
            assert!(
                matches!(decode_after(bad), Err(StoreError::InvalidInput(_))),
                "{bad:?} should be refused"
            );
        }
    }
}
