//! The endpoints the product uses, on top of the transport in `client.rs`
//! (reference/graph.md §1: paths, versions and permissions).

use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt};
use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;

use super::client::{ApiVersion, Call, DIRECTORY_PAGE, GraphClient, LOG_PAGE, Target, decode, key};
use super::error::GraphError;
use super::models::{
    AuthenticationMethod, Chat, CheckMemberGroupsRequest, DEVICE_SELECT, Device, DirectoryAudit,
    DirectoryObject, Fido2Method, Fido2MethodConfiguration, InstalledApp, Page, SignIn,
    TemporaryAccessPass, TemporaryAccessPassRequest, USER_SELECT, User, UserRegistrationDetails,
    WindowsHelloMethod,
};

/// Most group ids one `checkMemberGroups` may carry.
pub const MAX_CHECK_GROUPS: usize = 20;

/// What adding a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    Added,
    /// Graph's 400 "already exist": the goal holds.
    AlreadyMember,
    Removed,
    /// Removing someone who was not a member.
    NotMember,
}

/// What installing the bot for a person did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallOutcome {
    Installed,
    /// 409: the app was already installed for the person.
    AlreadyInstalled,
}

/// A users listing.
#[derive(Debug, Clone)]
pub struct UserQuery {
    /// `$select`; [`USER_SELECT`] by default.
    pub select: String,
    /// `$filter`, e.g. `accountEnabled eq true and userType eq 'Member'`.
    pub filter: Option<String>,
    /// `$top`, 1–999.
    pub page_size: u32,
}

impl Default for UserQuery {
    fn default() -> Self {
        UserQuery {
            select: USER_SELECT.to_owned(),
            filter: None,
            page_size: DIRECTORY_PAGE,
        }
    }
}

/// A sign-in log read: a window, one person or everyone.
#[derive(Debug, Clone)]
pub struct SignInQuery {
    pub since: Timestamp,
    pub until: Option<Timestamp>,
    /// One person's object id; everyone when `None`.
    pub user_id: Option<String>,
    /// Only sign-ins of this app (a test sign-in).
    pub app_id: Option<String>,
    /// Non-interactive sign-ins instead of interactive ones (beta lists interactive ones
    /// unless asked; the non-interactive stream is far larger).
    pub non_interactive: bool,
    /// `$select` to keep pages small; `None` for every property.
    pub select: Option<String>,
}

impl SignInQuery {
    /// Interactive sign-ins since `since`, every property.
    pub fn since(since: Timestamp) -> SignInQuery {
        SignInQuery {
            since,
            until: None,
            user_id: None,
            app_id: None,
            non_interactive: false,
            select: None,
        }
    }

    fn filter(&self) -> String {
        let mut parts = Vec::new();
        if let Some(user) = &self.user_id {
            parts.push(format!("userId eq '{}'", quote(user)));
        }
        if let Some(app) = &self.app_id {
            parts.push(format!("appId eq '{}'", quote(app)));
        }
        parts.push(format!("createdDateTime ge {}", odata_time(self.since)));
        if let Some(until) = self.until {
            parts.push(format!("createdDateTime le {}", odata_time(until)));
        }
        if self.non_interactive {
            parts.push("signInEventTypes/any(t: t eq 'nonInteractiveUser')".to_owned());
        }
        parts.join(" and ")
    }
}

/// An OData string literal's inside: quotes doubled.
fn quote(raw: &str) -> String {
    raw.replace('\'', "''")
}

