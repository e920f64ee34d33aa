//! Group commit: concurrent ingests (webhooks) share one transaction, so one commit — one
//! fsync — covers many orders.
//!
//! [`Store::ingest_grouped`] hands its batch to a committer task and waits. A committer
//! takes the first waiting request, then every request already queued behind it (up to
//! [`MAX_GROUP`]; no deliberate wait, so a lone webhook is not delayed: requests pile up
//! while the previous group commits), and runs them in ONE transaction through the same
//! per-batch body as [`Store::ingest`]. What the batches share is read once (each
//! installation's row, its merchant's inventory and SLA settings), their counters are
//! written once per installation, and their new orders' lines, pick tasks, events and
//! delivery records per table in multi-row statements before the commit
//! (`ingest::TxCache`, `crate::pending`): statements, not rows, are what the one write
//! connection pays for.
//!
//! The first try has no savepoints. If every batch applies, the group commits. If one
//! fails, the transaction is rolled back and the group is applied again with each batch
//! inside its own savepoint: a batch that fails is rolled back to its savepoint without
//! touching the others. After the commit every successful waiter gets its report — an
//! acknowledged batch is in a committed transaction — and every failed batch is run again
//! alone in its own transaction (exactly the semantics of [`Store::ingest`]: the same error
//! for bad input, a second chance for a lock conflict with another node). If the group
//! itself cannot commit, nothing of it was committed and every batch runs alone.
//!
//! Batches are applied in installation order (stable), so two committers on PostgreSQL
//! take installation row locks in the same order.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot, Mutex};
use wharf_domain::Order;

use crate::ingest::TxCache;
use crate::{Backend, IngestReport, IngestSource, Installation, Store, StoreError};

/// Most batches in one group transaction.
pub const MAX_GROUP: usize = 128;

/// Savepoint name of the batch being applied (one at a time, released before the next).
const SAVEPOINT: &str = "wharf_group_batch";

/// One installation's batch of orders, as [`Store::ingest`] takes it.
#[derive(Debug, Clone)]
pub struct Batch {
    pub inst: Installation,
    pub orders: Vec<Order>,
    pub source: IngestSource,
}

/// One waiting ingest.
struct Request {
    batch: Batch,
    reply: oneshot::Sender<Result<IngestReport, StoreError>>,
}

/// The queue to this store's committers, started on first use (in the caller's tokio
/// runtime).
#[derive(Default)]
pub(crate) struct GroupQueue(OnceLock<mpsc::UnboundedSender<Request>>);

