//! Microsoft Graph over the simulated population: users, the registration report,
//! authentication methods, sign-in and audit logs, devices, group membership and `$batch`,
//! with Graph's JSON shapes, error bodies, paging and throttling (reference/graph.md).
//!
//! Records are rendered from the population's compact form per request. What changes at
//! runtime lives behind locks here: group membership, temporary access passes, passkeys
//! registered live (with Graph's lags), their audit events, recorded sign-ins, Teams app
//! installations and the passkey policy.
//!
//! Time: wherever Microsoft's "now" is meant (the 30-day log window, TAP validity, the
//! method and report lags, when live events happen) the simulator reads the shared
//! [`SimClock`], so `POST /_sim/time/advance` moves all of it. The generated history keeps
//! the times it was generated with.
//!
//! Permissions: each route needs the application permission of reference/graph.md §1 in the
//! token's `roles` (see [`permissions`]); `$batch` checks each inner request.

mod live;
mod odata;
pub mod permissions;
pub mod policy;
mod render;
mod throttle;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method as HttpMethod, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

pub use self::live::{
    Installation, LiveError, PasskeyKind, PasskeyRegistration, RegistrationOutcome, SignInRecord,
};
use self::live::{LiveAudit, LiveSignIn, LiveState};
use self::odata::{FieldValue, Filter, Query, QueryError};
use self::policy::Fido2Policy;
pub use self::throttle::Limit;
use self::throttle::Throttle;
use super::clock::SimClock;
use super::identity::{AccessClaims, GRAPH_AUDIENCE, Identity, TokenRejection};
use super::population::{Guid, Method, Person, Population};

/// Most requests one `$batch` may carry.
pub const MAX_BATCH_REQUESTS: usize = 20;
/// Most group ids one `checkMemberGroups` may carry.
const MAX_CHECK_GROUPS: usize = 20;
/// Kind number of the derived id of the enforcement group.
const ID_ENFORCED_GROUP: u64 = 103;
/// Text Graph answers when an added member already is one (reference/graph.md §10).
pub const ALREADY_MEMBER: &str = "One or more added object references already exist for the following modified properties: 'members'.";

/// How long after registration a passkey shows in `/authentication/methods` by default.
pub const DEFAULT_METHOD_LAG: SignedDuration = SignedDuration::from_secs(30);
/// How long after registration a passkey shows in `userRegistrationDetails` by default (the
/// report refreshes "with a latency of up to a few hours", reference/graph.md §4).
pub const DEFAULT_REPORT_LAG: SignedDuration = SignedDuration::from_hours(3);

/// How the simulated Graph behaves.
#[derive(Debug, Clone)]
pub struct GraphOptions {
    /// Multiplies every throttling limit; benchmarks raise it.
    pub throttle_scale: f64,
    /// Registration → visible in the per-user methods (simulated time).
    pub method_lag: SignedDuration,
    /// Registration → visible in the registration report (simulated time).
    pub report_lag: SignedDuration,
    /// The tenant's passkey policy at start.
    pub fido2_policy: Fido2Policy,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            throttle_scale: 1.0,
            method_lag: DEFAULT_METHOD_LAG,
            report_lag: DEFAULT_REPORT_LAG,
            fido2_policy: Fido2Policy::default(),
        }
    }
}

/// The display name of Teams apps nobody registered with [`Graph::register_teams_app`].
const DEFAULT_TEAMS_APP_NAME: &str = "Passkey Pilot";

/// A security group as Graph holds it; membership changes at runtime.
#[derive(Debug, Clone)]
struct GroupState {
    id: Guid,
    display_name: String,
    /// Person indices, in the order they were added.
    members: Vec<u32>,
}

/// A temporary access pass created through Graph.
#[derive(Debug, Clone)]
struct Tap {
    id: Guid,
    created: Timestamp,
    start: Timestamp,
    lifetime_minutes: i64,
    usable_once: bool,
}

/// Sign-ins of the whole tenant newest first, and which person each range belongs to.
struct SignInIndex {
    newest_first: Vec<u32>,
    /// (first sign-in index, person index), sorted by the first.
    owners: Vec<(u32, u32)>,
}

/// The simulated Graph service.
pub struct Graph {
    base_url: String,
    population: Arc<Population>,
    identity: Arc<Identity>,
    groups: RwLock<Vec<GroupState>>,
    taps: Mutex<HashMap<u32, Tap>>,
    throttle: Throttle,
    sign_ins: OnceLock<SignInIndex>,
    clock: Arc<SimClock>,
    method_lag: SignedDuration,
    report_lag: SignedDuration,
    live: RwLock<LiveState>,
    policy: RwLock<(Fido2Policy, Timestamp)>,
    teams_apps: RwLock<HashMap<String, String>>,
    installed: tokio::sync::broadcast::Sender<Installation>,
}

impl Graph {
    /// Graph for `population`, reachable at `base_url`; tokens are checked with `identity`.
    pub fn new(
        base_url: &str,
        population: Arc<Population>,
        identity: Arc<Identity>,
        options: GraphOptions,
    ) -> Graph {
        let mut groups: Vec<GroupState> = population
            .groups
            .iter()
            .map(|g| GroupState {
                id: g.id,
                display_name: g.display_name.to_owned(),
                members: g.members.clone(),
            })
            .collect();
        groups.push(GroupState {
            id: Guid::derive(population.seed, ID_ENFORCED_GROUP, 0),
            display_name: "Passkey-enforced users".to_owned(),
            members: Vec::new(),
        });
        let clock = identity.clock().clone();
        let policy_changed = clock.now() - SignedDuration::from_hours(24 * 14);
        Graph {
            method_lag: options.method_lag,
            report_lag: options.report_lag,
            live: RwLock::new(LiveState::default()),
            policy: RwLock::new((options.fido2_policy, policy_changed)),
            teams_apps: RwLock::new(HashMap::new()),
            installed: tokio::sync::broadcast::channel(1024).0,
            clock,
            base_url: base_url.trim_end_matches('/').to_owned(),
            population,
            identity,
            groups: RwLock::new(groups),
            taps: Mutex::new(HashMap::new()),
            throttle: Throttle::new(options.throttle_scale),
            sign_ins: OnceLock::new(),
        }
    }

    /// The simulated clock (shared with identity).
    pub fn clock(&self) -> &Arc<SimClock> {
        &self.clock
    }

    pub fn population(&self) -> &Arc<Population> {
        &self.population
    }

    /// The initially empty group the Conditional Access policy enforces passkeys on.
    pub fn enforced_group_id(&self) -> String {
        Guid::derive(self.population.seed, ID_ENFORCED_GROUP, 0).to_string()
    }

    /// Current direct members (object ids) of a group, or `None` if there is no such group.
    pub fn group_members(&self, group: &str) -> Option<Vec<String>> {
        let id = Guid::parse(group)?;
        let groups = self.groups.read().unwrap_or_else(|e| e.into_inner());
        let g = groups.iter().find(|g| g.id == id)?;
        Some(
            g.members
                .iter()
                .map(|&i| self.population.people[i as usize].id.to_string())
                .collect(),
        )
    }

    /// Forgets throttling usage.
    pub fn reset_throttling(&self) {
        self.throttle.reset();
    }

