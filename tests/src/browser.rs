//! A headless Chromium driven over the W3C WebDriver protocol (ChromeDriver, spoken with
//! the workspace's `reqwest`: sessions, elements, clicks, keys, scripts, screenshots), for
//! the warehouse page's end-to-end tests. Chromium and ChromeDriver are Debian's packages
//! (`/usr/bin/chromium`, `/usr/bin/chromedriver`); a missing one fails the test with the
//! command that installs it. Each [`Browser`] has its own ChromeDriver on a free loopback
//! port and its own fresh profile directory, both removed on drop. The viewport is a
//! phone's: 375 × 812 CSS pixels at device pixel ratio 1.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The phone viewport the page is tested at.
pub const VIEWPORT_WIDTH: u32 = 375;
pub const VIEWPORT_HEIGHT: u32 = 812;

/// How long a page element may take to show what the test waits for.
const WAIT: Duration = Duration::from_secs(15);

/// The WebDriver key code of Enter.
pub const ENTER: char = '\u{E007}';
/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`
    session: String,
    driver: Child,
    profile: PathBuf,
}

/// A WebDriver error answer (e.g. `no such element`).
#[derive(Debug)]
pub struct DriverError {
    pub error: String,
    pub message: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn require(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the warehouse page tests need Debian's Chromium and ChromeDriver. \
         Install them with `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
         chromium chromium-driver` (.ci/run does this)"
    );
}

impl Browser {
    /// Start ChromeDriver and a headless Chromium with a new profile under `dir`.
    pub async fn start(dir: &Path) -> Browser {
        require(CHROMEDRIVER);
        require(CHROMIUM);
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let ready = crate::eventually(Duration::from_secs(20), || async {
            let r = http.get(format!("{base}/status")).send().await.ok()?;
            let v: Value = r.json().await.ok()?;
            v["value"]["ready"].as_bool().filter(|r| *r)
        })
        .await;
        let profile = dir.join(format!("chromium-profile-{port}"));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let mut b = Browser {
            http,
            session: String::new(),
            driver,
            profile,
        };
        assert!(
            ready.is_some(),
            "{CHROMEDRIVER} did not answer {base}/status within 20 s"
        );
        let caps = capabilities(&b.profile);
        let v = b
            .call(
                reqwest::Method::POST,
                &format!("{base}/session"),
                Some(caps),
            )
            .await
            .unwrap_or_else(|e| panic!("opening a Chromium session through {base}: {e:?}"));
        let id = v["sessionId"].as_str().expect("a session id");
        b.session = format!("{base}/session/{id}");
        b
    }

    /// One WebDriver command; its `value`, or the driver's error.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, DriverError> {
        let mut req = self.http.request(method.clone(), url);
        if method != reqwest::Method::GET {
            req = req.json(&body.unwrap_or_else(|| json!({})));
        }
        let res = req.send().await.map_err(|e| DriverError {
            error: "transport".into(),
            message: e.to_string(),
        })?;
        let ok = res.status().is_success();
        let v: Value = res.json().await.map_err(|e| DriverError {
            error: "decode".into(),
            message: e.to_string(),
        })?;
        let value = v["value"].clone();
        if ok {
            Ok(value)
        } else {
            Err(DriverError {
                error: value["error"].as_str().unwrap_or("unknown").into(),
                message: value["message"].as_str().unwrap_or("").into(),
            })
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        self.call(method, &url, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e:?}"))
    }

    /// End the session (Chromium exits), then ChromeDriver (on drop).
    pub async fn quit(self) {
        let _ = self
            .call(reqwest::Method::DELETE, &self.session, None)
            .await;
    }

    /// Open `url` and wait for the page's script to have run.
    pub async fn open(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
        self.element(css_ready()).await;
    }

    /// The element's WebDriver id, waiting for it to exist.
    async fn element(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(id) = self.try_element(css).await {
                return id;
            }
            if tokio::time::Instant::now() > deadline {
                let url = format!("{}/element", self.session);
                let body = json!({"using": "css selector", "value": css});
                let err = self.call(reqwest::Method::POST, &url, Some(body)).await;
                panic!("element {css} not found within {WAIT:?}: {err:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn try_element(&self, css: &str) -> Option<String> {
        let url = format!("{}/element", self.session);
        let body = json!({"using": "css selector", "value": css});
        let v = self
            .call(reqwest::Method::POST, &url, Some(body))
            .await
            .ok()?;
        v[ELEMENT].as_str().map(String::from)
    }

    /// Click an element once it is displayed.
    pub async fn click(&self, css: &str) {
        self.wait_displayed(css).await;
        let id = self.element(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/click"), None)
            .await;
    }

    /// Replace an input's value by typing `text`.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait_displayed(css).await;
        let id = self.element(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/clear"), None)
            .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Type `text` and press Enter, as a barcode scanner does.
    pub async fn scan(&self, css: &str, text: &str) {
        self.type_into(css, &format!("{text}{ENTER}")).await;
    }

    /// The element's rendered text.
    pub async fn text(&self, css: &str) -> String {
        let id = self.element(css).await;
        let v = self
            .cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    pub async fn displayed(&self, css: &str) -> bool {
        let Some(id) = self.try_element(css).await else {
            return false;
        };
        let url = format!("{}/element/{id}/displayed", self.session);
        matches!(
            self.call(reqwest::Method::GET, &url, None).await,
            Ok(Value::Bool(true))
        )
    }

    pub async fn wait_displayed(&self, css: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self.displayed(css).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} was not displayed within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until the element's text contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let t = if self.displayed(css).await {
                self.text(css).await
            } else {
                String::new()
            };
            if t.contains(needle) {
                return t;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} did not show {needle:?} within {WAIT:?}; it shows {t:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Run a script in the page and return its value.
    pub async fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// The address bar.
    pub async fn current_url(&self) -> String {
        let v = self.cmd(reqwest::Method::GET, "/url", None).await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 PNG"))
            .expect("valid base64")
    }
}

/// Present once the page's HTML is parsed.
fn css_ready() -> &'static str {
    "main"
}

/// Headless Chromium flags for a machine without network, a fresh profile, and a phone
/// viewport.
fn capabilities(profile: &Path) -> Value {
    let args = [
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "mobileEmulation": {"deviceMetrics": {
                "width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT, "pixelRatio": 1.0}},
        },
    }}})
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // A test that failed before `quit` leaves its Chromium running: end exactly the
        // processes started with this browser's own profile directory.
        let marker = format!("--user-data-dir={}", self.profile.display());
        for pid in processes_with_arg(&marker) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Ids of the processes one of whose arguments is exactly `arg`.
fn processes_with_arg(arg: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        cmdline
            .split(|b| *b == 0)
            .any(|a| a == arg.as_bytes())
            .then_some(pid)
    })
    .collect()
}

/// Width and height of a PNG, from its IHDR chunk.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&png[16..20]), be(&png[20..24])))
}
