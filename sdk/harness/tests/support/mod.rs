//! Shared helpers of the harness tests: paths to built plugins and the `wharf` binary,
//! fixture recorders (Shopify simulator, the scaffold's example platform), temp dirs.
#![allow(dead_code)]

pub mod example_carrier;
pub mod example_platform;
pub mod shopify;
pub mod woocommerce;

use std::path::{Path, PathBuf};

/// Every check of the marketplace suite, in report order.
pub const MARKETPLACE_CHECKS: [&str; 13] = [
    "manifest",
    "config",
    "describe",
    "webhook.good",
    "webhook.bad",
    "pull.pages",
    "pull.incremental",
    "pull.future_cursor",
    "get_order",
    "errors.401",
    "errors.429",
    "errors.5xx",
    "budget",
];

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// The shared target directory (`CARGO_TARGET_DIR`, else `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A built plugin component; panics (never skips) when missing.
pub fn plugin(crate_name: &str) -> PathBuf {
    let dir = std::env::var_os("WHARF_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("wasm32-wasip2/release"));
    let p = dir.join(format!("{crate_name}.wasm"));
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask plugins` first",
        p.display()
    );
    p
}

/// The `wharf` binary (`WHARF_BIN`, else `target/debug/wharf`).
pub fn wharf_bin() -> PathBuf {
    let p = std::env::var_os("WHARF_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/wharf"));
    assert!(
        p.exists(),
        "{} is missing: `cargo build -p wharf-server --bin wharf` (cargo xtask test does it)",
        p.display()
    );
    p
}

/// A fresh, empty directory under the target dir, named for the test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = target_dir()
        .join("harness-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

pub fn shopify_manifest() -> PathBuf {
    workspace_root().join("plugins/shopify/manifest.json")
}

pub fn shopify_fixtures() -> PathBuf {
    workspace_root().join("plugins/shopify/fixtures")
}

/// Capture one HTTP POST on `127.0.0.1:0`: its headers and body.
pub mod capture {
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use axum::routing::post;
    use axum::Router;

    pub type Captured = Arc<Mutex<Option<(Vec<(String, String)>, Vec<u8>)>>>;

    pub async fn start() -> (String, Captured) {
        let seen: Captured = Arc::default();
        let s = seen.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let s = s.clone();
                async move {
                    let h = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                        .collect();
                    *s.lock().unwrap() = Some((h, body.to_vec()));
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/hook"), seen)
    }
}
