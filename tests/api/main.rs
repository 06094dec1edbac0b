//! The integration tests: the real service on a random port against local fakes.

mod cli;
mod helpers;
mod manifest;
mod robustness;
mod webhook;
