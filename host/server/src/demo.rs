//! `wharf demo`: Wharf on embedded SQLite with the bundled Shopify plugin enabled for a
//! simulated shop. The simulator serves the Shopify Admin API on loopback and sends signed
//! webhooks; the plugin reaches it through an operator resolver override
//! (`wharf-demo.myshopify.com` → the simulator), so the egress grant is the real one.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use wharf_domain::manifest::validate_config;
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig};
use wharf_store::{NewInstallation, TokenScope};

use crate::cli::{build_state, shutdown_signal};
use crate::ServerConfig;

const DEMO_SHOP: &str = "wharf-demo.myshopify.com";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Demo database; recreated at every start.
    #[arg(long, default_value = ".wharf/demo.db")]
    pub database_path: PathBuf,
    /// Where the built plugins are (`cargo xtask plugins` puts them here).
    #[arg(long, default_value = "target/wasm32-wasip2/release")]
    pub plugin_dir: PathBuf,
    /// Where the plugins' manifests are.
    #[arg(long, default_value = "plugins")]
    pub manifest_dir: PathBuf,
    /// Seconds between simulated new orders (sent as webhooks).
    #[arg(long, default_value_t = 3)]
    pub order_every_secs: u64,
}

pub async fn run(args: DemoArgs) -> Result<()> {
    let component_path = args.plugin_dir.join("wharf_plugin_shopify.wasm");
    let manifest_path = args.manifest_dir.join("shopify/manifest.json");
    let component = std::fs::read(&component_path).with_context(|| {
        format!(
            "reading {} (build it with `cargo xtask plugins`)",
            component_path.display()
        )
    })?;
    let manifest = std::fs::read(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;

    if let Some(dir) = args.database_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", args.database_path.display()));
    }

    let sim_config = ShopifySimConfig {
        shop_domain: DEMO_SHOP.into(),
        ..ShopifySimConfig::default()
    };
    let (access_token, client_secret) = (
        sim_config.access_token.clone(),
        sim_config.client_secret.clone(),
    );
    let sim = ShopifySim::start(sim_config).await?;
    sim.generate_orders(25, 2026);

    let mut config = ServerConfig {
        database_url: format!("sqlite://{}", args.database_path.display()),
        default_pull_interval: Duration::from_secs(20),
        ..ServerConfig::default()
    };
    config.resolve.insert(DEMO_SHOP.into(), sim.addr());
    // The demo is a development setup: the bundled plugin comes straight from the build,
    // unsigned, and its record says so.
    config.trust.dev_mode = true;
    let state = build_state(config).await?;
    let store = state.store().clone();

    let operator_token = store.issue_token(TokenScope::Operator, "demo").await?;
    let merchant = store.create_merchant("Demo merchant").await?;
    let merchant_token = store
        .issue_token(TokenScope::Merchant(merchant.id), "demo")
        .await?;
    let plugin = crate::registry::register(
        &state,
        &manifest,
        &component,
        &wharf_store::PluginSignature::unsigned(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let plugin_config = serde_json::json!({"shop_url": format!("http://{DEMO_SHOP}")});
    let config = validate_config(&plugin.manifest.config_schema, &plugin_config)
        .map_err(|p| anyhow::anyhow!("{p}"))?;
    let inst = store
        .create_installation(NewInstallation {
            merchant_id: merchant.id,
            plugin_id: plugin.id,
            shop: DEMO_SHOP.into(),
            config,
            secrets: [
                ("access_token".to_string(), access_token),
                ("client_secret".to_string(), client_secret),
            ]
            .into(),
            egress_grant: vec![DEMO_SHOP.into()],
            pull_interval_secs: 20,
        })
        .await?;

    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let _traffic = sim.spawn_traffic(
        format!("{base}/v1/hooks/{}", inst.id),
        Duration::from_secs(args.order_every_secs.max(1)),
    );

    println!(
        "\nWharf demo is running.\n\
         \n  Admin API:       {base}/v1   (OpenAPI: {base}/v1/openapi.json)\
         \n  Merchant token:  {merchant_token}\
         \n  Operator token:  {operator_token}\
         \n  Shopify shop:    {DEMO_SHOP} (simulated at {}), installation {}\
         \n\nThe first pull runs now; a new order arrives by webhook every {}s, and a pull runs every 20s.\
         \nTry:\n  curl -s -H 'Authorization: Bearer {merchant_token}' {base}/v1/orders\
         \n  curl -s -H 'Authorization: Bearer {merchant_token}' {base}/v1/installations/{}\
         \n\nDevelopment mode: the bundled plugin is unsigned, and unsigned uploads are accepted.\
         \nCtrl-C stops it.\n",
        sim.base_url(),
        inst.id,
        args.order_every_secs.max(1),
        inst.id
    );
    crate::serve(state, listener, shutdown_signal()).await
}
