//! SQLite's one writer, whatever `WHARF_TEST_DATABASE_URL` says: it commits durably and
//! keeps its scratch in memory; WAL checkpoints run beside the writer, not inside a commit;
//! the group committer has a thread of its own, which ends with the store. No other test in
//! this binary starts a group committer.

mod common;

use std::time::{Duration, Instant};

use common::{installation, order, plugin};
use wharf_domain::ChannelStatus::Paid;
use wharf_store::{IngestSource, Store};

/// Threads of this process with the committer's name.
fn committer_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "wharf-committer")
        .count()
}

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

// Committed pages reach the database file while the WAL is still far below SQLite's
// own checkpoint threshold (1,000 pages): a checkpointer of the store's own copies them,
// so no commit has to.
#[tokio::test]
async fn committed_pages_reach_the_database_file_without_a_commit_checkpointing() {
    let db = wharf_store::testing::fresh_sqlite_path();
    let wal = db.with_file_name("wharf.db-wal");
    let store = Store::connect(db.to_str().unwrap()).await.unwrap();
    let merchant = store.create_merchant("Acme").await.unwrap();
    let plugin = plugin(&store, "shopify").await;
    let inst = installation(&store, plugin.id, merchant.id, "acme.myshopify.com").await;
    // Let the checkpointer settle what the migrations wrote.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = size(&db);

    for batch in 0..12 {
        let orders: Vec<_> = (0..25)
            .map(|i| order(&format!("{}", 10_000 + batch * 25 + i), Paid, 10))
            .collect();
        store
            .ingest(&inst, &orders, IngestSource::Pull { cursor: None })
            .await
            .unwrap();
    }
    let wal_now = size(&wal);
    assert!(
        wal_now < 1_000 * (4096 + 24),
        "the WAL reached SQLite's default checkpoint threshold ({wal_now} bytes): the test \
         would not tell the two apart"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while size(&db) < before + 256 * 1024 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = size(&db);
    assert!(
        after >= before + 256 * 1024,
        "the database file grew from {before} to {after} bytes only (WAL {wal_now} bytes)"
    );
    assert_eq!(store.count_orders(merchant.id).await.unwrap(), 300);
    drop(store);
    std::fs::remove_dir_all(db.parent().unwrap()).ok();
}

// A grouped ingest on SQLite starts the committer on a thread of its own; the order is
// stored and acknowledged through it; when the store's last handle is dropped the
// thread ends (none is left behind per store).
#[tokio::test]
async fn the_sqlite_committer_runs_on_its_own_thread_and_ends_with_the_store() {
    let db = wharf_store::testing::fresh_sqlite_path();
    let store = Store::connect(db.to_str().unwrap()).await.unwrap();
    let merchant = store.create_merchant("Acme").await.unwrap();
    let plugin = plugin(&store, "shopify").await;
    let inst = installation(&store, plugin.id, merchant.id, "acme.myshopify.com").await;
    assert_eq!(
        committer_threads(),
        0,
        "no committer before the first grouped ingest"
    );
    let report = store
        .ingest_grouped(
            &inst,
            vec![order("5001", Paid, 10)],
            IngestSource::Webhook {
                delivery_id: Some("d-5001".into()),
                topic: "orders/create".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.created, 1);
    assert_eq!(committer_threads(), 1);
    assert_eq!(store.count_orders(merchant.id).await.unwrap(), 1);
    drop(store);
    let deadline = Instant::now() + Duration::from_secs(10);
    while committer_threads() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(committer_threads(), 0, "the committer outlived its store");
    std::fs::remove_dir_all(db.parent().unwrap()).ok();
}

// The writer fsyncs the WAL at every commit (WAL mode, `synchronous = FULL`: an
// acknowledged order is on disk) and keeps statement journals and other scratch in memory
// (`temp_store = MEMORY`: a multi-row insert does not write a temporary file).
#[tokio::test]
async fn the_writer_commits_durably_and_keeps_its_scratch_in_memory() {
    use wharf_store::testing::sqlite_writer_pragma;
    let db = wharf_store::testing::fresh_sqlite_path();
    let store = Store::connect(db.to_str().unwrap()).await.unwrap();
    assert_eq!(sqlite_writer_pragma(&store, "journal_mode").await, "wal");
    assert_eq!(
        sqlite_writer_pragma(&store, "synchronous").await,
        "2",
        "FULL is 2"
    );
    assert_eq!(
        sqlite_writer_pragma(&store, "temp_store").await,
        "2",
        "MEMORY is 2"
    );
    assert_eq!(sqlite_writer_pragma(&store, "foreign_keys").await, "1");
    drop(store);
    std::fs::remove_dir_all(db.parent().unwrap()).ok();
}
