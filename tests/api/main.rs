//! The integration tests: the real service on a random port against local fakes.

mod helpers;
mod robustness;
mod webhook;
