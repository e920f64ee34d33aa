//! Calling the real Shopify component two ways:
//! - [`Production`]: through `wharf_runtime::Runtime` exactly as `wharf serve` does (cached
//!   compiled component + `InstancePre`, a fresh store and instance per call, limits on);
//! - [`Reused`]: one instance kept and called again and again (what "reuse an instance per
//!   installation" would cost), so the translate work inside Wasm is measured without
//!   instantiation. Same engine settings as the runtime (component model, async, epoch
//!   interruption); only `config` and `log` are provided, every other import traps (so a
//!   call that reached for HTTP would fail, not go unnoticed).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store};
use wharf_runtime::{CallContext, EgressPolicy, Plugin, Runtime, RuntimeConfig, WebhookEvent};

use crate::payload::{Delivery, ACCESS_TOKEN, CLIENT_SECRET, SHOP};

/// The production call path.
pub struct Production {
    runtime: Runtime,
    plugin: Plugin,
    ctx: CallContext,
    exec: tokio::runtime::Runtime,
}

impl Production {
    /// The production runtime as `wharf serve` configures it by default.
    pub fn new(component: &[u8]) -> Result<Production> {
        Self::with_config(component, RuntimeConfig::default())
    }

    pub fn with_config(component: &[u8], cfg: RuntimeConfig) -> Result<Production> {
        let runtime = Runtime::new(cfg)?;
        // First-party plugins are built by the SDK against the newest contract.
        let plugin = runtime.load(component, wharf_runtime::WIT_VERSION)?;
        let ctx = CallContext {
            installation_id: 1,
            merchant_id: 1,
            config: BTreeMap::from([("shop_url".into(), format!("https://{SHOP}"))]),
            secrets: BTreeMap::from([
                ("client_secret".into(), CLIENT_SECRET.into()),
                ("access_token".into(), ACCESS_TOKEN.into()),
            ]),
            egress: EgressPolicy::default(),
            logs: Arc::new(wharf_runtime::context::TracingLogSink),
        };
        let exec = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Production {
            runtime,
            plugin,
            ctx,
            exec,
        })
    }

    /// Instantiate + `describe`; checks the answer.
    pub fn describe(&self) -> Result<()> {
        let info = self
            .exec
            .block_on(self.runtime.describe(&self.plugin, &self.ctx))?;
        anyhow::ensure!(info.platform == "shopify", "describe said {info:?}");
        Ok(())
    }

    /// Instantiate + `verify-webhook` of one delivery; must yield exactly one order.
    pub fn verify(&self, d: &Delivery) -> Result<WebhookEvent> {
        let ev = self.exec.block_on(self.runtime.verify_webhook(
            &self.plugin,
            &self.ctx,
            d.headers.clone(),
            d.body.clone(),
        ))?;
        anyhow::ensure!(ev.orders.len() == 1, "expected one order, got {ev:?}");
        Ok(ev)
    }
}

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/since_v0.2.0",
        world: "wharf:connector/marketplace",
        exports: { default: async },
        require_store_data_send: true,
        with: {
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
    });
}

use bindings::wharf::connector::{config, log, types};

/// Store data of the reused instance: the one secret `verify-webhook` reads.
struct Host {
    secret: String,
}

impl config::Host for Host {
    fn get(&mut self, _key: String) -> Option<String> {
        None
    }
    fn secret(&mut self, key: String) -> Option<String> {
        (key == "client_secret").then(|| self.secret.clone())
    }
}

impl log::Host for Host {
    fn log(&mut self, _level: log::Level, _message: String) {}
}

/// One instance of the component, called repeatedly.
pub struct Reused {
    store: Store<Host>,
    instance: bindings::Marketplace,
    exec: tokio::runtime::Runtime,
}

impl Reused {
    pub fn new(component: &[u8]) -> Result<Reused> {
        let mut cfg = Config::new();
        cfg.wasm_component_model(true);
        cfg.epoch_interruption(true);
        // `WHARF_BENCH_PERFMAP=1`: write /tmp/perf-<pid>.map so `perf report` names the
        // plugin's compiled functions (for profiling the translate workload).
        if std::env::var_os("WHARF_BENCH_PERFMAP").is_some() {
            cfg.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&cfg)?;
        let component = Component::from_binary(&engine, component)?;
        let mut linker: Linker<Host> = Linker::new(&engine);
        config::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h)?;
        log::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h)?;
        linker.define_unknown_imports_as_traps(&component)?;
        let mut store = Store::new(
            &engine,
            Host {
                secret: CLIENT_SECRET.into(),
            },
        );
        // The epoch never advances here: the check stays in the code, the deadline is far.
        store.set_epoch_deadline(u64::MAX / 2);
        let exec = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let instance = exec
            .block_on(bindings::Marketplace::instantiate_async(
                &mut store, &component, &linker,
            ))
            .map_err(|e| anyhow!("instantiating the component with config + log only: {e:#}"))?;
        Ok(Reused {
            store,
            instance,
            exec,
        })
    }

    /// `verify-webhook` on the kept instance; returns the order's total in minor units.
    pub fn verify(&mut self, headers: &[types::Header], body: &[u8]) -> Result<i64> {
        let ev =
            self.exec
                .block_on(self.instance.wharf_connector_channel().call_verify_webhook(
                    &mut self.store,
                    headers,
                    body,
                ))?;
        let ev = ev.map_err(|e| anyhow!("verify-webhook refused the delivery: {e:?}"))?;
        anyhow::ensure!(ev.orders.len() == 1, "expected one order");
        Ok(ev.orders[0].total_paid.minor)
    }

    pub fn headers(d: &Delivery) -> Vec<types::Header> {
        d.headers
            .iter()
            .map(|(name, value)| types::Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    }
}
