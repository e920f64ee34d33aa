//! The plugin's manifest is one the host accepts, with the documented config defaults.

use serde_json::json;
use wharf_domain::manifest::{host_matches, validate_config, Manifest, PluginKind};

fn manifest() -> Manifest {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/manifest.json")).unwrap();
    Manifest::from_json(&bytes).unwrap_or_else(|p| panic!("manifest refused: {p}"))
}

// Name, kind, contract version, hosts and secrets are what the host loads the plugin by;
// the host patterns let a merchant grant their own shop's host, and nothing bare.
#[test]
fn manifest_validates() {
    let m = manifest();
    assert_eq!(
        (m.name.as_str(), m.version.as_str()),
        ("woocommerce", "0.1.0")
    );
    assert_eq!(m.kind, PluginKind::Marketplace);
    assert_eq!(m.wit_version, "0.2.0");
    assert!(m.hosts.iter().any(|p| host_matches(p, "woo.example.com")));
    assert!(m
        .hosts
        .iter()
        .any(|p| host_matches(p, "shop.example.co.uk")));
    assert!(!m.hosts.iter().any(|p| host_matches(p, "com")));
    assert!(!m.hosts.iter().any(|p| host_matches(p, "127.0.0.1")));
    assert_eq!(
        m.secrets,
        ["consumer_key", "consumer_secret", "webhook_secret"]
    );
}

// site_url is required; the defaults are the ones the plugin's settings apply, and they
// read back through the plugin's own settings parser.
#[test]
fn config_defaults() {
    let m = manifest();
    assert!(validate_config(&m.config_schema, &json!({})).is_err());
    let cfg = validate_config(
        &m.config_schema,
        &json!({"site_url": "https://woo.example.com"}),
    )
    .unwrap();
    assert_eq!(cfg["page_size"], "100");
    assert_eq!(cfg["lookback_days"], "30");
    assert_eq!(cfg["safety_lag_seconds"], "60");
    let s =
        wharf_plugin_woocommerce::settings::Settings::from_lookup(|k| cfg.get(k).cloned()).unwrap();
    assert_eq!(
        s,
        wharf_plugin_woocommerce::settings::Settings::from_lookup(|k| {
            (k == "site_url").then(|| "https://woo.example.com".to_string())
        })
        .unwrap()
    );
    assert!(validate_config(
        &m.config_schema,
        &json!({"site_url": "x", "page_size": "big"})
    )
    .is_err());
    assert!(validate_config(&m.config_schema, &json!({"site_url": "x", "shop_url": "x"})).is_err());
}
