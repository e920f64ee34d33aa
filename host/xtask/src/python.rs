//! Python plugins (`plugins/*/app.py` with a `manifest.json`), built with componentize-py
//! into `target/wasm32-wasip2/release/wharf_plugin_<dir with _>.wasm`, the same place and
//! naming as the Rust plugins. componentize-py is required: without it the build fails
//! saying how to install the pinned version (a plugin is never skipped).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The componentize-py release the Python plugins are built and tested with (`.ci/run`
/// installs the same).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The contract folder and world the Python plugins target.
const WIT_DIR: &str = "wit/since_v0.2.0";

/// One Python plugin: its directory, the world its manifest claims, the output file.
pub struct PythonPlugin {
    pub dir: PathBuf,
    pub world: String,
    pub output: PathBuf,
}

/// Every directory under `plugins/` holding an `app.py` and a `manifest.json`.
pub fn python_plugins(root: &Path) -> Result<Vec<PythonPlugin>> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(root.join("plugins")) else {
        return Ok(found);
    };
    for entry in entries {
        let dir = entry?.path();
        if !dir.join("app.py").is_file() || !dir.join("manifest.json").is_file() {
            continue;
        }
        let manifest = std::fs::read_to_string(dir.join("manifest.json"))
            .with_context(|| format!("reading {}", dir.join("manifest.json").display()))?;
        let world = ["marketplace", "courier", "accounting"]
            .into_iter()
            .find(|k| manifest.contains(&format!("\"kind\": \"{k}\"")))
            .unwrap_or("marketplace")
            .to_string();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("plugin directory name")?
            .replace('-', "_");
        found.push(PythonPlugin {
            output: root
                .join("target/wasm32-wasip2/release")
                .join(format!("wharf_plugin_{name}.wasm")),
            dir,
            world,
        });
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(found)
}

/// The installed componentize-py's version, or a failure saying how to install it.
fn check_componentize_py() -> Result<()> {
    let install = format!("pip install componentize-py=={COMPONENTIZE_PY_VERSION}");
    let out = match Command::new("componentize-py").arg("--version").output() {
        Ok(out) if out.status.success() => out,
        _ => bail!("componentize-py is not installed; the Python plugins need it: {install}"),
    };
    let version = String::from_utf8_lossy(&out.stdout);
    if !version.contains(COMPONENTIZE_PY_VERSION) {
        bail!(
            "componentize-py {} is installed but the Python plugins are built with \
             {COMPONENTIZE_PY_VERSION}: {install}",
            version.trim()
        );
    }
    Ok(())
}

/// Build every Python plugin.
pub fn build(root: &Path) -> Result<usize> {
    let plugins = python_plugins(root)?;
    if plugins.is_empty() {
        return Ok(0);
    }
    check_componentize_py()?;
    for p in &plugins {
        if let Some(parent) = p.output.parent() {
            std::fs::create_dir_all(parent)?;
        }
        super::run(
            Command::new("componentize-py")
                .current_dir(root)
                .args(["-d", WIT_DIR, "-w", &p.world, "componentize", "-p"])
                .arg(&p.dir)
                .args(["app", "-o"])
                .arg(&p.output),
        )?;
    }
    Ok(plugins.len())
}

/// Run each Python plugin's native unit tests (`<plugin>/tests/test_*.py`, stdlib
/// `unittest`) with its world's bindings generated into `target/py-bindings/<plugin>`.
pub fn unit_tests(root: &Path) -> Result<usize> {
    let plugins: Vec<PythonPlugin> = python_plugins(root)?
        .into_iter()
        .filter(|p| p.dir.join("tests").is_dir())
        .collect();
    if plugins.is_empty() {
        return Ok(0);
    }
    check_componentize_py()?;
    for p in &plugins {
        let name = p.dir.file_name().context("plugin directory name")?;
        let bindings = root.join("target/py-bindings").join(name);
        // componentize-py writes the bindings into a folder it creates itself.
        if bindings.exists() {
            std::fs::remove_dir_all(&bindings)?;
        }
        std::fs::create_dir_all(bindings.parent().context("bindings folder")?)?;
        super::run(
            Command::new("componentize-py")
                .current_dir(root)
                .args(["-d", WIT_DIR, "-w", &p.world, "bindings"])
                .arg(&bindings),
        )?;
        let path = std::env::join_paths([bindings.as_path(), p.dir.as_path()])?;
        super::run(
            Command::new("python3")
                .current_dir(root)
                .env("PYTHONPATH", path)
                .args(["-m", "unittest", "discover", "-v", "-s"])
                .arg(p.dir.join("tests")),
        )?;
    }
    Ok(plugins.len())
}
