//! Start-up: builds the service from config, binds (port 0 works for tests), runs background
//! tasks, and shuts down gracefully with a bounded drain.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::botframework::auth::{ChannelAuthenticator, KeyStore};
use crate::botframework::connector::Connector;
use crate::botframework::token;
use crate::cards::Cards;
use crate::config::Config;
use crate::engine::ports::NoTestLinks;
use crate::engine::{Engine, EngineSettings, Ports, TestLinks};
use crate::http::{AppState, router};
use crate::i18n::Locales;
use crate::store::{self, Store};
use crate::testsignin::{
    DeliveryError, EventLogSink, TestDelivery, TestSignIn, TestSignInSink, system_clock,
};

/// How often expired activity claims are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);
/// How often signing keys are refreshed in the background (they expire after a day).
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// Retry interval while the signing keys have never been loaded.
const KEY_RETRY_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("outbound token: {0}")]
    Token(#[from] token::TokenError),
    #[error("cards: {0}")]
    Cards(#[from] crate::cards::CardError),
    #[error("locales: {0}")]
    Locales(#[from] crate::i18n::I18nError),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A built service, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: Arc<AppState>,
    config: Config,
    background: Vec<JoinHandle<()>>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let store = store::open_with(&config.store.url, Some(config.store.max_connections)).await?;
        Self::build_with_store(config, store).await
    }

    pub async fn build_with_store(
        config: Config,
        store: Arc<dyn Store>,
    ) -> Result<Application, StartError> {
        Self::build_with_ports(config, store, None).await
    }

    /// As [`Application::build_with_store`], with the engine's outside parts given (`None`:
    /// built from `[graph]`).
    pub async fn build_with_ports(
        config: Config,
        store: Arc<dyn Store>,
        ports: Option<Ports>,
    ) -> Result<Application, StartError> {
        // Install the metrics recorder before anything records.
        crate::telemetry::metrics();
        if config.bot.app_id.is_empty() && !config.dev.allow_anonymous {
            tracing::warn!("bot.app_id is not set: every activity will be refused until it is");
        }
        if config.bot.allow_http_service_url {
            tracing::warn!("bot.allow_http_service_url is on: for local simulation only");
        }
        let http = crate::botframework::connector::http_client()?;
        let journey_sink = Arc::new(JourneySink {
            log: EventLogSink::new(store.clone()),
            engine: std::sync::OnceLock::new(),
        });
        let test_signin = if config.test_signin.enabled() {
            Some(Arc::new(TestSignIn::new(
                config.test_signin.clone(),
                &config.server.public_url,
                store.clone(),
                journey_sink.clone(),
                Arc::new(Locales::load()?),
                http.clone(),
                system_clock(),
            )))
        } else {
            None
        };
        let keys = Arc::new(KeyStore::new(
            config.bot.openid_metadata_url.clone(),
            http.clone(),
        ));
        let auth = ChannelAuthenticator::new(&config.bot, keys.clone());
        if config.dev.allow_anonymous {
            tracing::warn!(
                "dev.allow_anonymous is on: activities without a token are accepted (local development only)"
            );
        }
        let tokens = match token::token_source(&config.bot, http.clone()) {
            Err(token::TokenError::Misconfigured { .. })
                if config.dev.allow_anonymous && config.bot.app_id.is_empty() =>
            {
                Arc::new(token::Anonymous)
            }
            Ok(tokens) => tokens,
            Err(e @ token::TokenError::Misconfigured { .. }) => {
                tracing::warn!(error = %e, "the bot cannot send messages until this is fixed");
                Arc::new(token::Unavailable(e))
            }
            Err(e) => return Err(e.into()),
        };
        let connector = Arc::new(Connector::new(&config.bot, tokens, http.clone()));
        let ports = match ports {
            Some(ports) => ports,
            None => {
                let test_links: Arc<dyn TestLinks> = match &test_signin {
                    Some(service) => service.clone(),
                    None => Arc::new(NoTestLinks),
                };
                let settings =
                    crate::assess::Settings::from_config(&config, jiff::Timestamp::now());
                let log_reuse = std::time::Duration::from_secs(
                    config.journey.log_reuse_mins.saturating_mul(60),
                );
                match crate::graph::GraphClient::from_config(&config.graph, http) {
                    Ok(graph) => {
                        Ports::from_graph(Some(graph), "", settings, log_reuse, test_links)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Graph is not usable: the journey cannot assess or enforce");
                        Ports::from_graph(None, &e.to_string(), settings, log_reuse, test_links)
                    }
                }
            }
        };
        let engine = Engine::new(
            store.clone(),
            connector,
            Cards::load()?,
            Locales::load()?,
            EngineSettings::from_config(&config),
            ports,
        );
        let _ = journey_sink.engine.set(engine.clone());
        let state = Arc::new(AppState {
            auth,
            engine,
            allowed_tenants: config
                .bot
                .allowed_tenants
                .iter()
                .cloned()
                .collect::<HashSet<_>>(),
            max_body_bytes: config.server.max_body_bytes,
            allow_anonymous: config.dev.allow_anonymous,
            test_signin,
        });
        let listener = TcpListener::bind(config.server.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.server.bind,
                source,
            })?;
        let background = vec![
            tokio::spawn(refresh_keys(keys)),
            tokio::spawn(purge_activities(store)),
            tokio::spawn(crate::telemetry::metrics_upkeep()),
            tokio::spawn(state.engine.clone().run_worker()),
        ];
        Ok(Application {
            listener,
            state,
            config,
            background,
        })
    }

    /// The engine, to deliver events and run the effects worker's rounds from tests.
    pub fn engine(&self) -> Engine {
        self.state.engine.clone()
    }

    /// The bound address (the real port when `server.bind` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
    /// `server.shutdown_grace_secs`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let grace = Duration::from_secs(self.config.server.shutdown_grace_secs);
        let app = router(
            self.state,
            Duration::from_secs(self.config.server.request_timeout_secs),
        );
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = stopping_tx.send(());
        });
        let mut server = tokio::spawn(async move { server.await });
        let result = tokio::select! {
            r = &mut server => r,
            _ = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_secs = grace.as_secs(), "in-flight requests did not finish in time; stopping anyway");
                server.abort();
                Ok(Ok(()))
            }
        };
        for task in self.background {
            task.abort();
        }
        result.unwrap_or(Ok(()))
    }
}

