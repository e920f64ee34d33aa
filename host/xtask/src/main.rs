//! `cargo xtask`: the project's own build steps, so that README's two commands do all
//! set-up on a fresh machine.
//!
//! - `cargo xtask demo`    build the host and bundled plugins, run Wharf on SQLite with a
//!   simulated Shopify shop wired in.
//! - `cargo xtask test`    build the plugins, then run every test against SQLite and, when
//!   `WHARF_TEST_POSTGRES_URL` is set (CI sets it), again against PostgreSQL; the
//!   scale-out tests ([`POSTGRES_ONLY_TESTS`]) run in the PostgreSQL pass only.
//! - `cargo xtask plugins` build every Wasm plugin (first-party and test plugins) for
//!   `wasm32-wasip2` into `target/wasm32-wasip2/release/`; Python plugins (`plugins/*/app.py`)
//!   with componentize-py (`python`).
//! - `cargo xtask bench`   build the plugins and the release `wharf`, then run the
//!   benchmark suite (`host/bench`, in release): prints a table and writes
//!   `docs/benchmarks.md`. Arguments after `bench` go to `wharf-bench` (`--quick`,
//!   `--only runtime,translate,ingest,pull,peers`). Never part of `test`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod python;

fn main() -> Result<()> {
    // `cargo xtask demo -- --listen …` and `cargo xtask demo --listen …` both work.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--").collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("plugins") => build_plugins(&root),
        Some("test") => {
            build_plugins(&root)?;
            test(&root, &args[1..])
        }
        Some("bench") => {
            build_plugins(&root)?;
            bench(&root, &args[1..])
        }
        Some("demo") => {
            build_plugins(&root)?;
            run(Command::new(cargo())
                .current_dir(&root)
                .args([
                    "run",
                    "--package",
                    "wharf-server",
                    "--bin",
                    "wharf",
                    "--",
                    "demo",
                ])
                .args(&args[1..]))
        }
        _ => {
            eprintln!("usage: cargo xtask <plugins|test|demo|bench> [args]");
            std::process::exit(2);
        }
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask lives at host/xtask")
        .to_path_buf()
}

/// Every crate under `plugins/` and `tests/plugins/` whose library is a `cdylib`.
fn plugin_packages(root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for dir in ["plugins", "tests/plugins"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let manifest = entry?.path().join("Cargo.toml");
            let Ok(text) = std::fs::read_to_string(&manifest) else {
                continue;
            };
            if !text.contains("cdylib") {
                continue;
            }
            let name = text
                .lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix("name = ")
                        .map(|v| v.trim_matches('"').to_string())
                })
                .with_context(|| format!("no package name in {}", manifest.display()))?;
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Make sure the Wasm target is installed (rust-toolchain.toml asks rustup for it; this
/// covers a toolchain that was installed before the file named the target).
fn ensure_wasm_target(root: &Path) -> Result<()> {
    let installed = Command::new("rustup")
        .current_dir(root)
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-wasip2") =>
        {
            Ok(())
        }
        Ok(_) => {
            run(Command::new("rustup")
                .current_dir(root)
                .args(["target", "add", "wasm32-wasip2"]))
        }
        Err(_) => Ok(()), // no rustup: trust the toolchain to have the target
    }
}

fn build_plugins(root: &Path) -> Result<()> {
    ensure_wasm_target(root)?;
    let packages = plugin_packages(root)?;
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .args(["build", "--release", "--target", "wasm32-wasip2"]);
    for p in &packages {
        cmd.args(["--package", p]);
    }
    run(&mut cmd)?;
    let python = python::build(root)?;
    eprintln!(
        "xtask: built {} plugins ({python} in Python) into target/wasm32-wasip2/release/",
        packages.len() + python
    );
    Ok(())
}

