//! Live changes over the simulated Graph: passkeys registered while it runs (with the method
//! and report lags on the simulated clock), their audit events, recorded sign-ins, Teams app
//! installations, application permissions (403s, also inside `$batch`), throttling headers
//! and the tenant's passkey policy.

use std::sync::Arc;

use passkey_pilot::sim::graph::{PasskeyKind, PasskeyRegistration, SignInRecord};
use passkey_pilot::sim::population::{
    MethodKind, PasskeyModel, Person, Platform, Population, SignInAuth,
};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::graph_sim::{ALL_ROLES, assert_shape, fixture};

const APP_ID: &str = "00000000-0000-4000-8000-00000000b0a7";
const SECRET: &str = "sim-only-live-secret";

struct Tenant {
    sim: Simulator,
    pop: Arc<Population>,
    token: String,
    http: reqwest::Client,
}

/// A simulator over `users` people whose app holds `roles`; `scale` multiplies throttling.
async fn tenant(users: usize, scale: f64, roles: &[&str]) -> Tenant {
    let pop = Arc::new(Population::generate(users, 7, jiff::Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        population: Some(pop.clone()),
        graph_throttle_scale: scale,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    sim.register_graph_app(APP_ID, SECRET, roles);
    let http = reqwest::Client::new();
    let token = crate::helpers::graph_token(&http, &sim, APP_ID, SECRET).await;
    Tenant {
        sim,
        pop,
        token,
        http,
    }
}

impl Tenant {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    async fn get_with(&self, token: &str, path: &str) -> (StatusCode, HeaderMap, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, HeaderMap, Value) {
        self.get_with(&self.token, path).await
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, _, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn post_with(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Control API call (no token).
    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .request(method, self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn advance(&self, seconds: i64) {
        let (status, _) = self
            .control(
                reqwest::Method::POST,
                "/_sim/time/advance",
                &json!({"seconds": seconds}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }

    /// Someone with an own device on `platform` and no passkey yet, and that device.
    fn person_with(&self, platform: Platform) -> (&Person, String) {
        self.pop
            .people
            .iter()
            .find_map(|p| {
                let has = p
                    .methods
                    .iter()
                    .any(|m| matches!(m.kind, MethodKind::Fido2 { .. }));
                let device = p
                    .devices
                    .iter()
                    .map(|&d| &self.pop.devices[d as usize])
                    .find(|d| d.platform == platform && d.owner.is_some())?;
                (!has).then(|| (p, device.id.to_string()))
            })
            .expect("such a person")
    }
}

fn fido2_ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_registered_passkey_shows_in_methods_after_the_method_lag_and_in_the_report_after_the_report_lag()
 {
    let t = tenant(200, 100.0, ALL_ROLES).await;
    let (person, phone) = t.person_with(Platform::Ios);
    let id = person.id.to_string();
    let (status, created) = t
        .control(
            reqwest::Method::POST,
            &format!("/_sim/people/{}/passkeys", person.user_principal_name),
            &json!({"device": phone, "kind": "authenticator"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["aaGuid"], "90a3ccdf-635c-4729-a248-9b709135078f");
    let method_id = created["methodId"].as_str().unwrap().to_owned();
    let fido2 = format!("/v1.0/users/{id}/authentication/fido2Methods");
    assert!(!fido2_ids(&t.ok(&fido2).await).contains(&method_id));

    t.advance(31).await;
    let listed = t.ok(&fido2).await;
    let new = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == method_id.as_str())
        .expect("listed after the method lag");
    assert_eq!(new["model"], "Microsoft Authenticator - iOS");
    assert_eq!(new["passkeyType"], "deviceBound");
    let all = t
        .ok(&format!("/v1.0/users/{id}/authentication/methods"))
        .await;
    assert!(
        all["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == method_id.as_str())
    );
    let graph = t.sim.graph().unwrap();
    assert!(
        graph
            .live_methods(&id)
            .unwrap()
            .iter()
            .any(|m| m.id.to_string() == method_id)
    );

    let row = format!("/v1.0/reports/authenticationMethods/userRegistrationDetails/{id}");
    let before = t.ok(&row).await;
    assert!(
        !before["methodsRegistered"]
            .as_array()
            .unwrap()
            .contains(&json!("passKeyDeviceBoundAuthenticator")),
        "{before}"
    );
    t.advance(3 * 3600).await;
    let after = t.ok(&row).await;
    assert!(
        after["methodsRegistered"]
            .as_array()
            .unwrap()
            .contains(&json!("passKeyDeviceBoundAuthenticator")),
        "{after}"
    );
    assert_eq!(after["isPasswordlessCapable"], true);
    let updated: jiff::Timestamp = after["lastUpdatedDateTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let reported: jiff::Timestamp = created["reportedAt"].as_str().unwrap().parse().unwrap();
    assert!(updated.as_second() >= reported.as_second() - 1);
    // Rows without live changes were refreshed by the report's own cycle meanwhile.
    let other = t.pop.people.iter().find(|p| p.id != person.id).unwrap();
    let other_row = t
        .ok(&format!(
            "/v1.0/reports/authenticationMethods/userRegistrationDetails/{}",
            other.id
        ))
        .await;
    let refreshed: jiff::Timestamp = other_row["lastUpdatedDateTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        refreshed.as_second() >= t.pop.now.as_second(),
        "{other_row}"
    );
    let filtered = t
        .ok("/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=methodsRegistered/any(x:x eq 'passKeyDeviceBoundAuthenticator')&$top=1000")
        .await;
    assert!(
        filtered["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );

    let audits = t
        .ok(&format!(
            "/v1.0/auditLogs/directoryAudits?$filter=initiatedBy/user/id eq '{id}'"
        ))
        .await;
    let rows = audits["value"].as_array().unwrap();
    let example = fixture("directoryAudit.json");
    let add = rows
        .iter()
        .find(|r| {
            r["activityDisplayName"] == "Add Passkey (device-bound)" && r["result"] == "success"
        })
        .expect("an Add Passkey event");
    assert_shape(&example, add, "directoryAudit");
    assert!(
        add["additionalDetails"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "AAGUID", "value": "90a3ccdf-635c-4729-a248-9b709135078f"}))
    );
    assert_eq!(
        rows[0]["activityDisplayName"],
        "User registered security info"
    );
}

#[tokio::test]
async fn a_failed_registration_writes_a_failure_audit_event_and_no_method() {
    let t = tenant(200, 100.0, ALL_ROLES).await;
    let (person, phone) = t.person_with(Platform::Android);
    let id = person.id.to_string();
    let before = fido2_ids(
        &t.ok(&format!("/v1.0/users/{id}/authentication/fido2Methods"))
            .await,
    );
    let reason = "The operation either timed out or was not allowed.";
    let (status, body) = t
        .control(
            reqwest::Method::POST,
            &format!("/_sim/people/{id}/passkeys"),
            &json!({"device": phone, "kind": "authenticator", "failureReason": reason}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"result": "failed", "reason": reason}));
    // Synced passkeys are not allowed by the default policy: refused, with an audit event.
    let (status, refused) = t
        .control(
            reqwest::Method::POST,
            &format!("/_sim/people/{id}/passkeys"),
            &json!({"device": phone, "kind": "synced"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(refused["result"], "failed");
    // A Windows Hello passkey cannot be made on a phone.
    let (status, _) = t
        .control(
            reqwest::Method::POST,
            &format!("/_sim/people/{id}/passkeys"),
            &json!({"device": phone, "kind": "windowsHello"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    t.advance(3600).await;
    let after = fido2_ids(
        &t.ok(&format!("/v1.0/users/{id}/authentication/fido2Methods"))
            .await,
    );
    assert_eq!(before, after);
    let failures = t
        .ok(&format!(
            "/v1.0/auditLogs/directoryAudits?$filter=initiatedBy/user/id eq '{id}' and result eq 'failure'"
        ))
        .await;
    let reasons: Vec<&str> = failures["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resultReason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&reason), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("does not allow this passkey type")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_recorded_sign_in_appears_in_the_beta_sign_in_log() {
    let t = tenant(60, 100.0, ALL_ROLES).await;
    let person = t.pop.people.iter().find(|p| !p.devices.is_empty()).unwrap();
    let graph = t.sim.graph().unwrap();
    let test_app = "11111111-2222-4333-8444-555555555555";
    let id = graph
        .record_sign_in(SignInRecord {
            person: person.user_principal_name.clone(),
            app_id: test_app.to_owned(),
            app_display_name: "Passkey Pilot test sign-in".to_owned(),
            device: None,
            auth: SignInAuth::Passkey,
            passkey: Some(PasskeyModel::AuthenticatorIos),
            error_code: 0,
            failure_reason: None,
            at: None,
        })
        .unwrap();
    let page = t
        .ok(&format!(
            "/beta/auditLogs/signIns?$filter=userId eq '{}' and appId eq '{test_app}'",
            person.id
        ))
        .await;
    let rows = page["value"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{page}");
    let row = &rows[0];
    assert_shape(&fixture("signIn-beta.json"), row, "signIn");
    assert_eq!(row["id"], id.as_str());
    assert_eq!(row["status"]["errorCode"], 0);
    assert_eq!(
        row["authenticationDetails"][0]["authenticationMethod"],
        "Passkey (device-bound)"
    );
    assert_eq!(
        row["authenticationDetails"][0]["authenticationMethodDetail"],
        "Microsoft Authenticator - iOS"
    );
    // Tenant-wide, the newest sign-in comes first.
    let newest = t.ok("/beta/auditLogs/signIns?$top=1").await;
    assert_eq!(newest["value"][0]["id"], id.as_str());

    // One recorded in the middle of the window is paged in its place, every row once.
    let older = graph
        .record_sign_in(SignInRecord {
            person: person.id.to_string(),
            app_id: test_app.to_owned(),
            app_display_name: "Passkey Pilot test sign-in".to_owned(),
            device: None,
            auth: SignInAuth::PasswordPush,
            passkey: None,
            error_code: 500121,
            failure_reason: Some(
                "Authentication failed during strong authentication request.".to_owned(),
            ),
            at: Some(t.pop.now - jiff::SignedDuration::from_hours(24 * 5)),
        })
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut last: Option<String> = None;
    let mut next = Some(t.url("/v1.0/auditLogs/signIns?$top=300"));
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
            assert!(seen.insert(row["id"].as_str().unwrap().to_owned()), "{row}");
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    let interactive = t.pop.sign_ins.iter().filter(|s| s.interactive).count();
    assert_eq!(seen.len(), interactive + 2);
    assert!(seen.contains(&older) && seen.contains(&id));
}

#[tokio::test]
async fn installing_the_app_gives_201_then_409_and_the_chat_lookup_works() {
    let t = tenant(20, 100.0, ALL_ROLES).await;
    let person = t.pop.people[3].id.to_string();
    let graph = t.sim.graph().unwrap();
    let mut installed = graph.subscribe_installations();
    let app = "e3c3ed4f-8f4b-4a0d-9f7a-0d6c3b9e2a11";
    graph.register_teams_app(app, "Passkey Pilot");
    let bind = json!({"teamsApp@odata.bind": format!("https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{app}")});
    let path = format!("/v1.0/users/{person}/teamwork/installedApps");
    let (status, _) = t.post_with(&t.token, &path, &bind).await;
    assert_eq!(status, StatusCode::CREATED);
    let event = installed.try_recv().expect("an installation event");
    assert_eq!(event.user_id, person);
    let (status, conflict) = t.post_with(&t.token, &path, &bind).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_shape(&fixture("error.json"), &conflict, "error");
    assert_eq!(conflict["error"]["code"], "Conflict");

    let found = t
        .ok(&format!(
            "{path}?$expand=teamsApp&$filter=teamsApp/id eq '{app}'"
        ))
        .await;
    let value = found["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["teamsApp"]["id"], app);
    assert_eq!(value[0]["teamsApp"]["displayName"], "Passkey Pilot");
    let none = t
        .ok(&format!(
            "{path}?$filter=teamsApp/id eq '00000000-0000-4000-8000-000000000000'"
        ))
        .await;
    assert_eq!(none["value"], json!([]));

    let installation = value[0]["id"].as_str().unwrap();
    let chat = t.ok(&format!("{path}/{installation}/chat")).await;
    assert_shape(&fixture("chat.json"), &chat, "chat");
    let chat_id = chat["id"].as_str().unwrap();
    assert!(
        chat_id.starts_with("19:") && chat_id.ends_with("@unq.gbl.spaces"),
        "{chat_id}"
    );
    assert_eq!(chat["chatType"], "oneOnOne");
    assert_eq!(event.chat_id, chat_id);
}

#[tokio::test]
async fn each_route_refuses_a_token_without_its_permission_also_inside_batch() {
    let t = tenant(20, 100.0, &["User.Read.All"]).await;
    let person = t.pop.people[2].id.to_string();
    t.ok("/v1.0/users?$top=1").await;
    let group = t.sim.graph().unwrap().enforced_group_id();
    let refusals = [
        (
            "/beta/auditLogs/signIns",
            "Authentication_MSGraphPermissionMissing",
        ),
        (
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            "Authentication_MSGraphPermissionMissing",
        ),
        (
            &format!("/v1.0/users/{person}/authentication/methods") as &str,
            "accessDenied",
        ),
        (
            &format!("/v1.0/users/{person}/authentication/fido2Methods"),
            "accessDenied",
        ),
        ("/v1.0/devices", "Authorization_RequestDenied"),
        (
            &format!("/v1.0/groups/{group}/members"),
            "Authorization_RequestDenied",
        ),
        (
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2",
            "Authorization_RequestDenied",
        ),
        (
            &format!("/v1.0/users/{person}/teamwork/installedApps"),
            "Forbidden",
        ),
    ];
    for (path, code) in refusals {
        let (status, _, body) = t.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_shape(&fixture("error.json"), &body, "error");
        assert_eq!(body["error"]["code"], code, "{path}");
    }
    let (_, _, denied) = t.get("/v1.0/devices").await;
    assert_eq!(
        denied["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    let (_, _, missing) = t.get("/beta/auditLogs/signIns").await;
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AuditLog.Read.All")
    );
    let (status, _) = t
        .post_with(
            &t.token,
            &format!("/v1.0/groups/{group}/members/$ref"),
            &json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{person}")}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, batch) = t
        .post_with(
            &t.token,
            "/v1.0/$batch",
            &json!({"requests": [
                {"id": "1", "method": "GET", "url": format!("/users/{person}")},
                {"id": "2", "method": "GET", "url": format!("/users/{person}/authentication/fido2Methods")},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(batch["responses"][0]["status"], 200);
    assert_eq!(batch["responses"][1]["status"], 403);
    assert_eq!(
        batch["responses"][1]["body"]["error"]["code"],
        "accessDenied"
    );

    // Higher permissions include lower ones.
    t.sim.register_graph_app(
        "00000000-0000-4000-8000-0000000d1e00",
        "dir",
        &["Directory.Read.All"],
    );
    let directory = crate::helpers::graph_token(
        &t.http,
        &t.sim,
        "00000000-0000-4000-8000-0000000d1e00",
        "dir",
    )
    .await;
    for path in ["/v1.0/users?$top=1", "/v1.0/devices?$top=1"] {
        let (status, _, body) = t.get_with(&directory, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
}

#[tokio::test]
async fn directory_reads_carry_resource_units_and_the_limit_percentage_near_the_limit() {
    // 8,000 units / 10 s scaled to 8. A user read costs 1, a user list 2, and `$select`
    // plus a `$top` under 20 bring a list down to 1.
    let t = tenant(20, 0.001, ALL_ROLES).await;
    let person = t.pop.people[0].id.to_string();
    let steps = [
        (format!("/v1.0/users/{person}"), "1"),
        ("/v1.0/users".to_owned(), "2"),
        ("/v1.0/users".to_owned(), "2"),
        ("/v1.0/users".to_owned(), "2"),
        ("/v1.0/users?$select=id&$top=5".to_owned(), "1"),
    ];
    let mut percentages = Vec::new();
    for (path, units) in &steps {
        let (status, headers, body) = t.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(headers["x-ms-resource-unit"], *units, "{path}");
        percentages.push(
            headers
                .get("x-ms-throttle-limit-percentage")
                .map(|v| v.to_str().unwrap().parse::<f64>().unwrap()),
        );
    }
    // 1/8, 3/8, 5/8 used: no header; 7/8 and 8/8: the share in use.
    assert_eq!(percentages[..3], [None, None, None]);
    for p in &percentages[3..] {
        let p = p.expect("a percentage once 80 % is used");
        assert!((0.8..=1.8).contains(&p), "{p}");
    }
    assert!(percentages[4] > percentages[3]);

    let (status, headers, body) = t.get("/v1.0/users").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(
        headers["x-ms-throttle-scope"],
        format!("Tenant_Application/Read/{APP_ID}/{}", t.sim.tenant_id()).as_str()
    );
    assert_eq!(
        headers["x-ms-throttle-information"],
        "ResourceUnitLimitExceeded"
    );
}

#[tokio::test]
async fn the_fido2_policy_has_the_reference_shape_and_switching_it_changes_registration() {
    let t = tenant(200, 100.0, ALL_ROLES).await;
    let path =
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2";
    let config = t.ok(&format!("{path}?$expand=passkeyProfiles")).await;
    assert_shape(&fixture("fido2Configuration.json"), &config, "fido2");
    assert_eq!(config["passkeyProfiles"][0]["passkeyTypes"], "deviceBound");
    assert_eq!(config, {
        let mut plain = t.ok(path).await;
        plain["@odata.context"] = config["@odata.context"].clone();
        plain
    });
    let policy = t.ok("/v1.0/policies/authenticationMethodsPolicy").await;
    assert!(
        policy["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"]["state"]
            .is_string()
    );

    let allowed = [
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "90a3ccdf-635c-4729-a248-9b709135078f",
    ];
    let (status, _) = t
        .control(
            reqwest::Method::PUT,
            "/_sim/policies/fido2",
            &json!({"allowSynced": true, "keyRestrictions": {
                "isEnforced": true, "enforcementType": "allow", "aaGuids": allowed}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let switched = t.ok(path).await;
    let profile = &switched["passkeyProfiles"][0];
    assert_eq!(profile["passkeyTypes"], "deviceBound,synced");
    assert_eq!(profile["keyRestrictions"]["aaGuids"], json!(allowed));

    let (person, phone) = t.person_with(Platform::Android);
    let graph = t.sim.graph().unwrap();
    let register = |kind| PasskeyRegistration {
        device: phone.clone(),
        kind,
        failure_reason: None,
    };
    let synced = graph
        .register_passkey(&person.id.to_string(), &register(PasskeyKind::Synced))
        .unwrap();
    assert!(
        matches!(
            synced,
            passkey_pilot::sim::graph::RegistrationOutcome::Registered { .. }
        ),
        "{synced:?}"
    );
    let android = graph
        .register_passkey(
            &person.id.to_string(),
            &register(PasskeyKind::Authenticator),
        )
        .unwrap();
    assert!(
        matches!(
            android,
            passkey_pilot::sim::graph::RegistrationOutcome::Failed { .. }
        ),
        "not on the allow list: {android:?}"
    );
}

#[tokio::test]
async fn deleting_a_passkey_removes_it_from_methods_at_once_and_from_the_report_after_the_lag() {
    let t = tenant(300, 100.0, ALL_ROLES).await;
    let authenticator = |m: &passkey_pilot::sim::population::Method| {
        matches!(
            m.kind,
            MethodKind::Fido2 {
                passkey: PasskeyModel::AuthenticatorIos | PasskeyModel::AuthenticatorAndroid,
                ..
            }
        )
    };
    let person = t
        .pop
        .people
        .iter()
        .find(|p| p.methods.iter().filter(|m| authenticator(m)).count() == 1)
        .expect("someone with one Authenticator passkey");
    let method = person.methods.iter().find(|m| authenticator(m)).unwrap();
    let id = person.id.to_string();
    let r = t
        .http
        .delete(t.url(&format!(
            "/v1.0/users/{id}/authentication/fido2Methods/{}",
            method.id
        )))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let listed = fido2_ids(
        &t.ok(&format!("/v1.0/users/{id}/authentication/fido2Methods"))
            .await,
    );
    assert!(!listed.contains(&method.id.to_string()));
    let row = format!("/v1.0/reports/authenticationMethods/userRegistrationDetails/{id}");
    let has_passkey = |row: &Value| {
        row["methodsRegistered"]
            .as_array()
            .unwrap()
            .contains(&json!("passKeyDeviceBoundAuthenticator"))
    };
    assert!(has_passkey(&t.ok(&row).await), "the report lags");
    t.advance(3 * 3600).await;
    assert!(!has_passkey(&t.ok(&row).await));

    let audits = t
        .ok("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Admin deleted security info'")
        .await;
    let event = &audits["value"][0];
    assert_eq!(event["targetResources"][0]["id"], id.as_str());
    assert_eq!(event["initiatedBy"]["app"]["appId"], APP_ID);
    assert_eq!(event["operationType"], "Delete");
}

#[tokio::test]
async fn a_temporary_access_pass_expires_on_the_simulated_clock() {
    let t = tenant(20, 100.0, ALL_ROLES).await;
    let path = format!(
        "/v1.0/users/{}/authentication/temporaryAccessPassMethods",
        t.pop.people[2].id
    );
    let (status, created) = t
        .post_with(&t.token, &path, &json!({"lifetimeInMinutes": 60}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(t.ok(&path).await["value"][0]["isUsable"], true);
    t.advance(61 * 60).await;
    let expired = t.ok(&path).await;
    assert_eq!(expired["value"][0]["isUsable"], false);
    assert_eq!(expired["value"][0]["methodUsabilityReason"], "Expired");
}
