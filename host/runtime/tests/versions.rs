//! Contract versions and worlds: a 0.1.0 plugin (written with wit-bindgen against the
//! frozen contract) and 0.2.0 plugins run side by side; manifests claiming the wrong or
//! an unsupported version are refused by name; the 0.2.0 courier and accounting worlds are
//! called under the same sandbox.

mod common;

use common::{ctx, plugin_bytes, test_config};
use wharf_domain::accounting::{Journal, JournalEntry};
use wharf_domain::courier::{LabelFormat, Parcel, TrackingStatus, WaybillRequest};
use wharf_domain::manifest::PluginKind;
use wharf_domain::{Address, ChannelStatus, Money};
use wharf_runtime::{ConnectorError, Runtime, RuntimeError, SUPPORTED_WIT_VERSIONS};

fn address(name: &str) -> Address {
    Address {
        name: name.into(),
        phone: "13800000000".into(),
        country: "CN".into(),
        province: "Zhejiang".into(),
        city: "Hangzhou".into(),
        district: "Xihu".into(),
        street: "1 Wharf Road".into(),
        postal_code: "310000".into(),
        encrypted: false,
    }
}

fn request(service: Option<&str>) -> WaybillRequest {
    WaybillRequest {
        order_reference: "ORD-7".into(),
        service_code: service.map(String::from),
        sender: address("Warehouse"),
        receiver: address("Ann"),
        parcels: vec![Parcel {
            weight_g: 1500,
            length_mm: 300,
            width_mm: 200,
            height_mm: 100,
        }],
        declared_value: Money::new(9900, "CNY"),
    }
}

fn entry(account: &str, debit: i64, credit: i64) -> JournalEntry {
    JournalEntry {
        account: account.into(),
        debit: Money::new(debit, "CNY"),
        credit: Money::new(credit, "CNY"),
        memo: "sales".into(),
        order_reference: Some("ORD-7".into()),
    }
}

fn journal(entries: Vec<JournalEntry>) -> Journal {
    Journal {
        reference: "J-2024-05".into(),
        period_start: 1_714_521_600_000,
        period_end: 1_717_200_000_000,
        currency: "CNY".into(),
        memo: "May sales".into(),
        entries,
    }
}

/// A 0.1.0 plugin and a 0.2.0 plugin load into one runtime and answer concurrently, the old
/// one's results adapted to the domain types.
#[tokio::test]
async fn a_legacy_and_a_current_plugin_run_side_by_side() {
    assert_eq!(SUPPORTED_WIT_VERSIONS, ["0.1.0", "0.2.0"]);
    let rt = Runtime::new(test_config()).unwrap();
    let legacy = rt
        .load(&plugin_bytes("wharf_plugin_legacy_v0_1"), "0.1.0")
        .unwrap();
    let current = rt
        .load(&plugin_bytes("wharf_plugin_hostile"), "0.2.0")
        .unwrap();
    assert_eq!(
        (legacy.wit_version(), legacy.kind()),
        ("0.1.0", PluginKind::Marketplace)
    );
    assert_eq!(
        (current.wit_version(), current.kind()),
        ("0.2.0", PluginKind::Marketplace)
    );

    let (c, sink) = ctx(7, &[("shop", "acme")]);
    let (old_info, new_info, old_page, new_page) = tokio::join!(
        rt.describe(&legacy, &c),
        rt.describe(&current, &c),
        rt.pull_orders(&legacy, &c, None),
        rt.pull_orders(&current, &c, None),
    );
    assert_eq!(old_info.unwrap().platform, "legacy");
    assert_eq!(new_info.unwrap().platform, "hostile");
    let old_page = old_page.unwrap();
    assert_eq!(
        (old_page.cursor.as_deref(), old_page.more),
        (Some("end"), false)
    );
    let order = &old_page.orders[0];
    assert_eq!(order.external_id, "L-1");
    assert_eq!(order.status, ChannelStatus::Paid);
    assert_eq!(order.total_paid, Money::new(2500, "CNY"));
    assert_eq!(order.lines[0].quantity, 2);
    assert_eq!(order.tags, vec!["shop:acme"], "config@0.1.0 is served");
    assert_eq!(new_page.unwrap().orders[0].external_id, "H-1");
    assert!(
        sink.messages().iter().any(|m| m == "legacy pull"),
        "log@0.1.0 reaches the sink: {:?}",
        sink.messages()
    );

    let got = rt.get_order(&legacy, &c, "L-1").await.unwrap().unwrap();
    assert_eq!(&got, order);
    assert_eq!(rt.get_order(&legacy, &c, "nope").await.unwrap(), None);
    assert_eq!(
        rt.verify_webhook(&legacy, &c, vec![], b"{}".to_vec()).await,
        Err(ConnectorError::Unsupported)
    );
    assert_eq!(
        rt.push_inventory(&legacy, &c, &[]).await,
        Err(ConnectorError::Unsupported)
    );
}

/// A manifest whose wit_version differs from the component's own contract is refused,
/// naming both versions, also when the bytes are already compiled and cached.
#[test]
fn a_manifest_claiming_the_wrong_version_is_refused() {
    let rt = Runtime::new(test_config()).unwrap();
    let legacy = plugin_bytes("wharf_plugin_legacy_v0_1");
    let current = plugin_bytes("wharf_plugin_hostile");
    for (bytes, claimed, actual) in [(&legacy, "0.2.0", "0.1.0"), (&current, "0.1.0", "0.2.0")] {
        let err = rt.load(bytes, claimed).unwrap_err();
        assert!(
            matches!(&err, RuntimeError::VersionMismatch { manifest, component }
                if manifest == claimed && component == actual),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("wit_version {claimed}"))
                && msg.contains(&format!("wharf:connector@{actual}")),
            "{msg}"
        );
    }
    assert_eq!(rt.cached_components(), 0, "refused loads are not cached");
    rt.load(&legacy, "0.1.0").unwrap();
    let err = rt.load(&legacy, "0.2.0").unwrap_err();
    assert!(
        matches!(err, RuntimeError::VersionMismatch { .. }),
        "{err:?}"
    );
}

