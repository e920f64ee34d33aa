//! Helpers for Wharf's end-to-end tests: they drive the real `wharf` binary over loopback
//! HTTP, with real compiled plugins and a real database (SQLite by default; PostgreSQL when
//! `WHARF_TEST_DATABASE_URL` is set — see `wharf_store::testing`).
//!
//! Layout: [`paths`] finds the built binary and plugins; [`Wharf`] runs `wharf serve` as a
//! child process; [`Api`] is a small authenticated client; [`shopify`] sets up a whole
//! Shopify scenario; [`browser`] drives a headless Chromium over WebDriver.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub mod browser;
pub mod shopify;

pub mod paths {
    use std::path::PathBuf;

    pub fn workspace_root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ is in the workspace")
            .to_path_buf()
    }

    /// The `wharf` binary (`WHARF_BIN`, else `target/debug/wharf`, built by `cargo xtask test`).
    pub fn wharf_bin() -> PathBuf {
        let p = std::env::var_os("WHARF_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/debug/wharf"));
        assert!(
            p.exists(),
            "{} is missing: run the suite with `cargo xtask test`",
            p.display()
        );
        p
    }

    /// A built plugin component (`WHARF_PLUGIN_DIR`, else `target/wasm32-wasip2/release`).
    pub fn plugin(crate_name: &str) -> PathBuf {
        let dir = std::env::var_os("WHARF_PLUGIN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/wasm32-wasip2/release"));
        let p = dir.join(format!("{crate_name}.wasm"));
        assert!(
            p.exists(),
            "{} is missing: run `cargo xtask plugins` first",
            p.display()
        );
        p
    }

    pub fn shopify_manifest() -> PathBuf {
        workspace_root().join("plugins/shopify/manifest.json")
    }

    /// A first-party plugin's manifest, `plugins/<name>/manifest.json`.
    pub fn manifest(name: &str) -> PathBuf {
        workspace_root().join(format!("plugins/{name}/manifest.json"))
    }
}

/// The installation `consent` granting exactly what a first-party plugin's manifest
/// requests (its `hosts` and `secrets`), as a merchant would after reading them.
pub fn consent(plugin: &str) -> Value {
    let m: Value = serde_json::from_slice(&read(paths::manifest(plugin))).expect("manifest JSON");
    serde_json::json!({"hosts": m["hosts"], "secrets": m["secrets"]})
}

