//! The simulated Microsoft tenant: a seeded population of people, devices, methods and logs;
//! Entra and Bot Framework identity; the Teams channel; the Bot Connector; and a control API,
//! served on one local listener.
//!
//! The bot talks to it exactly as to Microsoft: only base URLs and keys in its configuration
//! differ. Tests, `demo` and benchmarks run the real service against it.

pub mod channel;
pub mod clock;
pub mod connector;
pub mod fault;
pub mod graph;
pub mod identity;
pub mod population;
pub mod server;
pub mod signin;
pub mod standalone;
