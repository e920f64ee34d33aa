//! `wharf plugin test`: the acceptance suite every connector must pass (marketplace checks
//! here; courier and accounting ones in [`crate::suite_kinds`]), in the
//! spirit of Airbyte's connector acceptance tests. Each check ends PASS, FAIL or SKIP with
//! a reason; any FAIL fails the suite.
//!
//! | check | passes when |
//! |---|---|
//! | `manifest` | the manifest parses, validates, is a marketplace built against this host's WIT |
//! | `config` | the fixture config fits the manifest's schema; declared secrets are given; grants are declared hosts |
//! | `describe` | describe answers with a platform name |
//! | `webhook.good` / `webhook.bad` | the recorded signed delivery is accepted; the same body with one byte appended is `invalid-signature`. Without `webhook.json` both SKIP, if verify-webhook answers `unsupported` |
//! | `pull.pages` | pulling from no cursor reaches `more: false` within `max_pages`, with orders |
//! | `pull.incremental` | a second round from the saved cursor returns nothing older than the first round's newest order |
//! | `pull.future_cursor` | a far-future cursor returns no orders (or `invalid-input`) |
//! | `get_order` | get-order of the newest pulled order returns exactly what the pull returned |
//! | `errors.401` / `errors.429` / `errors.5xx` | injected 401 / 429 `Retry-After: 7` / 503 map to `unauthorized` / `rate-limited` (≥ 7000 ms) / `transient` |
//! | `budget` | no call ran out of fuel, memory or time, or exceeded the fixture budget |
//!
//! `manifest` accepts every kind; `describe` also checks that the component implements the
//! world its manifest's `kind` names. A courier or accounting plugin then runs the checks
//! of [`crate::suite_kinds`] instead of the webhook / pull / get-order ones.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use wharf_domain::manifest::{host_matches, Manifest, PluginKind};
use wharf_domain::Order;
use wharf_runtime::{
    CallOptions, ConnectorError, FrozenClock, RuntimeConfig, SUPPORTED_WIT_VERSIONS, WIT_VERSION,
};

use crate::cassette::Masker;
use crate::clock::format_clock;
use crate::error::HarnessError;
use crate::fixtures::{Budget, Fixtures};
use crate::session::{Installation, Session};
use crate::traffic::{HttpMode, StatusTransport, Traffic};

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Skip => "SKIP",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    /// What was seen (PASS), what is wrong (FAIL) or why it did not run (SKIP).
    pub detail: String,
}

/// The suite's report: one line per check.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub title: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub(crate) fn add(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
        });
    }

    pub(crate) fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.add(name, Status::Pass, detail);
    }

    pub(crate) fn fail(&mut self, name: &'static str, detail: impl Into<String>) {
        self.add(name, Status::Fail, detail);
    }

    pub(crate) fn skip(&mut self, name: &'static str, detail: impl Into<String>) {
        self.add(name, Status::Skip, detail);
    }

    pub(crate) fn verdict(&mut self, name: &'static str, r: Result<String, String>) {
        match r {
            Ok(d) => self.pass(name, d),
            Err(d) => self.fail(name, d),
        }
    }

    /// No check failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// The readable report: a title, one `STATUS name  detail` line per check, a summary.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.title);
        for c in &self.checks {
            out.push_str(&format!(
                "{}  {:<20} {}\n",
                c.status.as_str(),
                c.name,
                c.detail
            ));
        }
        out.push_str(&format!(
            "result: {} — {} passed, {} failed, {} skipped\n",
            if self.passed() { "PASS" } else { "FAIL" },
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skip)
        ));
        out
    }
}

/// How the suite's platform HTTP is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuiteHttp {
    /// From the fixtures' `cassette.json` (the default; offline, deterministic).
    Replay,
    /// From the network through the production egress path, saved to `cassette.json`
    /// (overwriting it). `resolve` pins platform hosts to a simulator, like `--resolve`.
    Record { resolve: Vec<(String, SocketAddr)> },
}