/// Run a `wharf` subcommand to completion and return its stdout (panics on failure).
pub fn wharf_cli(args: &[&str]) -> String {
    let out = Command::new(paths::wharf_bin())
        .args(args)
        .env("WHARF_LOG", "warn")
        .output()
        .expect("running wharf");
    assert!(
        out.status.success(),
        "wharf {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// A merchant created through the CLI.
pub struct MerchantAccount {
    pub id: i64,
    pub token: String,
}

pub fn create_merchant(db_url: &str, name: &str) -> MerchantAccount {
    let out = wharf_cli(&["create-merchant", "--database-url", db_url, name]);
    let v: Value = serde_json::from_str(out.trim()).expect("create-merchant prints JSON");
    MerchantAccount {
        id: v["merchant_id"].as_i64().unwrap(),
        token: v["token"].as_str().unwrap().to_string(),
    }
}

pub fn operator_token(db_url: &str) -> String {
    wharf_cli(&["create-operator-token", "--database-url", db_url])
        .trim()
        .to_string()
}

/// A running `wharf serve`, killed on drop.
pub struct Wharf {
    child: Child,
    pub base_url: String,
    pub db_url: String,
}

impl Wharf {
    /// Start `wharf serve` on a free loopback port with extra arguments (e.g. `--resolve`),
    /// in development mode (`--dev-mode`: unsigned plugin uploads are accepted).
    pub fn start(db_url: &str, extra: &[String]) -> Wharf {
        Self::start_on(db_url, "127.0.0.1:0", extra)
    }

    /// Start `wharf serve` in development mode listening on `listen` (e.g. the fixed
    /// address of a node being restarted after a crash).
    pub fn start_on(db_url: &str, listen: &str, extra: &[String]) -> Wharf {
        Self::spawn(db_url, listen, extra, true)
    }

    /// Start `wharf serve` as in production: no `--dev-mode`, so only packages signed by a
    /// key in `--trusted-keys` (pass it in `extra`) are accepted.
    pub fn start_production(db_url: &str, extra: &[String]) -> Wharf {
        Self::spawn(db_url, "127.0.0.1:0", extra, false)
    }

    /// Start another build of the server (e.g. the benchmark's `wharf-native-bench`) in
    /// development mode, like [`start`](Self::start).
    pub fn start_bin(bin: &std::path::Path, db_url: &str, extra: &[String]) -> Wharf {
        Self::spawn_bin(bin, db_url, "127.0.0.1:0", extra, true)
    }

    fn spawn(db_url: &str, listen: &str, extra: &[String], dev_mode: bool) -> Wharf {
        Self::spawn_bin(&paths::wharf_bin(), db_url, listen, extra, dev_mode)
    }

    fn spawn_bin(
        bin: &std::path::Path,
        db_url: &str,
        listen: &str,
        extra: &[String],
        dev_mode: bool,
    ) -> Wharf {
        let mut child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                listen,
                "--database-url",
                db_url,
                "--scheduler-tick-ms",
                "200",
            ])
            .args(dev_mode.then_some("--dev-mode"))
            .args(extra)
            .env(
                "WHARF_LOG",
                std::env::var("WHARF_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning wharf serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading wharf's first line");
        let base_url = line
            .trim()
            .strip_prefix("wharf listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from wharf serve: {line:?}"))
            .to_string();
        Wharf {
            child,
            base_url,
            db_url: db_url.to_string(),
        }
    }

    pub fn api(&self, token: &str) -> Api {
        Api {
            base: self.base_url.clone(),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// The process id (it appears in the lease owner of the jobs this node runs).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL the process (no graceful shutdown).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a graceful exit; returns whether it exited successfully.
    pub fn terminate(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Wharf {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bearer-authenticated JSON client for the admin API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET");
        Self::decode(r).await
    }

    /// GET a non-JSON resource (an export, a label): status, content type, body.
    pub async fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("POST");
        Self::decode(r).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("PUT");
        Self::decode(r).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("DELETE");
        Self::decode(r).await
    }

    /// POST a raw body with its content type (CSV imports and the like).
    pub async fn post_body(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        Self::decode(r).await
    }

    /// Upload a `.wharfpkg` package (the production upload).
    pub async fn upload_package(&self, package: Vec<u8>) -> (u16, Value) {
        self.post_body("/v1/plugins", "application/vnd.wharf.package", package)
            .await
    }

    /// Upload an unsigned manifest + component (multipart): accepted in dev mode only.
    pub async fn upload_plugin(&self, manifest: Vec<u8>, component: Vec<u8>) -> (u16, Value) {
        let form = reqwest::multipart::Form::new()
            .part("manifest", reqwest::multipart::Part::bytes(manifest))
            .part("component", reqwest::multipart::Part::bytes(component));
        let r = self
            .http
            .post(format!("{}/v1/plugins", self.base))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        Self::decode(r).await
    }

    /// Every order of the merchant, following `next` tokens.
    pub async fn all_orders(&self, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let sep = if query.is_empty() { "" } else { "&" };
            let path = match &after {
                Some(a) => format!("/v1/orders?limit=7{sep}{query}&after={a}"),
                None => format!("/v1/orders?limit=7{sep}{query}"),
            };
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{page}");
            out.extend(
                page["orders"]
                    .as_array()
                    .expect("orders array")
                    .iter()
                    .cloned(),
            );
            match page["next"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => return out,
            }
        }
    }

    async fn decode(r: reqwest::Response) -> (u16, Value) {
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }
}

/// Poll `f` until it returns `Some`, up to `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
