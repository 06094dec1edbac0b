//! The integration tests, as one binary: `cargo test --test api`.

mod helpers;
mod store;
