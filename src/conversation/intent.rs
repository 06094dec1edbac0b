//! What a free-text message asks for, in English and German.
//!
//! Messages are matched after lower-casing and dropping punctuation; a message that matches
//! nothing is `Unknown` and gets the help card with buttons. These are input patterns, not
//! texts shown to people, so they live here rather than in `locales/`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Intent {
    /// start / hi / hallo
    Start,
    Status,
    Help,
    Snooze,
    /// "I have a new phone" / lost phone.
    NewPhone,
    /// Talk to a person.
    Human,
    Stop,
    Unknown,
}

/// Whole messages (after normalising) and what they mean.
const EXACT: &[(&str, Intent)] = &[
    ("start", Intent::Start),
    ("hi", Intent::Start),
    ("hello", Intent::Start),
    ("hey", Intent::Start),
    ("begin", Intent::Start),
    ("lets go", Intent::Start),
    ("go", Intent::Start),
    ("lets start", Intent::Start),
    ("good morning", Intent::Start),
    ("hallo", Intent::Start),
    ("moin", Intent::Start),
    ("servus", Intent::Start),
    ("grüezi", Intent::Start),
    ("guten tag", Intent::Start),
    ("guten morgen", Intent::Start),
    ("los", Intent::Start),
    ("los gehts", Intent::Start),
    ("starten", Intent::Start),
    ("beginnen", Intent::Start),
    ("status", Intent::Status),
    ("progress", Intent::Status),
    ("where am i", Intent::Status),
    ("stand", Intent::Status),
    ("fortschritt", Intent::Status),
    ("wo stehe ich", Intent::Status),
    ("help", Intent::Help),
    ("hilfe", Intent::Help),
    ("what is a passkey", Intent::Help),
    ("was ist ein passkey", Intent::Help),
    ("snooze", Intent::Snooze),
    ("later", Intent::Snooze),
    ("not now", Intent::Snooze),
    ("remind me later", Intent::Snooze),
    ("später", Intent::Snooze),
    ("spaeter", Intent::Snooze),
    ("nicht jetzt", Intent::Snooze),
    ("erinnere mich später", Intent::Snooze),
    ("stop", Intent::Stop),
    ("stopp", Intent::Stop),
    ("unsubscribe", Intent::Stop),
    ("aufhören", Intent::Stop),
    ("hör auf", Intent::Stop),
];

/// Phrases that mean the intent wherever they appear in a message.
const PHRASES: &[(&str, Intent)] = &[
    ("new phone", Intent::NewPhone),
    ("new iphone", Intent::NewPhone),
    ("new mobile", Intent::NewPhone),
    ("lost my phone", Intent::NewPhone),
    ("phone was stolen", Intent::NewPhone),
    ("neues telefon", Intent::NewPhone),
    ("neues handy", Intent::NewPhone),
    ("neues smartphone", Intent::NewPhone),
    ("neues iphone", Intent::NewPhone),
    ("handy verloren", Intent::NewPhone),
    ("telefon verloren", Intent::NewPhone),
    ("talk to someone", Intent::Human),
    ("talk to a person", Intent::Human),
    ("talk to a human", Intent::Human),
    ("helpdesk", Intent::Human),
    ("service desk", Intent::Human),
    ("mit jemandem sprechen", Intent::Human),
    ("mit einem menschen", Intent::Human),
    ("remind me", Intent::Snooze),
    ("erinnere mich", Intent::Snooze),
];

/// Lower case, punctuation dropped, apostrophes removed ("let's" → "lets"), spaces collapsed.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c == '\'' || c == '’' {
            continue;
        }
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_owned()
}

/// What a message asks for.
pub fn parse(text: &str) -> Intent {
    let text = normalise(text);
    if text.is_empty() {
        return Intent::Unknown;
    }
    if let Some((_, intent)) = EXACT.iter().find(|(t, _)| *t == text) {
        return *intent;
    }
    let padded = format!(" {text} ");
    PHRASES
        .iter()
        .find(|(p, _)| padded.contains(&format!(" {p} ")))
        .map_or(Intent::Unknown, |(_, intent)| *intent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_and_commands_in_english_and_german_are_understood() {
        for (text, want) in [
            ("Hi!", Intent::Start),
            ("  hallo  ", Intent::Start),
            ("Let's go", Intent::Start),
            ("Los geht's", Intent::Start),
            ("STATUS", Intent::Status),
            ("Wo stehe ich?", Intent::Status),
            ("help", Intent::Help),
            ("Hilfe", Intent::Help),
            ("snooze", Intent::Snooze),
            ("Später", Intent::Snooze),
            ("can you remind me tomorrow", Intent::Snooze),
            ("I have a new phone", Intent::NewPhone),
            ("Ich habe ein neues Handy.", Intent::NewPhone),
            ("I'd like to talk to someone please", Intent::Human),
            ("stop", Intent::Stop),
            ("Stopp", Intent::Stop),
        ] {
            assert_eq!(parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn anything_else_is_unknown() {
        for text in [
            "",
            "   ",
            "what's the weather",
            "histogram",
            "phone",
            "stopwatch",
        ] {
            assert_eq!(parse(text), Intent::Unknown, "{text:?}");
        }
    }
}
