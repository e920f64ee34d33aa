//! Scale-out over the real `wharf` binary: several `wharf serve` nodes on ONE PostgreSQL
//! database, a stream of webhooks spread round-robin across them, and one node
//! SIGKILLed mid-stream while it holds a pull job.
//!
//! Scale-out is a PostgreSQL deployment (README, "Running several nodes"; SQLite is for
//! one node), so these tests need `WHARF_TEST_DATABASE_URL=postgres://…` and fail without
//! it. `cargo xtask test` runs them in its PostgreSQL pass and leaves them out of the
//! SQLite pass by name (`POSTGRES_ONLY_TESTS` in the xtask).
//!
//! Layout:
//! - [`SlowProxy`]: a TCP relay in front of one simulated shop: every request is slow (a
//!   pull takes a while), new requests can be stalled (to catch a pull in the act), and it
//!   records when each request was open (two open at once = two pulls overlapping).
//! - [`Cluster`]: shops, proxies, database, nodes, merchant, installations.
//! - [`deliver_balanced`]: one webhook delivery through a "load balancer" that moves on to
//!   the next node when one fails.
//! - [`Monitor`]: polls the running jobs while the test runs.
//! - [`postgres_database`]: a fresh PostgreSQL database, or a failure saying why not.
//! - the tests at the bottom.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig, WebhookEvent};
use wharf_tests::shopify::install_body;
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

/// Pull interval of every installation (the API's minimum).
const INTERVAL_SECS: i64 = 5;
/// Job lease of every node.
const LEASE_MS: u64 = 2000;

/// A fresh database on the PostgreSQL server of `WHARF_TEST_DATABASE_URL`; panics when the
/// variable does not name one (several nodes on one SQLite file is not a deployment).
async fn postgres_database() -> String {
    let base = std::env::var(wharf_store::testing::ENV).unwrap_or_default();
    assert!(
        base.starts_with("postgres"),
        "scale-out tests need PostgreSQL: set {}=postgres://… (cargo xtask test runs them in \
         its PostgreSQL pass)",
        wharf_store::testing::ENV
    );
    wharf_store::testing::fresh_url().await
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A TCP relay to one simulated shop (see the module docs). Each plugin request is its
/// own connection, so a connection's lifetime is a request's.
#[derive(Clone)]
struct SlowProxy {
    addr: SocketAddr,
    stall: watch::Sender<bool>,
    spans: Arc<Mutex<Vec<(Instant, Instant)>>>,
}

impl SlowProxy {
    async fn start(upstream: SocketAddr, delay: Duration) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = SlowProxy {
            addr: listener.local_addr().unwrap(),
            stall: watch::channel(false).0,
            spans: Arc::default(),
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let opened = Instant::now();
                let (mut stalled, spans) = (p.stall.subscribe(), p.spans.clone());
                tokio::spawn(async move {
                    let _ = stalled.wait_for(|s| !*s).await;
                    tokio::time::sleep(delay).await;
                    if let Ok(mut shop) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut shop).await;
                    }
                    spans.lock().unwrap().push((opened, Instant::now()));
                });
            }
        });
        proxy
    }

    /// Hold new requests (and any not yet forwarded) until [`SlowProxy::release`].
    fn hold(&self) {
        self.stall.send_replace(true);
    }

    fn release(&self) {
        self.stall.send_replace(false);
    }

    /// Pairs of requests that were open at the same time.
    fn overlaps(&self) -> Vec<((Instant, Instant), (Instant, Instant))> {
        let mut spans = self.spans.lock().unwrap().clone();
        spans.sort();
        let mut out = Vec::new();
        for (i, a) in spans.iter().enumerate() {
            for b in &spans[i + 1..] {
                if b.0 < a.1 {
                    out.push((*a, *b));
                }
            }
        }
        out
    }

    fn requests(&self) -> usize {
        self.spans.lock().unwrap().len()
    }
}

/// One installation: its shop's simulator, the proxy in front of it, and its id.
struct Shop {
    host: String,
    sim: ShopifySim,
    proxy: SlowProxy,
    installation: i64,
    installed_at_ms: i64,
}

/// Several nodes on one database, with one installation per shop.
struct Cluster {
    db: String,
    nodes: Vec<Option<Wharf>>,
    /// Every node's base URL, dead or alive (a dead node's refuses connections).
    bases: Vec<String>,
    merchant: String,
    shops: Vec<Shop>,
}

