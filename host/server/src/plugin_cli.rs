//! `wharf plugin run | test | new`: the plugin developer's commands, thin wrappers over
//! `wharf-harness` (which runs plugins under the production sandbox of `wharf-runtime`);
//! `wharf plugin keygen | pack | sign | verify`: shipping a plugin as a signed package
//! (format and signature in [`crate::package`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use wharf_domain::manifest::{Manifest, PluginKind};
use wharf_harness::scaffold::{self, ScaffoldSpec, SdkSource};
use wharf_harness::{run, Export, HttpMode, RunSpec, SuiteHttp, SuiteSpec};

use crate::config::parse_resolve;
use crate::package::{Package, PrivateKey, TrustSettings, TrustedKeys};

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
    /// Create an Ed25519 signing key: writes OUT (private, mode 0600) and OUT.pub, and
    /// prints the public key line (`VENDOR KEY_ID BASE64_KEY`) for servers' --trusted-keys.
    Keygen {
        #[arg(long)]
        out: PathBuf,
        /// Vendor name shown with the key; default: OUT's file name.
        #[arg(long)]
        vendor: Option<String>,
    },
    /// Pack a manifest and a component into one `.wharfpkg` file (unsigned).
    Pack {
        /// The plugin's directory (with manifest.json) or its manifest file.
        plugin: PathBuf,
        /// The component; default: `wharf_plugin_<name>.wasm` under
        /// `target/wasm32-wasip2/release/` of the plugin's directory or a parent.
        #[arg(long)]
        component: Option<PathBuf>,
        /// The package to write; default `<name>-<version>.wharfpkg`.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
    },
    /// Sign a package with a key from `wharf plugin keygen` (in place, replacing any earlier
    /// signature, unless -o is given).
    Sign {
        package: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
    },
    /// Check a package as `wharf serve --trusted-keys FILE` would; exits non-zero when it
    /// would be refused.
    Verify {
        package: PathBuf,
        #[arg(long)]
        trusted_keys: PathBuf,
    },
}

fn read_file(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("reading {}", p.display()))
}

/// Write a file only the owner can read (private keys).
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// The default component of a plugin directory: `wharf_plugin_<name>.wasm` in the
/// `target/wasm32-wasip2/release` of the directory or the nearest parent that has one.
fn find_component(dir: &Path, manifest: &Manifest) -> Result<PathBuf> {
    let file = wharf_harness::scaffold::component_file_name(&manifest.name);
    let start = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for d in start.ancestors() {
        let p = d.join("target/wasm32-wasip2/release").join(&file);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!(
        "no {file} found under target/wasm32-wasip2/release of {} or its parents: build the \
         plugin (cargo build --release --target wasm32-wasip2) or pass --component",
        dir.display()
    )
}

fn security_commands(cmd: PluginCommand) -> Result<()> {
    match cmd {
        PluginCommand::Keygen { out, vendor } => {
            let vendor = vendor.unwrap_or_else(|| {
                out.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "vendor".into())
            });
            let key = PrivateKey::generate(&vendor).map_err(anyhow::Error::msg)?;
            let mut public_path = out.clone().into_os_string();
            public_path.push(".pub");
            let public_path = PathBuf::from(public_path);
            if public_path.exists() {
                bail!("{} exists already", public_path.display());
            }
            write_private(&out, &key.to_file())?;
            let line = key.public().to_line();
            std::fs::write(&public_path, format!("{line}\n"))
                .with_context(|| format!("writing {}", public_path.display()))?;
            eprintln!(
                "wrote {} (private, mode 0600) and {}; key id {}",
                out.display(),
                public_path.display(),
                key.key_id
            );
            println!("{line}");
            Ok(())
        }
        PluginCommand::Pack {
            plugin,
            component,
            out,
        } => {
            let (dir, manifest_path) = if plugin.is_dir() {
                (plugin.clone(), plugin.join("manifest.json"))
            } else {
                let dir = plugin
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf();
                (dir, plugin.clone())
            };
            let manifest_bytes = read_file(&manifest_path)?;
            let manifest = Manifest::from_json(&manifest_bytes)
                .map_err(|p| anyhow::anyhow!("{}: {p}", manifest_path.display()))?;
            let component_path = match component {
                Some(c) => c,
                None => find_component(&dir, &manifest)?,
            };
            let component = read_file(&component_path)?;
            if !component.starts_with(b"\0asm") {
                bail!("{} is not a Wasm component", component_path.display());
            }
            let out = out.unwrap_or_else(|| {
                PathBuf::from(format!(
                    "{}-{}.{}",
                    manifest.name,
                    manifest.version,
                    crate::package::EXTENSION
                ))
            });
            let pkg = Package::new(manifest_bytes, component);
            std::fs::write(&out, pkg.to_bytes())
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "packed {} {} ({} + {}) into {} (unsigned; next: wharf plugin sign {} --key KEY)",
                manifest.name,
                manifest.version,
                manifest_path.display(),
                component_path.display(),
                out.display(),
                out.display()
            );
            Ok(())
        }
        PluginCommand::Sign { package, key, out } => {
            let key_text = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let key = PrivateKey::from_file(&key_text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
            let mut pkg = Package::parse(&read_file(&package)?, usize::MAX)
                .map_err(|e| anyhow::anyhow!("{}: {e}", package.display()))?;
            pkg.sign(&key);
            let out = out.unwrap_or(package);
            std::fs::write(&out, pkg.to_bytes())
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "signed {} with key {} ({}); digest sha256:{}",
                out.display(),
                key.key_id,
                key.vendor,
                hex::encode(pkg.digest())
            );
            Ok(())
        }
        PluginCommand::Verify {
            package,
            trusted_keys,
        } => {
            let keys = TrustedKeys::parse(
                &std::fs::read_to_string(&trusted_keys)
                    .with_context(|| format!("reading {}", trusted_keys.display()))?,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", trusted_keys.display()))?;
            let pkg = Package::parse(&read_file(&package)?, usize::MAX)
                .map_err(|e| anyhow::anyhow!("{}: {e}", package.display()))?;
            let trust = TrustSettings {
                keys,
                dev_mode: false,
            };
            let sig = trust.check(&pkg).map_err(anyhow::Error::msg)?;
            println!("{}", serde_json::to_string(&sig)?);
            Ok(())
        }
        _ => unreachable!("only the packaging commands"),
    }
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
        cmd @ (PluginCommand::Keygen { .. }
        | PluginCommand::Pack { .. }
        | PluginCommand::Sign { .. }
        | PluginCommand::Verify { .. }) => security_commands(cmd),
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
                other => bail!("--kind {other:?}: use marketplace, courier or accounting"),
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
