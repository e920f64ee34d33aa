//! The plugin's manifest is one the host accepts, with the documented config defaults.

use serde_json::json;
use wharf_domain::manifest::{host_matches, validate_config, Manifest, PluginKind};

fn manifest() -> Manifest {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/manifest.json")).unwrap();
    Manifest::from_json(&bytes).unwrap_or_else(|p| panic!("manifest refused: {p}"))
}

// Name, kind, contract version, hosts and secrets are what the host loads the plugin by.
#[test]
fn manifest_validates() {
    let m = manifest();
    assert_eq!((m.name.as_str(), m.version.as_str()), ("taobao", "0.1.0"));
    assert_eq!(m.kind, PluginKind::Marketplace);
    assert_eq!(m.wit_version, "0.2.0");
    assert_eq!(m.hosts, ["gw.api.taobao.com", "eco.taobao.com"]);
    assert!(host_matches(&m.hosts[0], "gw.api.taobao.com"));
    assert!(!host_matches(&m.hosts[1], "evil.taobao.com.example"));
    assert_eq!(m.secrets, ["app_key", "app_secret", "session"]);
}

// Nothing is required; the defaults are the ones the plugin's settings apply, and they
// read back through the plugin's own settings parser.
#[test]
fn config_defaults() {
    let m = manifest();
    let cfg = validate_config(&m.config_schema, &json!({})).unwrap();
    assert_eq!(cfg["api_url"], "https://eco.taobao.com/router/rest");
    assert_eq!(cfg["window_minutes"], "30");
    assert_eq!(cfg["page_size"], "100");
    assert_eq!(cfg["lookback_days"], "7");
    assert!(!cfg.contains_key("seller_nick"));
    let s = wharf_plugin_taobao::settings::Settings::from_lookup(|k| cfg.get(k).cloned()).unwrap();
    assert_eq!(
        s,
        wharf_plugin_taobao::settings::Settings::from_lookup(|_| None).unwrap()
    );
    assert!(validate_config(&m.config_schema, &json!({"page_size": "big"})).is_err());
    assert!(validate_config(&m.config_schema, &json!({"shop_url": "x"})).is_err());
}