    fn live(&self) -> std::sync::RwLockReadGuard<'_, LiveState> {
        self.live.read().unwrap_or_else(|e| e.into_inner())
    }

    fn live_mut(&self) -> std::sync::RwLockWriteGuard<'_, LiveState> {
        self.live.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The index of the person with this object id or user principal name.
    pub fn person_index(&self, id_or_upn: &str) -> Option<u32> {
        let pop = &self.population;
        pop.index_of(id_or_upn).or_else(|| {
            pop.by_upn(id_or_upn)
                .and_then(|p| pop.index_of(&p.id.to_string()))
        })
    }

    fn index_or_error(&self, id_or_upn: &str) -> Result<u32, LiveError> {
        self.person_index(id_or_upn)
            .ok_or_else(|| LiveError::UnknownPerson(id_or_upn.to_owned()))
    }

    /// How long a live passkey takes to show in the per-user methods.
    pub fn method_lag(&self) -> SignedDuration {
        self.method_lag
    }

    /// How long a live passkey takes to show in the registration report.
    pub fn report_lag(&self) -> SignedDuration {
        self.report_lag
    }

    /// `person` registers a passkey of `registration.kind` on one of their devices now (or
    /// fails to, with `failure_reason` or when the passkey policy refuses the model). The
    /// audit events appear at once; the method after the method lag, in the report after
    /// the report lag.
    pub fn register_passkey(
        &self,
        person: &str,
        registration: &PasskeyRegistration,
    ) -> Result<RegistrationOutcome, LiveError> {
        let index = self.index_or_error(person)?;
        let pop = &self.population;
        let p = &pop.people[index as usize];
        let (_, device) = live::find_device(pop, p, &registration.device)
            .ok_or_else(|| LiveError::UnknownDevice(registration.device.clone()))?;
        let model = live::model_for(registration.kind, &pop.devices[device as usize])?;
        let now = self.clock.now();
        let refusal = self
            .fido2_policy()
            .admits(model)
            .err()
            .map(|r| format!("Passkey registration failed: {r}."));
        let failure = registration.failure_reason.clone().or(refusal);
        let mut live = self.live_mut();
        live.audits
            .extend(live::audit_trail(index, model, now, failure.as_deref()));
        if let Some(reason) = failure {
            return Ok(RegistrationOutcome::Failed { reason });
        }
        let method = live::new_method(model, device, now);
        live.methods
            .entry(index)
            .or_default()
            .push(live::LiveMethod {
                method: method.clone(),
                registered: now,
            });
        Ok(RegistrationOutcome::Registered {
            method,
            visible_at: now + self.method_lag,
            reported_at: now + self.report_lag,
        })
    }

    /// A person's methods as seen `lag` after changes: generated and live ones registered at
    /// least `lag` ago, less those deleted at least `lag` ago; with the latest change seen.
    fn methods_after(
        &self,
        live: &LiveState,
        index: u32,
        now: Timestamp,
        lag: SignedDuration,
    ) -> (Vec<Method>, Option<Timestamp>) {
        let mut latest: Option<Timestamp> = None;
        let mut seen = |at: Timestamp| {
            let shown = at + lag <= now;
            if shown {
                latest = Some(latest.map_or(at + lag, |l| l.max(at + lag)));
            }
            shown
        };
        let deleted: Vec<Guid> = live
            .deleted
            .get(&index)
            .into_iter()
            .flatten()
            .filter(|&&(_, at)| seen(at))
            .map(|&(id, _)| id)
            .collect();
        let added: Vec<Method> = live
            .methods
            .get(&index)
            .into_iter()
            .flatten()
            .filter(|m| seen(m.registered))
            .map(|m| m.method.clone())
            .collect();
        let methods = self.population.people[index as usize]
            .methods
            .iter()
            .cloned()
            .chain(added)
            .filter(|m| !deleted.contains(&m.id))
            .collect();
        (methods, latest)
    }

    /// A person's methods as `/authentication/methods` lists them at `now`: additions after
    /// the method lag, deletions at once.
    fn listed_methods(&self, index: u32, now: Timestamp) -> Vec<Method> {
        let live = self.live();
        let (mut methods, _) = self.methods_after(&live, index, now, self.method_lag);
        if let Some(deleted) = live.deleted.get(&index) {
            methods.retain(|m| !deleted.iter().any(|(id, _)| *id == m.id));
        }
        methods
    }

    /// The people whose report rows changed by `now`: their methods as the report shows them
    /// and when the row refreshed.
    fn reported_live(&self, now: Timestamp) -> HashMap<u32, (Vec<Method>, Timestamp)> {
        let live = self.live();
        let changed: std::collections::HashSet<u32> = live
            .methods
            .keys()
            .chain(live.deleted.keys())
            .copied()
            .collect();
        changed
            .into_iter()
            .filter_map(|index| {
                let (methods, latest) = self.methods_after(&live, index, now, self.report_lag);
                latest.map(|at| (index, (methods, at)))
            })
            .collect()
    }

    /// The person's methods as `/authentication/methods` lists them now: the generated ones
    /// and live passkeys past the method lag (the merger's sign-in page reads this).
    pub fn live_methods(&self, person: &str) -> Result<Vec<Method>, LiveError> {
        let index = self.index_or_error(person)?;
        Ok(self.listed_methods(index, self.clock.now()))
    }

    /// Appends a sign-in that `/auditLogs/signIns` returns from then on; returns its id.
    pub fn record_sign_in(&self, record: SignInRecord) -> Result<String, LiveError> {
        let index = self.index_or_error(&record.person)?;
        let pop = &self.population;
        let p = &pop.people[index as usize];
        let slot = match &record.device {
            Some(d) => {
                live::find_device(pop, p, d)
                    .ok_or_else(|| LiveError::UnknownDevice(d.clone()))?
                    .0
            }
            None if p.devices.is_empty() => {
                return Err(LiveError::UnknownDevice("(none)".to_owned()));
            }
            None => 0,
        };
        let id = Guid(uuid::Uuid::new_v4().as_u128());
        let at = record.at.unwrap_or_else(|| self.clock.now());
        self.live_mut().sign_ins.push(LiveSignIn {
            id,
            person: index,
            slot,
            record,
            at,
        });
        Ok(id.to_string())
    }

    /// The tenant's passkey policy now.
    pub fn fido2_policy(&self) -> Fido2Policy {
        self.policy
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Replaces the tenant's passkey policy (as an admin would in the Entra admin center).
    pub fn set_fido2_policy(&self, policy: Fido2Policy) {
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = (policy, self.clock.now());
    }

    /// Names a Teams app of the org catalog (`teamsApp.displayName` and the manifest id as
    /// `externalId`); unregistered ids are served as "Passkey Pilot".
    pub fn register_teams_app(&self, catalog_id: &str, display_name: &str) {
        self.teams_apps
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(catalog_id.to_ascii_lowercase(), display_name.to_owned());
    }

    fn teams_app_name(&self, catalog_id: &str) -> String {
        self.teams_apps
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&catalog_id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| DEFAULT_TEAMS_APP_NAME.to_owned())
    }

    /// Every Teams app installed in a personal scope through Graph, oldest first.
    pub fn installations(&self) -> Vec<Installation> {
        self.live()
            .installations
            .iter()
            .map(|(_, i)| i.clone())
            .collect()
    }

    /// Each installation made from now on (e.g. to have the channel send the bot a
    /// `conversationUpdate`, as Teams does).
    pub fn subscribe_installations(&self) -> tokio::sync::broadcast::Receiver<Installation> {
        self.installed.subscribe()
    }

    fn sign_in_index(&self) -> &SignInIndex {
        self.sign_ins.get_or_init(|| {
            let pop = &self.population;
            let mut owners: Vec<(u32, u32)> = pop
                .people
                .iter()
                .enumerate()
                .filter(|(_, p)| p.sign_ins.1 > 0)
                .map(|(i, p)| (p.sign_ins.0, i as u32))
                .collect();
            owners.sort_unstable();
            let mut newest_first: Vec<u32> = (0..pop.sign_ins.len() as u32).collect();
            newest_first.sort_by_key(|&n| std::cmp::Reverse(pop.sign_ins[n as usize].at));
            SignInIndex {
                newest_first,
                owners,
            }
        })
    }

    fn owner_of(&self, n: u32) -> u32 {
        let owners = &self.sign_in_index().owners;
        let at = owners.partition_point(|&(start, _)| start <= n);
        owners[at.saturating_sub(1)].1
    }
}

/// What a request cost against a throttling limit, for the response's `x-ms-` headers.
#[derive(Debug, Clone, Copy)]
struct ChargeNote {
    limit: Limit,
    cost: f64,
    /// Share of the bucket in use after the request.
    used: f64,
}

/// Ids Graph puts on every response and error, and what the request was charged.
#[derive(Debug, Clone)]
struct Ids {
    request: String,
    client: String,
    charged: Arc<Mutex<Option<ChargeNote>>>,
}

impl Ids {
    fn from(headers: &HeaderMap) -> Ids {
        let request = uuid::Uuid::new_v4().to_string();
        let client = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| request.clone(), str::to_owned);
        Ids {
            request,
            client,
            charged: Arc::new(Mutex::new(None)),
        }
    }

    fn charged(&self) -> Option<ChargeNote> {
        *self.charged.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Directory requests carry `x-ms-resource-unit`, and `x-ms-throttle-limit-percentage` once
/// 80 % of the bucket is used (learn `/graph/throttling-limits`, identity and access).
fn throttle_headers(note: ChargeNote, headers: &mut HeaderMap) {
    if note.limit.scope_and_reason().is_none() {
        return;
    }
    headers.insert(
        HeaderName::from_static("x-ms-resource-unit"),
        HeaderValue::from(note.cost.round().max(1.0) as u64),
    );
    if note.used >= 0.8
        && let Ok(v) = HeaderValue::from_str(&format!("{:.1}", note.used.min(1.8)))
    {
        headers.insert(HeaderName::from_static("x-ms-throttle-limit-percentage"), v);
    }
}

/// Graph's error body with its `innerError`.
fn error_body(ids: &Ids, code: &str, message: &str) -> Value {
    json!({"error": {
        "code": code,
        "message": message,
        "innerError": {
            "date": render::time(Timestamp::now()),
            "request-id": ids.request,
            "client-request-id": ids.client,
        }
    }})
}

/// An error answer, boxed so results stay small.
struct Failure(Box<Response>);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        *self.0
    }
}

