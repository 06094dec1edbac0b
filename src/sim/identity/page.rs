//! The server-rendered HTML of the simulated Entra sign-in: the page where a simulated person
//! picks how they sign in, and Entra's own error page for requests it will not redirect.
//!
//! Plain forms and buttons, no script: it works for HTTP clients and headless browsers alike.

use std::fmt::Write as _;

use crate::sim::signin::{OptionFailure, SignInOption, SignInPerson};

/// What the sign-in page shows.
pub(super) struct SignInPage<'a> {
    /// Path the forms post to (`/{tenant}/login`).
    pub action: &'a str,
    /// The pending sign-in the forms carry.
    pub context: &'a str,
    pub app_name: &'a str,
    /// What the account box is pre-filled with.
    pub login: &'a str,
    /// The person whose options are listed, once known.
    pub person: Option<&'a SignInPerson>,
    pub options: &'a [SignInOption],
    /// Shown above the options (e.g. the account was not found).
    pub notice: Option<String>,
    /// The option that just failed, and why.
    pub failed: Option<(&'a SignInOption, OptionFailure)>,
    /// The person's devices, one of which the simulated browser runs on, and the one chosen.
    pub devices: &'a [String],
    pub from: Option<&'a str>,
}

const STYLE: &str = "body{font-family:'Segoe UI',sans-serif;background:#f2f2f2;margin:0}\
main{max-width:440px;margin:48px auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}\
h1{font-size:24px;font-weight:600;margin:8px 0}.brand{color:#737373;font-size:15px}\
label{display:block;margin-top:16px}input[type=text]{width:100%;padding:6px 0;border:0;border-bottom:1px solid #666;font-size:15px}\
button{margin-top:12px;padding:8px 16px;background:#0067b8;color:#fff;border:0;cursor:pointer}\
ul{list-style:none;padding:0}li button{width:100%;text-align:left;background:#fff;color:#1b1b1b;border:1px solid #ccc}\
.error{color:#e81123}.fine{color:#737373;font-size:12px}";

/// The sign-in page.
pub(super) fn sign_in(page: &SignInPage<'_>) -> String {
    let mut html = head("Sign in to your account");
    let _ = write!(
        html,
        "<p class=\"brand\">Microsoft (simulated tenant)</p><h1>Sign in</h1>\
         <p>to continue to <strong id=\"app\">{}</strong></p>",
        escape(page.app_name)
    );
    if let Some(notice) = &page.notice {
        let _ = write!(
            html,
            "<p class=\"error\" id=\"notice\">{}</p>",
            escape(notice)
        );
    }
    let _ = write!(
        html,
        "<form method=\"post\" action=\"{action}\" id=\"account\">\
         <input type=\"hidden\" name=\"ctx\" value=\"{ctx}\">\
         <label for=\"login\">Email, phone, or Skype</label>\
         <input type=\"text\" id=\"login\" name=\"login\" value=\"{login}\" autocomplete=\"username\">\
         <button type=\"submit\">Next</button></form>",
        action = escape(page.action),
        ctx = escape(page.context),
        login = escape(page.login),
    );
    if let Some(person) = page.person {
        let _ = write!(
            html,
            "<section id=\"person\"><h2>{}</h2><p>{}</p>",
            escape(&person.display_name),
            escape(&person.user_principal_name)
        );
        if let Some((option, failure)) = page.failed {
            let _ = write!(
                html,
                "<div class=\"error\" id=\"failed\" data-option=\"{}\"><p>We couldn't sign you in with {}.</p><p>{}</p></div>",
                escape(&option.id),
                escape(&option.label),
                escape(failure_text(failure))
            );
        }
        let heading = if page.failed.is_some() {
            "Sign in another way"
        } else {
            "Choose a way to sign in"
        };
        let _ = write!(
            html,
            "<h3>{heading}</h3><form method=\"post\" action=\"{action}\" id=\"options\">\
             <input type=\"hidden\" name=\"ctx\" value=\"{ctx}\">\
             <input type=\"hidden\" name=\"login\" value=\"{login}\">",
            action = escape(page.action),
            ctx = escape(page.context),
            login = escape(&person.user_principal_name),
        );
        // Which of the person's devices this browser is (a real page knows from the device
        // itself): a phone's passkey chosen on a computer is the QR/Bluetooth flow.
        if !page.devices.is_empty() {
            html.push_str(
                "<label for=\"from\" class=\"fine\">Signing in on (simulation)</label>\
                 <select id=\"from\" name=\"from\">",
            );
            for d in page.devices {
                let _ = write!(
                    html,
                    "<option value=\"{v}\"{sel}>{v}</option>",
                    v = escape(d),
                    sel = if page.from == Some(d.as_str()) {
                        " selected"
                    } else {
                        ""
                    },
                );
            }
            html.push_str("</select>");
        }
        html.push_str("<ul>");
        for option in page.options {
            let _ = write!(
                html,
                "<li><button type=\"submit\" name=\"option\" value=\"{id}\" data-method=\"{method}\">{label}</button></li>",
                id = escape(&option.id),
                method = serde_json::to_value(option.method)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                label = escape(&option.label),
            );
        }
        if page.options.is_empty() {
            html.push_str("<li>No other way to sign in is set up for this account.</li>");
        }
        html.push_str("</ul></form></section>");
    }
    html.push_str("</main></body></html>");
    html
}

