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
    assert_eq!(
        (m.name.as_str(), m.version.as_str()),
        ("pinduoduo", "0.1.0")
    );
    assert_eq!(m.kind, PluginKind::Marketplace);
    assert_eq!(m.wit_version, "0.2.0");
    assert_eq!(m.hosts, ["gw-api.pinduoduo.com"]);
    assert!(host_matches(&m.hosts[0], "gw-api.pinduoduo.com"));
    assert!(!host_matches(&m.hosts[0], "evil.pinduoduo.com"));
    assert_eq!(m.secrets, ["client_id", "client_secret", "access_token"]);
}

// Nothing is required; defaults are the real router, 30-minute windows, 100 per page, 7 days.
#[test]
fn config_defaults() {
    let m = manifest();
    let cfg = validate_config(&m.config_schema, &json!({})).unwrap();
    assert_eq!(cfg["api_url"], "https://gw-api.pinduoduo.com/api/router");
    assert_eq!(cfg["window_minutes"], "30");
    assert_eq!(cfg["page_size"], "100");
    assert_eq!(cfg["lookback_days"], "7");
    assert!(validate_config(&m.config_schema, &json!({"page_size": "big"})).is_err());
    assert!(validate_config(&m.config_schema, &json!({"shop_url": "x"})).is_err());
    // The defaults are what the plugin's own settings assume.
    let s = wharf_plugin_pinduoduo::settings::Settings::from_lookup(|k| {
        cfg.get(k).map(|v| v.to_string())
    })
    .unwrap();
    assert_eq!(
        s,
        wharf_plugin_pinduoduo::settings::Settings::from_lookup(|_| None).unwrap()
    );
}
