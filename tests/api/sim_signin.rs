//! The simulated Entra sign-in of the bot's test app over HTTP: authorization code + PKCE,
//! the sign-in page, the Conditional Access behaviour (phishing-resistant strength, `acrs`),
//! Entra's errors, and token expiry through the control API.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use passkey_pilot::sim::population::{MethodKind, PasskeyState, Person, Population};
use passkey_pilot::sim::server::{Simulator, SimulatorOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CLIENT_ID: &str = "6f1d2c3b-4a59-4e6f-8a7b-0c1d2e3f4a5b";
const CLIENT_SECRET: &str = "sim-only-test-signin-secret";
const REDIRECT_URI: &str = "https://bot.example/auth/test/callback";
const API: &str = "api://passkey-pilot";
const SCOPE: &str = "openid profile api://passkey-pilot/Test.Read";
const CLAIMS: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789-abcdefghij";

struct Tenant {
    sim: Simulator,
    pop: Arc<Population>,
    /// Follows no redirects: the tests read Entra's 302s.
    http: reqwest::Client,
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref())
}

async fn tenant() -> Tenant {
    let pop = Arc::new(Population::generate(400, 42, jiff::Timestamp::now()));
    let sim = Simulator::start(SimulatorOptions {
        population: Some(pop.clone()),
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    sim.register_test_signin_app(CLIENT_ID, Some(CLIENT_SECRET), &[REDIRECT_URI], &["c1"])
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Tenant { sim, pop, http }
}

impl Tenant {
    fn person(&self, wanted: impl Fn(&Person) -> bool) -> &Person {
        self.pop
            .people
            .iter()
            .find(|p| p.account_enabled && wanted(p))
            .expect("such a person in the population")
    }

    /// The authorize URL with the test page's parameters, `changes` replacing or adding some.
    fn authorize_url(&self, login_hint: &str, changes: &[(&str, &str)]) -> String {
        let challenge = challenge(VERIFIER);
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", SCOPE),
            ("state", "state-123"),
            ("nonce", "nonce-456"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "login"),
            ("login_hint", login_hint),
            ("claims", CLAIMS),
        ];
        for (k, v) in changes {
            params.retain(|(name, _)| name != k);
            params.push((k, v));
        }
        let mut url = url::Url::parse(&self.sim.authorize_url()).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        url.to_string()
    }

    /// Opens the sign-in page for `person`; returns the pending sign-in's id and the page.
    async fn open(&self, person: &Person) -> (String, String) {
        let r = self
            .http
            .get(self.authorize_url(&person.user_principal_name, &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        let ctx = html
            .split("name=\"ctx\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page carries the sign-in context")
            .to_owned();
        (ctx, html)
    }

    /// Chooses a way to sign in on the page.
    async fn choose(&self, ctx: &str, person: &Person, option: &str) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/{}/login",
                self.sim.base_url(),
                self.sim.tenant_id()
            ))
            .form(&[
                ("ctx", ctx),
                ("login", person.user_principal_name.as_str()),
                ("option", option),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs `person` in with `option` and returns the code from the redirect.
    async fn code_for(&self, person: &Person, option: &str) -> String {
        let (ctx, _) = self.open(person).await;
        let r = self.choose(&ctx, person, option).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        let query = redirect_query(&r, REDIRECT_URI);
        assert_eq!(query["state"], "state-123");
        query["code"].clone()
    }

    async fn redeem(&self, code: &str, verifier: &str, redirect_uri: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.sim.token_url())
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
                ("scope", SCOPE),
            ])
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// Verifies an Entra-signed token against the published JWKS.
    async fn verify(&self, token: &str, audience: &str, issuer: &str) -> Value {
        let jwks: Value = self
            .http
            .get(format!(
                "{}/{}/discovery/v2.0/keys",
                self.sim.base_url(),
                self.sim.tenant_id()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the signing key is published");
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[issuer]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .unwrap()
            .claims
    }
}

/// The query of a 302 to `redirect_uri`.
fn redirect_query(r: &reqwest::Response, redirect_uri: &str) -> HashMap<String, String> {
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(redirect_uri), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn working_phone_passkey(p: &Person) -> Option<String> {
    p.methods.iter().find_map(|m| match &m.kind {
        MethodKind::Fido2 {
            passkey,
            device: Some(_),
            state,
            ..
        } if *state != PasskeyState::DeletedFromDevice
            && !passkey.is_security_key()
            // The simulated tenant's passkey policy lets it sign in.
            && passkey_pilot::sim::graph::policy::Fido2Policy::default().lets_sign_in(*passkey) =>
        {
            Some(format!("passkey:{}", m.id))
        }
        _ => None,
    })
}

fn push_only(p: &Person) -> Option<String> {
    let strong = p.methods.iter().any(|m| {
        matches!(
            m.kind,
            MethodKind::Fido2 { .. } | MethodKind::WindowsHelloForBusiness { .. }
        )
    });
    if strong {
        return None;
    }
    p.methods.iter().find_map(|m| {
        matches!(m.kind, MethodKind::MicrosoftAuthenticator { .. })
            .then(|| format!("push:{}", m.id))
    })
}

fn deleted_passkey(p: &Person) -> Option<String> {
    p.methods.iter().find_map(|m| match &m.kind {
        MethodKind::Fido2 { state, .. } if *state == PasskeyState::DeletedFromDevice => {
            Some(format!("passkey:{}", m.id))
        }
        _ => None,
    })
}

#[tokio::test]
async fn a_working_passkey_completes_the_pkce_flow_with_verifiable_tokens_and_acrs() {
    let t = tenant().await;
    let person = t.person(|p| working_phone_passkey(p).is_some());
    let option = working_phone_passkey(person).unwrap();
    let (ctx, html) = t.open(person).await;
    assert!(
        html.contains(&person.display_name),
        "the page shows who signs in"
    );
    assert!(html.contains(&format!("value=\"{option}\"")), "{html}");
    let r = t.choose(&ctx, person, &option).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let query = redirect_query(&r, REDIRECT_URI);
    assert_eq!(query["state"], "state-123");

    let (status, body) = t.redeem(&query["code"], VERIFIER, REDIRECT_URI).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "api://passkey-pilot/Test.Read");
    assert!(body["expires_in"].as_i64().unwrap() > 3000);

    let tid = t.sim.tenant_id().to_owned();
    let id = t
        .verify(
            body["id_token"].as_str().unwrap(),
            CLIENT_ID,
            &format!("https://login.microsoftonline.com/{tid}/v2.0"),
        )
        .await;
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["tid"], tid);
    assert_eq!(id["oid"], person.id.to_string());
    assert_eq!(id["preferred_username"], person.user_principal_name);
    assert_eq!(id["name"], person.display_name);
    assert_eq!(id["ver"], "2.0");
    for claim in ["sub", "iat", "nbf", "exp"] {
        assert!(!id[claim].is_null(), "{claim} in {id}");
    }

    let access = t
        .verify(
            body["access_token"].as_str().unwrap(),
            API,
            &format!("https://sts.windows.net/{tid}/"),
        )
        .await;
    assert_eq!(access["acrs"], json!(["c1"]));
    assert_eq!(access["scp"], "Test.Read");
    assert_eq!(access["oid"], person.id.to_string());
    assert_eq!(access["tid"], tid);

    let attempts = t.sim.sign_in_attempts();
    let last = attempts.last().unwrap();
    assert!(last.succeeded);
    assert_eq!(last.user_id, person.id.to_string());
    assert_eq!(last.app_id, CLIENT_ID);
    assert_eq!(last.option, option);
}

#[tokio::test]
async fn acrs_are_left_out_when_not_asked_for() {
    let t = tenant().await;
    let person = t.person(|p| working_phone_passkey(p).is_some());
    let option = working_phone_passkey(person).unwrap();
    let r = t
        .http
        .get(t.authorize_url(&person.user_principal_name, &[("claims", "{}")]))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    let ctx = html
        .split("name=\"ctx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let r = t.choose(ctx, person, &option).await;
    let code = redirect_query(&r, REDIRECT_URI)["code"].clone();
    let (status, body) = t.redeem(&code, VERIFIER, REDIRECT_URI).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tid = t.sim.tenant_id().to_owned();
    let access = t
        .verify(
            body["access_token"].as_str().unwrap(),
            API,
            &format!("https://sts.windows.net/{tid}/"),
        )
        .await;
    assert!(access.get("acrs").is_none(), "{access}");
}

#[tokio::test]
async fn a_push_only_person_gets_the_strength_not_met_error_with_the_state_echoed() {
    let t = tenant().await;
    let person = t.person(|p| push_only(p).is_some());
    let option = push_only(person).unwrap();
    let (ctx, html) = t.open(person).await;
    assert!(html.contains(&format!("value=\"{option}\"")), "{html}");
    let r = t.choose(&ctx, person, &option).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let query = redirect_query(&r, REDIRECT_URI);
    assert_eq!(query["error"], "access_denied");
    assert!(
        query["error_description"].starts_with("AADSTS53003: "),
        "{query:?}"
    );
    assert_eq!(query["state"], "state-123");
    assert!(!query.contains_key("code"));
    let attempts: Value = t
        .http
        .get(format!("{}/_sim/sign-in-attempts", t.sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = attempts["value"].as_array().unwrap().last().unwrap();
    assert_eq!(last["succeeded"], false);
    assert_eq!(last["errorCode"], 53003);
    assert_eq!(last["method"], "authenticatorPush");
    assert_eq!(last["userId"], person.id.to_string());
    assert_eq!(last["appId"], CLIENT_ID);
}

#[tokio::test]
async fn a_passkey_deleted_from_the_phone_fails_on_the_page_which_offers_other_ways() {
    let t = tenant().await;
    let person = t.person(|p| deleted_passkey(p).is_some());
    let option = deleted_passkey(person).unwrap();
    let (ctx, _) = t.open(person).await;
    let r = t.choose(&ctx, person, &option).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "no redirect: Entra stays on its page"
    );
    assert!(r.headers().get("location").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"failed\""), "{html}");
    assert!(html.contains("Sign in another way"), "{html}");
    assert!(
        !html.contains(&format!("value=\"{option}\"")),
        "the failed passkey is not offered again"
    );
    assert!(html.contains("value=\"password\""), "{html}");
    let last = t.sim.sign_in_attempts().pop().unwrap();
    assert!(!last.succeeded);
    assert_eq!(last.option, option);

    // The pending sign-in is still open: another way can be chosen.
    let other = t.choose(&ctx, person, "password").await;
    assert_eq!(other.status(), StatusCode::FOUND);
    assert_eq!(
        redirect_query(&other, REDIRECT_URI)["error"],
        "access_denied"
    );
}

#[tokio::test]
async fn a_forgotten_windows_hello_pin_fails_on_the_page() {
    let t = tenant().await;
    let forgotten = |p: &Person| {
        p.methods.iter().find_map(|m| match m.kind {
            MethodKind::WindowsHelloForBusiness {
                pin_forgotten: true,
                ..
            } => Some(format!("whfb:{}", m.id)),
            _ => None,
        })
    };
    let person = t.person(|p| forgotten(p).is_some());
    let (ctx, _) = t.open(person).await;
    let r = t.choose(&ctx, person, &forgotten(person).unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("verify your PIN"), "{html}");
    assert!(
        html.contains("value=\"password\""),
        "other ways are offered"
    );
}

#[tokio::test]
async fn codes_are_single_use_and_need_the_right_verifier_and_redirect_uri() {
    let t = tenant().await;
    let person = t.person(|p| working_phone_passkey(p).is_some());
    let code = t
        .code_for(person, &working_phone_passkey(person).unwrap())
        .await;

    let (status, body) = t
        .redeem(
            &code,
            "a-different-verifier-of-sufficient-length-000000",
            REDIRECT_URI,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([501481]));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS501481: The Code_Verifier does not match the code_challenge")
    );

    let (status, body) = t
        .redeem(&code, VERIFIER, "https://bot.example/elsewhere")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([50011]));

    let (status, body) = t.redeem(&code, VERIFIER, REDIRECT_URI).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = t.redeem(&code, VERIFIER, REDIRECT_URI).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([54005]));
}