#[derive(Debug, Clone)]
pub struct SuiteSpec {
    pub component: PathBuf,
    pub manifest: PathBuf,
    pub fixtures: PathBuf,
    pub http: SuiteHttp,
}

/// The `Retry-After` the rate-limit check injects, in seconds.
const INJECTED_RETRY_AFTER_SECS: u64 = 7;

/// Run the suite. Only unreadable fixtures are an `Err`; everything about the plugin is a
/// check in the report.
pub async fn run_suite(spec: &SuiteSpec) -> Result<Report, HarnessError> {
    let fixtures = Fixtures::load(&spec.fixtures)?;
    let mut r = Report {
        title: format!(
            "wharf plugin test {} (fixtures {}, {}, clock {})",
            spec.component.display(),
            spec.fixtures.display(),
            match spec.http {
                SuiteHttp::Replay => "replaying cassette.json",
                SuiteHttp::Record { .. } => "recording cassette.json",
            },
            format_clock(fixtures.clock_ms)
        ),
        checks: Vec::new(),
    };
    let Some(manifest) = check_manifest(&mut r, spec) else {
        skip_rest(&mut r, PluginKind::Marketplace, "the manifest is invalid");
        return Ok(r);
    };
    let kind = manifest.kind;
    let mut inst = check_config(&mut r, &manifest, &fixtures);
    let component =
        std::fs::read(&spec.component).map_err(|e| HarnessError::io(&spec.component, e))?;
    let (http_mode, resolve) = match &spec.http {
        SuiteHttp::Replay => (HttpMode::Replay(fixtures.cassette_path()), Vec::new()),
        SuiteHttp::Record { resolve } => {
            // A recording starts from an empty cassette.
            let path = fixtures.cassette_path();
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| HarnessError::io(&path, e))?;
            }
            (HttpMode::Record(path), resolve.clone())
        }
    };
    inst.resolve = resolve.into_iter().collect();
    let traffic = Traffic::open(
        &http_mode,
        Masker::new(&inst.secrets),
        inst.egress(&manifest),
    )?;
    let budget = fixtures.spec.budget;
    let cfg = RuntimeConfig {
        fuel: Some(budget.fuel),
        memory_bytes: usize::try_from(budget.memory_bytes).unwrap_or(usize::MAX),
        call_timeout: std::time::Duration::from_millis(budget.wall_time_ms.max(1)),
        ..RuntimeConfig::default()
    };
    let clock = FrozenClock::at(fixtures.clock_ms);
    let opts = CallOptions {
        transport: traffic.transport(),
        clock: Some(clock.clone()),
    };
    let session = match Session::new(&component, manifest, &inst, cfg, opts) {
        Ok(s) => s,
        Err(e) => {
            r.fail("describe", format!("{e}"));
            skip_rest(&mut r, kind, "the component does not load");
            return Ok(r);
        }
    };
    check_describe(&mut r, &session).await;
    match session.manifest.kind {
        PluginKind::Marketplace => {
            check_webhook(&mut r, &session, &fixtures).await?;
            let rounds = check_pulls(&mut r, &session, &fixtures).await;
            check_get_order(&mut r, &session, rounds.as_ref()).await;
            check_errors(&mut r, &session, clock).await;
        }
        PluginKind::Courier => crate::suite_kinds::courier(&mut r, &session, clock).await,
        PluginKind::Accounting => crate::suite_kinds::accounting(&mut r, &session, clock).await,
    }
    check_budget(&mut r, &session, &budget);
    traffic.finish()?;
    let misses = traffic.misses();
    if !misses.is_empty() {
        r.title.push_str(&format!(
            "\nnote: {} request(s) were not in the cassette: {}",
            misses.len(),
            misses.join(", ")
        ));
    }
    Ok(r)
}

const LATER_CHECKS: [&str; 12] = [
    "describe",
    "webhook.good",
    "webhook.bad",
    "pull.pages",
    "pull.incremental",
    "pull.future_cursor",
    "get_order",
    "errors.401",
    "errors.429",
    "errors.5xx",
    "budget",
    "config",
];

