//! `wharf-bench`: Wharf's benchmark suite, run by `cargo xtask bench` (which first builds
//! the plugins and the release `wharf`). Prints a table and writes `docs/benchmarks.md`
//! with the machine it ran on. Not part of the test command.
//!
//! Layout:
//! - [`runtime_calls`]: workload 1, instantiate + call through `wharf_runtime::Runtime`.
//! - [`translate`]: workload 2, the plugin's webhook code native vs inside Wasm;
//!   [`taobao`]: the same for a Taobao trade through the Taobao connector's `get-order`.
//! - [`ingest`]: workload 3, signed webhooks → `wharf serve` → durable, SQLite / PostgreSQL.
//! - [`pull`]: workload 4, 10k / 100k orders pulled from the simulator; peak RSS;
//!   [`pull_taobao`]: the same on Taobao trades from the TOP simulator.
//! - [`inventory`]: workload 6, a burst of 10k orders over 5 channels × 1k SKUs: reservation
//!   throughput, conflicts, push-inventory calls after coalescing.
//! - [`fulfillment`]: workload 7, paid-order webhooks → pick task latency, and the whole
//!   warehouse pipeline (pick, pack, label, ship) through the API with N pickers.
//! - [`reconcile`]: workload 8, one merchant's month (300k orders, 1M settlement lines)
//!   reconciled through the streamed exports: wall time and peak RSS beside a tenth of it.
//! - [`peers`]: workload 5, the same translation as an Extism plugin and as Python.
//! - [`python_plugin`]: workload 7, the Python WooCommerce component vs the Rust one:
//!   size, cold compile, per-call time, peak memory.
//! - [`sandbox`]: the component called through the production runtime, as a reused
//!   instance, and with the instance pool off.
//! - [`server`]: a release `wharf serve` + simulator + installation on a fresh database.
//! - [`payload`]: generated Shopify orders and signed deliveries.
//! - [`measure`], [`stats`]: timing loops and summaries; [`report`]: the table and the
//!   Markdown; [`machine`]: CPU, cores, memory, OS, rustc, date.

mod fulfillment;
mod ingest;
mod inventory;
mod machine;
mod measure;
mod payload;
mod peers;
mod pull;
mod pull_taobao;
mod python_plugin;
mod reconcile;
mod report;
mod runtime_calls;
mod sandbox;
mod server;
mod stats;
mod taobao;
mod translate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;

use crate::report::Report;
use crate::server::Backend;

#[derive(Debug, Parser)]
#[command(name = "wharf-bench", about = "Wharf's benchmark suite")]
struct Args {
    /// Fewer iterations and orders: a smoke run (noisier figures).
    #[arg(long)]
    quick: bool,
    /// Comma-separated subset: runtime, translate, ingest, pull, peers, inventory, python,
    /// fulfillment, reconcile.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where to write the Markdown report (relative to the workspace root).
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
    /// Concurrent senders in the ingest saturation run.
    #[arg(long)]
    senders: Option<usize>,
}

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct Iters {
    pub warmup: usize,
    pub iters: usize,
    pub translate_iters: usize,
    pub ingest_orders: usize,
    pub ingest_time: Duration,
    pub fixed_time: Duration,
    pub senders: usize,
    pub pull_sizes: [usize; 2],
    /// Orders in the inventory burst.
    pub burst_orders: usize,
    /// Orders per picker count in the fulfillment pipeline.
    pub fulfil_orders: usize,
}

