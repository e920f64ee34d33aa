//! The `wharf` command line.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use wharf_store::{Store, TokenScope};

use crate::config::parse_resolve;
use crate::{AppState, ServerConfig};

#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    about = "Wharf: one order store for every sales channel, with sandboxed connectors"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// `sqlite://path` (embedded default) or `postgres://…`.
    #[arg(long, env = "WHARF_DATABASE_URL", default_value = "sqlite://wharf.db")]
    pub database_url: String,
}

#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// Base URL of a running `wharf serve`.
    #[arg(long, env = "WHARF_API", default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// Bearer token (operator token for plugin upload, merchant token otherwise).
    #[arg(long, env = "WHARF_TOKEN")]
    pub token: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: admin API, webhook ingress and pull scheduler.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on; port 0 picks a free one (the chosen address is printed).
        #[arg(long, env = "WHARF_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Resolver override `host=ip:port` (repeatable), like curl's --resolve.
        #[arg(long = "resolve", env = "WHARF_RESOLVE", value_delimiter = ',')]
        resolve: Vec<String>,
        /// How often the scheduler looks for due pulls, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        scheduler_tick_ms: u64,
        /// Wall-clock limit for pull / get-order calls, in milliseconds.
        #[arg(long, default_value_t = 30_000)]
        call_timeout_ms: u64,
        /// Plugin instances alive at once, pre-allocated (pooling allocator); further
        /// calls wait for a slot. 0: allocate every instance on demand.
        #[arg(long, default_value_t = wharf_runtime::DEFAULT_INSTANCE_POOL)]
        plugin_instance_pool: u32,
        /// Delays before retries of a failed job, in seconds (after the last, the job is
        /// dead-lettered).
        #[arg(long, value_delimiter = ',', default_value = "60,300,900")]
        retry_delays_secs: Vec<u64>,
        /// Retry delays for one job kind, `kind=secs,secs,…` (repeatable), e.g.
        /// `pull=30,120` or `verify=` (no retries).
        #[arg(long = "retry-policy")]
        retry_policies: Vec<String>,
        /// How long a claimed job stays leased to this node, in milliseconds.
        #[arg(long, default_value_t = 300_000)]
        job_lease_ms: u64,
        /// How often the job runner looks for due jobs, in milliseconds.
        #[arg(long, default_value_t = 500)]
        job_poll_ms: u64,
        /// Daily verification sweep at this local time (`HH:MM`; `off` disables it).
        #[arg(long, default_value = "09:00")]
        verify_daily_at: String,
        /// The merchants' UTC offset for `--verify-daily-at`, in minutes (480 = UTC+8).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        verify_utc_offset_minutes: i32,
        /// Also run the verification sweep this often, in seconds.
        #[arg(long, default_value_t = 3600)]
        verify_interval_secs: u64,
        /// Re-read orders in a non-final status not updated for this long, in seconds.
        #[arg(long, default_value_t = 1800)]
        verify_stale_after_secs: u64,
        /// Daily settlement import (the previous local day, via fetch-settlements) at this
        /// local time, `HH:MM` in `--verify-utc-offset-minutes`; `off` disables it.
        #[arg(long, default_value = "06:00")]
        settlements_daily_at: String,
        /// Failed calls in a row that open an installation's circuit breaker (0 = never).
        #[arg(long, default_value_t = 5)]
        breaker_threshold: u32,
        /// First circuit-breaker suspension, in seconds (doubles while failures go on, up
        /// to an hour).
        #[arg(long, default_value_t = 60)]
        breaker_backoff_secs: u64,
        /// Coalescing window of stock pushes, in ms: stock changes within it become one
        /// push per listing and channel.
        #[arg(long, default_value_t = 1000)]
        stock_push_delay_ms: u64,
        /// How often each shipped shipment's tracking is polled from its courier, in
        /// seconds (until delivered or returned).
        #[arg(long, default_value_t = 1800)]
        track_interval_secs: u64,
        /// Vendors' public keys whose signed plugin packages are accepted: one
        /// `VENDOR KEY_ID BASE64_KEY` line each (`wharf plugin keygen` prints it).
        #[arg(long, env = "WHARF_TRUSTED_KEYS")]
        trusted_keys: Option<PathBuf>,
        /// Development mode: also accept unsigned plugins (and the multipart manifest +
        /// component upload) and packages signed by untrusted keys; the plugin records say
        /// so. Never in production.
        #[arg(long)]
        dev_mode: bool,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create a merchant and print its id and API token.
    CreateMerchant {
        #[command(flatten)]
        db: DbArgs,
        name: String,
    },
    /// Issue an operator token (manages the plugin registry) and print it.
    CreateOperatorToken {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Upload a plugin to a running server: a signed package (`--package`), or, to a
    /// server in --dev-mode only, an unsigned component + manifest. Needs the operator token.
    UploadPlugin {
        #[command(flatten)]
        api: ApiArgs,
        /// A `.wharfpkg` file (`wharf plugin pack`, `wharf plugin sign`).
        #[arg(long, conflicts_with_all = ["component", "manifest"], required_unless_present_all = ["component", "manifest"])]
        package: Option<PathBuf>,
        #[arg(long, requires = "manifest")]
        component: Option<PathBuf>,
        #[arg(long, requires = "component")]
        manifest: Option<PathBuf>,
    },
    /// Enable a plugin for a shop. Needs a merchant token.
    Install {
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        plugin_id: i64,
        #[arg(long)]
        shop: String,
        /// Configuration as a JSON object.
        #[arg(long, default_value = "{}")]
        config: String,
        /// Secret `name=value` (repeatable).
        #[arg(long = "secret")]
        secrets: Vec<String>,
        /// Host the plugin may reach (repeatable).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Consent to a host pattern the plugin requests (repeatable; all of them must be
        /// listed, exactly as `GET /v1/plugins/{id}/capabilities` shows them).
        #[arg(long = "consent-host")]
        consent_hosts: Vec<String>,
        /// Consent to the plugin reading this secret (repeatable; all of them).
        #[arg(long = "consent-secret")]
        consent_secrets: Vec<String>,
        #[arg(long)]
        pull_interval_secs: Option<i64>,
    },
    /// Reconciliation: export a period's variances or summary from a running server.
    Reconcile {
        #[command(subcommand)]
        cmd: ReconcileCommand,
    },
    /// Run a demo: Wharf on SQLite with the bundled Shopify plugin and a simulated shop.
    Demo(crate::demo::DemoArgs),
    /// Plugin development: run one export, run the acceptance suite, scaffold a plugin;
    /// keygen, pack, sign and verify plugin packages.
    Plugin {
        #[command(subcommand)]
        cmd: crate::plugin_cli::PluginCommand,
    },
}

