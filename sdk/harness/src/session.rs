//! A plugin under test: the component loaded by a (fuel-metered) production runtime, one
//! installation's call context, and harness options (fake transport, frozen clock). Every
//! call is logged with what it cost, for the budget check and the `run` report.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use wharf_domain::accounting::{Journal, Voucher};
use wharf_domain::courier::{ServiceQuote, TrackingEvent, Waybill, WaybillRequest};
use wharf_domain::manifest::{validate_config, Manifest, Problems};
use wharf_domain::Order;
use wharf_runtime::{
    CallContext, CallOptions, CallReport, ConnectorError, ConnectorInfo, EgressPolicy, LogLevel,
    LogSink, Page, Plugin, Runtime, RuntimeConfig, WebhookEvent,
};

use crate::error::HarnessError;

/// Read and validate a manifest file.
pub fn load_manifest(path: &Path) -> Result<Manifest, HarnessError> {
    let bytes = std::fs::read(path).map_err(|e| HarnessError::io(path, e))?;
    Manifest::from_json(&bytes)
        .map_err(|p| HarnessError::Manifest(format!("{}: {p}", path.display())))
}

/// One installation of the plugin, as a merchant would set it up.
#[derive(Debug, Clone, Default)]
pub struct Installation {
    /// Validated configuration, as plugins read it (key → string).
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    /// Hosts granted by the merchant.
    pub grants: Vec<String>,
    /// Operator resolver overrides (`host → ip:port`), for recording against a simulator.
    pub resolve: BTreeMap<String, SocketAddr>,
}

impl Installation {
    /// Validate `config` (a JSON object) against the manifest's schema; on problems the
    /// installation still gets the values (rendered as strings) so the caller may report.
    pub fn from_json(
        manifest: &Manifest,
        config: &Value,
        secrets: BTreeMap<String, String>,
        grants: Option<Vec<String>>,
    ) -> (Installation, Result<(), Problems>) {
        let (config, check) = match validate_config(&manifest.config_schema, config) {
            Ok(map) => (map, Ok(())),
            Err(p) => {
                let raw = config
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                                (k.clone(), s)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (raw, Err(p))
            }
        };
        let inst = Installation {
            config,
            secrets,
            grants: grants.unwrap_or_else(|| manifest.hosts.clone()),
            resolve: BTreeMap::new(),
        };
        (inst, check)
    }

    pub fn egress(&self, manifest: &Manifest) -> EgressPolicy {
        EgressPolicy {
            manifest_hosts: manifest.hosts.clone(),
            granted_hosts: self.grants.clone(),
            resolve: self.resolve.clone(),
        }
    }
}

/// Build a config JSON object from `key=value` pairs, typing each value by the schema
/// (`integer` and `boolean` properties are parsed; the rest stay strings).
pub fn config_from_pairs(
    manifest: &Manifest,
    pairs: &[(String, String)],
) -> Result<Value, HarnessError> {
    let mut obj = serde_json::Map::new();
    for (k, v) in pairs {
        let ty = manifest.config_schema["properties"][k]["type"].as_str();
        let value = match ty {
            Some("integer") => v.parse::<i64>().map(Value::from).map_err(|_| {
                HarnessError::Input(format!("--config {k}={v}: expected an integer"))
            })?,
            Some("boolean") => v.parse::<bool>().map(Value::from).map_err(|_| {
                HarnessError::Input(format!("--config {k}={v}: expected true or false"))
            })?,
            _ => Value::from(v.as_str()),
        };
        obj.insert(k.clone(), value);
    }
    Ok(Value::Object(obj))
}

/// Plugin log lines of a session (secret values already masked by the runtime).
#[derive(Debug, Default)]
pub struct LogCapture {
    lines: Mutex<Vec<(LogLevel, String)>>,
}

impl LogSink for LogCapture {
    fn log(&self, _installation_id: i64, level: LogLevel, message: &str) {
        self.lines
            .lock()
            .expect("log lock")
            .push((level, message.to_string()));
    }
}

/// One call a session made.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub export: &'static str,
    pub report: CallReport,
    pub error: Option<ConnectorError>,
}

