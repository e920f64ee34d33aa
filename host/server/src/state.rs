//! Shared server state: the store, the plugin runtime, settings, and caches.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use wharf_domain::connector::LogLevel;
use wharf_runtime::{CallContext, EgressPolicy, LogSink, Plugin, Runtime};
use wharf_store::{Installation, Store};

use crate::{ApiError, ServerConfig};

/// Cheap to clone; shared by handlers, the scheduler and the demo.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    runtime: Runtime,
    config: ServerConfig,
    /// Loaded plugins by plugin id (the runtime also caches compiled code by hash).
    plugins: Mutex<HashMap<i64, (Plugin, Vec<String>)>>,
    /// Installations with a pull running in this process.
    pulls_in_flight: Mutex<HashSet<i64>>,
    logs: Arc<StoreLogSink>,
    metrics: crate::metrics::Metrics,
}

impl AppState {
    pub fn new(store: Store, runtime: Runtime, config: ServerConfig) -> Self {
        let logs = Arc::new(StoreLogSink {
            store: store.clone(),
        });
        Self {
            inner: Arc::new(Inner {
                store,
                runtime,
                config,
                plugins: Mutex::default(),
                pulls_in_flight: Mutex::default(),
                logs,
                metrics: crate::metrics::Metrics::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// Run a plugin call for an installation, recording its latency and any error kind.
    pub async fn timed_call<T>(
        &self,
        installation_id: i64,
        export: &'static str,
        call: impl std::future::Future<Output = Result<T, wharf_domain::connector::ConnectorError>>,
    ) -> Result<T, wharf_domain::connector::ConnectorError> {
        let started = std::time::Instant::now();
        let result = call.await;
        let inst = installation_id.to_string();
        self.metrics().observe(
            "wharf_plugin_call_seconds",
            vec![
                ("installation", inst.clone()),
                ("export", export.to_string()),
            ],
            started.elapsed(),
        );
        if let Err(e) = &result {
            self.metrics().inc(
                "wharf_plugin_errors_total",
                vec![("installation", inst), ("code", e.code().to_string())],
                1,
            );
        }
        result
    }

    /// The loaded plugin of an installation and the hosts its manifest declares.
    pub async fn plugin(&self, plugin_id: i64) -> Result<(Plugin, Vec<String>), ApiError> {
        if let Some(p) = self
            .inner
            .plugins
            .lock()
            .expect("plugin cache poisoned")
            .get(&plugin_id)
        {
            return Ok(p.clone());
        }
        let record = self
            .store()
            .get_plugin(plugin_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("plugin {plugin_id} not found")))?;
        let bytes = self
            .store()
            .plugin_component(plugin_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("plugin {plugin_id} has no component")))?;
        let plugin = self
            .load_component(bytes, record.wit_version.clone())
            .await?
            .map_err(|e| ApiError::Internal(format!("loading plugin {plugin_id}: {e}")))?;
        let entry = (plugin, record.manifest.hosts.clone());
        self.inner
            .plugins
            .lock()
            .expect("plugin cache poisoned")
            .insert(plugin_id, entry.clone());
        Ok(entry)
    }

    /// Compile (or fetch from the cache) a component built against contract version
    /// `wit_version` (its manifest's) off the async executor: compiling is CPU-heavy.
    pub async fn load_component(
        &self,
        bytes: Vec<u8>,
        wit_version: String,
    ) -> Result<Result<Plugin, wharf_runtime::RuntimeError>, ApiError> {
        let runtime = self.runtime().clone();
        tokio::task::spawn_blocking(move || runtime.load(&bytes, &wit_version))
            .await
            .map_err(|e| ApiError::Internal(format!("plugin compile task: {e}")))
    }

    /// Everything a call for this installation may see: its config, its own secrets, and
    /// the egress policy (manifest hosts ∩ the merchant's grant, plus operator overrides).
    pub async fn call_context(
        &self,
        inst: &Installation,
        manifest_hosts: Vec<String>,
    ) -> Result<CallContext, ApiError> {
        let secrets = self.store().installation_secrets(inst.id).await?;
        Ok(self.call_context_with(inst, manifest_hosts, secrets))
    }

    /// [`call_context`](Self::call_context) with the secrets already read.
    pub fn call_context_with(
        &self,
        inst: &Installation,
        manifest_hosts: Vec<String>,
        secrets: BTreeMap<String, String>,
    ) -> CallContext {
        CallContext {
            installation_id: inst.id,
            merchant_id: inst.merchant_id,
            config: inst.config.clone(),
            secrets,
            egress: EgressPolicy {
                manifest_hosts,
                granted_hosts: inst.egress_grant.clone(),
                resolve: self.config().resolve.clone(),
            },
            logs: self.inner.logs.clone(),
        }
    }

    /// Mark a pull as running for this installation in this process; `None` if one is
    /// already running (a pull never runs twice at once).
    pub fn begin_pull(&self, installation_id: i64) -> Option<PullGuard> {
        let mut set = self
            .inner
            .pulls_in_flight
            .lock()
            .expect("pull set poisoned");
        set.insert(installation_id).then(|| PullGuard {
            state: self.clone(),
            installation_id,
        })
    }
}

/// Clears the in-flight mark when a pull ends, however it ends.
pub struct PullGuard {
    state: AppState,
    installation_id: i64,
}

impl Drop for PullGuard {
    fn drop(&mut self) {
        if let Ok(mut set) = self.state.inner.pulls_in_flight.lock() {
            set.remove(&self.installation_id);
        }
    }
}

/// Sends plugin log lines to `tracing` (with the installation) and to the installation's
/// log in the store, where the merchant can read them.
struct StoreLogSink {
    store: Store,
}

impl LogSink for StoreLogSink {
    fn log(&self, installation_id: i64, level: LogLevel, message: &str) {
        match level {
            LogLevel::Error => tracing::error!(installation_id, plugin_log = %message),
            LogLevel::Warn => tracing::warn!(installation_id, plugin_log = %message),
            LogLevel::Info => tracing::info!(installation_id, plugin_log = %message),
            _ => tracing::debug!(installation_id, plugin_log = %message),
        }
        if matches!(level, LogLevel::Trace | LogLevel::Debug) {
            return;
        }
        let store = self.store.clone();
        let message = message.to_string();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store
                    .append_log(installation_id, level.as_str(), &message)
                    .await
                {
                    tracing::warn!(installation_id, error = %e, "could not store plugin log line");
                }
            });
        }
    }
}