fn skip_rest(r: &mut Report, kind: PluginKind, why: &str) {
    let names: &[&'static str] = match kind {
        PluginKind::Marketplace => &LATER_CHECKS,
        PluginKind::Courier => &crate::suite_kinds::COURIER_CHECKS,
        PluginKind::Accounting => &crate::suite_kinds::ACCOUNTING_CHECKS,
    };
    for name in names.iter().copied() {
        if r.check(name).is_none() {
            r.skip(name, format!("not run: {why}"));
        }
    }
}

fn check_manifest(r: &mut Report, spec: &SuiteSpec) -> Option<Manifest> {
    let bytes = match std::fs::read(&spec.manifest) {
        Ok(b) => b,
        Err(e) => {
            r.fail("manifest", format!("{}: {e}", spec.manifest.display()));
            return None;
        }
    };
    let m = match Manifest::from_json(&bytes) {
        Ok(m) => m,
        Err(p) => {
            r.fail("manifest", p.to_string());
            return None;
        }
    };
    let mut problems = Vec::new();
    if !SUPPORTED_WIT_VERSIONS.contains(&m.wit_version.as_str()) {
        problems.push(format!(
            "wit_version {} but this host runs WIT {} (newest {WIT_VERSION})",
            m.wit_version,
            SUPPORTED_WIT_VERSIONS.join(", ")
        ));
    }
    if problems.is_empty() {
        r.pass(
            "manifest",
            format!(
                "{} {}, {}, WIT {}",
                m.name,
                m.version,
                kind_name(m.kind),
                m.wit_version
            ),
        );
    } else {
        r.fail("manifest", problems.join("; "));
    }
    Some(m)
}

fn check_config(r: &mut Report, m: &Manifest, f: &Fixtures) -> Installation {
    let (inst, schema) = Installation::from_json(
        m,
        &f.spec.config,
        f.spec.secrets.clone(),
        f.spec.grants.clone(),
    );
    let mut problems = Vec::new();
    if let Err(p) = schema {
        problems.push(format!("config does not fit the schema: {p}"));
    }
    for s in &m.secrets {
        if !f.spec.secrets.contains_key(s) {
            problems.push(format!(
                "secret {s:?} (declared by the manifest) is not in fixtures.json"
            ));
        }
    }
    for g in &inst.grants {
        if !m.hosts.iter().any(|p| p == g || host_matches(p, g)) {
            problems.push(format!("grant {g:?} is not a host the manifest declares"));
        }
    }
    if problems.is_empty() {
        r.pass(
            "config",
            format!(
                "{} keys valid against the schema, {} secrets, grants {:?}",
                inst.config.len(),
                inst.secrets.len(),
                inst.grants
            ),
        );
    } else {
        r.fail("config", problems.join("; "));
    }
    inst
}

/// The manifest's name of a world.
pub(crate) fn kind_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Marketplace => "marketplace",
        PluginKind::Courier => "courier",
        PluginKind::Accounting => "accounting",
    }
}

pub(crate) async fn check_describe(r: &mut Report, s: &Session) {
    if s.kind() != s.manifest.kind {
        r.fail(
            "describe",
            format!(
                "the manifest says kind {} but the component implements the {} world",
                kind_name(s.manifest.kind),
                kind_name(s.kind())
            ),
        );
        return;
    }
    let (info, _) = s.describe().await;
    r.verdict(
        "describe",
        match info {
            Ok(i) if !i.platform.trim().is_empty() => Ok(format!(
                "platform {:?}, capabilities {:?}, {} world",
                i.platform,
                i.capabilities,
                kind_name(s.kind())
            )),
            Ok(_) => Err("describe returned an empty platform name".into()),
            Err(e) => Err(format!("describe failed: {e}")),
        },
    );
}

