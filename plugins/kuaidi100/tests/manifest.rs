//! The plugin's manifest is one the host accepts, with the documented config defaults.

use serde_json::json;
use wharf_domain::manifest::{validate_config, Manifest, PluginKind};
use wharf_plugin_kuaidi100::settings::Settings;

fn manifest() -> Manifest {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/manifest.json")).unwrap();
    Manifest::from_json(&bytes).unwrap_or_else(|p| panic!("manifest refused: {p}"))
}

// Name, kind (courier), contract version, the one host and the two secrets.
#[test]
fn manifest_validates() {
    let m = manifest();
    assert_eq!(
        (m.name.as_str(), m.kind),
        ("kuaidi100", PluginKind::Courier)
    );
    assert_eq!(m.wit_version, "0.2.0");
    assert_eq!(m.hosts, ["poll.kuaidi100.com"]);
    assert_eq!(m.secrets, ["key", "customer"]);
}

// Nothing is required; the defaults are the ones the settings apply.
#[test]
fn config_defaults() {
    let m = manifest();
    let cfg = validate_config(&m.config_schema, &json!({})).unwrap();
    let s = Settings::from_lookup(|k| cfg.get(k).cloned()).unwrap();
    assert_eq!(s, Settings::from_lookup(|_| None).unwrap());
    assert!(validate_config(&m.config_schema, &json!({"com": "x"})).is_err());
}
