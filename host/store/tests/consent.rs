//! The merchant's consent recorded on an installation: written with it in one transaction,
//! read back merchant-scoped, replaced when given again, and compared with what a plugin
//! asks for.

mod common;

use std::collections::BTreeMap;

use common::{plugin, store, world};
use wharf_store::{NewConsent, NewInstallation, StoreError};

fn consent(plugin_id: i64, by: &str) -> NewConsent {
    NewConsent {
        plugin_id,
        hosts: vec!["*.myshopify.com".into()],
        secrets: vec!["access_token".into()],
        consented_by: by.into(),
    }
}

fn new_installation(merchant_id: i64, plugin_id: i64, shop: &str) -> NewInstallation {
    NewInstallation {
        merchant_id,
        plugin_id,
        shop: shop.into(),
        config: BTreeMap::new(),
        secrets: BTreeMap::from([("access_token".into(), "shpat_secret_value".into())]),
        egress_grant: vec!["*.myshopify.com".into()],
        pull_interval_secs: 300,
    }
}

// A consent given at creation is stored with the installation: lists, plugin, time and who;
// another merchant cannot read it; an installation created without one has none.
#[tokio::test]
async fn consent_is_stored_with_the_installation_and_scoped() {
    let s = store().await;
    let a = s.create_merchant("A").await.unwrap();
    let b = s.create_merchant("B").await.unwrap();
    let p = plugin(&s, "shopify").await;
    let inst = s
        .create_installation_with_consent(
            new_installation(a.id, p.id, "a.myshopify.com"),
            Some(consent(p.id, "api:staff")),
        )
        .await
        .unwrap();
    let c = s
        .get_consent(a.id, inst.id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(c.plugin_id, p.id);
    assert_eq!(c.hosts, ["*.myshopify.com"]);
    assert_eq!(c.secrets, ["access_token"]);
    assert_eq!(c.consented_by, "api:staff");
    assert!(
        c.consented_at > 1_700_000_000_000,
        "a real time: {}",
        c.consented_at
    );
    assert_eq!(
        s.get_consent(b.id, inst.id).await.unwrap(),
        None,
        "scoped to A"
    );
    let bare = s
        .create_installation(new_installation(a.id, p.id, "b.myshopify.com"))
        .await
        .unwrap();
    assert_eq!(s.get_consent(a.id, bare.id).await.unwrap(), None);
}

// A refused installation (duplicate shop) records no consent: both are one transaction.
#[tokio::test]
async fn a_refused_installation_records_no_consent() {
    let w = world().await;
    let err = w
        .store
        .create_installation_with_consent(
            new_installation(w.merchant_id, w.plugin.id, "acme.myshopify.com"),
            Some(consent(w.plugin.id, "api:staff")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        w.store.get_consent(w.merchant_id, w.inst.id).await.unwrap(),
        None
    );
}

// Consenting again replaces the record (new author); another merchant's installation is
// not found; `exceeded_by` names exactly what a plugin asks beyond the consent.
#[tokio::test]
async fn consent_again_replaces_and_compares() {
    let w = world().await;
    let first = w
        .store
        .record_consent(w.merchant_id, w.inst.id, consent(w.plugin.id, "api:one"))
        .await
        .unwrap();
    let mut again = consent(w.plugin.id, "api:two");
    again.hosts.push("api.example.com".into());
    let second = w
        .store
        .record_consent(w.merchant_id, w.inst.id, again)
        .await
        .unwrap();
    assert_eq!(second.consented_by, "api:two");
    assert!(second.consented_at >= first.consented_at);
    assert_eq!(second.hosts, ["*.myshopify.com", "api.example.com"]);
    let other = w.store.create_merchant("Other").await.unwrap();
    assert!(matches!(
        w.store
            .record_consent(other.id, w.inst.id, consent(w.plugin.id, "api:x"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    let asked_hosts = vec![
        "*.MyShopify.com".to_string(),
        "evil.example.net".to_string(),
    ];
    let asked_secrets = vec!["access_token".to_string(), "client_secret".to_string()];
    assert_eq!(
        first.exceeded_by(&asked_hosts, &asked_secrets),
        [
            "host \"evil.example.net\" was not consented to",
            "secret \"client_secret\" was not consented to"
        ]
    );
    assert!(first
        .exceeded_by(&first.hosts.clone(), &first.secrets.clone())
        .is_empty());
}
