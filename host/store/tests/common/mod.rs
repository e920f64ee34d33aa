//! Shared fixtures for the store's integration tests. Every test database comes from
//! `wharf_store::testing::fresh_url()`, so the suite runs on SQLite by default and on
//! PostgreSQL when `WHARF_TEST_DATABASE_URL` is set.
#![allow(dead_code)]

use std::collections::BTreeMap;

use wharf_domain::manifest::Manifest;
use wharf_domain::{Address, ChannelStatus, Line, Money, Order};
use wharf_store::{Installation, NewInstallation, PluginRecord, Store};

pub async fn store() -> Store {
    let url = wharf_store::testing::fresh_url().await;
    Store::connect(&url)
        .await
        .expect("connect to a fresh test database")
}

pub fn manifest(name: &str, version: &str) -> Manifest {
    let json = serde_json::json!({
        "name": name, "version": version, "kind": "marketplace", "wit_version": "0.1.0",
        "hosts": ["*.myshopify.com"],
        "config_schema": {"type": "object", "properties": {"shop_url": {"type": "string"}}},
        "secrets": ["access_token"]
    });
    Manifest::from_json(json.to_string().as_bytes()).expect("valid test manifest")
}

pub async fn plugin(store: &Store, name: &str) -> PluginRecord {
    store
        .insert_plugin(&manifest(name, "0.1.0"), b"\0asm fake component")
        .await
        .expect("insert plugin")
}

/// A merchant with one installation of `platform` for `shop`.
pub async fn installation(
    store: &Store,
    plugin_id: i64,
    merchant_id: i64,
    shop: &str,
) -> Installation {
    store
        .create_installation(NewInstallation {
            merchant_id,
            plugin_id,
            shop: shop.into(),
            config: BTreeMap::from([("shop_url".into(), format!("https://{shop}"))]),
            secrets: BTreeMap::from([("access_token".into(), "shpat_super_secret".into())]),
            egress_grant: vec!["*.myshopify.com".into()],
            pull_interval_secs: 300,
        })
        .await
        .expect("create installation")
}

/// Everything most tests need: a store, a merchant, a plugin and an installation.
pub struct World {
    pub store: Store,
    pub merchant_id: i64,
    pub plugin: PluginRecord,
    pub inst: Installation,
}

pub async fn world() -> World {
    let store = store().await;
    let merchant = store.create_merchant("Acme").await.unwrap();
    let plugin = plugin(&store, "shopify").await;
    let inst = installation(&store, plugin.id, merchant.id, "acme.myshopify.com").await;
    World {
        store,
        merchant_id: merchant.id,
        plugin,
        inst,
    }
}

pub fn usd(minor: i64) -> Money {
    Money::new(minor, "USD")
}

/// A consistent order (no anomaly flags): 2 × 1000 − 100 + 500 shipping − 200 = 2200.
pub fn order(external_id: &str, status: ChannelStatus, updated_at: i64) -> Order {
    Order {
        external_id: external_id.into(),
        number: format!("#{external_id}"),
        status,
        raw_status: status.as_str().into(),
        created_at: 1_700_000_000_000,
        updated_at,
        currency: "USD".into(),
        buyer: None,
        shipping_address: Some(Address {
            name: "Ada".into(),
            phone: String::new(),
            country: "US".into(),
            province: "CA".into(),
            city: "SF".into(),
            district: String::new(),
            street: "1 Main St".into(),
            postal_code: "94105".into(),
            encrypted: false,
        }),
        lines: vec![Line {
            line_id: "l1".into(),
            sku: "SKU-1".into(),
            channel_sku: "v1".into(),
            title: "Mug".into(),
            quantity: 2,
            unit_price: usd(1000),
            discount: usd(100),
        }],
        shipping_fee: usd(500),
        discount: usd(200),
        tax: usd(0),
        total_paid: usd(2200),
        presale: None,
        tags: vec!["vip".into()],
    }
}