impl Cluster {
    /// `shops` simulated shops behind proxies slowing each request by `delay`, each seeded
    /// with `seed_orders`; `nodes` servers; the Shopify plugin installed once per shop,
    /// pulling every [`INTERVAL_SECS`] `page_size` orders at a time.
    async fn start(
        nodes: usize,
        shops: usize,
        delay: Duration,
        seed_orders: usize,
        page_size: u32,
    ) -> Cluster {
        let mut sims = Vec::new();
        let mut args: Vec<String> = Vec::new();
        for k in 0..shops {
            let host = format!("s{k}.myshopify.com");
            let sim = ShopifySim::start(ShopifySimConfig {
                shop_domain: host.clone(),
                ..ShopifySimConfig::default()
            })
            .await
            .unwrap();
            sim.generate_orders(seed_orders, k as u64 + 1);
            let proxy = SlowProxy::start(sim.addr(), delay).await;
            args.extend(["--resolve".into(), format!("{host}={}", proxy.addr)]);
            sims.push((host, sim, proxy));
        }
        args.extend(
            [
                "--job-lease-ms",
                &LEASE_MS.to_string(),
                "--job-poll-ms",
                "100",
                "--retry-delays-secs",
                "1,1,1",
                // The nightly settlement import calls the shops too; off, so every request
                // a shop sees is a pull's and overlaps mean two pulls at once.
                "--settlements-daily-at",
                "off",
            ]
            .map(String::from),
        );
        let db = postgres_database().await;
        let op = operator_token(&db);
        let merchant = create_merchant(&db, "scale").token;
        // One at a time: the first creates the schema.
        let mut started = Vec::new();
        for _ in 0..nodes {
            let (db, args) = (db.clone(), args.clone());
            let node = tokio::task::spawn_blocking(move || Wharf::start(&db, &args))
                .await
                .expect("starting wharf");
            started.push(node);
        }
        let (status, plugin) = started[0]
            .api(&op)
            .upload_plugin(
                read(paths::shopify_manifest()),
                read(paths::plugin("wharf_plugin_shopify")),
            )
            .await;
        assert_eq!(status, 201, "{plugin}");
        let plugin_id = plugin["id"].as_i64().unwrap();
        let mut installed = Vec::new();
        for (k, (host, sim, proxy)) in sims.into_iter().enumerate() {
            let mut body = install_body(&sim, plugin_id, &[&host]);
            body["shop"] = json!(host);
            body["config"] = json!({"shop_url": format!("http://{host}"), "page_size": page_size});
            body["pull_interval_secs"] = json!(INTERVAL_SECS);
            // Installations are created through different nodes.
            let api = started[k % nodes].api(&merchant);
            let (status, inst) = api.post("/v1/installations", body).await;
            assert_eq!(status, 201, "{inst}");
            installed.push(Shop {
                host,
                sim,
                proxy,
                installation: inst["id"].as_i64().unwrap(),
                installed_at_ms: now_ms(),
            });
        }
        Cluster {
            db,
            bases: started.iter().map(|n| n.base_url.clone()).collect(),
            nodes: started.into_iter().map(Some).collect(),
            merchant,
            shops: installed,
        }
    }

    /// The merchant's API on the first live node.
    fn api(&self) -> Api {
        let node = self.nodes.iter().flatten().next().expect("a live node");
        node.api(&self.merchant)
    }

    /// SIGKILL node `i`.
    async fn kill(&mut self, i: usize) {
        let node = self.nodes[i].take().expect("the node is alive");
        tokio::task::spawn_blocking(move || node.kill())
            .await
            .unwrap();
    }

    /// The node whose process id appears in a job's lease owner (`host:pid:nonce`).
    fn node_of_owner(&self, owner: &str) -> Option<usize> {
        let pid: u32 = owner.rsplit(':').nth(1)?.parse().ok()?;
        self.nodes
            .iter()
            .position(|n| n.as_ref().is_some_and(|n| n.pid() == pid))
    }

    /// Every pull job of an installation, oldest first.
    async fn pull_jobs(&self, installation: i64) -> Vec<Value> {
        let (status, jobs) = self.api().get("/v1/jobs?limit=1000").await;
        assert_eq!(status, 200, "{jobs}");
        let mut jobs: Vec<Value> = jobs
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["installation_id"] == installation && j["kind"] == "pull")
            .cloned()
            .collect();
        jobs.sort_by_key(|j| j["id"].as_i64());
        jobs
    }
}

