//! Durable jobs end to end: pulls run as leased jobs whose failures are retried by policy,
//! dead-lettered when retries run out, re-drivable from the API, and steered by the error
//! kind (rate limits wait, rejected credentials suspend the installation).

use std::time::Duration;

use serde_json::{json, Value};
use wharf_tests::eventually;
use wharf_tests::shopify::{install_body, setup, wait_for_orders, Ctx};

/// A second installation of the same shop whose first pull meets the failures the test
/// injected; returns its id once the first installation is disabled.
async fn fresh_installation(ctx: &Ctx, shop: &str) -> i64 {
    ctx.merchant
        .post(
            &format!("/v1/installations/{}/disable", ctx.installation),
            json!({}),
        )
        .await;
    let mut body = install_body(&ctx.sim, ctx.plugin_id, &[wharf_tests::shopify::SHOP]);
    body["shop"] = json!(shop);
    let (status, inst) = ctx.merchant.post("/v1/installations", body).await;
    assert_eq!(status, 201, "{inst}");
    inst["id"].as_i64().unwrap()
}

async fn pull_job(ctx: &Ctx, installation: i64, state: &str) -> Value {
    let found = eventually(Duration::from_secs(30), || async {
        let (_, jobs) = ctx.merchant.get(&format!("/v1/jobs?state={state}")).await;
        jobs.as_array()?
            .iter()
            .find(|j| j["installation_id"] == installation && j["kind"] == "pull")
            .cloned()
    })
    .await;
    found.unwrap_or_else(|| {
        panic!("no {state} pull job for installation {installation} within 30 s")
    })
}

/// Two 503s in a row are retried after the policy's delays; the third attempt succeeds
/// and every order arrives.
#[tokio::test]
async fn a_failing_pull_is_retried_until_it_succeeds() {
    let ctx = setup(&["--retry-delays-secs", "1,1"], 3).await;
    wait_for_orders(&ctx.merchant, 3).await;
    ctx.sim.fail_next(2, 503);
    let id = fresh_installation(&ctx, "retry.myshopify.com").await;
    let job = pull_job(&ctx, id, "done").await;
    assert_eq!(
        job["attempts"], 2,
        "two failed attempts used two retries: {job}"
    );
    assert_eq!(job["runs"], 3, "{job}");
    assert_eq!(job["last_error_code"], "transient", "{job}");
    let orders = ctx
        .merchant
        .all_orders(&format!("installation_id={id}"))
        .await;
    assert_eq!(orders.len(), 3);
}

/// When retries run out the job is dead-lettered with its last error; once the platform
/// recovers, a re-drive from the API completes it. (The pull kind's own policy — one retry
/// after 1 s — overrides the default of 1, 5, 15 minutes.)
#[tokio::test]
async fn exhausted_retries_dead_letter_and_redrive_completes() {
    let ctx = setup(&["--retry-policy", "pull=1"], 2).await;
    wait_for_orders(&ctx.merchant, 2).await;
    ctx.sim.fail_next(2, 502);
    let id = fresh_installation(&ctx, "dead.myshopify.com").await;
    let dead = pull_job(&ctx, id, "dead").await;
    assert_eq!(dead["last_error_code"], "transient", "{dead}");
    assert!(
        dead["last_error"].as_str().unwrap().contains("502"),
        "{dead}"
    );
    assert!(ctx
        .merchant
        .all_orders(&format!("installation_id={id}"))
        .await
        .is_empty());

    let job_id = dead["id"].as_i64().unwrap();
    let (status, redriven) = ctx
        .merchant
        .post(&format!("/v1/jobs/{job_id}/redrive"), json!({}))
        .await;
    assert_eq!(status, 200, "{redriven}");
    let done = eventually(Duration::from_secs(30), || async {
        let (_, job) = ctx.merchant.get(&format!("/v1/jobs/{job_id}")).await;
        (job["state"] == "done").then_some(job)
    })
    .await;
    assert!(done.is_some(), "the re-driven job completed");
    assert_eq!(
        ctx.merchant
            .all_orders(&format!("installation_id={id}"))
            .await
            .len(),
        2
    );
    let (status, _) = ctx
        .merchant
        .post(&format!("/v1/jobs/{job_id}/redrive"), json!({}))
        .await;
    assert_eq!(status, 409, "only dead jobs can be re-driven");
    // Another merchant can neither see nor re-drive it.
    assert_eq!(
        ctx.other_merchant
            .get(&format!("/v1/jobs/{job_id}"))
            .await
            .0,
        404
    );
    assert_eq!(
        ctx.other_merchant
            .post(&format!("/v1/jobs/{job_id}/redrive"), json!({}))
            .await
            .0,
        404
    );
}

