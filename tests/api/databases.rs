//! Fresh databases for tests: a temporary SQLite file, or a PostgreSQL schema of its own, so
//! tests run in parallel without seeing each other's rows.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;

use futures::FutureExt;
use passkey_pilot::store::{self, PostgresStore, Store};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use tempfile::TempDir;

/// Names the PostgreSQL server the tests use.
pub const POSTGRES_URL_VAR: &str = "PASSKEY_PILOT_TEST_POSTGRES_URL";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Connections each test's PostgreSQL store may hold; small, because tests run in parallel.
const POSTGRES_TEST_CONNECTIONS: u32 = 4;

/// A SQLite database file in a temporary directory, deleted with it.
pub struct SqliteFile {
    _dir: TempDir,
    pub path: PathBuf,
    pub url: String,
}

impl SqliteFile {
    /// A path where no file exists yet.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("passkey-pilot.db");
        let url = format!("sqlite://{}", path.display());
        Self {
            _dir: dir,
            path,
            url,
        }
    }

    /// Opens the store through `store::open`, as the service does.
    pub async fn open(&self) -> Arc<dyn Store> {
        store::open(&self.url).await.expect("open SQLite store")
    }

    /// A plain connection, for SQL the store does not offer.
    pub async fn raw(&self) -> SqliteConnection {
        SqliteConnection::connect(&self.url)
            .await
            .expect("connect to SQLite file")
    }
}

/// A PostgreSQL schema created for one test; `url` makes it the connection's search_path.
#[derive(Clone)]
pub struct PostgresSchema {
    pub url: String,
}

impl PostgresSchema {
    pub async fn open(&self) -> Arc<dyn Store> {
        Arc::new(
            PostgresStore::open_with(&self.url, POSTGRES_TEST_CONNECTIONS)
                .await
                .expect("open PostgreSQL store"),
        )
    }

    /// A plain connection in the schema, for SQL the store does not offer.
    pub async fn raw(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect to PostgreSQL schema")
    }
}

fn postgres_server_url() -> String {
    std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// The server URL with any password hidden, for failure messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn postgres_admin_connection(server_url: &str) -> PgConnection {
    PgConnection::connect(server_url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {} ({e}). Start it, or set {POSTGRES_URL_VAR} to a \
             server the tests may create schemas in; the PostgreSQL tests never skip.",
            redacted(server_url)
        )
    })
}

/// Runs `test` in a new schema, then drops the schema even if the test panicked.
pub async fn in_postgres_schema<F, Fut>(test: F)
where
    F: FnOnce(PostgresSchema) -> Fut,
    Fut: Future<Output = ()>,
{
    let server_url = postgres_server_url();
    let name = format!("pp_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = postgres_admin_connection(&server_url).await;
    // The name is generated above from a UUID: nothing to inject.
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&mut admin)
        .await
        .expect("create test schema");

    let mut url = url::Url::parse(&server_url).expect("PostgreSQL URL");
    url.query_pairs_mut()
        .append_pair("options[search_path]", &name);
    let schema = PostgresSchema {
        url: url.to_string(),
    };

    let outcome = AssertUnwindSafe(test(schema)).catch_unwind().await;

    // Best effort: a leftover schema only costs space.
    let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs a conformance check on a SQLite store in a new file.
pub async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let file = SqliteFile::new();
    test(file.open().await).await;
}

/// Runs a conformance check on an in-memory SQLite store (`sqlite::memory:`).
pub async fn with_sqlite_in_memory<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    test(
        store::open("sqlite::memory:")
            .await
            .expect("open in-memory SQLite store"),
    )
    .await;
}

/// Runs a conformance check on a PostgreSQL store in a new schema.
pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    in_postgres_schema(|schema| async move { test(schema.open().await).await }).await;
}

/// Runs a conformance check on the in-memory reference store.
pub async fn with_memory<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    test(store::open("memory://").await.expect("open memory store")).await;
}