fn error(ids: &Ids, status: StatusCode, code: &str, message: &str) -> Failure {
    Failure(Box::new(
        (status, Json(error_body(ids, code, message))).into_response(),
    ))
}

fn bad_query(ids: &Ids, e: QueryError) -> Failure {
    error(ids, StatusCode::BAD_REQUEST, e.code, &e.message)
}

fn not_found(ids: &Ids, id: &str) -> Failure {
    error(
        ids,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

type Reply = Result<Response, Failure>;

/// What every handler gets: the service, the API version and the caller.
#[derive(Clone)]
struct Ctx {
    graph: Arc<Graph>,
    beta: bool,
}

impl Ctx {
    fn version(&self) -> &'static str {
        if self.beta { "beta" } else { "v1.0" }
    }

    fn context(&self, fragment: &str) -> String {
        format!(
            "{}/{}/$metadata#{fragment}",
            self.graph.base_url,
            self.version()
        )
    }

    fn charge(
        &self,
        claims: &AccessClaims,
        ids: &Ids,
        limit: Limit,
        cost: f64,
    ) -> Result<(), Failure> {
        match self.graph.throttle.take(&claims.appid, limit, cost) {
            Ok(used) => {
                *ids.charged.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(ChargeNote { limit, cost, used });
                Ok(())
            }
            Err(wait) => {
                let mut response = error(
                    ids,
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Too many requests.",
                );
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                let headers = response.0.headers_mut();
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
                if let Some((kind, reason)) = limit.scope_and_reason()
                    && let Ok(scope) = HeaderValue::from_str(&format!(
                        "Tenant_Application/{kind}/{}/{}",
                        claims.appid, claims.tid
                    ))
                {
                    headers.insert(HeaderName::from_static("x-ms-throttle-scope"), scope);
                    headers.insert(
                        HeaderName::from_static("x-ms-throttle-information"),
                        HeaderValue::from_static(reason),
                    );
                }
                Err(response)
            }
        }
    }

    fn person(&self, ids: &Ids, id: &str) -> Result<(u32, &Person), Failure> {
        let pop = &self.graph.population;
        let index = pop
            .index_of(id)
            .or_else(|| pop.by_upn(id).and_then(|p| pop.index_of(&p.id.to_string())));
        index
            .map(|i| (i, &pop.people[i as usize]))
            .ok_or_else(|| not_found(ids, id))
    }
}

/// Graph under `/v1.0` and `/beta`, requiring a Graph token the simulator issued.
pub fn routes(graph: Arc<Graph>) -> Router {
    let auth = axum::middleware::from_fn_with_state(graph.clone(), authenticate);
    Router::new()
        .nest(
            "/v1.0",
            versioned(Ctx {
                graph: graph.clone(),
                beta: false,
            }),
        )
        .nest("/beta", versioned(Ctx { graph, beta: true }))
        .layer(auth)
}

fn versioned(ctx: Ctx) -> Router {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/{id}", get(get_user))
        .route("/users/{id}/authentication/methods", get(list_methods))
        .route(
            "/users/{id}/authentication/temporaryAccessPassMethods",
            get(list_typed_methods_tap).post(create_tap),
        )
        .route("/users/{id}/authentication/{kind}", get(list_typed_methods))
        .route(
            "/users/{id}/authentication/{kind}/{method}",
            get(get_method).delete(delete_method),
        )
        .route("/users/{id}/registeredDevices", get(user_devices))
        .route("/users/{id}/ownedDevices", get(user_devices))
        .route("/users/{id}/transitiveMemberOf", get(member_of))
        .route(
            "/users/{id}/transitiveMemberOf/microsoft.graph.group",
            get(member_of),
        )
        .route("/users/{id}/memberOf", get(member_of))
        .route("/users/{id}/checkMemberGroups", post(check_member_groups))
        .route(
            "/reports/authenticationMethods/userRegistrationDetails",
            get(registration_details),
        )
        .route(
            "/reports/authenticationMethods/userRegistrationDetails/{id}",
            get(registration_detail),
        )
        .route("/auditLogs/signIns", get(sign_ins))
        .route("/auditLogs/directoryAudits", get(directory_audits))
        .route("/devices", get(list_devices))
        .route("/devices/{id}", get(get_device))
        .route("/groups/{id}", get(get_group))
        .route("/groups/{id}/members", get(group_members))
        .route("/groups/{id}/members/$ref", post(add_member))
        .route(
            "/groups/{id}/members/{member}/$ref",
            axum::routing::delete(remove_member),
        )
        .route(
            "/users/{id}/teamwork/installedApps",
            get(list_installed_apps).post(install_app),
        )
        .route(
            "/users/{id}/teamwork/installedApps/{installation}",
            get(get_installed_app).delete(uninstall_app),
        )
        .route(
            "/users/{id}/teamwork/installedApps/{installation}/chat",
            get(installed_app_chat),
        )
        .route("/policies/authenticationMethodsPolicy", get(methods_policy))
        .route(
            "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{method}",
            get(method_configuration),
        )
        .route("/$batch", post(batch))
        .fallback(unknown_segment)
        .with_state(ctx)
}

/// Checks the bearer token and tags the request and response with Graph's ids.
async fn authenticate(
    State(graph): State<Arc<Graph>>,
    mut request: Request,
    next: Next,
) -> Response {
    let ids = Ids::from(request.headers());
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let verified = match token {
        None => Err(TokenRejection::Missing),
        Some(t) => graph.identity.verify_access_token(t, GRAPH_AUDIENCE),
    };
    let mut response = match verified {
        Ok(claims) => {
            let path = request.uri().path();
            let below = path
                .strip_prefix("/v1.0")
                .or_else(|| path.strip_prefix("/beta"))
                .unwrap_or(path);
            let refused = permissions::required(request.method(), below).and_then(|need| {
                permissions::missing(&need, &claims.roles).map(|p| need.denial.body(p))
            });
            match refused {
                Some((code, message)) => {
                    error(&ids, StatusCode::FORBIDDEN, code, &message).into_response()
                }
                None => {
                    request.extensions_mut().insert(claims);
                    request.extensions_mut().insert(ids.clone());
                    let mut response = next.run(request).await;
                    if let Some(note) = ids.charged() {
                        throttle_headers(note, response.headers_mut());
                    }
                    response
                }
            }
        }
        Err(rejection) => {
            let message = match rejection {
                TokenRejection::Missing => "Access token is empty.",
                TokenRejection::UnknownKey | TokenRejection::Invalid => {
                    "Access token validation failure. Invalid audience."
                }
                TokenRejection::Expired => "Lifetime validation failed, the token is expired.",
            };
            let mut r = error(
                &ids,
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\""),
            );
            r
        }
    };
    for (name, value) in [
        ("request-id", &ids.request),
        ("client-request-id", &ids.client),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), v);
        }
    }
    response
}

async fn unknown_segment(Extension(ids): Extension<Ids>, request: Request) -> Failure {
    let segment = request
        .uri()
        .path()
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_owned();
    error(
        &ids,
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("Resource not found for the segment '{segment}'."),
    )
}

/// Page sizes of a collection: the default and the largest; `refuse` answers a larger `$top`
/// with 400 (directory objects) instead of capping it (logs).
struct PageSize {
    default: usize,
    max: usize,
    refuse: bool,
}

const DIRECTORY_PAGE: PageSize = PageSize {
    default: 100,
    max: 999,
    refuse: true,
};
const LOG_PAGE: PageSize = PageSize {
    default: 1000,
    max: 1000,
    refuse: false,
};

fn page_size(ids: &Ids, q: &Query, size: &PageSize) -> Result<usize, Failure> {
    match q.top {
        None => Ok(size.default),
        Some(top) if top > size.max && size.refuse => Err(error(
            ids,
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            &format!(
                "Invalid page size specified: '{top}'. Must be between 1 and {} inclusive.",
                size.max
            ),
        )),
        Some(top) => Ok(top.min(size.max)),
    }
}

fn parse_query(ids: &Ids, raw: Option<&str>) -> Result<Query, Failure> {
    Query::parse(raw).map_err(|e| bad_query(ids, e))
}

/// `$count=true` on directory objects needs `ConsistencyLevel: eventual`.
fn check_count(ids: &Ids, q: &Query, headers: &HeaderMap) -> Result<(), Failure> {
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    if q.count && !eventual {
        return Err(error(
            ids,
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "$count is not currently supported.",
        ));
    }
    Ok(())
}

/// Refuses filters on properties the collection does not filter by.
fn check_filter<'a>(
    ids: &Ids,
    q: &Query,
    probe: impl Fn(&str) -> Option<FieldValue<'a>>,
) -> Result<(), Failure> {
    if let Some(f) = &q.filter {
        f.matches(probe).map_err(|e| bad_query(ids, e))?;
    }
    Ok(())
}

