//! The plugin's manifest is one the host accepts, with the documented config defaults.

use serde_json::json;
use wharf_domain::manifest::{host_matches, validate_config, Manifest, PluginKind};
use wharf_plugin_amazon::settings::Settings;

fn manifest() -> Manifest {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/manifest.json")).unwrap();
    Manifest::from_json(&bytes).unwrap_or_else(|p| panic!("manifest refused: {p}"))
}

// Name, kind, contract version, hosts (LWA and the three regions) and secrets are what
// the host loads the plugin by.
#[test]
fn manifest_validates() {
    let m = manifest();
    assert_eq!((m.name.as_str(), m.version.as_str()), ("amazon", "0.1.0"));
    assert_eq!(m.kind, PluginKind::Marketplace);
    assert_eq!(m.wit_version, "0.2.0");
    assert_eq!(
        m.hosts,
        [
            "api.amazon.com",
            "sellingpartnerapi-na.amazon.com",
            "sellingpartnerapi-eu.amazon.com",
            "sellingpartnerapi-fe.amazon.com"
        ]
    );
    assert!(!host_matches(&m.hosts[0], "api.amazon.com.example"));
    assert_eq!(m.secrets, ["client_id", "client_secret", "refresh_token"]);
}

// Only marketplace_ids is required; the defaults are the ones the plugin's settings
// apply, and they read back through the plugin's own settings parser.
#[test]
fn config_defaults() {
    let m = manifest();
    assert!(
        validate_config(&m.config_schema, &json!({})).is_err(),
        "marketplace_ids is required"
    );
    let cfg = validate_config(
        &m.config_schema,
        &json!({"marketplace_ids": "A1PA6795UKMFR9"}),
    )
    .unwrap();
    assert_eq!(cfg["region"], "na");
    assert_eq!(cfg["token_url"], "https://api.amazon.com/auth/o2/token");
    assert_eq!(cfg["page_size"], "20");
    assert_eq!(cfg["lookback_days"], "7");
    assert!(!cfg.contains_key("endpoint") && !cfg.contains_key("seller_id"));
    let s = Settings::from_lookup(|k| cfg.get(k).cloned()).unwrap();
    assert_eq!(
        s,
        Settings::from_lookup(|k| (k == "marketplace_ids").then(|| "A1PA6795UKMFR9".to_string()))
            .unwrap()
    );
    assert!(validate_config(
        &m.config_schema,
        &json!({"marketplace_ids": "X", "region": "us"})
    )
    .is_err());
    assert!(validate_config(
        &m.config_schema,
        &json!({"marketplace_ids": "X", "page_size": "big"})
    )
    .is_err());
    assert!(validate_config(
        &m.config_schema,
        &json!({"marketplace_ids": "X", "shop_url": "x"})
    )
    .is_err());
}
