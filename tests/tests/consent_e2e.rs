//! The merchant's consent recorded on the installation, over the real binary and a real
//! database (SQLite, or PostgreSQL when `WHARF_TEST_DATABASE_URL` is set): shown on the
//! installation, given again with checks, scoped to the merchant, never leaking secrets.

use serde_json::json;
use wharf_tests::shopify;

// The consent given at creation is stored and shown (hosts, secrets, plugin, time, who);
// consenting again with lists that do not restate the plugin's requests is 422 and keeps
// the record; a correct one replaces it; another merchant cannot see or change it.
#[tokio::test]
async fn consent_is_recorded_shown_and_given_again() {
    let ctx = shopify::setup(&[], 0).await;
    let path = format!("/v1/installations/{}", ctx.installation);
    let (status, inst) = ctx.merchant.get(&path).await;
    assert_eq!(status, 200, "{inst}");
    let consent = &inst["consent"];
    let wanted = wharf_tests::consent("shopify");
    assert_eq!(consent["hosts"], wanted["hosts"], "{inst}");
    assert_eq!(consent["secrets"], wanted["secrets"], "{inst}");
    assert_eq!(consent["plugin_id"], ctx.plugin_id);
    assert!(consent["consented_at"].as_i64().unwrap() > 1_700_000_000_000);
    let by = consent["consented_by"].as_str().unwrap();
    assert!(by.starts_with("api:"), "{by}");
    assert_eq!(inst["consent_missing"], json!([]), "{inst}");
    let cfg = ctx.sim.config();
    assert!(
        !inst.to_string().contains(&cfg.access_token),
        "no secret value shown"
    );

    let again = format!("{path}/consent");
    let (status, err) = ctx
        .merchant
        .post(&again, json!({"hosts": wanted["hosts"], "secrets": []}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(err.to_string().contains("client_secret"), "{err}");
    let (_, unchanged) = ctx.merchant.get(&path).await;
    assert_eq!(
        unchanged["consent"], inst["consent"],
        "a refused consent changes nothing"
    );

    let (status, other) = ctx.other_merchant.post(&again, wanted.clone()).await;
    assert_eq!(status, 404, "{other}");
    let (status, other) = ctx.other_merchant.get(&path).await;
    assert_eq!(status, 404, "{other}");

    let (status, renewed) = ctx.merchant.post(&again, wanted.clone()).await;
    assert_eq!(status, 200, "{renewed}");
    assert!(renewed["consented_at"].as_i64() >= consent["consented_at"].as_i64());
    let (_, shown) = ctx.merchant.get(&path).await;
    assert_eq!(shown["consent"], renewed);
    // Covered by the consent: enabling is allowed.
    let (status, enabled) = ctx
        .merchant
        .post(&format!("{path}/enable"), json!({}))
        .await;
    assert_eq!(status, 200, "{enabled}");
}