async fn check_webhook(r: &mut Report, s: &Session, f: &Fixtures) -> Result<(), HarnessError> {
    let Some(hook) = &f.webhook else {
        let (res, _) = s.verify_webhook(Vec::new(), Vec::new()).await;
        match res {
            Err(ConnectorError::Unsupported) => {
                let why = "the connector takes no webhooks (verify-webhook answers unsupported) \
                           and the fixtures have no webhook.json";
                r.skip("webhook.good", why);
                r.skip("webhook.bad", why);
            }
            other => {
                let got = describe_result(&other.map(|e| e.topic));
                r.fail(
                    "webhook.good",
                    format!(
                        "the fixtures have no webhook.json, but verify-webhook does not answer \
                         unsupported (it answered {got}): record a signed delivery"
                    ),
                );
                r.skip("webhook.bad", "not run: no webhook.json");
            }
        }
        return Ok(());
    };
    let body = hook.body_bytes()?;
    let (good, _) = s.verify_webhook(hook.headers.clone(), body.clone()).await;
    r.verdict(
        "webhook.good",
        match good {
            Ok(e) => Ok(format!(
                "accepted: topic {:?}, delivery {:?}, {} order(s)",
                e.topic,
                e.delivery_id,
                e.orders.len()
            )),
            Err(e) => Err(format!("the correctly signed delivery was refused: {e}")),
        },
    );
    let mut tampered = body;
    tampered.push(b' ');
    let (bad, _) = s.verify_webhook(hook.headers.clone(), tampered).await;
    r.verdict(
        "webhook.bad",
        match bad {
            Err(ConnectorError::InvalidSignature(m)) => Ok(format!(
                "the tampered body is refused: invalid-signature ({m})"
            )),
            other => Err(format!(
                "the body with one byte appended must be invalid-signature, got {}",
                describe_result(&other.map(|e| e.orders.len()))
            )),
        },
    );
    Ok(())
}

/// What a pull round saw.
struct Round {
    orders: Vec<Order>,
    pages: u32,
    cursor: Option<String>,
}

async fn round(s: &Session, start: Option<String>, max_pages: u32) -> Result<Round, String> {
    let mut cursor = start;
    let mut orders = Vec::new();
    for page_no in 1..=max_pages {
        let (page, _) = s.pull_orders(cursor.clone()).await;
        let page = page.map_err(|e| format!("page {page_no} failed: {e}"))?;
        orders.extend(page.orders);
        if page.cursor.is_some() {
            cursor = page.cursor;
        }
        if !page.more {
            return Ok(Round {
                orders,
                pages: page_no,
                cursor,
            });
        }
    }
    Err(format!(
        "still `more: true` after {max_pages} pages (max_pages): paging does not end"
    ))
}

async fn check_pulls(r: &mut Report, s: &Session, f: &Fixtures) -> Option<(Round, Round)> {
    let max = f.spec.max_pages.max(1);
    let first = match round(s, None, max).await {
        Ok(first) if first.orders.is_empty() => {
            r.fail(
                "pull.pages",
                format!(
                    "the pull ended after {} page(s) with no orders: record fixtures with \
                     orders, or nothing is proved",
                    first.pages
                ),
            );
            None
        }
        Ok(first) => {
            r.pass(
                "pull.pages",
                format!(
                    "{} orders in {} page(s), ended with more: false",
                    first.orders.len(),
                    first.pages
                ),
            );
            Some(first)
        }
        Err(e) => {
            r.fail("pull.pages", e);
            None
        }
    };
    let rounds = match first {
        None => {
            r.skip("pull.incremental", "not run: pull.pages did not pass");
            None
        }
        Some(first) => {
            let newest = first.orders.iter().map(|o| o.updated_at).max().unwrap_or(0);
            match round(s, first.cursor.clone(), max).await {
                Err(e) => {
                    r.fail("pull.incremental", format!("second round: {e}"));
                    None
                }
                Ok(second) => {
                    let older: Vec<&str> = second
                        .orders
                        .iter()
                        .filter(|o| o.updated_at < newest)
                        .map(|o| o.external_id.as_str())
                        .collect();
                    if older.is_empty() {
                        r.pass(
                            "pull.incremental",
                            format!(
                                "second round from the saved cursor: {} order(s), none updated \
                                 before the first round's newest ({})",
                                second.orders.len(),
                                format_clock(newest)
                            ),
                        );
                    } else {
                        r.fail(
                            "pull.incremental",
                            format!(
                                "the second round returned {} order(s) older than the first \
                                 round's newest ({}): {:?}",
                                older.len(),
                                format_clock(newest),
                                older
                            ),
                        );
                    }
                    Some((first, second))
                }
            }
        }
    };
    match &f.spec.future_cursor {
        None => r.skip(
            "pull.future_cursor",
            "fixtures.json gives no future_cursor (cursors are plugin-owned: give one far in \
             the future in the plugin's format)",
        ),
        Some(c) => {
            let (page, _) = s.pull_orders(Some(c.clone())).await;
            r.verdict(
                "pull.future_cursor",
                match page {
                    Ok(p) if p.orders.is_empty() => Ok("no orders".into()),
                    Ok(p) => Err(format!(
                        "a cursor far in the future returned {} order(s)",
                        p.orders.len()
                    )),
                    Err(ConnectorError::InvalidInput(m)) => Ok(format!("invalid-input ({m})")),
                    Err(e) => Err(format!("expected no orders or invalid-input, got {e}")),
                },
            );
        }
    }
    rounds
}

