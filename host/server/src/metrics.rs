//! Prometheus metrics: counters and latency histograms kept in memory by this process,
//! plus queue gauges read from the store at scrape time. Rendered in the Prometheus text
//! exposition format at `GET /metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use wharf_store::JobCount;

/// Label set of one series, in a fixed order.
pub type Labels = Vec<(&'static str, String)>;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Every metric this process exports: name, type, help.
const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "wharf_webhooks_total",
        "counter",
        "Webhook deliveries by installation and outcome.",
    ),
    (
        "wharf_webhook_ack_seconds",
        "histogram",
        "Time from receiving a webhook to answering it (after commit).",
    ),
    (
        "wharf_orders_ingested_total",
        "counter",
        "Orders ingested by installation, source and result.",
    ),
    (
        "wharf_plugin_call_seconds",
        "histogram",
        "Plugin call latency by installation and export.",
    ),
    (
        "wharf_plugin_errors_total",
        "counter",
        "Failed plugin calls by installation and error code.",
    ),
    (
        "wharf_job_retries_total",
        "counter",
        "Job attempts that failed and were rescheduled, by kind.",
    ),
    (
        "wharf_dead_letters_total",
        "counter",
        "Jobs moved to the dead-letter queue, by kind.",
    ),
    (
        "wharf_jobs",
        "gauge",
        "Jobs in the store by kind and state (queue depth, dead letters).",
    ),
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    registry: Mutex<Registry>,
}

impl Metrics {
    pub fn inc(&self, name: &'static str, labels: Labels, by: u64) {
        let mut r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        *r.counters.entry((name, labels)).or_default() += by;
    }

    pub fn observe(&self, name: &'static str, labels: Labels, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let h = r.histograms.entry((name, labels)).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Prometheus text exposition of everything, with the store's job counts.
    pub fn render(&self, jobs: &[JobCount]) -> String {
        let r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, kind, help) in CATALOGUE {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for ((n, labels), v) in r.counters.iter().filter(|((n, _), _)| n == name) {
                out.push_str(&format!("{n}{} {v}\n", render_labels(labels, None)));
            }
            for ((n, labels), h) in r.histograms.iter().filter(|((n, _), _)| n == name) {
                for (bound, c) in BUCKETS.iter().zip(h.buckets) {
                    out.push_str(&format!(
                        "{n}_bucket{} {c}\n",
                        render_labels(labels, Some(&bound.to_string()))
                    ));
                }
                out.push_str(&format!(
                    "{n}_bucket{} {}\n",
                    render_labels(labels, Some("+Inf")),
                    h.count
                ));
                out.push_str(&format!(
                    "{n}_sum{} {}\n{n}_count{} {}\n",
                    render_labels(labels, None),
                    h.sum,
                    render_labels(labels, None),
                    h.count
                ));
            }
            if *name == "wharf_jobs" {
                for j in jobs {
                    let labels = vec![("kind", j.kind.clone()), ("state", j.state.clone())];
                    out.push_str(&format!(
                        "wharf_jobs{} {}\n",
                        render_labels(&labels, None),
                        j.count
                    ));
                }
            }
        }
        out
    }
}

fn render_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges_in_prometheus_text_format() {
        let m = Metrics::default();
        m.inc(
            "wharf_webhooks_total",
            vec![("installation", "1".into()), ("outcome", "accepted".into())],
            2,
        );
        m.observe(
            "wharf_webhook_ack_seconds",
            vec![],
            Duration::from_millis(3),
        );
        m.observe(
            "wharf_webhook_ack_seconds",
            vec![],
            Duration::from_millis(300),
        );
        let text = m.render(&[JobCount {
            kind: "pull".into(),
            state: "dead".into(),
            count: 4,
        }]);
        assert!(text.contains("# TYPE wharf_webhooks_total counter"));
        assert!(text.contains("wharf_webhooks_total{installation=\"1\",outcome=\"accepted\"} 2"));
        assert!(
            text.contains("wharf_webhook_ack_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("wharf_webhook_ack_seconds_bucket{le=\"0.5\"} 2"),
            "{text}"
        );
        assert!(text.contains("wharf_webhook_ack_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("wharf_webhook_ack_seconds_count 2"));
        assert!(text.contains("wharf_jobs{kind=\"pull\",state=\"dead\"} 4"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            render_labels(&vec![("code", "a\"b\\c".into())], None),
            "{code=\"a\\\"b\\\\c\"}"
        );
    }
}
