//! The sandbox contains every kind of misbehaviour with its own error kind, while a
//! well-behaved installation keeps working alongside, and keeps installations apart.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{ctx, hostile};
use wharf_runtime::{ConnectorError, LogLevel};

/// Run `hostile_call` while a `good` installation pulls orders over and over on the same
/// executor thread; every good call must succeed. Returns the hostile result and how many
/// good calls completed meanwhile.
async fn alongside_good<T>(hostile_call: impl Future<Output = T>) -> (T, usize) {
    let (rt, plugin) = hostile();
    let (good_ctx, _) = ctx(100, &[("mode", "good")]);
    let done = AtomicBool::new(false);
    let hostile_side = async {
        let r = hostile_call.await;
        done.store(true, Ordering::SeqCst);
        r
    };
    let good_side = async {
        let mut n = 0;
        loop {
            let page = rt
                .pull_orders(plugin, &good_ctx, None)
                .await
                .expect("a good call must succeed next to a hostile one");
            assert_eq!(page.orders.len(), 1);
            assert_eq!(page.orders[0].external_id, "H-1");
            n += 1;
            if done.load(Ordering::SeqCst) {
                break n;
            }
        }
    };
    tokio::join!(hostile_side, good_side)
}

async fn pull(mode: &str) -> Result<wharf_runtime::Page, ConnectorError> {
    let (rt, plugin) = hostile();
    let (c, _) = ctx(7, &[("mode", mode)]);
    rt.pull_orders(plugin, &c, None).await
}

// The good mode returns its deterministic order, converted to domain types.
#[tokio::test]
async fn good_mode_returns_its_order() {
    let page = pull("good").await.unwrap();
    let o = &page.orders[0];
    assert_eq!((o.external_id.as_str(), o.total_paid.minor), ("H-1", 3000));
    assert_eq!(o.lines[0].net_minor(), 2500);
    assert_eq!(page.cursor.as_deref(), Some("c1"));
    let (rt, plugin) = hostile();
    let (c, _) = ctx(7, &[]);
    let info = rt.describe(plugin, &c).await.unwrap();
    assert_eq!(info.platform, "hostile");
    assert_eq!(rt.get_order(plugin, &c, "missing").await.unwrap(), None);
    assert_eq!(
        rt.get_order(plugin, &c, "X-9")
            .await
            .unwrap()
            .unwrap()
            .external_id,
        "X-9"
    );
}

// An infinite loop times out within a bounded multiple of the deadline, and a good
// installation on the same thread keeps being served meanwhile.
#[tokio::test(flavor = "current_thread")]
async fn loop_times_out_while_good_calls_succeed() {
    let started = Instant::now();
    let (result, good_calls) = alongside_good(pull("loop")).await;
    let elapsed = started.elapsed();
    assert_eq!(result.unwrap_err(), ConnectorError::Timeout(1500));
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(4500),
        "deadline overshot: {elapsed:?}"
    );
    assert!(good_calls >= 5, "good calls starved: only {good_calls}");
}