/// Entra's own error page, for requests it cannot send back to the app.
pub(super) fn error(code: u32, description: &str, correlation_id: &str, timestamp: &str) -> String {
    let mut html = head("Sign in to your account");
    let _ = write!(
        html,
        "<p class=\"brand\">Microsoft (simulated tenant)</p><h1>Sign in</h1>\
         <p>Sorry, but we're having trouble signing you in.</p>\
         <p class=\"error\" id=\"error\">AADSTS{code}: {}</p>\
         <p class=\"fine\">Correlation ID: {}<br>Timestamp: {}</p></main></body></html>",
        escape(description),
        escape(correlation_id),
        escape(timestamp)
    );
    html
}

/// `response_mode=form_post`: a form that carries the result to the app and submits itself
/// (with a button when scripts are off), as Entra's page does.
pub(super) fn form_post(action: &str, pairs: &[(&str, &str)]) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Working...</title></head><body>",
    );
    let _ = write!(
        html,
        "<form method=\"POST\" name=\"hiddenform\" action=\"{}\">",
        escape(action)
    );
    for (name, value) in pairs {
        let _ = write!(
            html,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    html.push_str(
        "<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\"></noscript></form>\
         <script>document.forms[0].submit();</script></body></html>",
    );
    html
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    )
}

/// What Entra tells the person when the chosen method does not work.
fn failure_text(failure: OptionFailure) -> &'static str {
    match failure {
        OptionFailure::PasskeyDeletedFromDevice => {
            "The passkey couldn't be found on your device. It may have been deleted. Choose another way to sign in."
        }
        OptionFailure::WhfbPinForgotten => {
            "Windows Hello couldn't verify your PIN. Choose another way to sign in."
        }
        OptionFailure::WhfbOnAnotherDevice => {
            "Windows Hello isn't set up for your account on this device. Choose another way to sign in."
        }
        OptionFailure::PasskeyNotAllowed => {
            "Your organization doesn't allow this passkey. Choose another way to sign in."
        }
        OptionFailure::PasskeyOnAnotherPhone => {
            "That passkey is on another phone or tablet. Use it from a computer, or choose another way to sign in."
        }
    }
}

/// Escapes text for HTML content and double-quoted attributes.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(
            escape("<b>\"O'Neil\" & co</b>"),
            "&lt;b&gt;&quot;O&#39;Neil&quot; &amp; co&lt;/b&gt;"
        );
        let html = error(50011, "redirect <script>", "c", "t");
        assert!(html.contains("redirect &lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
    }
}
