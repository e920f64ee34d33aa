//! The `wharf` binary. See `wharf --help`.

#[tokio::main]
async fn main() {
    wharf_server::cli::main().await
}
