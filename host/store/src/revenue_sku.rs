//! Revenue per SKU (optionally per channel too): every settlement line settled in the
//! range is split over its order's lines by their value (unit price × quantity − the
//! line's discount) with the largest-remainder [`allocate`], component by component, so
//! the SKU figures of a channel add up to its [`RevenueRow`](crate::reconcile::RevenueRow)
//! totals exactly, to the minor unit. Lines that name no known order (or an order without
//! lines) stay unattributed (`sku: null`) rather than being spread or dropped.
//!
//! Quantities, merchant discounts (the line's own plus its share of the order-level
//! discount) and cost of goods count each order once, on its first sale line in the
//! range — the rule of the per-channel revenue.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use utoipa::ToSchema;
use wharf_domain::reconcile::allocate;

use crate::db::col;
use crate::{Store, StoreError};

/// Revenue of one SKU (per channel when grouped so, always per currency).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SkuRevenueRow {
    /// Set when grouped by channel (installation).
    pub installation_id: Option<i64>,
    pub platform: Option<String>,
    pub shop: Option<String>,
    /// `null`: settled money that names no known order line.
    pub sku: Option<String>,
    pub currency: String,
    /// Units sold (orders with a sale line in the range).
    pub quantity: i64,
    /// Σ gross of sale lines, allocated.
    pub gross: i64,
    /// The merchant's own discounts (line + allocated order discount), for information:
    /// settled gross is already net of them.
    pub discounts: i64,
    /// Fees and commission, allocated (positive).
    pub fees: i64,
    /// Refunded, allocated (positive).
    pub refunds: i64,
    /// Platform discounts, shipping subsidies and adjustments, allocated.
    pub other: i64,
    /// Σ net, allocated.
    pub net: i64,
    /// Quantity × unit cost; `null` when the cost is unknown (or in another currency).
    pub cost_of_goods: Option<i64>,
    /// `net − cost_of_goods`; `null` when the cost is unknown.
    pub margin: Option<i64>,
}

/// One order line, for weights and costs.
struct OrderLine {
    sku: String,
    quantity: i64,
    value: i64,
    discount: i64,
    unit_cost: Option<(i64, String)>,
}

/// The five money components of one settlement line, as the per-channel revenue sums them.
fn components(kind: &str, gross: i64, fee: i64, net: i64) -> [i64; 5] {
    let fees = fee - if kind == "commission" { gross } else { 0 };
    let refunds = if kind == "refund" { -gross } else { 0 };
    let other = if matches!(
        kind,
        "platform_discount" | "shipping_subsidy" | "adjustment"
    ) {
        gross
    } else {
        0
    };
    let sale = if kind == "sale" { gross } else { 0 };
    [sale, fees, refunds, other, net]
}

type Key = (Option<i64>, String, Option<String>);

