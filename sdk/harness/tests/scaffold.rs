//! `wharf plugin new`: the scaffolded crate builds for wasm32-wasip2 with cargo (shared
//! target dir) and passes the acceptance suite out of the box from its own fixtures.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use wharf_domain::manifest::PluginKind;
use wharf_harness::fixtures::{WebhookFixture, WEBHOOK_FILE};
use wharf_harness::scaffold::{component_file_name, scaffold, ScaffoldSpec, SdkSource};
use wharf_harness::{run_suite, Status, SuiteHttp, SuiteSpec};

/// Scaffold `name` into a scratch dir inside the target dir and build it in release for
/// wasm32-wasip2; the crate dir and the component path.
fn scaffold_and_build(name: &str) -> (PathBuf, PathBuf) {
    scaffold_kind_and_build(PluginKind::Marketplace, name)
}

/// [`scaffold_and_build`] for a plugin of `kind`.
fn scaffold_kind_and_build(kind: PluginKind, name: &str) -> (PathBuf, PathBuf) {
    let root = support::scratch(&format!("scaffold-{name}"));
    let dir = root.join(name);
    scaffold(&ScaffoldSpec {
        kind,
        name: name.into(),
        dir: dir.clone(),
        sdk: SdkSource::Path(support::workspace_root().join("sdk/guest")),
    })
    .unwrap();
    // The workspace's lock file pins the same dependency versions the SDK is tested with
    // (and lets the build reuse compiled dependencies).
    std::fs::copy(
        support::workspace_root().join("Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&dir)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", support::target_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building the scaffold failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = support::target_dir()
        .join("wasm32-wasip2/release")
        .join(component_file_name(name));
    assert!(wasm.exists(), "{} was not built", wasm.display());
    (dir, wasm)
}

fn spec(dir: &Path, wasm: PathBuf, http: SuiteHttp) -> SuiteSpec {
    SuiteSpec {
        component: wasm,
        manifest: dir.join("manifest.json"),
        fixtures: dir.join("fixtures"),
        http,
    }
}

// A freshly scaffolded plugin builds and passes every check of the suite, no skips.
#[tokio::test]
async fn scaffolded_plugin_builds_and_passes_the_suite() {
    let (dir, wasm) = scaffold_and_build("harness-scaffold-check");
    let report = run_suite(&spec(&dir, wasm, SuiteHttp::Replay))
        .await
        .unwrap();
    let text = report.render();
    assert!(report.passed(), "{text}");
    assert_eq!(report.count(Status::Skip), 0, "{text}");
    assert_eq!(report.count(Status::Pass), 13, "{text}");
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

// Regenerates the template's recorded fixtures from the example platform (run on purpose,
// then commit sdk/harness/templates/marketplace/fixtures).
#[tokio::test]
#[ignore = "rewrites the committed template fixtures: run with --ignored to regenerate"]
async fn regenerate_template_fixtures() {
    let (dir, wasm) = scaffold_and_build("harness-scaffold-record");
    let fixtures = dir.join("fixtures");
    let addr = support::example_platform::start(7).await;
    let order = support::example_platform::order(6);
    let (headers, body) = support::example_platform::delivery(&order, "dlv-0001");
    let hook = WebhookFixture {
        headers,
        body: Some(body),
        body_base64: None,
    };
    support::shopify::write_json(
        &fixtures.join(WEBHOOK_FILE),
        &serde_json::to_value(&hook).unwrap(),
    );
    let report = run_suite(&spec(
        &dir,
        wasm,
        SuiteHttp::Record {
            resolve: vec![(support::example_platform::HOST.to_string(), addr)],
        },
    ))
    .await
    .unwrap();
    assert!(report.passed(), "{}", report.render());
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/marketplace/fixtures");
    for f in ["cassette.json", WEBHOOK_FILE] {
        std::fs::copy(fixtures.join(f), template.join(f)).unwrap();
    }
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

/// Scaffold, build and run the suite of a courier or accounting plugin from its committed
/// fixtures; every check must pass, none skipped, `want` of them in all.
async fn kind_passes(kind: PluginKind, name: &str, want: usize) {
    let (dir, wasm) = scaffold_kind_and_build(kind, name);
    let report = run_suite(&spec(&dir, wasm, SuiteHttp::Replay))
        .await
        .unwrap();
    let text = report.render();
    assert!(report.passed(), "{text}");
    assert_eq!(report.count(Status::Skip), 0, "{text}");
    assert_eq!(report.count(Status::Pass), want, "{text}");
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

// A scaffolded courier builds and passes its suite: quote, create-waybill and track against
// the template's cassette, errors mapped, within budget.
#[tokio::test]
async fn scaffolded_courier_builds_and_passes_the_suite() {
    kind_passes(PluginKind::Courier, "harness-courier-check", 10).await;
}

// A scaffolded accounting plugin builds and passes its suite: the balanced journal posts,
// the unbalanced one is refused by the plugin's own code, errors mapped, within budget.
#[tokio::test]
async fn scaffolded_accounting_builds_and_passes_the_suite() {
    kind_passes(PluginKind::Accounting, "harness-ledger-check", 9).await;
}

/// Record a kind's template fixtures from its example API and copy the cassette into the
/// template.
async fn regenerate_kind(kind: PluginKind, name: &str, template: &str, addr: std::net::SocketAddr) {
    let (dir, wasm) = scaffold_kind_and_build(kind, name);
    let report = run_suite(&spec(
        &dir,
        wasm,
        SuiteHttp::Record {
            resolve: vec![(support::example_carrier::HOST.to_string(), addr)],
        },
    ))
    .await
    .unwrap();
    assert!(report.passed(), "{}", report.render());
    let to = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("templates")
        .join(template)
        .join("fixtures/cassette.json");
    std::fs::copy(dir.join("fixtures/cassette.json"), to).unwrap();
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

// Regenerates the courier and accounting templates' cassettes from the example carrier
// and ERP (run on purpose, then commit sdk/harness/templates/{courier,accounting}/fixtures).
#[tokio::test]
#[ignore = "rewrites the committed template cassettes: run with --ignored to regenerate"]
async fn regenerate_courier_and_accounting_fixtures() {
    let carrier = support::example_carrier::start_carrier().await;
    regenerate_kind(
        PluginKind::Courier,
        "harness-courier-record",
        "courier",
        carrier,
    )
    .await;
    let ledger = support::example_carrier::start_ledger().await;
    regenerate_kind(
        PluginKind::Accounting,
        "harness-ledger-record",
        "accounting",
        ledger,
    )
    .await;
}
