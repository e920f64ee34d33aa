//! The [`Runtime`]: one wasmtime engine and linker for the process, a cache of compiled
//! components keyed by the sha256 of their bytes, and the call path that gives every call
//! a fresh store with its own limits. Every export has a `*_with` form taking harness
//! [`CallOptions`] and returning a [`CallReport`] (wall time, peak memory, fuel).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, UpdateDeadline};
use wharf_domain::connector::{
    ConnectorError, ConnectorInfo, Page, StockLevel, StockPushResult, WebhookEvent,
};
use wharf_domain::Order;

use crate::bindings::{Marketplace, MarketplacePre};
use crate::config::RuntimeConfig;
use crate::context::CallContext;
use crate::convert;
use crate::error::RuntimeError;
use crate::faults::{self, Facts};
use crate::host;
use crate::limits;
use crate::options::{CallOptions, CallReport};
use crate::state::State;

/// The sandboxed plugin runtime. Cheap to clone; all clones share the engine, linker and
/// compiled-component cache.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<State>,
    cfg: RuntimeConfig,
    cache: Mutex<HashMap<[u8; 32], Plugin>>,
}

/// A loaded (compiled, linked, world-checked) plugin component. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

struct PluginInner {
    digest: String,
    engine: Engine,
    pre: MarketplacePre<State>,
}

impl Plugin {
    /// Hex sha256 of the component bytes it was loaded from.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// Whether both handles share one compiled component (a cache hit).
    pub fn same_component(&self, other: &Plugin) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("digest", &self.inner.digest)
            .finish()
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.cfg)
            .field("cached_components", &self.cached_components())
            .finish()
    }
}

/// Which deadline a call gets.
#[derive(Clone, Copy)]
enum Deadline {
    Webhook,
    Call,
}

type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

impl Runtime {
    /// Set up the engine (component model, epoch interruption), the linker (WASI without
    /// grants, `wasi:http` behind the egress granter, `config`, `log`) and the epoch
    /// ticker.
    pub fn new(cfg: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let setup = |e: wasmtime::Error| RuntimeError::Setup(format!("{e:#}"));
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.consume_fuel(cfg.fuel.is_some());
        let engine = Engine::new(&config).map_err(setup)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(setup)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(setup)?;
        host::add_to_linker(&mut linker).map_err(setup)?;
        limits::start_epoch_ticker(engine.weak())
            .map_err(|e| RuntimeError::Setup(format!("starting the epoch ticker: {e}")))?;
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                cfg,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.cfg
    }

