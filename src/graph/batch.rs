//! `$batch`: up to 20 requests per envelope, each answered (and throttled) on its own.
//! Requests are split into envelopes that fit both Graph's 20 and our budget's burst, so an
//! envelope never asks for more than Graph would allow at once; only failed items (inner 429,
//! 503, 504, and 424s whose dependency is being retried) are sent again, after the longest
//! inner `Retry-After` or a jittered backoff.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::budget::{Category, classify};
use super::client::{
    ApiVersion, Call, GraphClient, THROTTLE_PERCENTAGE, decode, retry_after_value,
};
use super::error::GraphError;

/// Graph's limit of requests per `$batch`.
pub const MAX_BATCH: usize = 20;

/// One request of a batch; `url` is relative to the version root (`/users/{id}/…`).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// Unique within the call.
    pub id: String,
    pub method: Method,
    pub url: String,
    pub body: Option<Value>,
    /// Ids of earlier requests this one must follow (424 if one failed).
    pub depends_on: Vec<String>,
}

impl BatchRequest {
    pub fn get(id: impl Into<String>, url: impl Into<String>) -> BatchRequest {
        BatchRequest {
            id: id.into(),
            method: Method::GET,
            url: url.into(),
            body: None,
            depends_on: Vec::new(),
        }
    }

    fn path(&self, version: ApiVersion) -> String {
        format!("/{}/{}", version.as_str(), self.url.trim_start_matches('/'))
    }

    fn category(&self, version: ApiVersion) -> (Category, f64) {
        classify(&self.method, &self.path(version))
    }
}

/// The final answer to one request of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResponse {
    pub id: String,
    /// The last status Graph gave the request (424 for a failed dependency).
    pub status: u16,
    /// The body on success (`None` for 204), or why the request failed after retries.
    pub result: Result<Option<Value>, GraphError>,
}

impl BatchResponse {
    /// The success body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GraphError> {
        match &self.result {
            Ok(Some(body)) => decode(
                &format!("batch item {}", self.id),
                body.to_string().as_bytes(),
            ),
            Ok(None) => Err(GraphError::InvalidResponse {
                what: format!("batch item {}", self.id),
                reason: "no body".into(),
            }),
            Err(e) => Err(e.clone()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    responses: Vec<Item>,
}

#[derive(Debug, Deserialize)]
struct Item {
    id: String,
    status: u16,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Option<Value>,
}

impl Item {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }
}

impl GraphClient {
    /// Sends `requests` as `$batch` envelopes (split at 20 and at our budget's burst) and
    /// returns one answer per request, in the order given. Fails as a whole only when an
    /// envelope itself cannot be delivered.
    pub async fn batch(
        &self,
        version: ApiVersion,
        requests: Vec<BatchRequest>,
    ) -> Result<Vec<BatchResponse>, GraphError> {
        let mut seen = HashSet::new();
        for r in &requests {
            if !seen.insert(r.id.as_str()) {
                return Err(GraphError::Config {
                    reason: format!("batch request id {:?} is used twice", r.id),
                });
            }
            if let Some(d) = r
                .depends_on
                .iter()
                .find(|d| !seen.contains(d.as_str()) || *d == &r.id)
            {
                return Err(GraphError::Config {
                    reason: format!(
                        "batch request {:?} depends on {d:?}, which is not an earlier request",
                        r.id
                    ),
                });
            }
        }
        let mut answers: HashMap<String, BatchResponse> = HashMap::new();
        for chunk in self.plan(version, &requests)? {
            let items: Vec<&BatchRequest> = chunk.iter().map(|&i| &requests[i]).collect();
            for answer in self.run_envelope(version, &items).await? {
                answers.insert(answer.id.clone(), answer);
            }
        }
        Ok(requests
            .iter()
            .map(|r| {
                answers.remove(&r.id).unwrap_or_else(|| BatchResponse {
                    id: r.id.clone(),
                    status: 0,
                    result: Err(GraphError::InvalidResponse {
                        what: "$batch".into(),
                        reason: format!("no answer for request {:?}", r.id),
                    }),
                })
            })
            .collect())
    }

    /// Envelopes of at most 20 requests whose cost per category fits one burst of our budget;
    /// a request stays with the requests it depends on.
    fn plan(
        &self,
        version: ApiVersion,
        requests: &[BatchRequest],
    ) -> Result<Vec<Vec<usize>>, GraphError> {
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut spent: HashMap<Category, f64> = HashMap::new();
        for (i, r) in requests.iter().enumerate() {
            let (category, cost) = r.category(version);
            let burst = self.budget().burst(category).floor().max(1.0);
            let fits = current.len() < MAX_BATCH
                && spent.get(&category).copied().unwrap_or(0.0) + cost <= burst;
            if !fits && !current.is_empty() {
                let tied = r
                    .depends_on
                    .iter()
                    .any(|d| current.iter().any(|&c| requests[c].id == *d));
                if tied {
                    return Err(GraphError::Config {
                        reason: format!(
                            "batch request {:?} and the requests it depends on do not fit one envelope",
                            r.id
                        ),
                    });
                }
                chunks.push(std::mem::take(&mut current));
                spent.clear();
            }
            current.push(i);
            *spent.entry(category).or_default() += cost;
        }
        if !current.is_empty() {
            chunks.push(current);
        }
        Ok(chunks)
    }