async fn check_get_order(r: &mut Report, s: &Session, rounds: Option<&(Round, Round)>) {
    let Some((first, second)) = rounds else {
        r.skip(
            "get_order",
            "not run: needs a pulled order (pull checks did not pass)",
        );
        return;
    };
    // The latest version of the most recently updated order the pulls saw.
    let mut latest: BTreeMap<&str, &Order> = BTreeMap::new();
    for o in first.orders.iter().chain(&second.orders) {
        latest.insert(&o.external_id, o);
    }
    let Some(pulled) = latest
        .values()
        .max_by_key(|o| (o.updated_at, o.external_id.clone()))
    else {
        r.skip("get_order", "not run: the pulls returned no order");
        return;
    };
    let (got, _) = s.get_order(&pulled.external_id).await;
    r.verdict(
        "get_order",
        match got {
            Ok(Some(o)) if &o == *pulled => Ok(format!(
                "order {} read back identical to the pulled version",
                o.external_id
            )),
            Ok(Some(o)) => Err(format!(
                "order {} differs from the pulled version in: {}",
                o.external_id,
                differing_fields(&o, pulled).join(", ")
            )),
            Ok(None) => Err(format!(
                "get-order found no order {} that the pull returned",
                pulled.external_id
            )),
            Err(e) => Err(format!("get-order {} failed: {e}", pulled.external_id)),
        },
    );
}

fn differing_fields(a: &Order, b: &Order) -> Vec<String> {
    let (a, b) = (
        serde_json::to_value(a).unwrap_or(Value::Null),
        serde_json::to_value(b).unwrap_or(Value::Null),
    );
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => vec!["(not comparable)".into()],
    }
}

/// The future of one [`Probe`] call.
pub(crate) type ProbeFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<String, ConnectorError>> + Send + 'a>,
>;

/// One call of the export the error checks inject statuses into: its result, `Ok` as text.
pub(crate) type Probe = for<'a> fn(&'a Session) -> ProbeFuture<'a>;

fn pull_probe(s: &Session) -> ProbeFuture<'_> {
    Box::pin(async move {
        s.pull_orders(None)
            .await
            .0
            .map(|p| format!("{} orders", p.orders.len()))
    })
}

async fn check_errors(r: &mut Report, s: &Session, clock: FrozenClock) {
    check_errors_with(r, s, clock, pull_probe).await
}

