//! The [`Runtime`]: one wasmtime engine and linker for the process, a cache of compiled
//! components keyed by the sha256 of their bytes, and the call path that gives every call
//! a fresh store with its own limits. Every export has a `*_with` form taking harness
//! [`CallOptions`] and returning a [`CallReport`] (wall time, peak memory, fuel).
//!
//! A [`Plugin`] knows the contract version and world it was built against (the manifest's
//! `wit_version`, checked against the component's own imports and exports at load). Every
//! call dispatches on it: marketplace calls run on 0.1.0 and 0.2.0 plugins alike (their
//! results adapted to the domain by the same conversion code); courier and accounting
//! calls exist from 0.2.0. A call a plugin's world does not have answers `unsupported`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};
use wharf_domain::accounting::{Journal, Voucher};
use wharf_domain::connector::{
    ConnectorError, ConnectorInfo, Page, Shipment, StockLevel, StockPushResult, WebhookEvent,
};
use wharf_domain::courier::{ServiceQuote, TrackingEvent, Waybill, WaybillRequest};
use wharf_domain::manifest::PluginKind;
use wharf_domain::settlement::SettlementPage;
use wharf_domain::Order;

use crate::bindings::v0_2;
use crate::config::RuntimeConfig;
use crate::context::CallContext;
use crate::contract::{self, world_name, Contract};
use crate::convert;
use crate::error::RuntimeError;
use crate::exports::{Channel, ChannelPre, V0_1, V0_2};
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
    /// One permit per pooled instance slot: a call beyond the pool waits for a slot
    /// instead of failing. `None` without a pool.
    slots: Option<Arc<tokio::sync::Semaphore>>,
}

/// A loaded (compiled, linked, world-checked) plugin component. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

struct PluginInner {
    digest: String,
    engine: Engine,
    contract: Contract,
    pre: Pre,
}

/// The typed `InstancePre` of the plugin's world, per contract version.
enum Pre {
    MarketplaceV0_1(ChannelPre<V0_1>),
    MarketplaceV0_2(ChannelPre<V0_2>),
    CourierV0_2(v0_2::CourierPre<State>),
    AccountingV0_2(v0_2::AccountingPre<State>),
}

/// A world's `InstancePre`: instantiates that world's bindings in a call's store.
trait WorldPre: Send + Sync {
    type Bindings: Send + Sync;
    fn instantiate<'a>(&'a self, store: &'a mut Store<State>) -> CallFuture<'a, Self::Bindings>;
}

macro_rules! world_pre {
    ($($pre:ty => $bindings:ty),* $(,)?) => {$(
        impl WorldPre for $pre {
            type Bindings = $bindings;
            fn instantiate<'a>(
                &'a self,
                store: &'a mut Store<State>,
            ) -> CallFuture<'a, $bindings> {
                Box::pin(self.instantiate_async(store))
            }
        }
    )*};
}

world_pre!(
    v0_2::CourierPre<State> => v0_2::Courier,
    v0_2::AccountingPre<State> => v0_2::Accounting,
);

impl<V: 'static> WorldPre for ChannelPre<V> {
    type Bindings = Channel<V>;
    fn instantiate<'a>(&'a self, store: &'a mut Store<State>) -> CallFuture<'a, Channel<V>> {
        Box::pin(self.new_instance(store))
    }
}