/// Versions this host has no bindings for are refused before compiling, with the supported
/// list in the message.
#[test]
fn unsupported_versions_are_refused_clearly() {
    let rt = Runtime::new(test_config()).unwrap();
    let bytes = plugin_bytes("wharf_plugin_legacy_v0_1");
    for claimed in ["0.0.9", "9.0.0", "0.1"] {
        let err = rt.load(&bytes, claimed).unwrap_err();
        assert!(
            matches!(&err, RuntimeError::UnsupportedVersion(v) if v == claimed),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(claimed) && msg.contains("supported: 0.1.0, 0.2.0"),
            "{msg}"
        );
    }
}

/// Every courier export runs on a 0.2.0 courier plugin and converts into the domain types;
/// a label over the output bound is refused.
#[tokio::test]
async fn courier_exports_run_under_the_sandbox() {
    let mut cfg = test_config();
    cfg.max_output_bytes = 4 * 1024 * 1024;
    let rt = Runtime::new(cfg).unwrap();
    let p = rt
        .load(&plugin_bytes("wharf_plugin_courier_fake"), "0.2.0")
        .unwrap();
    assert_eq!(p.kind(), PluginKind::Courier);
    let (c, _) = ctx(1, &[]);
    let info = rt.describe(&p, &c).await.unwrap();
    assert_eq!(info.platform, "fake-courier");

    let quotes = rt.quote(&p, &c, &request(None)).await.unwrap();
    let prices: Vec<_> = quotes
        .iter()
        .map(|q| (q.service_code.as_str(), q.price.minor, q.transit_days))
        .collect();
    assert_eq!(
        prices,
        [("standard", 2000, Some(3)), ("express", 4000, Some(1))]
    );
    let mut empty = request(None);
    empty.parcels.clear();
    assert!(matches!(
        rt.quote(&p, &c, &empty).await,
        Err(ConnectorError::InvalidInput(_))
    ));

    let (waybill, report) = rt
        .create_waybill_with(&p, &c, &Default::default(), &request(Some("express")))
        .await;
    let waybill = waybill.unwrap();
    assert_eq!(waybill.tracking_number, "FAKE-ORD-7");
    assert_eq!(waybill.label_format, LabelFormat::Zpl);
    assert_eq!(waybill.label, b"^XA^FDAnn^FS^XZ");
    assert_eq!(waybill.price, Some(Money::new(1000, "CNY")));
    assert!(report.peak_memory_bytes > 0, "the call is metered");
    assert!(matches!(
        rt.create_waybill(&p, &c, &request(Some("oversized"))).await,
        Err(ConnectorError::OutputTooLarge(_))
    ));

    rt.cancel_waybill(&p, &c, "FAKE-ORD-7").await.unwrap();
    assert!(matches!(
        rt.cancel_waybill(&p, &c, "OTHER").await,
        Err(ConnectorError::InvalidInput(_))
    ));
    let events = rt.track(&p, &c, "FAKE-ORD-7").await.unwrap();
    let statuses: Vec<_> = events.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            TrackingStatus::InfoReceived,
            TrackingStatus::InTransit,
            TrackingStatus::Delivered
        ]
    );
    assert_eq!(events[2].raw_status, "SIGNED");
    assert_eq!(events[0].location, "Hangzhou");
}

/// `post-journal` runs on a 0.2.0 accounting plugin; its typed errors come through.
#[tokio::test]
async fn accounting_posts_journals_under_the_sandbox() {
    let rt = Runtime::new(test_config()).unwrap();
    let p = rt
        .load(&plugin_bytes("wharf_plugin_ledger_fake"), "0.2.0")
        .unwrap();
    assert_eq!(p.kind(), PluginKind::Accounting);
    let (c, _) = ctx(1, &[]);
    assert_eq!(rt.describe(&p, &c).await.unwrap().platform, "fake-ledger");
    let voucher = rt
        .post_journal(
            &p,
            &c,
            &journal(vec![entry("1122", 9900, 0), entry("6001", 0, 9900)]),
        )
        .await
        .unwrap();
    assert_eq!(
        (voucher.id.as_str(), voucher.number.as_str()),
        ("V-J-2024-05", "记-0002")
    );
    assert!(matches!(
        rt.post_journal(&p, &c, &journal(vec![entry("1122", 1, 0)]))
            .await,
        Err(ConnectorError::InvalidInput(_))
    ));
}

/// An export outside a plugin's world answers `unsupported` without running the plugin.
#[tokio::test]
async fn exports_of_another_world_are_unsupported() {
    let rt = Runtime::new(test_config()).unwrap();
    let courier = rt
        .load(&plugin_bytes("wharf_plugin_courier_fake"), "0.2.0")
        .unwrap();
    let legacy = rt
        .load(&plugin_bytes("wharf_plugin_legacy_v0_1"), "0.1.0")
        .unwrap();
    let (c, _) = ctx(1, &[]);
    assert_eq!(
        rt.pull_orders(&courier, &c, None).await,
        Err(ConnectorError::Unsupported)
    );
    assert_eq!(
        rt.quote(&legacy, &c, &request(None)).await,
        Err(ConnectorError::Unsupported)
    );
    assert_eq!(
        rt.post_journal(&courier, &c, &journal(vec![])).await,
        Err(ConnectorError::Unsupported)
    );
}
