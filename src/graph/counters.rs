//! How many requests the client sent, by kind, so a benchmark can print Graph calls per person
//! and a test can assert that no 429 was provoked.

use std::sync::atomic::{AtomicU64, Ordering};

use super::budget::Category;

#[derive(Debug, Default)]
pub(super) struct Counters {
    reports: AtomicU64,
    directory_reads: AtomicU64,
    directory_writes: AtomicU64,
    other: AtomicU64,
    batches: AtomicU64,
    batch_items: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    server_errors: AtomicU64,
    cache_hits: AtomicU64,
}

impl Counters {
    /// One Graph request as Graph's throttling counts it: a top-level request or an item of
    /// a `$batch`.
    pub fn request(&self, category: Category, in_batch: bool) {
        let counter = match category {
            Category::Reports => &self.reports,
            Category::DirectoryRead => &self.directory_reads,
            Category::DirectoryWrite => &self.directory_writes,
            Category::Other => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if in_batch {
            self.batch_items.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn batch(&self) {
        self.batches.fetch_add(1, Ordering::Relaxed);
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub fn server_error(&self) {
        self.server_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> GraphCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        GraphCounters {
            reports: get(&self.reports),
            directory_reads: get(&self.directory_reads),
            directory_writes: get(&self.directory_writes),
            other: get(&self.other),
            batches: get(&self.batches),
            batch_items: get(&self.batch_items),
            retries: get(&self.retries),
            throttled: get(&self.throttled),
            server_errors: get(&self.server_errors),
            cache_hits: get(&self.cache_hits),
        }
    }
}

/// A reading of the client's counters. Category counts are Graph requests as Graph throttles
/// them (top-level requests and `$batch` items alike, retries included); `batches` counts the
/// `$batch` envelopes, which Graph does not throttle as such.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct GraphCounters {
    /// Reports, audit logs, registration report, authentication methods.
    pub reports: u64,
    /// Users, groups, devices, memberships.
    pub directory_reads: u64,
    /// Group membership changes, temporary access passes.
    pub directory_writes: u64,
    /// Teams installations.
    pub other: u64,
    /// `$batch` envelopes sent.
    pub batches: u64,
    /// Requests sent inside `$batch` envelopes (also counted in their category).
    pub batch_items: u64,
    /// Requests or batch items sent again after a 429, 5xx or network error.
    pub retries: u64,
    /// 429 answers seen, top-level or inside a batch.
    pub throttled: u64,
    /// 5xx answers seen, top-level or inside a batch.
    pub server_errors: u64,
    /// Reads answered from the cache, without a request.
    pub cache_hits: u64,
}

impl GraphCounters {
    /// HTTP requests on the wire: top-level requests plus batch envelopes.
    pub fn http_requests(&self) -> u64 {
        self.graph_requests() - self.batch_items + self.batches
    }

    /// Graph requests as throttled: top-level requests plus batch items.
    pub fn graph_requests(&self) -> u64 {
        self.reports + self.directory_reads + self.directory_writes + self.other
    }
}
