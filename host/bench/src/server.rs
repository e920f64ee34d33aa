//! A real release `wharf serve` with the Shopify plugin installed, for the end-to-end
//! workloads: fresh database (SQLite file, or a new PostgreSQL database dropped afterwards),
//! a Shopify simulator behind `--resolve`, an operator, a merchant, the plugin uploaded and
//! installed. Reuses the e2e helpers of `wharf-tests` (they run the binary named by
//! `WHARF_BIN`, which `main` points at the release build).

use std::time::Duration;

use anyhow::{anyhow, ensure, Context, Result};
use rand::RngCore;
use serde_json::{json, Value};
use sqlx::{Connection, Executor};
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

use crate::payload::{ACCESS_TOKEN, CLIENT_SECRET, SHOP};

/// Where the orders go.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A server URL (`postgres://user@host:port/db`); each run creates its own database.
    Postgres(String),
}

impl Backend {
    pub fn label(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// A fresh, empty database.
pub struct Db {
    pub url: String,
    /// (server URL, database name) to drop when done.
    pg: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

fn suffix() -> String {
    let mut b = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Db {
    pub async fn fresh(backend: &Backend) -> Result<Db> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("wharf-bench-{}", suffix()));
                std::fs::create_dir_all(&dir)?;
                Ok(Db {
                    url: format!("sqlite://{}", dir.join("wharf.db").display()),
                    pg: None,
                    dir: Some(dir),
                })
            }
            Backend::Postgres(base) => {
                let name = format!("wharf_bench_{}", suffix());
                let mut conn = sqlx::PgConnection::connect(base)
                    .await
                    .context("WHARF_BENCH_POSTGRES_URL: cannot connect")?;
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .with_context(|| format!("creating database {name}"))?;
                conn.close().await.ok();
                Ok(Db {
                    url: with_database(base, &name),
                    pg: Some((base.clone(), name)),
                    dir: None,
                })
            }
        }
    }

    /// Remove the database (after the server using it has stopped).
    pub async fn drop_now(self) -> Result<()> {
        if let Some((base, name)) = &self.pg {
            let mut conn = sqlx::PgConnection::connect(base).await?;
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await?;
            conn.close().await.ok();
        }
        if let Some(dir) = &self.dir {
            std::fs::remove_dir_all(dir).ok();
        }
        Ok(())
    }
}

/// Replace the database name of a postgres URL, keeping any query string.
fn with_database(base: &str, name: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// A running server with one Shopify installation whose first (scheduled) pull is done.
pub struct Env {
    pub sim: ShopifySim,
    pub wharf: Wharf,
    pub merchant: Api,
    pub installation: i64,
    pub webhook_url: String,
    /// The arguments `wharf serve` was started with (more nodes start alike).
    pub args: Vec<String>,
}

impl Env {
    pub async fn start(db: &Db) -> Result<Env> {
        Self::start_bin(db, None).await
    }

    /// [`start`](Self::start) running `bin` instead of `WHARF_BIN` (another build of the
    /// server, e.g. `wharf-native-bench`).
    pub async fn start_bin(db: &Db, bin: Option<&std::path::Path>) -> Result<Env> {
        let sim = ShopifySim::start(ShopifySimConfig {
            shop_domain: SHOP.into(),
            access_token: ACCESS_TOKEN.into(),
            client_secret: CLIENT_SECRET.into(),
            ..ShopifySimConfig::default()
        })
        .await?;
        let url = db.url.clone();
        let (op, merchant) = tokio::task::spawn_blocking(move || {
            let op = operator_token(&url);
            (op, create_merchant(&url, "bench"))
        })
        .await?;
        let args: Vec<String> = [
            "--resolve",
            &format!("{SHOP}={}", sim.addr()),
            // No scheduled verification sweep during a measurement (it would re-read
            // orders through get-order beside the workload).
            "--verify-daily-at",
            "off",
            "--verify-interval-secs",
            "86400",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let wharf = match bin {
            Some(bin) => Wharf::start_bin(bin, &db.url, &args),
            None => Wharf::start(&db.url, &args),
        };
        let serve_args = args.clone();
        let operator = wharf.api(&op);
        let (status, plugin) = operator
            .upload_plugin(
                read(paths::shopify_manifest()),
                read(paths::plugin("wharf_plugin_shopify")),
            )
            .await;
        ensure!(status == 201, "plugin upload: {status} {plugin}");
        let merchant = wharf.api(&merchant.token);
        let (status, inst) = merchant
            .post(
                "/v1/installations",
                json!({
                    "plugin_id": plugin["id"],
                    "shop": SHOP,
                    "config": {"shop_url": format!("http://{SHOP}"), "page_size": 250},
                    "secrets": {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
                    "egress_grant": [SHOP],
                    "consent": wharf_tests::consent("shopify"),
                    "pull_interval_secs": 86400
                }),
            )
            .await;
        ensure!(status == 201, "installation: {status} {inst}");
        let installation = inst["id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no id: {inst}"))?;
        let env = Env {
            webhook_url: format!("{}/v1/hooks/{installation}", wharf.base_url),
            sim,
            wharf,
            merchant,
            installation,
            args: serve_args,
        };
        // The first scheduled pull (of an empty shop) runs at once: let it finish so it
        // neither competes with a measurement nor holds the pull lock.
        let path = format!("/v1/installations/{installation}");
        eventually(Duration::from_secs(60), || async {
            let (_, i) = env.merchant.get(&path).await;
            i["last_sync_at"].as_i64()
        })
        .await
        .ok_or_else(|| anyhow!("the first scheduled pull did not finish within 60 s"))?;
        Ok(env)
    }

    /// Start `n` more `wharf serve` processes on the same database (scale-out nodes);
    /// each serves the same installation's webhooks.
    pub fn more_nodes(&self, db: &Db, n: usize) -> Vec<Wharf> {
        (0..n).map(|_| Wharf::start(&db.url, &self.args)).collect()
    }

    /// The installation as the API shows it (counters, last error).
    pub async fn installation(&self) -> Result<Value> {
        let (status, v) = self
            .merchant
            .get(&format!("/v1/installations/{}", self.installation))
            .await;
        ensure!(status == 200, "GET installation: {status} {v}");
        Ok(v)
    }

    /// Peak and current resident memory of the wharf process, in KiB (VmHWM, VmRSS).
    pub fn memory_kib(&self) -> Result<(u64, u64)> {
        memory_kib(self.wharf.pid())
    }
}

/// Peak and current resident memory of a process, in KiB (VmHWM, VmRSS).
pub fn memory_kib(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("{name} missing from /proc/<pid>/status"))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A server URL gets the new database name and keeps its query string.
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "b"),
            "postgres://u@h/b?sslmode=disable"
        );
    }
}