/// The `wharf` binary's body: logging (`WHARF_LOG` filter, `WHARF_LOG_FORMAT=json`), then
/// the parsed command; exits 1 with the error chain on failure.
pub async fn main() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("WHARF_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,wasmtime=warn,cranelift=warn"));
    let json = std::env::var("WHARF_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            db,
            listen,
            resolve,
            scheduler_tick_ms,
            call_timeout_ms,
            plugin_instance_pool,
            retry_delays_secs,
            retry_policies,
            job_lease_ms,
            job_poll_ms,
            verify_daily_at,
            verify_utc_offset_minutes,
            verify_interval_secs,
            verify_stale_after_secs,
            settlements_daily_at,
            breaker_threshold,
            breaker_backoff_secs,
            stock_push_delay_ms,
            track_interval_secs,
            trusted_keys,
            dev_mode,
        } => {
            let mut config = ServerConfig {
                database_url: db.database_url,
                ..ServerConfig::default()
            };
            for r in resolve.iter().filter(|r| !r.is_empty()) {
                let (host, addr) = parse_resolve(r).map_err(anyhow::Error::msg)?;
                config.resolve.insert(host, addr);
            }
            config.scheduler_tick = Duration::from_millis(scheduler_tick_ms.max(10));
            config.runtime.call_timeout = Duration::from_millis(call_timeout_ms.max(10));
            config.runtime.instance_pool = plugin_instance_pool;
            config.jobs.default_policy = wharf_domain::retry::RetryPolicy {
                delays_secs: retry_delays_secs,
            };
            for p in &retry_policies {
                let (kind, policy) = parse_retry_policy(p).map_err(anyhow::Error::msg)?;
                config.jobs.policies.insert(kind, policy);
            }
            config.jobs.lease = Duration::from_millis(job_lease_ms.max(100));
            config.jobs.poll = Duration::from_millis(job_poll_ms.max(10));
            config.verify.daily_at =
                match verify_daily_at.as_str() {
                    "off" => None,
                    t => Some(wharf_domain::schedule::parse_hh_mm(t).with_context(|| {
                        format!("--verify-daily-at {t:?}: expected HH:MM or off")
                    })?),
                };
            config.verify.utc_offset_minutes = verify_utc_offset_minutes;
            config.verify.interval = Duration::from_secs(verify_interval_secs.max(1));
            config.verify.stale_after = Duration::from_secs(verify_stale_after_secs);
            config.settlements.daily_at = match settlements_daily_at.as_str() {
                "off" => None,
                t => Some(wharf_domain::schedule::parse_hh_mm(t).with_context(|| {
                    format!("--settlements-daily-at {t:?}: expected HH:MM or off")
                })?),
            };
            config.breaker.threshold = breaker_threshold;
            config.breaker.base_backoff = Duration::from_secs(breaker_backoff_secs.max(1));
            config.stock_push_delay = Duration::from_millis(stock_push_delay_ms);
            config.track_interval = Duration::from_secs(track_interval_secs.max(1));
            config.trust = trust_settings(trusted_keys.as_deref(), dev_mode)?;
            serve(config, &listen).await
        }
        Command::Migrate { db } => {
            Store::connect(&db.database_url)
                .await
                .context("migrating")?;
            println!("database is up to date");
            Ok(())
        }
        Command::CreateMerchant { db, name } => {
            let store = Store::connect(&db.database_url).await?;
            let merchant = store.create_merchant(&name).await?;
            let token = store
                .issue_token(TokenScope::Merchant(merchant.id), "cli")
                .await?;
            println!(
                "{}",
                serde_json::json!({"merchant_id": merchant.id, "name": merchant.name, "token": token})
            );
            Ok(())
        }
        Command::CreateOperatorToken { db } => {
            let store = Store::connect(&db.database_url).await?;
            println!("{}", store.issue_token(TokenScope::Operator, "cli").await?);
            Ok(())
        }
        Command::UploadPlugin {
            api,
            package,
            component,
            manifest,
        } => {
            let read =
                |p: &PathBuf| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
            let request = reqwest::Client::new()
                .post(format!("{}/v1/plugins", api.api))
                .bearer_auth(&api.token);
            let request = match (package, component, manifest) {
                (Some(pkg), _, _) => request
                    .header("Content-Type", crate::package::CONTENT_TYPE)
                    .body(read(&pkg)?),
                (None, Some(component), Some(manifest)) => request.multipart(
                    reqwest::multipart::Form::new()
                        .part(
                            "manifest",
                            reqwest::multipart::Part::bytes(read(&manifest)?),
                        )
                        .part(
                            "component",
                            reqwest::multipart::Part::bytes(read(&component)?),
                        ),
                ),
                _ => bail!("give --package, or --component and --manifest"),
            };
            print_response(request.send().await?).await
        }
        Command::Install {
            api,
            plugin_id,
            shop,
            config,
            secrets,
            grants,
            consent_hosts,
            consent_secrets,
            pull_interval_secs,
        } => {
            let config: serde_json::Value =
                serde_json::from_str(&config).context("--config must be a JSON object")?;
            let mut secret_map = serde_json::Map::new();
            for s in secrets {
                let (k, v) = s.split_once('=').context("--secret must be name=value")?;
                secret_map.insert(k.to_string(), v.into());
            }
            let body = serde_json::json!({"plugin_id": plugin_id, "shop": shop, "config": config,
                "secrets": secret_map, "egress_grant": grants, "pull_interval_secs": pull_interval_secs,
                "consent": {"hosts": consent_hosts, "secrets": consent_secrets}});
            let resp = reqwest::Client::new()
                .post(format!("{}/v1/installations", api.api))
                .bearer_auth(&api.token)
                .json(&body)
                .send()
                .await?;
            print_response(resp).await
        }
        Command::Reconcile {
            cmd:
                ReconcileCommand::Export {
                    api,
                    period,
                    report,
                    format,
                    installation_id,
                    out,
                },
        } => {
            let mut url = format!(
                "{}/v1/reconciliation/{period}/{}.{}",
                api.api,
                report.as_str(),
                format.as_str()
            );
            if let Some(id) = installation_id {
                url.push_str(&format!("?installation_id={id}"));
            }
            let resp = reqwest::Client::new()
                .get(url)
                .bearer_auth(&api.token)
                .send()
                .await?;
            if !resp.status().is_success() {
                return print_response(resp).await;
            }
            // Written as it arrives: a month's variances never sit in memory.
            use std::io::Write;
            let mut resp = resp;
            let mut sink: Box<dyn Write + Send> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("writing {}", path.display()))?,
                )),
                None => Box::new(std::io::stdout()),
            };
            let mut written = 0usize;
            while let Some(chunk) = resp
                .chunk()
                .await
                .context("the export was cut off; the file is incomplete")?
            {
                sink.write_all(&chunk)?;
                written += chunk.len();
            }
            sink.flush()?;
            if let Some(path) = out {
                eprintln!("wrote {written} bytes to {}", path.display());
            }
            Ok(())
        }
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Plugin { cmd } => crate::plugin_cli::run(cmd).await,
    }
}

