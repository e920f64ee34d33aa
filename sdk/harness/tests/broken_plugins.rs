//! Broken plugins fail the suite with the right failing checks: the hostile test plugin
//! accepts any webhook signature and ignores platform errors, and a spinning plugin blows
//! its instruction budget. The `wharf plugin test` command exits non-zero for them.

mod support;

use std::path::PathBuf;
use std::process::Command;

use wharf_harness::{run_suite, Status, SuiteHttp, SuiteSpec};

fn hostile_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile")
}

fn hostile_spec(fixtures: PathBuf) -> SuiteSpec {
    SuiteSpec {
        component: support::plugin("wharf_plugin_hostile"),
        manifest: support::workspace_root().join("tests/plugins/hostile/manifest.json"),
        fixtures,
        http: SuiteHttp::Replay,
    }
}

// A plugin that accepts a tampered webhook and maps no HTTP error fails exactly those
// checks; the checks it does satisfy still pass.
#[tokio::test]
async fn hostile_plugin_fails_signature_and_error_checks() {
    let report = run_suite(&hostile_spec(hostile_fixtures())).await.unwrap();
    let text = report.render();
    let status = |name: &str| {
        report
            .check(name)
            .unwrap_or_else(|| panic!("{name}\n{text}"))
            .status
    };
    for failing in [
        "webhook.bad",
        "errors.401",
        "errors.429",
        "errors.5xx",
        "pull.future_cursor",
    ] {
        assert_eq!(status(failing), Status::Fail, "{failing}\n{text}");
    }
    for passing in [
        "manifest",
        "config",
        "describe",
        "webhook.good",
        "pull.pages",
        "budget",
    ] {
        assert_eq!(status(passing), Status::Pass, "{passing}\n{text}");
    }
    assert!(report
        .check("webhook.bad")
        .unwrap()
        .detail
        .contains("must be invalid-signature"));
    assert!(!report.passed());
}

// A plugin that spins fails the pull and the budget check: it ran out of fuel.
#[tokio::test]
async fn a_spinning_plugin_fails_the_budget() {
    let dir = support::scratch("hostile-loop");
    support::copy_dir(&hostile_fixtures(), &dir);
    let spec_path = dir.join("fixtures.json");
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&spec_path).unwrap()).unwrap();
    spec["config"]["mode"] = "loop".into();
    spec["budget"]["fuel"] = 20_000_000u64.into();
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let report = run_suite(&hostile_spec(dir.clone())).await.unwrap();
    let budget = report.check("budget").unwrap();
    assert_eq!(budget.status, Status::Fail, "{}", report.render());
    assert!(
        budget.detail.contains("ran out of fuel"),
        "{}",
        budget.detail
    );
    assert_eq!(report.check("pull.pages").unwrap().status, Status::Fail);
    std::fs::remove_dir_all(&dir).unwrap();
}

// `wharf plugin test` prints the report and exits non-zero when a check fails, and zero
// for the Shopify plugin.
#[test]
fn the_cli_exit_code_follows_the_verdict() {
    let wharf = support::wharf_bin();
    let out = Command::new(&wharf)
        .args(["plugin", "test"])
        .arg(support::plugin("wharf_plugin_hostile"))
        .arg("--manifest")
        .arg(support::workspace_root().join("tests/plugins/hostile/manifest.json"))
        .arg("--fixtures")
        .arg(hostile_fixtures())
        .env("WHARF_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  webhook.bad"), "{stdout}");
    assert!(stdout.contains("result: FAIL"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("check(s) failed"));

    let out = Command::new(&wharf)
        .args(["plugin", "test"])
        .arg(support::plugin("wharf_plugin_shopify"))
        .arg("--manifest")
        .arg(support::shopify_manifest())
        .arg("--fixtures")
        .arg(support::shopify_fixtures())
        .env("WHARF_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("result: PASS — 13 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
}
