//! `wharf-native-bench`: the `wharf` binary with the plugin call of Shopify webhooks
//! replaced by the connector's code compiled natively (see [`wharf_server::native`]), for
//! the benchmark of the sandbox's cost. Built only with the `native-plugins` feature; never
//! a deployment.

#[tokio::main]
async fn main() {
    wharf_server::native::enable();
    wharf_server::cli::main().await
}
