//! Packaging, trust and consent over the real binary: `wharf plugin keygen | pack | sign`
//! from the CLI, `wharf serve --trusted-keys` without development mode, uploads accepted
//! only when signed by a trusted key over untouched bytes, and installations refused until
//! the merchant consents to exactly what the plugin requests.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig};
use wharf_tests::shopify::{install_body, resolve_arg, wait_for_orders, SHOP};
use wharf_tests::{create_merchant, operator_token, paths, read, wharf_cli, Api, Wharf};

/// A scratch directory for keys and packages, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("wharf-trust-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Keys and packages made with the CLI: acme's key (trusted) and mallory's (not), the
/// Shopify plugin packed unsigned, signed by acme and signed by mallory.
struct Kit {
    dir: Scratch,
    acme_key_id: String,
}

fn make_kit(tag: &str) -> Kit {
    let dir = Scratch::new(tag);
    let line = wharf_cli(&[
        "plugin",
        "keygen",
        "--out",
        &dir.s("acme.key"),
        "--vendor",
        "acme",
    ]);
    let acme_key_id = line.split_whitespace().nth(1).unwrap().to_string();
    wharf_cli(&["plugin", "keygen", "--out", &dir.s("mallory.key")]);
    std::fs::write(
        dir.path("trusted.keys"),
        format!(
            "# vendors whose plugins this server runs\n{}",
            std::fs::read_to_string(dir.path("acme.key.pub")).unwrap()
        ),
    )
    .unwrap();
    let component = paths::plugin("wharf_plugin_shopify").display().to_string();
    let shopify_dir = paths::workspace_root()
        .join("plugins/shopify")
        .display()
        .to_string();
    for name in ["unsigned", "signed", "mallory"] {
        wharf_cli(&[
            "plugin",
            "pack",
            &shopify_dir,
            "--component",
            &component,
            "-o",
            &dir.s(&format!("{name}.wharfpkg")),
        ]);
    }
    let key = dir.s("acme.key");
    wharf_cli(&["plugin", "sign", &dir.s("signed.wharfpkg"), "--key", &key]);
    let key = dir.s("mallory.key");
    wharf_cli(&["plugin", "sign", &dir.s("mallory.wharfpkg"), "--key", &key]);
    Kit { dir, acme_key_id }
}

/// A shop simulator and a production-mode server trusting acme's key.
async fn production(kit: &Kit, seed: usize) -> (ShopifySim, Wharf, Api, Api) {
    let sim = ShopifySim::start(ShopifySimConfig {
        shop_domain: SHOP.into(),
        ..ShopifySimConfig::default()
    })
    .await
    .unwrap();
    sim.generate_orders(seed, 7);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let merchant = create_merchant(&db, "A");
    let mut args = resolve_arg(&sim);
    args.extend(["--trusted-keys".into(), kit.dir.s("trusted.keys")]);
    let wharf = Wharf::start_production(&db, &args);
    let (operator, merchant) = (wharf.api(&op), wharf.api(&merchant.token));
    (sim, wharf, operator, merchant)
}

