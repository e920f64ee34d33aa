//! The data of one call's `Store`: a WASI context that grants nothing (no preopens, no
//! environment, no arguments, no sockets; stdout / stderr captured in bounded memory),
//! the `wasi:http` context with the installation's egress hooks, the memory limiter, and
//! the installation's config, secrets and log budget. Harness options (a frozen clock, a
//! fake transport) plug in here; nothing else changes.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::config::RuntimeConfig;
use crate::context::{CallContext, LogSink, Redactor};
use crate::egress::EgressHooks;
use crate::limits::MemoryLimiter;
use crate::options::CallOptions;

/// Bytes of plugin stdout / stderr kept per call (enough for a panic report).
const PIPE_CAPACITY: usize = 64 * 1024;

pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: EgressHooks,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) secrets: BTreeMap<String, String>,
    /// Built from `secrets` the first time a log line or an error needs masking: most
    /// calls write neither, and building it copies every secret.
    redactor: OnceCell<Redactor>,
    pub(crate) logs: LogBudget,
}

/// Where a call's log lines go, and how many more it may write.
pub(crate) struct LogBudget {
    pub(crate) sink: Arc<dyn LogSink>,
    pub(crate) installation_id: i64,
    pub(crate) written: usize,
    pub(crate) max: usize,
}

/// The captured output streams of a call.
pub(crate) struct Pipes {
    pub(crate) stderr: MemoryOutputPipe,
}

impl State {
    pub(crate) fn new(
        cfg: &RuntimeConfig,
        ctx: &CallContext,
        opts: &CallOptions,
    ) -> (State, Pipes) {
        let stdout = MemoryOutputPipe::new(PIPE_CAPACITY);
        let stderr = MemoryOutputPipe::new(PIPE_CAPACITY);
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout)
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        if let Some(clock) = &opts.clock {
            builder
                .wall_clock(clock.clone())
                .monotonic_clock(clock.clone());
        }
        let wasi = builder.build();
        let state = State {
            wasi,
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: EgressHooks::new(
                Arc::new(ctx.egress.clone()),
                ctx.logs.clone(),
                ctx.installation_id,
            )
            .with_transport(opts.transport.clone()),
            limiter: MemoryLimiter::new(cfg.memory_bytes),
            config: ctx.config.clone(),
            secrets: ctx.secrets.clone(),
            redactor: OnceCell::new(),
            logs: LogBudget {
                sink: ctx.logs.clone(),
                installation_id: ctx.installation_id,
                written: 0,
                max: cfg.max_log_lines_per_call,
            },
        };
        (state, Pipes { stderr })
    }

    /// Masks this installation's secret values in text that leaves the sandbox.
    pub(crate) fn redactor(&self) -> &Redactor {
        self.redactor.get_or_init(|| Redactor::new(&self.secrets))
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
