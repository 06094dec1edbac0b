//! Our own pacing, applied before a request is sent, so a well-paced bulk read never provokes
//! a 429: token buckets mirroring Graph's documented per-app-per-tenant limits
//! (reference/graph.md §15): reports, audit logs and authentication-method reads by requests,
//! directory reads and writes by resource units.
//!
//! Buckets refill at 97 % of the configured rate and hold at most 90 % of the configured
//! burst: Graph's own buckets start when our first request arrives and network latency
//! varies, so pacing at exactly the limit would now and then arrive a hair early. The smaller
//! burst leaves a cushion that latency jitter cannot use up, and the 3 % slower refill keeps
//! Graph's bucket from ever being drained by steady pacing; the cost is about 3 % of the
//! floor that the documented limits set for a long bulk read.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::config::GraphConfig;

/// Share of the configured burst we hold.
const BURST_HEADROOM: f64 = 0.9;
/// Share of the configured rate we refill at.
const RATE_HEADROOM: f64 = 0.97;

/// Which of Graph's throttling scopes a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Sign-ins, directory audits, the registration report, authentication methods.
    Reports,
    /// Users, groups, devices, memberships, policies.
    DirectoryRead,
    /// Group membership changes, temporary access passes.
    DirectoryWrite,
    /// Teams installations and `$batch` envelopes: no bucket of ours.
    Other,
}

/// A request's scope and its cost in that scope (requests or resource units), estimated
/// from Graph's documented base costs without the `$select`/`$top` discounts, so we err
/// on the slow side.
pub fn classify(method: &Method, path: &str) -> (Category, f64) {
    let path = path.split('?').next().unwrap_or(path).to_ascii_lowercase();
    let read = *method == Method::GET;
    if path.ends_with("/$batch") || path.contains("/teamwork/") {
        return (Category::Other, 0.0);
    }
    if path.contains("/policies/") {
        return (Category::DirectoryRead, 1.0);
    }
    if path.contains("/auditlogs/") || path.contains("/reports/") {
        return (Category::Reports, 1.0);
    }
    if path.contains("/authentication/") {
        return if read {
            (Category::Reports, 1.0)
        } else {
            (Category::DirectoryWrite, 1.0)
        };
    }
    if !read {
        if path.ends_with("/checkmembergroups") {
            return (Category::DirectoryRead, 4.0);
        }
        return (Category::DirectoryWrite, 1.0);
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let last = segments.last().copied().unwrap_or("");
    let cost = if path.contains("/transitivemembers") {
        5.0
    } else if last == "members" {
        3.0
    } else if segments.len() <= 2
        && matches!(segments.get(1), Some(&"users" | &"devices" | &"groups"))
    {
        // A collection: `/v1.0/users`.
        2.0
    } else if path.contains("memberof") || path.contains("devices") {
        2.0
    } else {
        1.0
    };
    (Category::DirectoryRead, cost)
}

/// One token bucket; tokens may go negative, which is a reservation: the caller sleeps until
/// its share has refilled, so waiters are served in the order they came.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    fn new(limit: f64, period: Duration) -> Bucket {
        let capacity = (limit * BURST_HEADROOM).max(1.0);
        Bucket {
            capacity,
            per_second: limit * RATE_HEADROOM / period.as_secs_f64(),
            state: Mutex::new((capacity, Instant::now())),
        }
    }

    fn refilled(&self, state: &mut (f64, Instant)) {
        let now = Instant::now();
        state.0 = (state.0 + now.duration_since(state.1).as_secs_f64() * self.per_second)
            .min(self.capacity);
        state.1 = now;
    }

    /// Takes `cost` and says how long to wait before sending.
    fn reserve(&self, cost: f64) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.refilled(&mut state);
        state.0 -= cost;
        if state.0 >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.0 / self.per_second)
        }
    }

    /// Leaves at most `tokens` in the bucket (never adds).
    fn cap(&self, tokens: f64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.refilled(&mut state);
        state.0 = state.0.min(tokens);
    }
}

/// The per-tenant budget of one client.
#[derive(Debug)]
pub struct Budget {
    reports: Bucket,
    directory_read: Bucket,
    directory_write: Bucket,
}

