//! Streaming the variance exports of a period, so a month of orders is never held at
//! once:
//!
//! - [`variances_csv`]: CSV chunks go into the HTTP body as the store's cursor yields
//!   records. The channel is bounded, so a slow client slows the cursor instead of piling
//!   rows up. A failure half-way ends the body with an error: the client sees a broken
//!   transfer, never a short file that looks whole.
//! - [`variances_xlsx`]: the three sheets are constant-memory worksheets (rust_xlsxwriter
//!   writes their rows to temporary files as they come); the workbook is saved to a
//!   temporary file, which the body then reads out in chunks.

use std::io::Write as _;

use axum::body::Body;
use bytes::Bytes;
use rust_xlsxwriter::Workbook;
use tokio::io::AsyncReadExt as _;
use tokio::sync::mpsc;
use wharf_store::reconcile::{ReconcilePlan, ReconcileSink, Record};
use wharf_store::Store;

use super::{csv_header, csv_row, rows_of, xlsx_header, xlsx_row, Sheet};
use crate::ApiError;

/// Bytes of CSV gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the cursor and the client.
const IN_FLIGHT: usize = 4;

type Chunk = Result<Bytes, std::io::Error>;

fn body_of(rx: mpsc::Receiver<Chunk>) -> Body {
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// The variance CSV of `plan`, streamed: the header at once, then one row per judged
/// order, unmatched line and overdue order as the store reads them.
pub fn variances_csv(store: Store, plan: ReconcilePlan) -> Body {
    let (tx, rx) = mpsc::channel::<Chunk>(IN_FLIGHT);
    tokio::spawn(async move {
        let mut sink = CsvBody {
            plan: &plan,
            buf: String::with_capacity(CHUNK + 1024),
            tx: tx.clone(),
        };
        csv_header(&mut sink.buf, Sheet::Variances.headers());
        let result = match store.reconcile_stream(&plan, &mut sink).await {
            Ok(_) => sink.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "variance CSV export stopped");
            let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    body_of(rx)
}

/// The variance rows as CSV into a channel (payouts and issues are XLSX sheets only).
struct CsvBody<'p> {
    plan: &'p ReconcilePlan,
    buf: String,
    tx: mpsc::Sender<Chunk>,
}

impl CsvBody<'_> {
    async fn flush(&mut self) -> Result<(), ApiError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| ApiError::Internal("the client went away".into()))
    }
}

impl ReconcileSink for CsvBody<'_> {
    type Error = ApiError;

    async fn record(&mut self, record: Record) -> Result<(), ApiError> {
        let (sheet, row) = rows_of(self.plan, &record);
        if sheet == Sheet::Variances {
            csv_row(&mut self.buf, &row);
            if self.buf.len() >= CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }
}

/// Records into the constant-memory sheets of a workbook.
struct XlsxSheets<'p> {
    plan: &'p ReconcilePlan,
    workbook: Workbook,
    /// The next row of each sheet (row 0 is the header).
    next: [u32; 3],
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::Internal(format!("xlsx: {e}"))
}

impl ReconcileSink for XlsxSheets<'_> {
    type Error = ApiError;

    async fn record(&mut self, record: Record) -> Result<(), ApiError> {
        let (sheet, row) = rows_of(self.plan, &record);
        let index = sheet as usize;
        let r = self.next[index];
        let ws = self
            .workbook
            .worksheet_from_index(index)
            .map_err(xlsx_error)?;
        xlsx_row(ws, r, &row).map_err(xlsx_error)?;
        self.next[index] = r + 1;
        Ok(())
    }
}

/// The variance XLSX of `plan` (sheets Variances, Payouts, Data quality), built on disk
/// and returned as a body that reads the file out. The file is unlinked once open.
pub async fn variances_xlsx(store: &Store, plan: &ReconcilePlan) -> Result<Body, ApiError> {
    let mut workbook = Workbook::new();
    for sheet in Sheet::ALL {
        let ws = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        ws.set_name(sheet.name()).map_err(xlsx_error)?;
        xlsx_header(ws, sheet.headers()).map_err(xlsx_error)?;
    }
    let mut sink = XlsxSheets {
        plan,
        workbook,
        next: [1; 3],
    };
    store.reconcile_stream(plan, &mut sink).await?;
    let mut workbook = sink.workbook;
    let file = tokio::task::spawn_blocking(move || -> Result<std::fs::File, ApiError> {
        let mut file = tempfile::tempfile()
            .map_err(|e| ApiError::Internal(format!("xlsx temporary file: {e}")))?;
        workbook.save_to_writer(&mut file).map_err(xlsx_error)?;
        file.flush()
            .map_err(|e| ApiError::Internal(format!("xlsx temporary file: {e}")))?;
        Ok(file)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("xlsx: {e}")))??;
    let mut file = tokio::fs::File::from_std(file);
    use tokio::io::AsyncSeekExt as _;
    file.seek(std::io::SeekFrom::Start(0))
        .await
        .map_err(|e| ApiError::Internal(format!("xlsx temporary file: {e}")))?;
    let (tx, rx) = mpsc::channel::<Chunk>(IN_FLIGHT);
    tokio::spawn(async move {
        loop {
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    break;
                }
            }
        }
    });
    Ok(body_of(rx))
}

/// Records that are only counted into the totals (the summary export).
pub struct Discard;

impl ReconcileSink for Discard {
    type Error = ApiError;

    async fn record(&mut self, _record: Record) -> Result<(), ApiError> {
        Ok(())
    }
}
