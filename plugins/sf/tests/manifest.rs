//! The plugin's manifest is one the host accepts, with the documented config defaults.

use serde_json::json;
use wharf_domain::manifest::{host_matches, validate_config, Manifest, PluginKind};
use wharf_plugin_sf::settings::Settings;

fn manifest() -> Manifest {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/manifest.json")).unwrap();
    Manifest::from_json(&bytes).unwrap_or_else(|p| panic!("manifest refused: {p}"))
}

// Name, kind (courier), contract version, hosts and secrets are what the host loads it by.
#[test]
fn manifest_validates() {
    let m = manifest();
    assert_eq!((m.name.as_str(), m.kind), ("sf", PluginKind::Courier));
    assert_eq!(m.wit_version, "0.2.0");
    assert!(m
        .hosts
        .iter()
        .any(|h| host_matches(h, "bspgw.sf-express.com")));
    assert!(m
        .hosts
        .iter()
        .any(|h| host_matches(h, "eos-scp-core-shenzhen-futian1-oss.sf-express.com")));
    assert!(!m
        .hosts
        .iter()
        .any(|h| host_matches(h, "sf-express.com.example")));
    assert_eq!(m.secrets, ["check_word"]);
}

// partner_id is required; the schema's defaults are the ones the settings apply.
#[test]
fn config_defaults() {
    let m = manifest();
    assert!(validate_config(&m.config_schema, &json!({})).is_err());
    let cfg = validate_config(&m.config_schema, &json!({"partner_id": "ABC"})).unwrap();
    let s = Settings::from_lookup(|k| cfg.get(k).cloned()).unwrap();
    assert_eq!(s.service_url(), "https://bspgw.sf-express.com/std/service");
    assert_eq!(s.default_service, "2");
    assert!(validate_config(&m.config_schema, &json!({"partner_id": "A", "shop": "x"})).is_err());
}