    async fn run_envelope(
        &self,
        version: ApiVersion,
        requests: &[&BatchRequest],
    ) -> Result<Vec<BatchResponse>, GraphError> {
        let retry = self.retry_policy().clone();
        let mut backoff = retry.backoff();
        let mut pending: Vec<&BatchRequest> = requests.to_vec();
        let mut done: Vec<BatchResponse> = Vec::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            for r in &pending {
                let (category, cost) = r.category(version);
                self.budget().acquire(category, cost).await;
                self.counters_mut().request(category, true);
                if attempt > 1 {
                    self.counters_mut().retry();
                }
            }
            let body = json!({"requests": pending.iter().map(|r| {
                let mut item = json!({"id": r.id, "method": r.method.as_str(), "url": r.url});
                if let Some(b) = &r.body {
                    item["body"] = b.clone();
                    item["headers"] = json!({"Content-Type": "application/json"});
                }
                // Dependencies answered in an earlier round are not in this envelope.
                let deps: Vec<&String> = r
                    .depends_on
                    .iter()
                    .filter(|d| pending.iter().any(|p| &p.id == *d))
                    .collect();
                if !deps.is_empty() {
                    item["dependsOn"] = json!(deps);
                }
                item
            }).collect::<Vec<_>>()});
            let call = Call {
                method: Method::POST,
                url: self.url(version, &super::client::Target::new(["$batch"]))?,
                body: Some(body),
            };
            self.counters_mut().batch();
            let reply = self.send(&call).await?;
            let envelope: Envelope = decode("POST $batch", &reply.body)?;
            let mut by_id: HashMap<String, Item> = envelope
                .responses
                .into_iter()
                .map(|item| (item.id.clone(), item))
                .collect();

            // Decide each pending request: done, or to be sent again.
            let mut again: HashSet<String> = HashSet::new();
            let mut waits = Vec::new();
            let mut failed: HashMap<String, (u16, GraphError)> = HashMap::new();
            let mut dependents: Vec<&BatchRequest> = Vec::new();
            for r in &pending {
                let (category, _) = r.category(version);
                let what = format!("{} {} (in $batch)", r.method, r.path(version));
                let Some(item) = by_id.remove(&r.id) else {
                    again.insert(r.id.clone());
                    failed.insert(
                        r.id.clone(),
                        (
                            0,
                            GraphError::Transient {
                                status: None,
                                reason: format!("$batch gave no answer for {what}"),
                            },
                        ),
                    );
                    continue;
                };
                if let Some(used) = item
                    .header(THROTTLE_PERCENTAGE)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                {
                    self.budget().quota_used(category, used);
                }
                if (200..300).contains(&item.status) {
                    done.push(BatchResponse {
                        id: r.id.clone(),
                        status: item.status,
                        result: Ok(item.body),
                    });
                    continue;
                }
                if item.status == 424 {
                    dependents.push(r);
                    failed.insert(
                        r.id.clone(),
                        (
                            424,
                            GraphError::Rejected {
                                what,
                                status: 424,
                                code: Some("FailedDependency".into()),
                                message: None,
                            },
                        ),
                    );
                    continue;
                }
                let body = item
                    .body
                    .as_ref()
                    .map(|b| b.to_string().into_bytes())
                    .unwrap_or_default();
                let retry_after = item.header("Retry-After").and_then(retry_after_value);
                let f = self.failure(item.status, &body, retry_after, category, what);
                if f.retry {
                    again.insert(r.id.clone());
                    if let Some(w) = f.retry_after {
                        waits.push(w);
                    }
                }
                failed.insert(r.id.clone(), (item.status, f.error));
            }
            // A 424 is retried when something it depends on is.
            loop {
                let before = again.len();
                for r in &dependents {
                    if r.depends_on.iter().any(|d| again.contains(d)) {
                        again.insert(r.id.clone());
                    }
                }
                if again.len() == before {
                    break;
                }
            }
            let give_up = again.is_empty() || attempt >= retry.max_attempts;
            let delay = if give_up {
                None
            } else {
                waits
                    .into_iter()
                    .max()
                    .or_else(|| backoff.next())
                    .filter(|d| *d <= retry.max_retry_after)
            };
            let Some(delay) = delay else {
                for r in &pending {
                    if let Some((status, error)) = failed.remove(&r.id) {
                        done.push(BatchResponse {
                            id: r.id.clone(),
                            status,
                            result: Err(error),
                        });
                    }
                }
                return Ok(done);
            };
            for r in &pending {
                if !again.contains(&r.id)
                    && let Some((status, error)) = failed.remove(&r.id)
                {
                    done.push(BatchResponse {
                        id: r.id.clone(),
                        status,
                        result: Err(error),
                    });
                }
            }
            pending.retain(|r| again.contains(&r.id));
            tracing::debug!(
                items = pending.len(),
                ?delay,
                attempt,
                "retrying failed $batch items"
            );
            tokio::time::sleep(delay).await;
        }
    }
}