impl Iters {
    fn new(quick: bool, senders: Option<usize>) -> Iters {
        let mut it = if quick {
            Iters {
                warmup: 50,
                iters: 500,
                translate_iters: 500,
                ingest_orders: 2_000,
                ingest_time: Duration::from_secs(30),
                fixed_time: Duration::from_secs(3),
                senders: 16,
                pull_sizes: [1_000, 10_000],
                burst_orders: 2_000,
                fulfil_orders: 150,
            }
        } else {
            Iters {
                warmup: 300,
                iters: 5_000,
                translate_iters: 5_000,
                ingest_orders: 10_000,
                ingest_time: Duration::from_secs(60),
                fixed_time: Duration::from_secs(10),
                senders: 32,
                pull_sizes: [10_000, 100_000],
                burst_orders: 10_000,
                fulfil_orders: 600,
            }
        };
        if let Some(s) = senders {
            it.senders = s.max(1);
        }
        it
    }
}

const WORKLOADS: [&str; 9] = [
    "runtime",
    "translate",
    "ingest",
    "pull",
    "peers",
    "inventory",
    "python",
    "fulfillment",
    "reconcile",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("wharf-bench lives at host/bench")
        .to_path_buf()
}

fn main() -> Result<()> {
    let args = Args::parse();
    for w in &args.only {
        if !WORKLOADS.contains(&w.as_str()) {
            bail!(
                "unknown workload {w:?}: choose from {}",
                WORKLOADS.join(", ")
            );
        }
    }
    let on = |w: &str| args.only.is_empty() || args.only.iter().any(|o| o == w);
    let root = workspace_root();
    // The e2e helpers run the binary named here: the release build `cargo xtask bench`
    // made. Set before any thread starts.
    if std::env::var_os("WHARF_BIN").is_none() {
        std::env::set_var("WHARF_BIN", root.join("target/release/wharf"));
    }
    // The servers' own logs: errors only, unless asked (the e2e helpers read this).
    if std::env::var_os("WHARF_TEST_LOG").is_none() {
        std::env::set_var("WHARF_TEST_LOG", "error");
    }
    let wharf_bin = PathBuf::from(std::env::var_os("WHARF_BIN").expect("set above"));
    let it = Iters::new(args.quick, args.senders);
    let machine = machine::Machine::detect();
    println!(
        "wharf-bench on {} ({} cores, {}), {}",
        machine.cpu, machine.cores, machine.memory, machine.rustc
    );
    let mut report = Report::default();

    let component = std::fs::read(wharf_tests::paths::plugin("wharf_plugin_shopify"))
        .context("reading the Shopify component (run `cargo xtask plugins`)")?;
    let fixture = payload::Delivery::new(payload::fixture_body(), "bench-fixture");

    let mut translated = None;
    if on("runtime") || on("translate") || on("peers") {
        let figures = runtime_calls::run(&mut report, &component, &fixture, it)?;
        if on("translate") || on("peers") {
            translated = Some(translate::run(
                &mut report,
                &component,
                &fixture,
                &figures,
                it,
            )?);
            if on("translate") {
                taobao::run(&mut report, it)?;
            }
        }
    }

    if on("python") {
        python_plugin::run(&mut report, it)?;
    }

    if on("inventory") {
        on_both_databases(&mut report, "Inventory burst", async |r, b| {
            inventory::run(r, b, it.burst_orders).await
        })?;
    }

    if on("fulfillment") {
        need_release_wharf(&wharf_bin)?;
        on_both_databases(&mut report, "Fulfillment", async |r, b| {
            fulfillment::run(r, b, it.fulfil_orders).await
        })?;
    }

    if on("reconcile") {
        need_release_wharf(&wharf_bin)?;
        on_both_databases(&mut report, "Reconcile", async |r, b| {
            reconcile::run(r, b, args.quick).await
        })?;
    }

    if on("ingest") || on("pull") {
        if !wharf_bin.exists() {
            bail!(
                "{} is missing: build it with `cargo build --release -p wharf-server --bin wharf` \
                 (cargo xtask bench does)",
                wharf_bin.display()
            );
        }
        let exec = tokio::runtime::Runtime::new()?;
        exec.block_on(async {
            if on("ingest") {
                ingest::run(&mut report, &Backend::Sqlite, it).await?;
                let native_bin = native_bin(&wharf_bin);
                if native_bin.exists() {
                    ingest::run_native_ratio(&mut report, &native_bin, it).await?;
                } else {
                    report.note(format!(
                        "The native-plugin pipeline was NOT run: {} is missing (build it with \
                         `cargo build --release -p wharf-server --features native-plugins --bin \
                         wharf-native-bench`; cargo xtask bench does).",
                        native_bin.display()
                    ));
                }
                for nodes in [1, 3] {
                    ingest::run_nodes(&mut report, &Backend::Sqlite, it, nodes).await?;
                }
                if let Ok(url) = std::env::var("WHARF_BENCH_POSTGRES_URL") {
                    if !url.trim().is_empty() {
                        for nodes in [1, 3] {
                            let pg = Backend::Postgres(url.trim().into());
                            ingest::run_nodes(&mut report, &pg, it, nodes).await?;
                        }
                    }
                }
                match std::env::var("WHARF_BENCH_POSTGRES_URL") {
                    Ok(url) if !url.trim().is_empty() => {
                        ingest::run(&mut report, &Backend::Postgres(url.trim().into()), it).await?
                    }
                    _ => report.note(
                        "Ingest on PostgreSQL was NOT run: set WHARF_BENCH_POSTGRES_URL \
                         (e.g. postgres://postgres@127.0.0.1:5432/test).",
                    ),
                }
            }
            if on("pull") {
                pull::run(&mut report, it.pull_sizes).await?;
                pull_taobao::run(&mut report, it.pull_sizes).await?;
            }
            anyhow::Ok(())
        })?;
    }

    if on("peers") {
        let t = translated.as_ref().expect("translate ran for peers");
        peers::run(&mut report, &root, &fixture, t, it)?;
    }

    report.note(
        "Payloads: Taobao trades are measured in workload 2 (the connector's `get-order` on a \
         `trade.fullinfo.get` answer) and workload 4 (a pull from the TOP simulator, which \
         runs in the bench process on the same 2 cores). Ingest uses Shopify webhooks only: \
         Taobao pushes through its message service, TMC, not HTTP webhooks.",
    );
    let mut command = String::from("cargo xtask bench");
    if args.quick {
        command.push_str(" -- --quick");
    }
    if !args.only.is_empty() {
        command.push_str(&format!(
            "{} --only {}",
            if args.quick { "" } else { " --" },
            args.only.join(",")
        ));
    }
    let out = root.join(&args.out);
    std::fs::write(&out, report.markdown(&machine, &command))
        .with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

/// `wharf-native-bench` (the server with the Shopify plugin call compiled natively):
/// `WHARF_NATIVE_BIN`, else beside `wharf_bin`.
fn native_bin(wharf_bin: &Path) -> PathBuf {
    std::env::var_os("WHARF_NATIVE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| wharf_bin.with_file_name("wharf-native-bench"))
}

/// The end-to-end workloads run the release `wharf` that `cargo xtask bench` builds.
fn need_release_wharf(wharf_bin: &Path) -> Result<()> {
    if !wharf_bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p wharf-server --bin wharf`",
            wharf_bin.display()
        );
    }
    Ok(())
}

/// Run a workload on SQLite, then on PostgreSQL when `WHARF_BENCH_POSTGRES_URL` is set
/// (a note in the report says when it was not).
fn on_both_databases(
    report: &mut Report,
    name: &str,
    mut workload: impl AsyncFnMut(&mut Report, &Backend) -> Result<()>,
) -> Result<()> {
    let exec = tokio::runtime::Runtime::new()?;
    exec.block_on(async {
        workload(report, &Backend::Sqlite).await?;
        match std::env::var("WHARF_BENCH_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => {
                workload(report, &Backend::Postgres(url.trim().into())).await
            }
            _ => {
                report.note(format!(
                    "{name} on PostgreSQL was NOT run: set WHARF_BENCH_POSTGRES_URL."
                ));
                Ok(())
            }
        }
    })
}
