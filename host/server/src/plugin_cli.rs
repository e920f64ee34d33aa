//! `wharf plugin run | test | new`: the plugin developer's commands, thin wrappers over
//! `wharf-harness` (which runs plugins under the production sandbox of `wharf-runtime`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use wharf_domain::manifest::PluginKind;
use wharf_harness::scaffold::{self, ScaffoldSpec, SdkSource};
use wharf_harness::{run, Export, HttpMode, RunSpec, SuiteHttp, SuiteSpec};

use crate::config::parse_resolve;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run one export of a plugin and print the result as JSON with the instructions
    /// (fuel), peak memory and wall time it used. Exits non-zero when the call fails.
    Run {
        /// The component (`.wasm`, built for wasm32-wasip2).
        component: PathBuf,
        /// describe | verify-webhook | pull-orders | get-order
        export: String,
        #[arg(long)]
        manifest: PathBuf,
        /// Configuration `key=value` (repeatable), typed by the manifest's schema.
        #[arg(long = "config")]
        config: Vec<String>,
        /// Secret `name=value` (repeatable).
        #[arg(long = "secret")]
        secrets: Vec<String>,
        /// The export's input as JSON: pull-orders `{"cursor": …}`, get-order `"id"`,
        /// verify-webhook `{"headers": {…}, "body": "…"}`.
        #[arg(long)]
        input: Option<String>,
        /// Cassette file of recorded platform traffic.
        #[arg(long)]
        cassette: Option<PathBuf>,
        /// Record the plugin's real HTTP into --cassette (appending).
        #[arg(long, requires = "cassette", conflicts_with = "replay")]
        record: bool,
        /// Serve HTTP from --cassette only (the default when --cassette is given).
        #[arg(long, requires = "cassette")]
        replay: bool,
        /// Freeze the plugin's clock at this time (RFC 3339, e.g. 2024-04-10T00:00:00Z).
        #[arg(long)]
        clock: Option<String>,
        /// Host the installation grants (repeatable); default: every manifest host.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Resolver override `host=ip:port` (repeatable), e.g. to record from a simulator.
        #[arg(long = "resolve")]
        resolve: Vec<String>,
        /// Instruction budget of the call.
        #[arg(long, default_value_t = 5_000_000_000)]
        fuel: u64,
    },
    /// Run the acceptance suite against the plugin's fixtures. Prints one line per check
    /// (PASS / FAIL / SKIP with the reason); exits non-zero when any check fails.
    Test {
        component: PathBuf,
        #[arg(long)]
        manifest: PathBuf,
        /// Fixtures directory (fixtures.json, cassette.json, webhook.json).
        #[arg(long)]
        fixtures: PathBuf,
        /// Record cassette.json from the network instead of replaying it.
        #[arg(long)]
        record: bool,
        /// Resolver override `host=ip:port` while recording (repeatable).
        #[arg(long = "resolve", requires = "record")]
        resolve: Vec<String>,
    },
    /// Scaffold a plugin crate that builds for wasm32-wasip2 and passes the suite.
    New {
        /// marketplace (courier and accounting come later).
        #[arg(long, default_value = "marketplace")]
        kind: String,
        /// Plugin name, e.g. acme-shop.
        name: String,
        /// Crate directory to create; default ./NAME.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Use wharf-sdk from this local path (default: the checkout this wharf was built
        /// from, when present; else the registry version).
        #[arg(long)]
        sdk_path: Option<PathBuf>,
        /// Use this registry version of wharf-sdk.
        #[arg(long, conflicts_with = "sdk_path")]
        sdk_version: Option<String>,
    },
}

fn pairs(flag: &str, items: &[String]) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("{flag} {s:?}: expected name=value"))
        })
        .collect()
}

fn resolves(items: &[String]) -> Result<Vec<(String, SocketAddr)>> {
    items
        .iter()
        .map(|r| parse_resolve(r).map_err(anyhow::Error::msg))
        .collect()
}

pub async fn run(cmd: PluginCommand) -> Result<()> {
    match cmd {
        PluginCommand::Run {
            component,
            export,
            manifest,
            config,
            secrets,
            input,
            cassette,
            record,
            replay: _,
            clock,
            grants,
            resolve,
            fuel,
        } => {
            let export: Export = export.parse().map_err(anyhow::Error::msg)?;
            let http = match cassette {
                None => HttpMode::Network,
                Some(path) if record => HttpMode::Record(path),
                Some(path) => HttpMode::Replay(path),
            };
            let spec = RunSpec {
                component,
                manifest,
                export,
                config: pairs("--config", &config)?,
                secrets: pairs("--secret", &secrets)?,
                input,
                http,
                clock,
                grants,
                resolve: resolves(&resolve)?,
                fuel,
            };
            let out = run::run(&spec).await?;
            println!("{}", serde_json::to_string_pretty(&out.json)?);
            if !out.ok {
                bail!(
                    "{} failed: {}",
                    export.as_str(),
                    out.json["error"]["message"].as_str().unwrap_or("error")
                );
            }
            Ok(())
        }
        PluginCommand::Test {
            component,
            manifest,
            fixtures,
            record,
            resolve,
        } => {
            let http = if record {
                SuiteHttp::Record {
                    resolve: resolves(&resolve)?,
                }
            } else {
                SuiteHttp::Replay
            };
            let report = wharf_harness::run_suite(&SuiteSpec {
                component,
                manifest,
                fixtures,
                http,
            })
            .await?;
            print!("{}", report.render());
            if !report.passed() {
                bail!(
                    "the acceptance suite failed: {} check(s) failed",
                    report.count(wharf_harness::Status::Fail)
                );
            }
            Ok(())
        }
        PluginCommand::New {
            kind,
            name,
            dir,
            sdk_path,
            sdk_version,
        } => {
            let kind = match kind.as_str() {
                "marketplace" => PluginKind::Marketplace,
                "courier" => PluginKind::Courier,
                "accounting" => PluginKind::Accounting,
                other => bail!("--kind {other:?}: use marketplace"),
            };
            let sdk = match (sdk_path, sdk_version) {
                (Some(p), _) => SdkSource::Path(
                    p.canonicalize()
                        .with_context(|| format!("--sdk-path {}", p.display()))?,
                ),
                (None, Some(v)) => SdkSource::Version(v),
                (None, None) => SdkSource::default_for_this_build(),
            };
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let files = scaffold::scaffold(&ScaffoldSpec {
                kind,
                name: name.clone(),
                dir: dir.clone(),
                sdk,
            })?;
            println!("created {} ({} files):", dir.display(), files.len());
            for f in files {
                println!("  {}", f.display());
            }
            let wasm = scaffold::component_file_name(&name);
            println!(
                "next:\n  cd {}\n  cargo build --release --target wasm32-wasip2\n  wharf plugin test \
                 target/wasm32-wasip2/release/{wasm} --manifest manifest.json --fixtures fixtures",
                dir.display()
            );
            Ok(())
        }
    }
}