fn matches<'a>(filter: &Option<Filter>, field: impl Fn(&str) -> Option<FieldValue<'a>>) -> bool {
    filter
        .as_ref()
        .is_none_or(|f| f.matches(field).unwrap_or(false))
}

/// Keeps only `$select`ed properties (and `@odata.type`).
fn select(mut v: Value, q: &Query) -> Value {
    if let (Some(fields), Some(map)) = (&q.select, v.as_object_mut()) {
        map.retain(|k, _| k.starts_with('@') || fields.iter().any(|f| f == k));
    }
    v
}

/// One page of a collection with `@odata.context`, `@odata.count` and `@odata.nextLink`.
fn page<T>(
    ctx: &Ctx,
    path: &str,
    context: &str,
    q: &Query,
    top: usize,
    items: impl Iterator<Item = T>,
    render: impl Fn(T) -> Value,
) -> Response {
    let mut value = Vec::with_capacity(top.min(1000));
    let mut more = false;
    // Without `$count`, skip cheaply (ranges skip in O(1)) and stop after the page.
    let mut seen = if q.count { 0 } else { q.skip };
    let items: Box<dyn Iterator<Item = T>> = if q.count {
        Box::new(items)
    } else {
        Box::new(items.skip(q.skip))
    };
    for item in items {
        seen += 1;
        if seen <= q.skip {
            continue;
        }
        if value.len() < top {
            value.push(select(render(item), q));
        } else {
            more = true;
            if !q.count {
                break;
            }
        }
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(ctx.context(context)));
    if q.count {
        body.insert("@odata.count".into(), json!(seen));
    }
    if more {
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}/{}{path}?{}",
                ctx.graph.base_url,
                ctx.version(),
                q.next_query(q.skip + top)
            )),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Json(Value::Object(body)).into_response()
}

/// One page of a collection whose items carry the position to resume after them, so the
/// next link's `$skiptoken` is a cursor and deep pages cost no more than the first.
fn page_at_cursor<T>(
    ctx: &Ctx,
    path: &str,
    context: &str,
    q: &Query,
    top: usize,
    mut items: impl Iterator<Item = (usize, T)>,
    render: impl Fn(T) -> Value,
) -> Response {
    let mut value = Vec::with_capacity(top.min(1000));
    let mut resume = None;
    for (after, item) in items.by_ref().take(top) {
        value.push(select(render(item), q));
        resume = Some(after);
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(ctx.context(context)));
    if let Some(after) = resume
        && items.next().is_some()
    {
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}/{}{path}?{}",
                ctx.graph.base_url,
                ctx.version(),
                q.next_query(after)
            )),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Json(Value::Object(body)).into_response()
}

fn select_context(q: &Query, base: &str) -> String {
    match &q.select {
        Some(fields) => format!("{base}({})", fields.join(",")),
        None => base.to_owned(),
    }
}

fn user_properties(ids: &Ids, q: &Query) -> Result<Vec<&'static str>, Failure> {
    match &q.select {
        None => Ok(render::USER_DEFAULT.to_vec()),
        Some(fields) => fields
            .iter()
            .map(|f| {
                render::USER_ALL
                    .iter()
                    .copied()
                    .find(|k| k == f)
                    .ok_or_else(|| {
                        error(
                            ids,
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            &format!(
                                "Could not find a property named '{f}' on type 'microsoft.graph.user'."
                            ),
                        )
                    })
            })
            .collect(),
    }
}

/// Resource units of a directory read: the base cost, −1 with `$select`, +1 with `$expand`,
/// −1 with `$top` under 20, at least 1 (reference/graph.md §15).
fn directory_cost(base: f64, q: &Query) -> f64 {
    let mut cost = base;
    if q.select.is_some() {
        cost -= 1.0;
    }
    if q.expand.is_some() {
        cost += 1.0;
    }
    if q.top.is_some_and(|t| t < 20) {
        cost -= 1.0;
    }
    cost.max(1.0)
}

/// The people a user filter has to look at, without allocating for a full scan.
fn people_to_scan(pop: &Population, filter: &Option<Filter>) -> Box<dyn Iterator<Item = u32>> {
    match user_candidates(pop, filter) {
        Some(found) => Box::new(found.into_iter()),
        None => Box::new(0..pop.people.len() as u32),
    }
}

/// Indices of the people a user filter can match: by index when it pins ids or UPNs.
fn user_candidates(pop: &Population, filter: &Option<Filter>) -> Option<Vec<u32>> {
    let f = filter.as_ref()?;
    if let Some(ids) = f.pinned("id") {
        return Some(ids.iter().filter_map(|id| pop.index_of(id)).collect());
    }
    let upns = f.pinned("userPrincipalName")?;
    Some(
        upns.iter()
            .filter_map(|u| pop.by_upn(u))
            .filter_map(|p| pop.index_of(&p.id.to_string()))
            .collect(),
    )
}

async fn list_users(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    headers: HeaderMap,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    check_count(&ids, &q, &headers)?;
    let top = page_size(&ids, &q, &DIRECTORY_PAGE)?;
    let properties = user_properties(&ids, &q)?;
    let pop = &ctx.graph.population;
    if let Some(first) = pop.people.first() {
        check_filter(&ids, &q, |n| render::user_field(first, n))?;
    }
    ctx.charge(&claims, &ids, Limit::DirectoryRead, directory_cost(2.0, &q))?;
    let candidates = people_to_scan(pop, &q.filter);
    let items = candidates
        .into_iter()
        .map(|i| &pop.people[i as usize])
        .filter(|p| matches(&q.filter, |n| render::user_field(p, n)));
    Ok(page(
        &ctx,
        "/users",
        &select_context(&q, "users"),
        &q,
        top,
        items,
        |p| render::user(p, &properties),
    ))
}

async fn get_user(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let properties = user_properties(&ids, &q)?;
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 1.0)?;
    let (_, p) = ctx.person(&ids, &id)?;
    let mut v =
        json!({"@odata.context": ctx.context(&format!("{}/$entity", select_context(&q, "users")))});
    if let (Some(map), Value::Object(user)) = (v.as_object_mut(), render::user(p, &properties)) {
        map.extend(user);
    }
    Ok(Json(v).into_response())
}

/// The typed collections under `/authentication`, by segment.
fn collection_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "fido2Methods" => "fido2AuthenticationMethod",
        "windowsHelloForBusinessMethods" => "windowsHelloForBusinessAuthenticationMethod",
        "microsoftAuthenticatorMethods" => "microsoftAuthenticatorAuthenticationMethod",
        "phoneMethods" => "phoneAuthenticationMethod",
        "passwordMethods" => "passwordAuthenticationMethod",
        "temporaryAccessPassMethods" => "temporaryAccessPassAuthenticationMethod",
        _ => return None,
    })
}

fn tap_json(tap: &Tap, code: Option<&str>, now: Timestamp) -> Value {
    let end = tap.start + SignedDuration::from_mins(tap.lifetime_minutes);
    let (usable, reason) = if now < tap.start {
        (false, "NotYetValid")
    } else if now >= end {
        (false, "Expired")
    } else {
        (true, "EnabledByPolicy")
    };
    json!({
        "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
        "id": tap.id,
        "temporaryAccessPass": code,
        "createdDateTime": render::time(tap.created),
        "startDateTime": render::time(tap.start),
        "lifetimeInMinutes": tap.lifetime_minutes,
        "isUsableOnce": tap.usable_once,
        "isUsable": usable,
        "methodUsabilityReason": reason,
    })
}

/// A person's methods as Graph lists them, including live passkeys past the method lag and
/// a created TAP.
fn methods_of(ctx: &Ctx, index: u32) -> Vec<Value> {
    let pop = &ctx.graph.population;
    let now = ctx.graph.clock.now();
    let mut out: Vec<Value> = ctx
        .graph
        .listed_methods(index, now)
        .iter()
        .map(|m| render::method(pop, m, ctx.beta))
        .collect();
    if let Some(tap) = ctx
        .graph
        .taps
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&index)
    {
        out.push(tap_json(tap, None, now));
    }
    out
}

async fn list_methods(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
) -> Reply {
    let (index, p) = ctx.person(&ids, &id)?;
    ctx.charge(&claims, &ids, Limit::Reports, 1.0)?;
    let context = ctx.context(&format!("users('{}')/authentication/methods", p.id));
    Ok(Json(json!({"@odata.context": context, "value": methods_of(&ctx, index)})).into_response())
}

async fn list_typed_methods_tap(
    state: State<Ctx>,
    ids: Extension<Ids>,
    claims: Extension<AccessClaims>,
    Path(id): Path<String>,
) -> Reply {
    list_typed(
        state,
        ids,
        claims,
        id,
        "temporaryAccessPassMethods".to_owned(),
    )
    .await
}

