//! Reconciliation exports as tables, written as CSV (RFC 4180) or XLSX
//! (rust_xlsxwriter). Amounts stay integer minor units in both (columns end in
//! `_minor`), exactly as the API returns them.
//!
//! - variances: one row per judged order (`kind` = `order`, with the expected-net
//!   components), per unmatched line (`unmatched_line`) and per overdue order
//!   (`overdue_order`); the XLSX adds sheets for payouts and data-quality issues. Built
//!   row by row from the streamed records ([`rows_of`]), so a month of orders is never
//!   held at once (`export::stream` writes them out).
//! - summary: one row per installation and currency.

pub mod stream;

use rust_xlsxwriter::{Format, Workbook};
use wharf_store::reconcile::{ReconcilePlan, ReconcileTotals, Record};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Bool(bool),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Bool(v)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A named table (an XLSX sheet).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// A CSV field: quoted when needed; text that a spreadsheet would run as a formula gets a
/// leading `'`.
fn csv_field(out: &mut String, cell: &Cell) {
    match cell {
        Cell::Int(v) => out.push_str(&v.to_string()),
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Cell::Empty => {}
        Cell::Text(t) => {
            let guarded;
            let t = if t.starts_with(['=', '+', '@', '\t', '\r']) {
                guarded = format!("'{t}");
                &guarded
            } else {
                t
            };
            if t.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&t.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(t);
            }
        }
    }
}

/// One CSV record (a header or a row) with its CRLF.
pub fn csv_row<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a Cell>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, cell);
    }
    out.push_str("\r\n");
}

/// The header record of a table.
pub fn csv_header(out: &mut String, headers: &[&str]) {
    out.push_str(&headers.join(","));
    out.push_str("\r\n");
}

/// The table as CSV with a header row, CRLF line ends.
pub fn to_csv(table: &Table) -> String {
    let mut out = String::new();
    csv_header(&mut out, &table.headers);
    for row in &table.rows {
        csv_row(&mut out, row);
    }
    out
}

/// The tables as one XLSX workbook, a sheet each, bold frozen header row.
pub fn to_xlsx(tables: &[Table]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = Workbook::new();
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.name)?;
        xlsx_header(sheet, &table.headers)?;
        for (r, row) in table.rows.iter().enumerate() {
            xlsx_row(sheet, r as u32 + 1, row)?;
        }
    }
    workbook.save_to_buffer()
}

/// Write a sheet's bold, frozen header row.
pub fn xlsx_header(
    sheet: &mut rust_xlsxwriter::Worksheet,
    headers: &[&str],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Write one row of cells at row `r`.
pub fn xlsx_row(
    sheet: &mut rust_xlsxwriter::Worksheet,
    r: u32,
    row: &[Cell],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (c, cell) in row.iter().enumerate() {
        let c = c as u16;
        match cell {
            // Exact: minor units stay far below 2^53.
            Cell::Int(v) => {
                sheet.write_number(r, c, *v as f64)?;
            }
            Cell::Text(t) => {
                sheet.write_string(r, c, t)?;
            }
            Cell::Bool(b) => {
                sheet.write_boolean(r, c, *b)?;
            }
            Cell::Empty => {}
        }
    }
    Ok(())
}

pub const VARIANCE_HEADERS: [&str; 21] = [
    "kind",
    "installation_id",
    "platform",
    "shop",
    "reference",
    "order_id",
    "currency",
    "paid_minor",
    "expected_paid_minor",
    "expected_commission_minor",
    "expected_merchant_discount_minor",
    "expected_platform_discount_minor",
    "expected_shipping_subsidy_minor",
    "expected_refunds_minor",
    "expected_adjustments_minor",
    "expected_net_minor",
    "actual_net_minor",
    "variance_minor",
    "red",
    "lines",
    "detail",
];

/// The headers of the payout checks.
pub const PAYOUT_HEADERS: [&str; 10] = [
    "installation_id",
    "payout_id",
    "currency",
    "paid_at",
    "status",
    "amount_minor",
    "lines_net_minor",
    "lines",
    "difference_minor",
    "ok",
];

/// The headers of the data-quality issues.
pub const ISSUE_HEADERS: [&str; 4] = ["installation_id", "code", "reference", "message"];

/// Which table of the variance export a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    Variances,
    Payouts,
    DataQuality,
}

impl Sheet {
    pub const ALL: [Sheet; 3] = [Sheet::Variances, Sheet::Payouts, Sheet::DataQuality];

    pub fn name(self) -> &'static str {
        match self {
            Sheet::Variances => "Variances",
            Sheet::Payouts => "Payouts",
            Sheet::DataQuality => "Data quality",
        }
    }

    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Sheet::Variances => &VARIANCE_HEADERS,
            Sheet::Payouts => &PAYOUT_HEADERS,
            Sheet::DataQuality => &ISSUE_HEADERS,
        }
    }
}

