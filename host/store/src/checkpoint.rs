//! SQLite WAL checkpoints off the commit path.
//!
//! By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 pages:
//! that one commit copies about 4 MB into the database file and fsyncs it, and every
//! webhook waiting on it (a whole group, see [`crate::group_commit`]) waits too. Here a
//! task of its own runs a `PASSIVE` checkpoint every [`INTERVAL`] on a connection of its
//! own: it copies committed pages while the writer goes on appending, and never blocks it.
//!
//! The writer keeps an automatic checkpoint at [`WRITER_FALLBACK_PAGES`], far above the
//! default: under sustained writes a passive checkpoint never catches up with the last
//! frame, so the WAL cannot restart from its beginning; the writer's own checkpoint then
//! copies only the few pages not yet copied and lets the WAL restart. The WAL stays
//! bounded even if this task stops. Durability is unchanged: a commit still fsyncs the WAL
//! (`synchronous = FULL`) before it returns.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::watch;

use crate::StoreError;

/// How often the checkpointer copies committed pages into the database file.
pub(crate) const INTERVAL: Duration = Duration::from_millis(200);

/// The writer's own automatic checkpoint threshold (pages of 4 KiB: 64 MiB of WAL).
pub(crate) const WRITER_FALLBACK_PAGES: u32 = 16_384;

/// While held, the checkpointer runs; dropping the last handle stops it.
pub(crate) struct Checkpointer {
    _stop: watch::Sender<()>,
}

impl Checkpointer {
    /// Open the checkpointer's connection to `url` (an sqlx SQLite URL) and start it on
    /// the current tokio runtime.
    pub(crate) async fn start(url: &str, busy_timeout_ms: u32) -> Result<Self, StoreError> {
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute(format!("PRAGMA busy_timeout = {busy_timeout_ms};").as_str())
                        .await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let (stop, stopped) = watch::channel(());
        tokio::spawn(run(pool, stopped));
        Ok(Checkpointer { _stop: stop })
    }
}

async fn run(pool: AnyPool, mut stopped: watch::Receiver<()>) {
    let mut warned = false;
    loop {
        tokio::select! {
            // Err: every handle is gone.
            r = stopped.changed() => if r.is_err() { break },
            () = tokio::time::sleep(INTERVAL) => {}
        }
        match checkpoint(&pool).await {
            Ok(()) => warned = false,
            // The writer's fallback still checkpoints; say so once per failure streak.
            Err(e) if !warned => {
                warned = true;
                tracing::warn!("background WAL checkpoint failed: {e}");
            }
            Err(_) => {}
        }
    }
    pool.close().await;
}

/// One passive checkpoint: copies what it can without waiting for the writer or readers.
async fn checkpoint(pool: &AnyPool) -> Result<(), StoreError> {
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    let (log, copied): (i64, i64) = (row.try_get(1)?, row.try_get(2)?);
    tracing::trace!(wal_frames = log, copied, "WAL checkpoint");
    Ok(())
}
