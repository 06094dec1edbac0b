//! The simulated Microsoft Graph over HTTP: shapes against the examples of reference/graph.md
//! (tests/fixtures/graph), paging, `$top` limits, `$batch`, throttling, group membership and
//! authentication.

use std::collections::HashSet;
use std::sync::Arc;

use passkey_pilot::sim::graph::ALREADY_MEMBER;
use passkey_pilot::sim::population::{MethodKind, Person, Population};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

const APP_ID: &str = "00000000-0000-4000-8000-00000000c4a9";
const SECRET: &str = "sim-only-graph-secret";
/// What the bot is granted: every permission the tested routes need (reference/graph.md §1).
pub const ALL_ROLES: &[&str] = &[
    "User.Read.All",
    "AuditLog.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "Device.Read.All",
    "GroupMember.ReadWrite.All",
    "Policy.Read.AuthenticationMethod",
    "TeamsAppInstallation.ReadWriteSelfForUser.All",
];

struct Tenant {
    sim: Simulator,
    pop: Arc<Population>,
    token: String,
    http: reqwest::Client,
}

impl Tenant {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, _, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn post(
        &self,
        path: &str,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.json().await.unwrap_or(Value::Null))
    }

    fn person(&self, wanted: impl Fn(&Person) -> bool) -> &Person {
        self.pop
            .people
            .iter()
            .find(|p| wanted(p))
            .expect("such a person")
    }
}