/// A plugin under test with one installation.
#[derive(Clone)]
pub struct Session {
    runtime: Runtime,
    plugin: Plugin,
    pub manifest: Manifest,
    ctx: CallContext,
    opts: CallOptions,
    logs: Arc<LogCapture>,
    calls: Arc<Mutex<Vec<CallRecord>>>,
}

impl Session {
    /// Load `component` into a production runtime configured by `cfg` (set `cfg.fuel` to
    /// meter instructions). Compiling is CPU-heavy and happens here.
    pub fn new(
        component: &[u8],
        manifest: Manifest,
        inst: &Installation,
        cfg: RuntimeConfig,
        opts: CallOptions,
    ) -> Result<Session, HarnessError> {
        let runtime = Runtime::new(cfg)?;
        let plugin = runtime.load(component, &manifest.wit_version)?;
        let logs = Arc::new(LogCapture::default());
        let ctx = CallContext {
            installation_id: 1,
            merchant_id: 1,
            config: inst.config.clone(),
            secrets: inst.secrets.clone(),
            egress: inst.egress(&manifest),
            logs: logs.clone(),
        };
        Ok(Session {
            runtime,
            plugin,
            manifest,
            ctx,
            opts,
            logs,
            calls: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// The same plugin and installation with other harness options (the call log is
    /// shared).
    pub fn with_options(&self, opts: CallOptions) -> Session {
        Session {
            opts,
            ..self.clone()
        }
    }

    pub fn options(&self) -> &CallOptions {
        &self.opts
    }

    fn note<T>(&self, export: &'static str, out: &(Result<T, ConnectorError>, CallReport)) {
        self.calls.lock().expect("calls lock").push(CallRecord {
            export,
            report: out.1.clone(),
            error: out.0.as_ref().err().cloned(),
        });
    }

    pub async fn describe(&self) -> (Result<ConnectorInfo, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .describe_with(&self.plugin, &self.ctx, &self.opts)
            .await;
        self.note("describe", &out);
        out
    }

    pub async fn verify_webhook(
        &self,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> (Result<WebhookEvent, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .verify_webhook_with(&self.plugin, &self.ctx, &self.opts, headers, body)
            .await;
        self.note("verify-webhook", &out);
        out
    }

    pub async fn pull_orders(
        &self,
        cursor: Option<String>,
    ) -> (Result<Page, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .pull_orders_with(&self.plugin, &self.ctx, &self.opts, cursor)
            .await;
        self.note("pull-orders", &out);
        out
    }

    pub async fn get_order(
        &self,
        external_id: &str,
    ) -> (Result<Option<Order>, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .get_order_with(&self.plugin, &self.ctx, &self.opts, external_id)
            .await;
        self.note("get-order", &out);
        out
    }

    /// The world the component implements (read from its own exports at load).
    pub fn kind(&self) -> wharf_domain::manifest::PluginKind {
        self.plugin.kind()
    }

    pub async fn quote(
        &self,
        request: &WaybillRequest,
    ) -> (Result<Vec<ServiceQuote>, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .quote_with(&self.plugin, &self.ctx, &self.opts, request)
            .await;
        self.note("quote", &out);
        out
    }

    pub async fn create_waybill(
        &self,
        request: &WaybillRequest,
    ) -> (Result<Waybill, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .create_waybill_with(&self.plugin, &self.ctx, &self.opts, request)
            .await;
        self.note("create-waybill", &out);
        out
    }

    pub async fn track(
        &self,
        tracking_number: &str,
    ) -> (Result<Vec<TrackingEvent>, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .track_with(&self.plugin, &self.ctx, &self.opts, tracking_number)
            .await;
        self.note("track", &out);
        out
    }

    pub async fn post_journal(
        &self,
        journal: &Journal,
    ) -> (Result<Voucher, ConnectorError>, CallReport) {
        let out = self
            .runtime
            .post_journal_with(&self.plugin, &self.ctx, &self.opts, journal)
            .await;
        self.note("post-journal", &out);
        out
    }

    /// Every call made so far, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.calls.lock().expect("calls lock").clone()
    }

    /// Plugin log lines so far.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.logs.lines.lock().expect("log lock").clone()
    }
}
