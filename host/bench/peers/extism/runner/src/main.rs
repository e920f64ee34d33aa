//! Times the Extism peer plugin (`../plugin`) the way the translate benchmark times the
//! Wharf component with its instance reused: one Extism plugin instance, loaded once,
//! its `verify` export called again and again on the same delivery.
//!
//! ```text
//! wharf-extism-runner PLUGIN.wasm FIXTURE.json WARMUP ITERATIONS
//! ```
//!
//! `FIXTURE.json` is `{"headers": [[name, value], ...], "body": "<the raw body>",
//! "secret": "<the client secret>"}` (the benchmark writes it). The plugin gets the secret
//! as its config `client_secret`, the headers and body framed as its input (see the
//! plugin's docs). Before timing, the runner checks that a tampered body is refused (the
//! HMAC is really checked) and that the delivery is accepted. It prints one JSON object:
//! `{"extism": <its version>, "n", "mean_ns", "p50_ns", "p99_ns", "samples_ns": [...],
//! "output": <the last event the plugin returned>}`; percentiles are nearest-rank, like
//! the benchmark's own.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use extism::{Manifest, PluginBuilder, Wasm};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    headers: Vec<(String, String)>,
    body: String,
    secret: String,
}

const EXPORT: &str = "verify";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [plugin, fixture, warmup, iterations] = args.as_slice() else {
        bail!("usage: wharf-extism-runner PLUGIN.wasm FIXTURE.json WARMUP ITERATIONS");
    };
    let warmup: usize = warmup.parse().context("WARMUP")?;
    let iterations: usize = iterations.parse().context("ITERATIONS")?;
    ensure!(iterations > 0, "ITERATIONS must be at least 1");
    let fixture: Fixture = serde_json::from_slice(
        &std::fs::read(fixture).with_context(|| format!("reading {fixture}"))?,
    )
    .context("the fixture")?;

    // Extism's defaults (its own wasmtime configuration), no WASI: the plugin needs none.
    // Only the on-disk compilation cache is off (compiling is not timed here).
    let wasm = std::fs::read(plugin).with_context(|| format!("reading {plugin}"))?;
    let manifest =
        Manifest::new([Wasm::data(wasm)]).with_config_key("client_secret", &fixture.secret);
    let mut plugin = PluginBuilder::new(manifest)
        .with_wasi(false)
        .with_cache_disabled()
        .build()
        .with_context(|| format!("loading {plugin}"))?;

    let input = frame(&fixture.headers, fixture.body.as_bytes());
    ensure!(!fixture.body.is_empty(), "the fixture has an empty body");
    let mut tampered_body = fixture.body.clone().into_bytes();
    tampered_body[0] ^= 1;
    let tampered = frame(&fixture.headers, &tampered_body);
    ensure!(
        plugin.call::<&[u8], Vec<u8>>(EXPORT, &tampered).is_err(),
        "the plugin accepted a tampered body"
    );

    let mut output = plugin
        .call::<&[u8], Vec<u8>>(EXPORT, &input)
        .context("the plugin refused the delivery")?;
    for _ in 0..warmup {
        black_box(plugin.call::<&[u8], Vec<u8>>(EXPORT, black_box(&input))?);
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let out = plugin.call::<&[u8], Vec<u8>>(EXPORT, black_box(&input))?;
        samples.push(t.elapsed());
        output = black_box(out);
    }

    let output: serde_json::Value =
        serde_json::from_slice(&output).context("the plugin's output is not JSON")?;
    let samples_ns: Vec<u64> = samples.iter().map(|d| d.as_nanos() as u64).collect();
    let mut sorted = samples.clone();
    sorted.sort_unstable();
    let total: Duration = sorted.iter().sum();
    let report = serde_json::json!({
        "extism": extism::extism_version().trim_end_matches('\0'),
        "n": iterations,
        "mean_ns": (total / iterations as u32).as_nanos() as u64,
        "p50_ns": percentile(&sorted, 50.0).as_nanos() as u64,
        "p99_ns": percentile(&sorted, 99.0).as_nanos() as u64,
        "samples_ns": samples_ns,
        "output": output,
    });
    println!("{report}");
    Ok(())
}

/// The plugin's input: u32 header count, each header as u32-length-prefixed name and
/// value, then the body (little-endian lengths).
fn frame(headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 256);
    out.extend_from_slice(&(headers.len() as u32).to_le_bytes());
    for (name, value) in headers {
        for s in [name, value] {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    out.extend_from_slice(body);
    out
}

/// Nearest-rank percentile of sorted samples (as the benchmark's `stats` computes it).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