fn test(root: &Path, extra: &[String]) -> Result<()> {
    let plugin_crates = plugin_packages(root)?;
    let mut base = vec!["test".to_string(), "--workspace".to_string()];
    base.extend(["--features".to_string(), TEST_FEATURES.to_string()]);
    // The benchmark suite is run by `cargo xtask bench`, never by the test command.
    base.extend(["--exclude".to_string(), BENCH_PACKAGE.to_string()]);
    for p in &plugin_crates {
        base.push("--exclude".into());
        base.push(p.clone());
    }
    // The end-to-end tests drive the real `wharf` binary (built with the suite's
    // features, so the suite does not compile the crates below it a second time).
    run(Command::new(cargo()).current_dir(root).args([
        "build",
        "--package",
        "wharf-server",
        "--features",
        TEST_FEATURES,
        "--bin",
        "wharf",
    ]))?;
    eprintln!(
        "xtask: running the suite against SQLite (without the PostgreSQL-only tests: {})",
        POSTGRES_ONLY_TESTS.join(", ")
    );
    let skips = POSTGRES_ONLY_TESTS.iter().flat_map(|t| ["--skip", t]);
    run(Command::new(cargo())
        .current_dir(root)
        .args(&base)
        .args(extra)
        .arg("--")
        .args(skips)
        .env_remove("WHARF_TEST_DATABASE_URL"))?;
    // The first-party plugin crates' own unit tests (mapping tables) run natively.
    let mut unit = Command::new(cargo());
    unit.current_dir(root).arg("test");
    for p in plugin_crates.iter().filter(|p| !p.contains("hostile")) {
        unit.args(["--package", p]);
    }
    run(&mut unit)?;
    // The Python plugins' native unit tests (their pure modules, stdlib unittest).
    python::unit_tests(root)?;
    match std::env::var("WHARF_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            eprintln!(
                "xtask: running the suite against PostgreSQL at {}",
                redact(&url)
            );
            run(Command::new(cargo())
                .current_dir(root)
                .args(&base)
                .args(extra)
                .env("WHARF_TEST_DATABASE_URL", url))
        }
        _ => {
            if std::env::var("CI").is_ok() {
                bail!("CI must set WHARF_TEST_POSTGRES_URL so the suite also runs on PostgreSQL");
            }
            eprintln!("xtask: WHARF_TEST_POSTGRES_URL is not set: the PostgreSQL pass was NOT run");
            Ok(())
        }
    }
}

/// Features the suite turns on: the runtime's native build of the Shopify webhook code,
/// so `host/runtime/tests/native.rs` checks it against the sandboxed component (inert in
/// the server, whose own `native-plugins` feature stays off).
const TEST_FEATURES: &str = "wharf-runtime/native-plugins";

/// Tests of a PostgreSQL-only deployment (several nodes on one database: SQLite is for a
/// single node). They fail without PostgreSQL, so the SQLite pass leaves them out by name;
/// the PostgreSQL pass runs them.
const POSTGRES_ONLY_TESTS: &[&str] = &[
    "three_nodes_share_the_work_and_survive_losing_one",
    "a_pull_longer_than_its_lease_never_runs_twice_at_once",
];

/// The benchmark suite's package (`host/bench`).
const BENCH_PACKAGE: &str = "wharf-bench";

/// Build the release `wharf` and `wharf-native-bench` (the end-to-end workloads run
/// them), then run the suite in release with `extra` arguments.
fn bench(root: &Path, extra: &[String]) -> Result<()> {
    run(Command::new(cargo()).current_dir(root).args([
        "build",
        "--release",
        "--package",
        "wharf-server",
        "--bin",
        "wharf",
    ]))?;
    // The same server with the Shopify plugin call compiled natively (the sandbox's cost).
    run(Command::new(cargo()).current_dir(root).args([
        "build",
        "--release",
        "--package",
        "wharf-server",
        "--features",
        "native-plugins",
        "--bin",
        "wharf-native-bench",
    ]))?;
    run(Command::new(cargo())
        .current_dir(root)
        .args(["run", "--release", "--package", BENCH_PACKAGE, "--"])
        .args(extra)
        .env("WHARF_BIN", root.join("target/release/wharf"))
        .env(
            "WHARF_PLUGIN_DIR",
            root.join("target/wasm32-wasip2/release"),
        ))
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("command failed ({status}): {cmd:?}");
    }
    Ok(())
}