/// `errors.401` / `errors.429` / `errors.5xx`: the injected status, answered to every
/// request of `probe`, maps to its error kind.
pub(crate) async fn check_errors_with(
    r: &mut Report,
    s: &Session,
    clock: FrozenClock,
    probe: Probe,
) {
    let retry = INJECTED_RETRY_AFTER_SECS.to_string();
    // (check, injected status, injected headers, expected error code)
    type Case<'a> = (&'static str, u16, Vec<(&'a str, &'a str)>, &'static str);
    let cases: [Case; 3] = [
        ("errors.401", 401, vec![], "unauthorized"),
        (
            "errors.429",
            429,
            vec![("Retry-After", retry.as_str())],
            "rate_limited",
        ),
        ("errors.5xx", 503, vec![], "transient"),
    ];
    for (name, status, headers, want) in cases {
        let fake = StatusTransport::new(
            status,
            &headers,
            r#"{"errors": "injected by the wharf acceptance suite"}"#,
        );
        let session = s.with_options(CallOptions {
            transport: Some(Arc::new(fake)),
            clock: Some(clock.clone()),
        });
        let page = probe(&session).await;
        let verdict = match &page {
            Err(ConnectorError::RateLimited(ms)) if want == "rate_limited" => {
                if *ms >= INJECTED_RETRY_AFTER_SECS * 1000 {
                    Ok(format!("HTTP {status} → rate_limited, retry after {ms} ms"))
                } else {
                    Err(format!(
                        "HTTP {status} with Retry-After: {INJECTED_RETRY_AFTER_SECS} → retry \
                         after {ms} ms; Retry-After must be honoured (≥ {} ms)",
                        INJECTED_RETRY_AFTER_SECS * 1000
                    ))
                }
            }
            Err(e) if e.code() == want => Ok(format!("HTTP {status} → {e}")),
            other => Err(format!(
                "HTTP {status} must map to {want}, got {}",
                describe_result(&other.clone())
            )),
        };
        r.verdict(name, verdict);
    }
}

pub(crate) fn check_budget(r: &mut Report, s: &Session, budget: &Budget) {
    let calls = s.calls();
    let mut problems = Vec::new();
    let (mut fuel, mut mem, mut wall) = (0u64, 0u64, 0u128);
    for c in &calls {
        fuel = fuel.max(c.report.fuel_used.unwrap_or(0));
        mem = mem.max(c.report.peak_memory_bytes);
        wall = wall.max(c.report.wall_time.as_millis());
        if c.report.out_of_fuel {
            problems.push(format!("{} ran out of fuel", c.export));
        }
        if let Some(e @ (ConnectorError::MemoryLimit(_) | ConnectorError::Timeout(_))) = &c.error {
            problems.push(format!("{}: {e}", c.export));
        }
    }
    if wall > u128::from(budget.wall_time_ms) {
        problems.push(format!(
            "a call took {wall} ms (budget {} ms)",
            budget.wall_time_ms
        ));
    }
    let summary = format!(
        "{} calls; max fuel {fuel} of {}, max peak memory {mem} of {} bytes, max wall time \
         {wall} ms of {}",
        calls.len(),
        budget.fuel,
        budget.memory_bytes,
        budget.wall_time_ms
    );
    if problems.is_empty() {
        r.pass("budget", summary);
    } else {
        r.fail("budget", format!("{}; {summary}", problems.join("; ")));
    }
}

pub(crate) fn describe_result<T: std::fmt::Debug>(r: &Result<T, ConnectorError>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("{} ({e})", e.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The report is one line per check and fails when any check failed.
    #[test]
    fn report_lines_and_verdict() {
        let mut r = Report {
            title: "t".into(),
            checks: Vec::new(),
        };
        r.pass("manifest", "ok");
        r.skip("webhook.good", "no webhooks");
        assert!(r.passed());
        r.fail("errors.401", "got transient");
        assert!(!r.passed());
        let text = r.render();
        assert!(text.contains("FAIL  errors.401"), "{text}");
        assert!(text.contains("SKIP  webhook.good"), "{text}");
        assert!(
            text.ends_with("result: FAIL — 1 passed, 1 failed, 1 skipped\n"),
            "{text}"
        );
    }
}