impl Store {
    /// [`ingest`](Self::ingest) through the group committer: the same per-batch
    /// semantics (one batch is all or nothing), committed together with concurrent
    /// batches. Returns only after the transaction holding this batch has committed.
    pub async fn ingest_grouped(
        &self,
        inst: &Installation,
        orders: Vec<Order>,
        source: IngestSource,
    ) -> Result<IngestReport, StoreError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            batch: Batch {
                inst: inst.clone(),
                orders,
                source,
            },
            reply,
        };
        let request = match self.group_queue().send(request) {
            Ok(()) => {
                // A dropped answer means the committer died with the group (a panic): its
                // transaction was rolled back, the batch is not acknowledged.
                return answer
                    .await
                    .unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)));
            }
            // The committers are gone (their runtime shut down): nothing was applied.
            Err(mpsc::error::SendError(r)) => r,
        };
        let b = request.batch;
        self.ingest(&b.inst, &b.orders, b.source).await
    }

    fn group_queue(&self) -> &mpsc::UnboundedSender<Request> {
        self.group.0.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let rx = Arc::new(Mutex::new(rx));
            // The committers' own handle has no queue of its own, so the queue closes (and
            // they end) when the last user handle is dropped.
            let store = Store {
                group: Arc::default(),
                ..self.clone()
            };
            match self.backend {
                // One write connection: a second committer would only wait for it. It runs
                // on a thread of its own (see `on_own_thread`).
                Backend::Sqlite => {
                    if let Err(e) = on_own_thread(store.clone(), rx.clone()) {
                        tracing::warn!(
                            "no thread of its own for the group committer, sharing the \
                             runtime's: {e}"
                        );
                        tokio::spawn(committer(store, rx));
                    }
                }
                Backend::Postgres => {
                    for _ in 0..3 {
                        tokio::spawn(committer(store.clone(), rx.clone()));
                    }
                }
            }
            tx
        })
    }

    /// Apply `batches` in ONE transaction, each in its own savepoint (see the module docs);
    /// a failed batch is rolled back alone and then run again in its own transaction.
    /// Returns each batch's result, in input order; an `Ok` batch is committed.
    pub async fn ingest_group(&self, batches: Vec<Batch>) -> Vec<Result<IngestReport, StoreError>> {
        let mut results: Vec<Option<Result<IngestReport, StoreError>>> =
            batches.iter().map(|_| None).collect();
        if batches.is_empty() {
            return Vec::new();
        }
        if batches.len() == 1 {
            let b = &batches[0];
            return vec![self.ingest(&b.inst, &b.orders, b.source.clone()).await];
        }
        let mut order: Vec<usize> = (0..batches.len()).collect();
        order.sort_by_key(|&i| batches[i].inst.id);
        if let Some(reports) = self.apply_all(&batches, &order).await {
            return reports.into_iter().map(Ok).collect();
        }
        let mut alone = Vec::new();
        match self.begin().await {
            Ok(mut tx) => {
                let mut done = Vec::with_capacity(batches.len());
                let mut broken = false;
                for &i in &order {
                    if broken {
                        alone.push(i);
                        continue;
                    }
                    match self.apply_in_savepoint(&mut tx, &batches[i]).await {
                        Ok(Ok(report)) => done.push((i, report)),
                        Ok(Err(_)) => alone.push(i),
                        // The transaction itself is unusable (its savepoint could not be
                        // set or rolled back): give up the whole group.
                        Err(e) => {
                            tracing::warn!("group commit abandoned: {e}");
                            alone.push(i);
                            broken = true;
                        }
                    }
                }
                let committed = !broken && {
                    match tx.commit().await {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::warn!("group commit failed, running each batch alone: {e}");
                            false
                        }
                    }
                };
                if committed {
                    for (i, report) in done {
                        results[i] = Some(Ok(report));
                    }
                } else {
                    alone.extend(done.into_iter().map(|(i, _)| i));
                }
            }
            Err(e) => {
                tracing::warn!("group commit could not begin, running each batch alone: {e}");
                alone = order;
            }
        }
        alone.sort_by_key(|&i| (batches[i].inst.id, i));
        for i in alone {
            let b = &batches[i];
            results[i] = Some(self.ingest(&b.inst, &b.orders, b.source.clone()).await);
        }
        results
            .into_iter()
            .map(|r| r.expect("every batch has a result"))
            .collect()
    }

    /// The first try: every batch (in `order`) in one transaction, no savepoints. Their
    /// reports in input order once committed; `None` when a batch failed or the commit
    /// did (then nothing of it was committed).
    async fn apply_all(&self, batches: &[Batch], order: &[usize]) -> Option<Vec<IngestReport>> {
        let mut tx = self.begin().await.ok()?;
        let mut cache = TxCache::default();
        let mut reports: Vec<Option<IngestReport>> = batches.iter().map(|_| None).collect();
        for &i in order {
            let b = &batches[i];
            match self
                .ingest_in(&mut tx, &mut cache, &b.inst, &b.orders, &b.source)
                .await
            {
                Ok(report) => reports[i] = Some(report),
                Err(e) => {
                    tracing::debug!("a batch failed in its group, retrying with savepoints: {e}");
                    tx.rollback().await.ok();
                    return None;
                }
            }
        }
        if let Err(e) = cache.finish(&mut tx).await {
            tracing::debug!("a group's held-back rows failed, retrying with savepoints: {e}");
            tx.rollback().await.ok();
            return None;
        }
        if let Err(e) = tx.commit().await {
            tracing::warn!("group commit failed, applying its batches one by one: {e}");
            return None;
        }
        let mut reports: Vec<IngestReport> = reports.into_iter().collect::<Option<_>>()?;
        for (b, report) in batches.iter().zip(&mut reports) {
            cache.mark_redelivery(b.inst.id, &b.source, report);
        }
        Some(reports)
    }

    /// One batch inside a savepoint of `tx`: the outer error says the transaction is
    /// broken, the inner one that the batch failed (and was rolled back to its savepoint).
    async fn apply_in_savepoint(
        &self,
        tx: &mut crate::inventory::Tx,
        r: &Batch,
    ) -> Result<Result<IngestReport, StoreError>, StoreError> {
        sqlx::query(&format!("SAVEPOINT {SAVEPOINT}"))
            .execute(&mut **tx)
            .await?;
        // A cache of its own: rolling back to the savepoint also releases what it locked.
        let result = self.ingest_counted(tx, &r.inst, &r.orders, &r.source).await;
        if result.is_err() {
            sqlx::query(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
                .execute(&mut **tx)
                .await?;
        }
        sqlx::query(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
            .execute(&mut **tx)
            .await?;
        Ok(result)
    }
}

/// Run the SQLite committer on a thread of its own, with a one-thread runtime. Each of its
/// statements is a round trip to SQLite's connection thread, and the one writer waits
/// through every round trip. On the shared runtime the committer's wake-up would queue
/// behind HTTP handlers and plugin calls (hundreds of microseconds each under load). On its
/// own thread the OS scheduler wakes it as soon as the answer arrives. The thread ends
/// with the queue.
fn on_own_thread(
    store: Store,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>,
) -> std::io::Result<()> {
    // Timers only (the pool's acquire timeout): without an IO driver the runtime parks on
    // a futex, so SQLite's thread wakes it with one `futex` call per statement instead of
    // a write to the IO driver's eventfd.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("wharf-committer".into())
        .spawn(move || runtime.block_on(committer(store, queue)))?;
    Ok(())
}

/// Take a group off the queue, apply it, repeat until the queue closes.
async fn committer(store: Store, queue: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>) {
    loop {
        let group = {
            let mut rx = queue.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            // Let handlers woken with this one enqueue theirs.
            tokio::task::yield_now().await;
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            group
        };
        // In its own task: a panic fails this group's waiters (their answers are
        // dropped), not the committer.
        let store = store.clone();
        let applied = tokio::spawn(async move {
            let (batches, replies): (Vec<Batch>, Vec<_>) =
                group.into_iter().map(|r| (r.batch, r.reply)).unzip();
            let results = store.ingest_group(batches).await;
            for (reply, result) in replies.into_iter().zip(results) {
                // A waiter that went away (its client hung up) is not an error: its
                // batch is committed all the same.
                let _ = reply.send(result);
            }
        })
        .await;
        if let Err(e) = applied {
            tracing::error!("a group commit panicked: {e}");
        }
    }
}