async fn list_typed_methods(
    state: State<Ctx>,
    ids: Extension<Ids>,
    claims: Extension<AccessClaims>,
    Path((id, kind)): Path<(String, String)>,
) -> Reply {
    list_typed(state, ids, claims, id, kind).await
}

async fn list_typed(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    id: String,
    kind: String,
) -> Reply {
    let Some(ty) = collection_type(&kind) else {
        return Err(error(
            &ids,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{kind}'."),
        ));
    };
    let (index, p) = ctx.person(&ids, &id)?;
    ctx.charge(&claims, &ids, Limit::Reports, 1.0)?;
    let tag = format!("#microsoft.graph.{ty}");
    let value: Vec<Value> = methods_of(&ctx, index)
        .into_iter()
        .filter(|m| m["@odata.type"] == tag.as_str())
        .map(|mut m| {
            // Typed collections name the type in the context instead.
            if let Some(map) = m.as_object_mut() {
                map.remove("@odata.type");
            }
            m
        })
        .collect();
    let context = ctx.context(&format!("users('{}')/authentication/{kind}", p.id));
    Ok(Json(json!({"@odata.context": context, "value": value})).into_response())
}

async fn get_method(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path((id, kind, method_id)): Path<(String, String, String)>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let Some(ty) = collection_type(&kind) else {
        return Err(error(
            &ids,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{kind}'."),
        ));
    };
    let (index, p) = ctx.person(&ids, &id)?;
    ctx.charge(&claims, &ids, Limit::Reports, 1.0)?;
    let pop = &ctx.graph.population;
    let listed = ctx.graph.listed_methods(index, ctx.graph.clock.now());
    let method = listed
        .iter()
        .find(|m| {
            render::method_type(m) == ty && render::method_id(m).eq_ignore_ascii_case(&method_id)
        })
        .ok_or_else(|| not_found(&ids, &method_id))?;
    let mut v = render::method(pop, method, ctx.beta);
    if let Some(map) = v.as_object_mut() {
        map.remove("@odata.type");
        map.insert(
            "@odata.context".into(),
            json!(ctx.context(&format!("users('{}')/authentication/{kind}/$entity", p.id))),
        );
    }
    if q.expand.as_deref() == Some("device") {
        v["device"] =
            render::method_device(method).map_or(Value::Null, |d| render::device(pop, d, false));
    }
    Ok(Json(v).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TapRequest {
    lifetime_in_minutes: Option<i64>,
    is_usable_once: Option<bool>,
    start_date_time: Option<Timestamp>,
}

async fn create_tap(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Reply {
    let (index, p) = ctx.person(&ids, &id)?;
    let request: TapRequest = if body.is_empty() {
        TapRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            error(
                &ids,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Invalid request body: {e}"),
            )
        })?
    };
    let lifetime = request.lifetime_in_minutes.unwrap_or(60);
    if !(10..=43_200).contains(&lifetime) {
        return Err(error(
            &ids,
            StatusCode::BAD_REQUEST,
            "badRequest",
            "The lifetimeInMinutes must be between 10 and 43200 minutes.",
        ));
    }
    ctx.charge(&claims, &ids, Limit::DirectoryWrite, 1.0)?;
    let now = ctx.graph.clock.now();
    let tap = Tap {
        id: Guid(uuid::Uuid::new_v4().as_u128()),
        created: now,
        start: request.start_date_time.unwrap_or(now),
        lifetime_minutes: lifetime,
        usable_once: request.is_usable_once.unwrap_or(false),
    };
    let code: String = {
        use rand::Rng;
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789+@#%";
        let mut rng = rand::rng();
        (0..8)
            .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
            .collect()
    };
    let mut v = tap_json(&tap, Some(&code), now);
    if let Some(map) = v.as_object_mut() {
        map.remove("@odata.type");
        map.insert(
            "@odata.context".into(),
            json!(ctx.context(&format!(
                "users('{}')/authentication/temporaryAccessPassMethods/$entity",
                p.id
            ))),
        );
    }
    ctx.graph
        .taps
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(index, tap);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn user_devices(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let top = page_size(&ids, &q, &DIRECTORY_PAGE)?;
    let (index, p) = ctx.person(&ids, &id)?;
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 2.0)?;
    let pop = &ctx.graph.population;
    let owned = p.devices.iter().copied().filter(|&d| {
        let dev = &pop.devices[d as usize];
        dev.is_registered() && dev.owner == Some(index)
    });
    let segment = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or("registeredDevices")
        .to_owned();
    Ok(page(
        &ctx,
        &format!("/users/{}/{segment}", p.id),
        "directoryObjects",
        &q,
        top,
        owned,
        |d| render::device(pop, d, true),
    ))
}

fn group_json(g: &GroupState) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.group",
        "id": g.id,
        "displayName": g.display_name,
        "description": Value::Null,
        "groupTypes": [],
        "mailEnabled": false,
        "securityEnabled": true,
        "isAssignableToRole": Value::Null,
    })
}

async fn member_of(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let top = page_size(&ids, &q, &DIRECTORY_PAGE)?;
    let (index, p) = ctx.person(&ids, &id)?;
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 2.0)?;
    let groups: Vec<Value> = ctx
        .graph
        .groups
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|g| g.members.contains(&index))
        .map(group_json)
        .collect();
    let path = request.uri().path().to_owned();
    let segment = path
        .split_once(&format!("/users/{id}"))
        .map_or("/transitiveMemberOf", |(_, rest)| rest)
        .to_owned();
    Ok(page(
        &ctx,
        &format!("/users/{}{segment}", p.id),
        if segment.ends_with("microsoft.graph.group") {
            "groups"
        } else {
            "directoryObjects"
        },
        &q,
        top,
        groups.into_iter(),
        |g| g,
    ))
}

async fn check_member_groups(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Reply {
    let (index, _) = ctx.person(&ids, &id)?;
    let requested: Vec<String> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("groupIds")?.clone()).ok())
        .ok_or_else(|| {
            error(
                &ids,
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                "Invalid request body: groupIds is required.",
            )
        })?;
    if requested.len() > MAX_CHECK_GROUPS {
        return Err(error(
            &ids,
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "The number of group ids must not exceed 20.",
        ));
    }
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 4.0)?;
    let groups = ctx.graph.groups.read().unwrap_or_else(|e| e.into_inner());
    let value: Vec<&String> = requested
        .iter()
        .filter(|r| {
            Guid::parse(r).is_some_and(|gid| {
                groups
                    .iter()
                    .any(|g| g.id == gid && g.members.contains(&index))
            })
        })
        .collect();
    Ok(Json(json!({
        "@odata.context": ctx.context("Collection(Edm.String)"),
        "value": value,
    }))
    .into_response())
}

/// The report's view of live passkeys at the simulated present, and when rows were last
/// refreshed: the report refreshes every report lag, the first time 3 h before the
/// population was generated; a row showing a live passkey was refreshed when it appeared.
struct ReportView<'a> {
    pop: &'a Population,
    live: HashMap<u32, (Vec<Method>, Timestamp)>,
    base_updated: Timestamp,
}

impl<'a> ReportView<'a> {
    fn of(graph: &'a Graph) -> ReportView<'a> {
        let now = graph.clock.now();
        let first = graph.population.now - SignedDuration::from_hours(3);
        let cycle = graph.report_lag.as_secs().max(1);
        let cycles = now.duration_since(first).as_secs().max(0) / cycle;
        ReportView {
            pop: &graph.population,
            live: graph.reported_live(now),
            base_updated: first + SignedDuration::from_secs(cycles * cycle),
        }
    }

    /// The person's methods as the report knows them.
    fn methods(&self, index: u32) -> &[Method] {
        self.live.get(&index).map_or_else(
            || self.pop.people[index as usize].methods.as_slice(),
            |(m, _)| m.as_slice(),
        )
    }

    fn updated(&self, index: u32) -> Timestamp {
        self.live
            .get(&index)
            .map_or(self.base_updated, |(_, at)| (*at).max(self.base_updated))
    }

    fn row(&self, index: u32, beta: bool) -> Value {
        render::registration_details(
            self.pop,
            index,
            self.methods(index),
            self.updated(index),
            beta,
        )
    }
}

async fn registration_details(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let top = page_size(&ids, &q, &LOG_PAGE)?;
    let pop = &ctx.graph.population;
    if !pop.people.is_empty() {
        check_filter(&ids, &q, |n| {
            render::registration_field(pop, 0, &pop.people[0].methods, n)
        })?;
    }
    ctx.charge(&claims, &ids, Limit::Reports, 1.0)?;
    let view = ReportView::of(&ctx.graph);
    let candidates = people_to_scan(pop, &q.filter);
    let items = candidates.into_iter().filter(|&i| {
        matches(&q.filter, |n| {
            render::registration_field(pop, i, view.methods(i), n)
        })
    });
    Ok(page(
        &ctx,
        "/reports/authenticationMethods/userRegistrationDetails",
        "reports/authenticationMethods/userRegistrationDetails",
        &q,
        top,
        items,
        |i| view.row(i, ctx.beta),
    ))
}

async fn registration_detail(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
) -> Reply {
    let (index, _) = ctx.person(&ids, &id)?;
    ctx.charge(&claims, &ids, Limit::Reports, 1.0)?;
    let mut v = ReportView::of(&ctx.graph).row(index, ctx.beta);
    v["@odata.context"] =
        json!(ctx.context("reports/authenticationMethods/userRegistrationDetails/$entity"));
    Ok(Json(v).into_response())
}

/// Whether a filter names a field, so defaults (interactive only) can step aside.
fn mentions(q: &Query, field: &str) -> bool {
    q.raw
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("$filter") && v.contains(field))
}

