//! The plugin's manifest is one the host accepts, with config defaults its settings parser
//! reads back.

use serde_json::json;
use wharf_domain::manifest::{host_matches, validate_config, Manifest, PluginKind};
use wharf_plugin_kingdee::settings::Settings;

fn manifest() -> Manifest {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/manifest.json")).unwrap();
    Manifest::from_json(&bytes).unwrap_or_else(|p| panic!("manifest refused: {p}"))
}

// An accounting plugin on contract 0.2.0 with the login's two secrets; the merchant can
// grant a hosted (ik3cloud.com) or an on-premises host, nothing bare.
#[test]
fn manifest_validates() {
    let m = manifest();
    assert_eq!(
        (m.name.as_str(), m.kind),
        ("kingdee", PluginKind::Accounting)
    );
    assert_eq!(m.wit_version, "0.2.0");
    assert_eq!(m.secrets, ["username", "password"]);
    assert!(m.hosts.iter().any(|p| host_matches(p, "acme.ik3cloud.com")));
    assert!(m.hosts.iter().any(|p| host_matches(p, "erp.example.com")));
    assert!(!m.hosts.iter().any(|p| host_matches(p, "127.0.0.1")));
}

// base_url, acct_id and account_book are required; the schema's defaults are the
// settings parser's.
#[test]
fn config_defaults() {
    let m = manifest();
    assert!(validate_config(&m.config_schema, &json!({})).is_err());
    let ok = json!({"base_url": "https://erp.example.com/K3Cloud", "acct_id": "a", "account_book": "001"});
    assert!(validate_config(&m.config_schema, &ok).is_ok());
    let props = &m.config_schema["properties"];
    let s =
        Settings::from_lookup(|k| ok.get(k).and_then(|v| v.as_str()).map(String::from)).unwrap();
    assert_eq!(props["voucher_group"]["default"], s.voucher_group.as_str());
    assert_eq!(
        props["reference_field"]["default"],
        s.reference_field.as_str()
    );
    assert_eq!(props["currency"]["default"], s.currency.as_str());
    assert_eq!(props["lcid"]["default"], s.lcid);
    assert_eq!(props["utc_offset_minutes"]["default"], s.utc_offset_minutes);
}