/// Run one `channel` export on a marketplace plugin of whichever contract version it was
/// built against. The body is expanded once per version, with `$ch` that version's
/// `channel` exports, `$store` the call's store and `$v` that version's conversion module:
/// the WIT shapes are identical, so the same text type-checks against both, and 0.1.0
/// results are adapted to the domain by the same code as 0.2.0. The body returns
/// `wasmtime::Result<Result<T, ConnectorError>>`. A plugin of another world answers
/// `unsupported`.
macro_rules! channel_call {
    ($rt:expr, $p:expr, $ctx:expr, $opts:expr, $deadline:expr, $export:literal,
     |$ch:ident, $store:ident, $v:ident| $body:expr) => {
        match &$p.inner.pre {
            Pre::MarketplaceV0_1(pre) => {
                use crate::convert::v0_1 as $v;
                flat(
                    $rt.invoke($p, pre, $ctx, $opts, $deadline, move |m, $store| {
                        Box::pin(async move {
                            let $ch = m;
                            $body
                        })
                    })
                    .await,
                )
            }
            Pre::MarketplaceV0_2(pre) => {
                use crate::convert::v0_2 as $v;
                flat(
                    $rt.invoke($p, pre, $ctx, $opts, $deadline, move |m, $store| {
                        Box::pin(async move {
                            let $ch = m;
                            $body
                        })
                    })
                    .await,
                )
            }
            _ => not_in_world($p, $export),
        }
    };
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

    /// The `wharf:connector` version the plugin was built against (e.g. "0.1.0").
    pub fn wit_version(&self) -> &'static str {
        self.inner.contract.version
    }

    /// The world the plugin implements: marketplace, courier or accounting.
    pub fn kind(&self) -> PluginKind {
        self.inner.contract.kind
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("digest", &self.inner.digest)
            .field("wit_version", &self.wit_version())
            .field("kind", &self.kind())
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

/// The pooling allocator's sizes for `cfg.instance_pool` live instances: every slot's
/// memory is capped at the per-call memory limit. A component is several core instances
/// (a Rust connector a handful, a componentize-py one a dozen or more, each with its own
/// memory or table), hence the per-instance multiples.
fn pool(cfg: &RuntimeConfig) -> PoolingAllocationConfig {
    let n = cfg.instance_pool;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(32))
        .total_memories(n.saturating_mul(4))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_memories_per_module(1)
        .max_tables_per_module(4)
        .table_elements(200_000)
        .max_memory_size(cfg.memory_bytes)
        // A slot is reset for its next instance by writing its dirty pages back (zeroes,
        // or the module's initial image) rather than by `madvise`: unmapping pages costs
        // a TLB shootdown on every core, per instance. Only the resident pages are
        // rewritten where the kernel can say which they are (PAGEMAP_SCAN, Linux 6.7+).
        .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
        .table_keep_resident(KEEP_RESIDENT_TABLE)
        .pagemap_scan(wasmtime::Enabled::Auto);
    pool
}