#[tokio::test]
async fn a_code_expires_ten_minutes_after_issue_on_the_simulated_clock() {
    let t = tenant().await;
    let person = t.person(|p| working_phone_passkey(p).is_some());
    let code = t
        .code_for(person, &working_phone_passkey(person).unwrap())
        .await;
    let r = t
        .http
        .post(format!("{}/_sim/time/advance", t.sim.base_url()))
        .json(&json!({"seconds": 11 * 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, body) = t.redeem(&code, VERIFIER, REDIRECT_URI).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([70008]));
}

#[tokio::test]
async fn a_confidential_app_must_send_its_secret() {
    let t = tenant().await;
    let person = t.person(|p| working_phone_passkey(p).is_some());
    let code = t
        .code_for(person, &working_phone_passkey(person).unwrap())
        .await;
    let r = t
        .http
        .post(t.sim.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000218]));
}

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let t = tenant().await;
    let person = &t.pop.people[0];
    for (changes, code) in [
        (
            vec![("client_id", "0e0e0e0e-0000-4000-8000-000000000000")],
            "AADSTS700016",
        ),
        (
            vec![("redirect_uri", "https://attacker.example/cb")],
            "AADSTS50011",
        ),
    ] {
        let r = t
            .http
            .get(t.authorize_url(&person.user_principal_name, &changes))
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("location").is_none(), "{changes:?}");
        assert!(!r.status().is_redirection() && !r.status().is_success());
        let html = r.text().await.unwrap();
        assert!(html.contains(code), "{code}: {html}");
        assert!(!html.contains("name=\"ctx\""), "no sign-in is started");
    }
}

