//! Readiness: what each of a person's devices needs before passkeys can be enforced, from
//! their own data (methods, devices, sign-ins, registration events), the tenant's passkey
//! policy and compatibility rules that are data (`[readiness.rules]` in the config).
//!
//! Pure: no I/O and no clock; `now` is a parameter. The Graph client's models are mapped
//! into [`PersonSnapshot`] elsewhere.
//!
//! A device is *used* when it has a successful sign-in in the window from an app that is not
//! ignored (registration, interrupt, the bot's test app). Each way it signs in (desktop app,
//! each browser, Windows logon) is *covered* when a usable credential works there by the
//! rules, or when a phishing-resistant sign-in through it was seen. A device is `Ready` when
//! every way is covered and a phishing-resistant sign-in from it was seen; a person is
//! `SafeToEnforce` only when every used device is `Ready`.

mod assess;
mod credentials;
mod device;
mod policy;
mod rules;
mod snapshot;
mod verdict;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

pub use assess::assess;
pub use device::{Channel, Client, DeviceKey, Version, WINDOWS_SIGN_IN_APP_ID, WindowsRelease};
pub use policy::{
    Enforcement, KeyRestrictions, NotTargetReason, PasskeyBlock, PasskeyPolicy, PasskeyProfile,
    PolicyBlock, PolicyTarget, TargetPopulation,
};
pub use rules::{
    AndroidModel, Certainty, IgnoredApp, IgnoredWhy, Provider, ProviderKind,
    RegistrationActivities, Rules, StepKind, StepRule,
};
pub use snapshot::*;
pub use verdict::*;