/// The oldest time the 30-day logs keep, by the simulated clock (whole seconds, as Graph's
/// times are).
fn log_window_start(graph: &Graph) -> Timestamp {
    let start = graph.clock.now() - SignedDuration::from_hours(30 * 24);
    Timestamp::from_second(start.as_second()).unwrap_or(start)
}

/// Merges two newest-first sequences into one.
fn merge_newest_first<T>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    at: impl Fn(&T) -> Timestamp,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if at(y) > at(x) => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// A sign-in row: generated (person, global index) or recorded live.
enum SignInRow {
    Generated(u32, u32),
    Live(LiveSignIn),
}

async fn sign_ins(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let top = page_size(&ids, &q, &LOG_PAGE)?;
    let graph = &ctx.graph;
    let pop = &graph.population;
    if let Some(p) = pop.people.iter().find(|p| p.sign_ins.1 > 0) {
        let s = &pop.sign_ins_of(p)[0];
        check_filter(&ids, &q, |n| render::sign_in_field(pop, p, s, n))?;
    }
    ctx.charge(&claims, &ids, Limit::Reports, 1.0)?;
    let all_types = mentions(&q, "signInEventTypes") || mentions(&q, "isInteractive");
    let oldest = log_window_start(graph);
    let keep = |p: &Person, n: u32| {
        let s = &pop.sign_ins[n as usize];
        (all_types || s.interactive)
            && pop.sign_in_time(s) >= oldest
            && matches(&q.filter, |f| render::sign_in_field(pop, p, s, f))
    };
    let pinned = q.filter.as_ref().and_then(|f| f.pinned("userId"));
    let mut live: Vec<LiveSignIn> = graph
        .live()
        .sign_ins
        .iter()
        .filter(|s| s.at >= oldest && matches(&q.filter, |f| live::sign_in_field(pop, s, f)))
        .cloned()
        .collect();
    live.sort_by_key(|s| std::cmp::Reverse(s.at));
    let render_row = |row: SignInRow| match row {
        SignInRow::Generated(i, n) => {
            let p = &pop.people[i as usize];
            render::sign_in(pop, p, n as usize, &pop.sign_ins[n as usize], ctx.beta)
        }
        SignInRow::Live(s) => live::render_sign_in(pop, &s, ctx.beta),
    };
    let Some(users) = pinned else {
        // Tenant-wide: the skip token is a cursor into (live rows, the generated index).
        let newest = &graph.sign_in_index().newest_first;
        let (live_from, gen_from) = unpack_cursor(q.skip);
        let generated = newest
            .iter()
            .enumerate()
            .skip(gen_from)
            .map(|(k, &n)| (k + 1, graph.owner_of(n), n))
            .filter(|&(_, i, n)| keep(&pop.people[i as usize], n));
        let items = merge_at_cursor(live, live_from, generated, newest.len(), |n| {
            pop.sign_in_time(&pop.sign_ins[n as usize])
        });
        return Ok(page_at_cursor(
            &ctx,
            "/auditLogs/signIns",
            "auditLogs/signIns",
            &q,
            top,
            items,
            render_row,
        ));
    };
    let mut found: Vec<(u32, u32)> = users
        .iter()
        .filter_map(|u| pop.index_of(u))
        .flat_map(|i| {
            let (start, len) = pop.people[i as usize].sign_ins;
            (start..start + len).map(move |n| (i, n))
        })
        .filter(|&(i, n)| keep(&pop.people[i as usize], n))
        .collect();
    found.sort_by_key(|&(_, n)| std::cmp::Reverse(pop.sign_ins[n as usize].at));
    let time_of = |row: &SignInRow| match row {
        SignInRow::Generated(_, n) => pop.sign_in_time(&pop.sign_ins[*n as usize]),
        SignInRow::Live(s) => s.at,
    };
    let items = merge_newest_first(
        live.into_iter().map(SignInRow::Live),
        found.into_iter().map(|(i, n)| SignInRow::Generated(i, n)),
        time_of,
    );
    Ok(page(
        &ctx,
        "/auditLogs/signIns",
        "auditLogs/signIns",
        &q,
        top,
        items,
        render_row,
    ))
}

/// Bits of a sign-in cursor that hold the position in the generated index.
const CURSOR_GENERATED_BITS: u32 = 40;

fn unpack_cursor(raw: usize) -> (usize, usize) {
    let raw = raw as u64;
    (
        (raw >> CURSOR_GENERATED_BITS) as usize,
        (raw & ((1 << CURSOR_GENERATED_BITS) - 1)) as usize,
    )
}

fn pack_cursor(live: usize, generated: usize) -> usize {
    ((live as u64) << CURSOR_GENERATED_BITS | generated as u64) as usize
}

/// Merges newest-first live sign-ins (from `live_from`) with the filtered generated index
/// (items carry the raw position after them), tagging each row with the cursor after it.
fn merge_at_cursor(
    live: Vec<LiveSignIn>,
    live_from: usize,
    generated: impl Iterator<Item = (usize, u32, u32)>,
    generated_len: usize,
    time_of: impl Fn(u32) -> Timestamp,
) -> impl Iterator<Item = (usize, SignInRow)> {
    let live_len = live.len();
    let mut live = live.into_iter().enumerate().skip(live_from).peekable();
    let mut generated = generated.peekable();
    std::iter::from_fn(move || {
        let take_live = match (live.peek(), generated.peek()) {
            (Some((_, s)), Some(&(_, _, n))) => s.at >= time_of(n),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_live {
            let (j, s) = live.next()?;
            let gen_at = generated
                .peek()
                .map_or(generated_len, |&(after, _, _)| after - 1);
            Some((pack_cursor(j + 1, gen_at), SignInRow::Live(s)))
        } else {
            let (after, i, n) = generated.next()?;
            let live_at = live.peek().map_or(live_len, |(j, _)| *j);
            Some((pack_cursor(live_at, after), SignInRow::Generated(i, n)))
        }
    })
}

/// An audit row: generated or written live.
enum AuditRow<'a> {
    Generated(&'a super::population::AuditEvent),
    Live(LiveAudit),
}

async fn directory_audits(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let top = page_size(&ids, &q, &LOG_PAGE)?;
    let pop = &ctx.graph.population;
    if let Some(e) = pop.audits.first() {
        check_filter(&ids, &q, |n| render::audit_field(pop, e, n))?;
    }
    ctx.charge(&claims, &ids, Limit::Reports, 1.0)?;
    let oldest = log_window_start(&ctx.graph);
    let keep = |e: &super::population::AuditEvent| {
        e.at >= oldest && matches(&q.filter, |n| render::audit_field(pop, e, n))
    };
    let mut live: Vec<LiveAudit> = ctx
        .graph
        .live()
        .audits
        .iter()
        .filter(|a| keep(&a.event))
        .cloned()
        .collect();
    live.sort_by_key(|a| std::cmp::Reverse(a.event.at));
    let generated = pop
        .audits
        .iter()
        .rev()
        .filter(|e| keep(e))
        .map(AuditRow::Generated);
    let items = merge_newest_first(
        live.into_iter().map(AuditRow::Live),
        generated,
        |row| match row {
            AuditRow::Generated(e) => e.at,
            AuditRow::Live(a) => a.event.at,
        },
    );
    Ok(page(
        &ctx,
        "/auditLogs/directoryAudits",
        "auditLogs/directoryAudits",
        &q,
        top,
        items,
        |row| match row {
            AuditRow::Generated(e) => render::audit(pop, e),
            AuditRow::Live(a) => live::render_audit(pop, &a),
        },
    ))
}

async fn list_devices(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    headers: HeaderMap,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    check_count(&ids, &q, &headers)?;
    let top = page_size(&ids, &q, &DIRECTORY_PAGE)?;
    let pop = &ctx.graph.population;
    if let Some(d) = pop.devices.first() {
        check_filter(&ids, &q, |n| render::device_field(d, n))?;
    }
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 2.0)?;
    let items = pop
        .devices
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_registered() && matches(&q.filter, |n| render::device_field(d, n)))
        .map(|(i, _)| i as u32);
    Ok(page(
        &ctx,
        "/devices",
        &select_context(&q, "devices"),
        &q,
        top,
        items,
        |i| render::device(pop, i, false),
    ))
}