impl Store {
    /// Revenue per SKU of settlement lines settled in `[start, end)`, per channel when
    /// `by_channel`, always per currency.
    pub async fn revenue_by_sku(
        &self,
        merchant_id: i64,
        start: i64,
        end: i64,
        by_channel: bool,
    ) -> Result<Vec<SkuRevenueRow>, StoreError> {
        let orders_of_lines =
            "FROM settlement_lines l JOIN installations i ON i.id = l.installation_id \
             LEFT JOIN orders o ON o.merchant_id = l.merchant_id AND o.platform = i.platform \
               AND o.shop = i.shop AND o.external_id = l.order_external_id \
             WHERE l.merchant_id = $1 AND l.settled_at >= $2 AND l.settled_at < $3";
        let lines = sqlx::query(&format!(
            "SELECT l.installation_id, i.platform, i.shop, l.kind, l.gross_minor, l.fee_minor, \
             l.net_minor, l.net_currency AS currency, o.id AS order_id, o.discount_minor AS order_discount \
             {orders_of_lines} ORDER BY l.settled_at, l.id"
        ))
        .bind(merchant_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.read)
        .await?;
        let order_lines = sqlx::query(&format!(
            "SELECT ol.order_id, ol.sku, ol.quantity, ol.unit_price_minor, ol.discount_minor, \
             c.unit_cost_minor, c.currency AS cost_currency FROM order_lines ol \
             LEFT JOIN sku_costs c ON c.merchant_id = $1 AND c.sku = ol.sku \
             WHERE ol.order_id IN (SELECT o.id {orders_of_lines}) ORDER BY ol.order_id, ol.line_no"
        ))
        .bind(merchant_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.read)
        .await?;
        let mut by_order: HashMap<i64, Vec<OrderLine>> = HashMap::new();
        for r in &order_lines {
            let quantity: i64 = col(r, "quantity")?;
            let unit: i64 = col(r, "unit_price_minor")?;
            let discount: i64 = col(r, "discount_minor")?;
            let cost: Option<i64> = col(r, "unit_cost_minor")?;
            let cost_currency: Option<String> = col(r, "cost_currency")?;
            by_order
                .entry(col(r, "order_id")?)
                .or_default()
                .push(OrderLine {
                    sku: col(r, "sku")?,
                    quantity,
                    value: unit.saturating_mul(quantity).saturating_sub(discount),
                    discount,
                    unit_cost: cost.zip(cost_currency),
                });
        }
        let mut rows: BTreeMap<Key, SkuRevenueRow> = BTreeMap::new();
        let mut costed: HashSet<i64> = HashSet::new();
        for r in &lines {
            let inst: i64 = col(r, "installation_id")?;
            let currency: String = col(r, "currency")?;
            let kind: String = col(r, "kind")?;
            let parts = components(
                &kind,
                col(r, "gross_minor")?,
                col(r, "fee_minor")?,
                col(r, "net_minor")?,
            );
            let group = by_channel.then_some(inst);
            let order_id: Option<i64> = col(r, "order_id")?;
            let Some(order_lines) = order_id.and_then(|o| by_order.get(&o)) else {
                let row = row_for(&mut rows, group, &currency, None);
                add(row, parts);
                continue;
            };
            let weights: Vec<i64> = order_lines.iter().map(|l| l.value).collect();
            let shares: Vec<Vec<i64>> = parts.iter().map(|p| allocate(*p, &weights)).collect();
            // Quantity, discounts and cost once per order, on its first sale line here.
            let first_sale = kind == "sale" && costed.insert(order_id.unwrap_or_default());
            let order_discounts = if first_sale {
                allocate(col::<i64>(r, "order_discount")?, &weights)
            } else {
                vec![0; order_lines.len()]
            };
            for (i, line) in order_lines.iter().enumerate() {
                let row = row_for(&mut rows, group, &currency, Some(line.sku.clone()));
                for (c, share) in shares.iter().enumerate() {
                    *component(row, c) += share[i];
                }
                if first_sale {
                    row.quantity += line.quantity;
                    row.discounts += line.discount + order_discounts[i];
                    row.cost_of_goods = match (row.cost_of_goods, &line.unit_cost) {
                        (Some(sum), Some((unit, c))) if *c == currency => {
                            Some(sum + unit.saturating_mul(line.quantity))
                        }
                        _ => None,
                    };
                }
            }
        }
        let insts = if by_channel {
            self.reconcile_labels(merchant_id).await?
        } else {
            BTreeMap::new()
        };
        Ok(rows
            .into_values()
            .map(|mut row| {
                if let Some((platform, shop)) = row.installation_id.and_then(|i| insts.get(&i)) {
                    row.platform = Some(platform.clone());
                    row.shop = Some(shop.clone());
                }
                row.margin = row.cost_of_goods.map(|c| row.net - c);
                row
            })
            .collect())
    }

    /// Platform and shop of each of the merchant's installations.
    async fn reconcile_labels(
        &self,
        merchant_id: i64,
    ) -> Result<BTreeMap<i64, (String, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT id, platform, shop FROM installations WHERE merchant_id = $1")
                .bind(merchant_id)
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|r| Ok((col(r, "id")?, (col(r, "platform")?, col(r, "shop")?))))
            .collect()
    }
}

/// The row of (group, currency, SKU), created on first use (an SKU row starts with a
/// known cost of zero; the unattributed row's cost is unknown).
fn row_for<'a>(
    rows: &'a mut BTreeMap<Key, SkuRevenueRow>,
    group: Option<i64>,
    currency: &str,
    sku: Option<String>,
) -> &'a mut SkuRevenueRow {
    let known = sku.is_some();
    rows.entry((group, currency.to_string(), sku.clone()))
        .or_insert_with(|| SkuRevenueRow {
            installation_id: group,
            sku,
            currency: currency.to_string(),
            cost_of_goods: known.then_some(0),
            ..SkuRevenueRow::default()
        })
}

/// The row's component `c` in [`components`] order.
fn component(row: &mut SkuRevenueRow, c: usize) -> &mut i64 {
    match c {
        0 => &mut row.gross,
        1 => &mut row.fees,
        2 => &mut row.refunds,
        3 => &mut row.other,
        _ => &mut row.net,
    }
}

/// Add `parts` whole to an unattributed row.
fn add(row: &mut SkuRevenueRow, parts: [i64; 5]) {
    for (c, p) in parts.into_iter().enumerate() {
        *component(row, c) += p;
    }
}
