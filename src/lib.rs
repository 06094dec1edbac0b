//! passkey-pilot: a Microsoft Teams bot that moves every employee to Entra ID passkeys.
//!
//! The binary (`src/main.rs`) only parses the command line; everything lives here so tests
//! can start the real service on a random port.

pub mod app;
pub mod assess;
pub mod botframework;
pub mod cards;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod demo;
pub mod engine;
pub mod graph;
pub mod http;
pub mod i18n;
pub mod ids;
pub mod manifest;
pub mod readiness;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod testsignin;
