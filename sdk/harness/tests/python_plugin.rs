//! The WooCommerce connector written in Python (`plugins/woocommerce-py`, built with
//! componentize-py by `cargo xtask plugins`) passes the same acceptance suite as the Rust
//! connectors, recorded live from the WooCommerce simulator and replayed offline, and
//! translates exactly like the Rust WooCommerce connector on the same platform traffic.

mod support;

use wharf_harness::fixtures::Fixtures;
use wharf_harness::session::load_manifest;
use wharf_harness::{run_suite, HttpMode, Installation, Session, Status, SuiteHttp, SuiteSpec};
use wharf_runtime::{CallOptions, FrozenClock, RuntimeConfig};

use support::woocommerce as woo;

use support::MARKETPLACE_CHECKS as ALL_CHECKS;

fn python() -> std::path::PathBuf {
    support::plugin("wharf_plugin_woocommerce_py")
}

// Recording from the simulator, every check passes (none skipped); the cassette holds no
// secret; and the recording replays offline to the same 13 passes.
#[tokio::test]
async fn the_python_connector_passes_the_suite_live_and_replayed() {
    let sim = woo::simulator().await;
    let dir = support::scratch("woocommerce-py-record");
    let recorded =
        woo::record_fixtures(&sim, &dir, python(), woo::manifest("woocommerce-py")).await;
    let text = recorded.render();
    for name in ALL_CHECKS {
        let c = recorded
            .check(name)
            .unwrap_or_else(|| panic!("no {name} in\n{text}"));
        assert_eq!(c.status, Status::Pass, "{name}\n{text}");
    }
    let cassette = std::fs::read_to_string(dir.join("cassette.json")).unwrap();
    assert!(
        cassette.contains("/wp-json/wc/v3/orders"),
        "pulls were recorded"
    );
    let cfg = sim.config();
    assert!(
        !cassette.contains(&cfg.consumer_secret) && !cassette.contains(&cfg.consumer_key),
        "the API keys are masked in the cassette"
    );
    let replayed = run_suite(&SuiteSpec {
        component: python(),
        manifest: woo::manifest("woocommerce-py"),
        fixtures: dir.clone(),
        http: SuiteHttp::Replay,
    })
    .await
    .unwrap();
    assert_eq!(
        replayed.count(Status::Pass),
        ALL_CHECKS.len(),
        "{}",
        replayed.render()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Pull every page from no cursor with `component` over the cassette in `dir`.
async fn pull_all(
    component: &std::path::Path,
    manifest: &str,
    dir: &std::path::Path,
) -> Vec<String> {
    let fixtures = Fixtures::load(dir).unwrap();
    let manifest = load_manifest(&woo::manifest(manifest)).unwrap();
    let (inst, check) = Installation::from_json(
        &manifest,
        &fixtures.spec.config,
        fixtures.spec.secrets.clone(),
        fixtures.spec.grants.clone(),
    );
    check.unwrap();
    let traffic = wharf_harness::traffic::Traffic::open(
        &HttpMode::Replay(fixtures.cassette_path()),
        wharf_harness::cassette::Masker::new(&inst.secrets),
        inst.egress(&manifest),
    )
    .unwrap();
    let opts = CallOptions {
        transport: traffic.transport(),
        clock: Some(FrozenClock::at(fixtures.clock_ms)),
    };
    let bytes = std::fs::read(component).unwrap();
    let session = Session::new(&bytes, manifest, &inst, RuntimeConfig::default(), opts).unwrap();
    let mut pages = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let page = session.pull_orders(cursor.clone()).await.0.unwrap();
        pages.push(format!("{page:?}"));
        if page.cursor.is_some() {
            cursor = page.cursor.clone();
        }
        if !page.more {
            return pages;
        }
    }
    panic!("paging did not end");
}

// Over the very same recorded platform answers, the Rust and the Python connectors send
// the same requests (the cassette of one replays for the other) and return identical pages:
// every order, amount, status, cursor and `more`.
#[tokio::test]
async fn python_and_rust_connectors_translate_identically() {
    let sim = woo::simulator().await;
    let dir = support::scratch("woocommerce-py-vs-rust");
    let recorded =
        woo::record_fixtures(&sim, &dir, python(), woo::manifest("woocommerce-py")).await;
    assert!(recorded.passed(), "{}", recorded.render());
    let py = pull_all(&python(), "woocommerce-py", &dir).await;
    let rust = pull_all(
        &support::plugin("wharf_plugin_woocommerce"),
        "woocommerce",
        &dir,
    )
    .await;
    assert!(py.len() > 1, "several pages were compared: {}", py.len());
    assert_eq!(py.len(), rust.len(), "same number of pages");
    for (i, (p, r)) in py.iter().zip(&rust).enumerate() {
        assert_eq!(p, r, "page {i} differs");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