impl Budget {
    pub fn from_config(config: &GraphConfig) -> Budget {
        let scale = config.limit_scale;
        Budget {
            reports: Bucket::new(
                f64::from(config.reports_per_10s) * scale,
                Duration::from_secs(10),
            ),
            directory_read: Bucket::new(
                f64::from(config.directory_units_per_10s) * scale,
                Duration::from_secs(10),
            ),
            directory_write: Bucket::new(
                f64::from(config.directory_write_units_per_150s) * scale,
                Duration::from_secs(150),
            ),
        }
    }

    fn bucket(&self, category: Category) -> Option<&Bucket> {
        match category {
            Category::Reports => Some(&self.reports),
            Category::DirectoryRead => Some(&self.directory_read),
            Category::DirectoryWrite => Some(&self.directory_write),
            Category::Other => None,
        }
    }

    /// Waits until `cost` fits the category's budget, and takes it.
    pub async fn acquire(&self, category: Category, cost: f64) {
        let Some(bucket) = self.bucket(category) else {
            return;
        };
        let wait = bucket.reserve(cost);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// The most one burst (one `$batch`) may spend in the category.
    pub fn burst(&self, category: Category) -> f64 {
        self.bucket(category).map_or(f64::MAX, |b| b.capacity)
    }

    /// Graph answered 429: whatever we thought was left, is not.
    pub fn throttled(&self, category: Category) {
        if let Some(b) = self.bucket(category) {
            b.cap(0.0);
        }
    }

    /// Graph says `percentage` of its quota is used (`x-ms-throttle-limit-percentage`, sent
    /// from 0.8 on): keep at most what is left of it, so we slow down before a 429.
    pub fn quota_used(&self, category: Category, percentage: f64) {
        if let Some(b) = self.bucket(category)
            && percentage.is_finite()
            && percentage >= 0.8
        {
            b.cap(b.capacity * (1.0 - percentage).max(0.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classified_by_graphs_throttling_scopes() {
        let get = Method::GET;
        assert_eq!(
            classify(&get, "/beta/auditLogs/signIns?$top=1000"),
            (Category::Reports, 1.0)
        );
        assert_eq!(
            classify(&get, "/v1.0/users/u/authentication/fido2Methods"),
            (Category::Reports, 1.0)
        );
        assert_eq!(
            classify(
                &get,
                "/v1.0/reports/authenticationMethods/userRegistrationDetails"
            ),
            (Category::Reports, 1.0)
        );
        assert_eq!(
            classify(&get, "/v1.0/users?$top=999"),
            (Category::DirectoryRead, 2.0)
        );
        assert_eq!(
            classify(&get, "/v1.0/users/u"),
            (Category::DirectoryRead, 1.0)
        );
        assert_eq!(
            classify(&get, "/v1.0/devices"),
            (Category::DirectoryRead, 2.0)
        );
        assert_eq!(
            classify(&get, "/v1.0/users/u/registeredDevices"),
            (Category::DirectoryRead, 2.0)
        );
        assert_eq!(
            classify(&get, "/v1.0/groups/g/members"),
            (Category::DirectoryRead, 3.0)
        );
        assert_eq!(
            classify(&Method::POST, "/v1.0/users/u/checkMemberGroups"),
            (Category::DirectoryRead, 4.0)
        );
        assert_eq!(
            classify(&Method::POST, "/v1.0/groups/g/members/$ref"),
            (Category::DirectoryWrite, 1.0)
        );
        assert_eq!(
            classify(
                &Method::POST,
                "/v1.0/users/u/authentication/temporaryAccessPassMethods"
            ),
            (Category::DirectoryWrite, 1.0)
        );
        assert_eq!(classify(&Method::POST, "/v1.0/$batch").0, Category::Other);
    }

    #[test]
    fn a_bucket_hands_out_its_burst_then_paces_at_its_rate() {
        let b = Bucket::new(10.0, Duration::from_secs(10));
        assert_eq!(b.capacity, 9.0);
        for _ in 0..9 {
            assert_eq!(b.reserve(1.0), Duration::ZERO);
        }
        let wait = b.reserve(1.0);
        assert!(
            // One request's worth at 97 % of 1 per second.
            wait > Duration::from_millis(1000) && wait <= Duration::from_millis(1032),
            "{wait:?}"
        );
        // The next waiter queues behind the first.
        assert!(b.reserve(1.0) > wait);
    }

    #[test]
    fn a_nearly_used_quota_slows_the_bucket_down() {
        let b = Bucket::new(100.0, Duration::from_secs(10));
        b.cap(b.capacity * (1.0 - 0.95));
        assert!(b.reserve(10.0) > Duration::ZERO);
    }
}