/// Deliver `event` to `hooks[first]`, moving on to the next node on a refused, failed or
/// non-2xx attempt, as a load balancer in front of the nodes would. Returns the nodes
/// tried, in order, and whether one acknowledged it.
async fn deliver_balanced(
    source: &ShopifySim,
    hooks: &[String],
    first: usize,
    event: &WebhookEvent,
) -> (Vec<usize>, bool) {
    let mut tried = Vec::new();
    for attempt in 0..12 {
        let node = (first + attempt) % hooks.len();
        tried.push(node);
        if let Ok(status) = source
            .post_event(&hooks[node], event, Duration::from_secs(10))
            .await
        {
            if (200..300).contains(&status) {
                return (tried, true);
            }
        }
        tokio::time::sleep(Duration::from_millis(20 * attempt as u64)).await;
    }
    (tried, false)
}

/// Polls the running jobs through whichever node answers, recording the largest number
/// of running pull jobs seen at once for each installation.
struct Monitor {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<(BTreeMap<i64, usize>, usize)>,
}

impl Monitor {
    fn start(bases: Vec<String>, token: String) -> Monitor {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut most, mut polls) = (BTreeMap::new(), 0);
            while !*stopped.borrow() {
                for base in &bases {
                    let Ok(r) = http
                        .get(format!("{base}/v1/jobs?state=running"))
                        .bearer_auth(&token)
                        .send()
                        .await
                    else {
                        continue;
                    };
                    let Ok(jobs) = r.json::<Vec<Value>>().await else {
                        continue;
                    };
                    polls += 1;
                    let mut now: BTreeMap<i64, usize> = BTreeMap::new();
                    for j in jobs.iter().filter(|j| j["kind"] == "pull") {
                        *now.entry(j["installation_id"].as_i64().unwrap())
                            .or_default() += 1;
                    }
                    for (inst, n) in now {
                        let m = most.entry(inst).or_insert(0);
                        *m = (*m).max(n);
                    }
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stopped.changed() => {}
                }
            }
            (most, polls)
        });
        Monitor { stop, task }
    }

    async fn finish(self) -> (BTreeMap<i64, usize>, usize) {
        self.stop.send_replace(true);
        self.task.await.expect("monitor task")
    }
}

/// One streamed webhook: the order, the installation it went to, and the delivery.
struct Sent {
    shop: usize,
    external_id: String,
    tried: Vec<usize>,
    delivered: bool,
}