/// Bytes of each pooled linear memory reset in place instead of decommitted: a
/// connector's call typically touches well under this.
const KEEP_RESIDENT_MEMORY: usize = 2 << 20;
/// Bytes of each pooled table reset in place instead of decommitted.
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

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
        if cfg.instance_pool > 0 {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(&cfg)));
        }
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
                slots: (cfg.instance_pool > 0)
                    .then(|| Arc::new(tokio::sync::Semaphore::new(cfg.instance_pool as usize))),
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

    /// Compile + validate a component built against contract version `wit_version` (the
    /// manifest's): the version must be one this host supports, the component's own
    /// `wharf:connector` imports and exports must carry exactly that version, and it must
    /// implement one world of it (marketplace; from 0.2.0 also courier or accounting).
    /// Cached by sha256 of the bytes: loading the same bytes twice reuses the compiled
    /// component and its `InstancePre` (the claimed version is checked on every load).
    ///
    /// Compiling is CPU-heavy: async callers should run this on a blocking thread.
    pub fn load(&self, component: &[u8], wit_version: &str) -> Result<Plugin, RuntimeError> {
        let claimed = contract::supported(wit_version)?;
        let digest: [u8; 32] = Sha256::digest(component).into();
        let hit = self.cache().get(&digest).cloned();
        if let Some(hit) = hit {
            if hit.wit_version() != claimed {
                return Err(RuntimeError::VersionMismatch {
                    manifest: claimed.to_string(),
                    component: hit.wit_version().to_string(),
                });
            }
            return Ok(hit);
        }
        check_header(component)?;
        let compiled = Component::from_binary(&self.inner.engine, component)
            .map_err(|e| RuntimeError::Compile(format!("{e:#}")))?;
        let contract = contract::check(&self.inner.engine, &compiled, claimed)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&compiled)
            .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        let wrong = |e: wasmtime::Error| {
            RuntimeError::WrongWorld(format!(
                "wharf:connector/{}@{}: {e:#}",
                world_name(contract.kind),
                contract.version
            ))
        };
        let channel = format!("wharf:connector/channel@{}", contract.version);
        let pre = match (contract.version, contract.kind) {
            ("0.1.0", PluginKind::Marketplace) => {
                Pre::MarketplaceV0_1(ChannelPre::new(pre, &channel).map_err(wrong)?)
            }
            ("0.2.0", PluginKind::Marketplace) => {
                Pre::MarketplaceV0_2(ChannelPre::new(pre, &channel).map_err(wrong)?)
            }
            ("0.2.0", PluginKind::Courier) => {
                Pre::CourierV0_2(v0_2::CourierPre::new(pre).map_err(wrong)?)
            }
            ("0.2.0", PluginKind::Accounting) => {
                Pre::AccountingV0_2(v0_2::AccountingPre::new(pre).map_err(wrong)?)
            }
            (version, kind) => {
                return Err(RuntimeError::WrongWorld(format!(
                    "this host has no bindings for the {} world of wharf:connector@{version}",
                    world_name(kind)
                )))
            }
        };
        let plugin = Plugin {
            inner: Arc::new(PluginInner {
                digest: hex::encode(digest),
                engine: self.inner.engine.clone(),
                contract,
                pre,
            }),
        };
        tracing::info!(
            digest = %plugin.digest(),
            wit_version = plugin.wit_version(),
            world = world_name(plugin.kind()),
            "plugin component compiled"
        );
        Ok(self.cache().entry(digest).or_insert(plugin).clone())
    }

    /// `describe`: what the connector says about itself (any world).
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
        let max = self.inner.cfg.max_output_bytes;
        match &p.inner.pre {
            Pre::CourierV0_2(pre) => flat(
                self.invoke(p, pre, ctx, opts, Deadline::Call, move |c, store| {
                    Box::pin(async move {
                        let info = c.wharf_connector_shipping().call_describe(store).await?;
                        Ok(checked_info(convert::v0_2::info(info), max))
                    })
                })
                .await,
            ),
            Pre::AccountingV0_2(pre) => flat(
                self.invoke(p, pre, ctx, opts, Deadline::Call, move |a, store| {
                    Box::pin(async move {
                        let info = a.wharf_connector_ledger().call_describe(store).await?;
                        Ok(checked_info(convert::v0_2::info(info), max))
                    })
                })
                .await,
            ),
            _ => channel_call!(
                self,
                p,
                ctx,
                opts,
                Deadline::Call,
                "describe",
                |ch, store, v| {
                    let info = ch.call_describe(store).await?;
                    Ok(checked_info(v::info(info), max))
                }
            ),
        }
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
        let (max_orders, max_bytes) = self.output_bounds();
        channel_call!(
            self,
            p,
            ctx,
            opts,
            Deadline::Webhook,
            "verify-webhook",
            |ch, store, v| {
                let headers = v::headers(headers);
                let event = ch.call_verify_webhook(store, &headers, &body).await?;
                Ok(event.map_err(v::error).and_then(|event| {
                    let extra =
                        event.topic.len() + event.delivery_id.as_ref().map_or(0, String::len);
                    v::check_output(&event.orders, extra, max_orders, max_bytes)?;
                    Ok(v::webhook_event(event))
                }))
            }
        )
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
        let (max_orders, max_bytes) = self.output_bounds();
        channel_call!(
            self,
            p,
            ctx,
            opts,
            Deadline::Call,
            "pull-orders",
            |ch, store, v| {
                let page = ch.call_pull_orders(store, cursor.as_deref()).await?;
                Ok(page.map_err(v::error).and_then(|page| {
                    let extra = page.cursor.as_ref().map_or(0, String::len);
                    v::check_output(&page.orders, extra, max_orders, max_bytes)?;
                    Ok(v::page(page))
                }))
            }
        )
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
        let (max_orders, max_bytes) = self.output_bounds();
        let id = external_id.to_string();
        channel_call!(
            self,
            p,
            ctx,
            opts,
            Deadline::Call,
            "get-order",
            |ch, store, v| {
                let order = ch.call_get_order(store, &id).await?;
                Ok(order.map_err(v::error).and_then(|order| {
                    if let Some(o) = &order {
                        v::check_output(std::slice::from_ref(o), 0, max_orders, max_bytes)?;
                    }
                    Ok(order.map(v::order))
                }))
            }
        )
    }

    /// `confirm-shipment`: report a shipment (carrier + tracking number) to the platform.
    pub async fn confirm_shipment(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        shipment: &Shipment,
    ) -> Result<(), ConnectorError> {
        self.confirm_shipment_with(p, ctx, &CallOptions::default(), shipment)
            .await
            .0
    }

    /// [`confirm_shipment`](Self::confirm_shipment) with harness options, plus what the
    /// call cost.
    pub async fn confirm_shipment_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        shipment: &Shipment,
    ) -> (Result<(), ConnectorError>, CallReport) {
        let shipment = shipment.clone();
        channel_call!(
            self,
            p,
            ctx,
            opts,
            Deadline::Call,
            "confirm-shipment",
            |ch, store, v| {
                let res = ch
                    .call_confirm_shipment(store, &v::shipment(&shipment))
                    .await?;
                Ok(res.map_err(v::error))
            }
        )
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
        let (_, max_bytes) = self.output_bounds();
        let levels = levels.to_vec();
        channel_call!(
            self,
            p,
            ctx,
            opts,
            Deadline::Call,
            "push-inventory",
            |ch, store, v| {
                let pushed = levels.len();
                let wit_levels: Vec<_> = levels.iter().map(v::stock_level).collect();
                let res = ch.call_push_inventory(store, &wit_levels).await?;
                Ok(res.map_err(v::error).and_then(|results| {
                    let bytes: usize = results
                        .iter()
                        .map(|r| r.sku.len() + r.message.len() + 8)
                        .sum();
                    if results.len() > pushed || bytes > max_bytes {
                        return Err(ConnectorError::OutputTooLarge(format!(
                            "push-inventory answered {} results ({bytes} bytes) for {pushed} \
                             levels",
                            results.len()
                        )));
                    }
                    Ok(results.into_iter().map(v::stock_push_result).collect())
                }))
            }
        )
    }

    /// `fetch-settlements`: one page of settlement lines and payouts for the period
    /// `[period_start, period_end)` (Unix ms), from `cursor`.
    pub async fn fetch_settlements(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        period_start: i64,
        period_end: i64,
        cursor: Option<String>,
    ) -> Result<SettlementPage, ConnectorError> {
        let opts = CallOptions::default();
        self.fetch_settlements_with(p, ctx, &opts, period_start, period_end, cursor)
            .await
            .0
    }

    /// [`fetch_settlements`](Self::fetch_settlements) with harness options, plus what the
    /// call cost. A page may hold at most ten times the per-call order bound of lines and
    /// payouts, and no more than the byte bound.
    pub async fn fetch_settlements_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        period_start: i64,
        period_end: i64,
        cursor: Option<String>,
    ) -> (Result<SettlementPage, ConnectorError>, CallReport) {
        let (max_orders, max_bytes) = self.output_bounds();
        channel_call!(
            self,
            p,
            ctx,
            opts,
            Deadline::Call,
            "fetch-settlements",
            |ch, store, v| {
                let res = ch
                    .call_fetch_settlements(store, period_start, period_end, cursor.as_deref())
                    .await?;
                Ok(res.map_err(v::error).and_then(|page| {
                    let count = page.lines.len() + page.payouts.len();
                    let bytes = v::settlement_page_bytes(&page);
                    if count > max_orders.saturating_mul(10) || bytes > max_bytes {
                        return Err(ConnectorError::OutputTooLarge(format!(
                            "fetch-settlements returned {count} records (about {bytes} bytes)"
                        )));
                    }
                    Ok(v::settlement_page(page))
                }))
            }
        )
    }

    // --- courier (wharf:connector/shipping, from 0.2.0) --------------------------------

    /// `quote`: the carrier's prices for shipping `request`, one per service.
    pub async fn quote(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        request: &WaybillRequest,
    ) -> Result<Vec<ServiceQuote>, ConnectorError> {
        self.quote_with(p, ctx, &CallOptions::default(), request)
            .await
            .0
    }

    /// [`quote`](Self::quote) with harness options, plus what the call cost.
    pub async fn quote_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        request: &WaybillRequest,
    ) -> (Result<Vec<ServiceQuote>, ConnectorError>, CallReport) {
        let Pre::CourierV0_2(pre) = &p.inner.pre else {
            return not_in_world(p, "quote");
        };
        let (max_count, max_bytes) = self.output_bounds();
        let request = convert::shipping::request(request);
        flat(
            self.invoke(p, pre, ctx, opts, Deadline::Call, move |c, store| {
                Box::pin(async move {
                    let quotes = c
                        .wharf_connector_shipping()
                        .call_quote(store, &request)
                        .await?;
                    Ok(quotes.map_err(convert::v0_2::error).and_then(|quotes| {
                        let bytes = quotes.iter().map(convert::shipping::quote_bytes).sum();
                        bound("quote", quotes.len(), bytes, max_count, max_bytes)?;
                        Ok(quotes.into_iter().map(convert::shipping::quote).collect())
                    }))
                })
            })
            .await,
        )
    }

    /// `create-waybill`: book the shipment and get its waybill and label.
    pub async fn create_waybill(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        request: &WaybillRequest,
    ) -> Result<Waybill, ConnectorError> {
        self.create_waybill_with(p, ctx, &CallOptions::default(), request)
            .await
            .0
    }

    /// [`create_waybill`](Self::create_waybill) with harness options, plus what the call
    /// cost. The label counts against the output bound.
    pub async fn create_waybill_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        request: &WaybillRequest,
    ) -> (Result<Waybill, ConnectorError>, CallReport) {
        let Pre::CourierV0_2(pre) = &p.inner.pre else {
            return not_in_world(p, "create-waybill");
        };
        let (_, max_bytes) = self.output_bounds();
        let request = convert::shipping::request(request);
        flat(
            self.invoke(p, pre, ctx, opts, Deadline::Call, move |c, store| {
                Box::pin(async move {
                    let waybill = c
                        .wharf_connector_shipping()
                        .call_create_waybill(store, &request)
                        .await?;
                    Ok(waybill.map_err(convert::v0_2::error).and_then(|w| {
                        let bytes = convert::shipping::waybill_bytes(&w);
                        bound("create-waybill", 1, bytes, 1, max_bytes)?;
                        Ok(convert::shipping::waybill(w))
                    }))
                })
            })
            .await,
        )
    }

    /// `cancel-waybill`: cancel a waybill that has not been picked up.
    pub async fn cancel_waybill(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        tracking_number: &str,
    ) -> Result<(), ConnectorError> {
        self.cancel_waybill_with(p, ctx, &CallOptions::default(), tracking_number)
            .await
            .0
    }

    /// [`cancel_waybill`](Self::cancel_waybill) with harness options, plus what the call
    /// cost.
    pub async fn cancel_waybill_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        tracking_number: &str,
    ) -> (Result<(), ConnectorError>, CallReport) {
        let Pre::CourierV0_2(pre) = &p.inner.pre else {
            return not_in_world(p, "cancel-waybill");
        };
        let number = tracking_number.to_string();
        flat(
            self.invoke(p, pre, ctx, opts, Deadline::Call, move |c, store| {
                Box::pin(async move {
                    let done = c
                        .wharf_connector_shipping()
                        .call_cancel_waybill(store, &number)
                        .await?;
                    Ok(done.map_err(convert::v0_2::error))
                })
            })
            .await,
        )
    }

    /// `track`: the shipment's tracking history, oldest first.
    pub async fn track(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        tracking_number: &str,
    ) -> Result<Vec<TrackingEvent>, ConnectorError> {
        self.track_with(p, ctx, &CallOptions::default(), tracking_number)
            .await
            .0
    }

    /// [`track`](Self::track) with harness options, plus what the call cost.
    pub async fn track_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        tracking_number: &str,
    ) -> (Result<Vec<TrackingEvent>, ConnectorError>, CallReport) {
        let Pre::CourierV0_2(pre) = &p.inner.pre else {
            return not_in_world(p, "track");
        };
        let (max_count, max_bytes) = self.output_bounds();
        let number = tracking_number.to_string();
        flat(
            self.invoke(p, pre, ctx, opts, Deadline::Call, move |c, store| {
                Box::pin(async move {
                    let events = c
                        .wharf_connector_shipping()
                        .call_track(store, &number)
                        .await?;
                    Ok(events.map_err(convert::v0_2::error).and_then(|events| {
                        let bytes = events.iter().map(convert::shipping::event_bytes).sum();
                        bound("track", events.len(), bytes, max_count, max_bytes)?;
                        Ok(events
                            .into_iter()
                            .map(convert::shipping::tracking_event)
                            .collect())
                    }))
                })
            })
            .await,
        )
    }

    // --- accounting (wharf:connector/ledger, from 0.2.0) -------------------------------

    /// `post-journal`: post `journal` to the ERP as one voucher.
    pub async fn post_journal(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        journal: &Journal,
    ) -> Result<Voucher, ConnectorError> {
        self.post_journal_with(p, ctx, &CallOptions::default(), journal)
            .await
            .0
    }

    /// [`post_journal`](Self::post_journal) with harness options, plus what the call cost.
    pub async fn post_journal_with(
        &self,
        p: &Plugin,
        ctx: &CallContext,
        opts: &CallOptions,
        journal: &Journal,
    ) -> (Result<Voucher, ConnectorError>, CallReport) {
        let Pre::AccountingV0_2(pre) = &p.inner.pre else {
            return not_in_world(p, "post-journal");
        };
        let (_, max_bytes) = self.output_bounds();
        let journal = convert::ledger::journal(journal);
        flat(
            self.invoke(p, pre, ctx, opts, Deadline::Call, move |a, store| {
                Box::pin(async move {
                    let voucher = a
                        .wharf_connector_ledger()
                        .call_post_journal(store, &journal)
                        .await?;
                    Ok(voucher.map_err(convert::v0_2::error).and_then(|v| {
                        bound(
                            "post-journal",
                            1,
                            convert::ledger::voucher_bytes(&v),
                            1,
                            max_bytes,
                        )?;
                        Ok(convert::ledger::voucher(v))
                    }))
                })
            })
            .await,
        )
    }

    /// (largest item count, largest byte size) of one call's output.
    pub(crate) fn output_bounds(&self) -> (usize, usize) {
        let cfg = &self.inner.cfg;
        (cfg.max_orders_per_call, cfg.max_output_bytes)
    }

    /// Run one export in a fresh store under the call's limits; map every failure to a
    /// typed `ConnectorError`; report what the call cost.
    async fn invoke<W, R, F>(
        &self,
        plugin: &Plugin,
        pre: &W,
        ctx: &CallContext,
        opts: &CallOptions,
        deadline: Deadline,
        call: F,
    ) -> (Result<R, ConnectorError>, CallReport)
    where
        W: WorldPre,
        R: Send,
        F: for<'a> FnOnce(&'a W::Bindings, &'a mut Store<State>) -> CallFuture<'a, R> + Send,
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
        // Held until the store (and its pooled instance) is dropped, after it.
        let _slot = match &self.inner.slots {
            Some(slots) => match slots.clone().acquire_owned().await {
                Ok(permit) => Some(permit),
                Err(_) => {
                    return (
                        Err(ConnectorError::Instantiate(
                            "the runtime is shutting down".into(),
                        )),
                        CallReport::default(),
                    )
                }
            },
            None => None,
        };
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
            let instance = pre.instantiate(&mut store).await?;
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
                        redactor: data.redactor(),
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