#[tokio::test]
async fn request_errors_after_the_app_is_known_go_back_to_the_redirect_uri() {
    let t = tenant().await;
    let hint = t.pop.people[0].user_principal_name.clone();
    for (changes, error, code) in [
        (vec![("prompt", "none")], "login_required", "AADSTS50058"),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
            "AADSTS700054",
        ),
        (
            vec![("claims", "{not json")],
            "invalid_request",
            "AADSTS90100",
        ),
        (
            vec![("code_challenge", "short")],
            "invalid_request",
            "AADSTS501491",
        ),
    ] {
        let r = t
            .http
            .get(t.authorize_url(&hint, &changes))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND, "{changes:?}");
        let query = redirect_query(&r, REDIRECT_URI);
        assert_eq!(query["error"], error, "{changes:?}");
        assert!(query["error_description"].starts_with(code), "{query:?}");
        assert_eq!(query["state"], "state-123");
    }
}

#[tokio::test]
async fn expired_tokens_are_refused_by_graph_and_the_connector_and_fresh_ones_work() {
    let t = tenant().await;
    let graph_app = "00000000-0000-4000-8000-0000000000e1";
    let bot_app = "00000000-0000-4000-8000-0000000000e2";
    t.sim
        .register_graph_app(graph_app, "graph-secret", &["User.Read.All"]);
    t.sim.register_app(bot_app, "bot-secret");
    let token = |app: &'static str, secret: &'static str, scope: &'static str| {
        let http = t.http.clone();
        let url = t.sim.token_url();
        async move {
            let body: Value = http
                .post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", app),
                    ("client_secret", secret),
                    ("scope", scope),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let graph = |token: String| {
        t.http
            .get(format!("{}/users?$top=1", t.sim.graph_url()))
            .bearer_auth(token)
            .send()
    };
    let connector = |token: String| {
        t.http
            .post(format!("{}v3/conversations", t.sim.service_url()))
            .bearer_auth(token)
            .json(&json!({
                "isGroup": false,
                "bot": {"id": format!("28:{bot_app}")},
                "members": [{"id": uuid::Uuid::new_v4().to_string()}],
                "tenantId": t.sim.tenant_id(),
            }))
            .send()
    };
    let old_graph = token(
        graph_app,
        "graph-secret",
        "https://graph.microsoft.com/.default",
    )
    .await;
    let old_bot = token(
        bot_app,
        "bot-secret",
        "https://api.botframework.com/.default",
    )
    .await;
    assert_eq!(
        graph(old_graph.clone()).await.unwrap().status(),
        StatusCode::OK
    );

    let r = t
        .http
        .post(format!("{}/_sim/tokens/expire", t.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let r = graph(old_graph).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(
        body["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
    let r = connector(old_bot).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Authorization has been denied for this request."
    );

    let fresh_graph = token(
        graph_app,
        "graph-secret",
        "https://graph.microsoft.com/.default",
    )
    .await;
    let fresh_bot = token(
        bot_app,
        "bot-secret",
        "https://api.botframework.com/.default",
    )
    .await;
    assert_eq!(graph(fresh_graph).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        connector(fresh_bot).await.unwrap().status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_upn_entered_on_the_page_lists_that_persons_ways_to_sign_in() {
    let t = tenant().await;
    let person = t.person(|p| push_only(p).is_some());
    let r = t.http.get(t.authorize_url("", &[])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(!html.contains("id=\"options\""), "nobody is known yet");
    let ctx = html
        .split("name=\"ctx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let login = format!("{}/{}/login", t.sim.base_url(), t.sim.tenant_id());
    let html = t
        .http
        .post(&login)
        .form(&[
            ("ctx", ctx.as_str()),
            ("login", &person.user_principal_name.to_uppercase()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&person.display_name), "{html}");
    assert!(
        html.contains(&format!("value=\"{}\"", push_only(person).unwrap())),
        "{html}"
    );
    let html = t
        .http
        .post(&login)
        .form(&[("ctx", ctx.as_str()), ("login", "nobody@example.invalid")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"notice\""), "{html}");
    assert!(!html.contains("id=\"options\""), "{html}");
}

#[tokio::test]
async fn the_control_api_registers_a_public_test_app_that_redeems_without_a_secret() {
    let t = tenant().await;
    let register = |body: Value| {
        t.http
            .post(format!("{}/_sim/apps/test-signin", t.sim.base_url()))
            .json(&body)
            .send()
    };
    let r = register(json!({
        "clientId": "11111111-2222-4333-8444-555555555555",
        "redirectUris": ["http://localhost:3978/signin/callback"],
        "authContexts": ["c26"],
    }))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = register(json!({
        "clientId": "11111111-2222-4333-8444-555555555555",
        "redirectUris": ["http://localhost:3978/signin/callback"],
        "authContexts": ["c2"],
    }))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let person = t.person(|p| working_phone_passkey(p).is_some());
    let mut url = url::Url::parse(&t.sim.authorize_url()).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("client_id", "11111111-2222-4333-8444-555555555555"),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost:3978/signin/callback"),
        ("scope", "openid"),
        ("login_hint", person.user_principal_name.as_str()),
    ]);
    let r = t.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(&person.display_name), "{html}");

    // A public client redeems without a secret (and is refused one); no PKCE was asked.
    let ctx = html
        .split("name=\"ctx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let r = t
        .choose(ctx, person, &working_phone_passkey(person).unwrap())
        .await;
    let code = redirect_query(&r, "http://localhost:3978/signin/callback")["code"].clone();
    let redeem = |secret: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", "11111111-2222-4333-8444-555555555555"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:3978/signin/callback"),
        ];
        if let Some(secret) = secret {
            form.push(("client_secret", secret));
        }
        t.http.post(t.sim.token_url()).form(&form).send()
    };
    let r = redeem(Some("a-secret")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_codes"], json!([700025]));
    let r = redeem(None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let tid = t.sim.tenant_id().to_owned();
    let id = t
        .verify(
            body["id_token"].as_str().unwrap(),
            "11111111-2222-4333-8444-555555555555",
            &format!("https://login.microsoftonline.com/{tid}/v2.0"),
        )
        .await;
    assert_eq!(id["oid"], person.id.to_string());
    assert!(id.get("nonce").is_none(), "no nonce was sent");
}

#[tokio::test]
async fn the_result_comes_back_in_the_fragment_or_as_a_posted_form_when_asked() {
    let t = tenant().await;
    let person = t.person(|p| working_phone_passkey(p).is_some());
    let option = working_phone_passkey(person).unwrap();
    let open = |mode: &'static str| {
        let url = t.authorize_url(&person.user_principal_name, &[("response_mode", mode)]);
        let http = t.http.clone();
        async move {
            let html = http.get(url).send().await.unwrap().text().await.unwrap();
            html.split("name=\"ctx\" value=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap()
                .to_owned()
        }
    };

    let ctx = open("fragment").await;
    let r = t.choose(&ctx, person, &option).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.query(), None);
    let fragment: HashMap<String, String> =
        url::form_urlencoded::parse(location.fragment().unwrap().as_bytes())
            .into_owned()
            .collect();
    assert_eq!(fragment["state"], "state-123");
    assert!(fragment.contains_key("code"));

    let ctx = open("form_post").await;
    let r = t.choose(&ctx, person, &option).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "method=\"POST\" name=\"hiddenform\" action=\"{REDIRECT_URI}\""
        )),
        "{html}"
    );
    assert!(html.contains("name=\"code\" value=\""), "{html}");
    assert!(
        html.contains("name=\"state\" value=\"state-123\""),
        "{html}"
    );
}

#[tokio::test]
async fn a_passkey_registered_at_run_time_signs_in_and_the_sign_in_reaches_graphs_log() {
    use passkey_pilot::sim::population::Platform;
    let t = tenant().await;
    let (person, phone) = t
        .pop
        .people
        .iter()
        .filter(|p| p.account_enabled && push_only(p).is_some())
        .find_map(|p| {
            let phone = p
                .devices
                .iter()
                .map(|&d| &t.pop.devices[d as usize])
                .find(|d| d.platform == Platform::Ios && d.owner.is_some())?;
            Some((p, phone.id.to_string()))
        })
        .expect("a push-only person with an iPhone");
    let base = t.sim.base_url().to_owned();
    let created: Value = t
        .http
        .post(format!(
            "{base}/_sim/people/{}/passkeys",
            person.user_principal_name
        ))
        .json(&json!({"device": phone, "kind": "authenticator"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let option = format!("passkey:{}", created["methodId"].as_str().unwrap());

    // Graph lists the new passkey only after its lag, and so does the sign-in page.
    let (_, html) = t.open(person).await;
    assert!(!html.contains(&option), "offered before Graph lists it");
    t.http
        .post(format!("{base}/_sim/time/advance"))
        .json(&json!({"seconds": 60}))
        .send()
        .await
        .unwrap();
    let (ctx, html) = t.open(person).await;
    assert!(html.contains(&format!("value=\"{option}\"")), "{html}");
    let r = t.choose(&ctx, person, &option).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert!(redirect_query(&r, REDIRECT_URI).contains_key("code"));

    // The attempt is in Graph's sign-in log as a passkey sign-in to the test app.
    t.sim.register_graph_app(
        "00000000-0000-4000-8000-0000000000a1",
        "log-reader",
        &["AuditLog.Read.All"],
    );
    let token = crate::helpers::graph_token(
        &t.http,
        &t.sim,
        "00000000-0000-4000-8000-0000000000a1",
        "log-reader",
    )
    .await;
    let log: Value = t
        .http
        .get(format!("{base}/beta/auditLogs/signIns"))
        .query(&[(
            "$filter",
            format!("userId eq '{}' and appId eq '{CLIENT_ID}'", person.id),
        )])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["value"].as_array().expect("a sign-in page");
    assert_eq!(entries.len(), 1, "{log}");
    let entry = &entries[0];
    assert_eq!(entry["status"]["errorCode"], 0);
    let methods: Vec<&str> = entry["authenticationDetails"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["authenticationMethod"].as_str())
        .collect();
    assert!(
        methods.iter().any(|m| m.starts_with("Passkey")),
        "{methods:?}"
    );
}

/// A phone's passkey chosen in a browser on the person's computer is the QR/Bluetooth flow:
/// Entra logs the sign-in on the computer. The page asks which device it runs on; without an
/// answer the browser's user agent tells; without either, the passkey's own device.
#[tokio::test]
async fn a_phone_passkey_used_from_the_computer_is_logged_on_the_computer() {
    use passkey_pilot::sim::population::Platform;
    let t = tenant().await;
    let person = t.person(|p| {
        let platforms: Vec<Platform> = p
            .devices
            .iter()
            .map(|&d| t.pop.devices[d as usize].platform)
            .collect();
        working_phone_passkey(p).is_some()
            && platforms
                .iter()
                .filter(|x| **x == Platform::Windows)
                .count()
                == 1
            && platforms.iter().filter(|x| x.is_mobile()).count() == 1
    });
    let option = working_phone_passkey(person).unwrap();
    let device = |platform: Platform| {
        person
            .devices
            .iter()
            .map(|&d| &t.pop.devices[d as usize])
            .find(|d| {
                d.platform == platform || (platform == Platform::Ios && d.platform.is_mobile())
            })
            .unwrap()
            .display_name
            .clone()
    };
    let (pc, phone) = (device(Platform::Windows), device(Platform::Ios));
    let login = format!("{}/{}/login", t.sim.base_url(), t.sim.tenant_id());
    let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";

    // The page lists the person's devices, computers first.
    let (ctx, html) = t.open(person).await;
    assert!(
        html.contains(&format!("<option value=\"{pc}\" selected>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<option value=\"{phone}\">")),
        "{html}"
    );

    let mut logged = Vec::new();
    for (from, ua) in [(Some(pc.as_str()), None), (None, Some(edge)), (None, None)] {
        let ctx = if logged.is_empty() {
            ctx.clone()
        } else {
            t.open(person).await.0
        };
        let mut form = vec![
            ("ctx", ctx.as_str()),
            ("login", person.user_principal_name.as_str()),
            ("option", option.as_str()),
        ];
        if let Some(from) = from {
            form.push(("from", from));
        }
        let mut r = t.http.post(&login).form(&form);
        if let Some(ua) = ua {
            r = r.header(reqwest::header::USER_AGENT, ua);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        logged.push(t.sim.sign_in_attempts().last().unwrap().device.clone());
    }
    assert_eq!(
        logged,
        [Some(pc.clone()), Some(pc.clone()), Some(phone.clone())]
    );
}

/// A passkey the tenant's passkey policy does not allow (a synced one where only device-bound
/// passkeys may sign in) cannot sign in: the page says so and offers the other ways.
#[tokio::test]
async fn a_passkey_the_policy_does_not_allow_fails_on_the_page() {
    let t = tenant().await;
    let policy = passkey_pilot::sim::graph::policy::Fido2Policy::default();
    let not_allowed = |p: &Person| {
        p.methods.iter().find_map(|m| match &m.kind {
            MethodKind::Fido2 { passkey, state, .. }
                if *state != PasskeyState::DeletedFromDevice && !policy.lets_sign_in(*passkey) =>
            {
                Some(format!("passkey:{}", m.id))
            }
            _ => None,
        })
    };
    let person = t.person(|p| not_allowed(p).is_some());
    let option = not_allowed(person).unwrap();
    let (ctx, html) = t.open(person).await;
    assert!(html.contains(&format!("value=\"{option}\"")), "{html}");
    let r = t.choose(&ctx, person, &option).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "no redirect: the sign-in did not happen"
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("allow this passkey"), "{page}");
    assert!(!page.contains(&format!("value=\"{option}\"")), "{page}");
    let last = t.sim.sign_in_attempts().last().cloned().unwrap();
    assert!(!last.succeeded);
    assert_eq!(last.option, option);
}
