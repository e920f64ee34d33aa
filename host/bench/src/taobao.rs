//! Workload 2, the Taobao payload: one trade as `taobao.trade.fullinfo.get` answers it —
//! the Taobao simulator's TOP answer for its largest generated trade, recorded once over
//! loopback HTTP — normalised by the Taobao connector's `get-order`:
//! - natively: the connector's own `api::get_order`, its transport handing back the
//!   recorded answer;
//! - as the Wasm component through `wharf_runtime::Runtime` as `wharf serve` calls it (a
//!   fresh instance per call, egress granted for the manifest's hosts), a harness transport
//!   serving the same answer.
//!
//! Both sides sign the TOP request (MD5 over the sorted parameters), parse the answer and
//! map the trade; they must return the same order before a time is believed.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, ensure, Context, Result};
use wharf_plugin_taobao::api;
use wharf_plugin_taobao::settings::Settings;
use wharf_plugin_taobao::top::Credentials;
use wharf_runtime::transport::{HttpRequest, HttpResponse, HttpTransport, TransportFuture};
use wharf_runtime::{CallContext, CallOptions, EgressPolicy, Runtime, RuntimeConfig};
use wharf_sdk::http::Response;
use wharf_sim::native::Transport;
use wharf_sim::taobao::{TaobaoSim, TaobaoSimConfig};
use wharf_sim::time::now_ms;

use crate::measure;
use crate::report::Report;
use crate::stats::ratio;
use crate::Iters;

const W: &str = "2 translate";

/// Seeds tried for the trade: the simulator's generator is deterministic per seed and
/// gives 1–4 lines; the largest trade of these is benchmarked.
const SEEDS: std::ops::Range<u64> = 1..64;

/// The gateway the component is configured with; the harness transport answers for it.
const API_URL: &str = "https://eco.taobao.com/router/rest";

/// Serves the recorded answer to every request.
struct Recorded(HttpResponse);

impl HttpTransport for Recorded {
    fn send(&self, _request: HttpRequest) -> TransportFuture<'_> {
        let answer = self.0.clone();
        Box::pin(async move { Ok(answer) })
    }
}

pub fn run(report: &mut Report, it: Iters) -> Result<()> {
    let net = Transport::new();
    let sim = net
        .block_on(TaobaoSim::start(TaobaoSimConfig::default()))
        .map_err(|e| anyhow!("starting the Taobao simulator: {e}"))?;
    let modified = now_ms() - 3_600_000;
    let trade = SEEDS
        .map(|seed| sim.generate_trade(seed, modified))
        .max_by_key(|t| t.to_string().len())
        .ok_or_else(|| anyhow!("no trade generated"))?;
    let tid = trade["tid"]
        .as_u64()
        .ok_or_else(|| anyhow!("the generated trade has no tid"))?
        .to_string();
    let c = sim.config();
    let creds = Credentials {
        app_key: c.app_key.clone(),
        app_secret: c.app_secret.clone(),
        session: c.session.clone(),
    };
    let settings = Settings {
        api_url: sim.router_url(),
        window_minutes: 60,
        page_size: 100,
        lookback_days: 1,
        seller_nick: Some(c.seller_nick.clone()),
    };

    // Record the simulator's answer (its signature check passing proves the request real).
    let mut answer: Option<Response> = None;
    let native = api::get_order(&settings, &creds, &tid, now_ms(), &mut |r| {
        let got = net.send(r)?;
        answer = Some(got.clone());
        Ok(got)
    })
    .map_err(|e| anyhow!("native get-order against the simulator: {e:?}"))?
    .ok_or_else(|| anyhow!("the simulator does not know trade {tid}"))?;
    let answer = answer.ok_or_else(|| anyhow!("get-order sent no request"))?;
    let lines = native.lines.len();

    let native_time = measure::each(it.warmup, it.iters, || {
        let now = now_ms();
        api::get_order(&settings, &creds, &tid, now, &mut |_| Ok(answer.clone()))
            .map_err(|e| anyhow!("{e:?}"))?
            .ok_or_else(|| anyhow!("no order"))
            .map(|_| ())
    })?;

    let component = std::fs::read(wharf_tests::paths::plugin("wharf_plugin_taobao"))
        .context("reading the Taobao component (run `cargo xtask plugins`)")?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let plugin = runtime.load(&component, wharf_runtime::WIT_VERSION)?;
    // The hosts the manifest declares, all granted (as a merchant's consent would).
    let manifest: serde_json::Value = serde_json::from_slice(&wharf_tests::read(
        wharf_tests::paths::workspace_root().join("plugins/taobao/manifest.json"),
    ))?;
    let hosts: Vec<String> =
        serde_json::from_value(manifest["hosts"].clone()).context("the Taobao manifest's hosts")?;
    let ctx = CallContext {
        installation_id: 1,
        merchant_id: 1,
        config: BTreeMap::from([
            ("api_url".into(), API_URL.into()),
            ("seller_nick".into(), c.seller_nick.clone()),
        ]),
        secrets: BTreeMap::from([
            ("app_key".into(), c.app_key.clone()),
            ("app_secret".into(), c.app_secret.clone()),
            ("session".into(), c.session.clone()),
        ]),
        egress: EgressPolicy {
            manifest_hosts: hosts.clone(),
            granted_hosts: hosts,
            resolve: BTreeMap::new(),
        },
        logs: Arc::new(wharf_runtime::context::TracingLogSink),
    };
    let opts = CallOptions {
        transport: Some(Arc::new(Recorded(HttpResponse {
            status: answer.status,
            headers: answer.headers.clone(),
            body: answer.body.clone(),
        }))),
        clock: None,
    };
    let exec = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let call = || {
        exec.block_on(runtime.get_order_with(&plugin, &ctx, &opts, &tid))
            .0
            .map_err(|e| anyhow!("Wasm get-order: {e}"))?
            .ok_or_else(|| anyhow!("Wasm get-order found no order"))
    };
    let wasm_order = call()?;
    ensure!(
        wasm_order.external_id == native.external_id
            && wasm_order.status == wharf_sim::native::channel_status(native.status)
            && wasm_order.total_paid.minor == native.total_paid.minor
            && wasm_order.lines.len() == lines
            && wasm_order
                .lines
                .iter()
                .zip(&native.lines)
                .all(|(w, n)| w.sku == n.sku && w.unit_price.minor == n.unit_price.minor),
        "the component's order differs from the native one:\n wasm: {wasm_order:?}\n native: {native:?}"
    );
    let wasm_time = measure::each(it.warmup, it.iters, || call().map(|_| ()))?;

    let what = format!(
        "Taobao `get-order` (TOP sign + parse + map), {} B `trade.fullinfo.get` answer, {lines} lines",
        answer.body.len()
    );
    report.row(W, &format!("native {what}"), native_time.timings());
    report.row(
        W,
        &format!("Wasm {what}, production path (fresh instance per call)"),
        wasm_time.timings(),
    );
    report.row(
        W,
        "Taobao: Wasm ÷ native, production path (fresh instance per call)",
        ratio(wasm_time.p50, native_time.p50),
    );
    report.note(
        "Translate, Taobao: the trade is the largest of the Taobao simulator's trades for 63 \
         fixed seeds, \
         its `taobao.trade.fullinfo.get` answer recorded once over HTTP and then served to \
         both sides from memory; the component's order is checked against the native one \
         (id, status, total, every line's SKU and price) before it is timed.",
    );
    Ok(())
}
