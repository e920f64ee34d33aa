//! Inventory maths: available-to-sell per channel, sync-rule precedence, when an order
//! holds stock, and the stock CSV format. Pure functions; the store applies them.

use serde::{Deserialize, Serialize};

use crate::ChannelStatus;

/// A channel ratio of 100 % in basis points (1/10,000).
pub const FULL_RATIO_BP: i64 = 10_000;

/// Available-to-sell of one SKU on one channel installation:
/// `max(0, floor((on_hand − reserved − safety_stock) × ratio))`, with the ratio in basis
/// points so no float ever touches a quantity.
pub fn available_to_sell(on_hand: i64, reserved: i64, rule: &SyncRule) -> i64 {
    let free = on_hand - reserved - rule.safety_stock;
    if free <= 0 {
        return 0;
    }
    // floor for non-negative operands; i128 so a huge on-hand cannot overflow.
    ((i128::from(free) * i128::from(rule.ratio_bp)) / i128::from(FULL_RATIO_BP)) as i64
}

/// How much of a SKU one channel may sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SyncRule {
    /// Units always held back from this channel.
    pub safety_stock: i64,
    /// Share of the free stock offered, in basis points (10000 = 100 %).
    pub ratio_bp: i64,
}

impl Default for SyncRule {
    fn default() -> Self {
        Self {
            safety_stock: 0,
            ratio_bp: FULL_RATIO_BP,
        }
    }
}

impl SyncRule {
    /// Check the rule's bounds: safety stock ≥ 0, ratio within 0..=100 %.
    pub fn validate(&self) -> Result<(), String> {
        if self.safety_stock < 0 {
            return Err(format!(
                "safety_stock must be >= 0, got {}",
                self.safety_stock
            ));
        }
        if !(0..=FULL_RATIO_BP).contains(&self.ratio_bp) {
            return Err(format!(
                "ratio_bp must be between 0 and {FULL_RATIO_BP} (100 %), got {}",
                self.ratio_bp
            ));
        }
        Ok(())
    }
}

/// What a sync rule applies to, from least to most specific.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleScope {
    /// Every SKU of the channel installation (shop).
    Shop,
    /// Every SKU of one product (the SKU's product code).
    Product,
    /// One SKU.
    Sku,
}

impl RuleScope {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleScope::Shop => "shop",
            RuleScope::Product => "product",
            RuleScope::Sku => "sku",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "shop" => Ok(RuleScope::Shop),
            "product" => Ok(RuleScope::Product),
            "sku" => Ok(RuleScope::Sku),
            other => Err(format!(
                "unknown rule scope {other:?} (expected shop, product or sku)"
            )),
        }
    }
}

/// A stored rule: its scope, the code it targets (empty for a shop rule) and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedRule {
    pub scope: RuleScope,
    pub target: String,
    pub rule: SyncRule,
}

/// The rule for one SKU among an installation's rules: the SKU rule beats the product
/// rule beats the shop rule; with none, 100 % and no safety stock.
pub fn effective_rule(rules: &[ScopedRule], sku_code: &str, product_code: &str) -> SyncRule {
    let pick = |scope: RuleScope, target: &str| {
        rules
            .iter()
            .find(|r| r.scope == scope && r.target == target)
            .map(|r| r.rule)
    };
    pick(RuleScope::Sku, sku_code)
        .or_else(|| {
            if product_code.is_empty() {
                None
            } else {
                pick(RuleScope::Product, product_code)
            }
        })
        .or_else(|| pick(RuleScope::Shop, ""))
        .unwrap_or_default()
}

/// When a channel takes stock for an order (Douyin's `reduce_stock_type`, Taobao's
/// "拍下减库存" vs "付款减库存").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReduceStockAt {
    /// When the order is placed (awaiting payment already holds stock).
    Order,
    /// When the order is paid.
    Payment,
}

impl ReduceStockAt {
    pub fn as_str(self) -> &'static str {
        match self {
            ReduceStockAt::Order => "order",
            ReduceStockAt::Payment => "payment",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "order" => Ok(ReduceStockAt::Order),
            "payment" => Ok(ReduceStockAt::Payment),
            other => Err(format!(
                "unknown stock-reduction mode {other:?} (expected order or payment)"
            )),
        }
    }
}

/// The stock-reduction mode an order itself announces, overriding its installation's:
/// Douyin tags each order `reduce_stock_type=1` (at order) or `=2` (at payment).
pub fn order_reduce_mode(order: &crate::Order) -> Option<ReduceStockAt> {
    order.tags.iter().find_map(|t| match t.as_str() {
        "reduce_stock_type=1" => Some(ReduceStockAt::Order),
        "reduce_stock_type=2" => Some(ReduceStockAt::Payment),
        _ => None,
    })
}