/// Three nodes on one database; webhooks spread round-robin across them; one node killed
/// mid-stream while it holds a pull job. No order is lost or duplicated, the killed
/// node's pull job is taken over after its lease expires, no two pulls of one shop ever
/// overlap, and each installation is pulled once per interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_share_the_work_and_survive_losing_one() {
    const NODES: usize = 3;
    const SHOPS: usize = 3;
    const WEBHOOKS: usize = 240;
    let started = Instant::now();
    let mut c = Cluster::start(NODES, SHOPS, Duration::from_millis(100), 20, 10).await;
    let monitor = Monitor::start(c.bases.clone(), c.merchant.clone());

    // Webhook orders come from a shop nobody pulls, with their own id range, so only a
    // webhook can store them.
    let source = ShopifySim::start(ShopifySimConfig::default())
        .await
        .unwrap();
    let acked = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for task in 0..4 {
        let hooks: Vec<Vec<String>> = c
            .shops
            .iter()
            .map(|s| {
                c.bases
                    .iter()
                    .map(|b| format!("{b}/v1/hooks/{}", s.installation))
                    .collect()
            })
            .collect();
        let sims: Vec<ShopifySim> = c.shops.iter().map(|s| s.sim.clone()).collect();
        let (source, acked) = (source.clone(), acked.clone());
        senders.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut sent = Vec::new();
            for i in (task..WEBHOOKS).step_by(4) {
                tick.tick().await;
                let shop = (i / NODES) % SHOPS;
                let mut order = source.generate_order(i as u64);
                order["id"] = json!(7_000_000_000_000u64 + i as u64);
                let event = source.event("orders/create", &order);
                let (tried, delivered) =
                    deliver_balanced(&source, &hooks[shop], i % NODES, &event).await;
                if delivered {
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                // Meanwhile the shops keep selling: new orders only a pull will find.
                if i % 10 == 0 {
                    sims[i % SHOPS].generate_order(1000 + i as u64);
                }
                sent.push(Sent {
                    shop,
                    external_id: order["id"].to_string(),
                    tried,
                    delivered,
                });
            }
            sent
        });
    }

    // Mid-stream, catch a pull of shop 0 in the act: hold its requests, wait for its job
    // to be running, and kill the node that holds it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.load(Ordering::SeqCst) < WEBHOOKS / 4 {
        assert!(Instant::now() < deadline, "the stream did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let shop0 = c.shops[0].installation;
    c.shops[0].proxy.hold();
    let held = eventually(Duration::from_secs(2 * INTERVAL_SECS as u64), || async {
        let (_, jobs) = c.api().get("/v1/jobs?state=running").await;
        jobs.as_array()?
            .iter()
            .find(|j| j["installation_id"] == shop0 && j["kind"] == "pull")
            .cloned()
    })
    .await
    .expect("a pull of shop 0 started within two intervals");
    let owner = held["lease_owner"]
        .as_str()
        .expect("a running job has an owner");
    let victim = c
        .node_of_owner(owner)
        .unwrap_or_else(|| panic!("lease owner {owner:?} is none of the nodes"));
    c.kill(victim).await;
    c.shops[0].proxy.release();
    let acked_at_kill = acked.load(Ordering::SeqCst);
    assert!(
        acked_at_kill < WEBHOOKS,
        "the kill landed mid-stream ({acked_at_kill} of {WEBHOOKS} acknowledged)"
    );

    let mut sent = Vec::new();
    while let Some(part) = senders.join_next().await {
        sent.extend(part.expect("sender task"));
    }
    eprintln!(
        "scale_e2e: killed node {victim} holding pull job {} after {acked_at_kill} webhooks; \
         stream done after {:?}",
        held["id"],
        started.elapsed()
    );

    // Every webhook was acknowledged (by a live node when its first pick was dead), and
    // acknowledged means stored: each one is there exactly once, right now.
    assert!(
        sent.iter().all(|d| d.delivered),
        "a webhook was never acknowledged"
    );
    let rerouted = sent.iter().filter(|d| d.tried.len() > 1).count();
    assert!(
        sent.iter()
            .any(|d| d.tried[0] == victim && d.tried.len() > 1),
        "webhooks for the dead node were re-routed to live ones"
    );
    let api = c.api();
    let stored_by_shop = |orders: Vec<Value>| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for o in orders {
            *m.entry(o["external_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        m
    };
    let mut stored = Vec::new();
    for s in &c.shops {
        stored.push(stored_by_shop(
            api.all_orders(&format!("installation_id={}", s.installation))
                .await,
        ));
    }
    for d in &sent {
        assert_eq!(
            stored[d.shop].get(&d.external_id).copied(),
            Some(1),
            "webhook order {} in shop {}",
            d.external_id,
            d.shop
        );
    }

    // The held job was taken over once its lease expired, and completed.
    let job_id = held["id"].as_i64().unwrap();
    let done = eventually(Duration::from_secs(20), || async {
        let (_, job) = c.api().get(&format!("/v1/jobs/{job_id}")).await;
        (job["state"] == "done").then_some(job)
    })
    .await
    .unwrap_or_else(|| panic!("pull job {job_id} of the killed node never completed"));
    assert!(
        done["runs"].as_i64().unwrap() >= 2,
        "completed by a second claim: {done}"
    );
    let lease_until = held["lease_until"].as_i64().unwrap();
    assert!(
        done["finished_at"].as_i64().unwrap() > lease_until,
        "taken over only after the killed node's lease expired: {done} vs {held}"
    );

    // Pulls catch up: each shop holds exactly its simulator's orders plus its webhooks.
    for (k, s) in c.shops.iter().enumerate() {
        let mut want: BTreeSet<String> =
            s.sim.orders().iter().map(|o| o["id"].to_string()).collect();
        want.extend(
            sent.iter()
                .filter(|d| d.shop == k)
                .map(|d| d.external_id.clone()),
        );
        let got = eventually(Duration::from_secs(30), || async {
            let got = stored_by_shop(
                api.all_orders(&format!("installation_id={}", s.installation))
                    .await,
            );
            (got.keys().cloned().collect::<BTreeSet<_>>() == want).then_some(got)
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "shop {} never held exactly its {} orders",
                s.host,
                want.len()
            )
        });
        assert!(got.values().all(|&n| n == 1), "duplicates in shop {k}");
    }
    let (most_running, polls) = monitor.finish().await;

    // Exactly one `created` event per order.
    for o in api.all_orders("").await {
        let (status, detail) = api.get(&format!("/v1/orders/{}", o["id"])).await;
        assert_eq!(status, 200, "{detail}");
        let created = detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "created")
            .count();
        assert_eq!(created, 1, "{detail}");
    }

    // No two pulls of one shop ever overlapped: not at the shop (two requests open at
    // once), and never two running pull jobs of one installation in the job table.
    for s in &c.shops {
        let overlaps = s.proxy.overlaps();
        assert!(
            overlaps.is_empty(),
            "{}: {} overlapping requests, e.g. {:?}",
            s.host,
            overlaps.len(),
            overlaps.first()
        );
    }
    assert!(polls > 20, "the monitor observed the jobs ({polls} polls)");
    assert!(
        most_running.values().all(|&n| n <= 1),
        "running pulls at once per installation: {most_running:?}"
    );

    // Once per tick: consecutive pull jobs of an installation were created at least an
    // interval apart (less a second of scheduler slack), and their number matches the
    // elapsed time (one tick may be skipped while a dead node's job waits out its lease).
    let interval_ms = INTERVAL_SECS * 1000;
    for s in &c.shops {
        let jobs = c.pull_jobs(s.installation).await;
        let created: Vec<i64> = jobs
            .iter()
            .map(|j| j["created_at"].as_i64().unwrap())
            .collect();
        for pair in created.windows(2) {
            assert!(
                pair[1] - pair[0] >= interval_ms - 1000,
                "{}: two pull jobs {} ms apart: {jobs:?}",
                s.host,
                pair[1] - pair[0]
            );
        }
        let elapsed = now_ms() - s.installed_at_ms;
        let ticks = (elapsed / interval_ms + 1) as usize;
        assert!(
            created.len() + 1 >= ticks && created.len() <= ticks,
            "{}: {} pull jobs in {elapsed} ms (expected about {ticks})",
            s.host,
            created.len()
        );
        assert!(
            jobs.iter().all(|j| j["state"] != "dead"),
            "{}: {jobs:?}",
            s.host
        );
        eprintln!(
            "scale_e2e: {}: {} pulls, {} shop requests",
            s.host,
            created.len(),
            s.proxy.requests()
        );
    }
    eprintln!(
        "scale_e2e: {rerouted} webhooks re-routed; {polls} monitor polls; db {}; {:?} in all",
        c.db,
        started.elapsed()
    );
}

