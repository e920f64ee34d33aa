//! `wharf plugin new --kind marketplace|courier|accounting NAME`: a plugin crate that
//! builds for `wasm32-wasip2` and passes its kind's acceptance suite out of the box (its
//! fixtures were recorded from the example platform, carrier or ERP it talks to).
//! Templates live in `sdk/harness/templates/<kind>/` and are compiled into the binary.

use std::path::{Path, PathBuf};

use wharf_domain::manifest::PluginKind;

use crate::error::HarnessError;

/// Where the scaffolded crate gets `wharf-sdk` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// A local checkout's `sdk/guest`.
    Path(PathBuf),
    /// A registry version.
    Version(String),
}

impl SdkSource {
    /// The SDK next to this harness in the Wharf checkout it was built from, when that
    /// checkout still exists; otherwise this release's version.
    pub fn default_for_this_build() -> SdkSource {
        let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest");
        match local.canonicalize() {
            Ok(p) if p.join("Cargo.toml").exists() => SdkSource::Path(p),
            _ => SdkSource::Version(env!("CARGO_PKG_VERSION").to_string()),
        }
    }

    fn dependency(&self) -> String {
        match self {
            SdkSource::Path(p) => format!("{{ path = {:?} }}", p.display().to_string()),
            SdkSource::Version(v) => format!("{v:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScaffoldSpec {
    pub kind: PluginKind,
    /// Plugin name: `[a-z][a-z0-9-]*`, at most 40 characters.
    pub name: String,
    /// The crate directory to create (must not exist, or be empty).
    pub dir: PathBuf,
    pub sdk: SdkSource,
}

/// Every kind's build settings for `wasm32-wasip2` (the plugin's initial memory).
const CARGO_CONFIG: (&str, &str) = (
    ".cargo/config.toml",
    include_str!("../templates/cargo-config.toml"),
);

const MARKETPLACE: [(&str, &str); 12] = [
    CARGO_CONFIG,
    (
        "Cargo.toml",
        include_str!("../templates/marketplace/Cargo.toml.tmpl"),
    ),
    (
        "manifest.json",
        include_str!("../templates/marketplace/manifest.json.tmpl"),
    ),
    (
        "README.md",
        include_str!("../templates/marketplace/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/marketplace/src/lib.rs.tmpl"),
    ),
    (
        "src/settings.rs",
        include_str!("../templates/marketplace/src/settings.rs.tmpl"),
    ),
    (
        "src/mapping.rs",
        include_str!("../templates/marketplace/src/mapping.rs.tmpl"),
    ),
    (
        "src/webhook.rs",
        include_str!("../templates/marketplace/src/webhook.rs.tmpl"),
    ),
    (
        "src/api.rs",
        include_str!("../templates/marketplace/src/api.rs.tmpl"),
    ),
    (
        "fixtures/fixtures.json",
        include_str!("../templates/marketplace/fixtures/fixtures.json"),
    ),
    (
        "fixtures/cassette.json",
        include_str!("../templates/marketplace/fixtures/cassette.json"),
    ),
    (
        "fixtures/webhook.json",
        include_str!("../templates/marketplace/fixtures/webhook.json"),
    ),
];

const COURIER: [(&str, &str); 8] = [
    CARGO_CONFIG,
    (
        "Cargo.toml",
        include_str!("../templates/courier/Cargo.toml.tmpl"),
    ),
    (
        "manifest.json",
        include_str!("../templates/courier/manifest.json.tmpl"),
    ),
    (
        "README.md",
        include_str!("../templates/courier/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/courier/src/lib.rs.tmpl"),
    ),
    (
        "src/api.rs",
        include_str!("../templates/courier/src/api.rs.tmpl"),
    ),
    (
        "fixtures/fixtures.json",
        include_str!("../templates/courier/fixtures/fixtures.json"),
    ),
    (
        "fixtures/cassette.json",
        include_str!("../templates/courier/fixtures/cassette.json"),
    ),
];

const ACCOUNTING: [(&str, &str); 8] = [
    CARGO_CONFIG,
    (
        "Cargo.toml",
        include_str!("../templates/accounting/Cargo.toml.tmpl"),
    ),
    (
        "manifest.json",
        include_str!("../templates/accounting/manifest.json.tmpl"),
    ),
    (
        "README.md",
        include_str!("../templates/accounting/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/accounting/src/lib.rs.tmpl"),
    ),
    (
        "src/api.rs",
        include_str!("../templates/accounting/src/api.rs.tmpl"),
    ),
    (
        "fixtures/fixtures.json",
        include_str!("../templates/accounting/fixtures/fixtures.json"),
    ),
    (
        "fixtures/cassette.json",
        include_str!("../templates/accounting/fixtures/cassette.json"),
    ),
];

/// The template files of a kind: (path in the crate, text with `{{…}}` placeholders).
pub fn templates(kind: PluginKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        PluginKind::Marketplace => &MARKETPLACE,
        PluginKind::Courier => &COURIER,
        PluginKind::Accounting => &ACCOUNTING,
    }
}

/// Check a plugin name.
pub fn validate_name(name: &str) -> Result<(), HarnessError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(HarnessError::Scaffold(format!(
            "name {name:?}: use 1-40 characters a-z, 0-9 and -, starting with a letter"
        )))
    }
}