/// A 429 waits for Retry-After without using up a retry; the job then succeeds.
#[tokio::test]
async fn a_rate_limited_pull_waits_without_using_a_retry() {
    let ctx = setup(&["--retry-delays-secs", "1"], 2).await;
    wait_for_orders(&ctx.merchant, 2).await;
    ctx.sim.fail_next(2, 429);
    let id = fresh_installation(&ctx, "limited.myshopify.com").await;
    let job = pull_job(&ctx, id, "done").await;
    assert_eq!(
        job["attempts"], 0,
        "rate limits do not count as failed attempts: {job}"
    );
    assert_eq!(job["runs"], 3, "{job}");
    assert_eq!(job["last_error_code"], "rate_limited", "{job}");
    assert_eq!(
        ctx.merchant
            .all_orders(&format!("installation_id={id}"))
            .await
            .len(),
        2
    );
}

/// Rejected credentials dead-letter the job at once and suspend the installation, with a
/// reason the merchant can read.
#[tokio::test]
async fn rejected_credentials_suspend_the_installation() {
    let ctx = setup(&["--retry-delays-secs", "1,1,1"], 1).await;
    wait_for_orders(&ctx.merchant, 1).await;
    ctx.sim.fail_next(1, 401);
    let id = fresh_installation(&ctx, "revoked.myshopify.com").await;
    let dead = pull_job(&ctx, id, "dead").await;
    assert_eq!(dead["last_error_code"], "unauthorized", "{dead}");
    assert_eq!(
        dead["runs"], 1,
        "no retry with rejected credentials: {dead}"
    );
    let (_, inst) = ctx.merchant.get(&format!("/v1/installations/{id}")).await;
    assert_eq!(inst["enabled"], false, "{inst}");
    assert!(
        inst["last_error"]
            .as_str()
            .unwrap()
            .contains("credentials rejected"),
        "{inst}"
    );
}

/// Bad job queries are refused.
#[tokio::test]
async fn job_queries_are_validated() {
    let ctx = setup(&[], 0).await;
    assert_eq!(ctx.merchant.get("/v1/jobs?state=zombie").await.0, 400);
    assert_eq!(ctx.operator.get("/v1/jobs").await.0, 403);
}

/// Repeated failures open the installation's circuit breaker: calls are suspended for the
/// back-off (the job waits without calling the platform), the reason is shown, and the
/// breaker closes by itself when a call succeeds again.
#[tokio::test]
async fn the_circuit_breaker_opens_after_repeated_failures_and_recovers() {
    let ctx = setup(
        &[
            "--retry-delays-secs",
            "1,1,1,1",
            "--breaker-threshold",
            "2",
            "--breaker-backoff-secs",
            "3",
        ],
        2,
    )
    .await;
    wait_for_orders(&ctx.merchant, 2).await;
    ctx.sim.fail_next(2, 503);
    let before = ctx.sim.requests();
    let id = fresh_installation(&ctx, "flaky.myshopify.com").await;
    let open = eventually(Duration::from_secs(20), || async {
        let (_, inst) = ctx.merchant.get(&format!("/v1/installations/{id}")).await;
        inst["breaker"]["open_until"].as_i64().map(|_| inst)
    })
    .await
    .expect("the breaker opened");
    assert!(
        open["breaker"]["reason"]
            .as_str()
            .unwrap()
            .contains("2 failed calls in a row"),
        "{open}"
    );

    let job = pull_job(&ctx, id, "done").await;
    assert_eq!(job["attempts"], 2, "{job}");
    assert!(
        job["runs"].as_i64().unwrap() >= 4,
        "a postponed run while open: {job}"
    );
    assert_eq!(
        ctx.sim.requests() - before,
        3,
        "two failures and one success; nothing while the breaker was open"
    );
    let (_, inst) = ctx.merchant.get(&format!("/v1/installations/{id}")).await;
    assert_eq!(inst["breaker"]["consecutive_failures"], 0, "{inst}");
    assert!(
        inst["breaker"]["open_until"].is_null(),
        "closed again: {inst}"
    );
    let (_, logs) = ctx
        .merchant
        .get(&format!("/v1/installations/{id}/logs"))
        .await;
    assert!(
        logs.to_string().contains("circuit breaker opened"),
        "{logs}"
    );
    assert_eq!(
        ctx.merchant
            .all_orders(&format!("installation_id={id}"))
            .await
            .len(),
        2
    );
}