/// Whole seconds, `Z`: the form Graph's filters take.
fn odata_time(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

impl GraphClient {
    // ---- users -------------------------------------------------------------------------

    /// Users page by page (`$select`, `$filter`, `$top` ≤ 999).
    pub fn users(&self, query: &UserQuery) -> BoxStream<'static, Result<Vec<User>, GraphError>> {
        let mut target = Target::new(["users"])
            .query("$select", query.select.clone())
            .query("$top", query.page_size.clamp(1, DIRECTORY_PAGE).to_string());
        if let Some(filter) = &query.filter {
            target = target.query("$filter", filter.clone());
        }
        match self.url(ApiVersion::V1, &target) {
            Ok(url) => self.pages(url),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// One user by object id or UPN (cached).
    pub async fn user(&self, id_or_upn: &str) -> Result<Arc<User>, GraphError> {
        let target = Target::new(["users", id_or_upn]).query("$select", USER_SELECT);
        self.cached(
            &self.caches().users,
            key(id_or_upn),
            self.get(ApiVersion::V1, &target),
        )
        .await
    }

    // ---- registration report -------------------------------------------------------------

    /// The registration report, page by page (1,000 rows a page), optionally filtered
    /// (`methodsRegistered/any(x:x eq 'passKeyDeviceBound')`, `isMfaRegistered eq false`).
    pub fn registration_details(
        &self,
        filter: Option<&str>,
    ) -> BoxStream<'static, Result<Vec<UserRegistrationDetails>, GraphError>> {
        let mut target = Target::new([
            "reports",
            "authenticationMethods",
            "userRegistrationDetails",
        ])
        .query("$top", LOG_PAGE.to_string());
        if let Some(f) = filter {
            target = target.query("$filter", f);
        }
        match self.url(ApiVersion::V1, &target) {
            Ok(url) => self.pages(url),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// One person's registration row (cached). It lags hours: after "done", read methods.
    pub async fn registration_detail(
        &self,
        user_id: &str,
    ) -> Result<Arc<UserRegistrationDetails>, GraphError> {
        let target = Target::new([
            "reports",
            "authenticationMethods",
            "userRegistrationDetails",
            user_id,
        ]);
        self.cached(
            &self.caches().registration,
            key(user_id),
            self.get(ApiVersion::V1, &target),
        )
        .await
    }

    // ---- authentication methods ----------------------------------------------------------

    /// All of a person's methods (beta, for `lastUsedDateTime`; cached).
    pub async fn authentication_methods(
        &self,
        user: &str,
    ) -> Result<Arc<Vec<AuthenticationMethod>>, GraphError> {
        let target = Target::new(["users", user, "authentication", "methods"]);
        self.cached(
            &self.caches().methods,
            key(user),
            self.all(ApiVersion::Beta, &target),
        )
        .await
    }

    /// A person's passkeys (beta, for `lastUsedDateTime`; cached).
    pub async fn fido2_methods(&self, user: &str) -> Result<Arc<Vec<Fido2Method>>, GraphError> {
        let target = Target::new(["users", user, "authentication", "fido2Methods"]);
        self.cached(
            &self.caches().fido2,
            key(user),
            self.all(ApiVersion::Beta, &target),
        )
        .await
    }

    /// A person's Windows Hello for Business keys, without devices (cached).
    pub async fn windows_hello_methods(
        &self,
        user: &str,
    ) -> Result<Arc<Vec<WindowsHelloMethod>>, GraphError> {
        let target = Target::new([
            "users",
            user,
            "authentication",
            "windowsHelloForBusinessMethods",
        ]);
        self.cached(
            &self.caches().windows_hello,
            key(user),
            self.all(ApiVersion::V1, &target),
        )
        .await
    }

    /// One Windows Hello key with its device (`$expand=device` works only on a single GET).
    pub async fn windows_hello_method_with_device(
        &self,
        user: &str,
        method_id: &str,
    ) -> Result<WindowsHelloMethod, GraphError> {
        let target = Target::new([
            "users",
            user,
            "authentication",
            "windowsHelloForBusinessMethods",
            method_id,
        ])
        .query("$expand", "device");
        self.get(ApiVersion::V1, &target).await
    }

    /// Creates a temporary access pass (a new one replaces the old); the code is in the
    /// answer only.
    pub async fn create_temporary_access_pass(
        &self,
        user: &str,
        request: &TemporaryAccessPassRequest,
    ) -> Result<TemporaryAccessPass, GraphError> {
        let target = Target::new([
            "users",
            user,
            "authentication",
            "temporaryAccessPassMethods",
        ]);
        let call = Call {
            method: Method::POST,
            url: self.url(ApiVersion::V1, &target)?,
            body: Some(serde_json::to_value(request).expect("plain struct serialises")),
        };
        let reply = self.send(&call).await?;
        self.invalidate_user(user).await;
        decode(&call.what(), &reply.body)
    }

    // ---- sign-ins and audits -------------------------------------------------------------

    /// Sign-ins (beta shape) page by page: everyone's or one person's, in a window.
    pub fn sign_ins(
        &self,
        query: &SignInQuery,
    ) -> BoxStream<'static, Result<Vec<SignIn>, GraphError>> {
        let mut target = Target::new(["auditLogs", "signIns"])
            .query("$filter", query.filter())
            .query("$top", LOG_PAGE.to_string());
        if let Some(select) = &query.select {
            target = target.query("$select", select.clone());
        }
        match self.url(ApiVersion::Beta, &target) {
            Ok(url) => self.pages(url),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// All of one person's sign-ins in a window, interactive and (when asked) non-interactive,
    /// newest first.
    pub async fn user_sign_ins(
        &self,
        user_id: &str,
        since: Timestamp,
        until: Option<Timestamp>,
        include_non_interactive: bool,
    ) -> Result<Vec<SignIn>, GraphError> {
        let mut query = SignInQuery::since(since);
        query.user_id = Some(user_id.to_owned());
        query.until = until;
        let mut out = Vec::new();
        let mut kinds = vec![false];
        if include_non_interactive {
            kinds.push(true);
        }
        for non_interactive in kinds {
            query.non_interactive = non_interactive;
            let mut pages = self.sign_ins(&query);
            while let Some(page) = pages.next().await {
                out.extend(page?);
            }
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.created_date_time));
        Ok(out)
    }

    /// Audit events of the "Authentication Methods" service in a window (registration started,
    /// failed, done), page by page, newest first.
    pub fn registration_audits(
        &self,
        since: Timestamp,
        until: Option<Timestamp>,
        user_id: Option<&str>,
    ) -> BoxStream<'static, Result<Vec<DirectoryAudit>, GraphError>> {
        let mut filter = format!(
            "loggedByService eq 'Authentication Methods' and activityDateTime ge {}",
            odata_time(since)
        );
        if let Some(until) = until {
            filter.push_str(&format!(" and activityDateTime le {}", odata_time(until)));
        }
        if let Some(user) = user_id {
            filter.push_str(&format!(" and initiatedBy/user/id eq '{}'", quote(user)));
        }
        let target = Target::new(["auditLogs", "directoryAudits"])
            .query("$filter", filter)
            .query("$top", LOG_PAGE.to_string());
        match self.url(ApiVersion::V1, &target) {
            Ok(url) => self.pages(url),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    // ---- devices -----------------------------------------------------------------------

    /// Every Entra device, page by page (999 a page, the properties [`Device`] reads).
    pub fn devices(&self) -> BoxStream<'static, Result<Vec<Device>, GraphError>> {
        let target = Target::new(["devices"])
            .query("$select", DEVICE_SELECT)
            .query("$top", DIRECTORY_PAGE.to_string());
        match self.url(ApiVersion::V1, &target) {
            Ok(url) => self.pages(url),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// The Entra devices with these `deviceId`s (what sign-ins carry), e.g. shared devices a
    /// person signs in on that are registered to someone else. At most 15 ids per call.
    pub async fn devices_by_device_id(
        &self,
        device_ids: &[String],
    ) -> Result<Vec<Device>, GraphError> {
        if device_ids.is_empty() {
            return Ok(Vec::new());
        }
        let filter = device_ids
            .iter()
            .map(|d| format!("deviceId eq '{}'", quote(d)))
            .collect::<Vec<_>>()
            .join(" or ");
        let target = Target::new(["devices"])
            .query("$select", DEVICE_SELECT)
            .query("$filter", filter);
        self.all(ApiVersion::V1, &target).await
    }

    /// A person's registered devices (cached).
    pub async fn registered_devices(&self, user: &str) -> Result<Arc<Vec<Device>>, GraphError> {
        let target = Target::new(["users", user, "registeredDevices"])
            .query("$top", DIRECTORY_PAGE.to_string());
        self.cached(
            &self.caches().devices,
            key(user),
            self.all(ApiVersion::V1, &target),
        )
        .await
    }

    // ---- groups ------------------------------------------------------------------------

    /// Adds a person to a group; already being a member is success.
    pub async fn add_group_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MembershipChange, GraphError> {
        let target = Target::new(["groups", group_id, "members", "$ref"]);
        let reference = format!(
            "{}/v1.0/directoryObjects/{}",
            self.base_url(),
            Target::new([user_id]).relative().trim_start_matches('/')
        );
        let call = Call {
            method: Method::POST,
            url: self.url(ApiVersion::V1, &target)?,
            body: Some(json!({ "@odata.id": reference })),
        };
        let outcome = match self.send(&call).await {
            Ok(_) => Ok(MembershipChange::Added),
            Err(GraphError::Rejected {
                status: 400,
                message,
                code,
                what,
            }) => {
                let already = message
                    .as_deref()
                    .is_some_and(|m| m.contains("already exist"));
                if already {
                    Ok(MembershipChange::AlreadyMember)
                } else {
                    // Messages are no contract: check before failing.
                    let groups = [group_id.to_owned()];
                    match self.check_member_groups_uncached(user_id, &groups).await {
                        Ok(found) if !found.is_empty() => Ok(MembershipChange::AlreadyMember),
                        _ => Err(GraphError::Rejected {
                            status: 400,
                            message,
                            code,
                            what,
                        }),
                    }
                }
            }
            Err(e) => Err(e),
        };
        self.invalidate_user(user_id).await;
        outcome
    }

    /// Removes a person from a group; not being a member is success.
    pub async fn remove_group_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MembershipChange, GraphError> {
        let target = Target::new(["groups", group_id, "members", user_id, "$ref"]);
        let call = Call {
            method: Method::DELETE,
            url: self.url(ApiVersion::V1, &target)?,
            body: None,
        };
        let outcome = match self.send(&call).await {
            Ok(_) => Ok(MembershipChange::Removed),
            Err(GraphError::NotFound { what, code }) => {
                // Graph says 404 both for a missing group and for a non-member.
                let groups = [group_id.to_owned()];
                match self.check_member_groups_uncached(user_id, &groups).await {
                    Ok(found) if found.is_empty() => Ok(MembershipChange::NotMember),
                    _ => Err(GraphError::NotFound { what, code }),
                }
            }
            Err(e) => Err(e),
        };
        self.invalidate_user(user_id).await;
        outcome
    }

    /// Which of up to 20 groups a person is in, transitively (cached).
    pub async fn check_member_groups(
        &self,
        user_id: &str,
        group_ids: &[String],
    ) -> Result<Arc<Vec<String>>, GraphError> {
        let mut sorted = group_ids.to_vec();
        sorted.sort();
        let k = format!("{}|{}", key(user_id), sorted.join(","));
        self.cached(
            &self.caches().member_groups,
            k,
            self.check_member_groups_uncached(user_id, group_ids),
        )
        .await
    }

    async fn check_member_groups_uncached(
        &self,
        user_id: &str,
        group_ids: &[String],
    ) -> Result<Vec<String>, GraphError> {
        if group_ids.len() > MAX_CHECK_GROUPS {
            return Err(GraphError::Config {
                reason: format!(
                    "checkMemberGroups takes at most {MAX_CHECK_GROUPS} group ids, not {}",
                    group_ids.len()
                ),
            });
        }
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let target = Target::new(["users", user_id, "checkMemberGroups"]);
        let call = Call {
            method: Method::POST,
            url: self.url(ApiVersion::V1, &target)?,
            body: Some(
                serde_json::to_value(CheckMemberGroupsRequest {
                    group_ids: group_ids.to_vec(),
                })
                .expect("plain struct serialises"),
            ),
        };
        let reply = self.send(&call).await?;
        let page: Page<String> = decode(&call.what(), &reply.body)?;
        Ok(page.value)
    }

    /// A group's members' object ids, page by page (999 a page).
    pub fn group_member_ids(
        &self,
        group_id: &str,
    ) -> BoxStream<'static, Result<Vec<DirectoryObject>, GraphError>> {
        let target = Target::new(["groups", group_id, "members"])
            .query("$select", "id")
            .query("$top", DIRECTORY_PAGE.to_string());
        match self.url(ApiVersion::V1, &target) {
            Ok(url) => self.pages(url),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// The groups a person is in, directly or through other groups.
    pub async fn transitive_member_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<DirectoryObject>, GraphError> {
        let target = Target::new([
            "users",
            user_id,
            "transitiveMemberOf",
            "microsoft.graph.group",
        ])
        .query("$select", "id,displayName")
        .query("$top", DIRECTORY_PAGE.to_string());
        let all: Vec<DirectoryObject> = self.all(ApiVersion::V1, &target).await?;
        Ok(all.into_iter().filter(DirectoryObject::is_group).collect())
    }

    // ---- policy ------------------------------------------------------------------------

    /// The tenant's passkey (FIDO2) policy with its passkey profiles (cached for
    /// `graph.policy_cache_ttl_secs`).
    pub async fn fido2_policy(&self) -> Result<Arc<Fido2MethodConfiguration>, GraphError> {
        self.cached(&self.caches().policy, (), async {
            let path = [
                "policies",
                "authenticationMethodsPolicy",
                "authenticationMethodConfigurations",
                "fido2",
            ];
            // Whether profiles come without `$expand` is undocumented: ask, and accept a
            // Graph that refuses the option.
            let expanded = Target::new(path).query("$expand", "passkeyProfiles");
            match self.get(ApiVersion::V1, &expanded).await {
                Err(GraphError::Rejected { status: 400, .. }) => {
                    self.get(ApiVersion::V1, &Target::new(path)).await
                }
                other => other,
            }
        })
        .await
    }

    // ---- Teams -------------------------------------------------------------------------

    /// Installs the bot (by its org catalog id) in a person's personal scope, so it can
    /// message them; 409 (already installed) is success.
    pub async fn install_app_for_user(
        &self,
        user_id: &str,
        catalog_app_id: &str,
    ) -> Result<InstallOutcome, GraphError> {
        let target = Target::new(["users", user_id, "teamwork", "installedApps"]);
        let bind = format!(
            "{}/v1.0/appCatalogs/teamsApps/{}",
            self.base_url(),
            Target::new([catalog_app_id])
                .relative()
                .trim_start_matches('/')
        );
        let call = Call {
            method: Method::POST,
            url: self.url(ApiVersion::V1, &target)?,
            body: Some(json!({ "teamsApp@odata.bind": bind })),
        };
        match self.send(&call).await {
            Ok(_) => Ok(InstallOutcome::Installed),
            Err(GraphError::Rejected { status: 409, .. }) => Ok(InstallOutcome::AlreadyInstalled),
            Err(e) => Err(e),
        }
    }

    /// Apps installed for a person, optionally only the one with this catalog id.
    pub async fn installed_apps(
        &self,
        user_id: &str,
        catalog_app_id: Option<&str>,
    ) -> Result<Vec<InstalledApp>, GraphError> {
        let mut target = Target::new(["users", user_id, "teamwork", "installedApps"])
            .query("$expand", "teamsApp");
        if let Some(app) = catalog_app_id {
            target = target.query("$filter", format!("teamsApp/id eq '{}'", quote(app)));
        }
        self.all(ApiVersion::V1, &target).await
    }

    /// The 1:1 chat between the installed bot and the person.
    pub async fn installed_app_chat(
        &self,
        user_id: &str,
        installation_id: &str,
    ) -> Result<Chat, GraphError> {
        let target = Target::new([
            "users",
            user_id,
            "teamwork",
            "installedApps",
            installation_id,
            "chat",
        ]);
        self.get(ApiVersion::V1, &target).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_filters_follow_the_reference() {
        let mut q = SignInQuery::since("2026-08-20T00:00:00.5Z".parse().unwrap());
        q.user_id = Some("u1".into());
        q.non_interactive = true;
        assert_eq!(
            q.filter(),
            "userId eq 'u1' and createdDateTime ge 2026-08-20T00:00:00Z and signInEventTypes/any(t: t eq 'nonInteractiveUser')"
        );
    }
}