fn message(err: &Value) -> String {
    err["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The offset of `needle` in `haystack` (to tamper with a package at a known place).
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present")
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Without dev mode, a package signed by a trusted key is accepted and shows as verified; unsigned, tampered (manifest or component byte) and untrusted-key packages are refused with the reason.
#[tokio::test]
async fn only_packages_signed_by_a_trusted_key_are_accepted() {
    let kit = make_kit("accept");
    assert_eq!(
        mode(&kit.dir.path("acme.key")),
        0o600,
        "the private key is the owner's only"
    );
    let (_sim, wharf, operator, _merchant) = production(&kit, 0).await;
    let signed = read(kit.dir.path("signed.wharfpkg"));

    let (status, err) = operator
        .upload_package(read(kit.dir.path("unsigned.wharfpkg")))
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(message(&err).contains("unsigned"), "{err}");

    let (status, err) = operator
        .upload_plugin(
            read(paths::shopify_manifest()),
            read(paths::plugin("wharf_plugin_shopify")),
        )
        .await;
    assert_eq!(status, 422, "multipart is an unsigned upload: {err}");
    assert!(message(&err).contains("--dev-mode"), "{err}");

    let mut manifest_tampered = signed.clone();
    let at = find(&manifest_tampered, b"\"version\"");
    manifest_tampered[at + 1] = b'V';
    let (status, err) = operator.upload_package(manifest_tampered).await;
    assert_eq!(status, 422, "{err}");
    assert!(message(&err).contains("changed after signing"), "{err}");

    let mut component_tampered = signed.clone();
    let at = find(&component_tampered, b"COMP") + 12 + 4096;
    component_tampered[at] ^= 1;
    let (status, err) = operator.upload_package(component_tampered).await;
    assert_eq!(status, 422, "{err}");
    assert!(message(&err).contains("changed after signing"), "{err}");

    let (status, err) = operator
        .upload_package(read(kit.dir.path("mallory.wharfpkg")))
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(message(&err).contains("does not trust"), "{err}");

    assert_eq!(
        operator.get("/v1/plugins").await.1,
        json!([]),
        "nothing refused was stored"
    );

    // The good package, through the CLI as an operator would.
    let out = wharf_cli(&[
        "upload-plugin",
        "--api",
        &wharf.base_url,
        "--token",
        &operator.token,
        "--package",
        &kit.dir.s("signed.wharfpkg"),
    ]);
    let plugin: Value = serde_json::from_str(out.trim()).unwrap();
    let (status, shown) = operator.get(&format!("/v1/plugins/{}", plugin["id"])).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["signature"]["status"], "verified", "{shown}");
    assert_eq!(shown["signature"]["key_id"], kit.acme_key_id.as_str());
    assert_eq!(shown["signature"]["vendor"], "acme");
    assert_eq!(shown["capabilities"]["hosts"], json!(["*.myshopify.com"]));

    // The CLI's own check agrees with the server.
    let verify = Command::new(paths::wharf_bin())
        .args(["plugin", "verify", &kit.dir.s("mallory.wharfpkg")])
        .args(["--trusted-keys", &kit.dir.s("trusted.keys")])
        .output()
        .unwrap();
    assert!(
        !verify.status.success(),
        "mallory's package does not verify"
    );
}

/// Creating an installation needs explicit consent to exactly the plugin's hosts and secrets: missing or partial consent is a 422 naming what is missing; full consent installs and the signed plugin pulls orders.
#[tokio::test]
async fn installing_needs_explicit_consent_to_the_plugins_requests() {
    let kit = make_kit("consent");
    let (sim, _wharf, operator, merchant) = production(&kit, 3).await;
    let (status, plugin) = operator
        .upload_package(read(kit.dir.path("signed.wharfpkg")))
        .await;
    assert_eq!(status, 201, "{plugin}");
    let id = plugin["id"].as_i64().unwrap();

    let (status, caps) = merchant
        .get(&format!("/v1/plugins/{id}/capabilities"))
        .await;
    assert_eq!(status, 200, "merchants read what a plugin requests: {caps}");
    let summary = caps["summary"].to_string();
    for needle in ["myshopify.com", "access_token", "client_secret", "shop_url"] {
        assert!(
            summary.contains(needle),
            "{summary} should mention {needle}"
        );
    }

    let mut body = install_body(&sim, id, &[SHOP]);
    body.as_object_mut().unwrap().remove("consent");
    let (status, err) = merchant.post("/v1/installations", body.clone()).await;
    assert_eq!(status, 422, "{err}");
    let msg = message(&err);
    assert!(msg.contains("consent.hosts: required"), "{msg}");
    assert!(msg.contains("*.myshopify.com"), "{msg}");

    body["consent"] = json!({"hosts": ["*.myshopify.com"], "secrets": ["access_token"]});
    let (status, err) = merchant.post("/v1/installations", body.clone()).await;
    assert_eq!(status, 422, "{err}");
    assert!(
        message(&err).contains("consent.secrets: missing \"client_secret\""),
        "{err}"
    );

    body["consent"] = caps["consent"].clone();
    let (status, inst) = merchant.post("/v1/installations", body).await;
    assert_eq!(status, 201, "{inst}");
    let orders = wait_for_orders(&merchant, 3).await;
    assert_eq!(orders.len(), 3);
}

/// In dev mode (the e2e default) an unsigned multipart upload is accepted and its record says it is unsigned.
#[tokio::test]
async fn dev_mode_accepts_unsigned_plugins_and_marks_them() {
    let ctx = wharf_tests::shopify::setup(&[], 0).await;
    let (status, shown) = ctx
        .operator
        .get(&format!("/v1/plugins/{}", ctx.plugin_id))
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["signature"]["status"], "unsigned", "{shown}");
    assert_eq!(shown["signature"]["key_id"], Value::Null);
}