/// What an order in a channel status does to its stock reservations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockIntent {
    /// Nothing yet (awaiting payment on a pay-to-reduce channel).
    None,
    /// Hold the lines' quantities.
    Hold,
    /// The goods left: take held units out of on-hand.
    Consume,
    /// The order will not ship: give held units back.
    Release,
}

/// The reservation intent of an order in `status` on a channel reducing stock at `mode`.
pub fn stock_intent(status: ChannelStatus, mode: ReduceStockAt) -> StockIntent {
    match status {
        ChannelStatus::PendingPayment => match mode {
            ReduceStockAt::Order => StockIntent::Hold,
            ReduceStockAt::Payment => StockIntent::None,
        },
        ChannelStatus::Paid | ChannelStatus::PartiallyShipped => StockIntent::Hold,
        ChannelStatus::Shipped | ChannelStatus::Completed => StockIntent::Consume,
        ChannelStatus::Cancelled | ChannelStatus::Refunded => StockIntent::Release,
    }
}

/// One row of a stock import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRow {
    /// 1-based line number in the file (for error messages).
    pub line: usize,
    pub sku: String,
    pub warehouse: String,
    pub on_hand: i64,
    /// Title for a SKU the import creates; may be empty.
    pub title: String,
}

/// Why one CSV line was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CsvLineError {
    pub line: usize,
    pub error: String,
}

/// Parse a stock CSV: a header naming `sku`, `on_hand` and optionally `warehouse`
/// (default `main`) and `title`, in any order; one row per SKU and warehouse. Every bad
/// line is reported (line number and reason); any error refuses the whole file.
pub fn parse_stock_csv(text: &str) -> Result<Vec<StockRow>, Vec<CsvLineError>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(vec![CsvLineError {
            line: 1,
            error: "the file is empty (expected a header: sku,warehouse,on_hand)".into(),
        }]);
    };
    let names: Vec<String> = split_csv(header)
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let find = |n: &str| names.iter().position(|h| h == n);
    let (Some(sku_i), Some(qty_i)) = (find("sku"), find("on_hand")) else {
        return Err(vec![CsvLineError {
            line: 1,
            error: format!(
                "the header must name the columns sku and on_hand (got {})",
                names.join(",")
            ),
        }]);
    };
    let (wh_i, title_i) = (find("warehouse"), find("title"));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (idx, raw) in lines {
        let line = idx + 1;
        let cells = split_csv(raw);
        let cell = |i: usize| {
            cells
                .get(i)
                .map(|c| c.trim().to_string())
                .unwrap_or_default()
        };
        if cells.len() != names.len() {
            errors.push(CsvLineError {
                line,
                error: format!("expected {} cells, got {}", names.len(), cells.len()),
            });
            continue;
        }
        let sku = cell(sku_i);
        let warehouse = wh_i
            .map(cell)
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "main".into());
        if let Err(e) = validate_code("sku", &sku).and(validate_code("warehouse", &warehouse)) {
            errors.push(CsvLineError { line, error: e });
            continue;
        }
        let qty_text = cell(qty_i);
        let on_hand = match qty_text.parse::<i64>() {
            Ok(q) if q >= 0 => q,
            _ => {
                errors.push(CsvLineError {
                    line,
                    error: format!("on_hand must be a whole number >= 0, got {qty_text:?}"),
                });
                continue;
            }
        };
        if !seen.insert((sku.clone(), warehouse.clone())) {
            errors.push(CsvLineError {
                line,
                error: format!("sku {sku:?} in warehouse {warehouse:?} appears twice"),
            });
            continue;
        }
        rows.push(StockRow {
            line,
            sku,
            warehouse,
            on_hand,
            title: title_i.map(cell).unwrap_or_default(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// A SKU, product or warehouse code: 1–64 printable characters, no surrounding spaces.
pub fn validate_code(what: &str, code: &str) -> Result<(), String> {
    if code.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if code.len() > 64 {
        return Err(format!("{what} {code:?} is longer than 64 bytes"));
    }
    if code.trim() != code || code.chars().any(|c| c.is_control()) {
        return Err(format!(
            "{what} {code:?} has surrounding spaces or control characters"
        ));
    }
    Ok(())
}

/// Split one CSV line on commas, honouring double quotes (`""` is a literal quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    cells
}

#[cfg(test)]
mod tests;