/// A simulator with `users` people and a Graph token; `scale` multiplies throttling limits.
async fn tenant(users: usize, scale: f64) -> Tenant {
    let pop = Arc::new(Population::generate(users, 42, jiff::Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        population: Some(pop.clone()),
        graph_throttle_scale: scale,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    sim.register_graph_app(APP_ID, SECRET, ALL_ROLES);
    let http = reqwest::Client::new();
    let token = crate::helpers::graph_token(&http, &sim, APP_ID, SECRET).await;
    Tenant {
        sim,
        pop,
        token,
        http,
    }
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field of the reference example is present with the same JSON type (nulls in
/// either are allowed: Graph omits nothing but may null anything).
pub fn assert_shape(example: &Value, actual: &Value, at: &str) {
    match (example, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let av = a
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}.{key} is missing in {actual}"));
                assert_shape(ev, av, &format!("{at}.{key}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(ev), Some(av)) = (e.first(), a.first()) {
                assert_shape(ev, av, &format!("{at}[0]"));
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (e, a) => assert_eq!(kind(e), kind(a), "{at}: {a} is not like {e}"),
    }
}

#[tokio::test]
async fn requests_without_a_graph_token_get_graphs_401() {
    let t = tenant(20, 100.0).await;
    let r = t.http.get(t.url("/v1.0/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_shape(&fixture("error.json"), &body, "error");
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    // A token for the Bot Framework audience is not a Graph token.
    let bot: Value = t
        .http
        .post(t.sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", SECRET),
            ("scope", "https://api.botframework.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = t
        .http
        .get(t.url("/beta/users"))
        .bearer_auth(bot["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn paging_users_returns_every_user_exactly_once() {
    let t = tenant(230, 100.0).await;
    let mut seen = HashSet::new();
    let mut next = Some(t.url("/v1.0/users?$select=id,userPrincipalName&$top=50"));
    let mut pages = 0;
    while let Some(url) = next {
        let page: Value = t
            .http
            .get(&url)
            .bearer_auth(&t.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            page["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("$metadata#users(id,userPrincipalName)")
        );
        for user in page["value"].as_array().unwrap() {
            assert_eq!(user.as_object().unwrap().len(), 2, "{user}");
            assert!(
                seen.insert(user["id"].as_str().unwrap().to_owned()),
                "{user} twice"
            );
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(link) = &next {
            assert!(link.contains("$skiptoken="), "{link}");
        }
        pages += 1;
    }
    assert_eq!(pages, 5);
    let all: HashSet<String> = t.pop.people.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(seen, all);
}

#[tokio::test]
async fn users_have_the_reference_shape_and_filters() {
    let t = tenant(60, 100.0).await;
    let select = "id,userPrincipalName,displayName,mail,department,jobTitle,usageLocation,preferredLanguage,accountEnabled,userType";
    let page = t
        .ok(&format!("/v1.0/users?$select={select}&$top=999"))
        .await;
    let users = page["value"].as_array().unwrap();
    assert_eq!(users.len(), 60);
    assert!(page.get("@odata.nextLink").is_none());
    let employee = users
        .iter()
        .find(|u| u["mail"].is_string() && u["department"].is_string())
        .unwrap();
    assert_shape(&fixture("user.json"), employee, "user");

    let (a, b) = (&t.pop.people[3], &t.pop.people[7]);
    let one = t.ok(&format!("/v1.0/users?$filter=id eq '{}'", a.id)).await;
    assert_eq!(one["value"].as_array().unwrap().len(), 1);
    assert_eq!(one["value"][0]["id"], a.id.to_string());
    let by_upn = t
        .ok(&format!(
            "/v1.0/users?$filter=userPrincipalName eq '{}'",
            b.user_principal_name.to_uppercase()
        ))
        .await;
    assert_eq!(by_upn["value"][0]["id"], b.id.to_string());
    let both = t
        .ok(&format!(
            "/v1.0/users?$filter=id in ('{}', '{}')",
            a.id, b.id
        ))
        .await;
    assert_eq!(both["value"].as_array().unwrap().len(), 2);

    // $count needs ConsistencyLevel: eventual.
    let (status, _, _) = t.get("/v1.0/users?$count=true").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let counted: Value = t
        .http
        .get(t.url("/v1.0/users?$count=true&$top=5&$filter=accountEnabled eq true"))
        .bearer_auth(&t.token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let enabled = t.pop.people.iter().filter(|p| p.account_enabled).count();
    assert_eq!(counted["@odata.count"], enabled);
    assert_eq!(counted["value"].as_array().unwrap().len(), 5);

    let (status, _, body) = t.get("/v1.0/users?$select=id,shoeSize").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn top_above_the_limit_is_refused_for_users_and_capped_for_sign_ins() {
    let t = tenant(30, 100.0).await;
    let (status, _, body) = t.get("/v1.0/users?$top=1000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_shape(&fixture("error.json"), &body, "error");
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 999")
    );

    let page = t.ok("/beta/auditLogs/signIns?$top=5000").await;
    assert!(page["value"].as_array().unwrap().len() <= 1000);
}

#[tokio::test]
async fn registration_details_match_the_reference_example() {
    let t = tenant(80, 100.0).await;
    let page = t
        .ok("/v1.0/reports/authenticationMethods/userRegistrationDetails")
        .await;
    let rows = page["value"].as_array().unwrap();
    assert_eq!(rows.len(), 80);
    let example = fixture("userRegistrationDetails.json");
    for row in rows {
        assert_shape(&example, row, "userRegistrationDetails");
    }
    let passkey = t
        .ok("/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=methodsRegistered/any(x:x eq 'passKeyDeviceBoundAuthenticator')")
        .await;
    for row in passkey["value"].as_array().unwrap() {
        assert!(row["isPasswordlessCapable"].as_bool().unwrap());
    }
    let mfa = t
        .ok("/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=isMfaRegistered eq false&$top=3")
        .await;
    for row in mfa["value"].as_array().unwrap() {
        assert_eq!(row["methodsRegistered"], json!([]));
    }
}

fn has_method(p: &Person, f: impl Fn(&MethodKind) -> bool) -> bool {
    p.methods.iter().any(|m| f(&m.kind))
}

#[tokio::test]
async fn authentication_methods_have_graphs_shapes() {
    let t = tenant(300, 100.0).await;
    let with_passkey = t.person(|p| has_method(p, |k| matches!(k, MethodKind::Fido2 { .. })));
    let all = t
        .ok(&format!(
            "/v1.0/users/{}/authentication/methods",
            with_passkey.id
        ))
        .await;
    let types: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"#microsoft.graph.fido2AuthenticationMethod"),
        "{types:?}"
    );

    let fido2 = t
        .ok(&format!(
            "/beta/users/{}/authentication/fido2Methods",
            with_passkey.id
        ))
        .await;
    let example = fixture("fido2Method.json");
    let mut example_without_type = example.clone();
    example_without_type
        .as_object_mut()
        .unwrap()
        .remove("@odata.type");
    for method in fido2["value"].as_array().unwrap() {
        assert_shape(&example_without_type, method, "fido2Method");
        assert!(
            method.get("lastUsedDateTime").is_some(),
            "beta has lastUsedDateTime"
        );
    }
    let in_list = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethod")
        .unwrap();
    assert_shape(&example, in_list, "methods[fido2]");

    let with_whfb = t.person(|p| {
        has_method(p, |k| {
            matches!(k, MethodKind::WindowsHelloForBusiness { .. })
        })
    });
    let whfb = t
        .ok(&format!(
            "/v1.0/users/{}/authentication/windowsHelloForBusinessMethods",
            with_whfb.id
        ))
        .await;
    let first = &whfb["value"][0];
    assert!(first["displayName"].is_string() && first["keyStrength"].is_string());
    assert!(
        first.get("device").is_none(),
        "device only with $expand on a single GET"
    );
    let one = t
        .ok(&format!(
            "/v1.0/users/{}/authentication/windowsHelloForBusinessMethods/{}?$expand=device",
            with_whfb.id,
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_shape(&fixture("device.json"), &one["device"], "whfb.device");

    let with_app = t.person(|p| {
        has_method(p, |k| {
            matches!(k, MethodKind::MicrosoftAuthenticator { .. })
        })
    });
    let app = t
        .ok(&format!(
            "/v1.0/users/{}/authentication/microsoftAuthenticatorMethods",
            with_app.id
        ))
        .await;
    assert!(app["value"][0]["phoneAppVersion"].is_string());
    let with_phone = t.person(|p| has_method(p, |k| matches!(k, MethodKind::Phone { .. })));
    let phone = t
        .ok(&format!(
            "/v1.0/users/{}/authentication/phoneMethods",
            with_phone.id
        ))
        .await;
    assert_eq!(phone["value"][0]["phoneType"], "mobile");
    assert!(phone["value"][0]["phoneNumber"].is_string());

    let (status, _, body) = t
        .get("/v1.0/users/00000000-0000-4000-8000-000000000000/authentication/methods")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");
}

#[tokio::test]
async fn a_temporary_access_pass_is_created_once_and_listed_without_its_code() {
    let t = tenant(20, 100.0).await;
    let person = &t.pop.people[4];
    let path = format!(
        "/v1.0/users/{}/authentication/temporaryAccessPassMethods",
        person.id
    );
    let (status, _, created) = t
        .post(
            &path,
            &json!({"lifetimeInMinutes": 60, "isUsableOnce": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_shape(&fixture("temporaryAccessPass.json"), &created, "tap");
    assert_eq!(created["temporaryAccessPass"].as_str().unwrap().len(), 8);
    let listed = t.ok(&path).await;
    assert_eq!(listed["value"][0]["id"], created["id"]);
    assert!(listed["value"][0]["temporaryAccessPass"].is_null());
    let (status, _, _) = t.post(&path, &json!({"lifetimeInMinutes": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sign_ins_have_the_beta_shape_and_filter_by_user_and_time() {
    let t = tenant(120, 100.0).await;
    let person = t.person(|p| p.sign_ins.1 > 20);
    let since = t.pop.now - jiff::SignedDuration::from_hours(24 * 10);
    let page = t
        .ok(&format!(
            "/beta/auditLogs/signIns?$filter=userId eq '{}' and createdDateTime ge {}&$top=1000",
            person.id,
            jiff::Timestamp::from_second(since.as_second()).unwrap()
        ))
        .await;
    let rows = page["value"].as_array().unwrap();
    assert!(!rows.is_empty());
    let example = fixture("signIn-beta.json");
    let mut previous = None;
    for row in rows {
        assert_shape(&example, row, "signIn");
        assert_eq!(row["userId"], person.id.to_string());
        assert_eq!(row["isInteractive"], true);
        let at: jiff::Timestamp = row["createdDateTime"].as_str().unwrap().parse().unwrap();
        assert!(at >= jiff::Timestamp::from_second(since.as_second()).unwrap());
        if let Some(p) = previous {
            assert!(at <= p, "newest first");
        }
        previous = Some(at);
        assert!(row["userAgent"].as_str().unwrap().len() > 10);
    }
    let expected = t
        .pop
        .sign_ins_of(person)
        .iter()
        .filter(|s| s.interactive && t.pop.sign_in_time(s).as_second() >= since.as_second())
        .count();
    assert_eq!(rows.len(), expected);

    let v1 = t
        .ok(&format!(
            "/v1.0/auditLogs/signIns?$filter=userId eq '{}'&$top=1",
            person.id
        ))
        .await;
    assert!(
        v1["value"][0].get("authenticationDetails").is_none(),
        "beta only"
    );
    assert!(v1["@odata.nextLink"].is_string());

    let everyone = t.ok("/beta/auditLogs/signIns?$top=3").await;
    assert_eq!(everyone["value"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn directory_audits_show_registration_events_including_failures() {
    let t = tenant(400, 100.0).await;
    let page = t
        .ok("/v1.0/auditLogs/directoryAudits?$filter=loggedByService eq 'Authentication Methods'")
        .await;
    let rows = page["value"].as_array().unwrap();
    let in_window = t
        .pop
        .audits
        .iter()
        .filter(|e| e.at >= t.pop.window_start)
        .count();
    assert!(in_window > 0);
    assert_eq!(rows.len(), in_window.min(1000));
    let example = fixture("directoryAudit.json");
    for row in rows {
        assert_shape(&example, row, "directoryAudit");
    }
    assert!(
        rows.iter().any(|r| r["result"] == "failure"),
        "some registrations fail"
    );
    let failures = t
        .ok("/v1.0/auditLogs/directoryAudits?$filter=result eq 'failure'")
        .await;
    assert!(
        failures["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "failure")
    );
}

#[tokio::test]
async fn devices_and_registered_devices_carry_os_versions() {
    let t = tenant(60, 100.0).await;
    let page = t.ok("/v1.0/devices?$top=999").await;
    let example = fixture("device.json");
    for device in page["value"].as_array().unwrap() {
        assert_shape(&example, device, "device");
        assert!(
            !device["operatingSystemVersion"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }
    let owner = t.person(|p| {
        p.devices.iter().any(|&d| {
            t.pop.devices[d as usize].is_registered() && t.pop.devices[d as usize].owner.is_some()
        })
    });
    let mine = t
        .ok(&format!("/v1.0/users/{}/registeredDevices", owner.id))
        .await;
    let first = &mine["value"][0];
    assert_eq!(first["@odata.type"], "#microsoft.graph.device");
    assert_shape(&example, first, "registeredDevice");
    let one = t
        .ok(&format!("/v1.0/devices/{}", first["id"].as_str().unwrap()))
        .await;
    assert_eq!(one["deviceId"], first["deviceId"]);
}

#[tokio::test]
async fn group_membership_is_held_and_adding_twice_gives_graphs_400() {
    let t = tenant(40, 100.0).await;
    let graph = t.sim.graph().unwrap();
    let group = graph.enforced_group_id();
    let person = &t.pop.people[5];
    let reference = fixture("groupMemberRef.json")["@odata.id"]
        .as_str()
        .unwrap()
        .replace("{userId}", &person.id.to_string());
    let add = format!("/v1.0/groups/{group}/members/$ref");
    let (status, _, _) = t.post(&add, &json!({"@odata.id": reference})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = t.post(&add, &json!({"@odata.id": reference})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "Request_BadRequest");
    assert_eq!(body["error"]["message"], ALREADY_MEMBER);
    assert_shape(&fixture("error.json"), &body, "error");

    let control: Value = t
        .http
        .get(t.url(&format!("/_sim/groups/{group}/members")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(control["members"], json!([person.id.to_string()]));
    let members = t.ok(&format!("/v1.0/groups/{group}/members")).await;
    assert_eq!(members["value"][0]["id"], person.id.to_string());

    let (status, _, checked) = t
        .post(
            &format!("/v1.0/users/{}/checkMemberGroups", person.id),
            &json!({"groupIds": [group, "00000000-0000-4000-8000-000000000001"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(checked["value"], json!([group]));
    let member_of = t
        .ok(&format!("/v1.0/users/{}/transitiveMemberOf", person.id))
        .await;
    assert!(
        member_of["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == group.as_str())
    );
    let (status, _, _) = t
        .post(
            &format!("/v1.0/users/{}/checkMemberGroups", person.id),
            &json!({"groupIds": vec![group.clone(); 21]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let remove = t
        .http
        .delete(t.url(&format!("/v1.0/groups/{group}/members/{}/$ref", person.id)))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(remove.status(), StatusCode::NO_CONTENT);
    assert_eq!(graph.group_members(&group).unwrap(), Vec::<String>::new());
    let again = t
        .http
        .delete(t.url(&format!("/v1.0/groups/{group}/members/{}/$ref", person.id)))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn batch_answers_each_request_and_refuses_more_than_twenty() {
    let t = tenant(30, 100.0).await;
    let person = t.pop.people[2].id.to_string();
    let mut batch = fixture("batch.json");
    for r in batch["requests"].as_array_mut().unwrap() {
        let url = r["url"].as_str().unwrap().replace("1f0c…", &person);
        r["url"] = json!(url);
    }
    batch["requests"].as_array_mut().unwrap().push(json!({
        "id": "3", "method": "GET", "url": "/users/00000000-0000-4000-8000-000000000000", "dependsOn": []
    }));
    batch["requests"].as_array_mut().unwrap().push(json!({
        "id": "4", "method": "GET", "url": "/users?$top=1", "dependsOn": ["3"]
    }));
    let (status, _, body) = t.post("/v1.0/$batch", &batch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let responses = body["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[0]["id"], "1");
    assert_eq!(responses[0]["status"], 200);
    assert!(responses[0]["body"]["value"].is_array());
    assert!(responses[0]["headers"].is_object());
    assert_eq!(responses[2]["status"], 404);
    assert_eq!(responses[3]["status"], 424);

    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users?$top=1"}))
        .collect();
    let (status, _, body) = t.post("/v1.0/$batch", &json!({"requests": too_many})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_shape(&fixture("error.json"), &body, "error");
}

#[tokio::test]
async fn reports_are_throttled_at_five_requests_per_ten_seconds() {
    let t = tenant(20, 1.0).await;
    let path = "/v1.0/reports/authenticationMethods/userRegistrationDetails";
    for _ in 0..5 {
        t.ok(path).await;
    }
    let (status, headers, body) = t.get(path).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_shape(&fixture("error.json"), &body, "error");
    // Directory reads have their own, far larger budget.
    t.ok("/v1.0/users?$top=1").await;
}

#[tokio::test]
async fn a_throttled_request_inside_a_batch_gets_its_own_429() {
    let t = tenant(20, 1.0).await;
    let person = t.pop.people[1].id.to_string();
    let requests: Vec<Value> = (0..7)
        .map(|i| {
            json!({"id": i.to_string(), "method": "GET",
                   "url": format!("/users/{person}/authentication/fido2Methods")})
        })
        .collect();
    let (status, _, body) = t.post("/v1.0/$batch", &json!({"requests": requests})).await;
    assert_eq!(status, StatusCode::OK);
    let responses = body["responses"].as_array().unwrap();
    assert!(responses[..5].iter().all(|r| r["status"] == 200), "{body}");
    let throttled = &responses[6];
    assert_eq!(throttled["status"], 429);
    assert!(
        throttled["headers"]["Retry-After"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(throttled["body"]["error"]["code"], "TooManyRequests");
}

#[tokio::test]
async fn injected_graph_faults_use_graphs_error_body() {
    let t = tenant(10, 100.0).await;
    let r = t
        .http
        .put(t.url("/_sim/faults/graph"))
        .json(&json!({"statuses": [503], "retry_after_secs": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, headers, body) = t.get("/v1.0/users").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "3");
    assert_shape(&fixture("error.json"), &body, "error");
    t.ok("/v1.0/users").await;
}

#[tokio::test]
async fn non_interactive_sign_ins_appear_only_when_asked_for() {
    let t = tenant(80, 100.0).await;
    let person = t.person(|p| t.pop.sign_ins_of(p).iter().any(|s| !s.interactive));
    let page = t
        .ok(&format!(
            "/beta/auditLogs/signIns?$filter=userId eq '{}' and signInEventTypes/any(t: t eq 'nonInteractiveUser')",
            person.id
        ))
        .await;
    let rows = page["value"].as_array().unwrap();
    let expected = t
        .pop
        .sign_ins_of(person)
        .iter()
        .filter(|s| !s.interactive)
        .count();
    assert_eq!(rows.len(), expected);
    assert!(
        rows.iter().all(|r| r["isInteractive"] == false
            && r["signInEventTypes"] == json!(["nonInteractiveUser"]))
    );

    // Tenant-wide, newest first across people, every interactive sign-in once.
    let mut ids = HashSet::new();
    let mut last: Option<String> = None;
    let mut next = Some(t.url("/v1.0/auditLogs/signIns?$top=400"));
    while let Some(url) = next {
        let page: Value = t
            .http
            .get(&url)
            .bearer_auth(&t.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for row in page["value"].as_array().unwrap() {
            let at = row["createdDateTime"].as_str().unwrap().to_owned();
            if let Some(previous) = &last {
                assert!(at <= *previous, "newest first");
            }
            last = Some(at);
            assert!(ids.insert(row["id"].as_str().unwrap().to_owned()));
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    let interactive = t.pop.sign_ins.iter().filter(|s| s.interactive).count();
    assert_eq!(ids.len(), interactive);
}