async fn get_device(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 1.0)?;
    let pop = &ctx.graph.population;
    let wanted = Guid::parse(&id).ok_or_else(|| not_found(&ids, &id))?;
    let index = pop
        .devices
        .iter()
        .position(|d| d.id == wanted && d.is_registered())
        .ok_or_else(|| not_found(&ids, &id))?;
    let mut v = select(render::device(pop, index as u32, false), &q);
    v["@odata.context"] = json!(ctx.context("devices/$entity"));
    Ok(Json(v).into_response())
}

fn find_group(groups: &[GroupState], ids: &Ids, id: &str) -> Result<usize, Failure> {
    Guid::parse(id)
        .and_then(|gid| groups.iter().position(|g| g.id == gid))
        .ok_or_else(|| not_found(ids, id))
}

async fn get_group(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
) -> Reply {
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 1.0)?;
    let groups = ctx.graph.groups.read().unwrap_or_else(|e| e.into_inner());
    let i = find_group(&groups, &ids, &id)?;
    let mut v = group_json(&groups[i]);
    if let Some(map) = v.as_object_mut() {
        map.remove("@odata.type");
    }
    v["@odata.context"] = json!(ctx.context("groups/$entity"));
    Ok(Json(v).into_response())
}

async fn group_members(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    headers: HeaderMap,
    Path(id): Path<String>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    check_count(&ids, &q, &headers)?;
    let top = page_size(&ids, &q, &DIRECTORY_PAGE)?;
    let properties = user_properties(&ids, &q)?;
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 3.0)?;
    let members = {
        let groups = ctx.graph.groups.read().unwrap_or_else(|e| e.into_inner());
        let i = find_group(&groups, &ids, &id)?;
        groups[i].members.clone()
    };
    let pop = &ctx.graph.population;
    Ok(page(
        &ctx,
        &format!("/groups/{id}/members"),
        "directoryObjects",
        &q,
        top,
        members.into_iter(),
        |m| {
            let mut v = json!({"@odata.type": "#microsoft.graph.user"});
            if let (Some(map), Value::Object(user)) = (
                v.as_object_mut(),
                render::user(&pop.people[m as usize], &properties),
            ) {
                map.extend(user);
            }
            v
        },
    ))
}

/// The object id at the end of an `@odata.id` reference.
fn referenced_id(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let reference = v.get("@odata.id")?.as_str()?;
    let id = reference.trim_end_matches('/').rsplit('/').next()?;
    let id = id
        .strip_prefix("directoryObjects('")
        .and_then(|r| r.strip_suffix("')"))
        .unwrap_or(id);
    Some(id.to_owned())
}