/// `wharf reconcile …`.
#[derive(Debug, Subcommand)]
pub enum ReconcileCommand {
    /// Download a period's variance detail or summary as CSV or XLSX (needs a merchant
    /// token): `wharf reconcile export --period 2024-05 --report variances --format xlsx
    /// --out may.xlsx`.
    Export {
        #[command(flatten)]
        api: ApiArgs,
        /// A local day `YYYY-MM-DD` or month `YYYY-MM`.
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value = "variances")]
        report: ExportReport,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Only this installation.
        #[arg(long)]
        installation_id: Option<i64>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Which reconciliation export.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportReport {
    Variances,
    Summary,
}

impl ExportReport {
    fn as_str(self) -> &'static str {
        match self {
            Self::Variances => "variances",
            Self::Summary => "summary",
        }
    }
}

/// File format of an export.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// Load `--trusted-keys` and say loudly when the server runs in development mode.
fn trust_settings(
    trusted_keys: Option<&std::path::Path>,
    dev_mode: bool,
) -> Result<crate::package::TrustSettings> {
    let keys = match trusted_keys {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --trusted-keys {}", path.display()))?;
            crate::package::TrustedKeys::parse(&text)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("--trusted-keys {}", path.display()))?
        }
        None => crate::package::TrustedKeys::default(),
    };
    if dev_mode {
        eprintln!(
            "\n!!! wharf is running in DEVELOPMENT MODE (--dev-mode): unsigned plugins and \
             plugins signed by untrusted keys are accepted. Never use this in production. !!!\n"
        );
        tracing::warn!(
            "DEVELOPMENT MODE: unsigned and untrusted plugin packages are accepted (--dev-mode)"
        );
    } else if keys.is_empty() {
        tracing::warn!(
            "no --trusted-keys: every plugin upload will be refused (signed packages need a \
             trusted key; unsigned ones need --dev-mode)"
        );
    } else {
        tracing::info!(keys = ?keys.lines(), "plugin packages must be signed by a trusted key");
    }
    Ok(crate::package::TrustSettings { keys, dev_mode })
}

