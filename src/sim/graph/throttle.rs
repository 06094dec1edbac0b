//! Graph's throttling limits as token buckets per app and tenant (reference/graph.md §15).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A throttling scope with its own documented limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Reports and audit logs (sign-ins, directory audits, authentication methods,
    /// registration details): 5 requests / 10 s per app per tenant.
    Reports,
    /// Directory reads: 8,000 resource units / 10 s per app per tenant.
    DirectoryRead,
    /// Directory writes: 3,000 resource units / 150 s per app per tenant.
    DirectoryWrite,
}

impl Limit {
    /// The `<Limit>` part of `x-ms-throttle-scope` and the `x-ms-throttle-information` of a
    /// throttled directory request (learn `/graph/throttling-limits`, identity and access).
    pub fn scope_and_reason(self) -> Option<(&'static str, &'static str)> {
        match self {
            Limit::Reports => None,
            Limit::DirectoryRead => Some(("Read", "ResourceUnitLimitExceeded")),
            Limit::DirectoryWrite => Some(("Write", "WriteLimitExceeded")),
        }
    }

    /// Capacity and the period in which it refills.
    fn budget(self) -> (f64, Duration) {
        match self {
            Limit::Reports => (5.0, Duration::from_secs(10)),
            Limit::DirectoryRead => (8000.0, Duration::from_secs(10)),
            Limit::DirectoryWrite => (3000.0, Duration::from_secs(150)),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// All buckets; `scale` multiplies every limit (benchmarks raise them).
#[derive(Debug)]
pub struct Throttle {
    scale: f64,
    buckets: Mutex<HashMap<(String, Limit), Bucket>>,
}

impl Throttle {
    pub fn new(scale: f64) -> Throttle {
        Throttle {
            scale: if scale > 0.0 { scale } else { 1.0 },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` units for `app` and returns the share of the bucket now in use (0–1), or
    /// says how long until the units are available.
    pub fn take(&self, app: &str, limit: Limit, cost: f64) -> Result<f64, Duration> {
        let (capacity, period) = limit.budget();
        let capacity = capacity * self.scale;
        let rate = capacity / period.as_secs_f64();
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry((app.to_owned(), limit)).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            Ok(1.0 - bucket.tokens / capacity)
        } else {
            Err(Duration::from_secs_f64((cost - bucket.tokens) / rate))
        }
    }

    /// Forgets all usage.
    pub fn reset(&self) {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_grows_with_each_request() {
        let t = Throttle::new(1.0);
        let first = t.take("app", Limit::Reports, 1.0).unwrap();
        let second = t.take("app", Limit::Reports, 1.0).unwrap();
        assert!((first - 0.2).abs() < 0.01, "{first}");
        assert!((second - 0.4).abs() < 0.01, "{second}");
    }

    #[test]
    fn the_sixth_report_request_in_ten_seconds_waits() {
        let t = Throttle::new(1.0);
        for _ in 0..5 {
            assert!(t.take("app", Limit::Reports, 1.0).is_ok());
        }
        let wait = t.take("app", Limit::Reports, 1.0).unwrap_err();
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(2));
        assert!(t.take("other", Limit::Reports, 1.0).is_ok());
        let scaled = Throttle::new(10.0);
        for _ in 0..50 {
            assert!(scaled.take("app", Limit::Reports, 1.0).is_ok());
        }
    }
}
