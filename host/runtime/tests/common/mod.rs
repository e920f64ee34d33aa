//! Helpers shared by the runtime's integration tests: locating the compiled test plugins,
//! one runtime per test binary, call contexts, a recording log sink and a tiny HTTP server.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_runtime::{CallContext, EgressPolicy, LogLevel, LogSink, Plugin, Runtime, RuntimeConfig};

/// Where `cargo xtask plugins` puts the components.
pub fn plugin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("WHARF_PLUGIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("wasm32-wasip2/release")
}

/// The bytes of a compiled test plugin; panics (never skips) when it was not built.
pub fn plugin_bytes(crate_name: &str) -> Vec<u8> {
    let path = plugin_dir().join(format!("{crate_name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `cargo xtask plugins` first (or set WHARF_PLUGIN_DIR)",
            path.display()
        )
    })
}

/// Limits used by the tests: short deadlines so the hostile modes finish quickly.
pub fn test_config() -> RuntimeConfig {
    RuntimeConfig {
        memory_bytes: 64 * 1024 * 1024,
        webhook_timeout: Duration::from_millis(500),
        call_timeout: Duration::from_millis(1500),
        max_output_bytes: 32 * 1024 * 1024,
        max_orders_per_call: 5000,
        max_log_lines_per_call: 50,
        fuel: None,
        instance_pool: wharf_runtime::DEFAULT_INSTANCE_POOL,
    }
}

/// One runtime and the loaded hostile plugin, shared by the tests of a binary.
pub fn hostile() -> &'static (Runtime, Plugin) {
    static SHARED: OnceLock<(Runtime, Plugin)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let rt = Runtime::new(test_config()).expect("runtime");
        let plugin = rt
            .load(
                &plugin_bytes("wharf_plugin_hostile"),
                wharf_runtime::WIT_VERSION,
            )
            .expect("the hostile plugin loads");
        (rt, plugin)
    })
}

/// Log lines as the sink received them.
#[derive(Default)]
pub struct RecordingSink {
    pub lines: Mutex<Vec<(i64, LogLevel, String)>>,
}

impl LogSink for RecordingSink {
    fn log(&self, installation_id: i64, level: LogLevel, message: &str) {
        self.lines
            .lock()
            .unwrap()
            .push((installation_id, level, message.to_string()));
    }
}

impl RecordingSink {
    pub fn messages(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| l.2.clone())
            .collect()
    }
}

/// A call context for `installation_id` with `config` pairs and no grants.
pub fn ctx(installation_id: i64, config: &[(&str, &str)]) -> (CallContext, Arc<RecordingSink>) {
    let sink = Arc::new(RecordingSink::default());
    let ctx = CallContext {
        installation_id,
        merchant_id: 1,
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        secrets: BTreeMap::new(),
        egress: EgressPolicy::default(),
        logs: sink.clone(),
    };
    (ctx, sink)
}

/// A tiny HTTP/1.1 server on 127.0.0.1:0 answering every request with `body`; it records
/// the `Host` header of each request it gets.
pub struct TinyServer {
    pub addr: SocketAddr,
    pub hosts: Arc<Mutex<Vec<String>>>,
}

impl TinyServer {
    pub async fn start(body: &'static str) -> TinyServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hosts = Arc::new(Mutex::new(Vec::new()));
        let seen = hosts.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let host = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("host").then(|| v.trim().to_string())
                        })
                        .unwrap_or_default();
                    seen.lock().unwrap().push(host);
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        TinyServer { addr, hosts }
    }

    pub fn requests(&self) -> usize {
        self.hosts.lock().unwrap().len()
    }
}
