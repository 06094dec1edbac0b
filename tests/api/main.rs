//! The integration tests, as one binary: `cargo test --test api`. The real service runs on a
//! random port against local fakes; the store suite runs on every backend.

mod assess;
mod cards;
mod cli;
mod databases;
mod demo;
mod graph_client;
mod graph_live;
mod graph_sim;
mod helpers;
mod journey;
mod journey_e2e;
mod manifest;
mod robustness;
mod sim;
mod sim_signin;
mod store;
mod test_signin;
mod webhook;
