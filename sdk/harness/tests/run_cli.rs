//! `wharf plugin run`: one export, result as JSON with fuel, peak memory and wall time;
//! replaying a cassette under a frozen clock; failures exit non-zero.

mod support;

use std::process::Command;

use serde_json::Value;

fn fixtures() -> Value {
    let text = std::fs::read_to_string(support::shopify_fixtures().join("fixtures.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn run(args: &[&str]) -> (Option<i32>, Value, String) {
    let out = Command::new(support::wharf_bin())
        .args(["plugin", "run"])
        .arg(support::plugin("wharf_plugin_shopify"))
        .args(args)
        .arg("--manifest")
        .arg(support::shopify_manifest())
        .env("WHARF_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

// pull-orders replayed from the Shopify cassette at the recording's clock returns the
// recorded first page, with the call's cost reported.
#[test]
fn pull_orders_replays_a_cassette_under_a_frozen_clock() {
    let f = fixtures();
    let cassette = support::shopify_fixtures().join("cassette.json");
    let token = format!(
        "access_token={}",
        f["secrets"]["access_token"].as_str().unwrap()
    );
    let (code, out, err) = run(&[
        "pull-orders",
        "--config",
        "shop_url=http://demo.myshopify.com",
        "--config",
        "page_size=5",
        "--secret",
        &token,
        "--clock",
        f["clock"].as_str().unwrap(),
        "--cassette",
        cassette.to_str().unwrap(),
        "--replay",
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        out["result"]["orders"].as_array().unwrap().len(),
        5,
        "{out}"
    );
    assert_eq!(out["result"]["more"], true);
    assert!(out["fuel"].as_u64().unwrap() > 0, "{out}");
    assert!(out["peak_memory_bytes"].as_u64().unwrap() > 0);
    assert!(out["wall_time_ms"].as_f64().is_some());
    assert_eq!(out["unrecorded_requests"], serde_json::json!([]));
}

// At another clock the request differs from the recording: the replay refuses it, the
// plugin's error says so, and the command exits non-zero.
#[test]
fn an_unrecorded_request_fails_the_run() {
    let cassette = support::shopify_fixtures().join("cassette.json");
    let (code, out, err) = run(&[
        "pull-orders",
        "--config",
        "shop_url=http://demo.myshopify.com",
        "--secret",
        "access_token=tok-123",
        "--clock",
        "2020-01-01T00:00:00Z",
        "--cassette",
        cassette.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert_eq!(out["error"]["kind"], "transient", "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unrecorded request"),
        "{out}"
    );
    assert_eq!(out["unrecorded_requests"].as_array().unwrap().len(), 1);
}

// verify-webhook takes the recorded delivery as --input and returns the translated event.
#[test]
fn verify_webhook_runs_from_json_input() {
    let f = fixtures();
    let hook = std::fs::read_to_string(support::shopify_fixtures().join("webhook.json")).unwrap();
    let secret = format!(
        "client_secret={}",
        f["secrets"]["client_secret"].as_str().unwrap()
    );
    let (code, out, err) = run(&[
        "verify-webhook",
        "--config",
        "shop_url=http://demo.myshopify.com",
        "--secret",
        &secret,
        "--input",
        &hook,
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out["result"]["topic"], "orders/updated");
    assert_eq!(out["result"]["orders"].as_array().unwrap().len(), 1);
}

// Bad arguments are clear errors: an unknown export, and a config that misses the schema.
#[test]
fn bad_arguments_are_refused_clearly() {
    let (code, _, err) = run(&["pull"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("unknown export \"pull\""), "{err}");
    let (code, _, err) = run(&["pull-orders", "--config", "page_size=many"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("page_size=many: expected an integer"), "{err}");
}
