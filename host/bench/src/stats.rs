//! Latency samples → mean / p50 / p99, and the number formats the tables use.

use std::time::Duration;

/// Summary of a set of per-operation latencies.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: usize,
    pub mean: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// Summarise `samples` (order does not matter). Panics on an empty set: a benchmark
    /// that measured nothing must not print a figure.
    pub fn of(mut samples: Vec<Duration>) -> Summary {
        assert!(!samples.is_empty(), "no samples to summarise");
        samples.sort_unstable();
        let n = samples.len();
        let total: Duration = samples.iter().sum();
        Summary {
            n,
            mean: total / n as u32,
            p50: percentile(&samples, 50.0),
            p99: percentile(&samples, 99.0),
            max: samples[n - 1],
        }
    }

    /// Operations per second one caller achieves back to back (1 / mean).
    pub fn per_sec(&self) -> f64 {
        1.0 / self.mean.as_secs_f64()
    }

    /// The report's cell for a timed operation: `mean … · p50 … · p99 … · …/s (n=…)`.
    pub fn timings(&self) -> String {
        format!(
            "mean {} · p50 {} · p99 {} · {} (n={})",
            us(self.mean),
            us(self.p50),
            us(self.p99),
            rate(self.per_sec()),
            self.n
        )
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Microseconds with one decimal: `12.3 µs`.
pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Milliseconds with two decimals: `1.23 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A rate with thousands separators: `12,345/s`.
pub fn rate(per_sec: f64) -> String {
    format!("{}/s", thousands(per_sec.round() as u64))
}

pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `a / b` as `1.23×`.
pub fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Percentiles use nearest rank: p50 of 1..=100 µs is 50 µs, p99 is 99 µs.
    #[test]
    fn percentiles_are_nearest_rank() {
        let s = Summary::of((1..=100).rev().map(Duration::from_micros).collect());
        assert_eq!(s.p50, Duration::from_micros(50));
        assert_eq!(s.p99, Duration::from_micros(99));
        assert_eq!(s.max, Duration::from_micros(100));
        assert_eq!(s.mean, Duration::from_nanos(50_500));
    }

    // Large numbers get thousands separators.
    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