/// Parse `kind=secs,secs,…` into a per-kind retry policy.
fn parse_retry_policy(s: &str) -> Result<(String, wharf_domain::retry::RetryPolicy), String> {
    let (kind, delays) = s
        .split_once('=')
        .ok_or_else(|| format!("--retry-policy {s:?}: expected kind=secs,secs,…"))?;
    if kind.is_empty() {
        return Err(format!("--retry-policy {s:?}: empty job kind"));
    }
    let delays_secs = delays
        .split(',')
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            d.trim()
                .parse::<u64>()
                .map_err(|e| format!("--retry-policy {s:?}: {d:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((
        kind.to_string(),
        wharf_domain::retry::RetryPolicy { delays_secs },
    ))
}

async fn print_response(resp: reqwest::Response) -> Result<()> {
    let status = resp.status();
    let text = resp.text().await?;
    println!("{text}");
    if !status.is_success() {
        bail!("server answered {status}");
    }
    Ok(())
}

/// Build the state and serve until Ctrl-C or SIGTERM; prints the bound address first.
pub async fn serve(config: ServerConfig, listen: &str) -> Result<()> {
    let state = build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    println!("wharf listening on http://{addr}");
    tracing::info!(%addr, "wharf listening");
    crate::serve(state, listener, shutdown_signal()).await
}

pub async fn build_state(config: ServerConfig) -> Result<AppState> {
    let mut store = Store::connect(&config.database_url)
        .await
        .context("opening the database")?;
    store.set_stock_push_delay(config.stock_push_delay);
    let runtime = wharf_runtime::Runtime::new(config.runtime.clone())
        .context("starting the plugin runtime")?;
    Ok(AppState::new(store, runtime, config))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: draining in-flight requests and pulls");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policies_parse_per_kind_and_reject_garbage() {
        let (kind, p) = parse_retry_policy("pull=30,120").unwrap();
        assert_eq!((kind.as_str(), p.delays_secs), ("pull", vec![30, 120]));
        assert_eq!(
            parse_retry_policy("verify=").unwrap().1.delays_secs,
            Vec::<u64>::new()
        );
        assert!(parse_retry_policy("pull").is_err());
        assert!(parse_retry_policy("=1").is_err());
        assert!(parse_retry_policy("pull=1,x").is_err());
    }
}
