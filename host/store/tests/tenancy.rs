//! Tenancy and auth: tokens, merchant isolation, registry conflicts, installations.

mod common;

use std::collections::BTreeMap;

use common::{installation, manifest, order, plugin, store, world};
use wharf_domain::ChannelStatus::Paid;
use wharf_store::{Counter, IngestSource, NewInstallation, OrderFilter, StoreError, TokenScope};

// Issued tokens authenticate with their scope; unknown, tampered and malformed ones
// do not; a token for a missing merchant is refused.
#[tokio::test]
async fn tokens_authenticate_with_their_scope() {
    let s = store().await;
    let m = s.create_merchant("Acme").await.unwrap();
    let op = s.issue_token(TokenScope::Operator, "ops").await.unwrap();
    let mt = s
        .issue_token(TokenScope::Merchant(m.id), "staff")
        .await
        .unwrap();
    assert!(op.starts_with("wharf_") && op.len() == 6 + 64);
    assert_ne!(op, mt);
    assert_eq!(
        s.authenticate(&op).await.unwrap(),
        Some(TokenScope::Operator)
    );
    assert_eq!(
        s.authenticate(&mt).await.unwrap(),
        Some(TokenScope::Merchant(m.id))
    );

    let mut tampered = mt.clone();
    let last = if tampered.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(tampered.len() - 1.., last);
    for bad in [
        tampered.as_str(),
        "",
        "wharf_",
        "Bearer x",
        &mt[..mt.len() - 1],
    ] {
        assert_eq!(
            s.authenticate(bad).await.unwrap(),
            None,
            "{bad:?} must not authenticate"
        );
    }
    let unknown = format!("wharf_{}", "ab".repeat(32));
    assert_eq!(s.authenticate(&unknown).await.unwrap(), None);
    assert!(matches!(
        s.issue_token(TokenScope::Merchant(9999), "x").await,
        Err(StoreError::NotFound(_))
    ));
}

// Merchant B cannot read or list A's orders, installations or logs.
#[tokio::test]
async fn merchants_cannot_see_each_others_data() {
    let w = world().await;
    let s = &w.store;
    let b = s.create_merchant("Bravo").await.unwrap();
    let r = s
        .ingest(&w.inst, &[order("1", Paid, 1)], IngestSource::Verify)
        .await
        .unwrap();
    s.append_log(w.inst.id, "info", "hello").await.unwrap();
    let a_order = r.order_ids[0];

    assert!(s.get_order(w.merchant_id, a_order).await.unwrap().is_some());
    assert!(s.get_order(b.id, a_order).await.unwrap().is_none());
    let page = s
        .list_orders(b.id, &OrderFilter::default(), 50, None)
        .await
        .unwrap();
    assert!(page.orders.is_empty());
    let filtered = OrderFilter {
        installation_id: Some(w.inst.id),
        ..Default::default()
    };
    assert!(s
        .list_orders(b.id, &filtered, 50, None)
        .await
        .unwrap()
        .orders
        .is_empty());
    assert_eq!(s.count_orders(b.id).await.unwrap(), 0);
    assert!(s.get_installation(b.id, w.inst.id).await.unwrap().is_none());
    assert!(s.list_installations(b.id).await.unwrap().is_empty());
    assert!(!s
        .set_installation_enabled(b.id, w.inst.id, false)
        .await
        .unwrap());
    assert!(s.list_logs(b.id, w.inst.id, 10).await.unwrap().is_empty());
    // A still sees its own.
    assert_eq!(s.list_installations(w.merchant_id).await.unwrap().len(), 1);
    assert_eq!(
        s.list_logs(w.merchant_id, w.inst.id, 10).await.unwrap()[0].message,
        "hello"
    );
}

// The same plugin (name, version) twice is a Conflict; a new version is fine; records
// and component bytes read back.
#[tokio::test]
async fn duplicate_plugin_version_is_a_conflict() {
    let s = store().await;
    let first = plugin(&s, "shopify").await;
    let err = s
        .insert_plugin(&manifest("shopify", "0.1.0"), b"other")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("shopify"));
    let second = s
        .insert_plugin(&manifest("shopify", "0.2.0"), b"v2")
        .await
        .unwrap();
    assert_eq!(second.sha256.len(), 64);
    assert_eq!(second.size_bytes, 2);
    let all = s.list_plugins().await.unwrap();
    assert_eq!(
        all.iter().map(|p| p.version.as_str()).collect::<Vec<_>>(),
        ["0.1.0", "0.2.0"]
    );
    assert_eq!(s.get_plugin(first.id).await.unwrap().unwrap(), first);
    assert_eq!(s.plugin_component(second.id).await.unwrap().unwrap(), b"v2");
    assert!(s.get_plugin(9999).await.unwrap().is_none());
    assert!(
        s.insert_plugin(&manifest("x", "1.0.0"), b"").await.is_err(),
        "empty component"
    );
}

