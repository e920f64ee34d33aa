//! The Shopify connector passes the acceptance suite: from the committed fixtures (replay,
//! offline) and from a fresh recording against the Shopify simulator.

mod support;

use wharf_harness::{run_suite, Status, SuiteHttp, SuiteSpec};

use support::MARKETPLACE_CHECKS as ALL_CHECKS;

fn spec(fixtures: std::path::PathBuf) -> SuiteSpec {
    SuiteSpec {
        component: support::plugin("wharf_plugin_shopify"),
        manifest: support::shopify_manifest(),
        fixtures,
        http: SuiteHttp::Replay,
    }
}

// Replaying the committed fixtures, every check of the suite passes (none skipped).
#[tokio::test]
async fn shopify_passes_the_suite_from_committed_fixtures() {
    let report = run_suite(&spec(support::shopify_fixtures())).await.unwrap();
    let text = report.render();
    for name in ALL_CHECKS {
        let c = report
            .check(name)
            .unwrap_or_else(|| panic!("no {name} in\n{text}"));
        assert_eq!(c.status, Status::Pass, "{name}\n{text}");
    }
    assert!(report.passed(), "{text}");
}

// Recording live from the simulator passes, the cassette holds no secret values, and the
// recording replays to the same verdicts offline.
#[tokio::test]
async fn a_fresh_recording_from_the_simulator_passes_and_replays() {
    let dir = support::scratch("shopify-record");
    let recorded = support::shopify::record_fixtures(&dir).await;
    assert!(recorded.passed(), "{}", recorded.render());
    let cassette = std::fs::read_to_string(dir.join("cassette.json")).unwrap();
    assert!(
        cassette.contains("/admin/api/2024-04/orders.json"),
        "pulls were recorded"
    );
    let fixtures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("fixtures.json")).unwrap()).unwrap();
    let token = fixtures["secrets"]["access_token"].as_str().unwrap();
    assert!(
        !cassette.contains(token),
        "the access token is masked in the cassette"
    );
    let replayed = run_suite(&spec(dir.clone())).await.unwrap();
    assert!(replayed.passed(), "{}", replayed.render());
    assert_eq!(
        replayed.count(Status::Pass),
        ALL_CHECKS.len(),
        "{}",
        replayed.render()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// A replay that misses a request fails loudly: with an empty cassette the pulls fail and
// the report names the unrecorded request.
#[tokio::test]
async fn an_unrecorded_request_fails_the_pull_checks() {
    let dir = support::scratch("shopify-empty-cassette");
    support::copy_dir(&support::shopify_fixtures(), &dir);
    std::fs::write(
        dir.join("cassette.json"),
        r#"{"version": 1, "interactions": []}"#,
    )
    .unwrap();
    let report = run_suite(&spec(dir.clone())).await.unwrap();
    let pages = report.check("pull.pages").unwrap();
    assert_eq!(pages.status, Status::Fail, "{}", report.render());
    assert!(
        pages.detail.contains("unrecorded request GET"),
        "{}",
        pages.detail
    );
    assert!(
        report.title.contains("not in the cassette"),
        "{}",
        report.title
    );
    assert!(!report.passed());
    std::fs::remove_dir_all(&dir).unwrap();
}

// Regenerates plugins/shopify/fixtures from the simulator (run on purpose, then commit).
#[tokio::test]
#[ignore = "rewrites the committed plugins/shopify/fixtures: run with --ignored to regenerate"]
async fn regenerate_shopify_fixtures() {
    let dir = support::shopify_fixtures();
    std::fs::create_dir_all(&dir).unwrap();
    let report = support::shopify::record_fixtures(&dir).await;
    assert!(report.passed(), "{}", report.render());
}
