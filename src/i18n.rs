//! Texts of cards and messages, from Fluent files under `locales/<lang>/`.
//!
//! The language comes from the activity's locale (`de-DE` → `de`); anything without a
//! translation falls back to English, message by message.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

/// The languages shipped, each with its Fluent source (embedded in the binary).
const LOCALES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en/main.ftl")),
    ("de", include_str!("../locales/de/main.ftl")),
];
const FALLBACK: &str = "en";

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("locales/{lang}/main.ftl does not parse: {detail}")]
    Parse { lang: &'static str, detail: String },
    #[error("locales/{lang}/main.ftl: {detail}")]
    Bundle { lang: &'static str, detail: String },
    #[error("message `{id}` is missing from locales/{FALLBACK}/main.ftl")]
    Missing { id: String },
    #[error("message `{id}` does not format: {detail}")]
    Format { id: String, detail: String },
}

/// All bundles, loaded once at start-up.
pub struct Locales {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
}

impl Locales {
    pub fn load() -> Result<Locales, I18nError> {
        let mut bundles = HashMap::new();
        for (lang, source) in LOCALES {
            let resource = FluentResource::try_new(source.to_string()).map_err(|(_, errors)| {
                I18nError::Parse {
                    lang,
                    detail: format!("{errors:?}"),
                }
            })?;
            let id: LanguageIdentifier = lang.parse().expect("shipped language tags are valid");
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Cards are plain text: no Unicode isolation marks around placeables.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| I18nError::Bundle {
                    lang,
                    detail: format!("{errors:?}"),
                })?;
            bundles.insert(*lang, bundle);
        }
        Ok(Locales { bundles })
    }

    /// The shipped language for a locale tag such as `de-DE`, else English.
    pub fn language(&self, locale: Option<&str>) -> &'static str {
        let primary = locale
            .and_then(|l| l.split(['-', '_']).next())
            .map(str::to_ascii_lowercase);
        LOCALES
            .iter()
            .map(|(lang, _)| *lang)
            .find(|lang| primary.as_deref() == Some(*lang))
            .unwrap_or(FALLBACK)
    }

    /// Formats message `id` in `lang`, falling back to English when that language lacks it.
    pub fn text(
        &self,
        lang: &str,
        id: &str,
        args: Option<&FluentArgs>,
    ) -> Result<String, I18nError> {
        let bundle = [lang, FALLBACK]
            .into_iter()
            .filter_map(|l| self.bundles.get(l))
            .find(|b| b.has_message(id))
            .ok_or_else(|| I18nError::Missing { id: id.to_owned() })?;
        let pattern = bundle
            .get_message(id)
            .and_then(|m| m.value())
            .ok_or_else(|| I18nError::Missing { id: id.to_owned() })?;
        let mut errors = Vec::new();
        let text: Cow<'_, str> = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            return Err(I18nError::Format {
                id: id.to_owned(),
                detail: format!("{errors:?}"),
            });
        }
        Ok(text.into_owned())
    }

    /// Message ids of the fallback language, for completeness checks.
    pub fn message_ids(&self, lang: &str) -> Vec<String> {
        let source = LOCALES
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, s)| *s)
            .unwrap_or_default();
        source
            .lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_locale_gets_german_and_unknown_locales_get_english() {
        let l = Locales::load().unwrap();
        assert_eq!(l.language(Some("de-DE")), "de");
        assert_eq!(l.language(Some("fr-FR")), "en");
        assert_eq!(l.language(None), "en");
        let mut args = FluentArgs::new();
        args.set("name", "Megan");
        assert!(
            l.text("de", "welcome-title", Some(&args))
                .unwrap()
                .starts_with("Hallo Megan")
        );
        assert!(
            l.text("en", "welcome-title", Some(&args))
                .unwrap()
                .starts_with("Hi Megan,")
        );
    }

    #[test]
    fn every_shipped_language_has_every_english_message() {
        let l = Locales::load().unwrap();
        let english = l.message_ids("en");
        assert!(!english.is_empty());
        for (lang, _) in LOCALES {
            let ids = l.message_ids(lang);
            for id in &english {
                assert!(ids.contains(id), "locales/{lang}/main.ftl lacks {id}");
            }
        }
    }
}