/// A pull that takes longer than the job lease (a slow shop) is still one pull: the node
/// running it keeps its lease, so no other node starts the same pull while it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pull_longer_than_its_lease_never_runs_twice_at_once() {
    // 40 orders, 5 a page, 600 ms a request: the first pull takes about 5 s, more than
    // twice the 2 s lease.
    let c = Cluster::start(2, 1, Duration::from_millis(600), 40, 5).await;
    let shop = &c.shops[0];
    let want: BTreeSet<String> = shop
        .sim
        .orders()
        .iter()
        .map(|o| o["id"].to_string())
        .collect();
    let first = eventually(Duration::from_secs(40), || async {
        let jobs = c.pull_jobs(shop.installation).await;
        jobs.first()
            .filter(|j| j["state"] == "done" || j["state"] == "dead")
            .cloned()
    })
    .await
    .expect("the first pull job finished (done or dead) within 40 s");
    let overlaps = shop.proxy.overlaps();
    assert!(
        overlaps.is_empty(),
        "{} pairs of shop requests overlapped: the pull ran on two nodes at once \
         (first job: {first})",
        overlaps.len()
    );
    assert_eq!(first["state"], "done", "{first}");
    assert_eq!(first["runs"], 1, "one claim ran the pull: {first}");
    let stored: BTreeSet<String> = c
        .api()
        .all_orders("")
        .await
        .iter()
        .map(|o| o["external_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, want, "every order pulled");
}