async fn add_member(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Reply {
    let member = referenced_id(&body).ok_or_else(|| {
        error(
            &ids,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid object identifier: the request body must carry '@odata.id'.",
        )
    })?;
    ctx.charge(&claims, &ids, Limit::DirectoryWrite, 1.0)?;
    let mut groups = ctx.graph.groups.write().unwrap_or_else(|e| e.into_inner());
    let g = find_group(&groups, &ids, &id)?;
    let (index, _) = ctx.person(&ids, &member)?;
    if groups[g].members.contains(&index) {
        return Err(error(
            &ids,
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            ALREADY_MEMBER,
        ));
    }
    groups[g].members.push(index);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_member(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path((id, member)): Path<(String, String)>,
) -> Reply {
    ctx.charge(&claims, &ids, Limit::DirectoryWrite, 1.0)?;
    let mut groups = ctx.graph.groups.write().unwrap_or_else(|e| e.into_inner());
    let g = find_group(&groups, &ids, &id)?;
    let (index, _) = ctx.person(&ids, &member)?;
    let Some(at) = groups[g].members.iter().position(|&m| m == index) else {
        return Err(error(
            &ids,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            "One or more removed object references do not exist for the following modified properties: 'members'.",
        ));
    };
    groups[g].members.remove(at);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRequest {
    id: String,
    method: String,
    url: String,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    depends_on: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct BatchBody {
    requests: Vec<BatchRequest>,
}

/// `POST /$batch`: runs each request through the same routes, in order, and reports each
/// one's status, headers and body; a failed dependency gives 424.
async fn batch(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Reply {
    let invalid = |message: &str| error(&ids, StatusCode::BAD_REQUEST, "BadRequest", message);
    let batch: BatchBody =
        serde_json::from_slice(&body).map_err(|_| invalid("Invalid batch payload format."))?;
    if batch.requests.len() > MAX_BATCH_REQUESTS {
        return Err(invalid(
            "Number of batch requests exceeded the maximum of 20.",
        ));
    }
    for (n, r) in batch.requests.iter().enumerate() {
        if batch.requests[..n].iter().any(|o| o.id == r.id) {
            return Err(invalid(&format!(
                "Batch request id '{}' is duplicated.",
                r.id
            )));
        }
        if let Some(d) = r
            .depends_on
            .iter()
            .find(|d| !batch.requests[..n].iter().any(|o| &o.id == *d))
        {
            return Err(invalid(&format!(
                "Request '{}' depends on '{d}', which is not an earlier request in the batch.",
                r.id
            )));
        }
        if r.url.contains("$batch") {
            return Err(invalid("Nested batch requests are not supported."));
        }
    }
    let service = routes(ctx.graph.clone());
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::with_capacity(batch.requests.len());
    for r in batch.requests {
        if r.depends_on
            .iter()
            .any(|d| statuses.get(d).is_none_or(|s| !(200..300).contains(s)))
        {
            statuses.insert(r.id.clone(), 424);
            responses.push(json!({
                "id": r.id,
                "status": 424,
                "headers": {"Content-Type": "application/json"},
                "body": error_body(&ids, "FailedDependency", "The request could not be processed because a request it depends on failed."),
            }));
            continue;
        }
        let (status, inner_headers, inner_body) = run_inner(&ctx, &service, &headers, &r).await;
        statuses.insert(r.id.clone(), status);
        let mut entry = json!({"id": r.id, "status": status, "headers": inner_headers});
        if let Some(b) = inner_body {
            entry["body"] = b;
        }
        responses.push(entry);
    }
    Ok(Json(json!({"responses": responses})).into_response())
}

async fn run_inner(
    ctx: &Ctx,
    service: &Router,
    outer: &HeaderMap,
    r: &BatchRequest,
) -> (u16, Value, Option<Value>) {
    let path = if r.url.starts_with('/') {
        r.url.clone()
    } else {
        format!("/{}", r.url)
    };
    let method =
        HttpMethod::from_bytes(r.method.to_ascii_uppercase().as_bytes()).unwrap_or(HttpMethod::GET);
    let mut builder = axum::http::Request::builder()
        .method(method)
        .uri(format!("/{}{path}", ctx.version()));
    for name in [header::AUTHORIZATION.as_str(), "client-request-id"] {
        if let Some(v) = outer.get(name) {
            builder = builder.header(name, v);
        }
    }
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body = r
        .body
        .as_ref()
        .map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let Ok(request) = builder.body(body) else {
        return (400, json!({}), None);
    };
    let response = match service.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for (name, key) in [
        ("content-type", "Content-Type"),
        ("retry-after", "Retry-After"),
        ("location", "Location"),
        ("x-ms-resource-unit", "x-ms-resource-unit"),
        (
            "x-ms-throttle-limit-percentage",
            "x-ms-throttle-limit-percentage",
        ),
        ("x-ms-throttle-scope", "x-ms-throttle-scope"),
        ("x-ms-throttle-information", "x-ms-throttle-information"),
    ] {
        if let Some(v) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
            headers.insert(key.into(), json!(v));
        }
    }
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap_or(Value::Null));
    (status, Value::Object(headers), body)
}

/// The catalog id in a `teamsApp@odata.bind` reference.
fn bound_teams_app(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let reference = v.get("teamsApp@odata.bind")?.as_str()?;
    let last = reference.trim_end_matches('/').rsplit('/').next()?;
    let id = last
        .strip_prefix("teamsApps('")
        .and_then(|r| r.strip_suffix("')"))
        .unwrap_or(last);
    (!id.is_empty() && id != "teamsApps").then(|| id.to_owned())
}

fn teams_app_json(graph: &Graph, app: &str) -> Value {
    json!({
        "id": app,
        "externalId": Value::Null,
        "displayName": graph.teams_app_name(app),
        "distributionMethod": "organization",
    })
}

fn installation_json(graph: &Graph, i: &Installation, expand: Option<&str>) -> Value {
    let mut v = json!({"id": i.id, "consentedPermissionSet": Value::Null});
    for part in expand.unwrap_or("").split(',').map(str::trim) {
        if part.eq_ignore_ascii_case("teamsApp") {
            v["teamsApp"] = teams_app_json(graph, &i.teams_app_id);
        }
    }
    v
}

/// `POST /users/{id}/teamwork/installedApps`: installs the app in the person's personal
/// scope (201, no body, as documented), or 409 when it is there already (status as seen in
/// public reports; the `Conflict` code and message text could not be verified).
async fn install_app(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Reply {
    let app = bound_teams_app(&body).ok_or_else(|| {
        error(
            &ids,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The request body must carry 'teamsApp@odata.bind'.",
        )
    })?;
    let (index, p) = ctx.person(&ids, &id)?;
    let graph = &ctx.graph;
    let installation = {
        let mut live = graph.live_mut();
        if live
            .installations
            .iter()
            .any(|(i, inst)| *i == index && inst.teams_app_id.eq_ignore_ascii_case(&app))
        {
            return Err(error(
                &ids,
                StatusCode::CONFLICT,
                "Conflict",
                "App is already installed.",
            ));
        }
        let user = p.id.to_string();
        let installation = Installation {
            id: live::installation_id(&user, &app),
            // Teams' 1:1 chat ids with an app look like `19:{user}_{bot}@unq.gbl.spaces`; the
            // simulator has no bot id for a catalog app, so the catalog id stands in.
            chat_id: format!("19:{user}_{app}@unq.gbl.spaces"),
            user_id: user,
            teams_app_id: app,
            installed: graph.clock.now(),
        };
        live.installations.push((index, installation.clone()));
        installation
    };
    let _ = graph.installed.send(installation);
    Ok(StatusCode::CREATED.into_response())
}

fn installations_of(graph: &Graph, index: u32) -> Vec<Installation> {
    graph
        .live()
        .installations
        .iter()
        .filter(|(i, _)| *i == index)
        .map(|(_, inst)| inst.clone())
        .collect()
}

async fn list_installed_apps(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Path(id): Path<String>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let (index, p) = ctx.person(&ids, &id)?;
    let field = |inst: &Installation, name: &str| -> Option<FieldValue<'static>> {
        match name {
            "teamsApp/id" => Some(FieldValue::Owned(inst.teams_app_id.clone())),
            "id" => Some(FieldValue::Owned(inst.id.clone())),
            _ => None,
        }
    };
    let probe = Installation {
        id: String::new(),
        user_id: String::new(),
        teams_app_id: String::new(),
        chat_id: String::new(),
        installed: Timestamp::UNIX_EPOCH,
    };
    check_filter(&ids, &q, |n| field(&probe, n))?;
    let value: Vec<Value> = installations_of(&ctx.graph, index)
        .iter()
        .filter(|inst| matches(&q.filter, |n| field(inst, n)))
        .map(|inst| installation_json(&ctx.graph, inst, q.expand.as_deref()))
        .collect();
    let expanded = if q.expand.is_some() {
        "(teamsApp())"
    } else {
        ""
    };
    Ok(Json(json!({
        "@odata.context": ctx.context(&format!("users('{}')/teamwork/installedApps{expanded}", p.id)),
        "value": value,
    }))
    .into_response())
}

fn find_installation(
    ctx: &Ctx,
    ids: &Ids,
    id: &str,
    installation: &str,
) -> Result<(Installation, String), Failure> {
    let (index, p) = ctx.person(ids, id)?;
    installations_of(&ctx.graph, index)
        .into_iter()
        .find(|i| i.id == installation)
        .map(|i| (i, p.id.to_string()))
        .ok_or_else(|| {
            error(
                ids,
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("The installed app '{installation}' was not found."),
            )
        })
}

async fn get_installed_app(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Path((id, installation)): Path<(String, String)>,
    request: Request,
) -> Reply {
    let q = parse_query(&ids, request.uri().query())?;
    let (inst, user) = find_installation(&ctx, &ids, &id, &installation)?;
    let mut v = installation_json(&ctx.graph, &inst, q.expand.as_deref());
    v["@odata.context"] =
        json!(ctx.context(&format!("users('{user}')/teamwork/installedApps/$entity")));
    Ok(Json(v).into_response())
}

async fn uninstall_app(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Path((id, installation)): Path<(String, String)>,
) -> Reply {
    let (inst, _) = find_installation(&ctx, &ids, &id, &installation)?;
    ctx.graph
        .live_mut()
        .installations
        .retain(|(_, i)| i.id != inst.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET …/installedApps/{id}/chat`: the 1:1 chat between the person and the app.
async fn installed_app_chat(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Path((id, installation)): Path<(String, String)>,
) -> Reply {
    let (inst, user) = find_installation(&ctx, &ids, &id, &installation)?;
    let created = render::time(inst.installed);
    let tenant = ctx.graph.identity.tenant_id().to_owned();
    let web_url = format!(
        "https://teams.microsoft.com/l/chat/{}/0?tenantId={tenant}",
        inst.chat_id.replace(':', "%3A")
    );
    Ok(Json(json!({
        "@odata.context": ctx.context(&format!("users('{user}')/teamwork/installedApps('{}')/chat/$entity", inst.id)),
        "id": inst.chat_id,
        "topic": Value::Null,
        "createdDateTime": created,
        "lastUpdatedDateTime": created,
        "chatType": "oneOnOne",
        "webUrl": web_url,
        "tenantId": tenant,
        "onlineMeetingInfo": Value::Null,
        "viewpoint": Value::Null,
        "isHiddenForAllMembers": false,
    }))
    .into_response())
}

async fn methods_policy(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
) -> Reply {
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 1.0)?;
    let (policy, changed) = ctx
        .graph
        .policy
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut v = policy.methods_policy(&render::time(changed));
    v["@odata.context"] = json!(ctx.context("policies/authenticationMethodsPolicy/$entity"));
    Ok(Json(v).into_response())
}

/// `GET …/authenticationMethodConfigurations/{id}`; the fido2 one always carries its
/// passkey profiles, so `$expand=passkeyProfiles` is tolerated rather than needed.
async fn method_configuration(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path(method): Path<String>,
) -> Reply {
    ctx.charge(&claims, &ids, Limit::DirectoryRead, 1.0)?;
    let (policy, changed) = ctx
        .graph
        .policy
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut v = if method.eq_ignore_ascii_case("fido2") {
        policy.configuration()
    } else {
        policy.methods_policy(&render::time(changed))["authenticationMethodConfigurations"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|c| {
                        c["id"]
                            .as_str()
                            .is_some_and(|i| i.eq_ignore_ascii_case(&method))
                    })
                    .cloned()
            })
            .ok_or_else(|| not_found(&ids, &method))?
    };
    v["@odata.context"] = json!(ctx.context(
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity"
    ));
    Ok(Json(v).into_response())
}

/// `DELETE /users/{id}/authentication/fido2Methods/{id}`: removes a passkey (e.g. one deleted
/// from the phone) at once from the per-user methods, from the report after the report lag,
/// with an "Admin deleted security info" audit event initiated by the app.
async fn delete_method(
    State(ctx): State<Ctx>,
    Extension(ids): Extension<Ids>,
    Extension(claims): Extension<AccessClaims>,
    Path((id, kind, method_id)): Path<(String, String, String)>,
) -> Reply {
    if kind != "fido2Methods" {
        return Err(error(
            &ids,
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest",
            &format!("The simulator deletes only fido2Methods, not {kind}."),
        ));
    }
    let (index, _) = ctx.person(&ids, &id)?;
    ctx.charge(&claims, &ids, Limit::DirectoryWrite, 1.0)?;
    let graph = &ctx.graph;
    let now = graph.clock.now();
    let (method, model) = graph
        .listed_methods(index, now)
        .into_iter()
        .find_map(|m| match m.kind {
            super::population::MethodKind::Fido2 { passkey, .. }
                if m.id.to_string().eq_ignore_ascii_case(&method_id) =>
            {
                Some((m.id, passkey))
            }
            _ => None,
        })
        .ok_or_else(|| not_found(&ids, &method_id))?;
    let mut live = graph.live_mut();
    live.deleted.entry(index).or_default().push((method, now));
    live.audits.push(LiveAudit {
        event: super::population::AuditEvent {
            id: Guid(uuid::Uuid::new_v4().as_u128()),
            at: now,
            person: index,
            activity: super::population::AuditActivity::AdminDeletedSecurityInfo,
            succeeded: true,
            reason: None,
            passkey: Some(model),
        },
        reason: None,
        by_app: Some(claims.appid.clone()),
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}