/// A call whose wasmtime part succeeded carries the plugin's own result: one `Result`.
fn flat<T>(
    (result, report): (
        Result<Result<T, ConnectorError>, ConnectorError>,
        CallReport,
    ),
) -> (Result<T, ConnectorError>, CallReport) {
    (result.and_then(|r| r), report)
}

/// An export the plugin's world does not have: `unsupported`, like an export the plugin
/// does not implement (a marketplace plugin has no `quote`).
fn not_in_world<T>(p: &Plugin, export: &str) -> (Result<T, ConnectorError>, CallReport) {
    tracing::warn!(
        plugin = %p.digest(),
        "{export} called on a {} plugin (wharf:connector@{}): unsupported",
        world_name(p.kind()),
        p.wit_version()
    );
    (Err(ConnectorError::Unsupported), CallReport::default())
}

/// The connector's self-description within the output bound.
fn checked_info(info: ConnectorInfo, max_bytes: usize) -> Result<ConnectorInfo, ConnectorError> {
    let bytes = info.platform.len()
        + info.display_name.len()
        + info
            .capabilities
            .iter()
            .map(|c| c.len() + 24)
            .sum::<usize>();
    if bytes > max_bytes {
        return Err(ConnectorError::OutputTooLarge(format!(
            "describe returned about {bytes} bytes"
        )));
    }
    Ok(info)
}

/// A list output within the count and byte bounds.
fn bound(
    export: &str,
    count: usize,
    bytes: usize,
    max_count: usize,
    max_bytes: usize,
) -> Result<(), ConnectorError> {
    if count > max_count || bytes > max_bytes {
        return Err(ConnectorError::OutputTooLarge(format!(
            "{export} returned {count} items (about {bytes} bytes), over the limit of \
             {max_count} items / {max_bytes} bytes"
        )));
    }
    Ok(())
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