// The same (merchant, plugin name, shop) twice is a Conflict, even via another version
// of the plugin; another merchant may install the same shop name.
#[tokio::test]
async fn duplicate_installation_is_a_conflict() {
    let w = world().await;
    let s = &w.store;
    let v2 = s
        .insert_plugin(&manifest("shopify", "0.2.0"), b"v2")
        .await
        .unwrap();
    let new = NewInstallation {
        merchant_id: w.merchant_id,
        plugin_id: v2.id,
        shop: w.inst.shop.clone(),
        config: BTreeMap::new(),
        secrets: BTreeMap::new(),
        egress_grant: vec![],
        pull_interval_secs: 60,
    };
    let err = s.create_installation(new.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let b = s.create_merchant("Bravo").await.unwrap();
    let other = installation(s, w.plugin.id, b.id, &w.inst.shop).await;
    assert_eq!(other.merchant_id, b.id);
    let missing = NewInstallation {
        plugin_id: 9999,
        ..new.clone()
    };
    assert!(matches!(
        s.create_installation(missing).await,
        Err(StoreError::NotFound(_))
    ));
    let bad = NewInstallation {
        pull_interval_secs: 0,
        shop: "other".into(),
        ..new
    };
    assert!(matches!(
        s.create_installation(bad).await,
        Err(StoreError::InvalidInput(_))
    ));
}

// Installations carry no secrets (Debug, Serialize); only installation_secrets reads
// them, and NewInstallation's Debug redacts their values.
#[tokio::test]
async fn secrets_stay_out_of_installations_and_debug() {
    let w = world().await;
    let json = serde_json::to_string(&w.inst).unwrap();
    assert!(!json.contains("shpat_super_secret"));
    assert!(!format!("{:?}", w.inst).contains("shpat_super_secret"));
    let secrets = w.store.installation_secrets(w.inst.id).await.unwrap();
    assert_eq!(secrets["access_token"], "shpat_super_secret");
    let new = NewInstallation {
        merchant_id: 1,
        plugin_id: 1,
        shop: "s".into(),
        config: BTreeMap::new(),
        secrets,
        egress_grant: vec![],
        pull_interval_secs: 1,
    };
    let dbg = format!("{new:?}");
    assert!(
        dbg.contains("access_token") && !dbg.contains("shpat_super_secret"),
        "{dbg}"
    );
    assert!(matches!(
        w.store.installation_secrets(9999).await,
        Err(StoreError::NotFound(_))
    ));
}

// A new installation is due immediately; disabling removes it from due pulls and
// rescheduling moves it; errors and counters are recorded.
#[tokio::test]
async fn scheduling_errors_and_counters() {
    let w = world().await;
    let s = &w.store;
    let now = w.inst.created_at;
    assert_eq!(w.inst.next_pull_at, now, "first pull due immediately");
    assert_eq!(s.due_pulls(now).await.unwrap(), vec![w.inst.id]);
    s.schedule_next_pull(w.inst.id, now + 300_000)
        .await
        .unwrap();
    assert!(s.due_pulls(now).await.unwrap().is_empty());
    assert_eq!(s.due_pulls(now + 300_000).await.unwrap(), vec![w.inst.id]);
    assert!(s
        .set_installation_enabled(w.merchant_id, w.inst.id, false)
        .await
        .unwrap());
    assert!(
        s.due_pulls(now + 300_000).await.unwrap().is_empty(),
        "disabled is never due"
    );

    s.record_error(w.inst.id, "timeout", "pull took too long")
        .await
        .unwrap();
    s.bump_counter(w.inst.id, Counter::PullsFailed)
        .await
        .unwrap();
    s.bump_counter(w.inst.id, Counter::WebhooksRejected)
        .await
        .unwrap();
    s.bump_counter(w.inst.id, Counter::WebhooksRejected)
        .await
        .unwrap();
    let i = s
        .get_installation_unscoped(w.inst.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!i.enabled);
    assert_eq!(i.last_error.as_deref(), Some("timeout: pull took too long"));
    assert!(i.last_error_at.is_some());
    assert_eq!(
        (i.counters.pulls_failed, i.counters.webhooks_rejected),
        (1, 2)
    );
    assert!(matches!(
        s.bump_counter(9999, Counter::PullsOk).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.append_log(9999, "info", "x").await,
        Err(StoreError::NotFound(_))
    ));
}

// Logs come back newest first and respect the limit.
#[tokio::test]
async fn logs_are_newest_first_and_limited() {
    let w = world().await;
    for i in 0..5 {
        w.store
            .append_log(w.inst.id, "info", &format!("line {i}"))
            .await
            .unwrap();
    }
    let logs = w
        .store
        .list_logs(w.merchant_id, w.inst.id, 2)
        .await
        .unwrap();
    let msgs: Vec<_> = logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(msgs, ["line 4", "line 3"]);
}

// connect() answers ping, reports its backend, and is idempotent on an existing DB
// (migrations already applied).
#[tokio::test]
async fn connect_twice_and_ping() {
    let url = wharf_store::testing::fresh_url().await;
    let a = wharf_store::Store::connect(&url).await.unwrap();
    a.create_merchant("x").await.unwrap();
    let b = wharf_store::Store::connect(&url).await.unwrap();
    b.ping().await.unwrap();
    assert_eq!(a.backend(), b.backend());
    let expected = if url.starts_with("postgres") {
        wharf_store::Backend::Postgres
    } else {
        wharf_store::Backend::Sqlite
    };
    assert_eq!(b.backend(), expected);
    assert!(
        b.get_merchant(1).await.unwrap().is_some(),
        "data survives reconnect"
    );
    assert!(matches!(
        wharf_store::Store::connect("mysql://x/y").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}
