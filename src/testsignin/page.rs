//! The small HTML page the browser shows after the test sign-in: the result and "go back to
//! Teams". No script; texts from `locales/` (Fluent), HTML-escaped.

use super::{PageResult, TestOutcome};
use crate::i18n::Locales;

/// The page for `result` in `lang`.
pub(super) fn render(locales: &Locales, lang: &str, result: PageResult) -> String {
    let text = |id: &str| {
        locales
            .text(lang, id, None)
            .map(|t| escape(&t.replace("**", "")))
            .unwrap_or_default()
    };
    let (class, heading, body, next) = match result {
        PageResult::Outcome(TestOutcome::Passed) => (
            "passed",
            text("signin-passed-title"),
            text("signin-passed-body"),
            text("signin-back"),
        ),
        PageResult::Outcome(TestOutcome::Failed(reason)) => (
            "failed",
            text("test-failed-title"),
            text(&format!("test-failed-{}", reason.key())),
            text("signin-failed-back"),
        ),
        PageResult::Unknown => (
            "failed",
            text("signin-unknown-title"),
            String::new(),
            text("signin-unknown"),
        ),
        PageResult::Unavailable => (
            "failed",
            text("signin-unavailable-title"),
            String::new(),
            text("signin-unavailable"),
        ),
    };
    let title = text("signin-page-title");
    let body = if body.is_empty() {
        String::new()
    } else {
        format!("<p>{body}</p>\n")
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
         margin:3rem auto;padding:0 1rem;line-height:1.5}}.passed h1{{color:#107c10}}\
         .failed h1{{color:#a4262c}}</style>\n</head>\n<body class=\"{class}\">\n\
         <h1>{heading}</h1>\n{body}<p>{next}</p>\n</body>\n</html>\n"
    )
}

fn escape(text: &str) -> String {
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
    use crate::testsignin::FailureReason;

    #[test]
    fn the_page_says_the_result_in_the_language_asked_for() {
        let locales = Locales::load().unwrap();
        let en = render(&locales, "en", PageResult::Outcome(TestOutcome::Passed));
        assert!(en.contains("<html lang=\"en\">"), "{en}");
        assert!(en.contains("Your passkey works"), "{en}");
        assert!(en.contains("Teams"), "{en}");
        assert!(!en.contains("<script"), "{en}");
        let de = render(
            &locales,
            "de",
            PageResult::Outcome(TestOutcome::Failed(FailureReason::StrengthNotMet)),
        );
        assert!(de.contains("<html lang=\"de\">"), "{de}");
        assert!(de.contains("Die Testanmeldung hat nicht geklappt"), "{de}");
        assert!(de.contains("Gesicht, Fingerabdruck"), "{de}");
        assert!(!de.contains("**"), "markdown is stripped: {de}");
    }

    #[test]
    fn texts_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