/// The export row of one streamed record, and the table it goes in.
pub fn rows_of(plan: &ReconcilePlan, record: &Record) -> (Sheet, Vec<Cell>) {
    let channel = |id: i64| {
        let (p, s) = plan.channel(id).unwrap_or_default();
        (Cell::from(p), Cell::from(s))
    };
    match record {
        Record::Order(o) => {
            let e = &o.expected;
            (
                Sheet::Variances,
                vec![
                    "order".into(),
                    o.installation_id.into(),
                    o.platform.clone().into(),
                    o.shop.clone().into(),
                    o.external_id.clone().into(),
                    o.order_id.into(),
                    o.currency.clone().into(),
                    o.paid.into(),
                    e.paid.into(),
                    e.commission.into(),
                    e.merchant_discount.into(),
                    e.platform_discount.into(),
                    e.shipping_subsidy.into(),
                    e.refunds.into(),
                    e.adjustments.into(),
                    e.total.into(),
                    o.actual_net.into(),
                    o.variance.into(),
                    o.red.into(),
                    o.line_count.into(),
                    Cell::Empty,
                ],
            )
        }
        Record::Unmatched(u) => {
            let (p, s) = channel(u.installation_id);
            let l = &u.line;
            let mut row: Vec<Cell> = vec![
                "unmatched_line".into(),
                u.installation_id.into(),
                p,
                s,
                l.line_id.clone().into(),
                Cell::Empty,
                l.net.currency.clone().into(),
            ];
            row.extend(std::iter::repeat_n(Cell::Empty, 9));
            row.extend([
                l.net.minor.into(),
                Cell::Empty,
                Cell::Empty,
                1i64.into(),
                match &l.order_external_id {
                    Some(o) => format!("{} line for unknown order {o}", l.kind.as_str()),
                    None => format!("{} line without an order", l.kind.as_str()),
                }
                .into(),
            ]);
            (Sheet::Variances, row)
        }
        Record::Overdue(o) => {
            let (p, s) = channel(o.installation_id);
            let mut row: Vec<Cell> = vec![
                "overdue_order".into(),
                o.installation_id.into(),
                p,
                s,
                o.external_id.clone().into(),
                o.order_id.into(),
                o.currency.clone().into(),
                o.total_paid.into(),
            ];
            row.extend(std::iter::repeat_n(Cell::Empty, 12));
            row.push(
                format!(
                    "{} since {}, settlement due {}",
                    o.status, o.since, o.due_at
                )
                .into(),
            );
            (Sheet::Variances, row)
        }
        Record::Payout(p) => (
            Sheet::Payouts,
            vec![
                p.installation_id.into(),
                p.check.payout_id.clone().into(),
                p.check.currency.clone().into(),
                p.paid_at.into(),
                p.status.clone().into(),
                p.check.amount.into(),
                p.check.lines_net.into(),
                p.check.line_count.into(),
                p.check.difference.into(),
                p.check.ok.into(),
            ],
        ),
        Record::Issue(d) => (
            Sheet::DataQuality,
            vec![
                d.installation_id.into(),
                d.issue.code.clone().into(),
                d.issue.reference.clone().into(),
                d.issue.message.clone().into(),
            ],
        ),
    }
}

/// The period summary per installation and currency.
pub fn summary(report: &ReconcileTotals) -> Table {
    Table {
        name: "Summary",
        headers: vec![
            "installation_id",
            "platform",
            "shop",
            "currency",
            "period_start",
            "period_end",
            "orders",
            "red_orders",
            "expected_net_minor",
            "actual_net_minor",
            "variance_minor",
            "unmatched_lines",
            "unmatched_net_minor",
            "overdue_orders",
            "payouts",
            "payout_mismatches",
            "data_issues",
            "variance_threshold_minor",
        ],
        rows: report
            .summary
            .iter()
            .map(|s| {
                vec![
                    s.installation_id.into(),
                    s.platform.clone().into(),
                    s.shop.clone().into(),
                    s.currency.clone().into(),
                    report.period_start.into(),
                    report.period_end.into(),
                    s.orders.into(),
                    s.red_orders.into(),
                    s.expected_net.into(),
                    s.actual_net.into(),
                    s.variance.into(),
                    s.unmatched_lines.into(),
                    s.unmatched_net.into(),
                    s.overdue_orders.into(),
                    s.payouts.into(),
                    s.payout_mismatches.into(),
                    s.data_issues.into(),
                    report.variance_threshold_minor.into(),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

    fn table() -> Table {
        Table {
            name: "T",
            headers: vec!["a", "b", "c"],
            rows: vec![
                vec!["x,y".into(), 12i64.into(), true.into()],
                vec!["=SUM(A1)".into(), (-5i64).into(), Cell::Empty],
                vec!["say \"hi\"".into(), Cell::from(None::<i64>), "plain".into()],
            ],
        }
    }

    /// CSV quotes separators and quotes, guards formulas, keeps integers exact.
    #[test]
    fn csv_is_quoted_and_formula_safe() {
        let csv = to_csv(&table());
        assert_eq!(
            csv,
            "a,b,c\r\n\"x,y\",12,true\r\n'=SUM(A1),-5,\r\n\"say \"\"hi\"\"\",,plain\r\n"
        );
    }

    /// The XLSX opens with a spreadsheet reader and holds the same cells.
    #[test]
    fn xlsx_reads_back() {
        let bytes = to_xlsx(&[table()]).unwrap();
        let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("T").unwrap();
        assert_eq!(range.get_size(), (4, 3));
        assert_eq!(range.get((0, 0)), Some(&Data::String("a".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::Float(12.0)));
        assert_eq!(range.get((1, 2)), Some(&Data::Bool(true)));
        assert_eq!(range.get((2, 0)), Some(&Data::String("=SUM(A1)".into())));
    }
}