async fn refresh_keys(keys: Arc<KeyStore>) {
    loop {
        let next = match keys.refresh().await {
            Ok(_) => KEY_REFRESH_INTERVAL,
            Err(e) => {
                tracing::warn!(error = %e, "could not load Bot Framework signing keys; retrying");
                if keys.is_loaded().await {
                    KEY_REFRESH_INTERVAL / 6
                } else {
                    KEY_RETRY_INTERVAL
                }
            }
        };
        tokio::time::sleep(next).await;
    }
}

async fn purge_activities(store: Arc<dyn Store>) {
    loop {
        tokio::time::sleep(PURGE_INTERVAL).await;
        match store.purge_expired_activities(jiff::Timestamp::now()).await {
            Ok(n) if n > 0 => tracing::debug!(purged = n, "purged expired activity ids"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge expired activity ids"),
        }
        let day_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
        if let Err(e) = store.purge_test_attempts(day_ago).await {
            tracing::warn!(error = %e, "could not purge old test sign-in attempts");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Test sign-in results: kept in the event log, then handed to the person's journey as
/// `Event::TestSignIn`. The engine is bound once it is built (it is built after the test
/// sign-in service).
struct JourneySink {
    log: EventLogSink,
    engine: std::sync::OnceLock<Engine>,
}

#[async_trait::async_trait]
impl TestSignInSink for JourneySink {
    async fn deliver(&self, delivery: TestDelivery) -> Result<(), DeliveryError> {
        self.log.deliver(delivery.clone()).await?;
        let Some(engine) = self.engine.get() else {
            return Err(DeliveryError(
                "the journey engine is not running".to_owned(),
            ));
        };
        let who = crate::engine::Who {
            tenant_id: delivery.tenant_id,
            aad_object_id: delivery.aad_object_id,
        };
        let event = crate::conversation::Event::TestSignIn {
            result: delivery.outcome.into(),
        };
        engine
            .deliver(&who, event)
            .await
            .map_err(|e| DeliveryError(e.to_string()))
    }
}
