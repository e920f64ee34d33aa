//! Egress: a request leaves the sandbox only to a host the manifest declares AND the
//! merchant granted; internal addresses need a literal grant or an operator override.

mod common;

use common::{ctx, hostile, TinyServer};
use wharf_runtime::{ConnectorError, EgressPolicy, LogLevel};

const BODY: &str = "hello from the tiny server";

fn policy(manifest: &[&str], granted: &[&str]) -> EgressPolicy {
    EgressPolicy {
        manifest_hosts: manifest.iter().map(|s| s.to_string()).collect(),
        granted_hosts: granted.iter().map(|s| s.to_string()).collect(),
        resolve: Default::default(),
    }
}

/// Pull in `egress` mode for `url` under `egress`; returns the result and the log lines.
async fn fetch(
    url: &str,
    egress: EgressPolicy,
) -> (Result<i64, ConnectorError>, Vec<(i64, LogLevel, String)>) {
    let (rt, plugin) = hostile();
    let (mut c, sink) = ctx(9, &[("mode", "egress"), ("url", url)]);
    c.egress = egress;
    let result = rt
        .pull_orders(plugin, &c, None)
        .await
        .map(|page| page.orders[0].total_paid.minor);
    let lines = sink.lines.lock().unwrap().clone();
    (result, lines)
}

/// The refusal the SDK reports when the host answered `HttpRequestDenied` (the SDK names
/// the URL's authority, so `host` includes a port when the URL has one).
fn assert_denied(result: Result<i64, ConnectorError>, host: &str) {
    match result {
        Err(ConnectorError::Permanent(msg)) => assert_eq!(
            msg,
            format!("egress to {host} was refused by the sandbox (not granted)")
        ),
        other => panic!("expected an HttpRequestDenied refusal, got {other:?}"),
    }
}

fn assert_refusal_logged(lines: &[(i64, LogLevel, String)], host: &str, reason: &str) {
    let line = lines
        .iter()
        .find(|l| {
            l.2.starts_with(&format!("egress to {host} refused: not granted"))
        })
        .unwrap_or_else(|| panic!("no refusal log line for {host} in {lines:?}"));
    assert_eq!((line.0, line.1), (9, LogLevel::Warn));
    assert!(line.2.contains(reason), "{}", line.2);
}

// A declared and granted host reaches the server the operator pinned it to, and the
// server sees the plugin's host name in the Host header.
#[tokio::test]
async fn granted_host_with_override_is_reached() {
    let server = TinyServer::start(BODY).await;
    let mut p = policy(&["*.hostile.test"], &["api.hostile.test"]);
    p.resolve.insert("api.hostile.test".into(), server.addr);
    let (result, lines) = fetch("http://api.hostile.test/orders", p).await;
    assert_eq!(result.unwrap(), BODY.len() as i64);
    assert_eq!(
        *server.hosts.lock().unwrap(),
        vec!["api.hostile.test".to_string()]
    );
    assert!(lines.is_empty(), "no refusal logged: {lines:?}");
}

// A host neither declared nor granted is refused (HttpRequestDenied + a log line).
#[tokio::test]
async fn ungranted_host_is_refused_and_logged() {
    let server = TinyServer::start(BODY).await;
    let mut p = policy(&["*.hostile.test"], &["api.hostile.test"]);
    p.resolve.insert("evil.example".into(), server.addr);
    let (result, lines) = fetch("http://evil.example/steal", p).await;
    assert_denied(result, "evil.example");
    assert_refusal_logged(&lines, "evil.example", "does not declare it");
    assert_eq!(server.requests(), 0, "nothing reached the server");
}

// A host the manifest declares but the merchant did not grant is refused, even when the
// operator pinned it to a reachable server.
#[tokio::test]
async fn declared_but_not_granted_host_is_refused() {
    let server = TinyServer::start(BODY).await;
    let mut p = policy(&["*.hostile.test"], &["api.hostile.test"]);
    p.resolve.insert("other.hostile.test".into(), server.addr);
    let (result, lines) = fetch("http://other.hostile.test/", p).await;
    assert_denied(result, "other.hostile.test");
    assert_refusal_logged(&lines, "other.hostile.test", "has not granted it");
    assert_eq!(server.requests(), 0);
}

// A host the merchant granted but the manifest does not declare is refused.
#[tokio::test]
async fn granted_but_undeclared_host_is_refused() {
    let server = TinyServer::start(BODY).await;
    let mut p = policy(
        &["api.hostile.test"],
        &["api.hostile.test", "extra.example"],
    );
    p.resolve.insert("extra.example".into(), server.addr);
    let (result, lines) = fetch("http://extra.example/", p).await;
    assert_denied(result, "extra.example");
    assert_refusal_logged(&lines, "extra.example", "manifest does not declare it");
    assert_eq!(server.requests(), 0);
}

// A granted name that resolves to loopback is refused: only a literal IP grant (or an
// operator override) reaches internal addresses.
#[tokio::test]
async fn granted_name_resolving_to_loopback_is_refused() {
    let server = TinyServer::start(BODY).await;
    let p = policy(&["localhost"], &["localhost"]);
    let url = format!("http://localhost:{}/", server.addr.port());
    let (result, lines) = fetch(&url, p).await;
    assert_denied(result, &format!("localhost:{}", server.addr.port()));
    assert_refusal_logged(&lines, "localhost", "internal address");
    assert_eq!(server.requests(), 0);
}

// A loopback IP declared and granted literally is reachable.
#[tokio::test]
async fn literally_granted_loopback_ip_is_reached() {
    let server = TinyServer::start(BODY).await;
    let p = policy(&["127.0.0.1"], &["127.0.0.1"]);
    let url = format!("http://127.0.0.1:{}/", server.addr.port());
    let (result, _) = fetch(&url, p).await;
    assert_eq!(result.unwrap(), BODY.len() as i64);
    assert_eq!(server.requests(), 1);
}

// With no egress policy at all, every request is refused.
#[tokio::test]
async fn no_policy_means_no_egress() {
    let server = TinyServer::start(BODY).await;
    let url = format!("http://127.0.0.1:{}/", server.addr.port());
    let (result, lines) = fetch(&url, EgressPolicy::default()).await;
    assert_denied(result, &format!("127.0.0.1:{}", server.addr.port()));
    assert_refusal_logged(&lines, "127.0.0.1", "not granted");
    assert_eq!(server.requests(), 0);
}

// A plugin stuck waiting on a server that never answers is still stopped at the call
// deadline (time in host calls counts, not only time running WebAssembly).
#[tokio::test]
async fn waiting_on_a_silent_server_times_out_at_the_deadline() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            open.push(sock); // accept, never answer
        }
    });
    let mut p = policy(&["api.hostile.test"], &["api.hostile.test"]);
    p.resolve.insert("api.hostile.test".into(), addr);
    let started = std::time::Instant::now();
    let (result, _) = fetch("http://api.hostile.test/slow", p).await;
    let elapsed = started.elapsed();
    assert_eq!(result.unwrap_err(), ConnectorError::Timeout(1500));
    assert!(
        elapsed < std::time::Duration::from_millis(3000),
        "{elapsed:?}"
    );
    held.abort();
}