    /// How many distinct components are compiled and cached.
    pub fn cached_components(&self) -> usize {
        self.cache().len()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Plugin>> {
        // A panic while holding the lock cannot leave the map inconsistent (single
        // inserts), so a poisoned lock is still usable.
        self.inner.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Compile + validate a component (must target the `wharf:connector/marketplace`
    /// world of the supported WIT version); cached by sha256 of the bytes: loading the
    /// same bytes twice reuses the compiled component and its `InstancePre`.
    ///
    /// Compiling is CPU-heavy: async callers should run this on a blocking thread.
    pub fn load(&self, component: &[u8]) -> Result<Plugin, RuntimeError> {
        let digest: [u8; 32] = Sha256::digest(component).into();
        if let Some(hit) = self.cache().get(&digest) {
            return Ok(hit.clone());
        }
        check_header(component)?;
        let compiled = Component::from_binary(&self.inner.engine, component)
            .map_err(|e| RuntimeError::Compile(format!("{e:#}")))?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&compiled)
            .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        let pre =
            MarketplacePre::new(pre).map_err(|e| RuntimeError::WrongWorld(format!("{e:#}")))?;
        let plugin = Plugin {
            inner: Arc::new(PluginInner {
                digest: hex::encode(digest),
                engine: self.inner.engine.clone(),
                pre,
            }),
        };
        tracing::info!(digest = %plugin.digest(), "plugin component compiled");
        Ok(self.cache().entry(digest).or_insert(plugin).clone())
    }

    /// `describe`: what the connector says about itself.
    pub async fn describe(
        &self,
        p: &Plugin,
        ctx: &CallContext,
    ) -> Result<ConnectorInfo, ConnectorError> {
        self.describe_with(p, ctx, &CallOptions::default()).await.0
    }

    /// [`describe`](Self::describe) with harness options, plus what the call cost.
    pub async fn describe_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
    ) -> (Result<ConnectorInfo, ConnectorError>, CallReport) {
        let (info, report) = self
            .invoke(p, ctx, opts, Deadline::Call, |m, store| {
                Box::pin(async move { m.wharf_connector_channel().call_describe(store).await })
            })
            .await;
        let checked = info.and_then(|info| {
            let bytes = info.platform.len()
                + info.display_name.len()
                + info
                    .capabilities
                    .iter()
                    .map(|c| c.len() + 24)
                    .sum::<usize>();
            if bytes > self.inner.cfg.max_output_bytes {
                return Err(ConnectorError::OutputTooLarge(format!(
                    "describe returned about {bytes} bytes"
                )));
            }
            Ok(convert::info(info))
        });
        (checked, report)
    }

    /// `verify-webhook` under the webhook deadline.
    pub async fn verify_webhook(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<WebhookEvent, ConnectorError> {
        self.verify_webhook_with(p, ctx, &CallOptions::default(), headers, body)
            .await
            .0
    }

    /// [`verify_webhook`](Self::verify_webhook) with harness options, plus what the call
    /// cost.
    pub async fn verify_webhook_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> (Result<WebhookEvent, ConnectorError>, CallReport) {
        let headers = convert::headers(headers);
        let (event, report) = self
            .invoke(p, ctx, opts, Deadline::Webhook, move |m, store| {
                Box::pin(async move {
                    m.wharf_connector_channel()
                        .call_verify_webhook(store, &headers, &body)
                        .await
                })
            })
            .await;
        let checked = event
            .and_then(|e| e.map_err(convert::error))
            .and_then(|event| {
                let extra = event.topic.len() + event.delivery_id.as_ref().map_or(0, String::len);
                self.check_output(&event.orders, extra)?;
                Ok(convert::webhook_event(event))
            });
        (checked, report)
    }

    /// `pull-orders` from `cursor`.
    pub async fn pull_orders(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        cursor: Option<String>,
    ) -> Result<Page, ConnectorError> {
        self.pull_orders_with(p, ctx, &CallOptions::default(), cursor)
            .await
            .0
    }

    /// [`pull_orders`](Self::pull_orders) with harness options, plus what the call cost.
    pub async fn pull_orders_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        cursor: Option<String>,
    ) -> (Result<Page, ConnectorError>, CallReport) {
        let (page, report) = self
            .invoke(p, ctx, opts, Deadline::Call, move |m, store| {
                Box::pin(async move {
                    m.wharf_connector_channel()
                        .call_pull_orders(store, cursor.as_deref())
                        .await
                })
            })
            .await;
        let checked = page
            .and_then(|p| p.map_err(convert::error))
            .and_then(|page| {
                self.check_output(&page.orders, page.cursor.as_ref().map_or(0, String::len))?;
                Ok(convert::page(page))
            });
        (checked, report)
    }

    /// `get-order`: the order as the platform has it now.
    pub async fn get_order(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        external_id: &str,
    ) -> Result<Option<Order>, ConnectorError> {
        self.get_order_with(p, ctx, &CallOptions::default(), external_id)
            .await
            .0
    }

    /// [`get_order`](Self::get_order) with harness options, plus what the call cost.
    pub async fn get_order_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        external_id: &str,
    ) -> (Result<Option<Order>, ConnectorError>, CallReport) {
        let id = external_id.to_string();
        let (order, report) = self
            .invoke(p, ctx, opts, Deadline::Call, move |m, store| {
                Box::pin(
                    async move { m.wharf_connector_channel().call_get_order(store, &id).await },
                )
            })
            .await;
        let checked = order
            .and_then(|o| o.map_err(convert::error))
            .and_then(|order| {
                if let Some(o) = &order {
                    self.check_output(std::slice::from_ref(o), 0)?;
                }
                Ok(order.map(convert::order))
            });
        (checked, report)
    }

    /// `push-inventory`: set available-to-sell for listings on the platform.
    pub async fn push_inventory(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        levels: &[StockLevel],
    ) -> Result<Vec<StockPushResult>, ConnectorError> {
        self.push_inventory_with(p, ctx, &CallOptions::default(), levels)
            .await
            .0
    }