// verify-webhook runs under the (shorter) webhook deadline.
#[tokio::test]
async fn webhook_uses_the_webhook_deadline() {
    let (rt, plugin) = hostile();
    let (c, _) = ctx(7, &[("mode", "loop")]);
    let started = Instant::now();
    let err = rt
        .verify_webhook(plugin, &c, vec![], b"{}".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err, ConnectorError::Timeout(500));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

// A memory bomb is stopped by the cap and reported as a memory limit, not a trap.
#[tokio::test(flavor = "current_thread")]
async fn membomb_hits_the_memory_limit_while_good_calls_succeed() {
    let (result, good_calls) = alongside_good(pull("membomb")).await;
    assert_eq!(
        result.unwrap_err(),
        ConnectorError::MemoryLimit(64 * 1024 * 1024)
    );
    assert!(good_calls >= 1);
}

// A panic is reported with the plugin's own panic message.
#[tokio::test(flavor = "current_thread")]
async fn panic_is_reported_with_its_message_while_good_calls_succeed() {
    let (result, good_calls) = alongside_good(pull("panic")).await;
    match result.unwrap_err() {
        ConnectorError::Panic(msg) => {
            assert_eq!(msg, "hostile plugin panicked on purpose")
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert!(good_calls >= 1);
}

// A panic message carrying the installation's secret reaches the host with it masked.
#[tokio::test]
async fn a_panic_message_has_the_secret_masked_like_a_log_line() {
    let (rt, plugin) = hostile();
    let (mut c, _) = ctx(9, &[("mode", "secretpanic")]);
    c.secrets
        .insert("api_token".into(), "shpat_supersecret".into());
    match rt.pull_orders(plugin, &c, None).await.unwrap_err() {
        ConnectorError::Panic(msg) => assert_eq!(msg, "the token is ***"),
        other => panic!("expected a panic error, got {other:?}"),
    }
}

// A trap that is not a panic is a trap.
#[tokio::test(flavor = "current_thread")]
async fn unreachable_is_a_trap_while_good_calls_succeed() {
    let (result, good_calls) = alongside_good(pull("trap")).await;
    match result.unwrap_err() {
        ConnectorError::Trap(msg) => assert!(msg.contains("unreachable"), "{msg}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(good_calls >= 1);
}

// Returning more orders than the per-call bound is refused as oversized output.
#[tokio::test(flavor = "current_thread")]
async fn oversized_output_is_refused_while_good_calls_succeed() {
    let (result, good_calls) = alongside_good(pull("oversized")).await;
    match result.unwrap_err() {
        ConnectorError::OutputTooLarge(msg) => assert!(msg.contains("20000 orders"), "{msg}"),
        other => panic!("expected output too large, got {other:?}"),
    }
    assert!(good_calls >= 1);
}

// All hostile modes at once, concurrently with a good installation: each fails with its
// own kind and the good one succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_hostile_modes_concurrently() {
    let (results, good_calls) = alongside_good(async {
        tokio::join!(
            pull("loop"),
            pull("membomb"),
            pull("panic"),
            pull("trap"),
            pull("oversized")
        )
    })
    .await;
    let codes = [
        results.0.unwrap_err().code(),
        results.1.unwrap_err().code(),
        results.2.unwrap_err().code(),
        results.3.unwrap_err().code(),
        results.4.unwrap_err().code(),
    ];
    assert_eq!(
        codes,
        [
            "timeout",
            "memory_limit",
            "panic",
            "trap",
            "output_too_large"
        ]
    );
    assert!(good_calls >= 1);
}

// A plugin-reported error keeps its kind (unknown mode → invalid input).
#[tokio::test]
async fn plugin_errors_keep_their_kind() {
    match pull("no-such-mode").await.unwrap_err() {
        ConnectorError::InvalidInput(msg) => assert!(msg.contains("no-such-mode"), "{msg}"),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

// Installation B never sees installation A's secret, even calling concurrently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_isolated_between_installations() {
    let (rt, plugin) = hostile();
    let (mut a, _) = ctx(1, &[("mode", "secret")]);
    a.secrets.insert("api_token".into(), "token-of-A".into());
    let (mut b, _) = ctx(2, &[("mode", "secret")]);
    b.secrets.insert("api_token".into(), "token-of-B".into());
    let (c, _) = ctx(3, &[("mode", "secret")]);
    let (ra, rb, rc) = tokio::join!(
        rt.pull_orders(plugin, &a, None),
        rt.pull_orders(plugin, &b, None),
        rt.pull_orders(plugin, &c, None)
    );
    assert_eq!(ra.unwrap().orders[0].tags, vec!["secret=token-of-A"]);
    assert_eq!(rb.unwrap().orders[0].tags, vec!["secret=token-of-B"]);
    assert_eq!(rc.unwrap().orders[0].tags, vec!["secret=<none>"]);
}

// Plugin logs reach the sink with the installation id, secrets masked, lines bounded.
#[tokio::test]
async fn logs_are_attributed_redacted_and_bounded() {
    let (rt, plugin) = hostile();
    let (mut c, sink) = ctx(42, &[("mode", "logspam"), ("lines", "200")]);
    c.secrets
        .insert("api_token".into(), "shpat_supersecret".into());
    rt.pull_orders(plugin, &c, None).await.unwrap();
    let lines = sink.lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 51, "50 lines kept + one notice");
    assert!(
        lines.iter().all(|l| l.0 == 42),
        "attributed to the installation"
    );
    assert_eq!(lines[0].1, LogLevel::Warn);
    assert_eq!(lines[0].2, "the token is ***");
    assert!(lines.iter().all(|l| !l.2.contains("shpat_supersecret")));
    assert!(
        lines[50].2.contains("log limit of 50 lines"),
        "{}",
        lines[50].2
    );
}
