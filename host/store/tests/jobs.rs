//! The durable job queue: unique keys, leases, fencing, retries, dead letters, re-drive —
//! on SQLite and (with `WHARF_TEST_DATABASE_URL`) PostgreSQL.

mod common;

use std::collections::HashSet;

use wharf_store::{NewJob, Store, StoreError};

fn job(merchant: i64, key: Option<&str>) -> NewJob {
    NewJob {
        merchant_id: Some(merchant),
        installation_id: None,
        kind: "pull".into(),
        payload: serde_json::json!({"n": 1}),
        unique_key: key.map(str::to_string),
        run_at: 0,
    }
}

async fn merchant(store: &Store) -> i64 {
    store.create_merchant("m").await.unwrap().id
}

// A unique key admits one active job; a finished one frees the key.
#[tokio::test]
async fn unique_key_allows_one_active_job() {
    let store = common::store().await;
    let m = merchant(&store).await;
    let first = store.enqueue(job(m, Some("pull:1"))).await.unwrap();
    assert!(first.is_some());
    assert_eq!(
        store.enqueue(job(m, Some("pull:1"))).await.unwrap(),
        None,
        "duplicate while queued"
    );
    let claimed = store.claim_jobs("a", 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        store.enqueue(job(m, Some("pull:1"))).await.unwrap(),
        None,
        "duplicate while running"
    );
    assert!(store.complete_job(claimed[0].id, "a").await.unwrap());
    assert!(
        store
            .enqueue(job(m, Some("pull:1")))
            .await
            .unwrap()
            .is_some(),
        "key free after completion"
    );
    assert!(store.enqueue(job(m, None)).await.unwrap().is_some());
    assert!(
        store.enqueue(job(m, None)).await.unwrap().is_some(),
        "keyless jobs never collide"
    );
}

// Concurrent claimers never get the same job.
#[tokio::test]
async fn concurrent_claims_are_disjoint() {
    let store = common::store().await;
    let m = merchant(&store).await;
    for _ in 0..40 {
        store.enqueue(job(m, None)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_jobs(&format!("node{i}"), 60_000, 3)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    assert_eq!(total, 40);
}

// A job whose lease expired is taken over, and the old owner can no longer settle it.
#[tokio::test]
async fn expired_leases_are_taken_over_and_fence_the_old_owner() {
    let store = common::store().await;
    let m = merchant(&store).await;
    let id = store.enqueue(job(m, Some("k"))).await.unwrap().unwrap();
    let a = store.claim_jobs("a", 1, 1).await.unwrap();
    assert_eq!(a[0].id, id);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let b = store.claim_jobs("b", 60_000, 1).await.unwrap();
    assert_eq!(b.len(), 1, "expired lease taken over");
    assert_eq!(b[0].runs, 2);
    assert!(
        !store.complete_job(id, "a").await.unwrap(),
        "old owner is fenced off"
    );
    assert!(!store.extend_lease(id, "a", 60_000).await.unwrap());
    assert!(store.extend_lease(id, "b", 60_000).await.unwrap());
    assert!(store.complete_job(id, "b").await.unwrap());
    assert!(
        store.claim_jobs("c", 60_000, 1).await.unwrap().is_empty(),
        "done jobs are not claimed"
    );
}

// Retries wait for their time and count attempts; dead jobs can be re-driven once, by
// their merchant only.
#[tokio::test]
async fn retries_dead_letters_and_redrive() {
    let store = common::store().await;
    let m = merchant(&store).await;
    let other = merchant(&store).await;
    let id = store.enqueue(job(m, Some("x"))).await.unwrap().unwrap();
    store.claim_jobs("a", 60_000, 1).await.unwrap();
    let later = i64::MAX / 2;
    assert!(store
        .retry_job(id, "a", later, true, "transient", "HTTP 503")
        .await
        .unwrap());
    assert!(
        store.claim_jobs("a", 60_000, 1).await.unwrap().is_empty(),
        "not due yet"
    );
    let j = store.get_job(m, id).await.unwrap().unwrap();
    assert_eq!(
        (j.state.as_str(), j.attempts, j.last_error.as_deref()),
        ("queued", 1, Some("HTTP 503"))
    );
    // A rate-limit wait does not count as an attempt.
    assert!(store
        .retry_job(id, "nobody", 0, false, "rate_limited", "429")
        .await
        .is_ok());
    assert_eq!(
        store.get_job(m, id).await.unwrap().unwrap().attempts,
        1,
        "fenced: not running"
    );

    let id2 = store.enqueue(job(m, Some("y"))).await.unwrap().unwrap();
    store.claim_jobs("a", 60_000, 1).await.unwrap();
    assert!(store
        .dead_letter_job(id2, "a", "permanent", "gone")
        .await
        .unwrap());
    let dead = store.list_jobs(m, Some("dead"), 10).await.unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id2]);
    assert!(
        store.list_jobs(other, None, 10).await.unwrap().is_empty(),
        "jobs are merchant-scoped"
    );
    assert!(matches!(
        store.redrive_job(other, id2).await,
        Err(StoreError::NotFound(_))
    ));
    let j = store.redrive_job(m, id2).await.unwrap();
    assert_eq!((j.state.as_str(), j.attempts), ("queued", 0));
    assert!(
        matches!(
            store.redrive_job(m, id2).await,
            Err(StoreError::Conflict(_))
        ),
        "not dead any more"
    );
    let counts = store.job_counts().await.unwrap();
    assert_eq!(
        counts
            .iter()
            .filter(|c| c.state == "queued")
            .map(|c| c.count)
            .sum::<i64>(),
        2
    );
}