/// "acme-shop" → "Acme Shop".
fn display_name(name: &str) -> String {
    name.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The component file `cargo build --release --target wasm32-wasip2` produces for a
/// scaffolded plugin named `name`.
pub fn component_file_name(name: &str) -> String {
    format!("wharf_plugin_{}.wasm", name.replace('-', "_"))
}

/// Write the crate; returns the files written (relative to `spec.dir`).
pub fn scaffold(spec: &ScaffoldSpec) -> Result<Vec<PathBuf>, HarnessError> {
    validate_name(&spec.name)?;
    if spec.dir.exists() {
        let empty = std::fs::read_dir(&spec.dir)
            .map_err(|e| HarnessError::io(&spec.dir, e))?
            .next()
            .is_none();
        if !empty {
            return Err(HarnessError::Scaffold(format!(
                "{} exists and is not empty",
                spec.dir.display()
            )));
        }
    }
    let vars = [
        ("{{name}}", spec.name.clone()),
        ("{{crate}}", spec.name.replace('-', "_")),
        ("{{display_name}}", display_name(&spec.name)),
        ("{{sdk_dependency}}", spec.sdk.dependency()),
        ("{{wit_version}}", wharf_runtime::WIT_VERSION.to_string()),
    ];
    let mut written = Vec::new();
    for (rel, template) in templates(spec.kind).iter().copied() {
        let mut text = template.to_string();
        for (k, v) in &vars {
            text = text.replace(k, v);
        }
        let path = spec.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| HarnessError::io(parent, e))?;
        }
        std::fs::write(&path, text).map_err(|e| HarnessError::io(&path, e))?;
        written.push(PathBuf::from(rel));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Names are checked, and display names / component names derive from them.
    #[test]
    fn names() {
        assert!(validate_name("acme-shop2").is_ok());
        for bad in ["", "Acme", "9shop", "shop_x", "shop-", &"x".repeat(41)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(display_name("acme-shop"), "Acme Shop");
        assert_eq!(
            component_file_name("acme-shop"),
            "wharf_plugin_acme_shop.wasm"
        );
    }

    // Scaffolding fills every placeholder and refuses to overwrite a non-empty directory.
    #[test]
    fn fills_placeholders_and_refuses_overwrite() {
        let dir = std::env::temp_dir().join(format!("wharf-scaffold-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spec = ScaffoldSpec {
            kind: PluginKind::Marketplace,
            name: "acme-shop".into(),
            dir: dir.clone(),
            sdk: SdkSource::Version("0.1.0".into()),
        };
        let files = scaffold(&spec).unwrap();
        assert_eq!(files.len(), MARKETPLACE.len());
        for f in &files {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(
                !text.contains("{{"),
                "{} has a placeholder left",
                f.display()
            );
        }
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            cargo.contains("name = \"wharf-plugin-acme-shop\""),
            "{cargo}"
        );
        assert!(cargo.contains("wharf-sdk = \"0.1.0\""), "{cargo}");
        let config = std::fs::read_to_string(dir.join(".cargo/config.toml")).unwrap();
        assert!(
            config.contains("--initial-memory=2097152"),
            "the plugin's build settings: {config}"
        );
        let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
        assert!(wharf_domain::manifest::Manifest::from_json(&manifest).is_ok());
        assert!(
            matches!(scaffold(&spec), Err(HarnessError::Scaffold(m)) if m.contains("not empty"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
