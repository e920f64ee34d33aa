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
    assert_eq!((m.name.as_str(), m.version.as_str()), ("shopify", "0.1.0"));
    assert_eq!(m.kind, PluginKind::Marketplace);
    assert_eq!(m.wit_version, "0.2.0");
    assert_eq!(m.hosts, ["*.myshopify.com"]);
    assert!(host_matches(&m.hosts[0], "acme.myshopify.com"));
    assert_eq!(m.secrets, ["access_token", "client_secret"]);
}

// Only shop_url is required; the others default to 2024-04 / 250 / 30.
#[test]
fn config_defaults() {
    let m = manifest();
    let cfg = validate_config(
        &m.config_schema,
        &json!({"shop_url": "https://acme.myshopify.com"}),
    )
    .unwrap();
    assert_eq!(cfg["api_version"], "2024-04");
    assert_eq!(cfg["page_size"], "250");
    assert_eq!(cfg["lookback_days"], "30");
    assert!(validate_config(&m.config_schema, &json!({})).is_err());
    assert!(validate_config(
        &m.config_schema,
        &json!({"shop_url": "x", "page_size": "big"})
    )
    .is_err());
}