    /// [`push_inventory`](Self::push_inventory) with harness options, plus what the call
    /// cost. The answer must name at most one result per pushed level.
    pub async fn push_inventory_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        levels: &[StockLevel],
    ) -> (Result<Vec<StockPushResult>, ConnectorError>, CallReport) {
        let wit_levels: Vec<_> = levels.iter().map(convert::stock_level).collect();
        let pushed = levels.len();
        let (res, report) = self
            .invoke(p, ctx, opts, Deadline::Call, move |m, store| {
                Box::pin(async move {
                    m.wharf_connector_channel()
                        .call_push_inventory(store, &wit_levels)
                        .await
                })
            })
            .await;
        let max_bytes = self.inner.cfg.max_output_bytes;
        let checked = res
            .and_then(|r| r.map_err(convert::error))
            .and_then(|results| {
                let bytes: usize = results
                    .iter()
                    .map(|r| r.sku.len() + r.message.len() + 8)
                    .sum();
                if results.len() > pushed || bytes > max_bytes {
                    return Err(ConnectorError::OutputTooLarge(format!(
                        "push-inventory answered {} results ({bytes} bytes) for {pushed} levels",
                        results.len()
                    )));
                }
                Ok(results
                    .into_iter()
                    .map(convert::stock_push_result)
                    .collect())
            });
        (checked, report)
    }

    fn check_output(
        &self,
        orders: &[crate::bindings::wit::Order],
        extra: usize,
    ) -> Result<(), ConnectorError> {
        let cfg = &self.inner.cfg;
        convert::check_output(orders, extra, cfg.max_orders_per_call, cfg.max_output_bytes)
    }

    /// Run one export in a fresh store under the call's limits; map every failure to a
    /// typed `ConnectorError`; report what the call cost.
    async fn invoke<R, F>(
        &self,
        plugin: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        deadline: Deadline,
        call: F,
    ) -> (Result<R, ConnectorError>, CallReport)
    where
        R: Send,
        F: for<'a> FnOnce(&'a Marketplace, &'a mut Store<State>) -> CallFuture<'a, R> + Send,
    {
        if !Engine::same(&plugin.inner.engine, &self.inner.engine) {
            return (
                Err(ConnectorError::Instantiate(
                    "the plugin was loaded by a different runtime".into(),
                )),
                CallReport::default(),
            );
        }
        let cfg = &self.inner.cfg;
        let timeout = match deadline {
            Deadline::Webhook => cfg.webhook_timeout,
            Deadline::Call => cfg.call_timeout,
        };
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let (state, pipes) = State::new(cfg, ctx, opts);
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        if let Some(budget) = cfg.fuel {
            if let Err(e) = store.set_fuel(budget) {
                return (
                    Err(ConnectorError::Instantiate(format!("setting fuel: {e:#}"))),
                    CallReport::default(),
                );
            }
        }
        let started = Instant::now();
        let ends_at = started + timeout;
        // Every epoch tick, a running plugin yields to the executor (so it cannot starve
        // other calls on the same thread) until its deadline, where it is interrupted.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= ends_at {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        let mut instantiating = true;
        let run = async {
            let instance = plugin.inner.pre.instantiate_async(&mut store).await?;
            instantiating = false;
            call(&instance, &mut store).await
        };
        // The epoch only interrupts running WebAssembly; time spent in host calls (an HTTP
        // request the plugin waits on) is bounded by this outer timeout.
        let outcome = tokio::time::timeout_at(ends_at.into(), run).await;
        let fuel_used = cfg
            .fuel
            .map(|budget| budget.saturating_sub(store.get_fuel().unwrap_or(0)));
        let mut report = CallReport {
            wall_time: started.elapsed(),
            peak_memory_bytes: store.data().limiter.peak() as u64,
            fuel_used,
            out_of_fuel: false,
        };
        let result = match outcome {
            Err(_elapsed) => Err(ConnectorError::Timeout(timeout_ms)),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                let data = store.data();
                let stderr = pipes.stderr.contents();
                Err(faults::classify(
                    &err,
                    &Facts {
                        memory_refused_cap: data.limiter.refused().map(|_| data.limiter.cap()),
                        timeout_ms,
                        fuel_budget: cfg.fuel,
                        stderr: &stderr,
                        instantiating,
                        redactor: &data.logs.redactor,
                    },
                ))
            }
        };
        if let Err(ConnectorError::Trap(m)) = &result {
            report.out_of_fuel = cfg.fuel.is_some() && m.starts_with("out of fuel");
        }
        if let Err(e) = &result {
            if e.is_sandbox_fault() {
                tracing::warn!(
                    installation_id = ctx.installation_id,
                    merchant_id = ctx.merchant_id,
                    plugin = %plugin.digest(),
                    elapsed_ms = elapsed_ms(started.elapsed()),
                    "plugin call failed: {e}"
                );
            }
        }
        (result, report)
    }
}

fn elapsed_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Tell garbage and core modules apart from components before handing bytes to the
/// compiler, so the error says what is wrong.
fn check_header(bytes: &[u8]) -> Result<(), RuntimeError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(RuntimeError::NotWasm(
            "the bytes do not start with the WebAssembly magic number \\0asm".into(),
        ));
    }
    match [bytes[6], bytes[7]] {
        [1, 0] => Ok(()),
        [0, 0] => Err(RuntimeError::CoreModule),
        layer => Err(RuntimeError::NotWasm(format!(
            "unknown WebAssembly binary layer {layer:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Garbage, core modules and components are told apart by their header.
    #[test]
    fn headers_are_classified() {
        assert!(matches!(
            check_header(b"hello world"),
            Err(RuntimeError::NotWasm(_))
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(RuntimeError::CoreModule)
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
        assert!(matches!(
            check_header(b"\0asm"),
            Err(RuntimeError::NotWasm(_))
        ));
    }
}
