//! Startup (spec §1.8), the accept loop and graceful shutdown.
//!
//! [`run`] follows the startup order: data directory, `config.yml`, overrides, `--admin-user`,
//! database, `blobs/`, one retention pass, bind, the ready line, serve. Connections are served
//! by hyper's HTTP/1 builder (16 KiB header block) over [`IdleIo`], which times the request
//! header (10 s) apart from idle keep-alive (120 s). `conns` counts open connections for
//! `/metrics`, caps them per client IP ([`ConnPolicy`]) and paces the accept loop when
//! accepting fails (`EMFILE`); the soft open-file limit is raised to the hard one first. On
//! SIGINT or SIGTERM the listener closes, every event stream is told to close
//! (`server_shutdown`), in-flight requests get up to 20 s, then the writer drains and the WAL
//! is checkpointed.

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::blobstore::BlobStore;
use crate::config::{Config, ConfigFile, Overrides};
use crate::conns::{self, AcceptBackoff, Conns};
use crate::error::ApiError;
use crate::events::conn::Sniff;
use crate::events::{self, EventHub};
use crate::idle::{IdleIo, Requests, Timeouts, TrackedBody};
use crate::state::AppState;
use crate::store::{Db, retention};

/// The connection clocks (§2.9: header 10 s, idle keep-alive 120 s). Tests shorten them with
/// `VERSTAK_TEST_HEADER_TIMEOUT_MS` and `VERSTAK_TEST_IDLE_TIMEOUT_MS`, which are not an
/// operator setting and are not documented as one.
fn timeouts() -> Timeouts {
    let ms = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
    };
    let d = Timeouts::default();
    Timeouts {
        header: ms("VERSTAK_TEST_HEADER_TIMEOUT_MS").unwrap_or(d.header),
        idle: ms("VERSTAK_TEST_IDLE_TIMEOUT_MS").unwrap_or(d.idle),
    }
}

/// Everything `run` needs from the command line.
pub struct RunOptions {
    pub data: PathBuf,
    pub overrides: Overrides,
    /// `(username, password)` from `--admin-user` and its password source.
    pub admin: Option<(String, String)>,
}

/// Creates the data directory (0750) and returns its absolute path.
pub fn prepare_data_dir(data: &std::path::Path) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let abs = std::path::absolute(data).context("resolving the data directory")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(&abs)
        .context("creating the data directory")?;
    Ok(abs)
}

pub async fn run(opts: RunOptions) -> Result<()> {
    match conns::raise_nofile_limit() {
        Ok(n) => tracing::info!("open file limit: {n}"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open file limit"),
    }
    let data = prepare_data_dir(&opts.data)?;
    let mut file = ConfigFile::load(&data)?;
    let config = Config::resolve(&file, &opts.overrides)?;
    let config = match &opts.admin {
        Some((user, pass)) => {
            file.upsert_admin(user, pass).context("saving config.yml")?;
            tracing::info!("initial admin user \"{user}\" configured");
            Config::resolve(&file, &opts.overrides)?
        }
        None => config,
    };
    let loc = crate::store::Location::resolve(&data, config.storage.database_url.as_deref());
    let pg_url = match &loc {
        crate::store::Location::Pg(url) => Some(url.clone()),
        crate::store::Location::Sqlite(_) => None,
    };
    let db = tokio::task::spawn_blocking(move || Db::open_at(&loc))
        .await?
        .context("opening the database")?;
    let blobs = BlobStore::open(&config.storage.blob_store, &data)?;
    blobs.check().await?;
    tracing::info!("blob store: {}", blobs.describe());
    // Settings another process's console saved while this one was down go into config.yml
    // first, under the flags and environment variables.
    let seen = crate::console_settings::merge_into_file(&db, &mut file)
        .await
        .context("reading the console's saved settings")?;
    let config = Config::resolve(&file, &opts.overrides)?;
    let state = AppState::new(db.clone(), config.clone(), blobs);
    *state.console_seen.lock().await = seen;
    if let Some(url) = pg_url {
        // Other server processes may share this database: their pushes reach our streams.
        events::relay::start(state.events.clone(), db.clone(), url);
    }
    if let Ok(mut f) = state.config_file.lock() {
        *f = Some(file);
    }
    run_retention(&state)
        .await
        .context("retention at startup")?;

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot bind {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        "Verstak Sync Server {} ({}) listening on {addr}",
        crate::VERSION,
        crate::COMMIT
    );

    let hourly = {
        let st = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = run_retention(&st).await {
                    tracing::error!(error = %e, "retention failed");
                }
            }
        })
    };
    let marks = {
        let st = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::marks::FLUSH_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = st.marks.flush(&st.db).await {
                    tracing::warn!(error = %e, "writing access and pull marks failed");
                }
            }
        })
    };
    let settings = {
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                st.events.settings_news().await;
                crate::console_settings::refresh_or_log(&st).await;
            }
        })
    };
    let policy = ConnPolicy::new(&state);
    let last = state.clone();
    serve(listener, crate::app(state), policy, shutdown_signal()).await;
    hourly.abort();
    marks.abort();
    settings.abort();
    if let Err(e) = last.marks.flush(&last.db).await {
        tracing::warn!(error = %e, "writing access and pull marks at shutdown failed");
    }
    db.close().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Retention (§6.16): database steps on the writer, then the temp-upload sweep.
pub(crate) async fn run_retention(st: &AppState) -> Result<()> {
    st.marks.flush(&st.db).await?;
    let r = st.config.retention;
    let policy = retention::Retention {
        idempotency_hours: r.idempotency_hours,
        audit_days: r.audit_days,
    };
    st.db.write(move |c| retention::run(c, policy)).await?;
    let blobs = st.blobs.clone();
    let age = Duration::from_secs(r.temp_upload_hours.max(0) as u64 * 3600);
    tokio::task::spawn_blocking(move || blobs.sweep_uploads(age)).await??;
    crate::thinning::run(st).await?;
    if let Ok(mut last) = st.last_cleanup.lock() {
        *last = crate::util::time::now_rfc3339();
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Who may connect how often: the per-client-IP cap and the proxies whose forwarded client IP
/// it applies to (§2.8).
pub struct ConnPolicy {
    conns: Arc<Conns>,
    trusted: Arc<Vec<IpNet>>,
    /// Told to close every event stream when shutdown begins, so draining never waits on them.
    events: Arc<EventHub>,
    /// Event streams served on lean connections (`events::conn`), which hyper's graceful
    /// shutdown does not see.
    live: Arc<events::conn::Live>,
}

impl ConnPolicy {
    /// The policy for `state`: its trusted proxies, [`conns::MAX_PER_IP`] (tests lower it with
    /// `VERSTAK_TEST_MAX_CONNECTIONS_PER_IP`), and its metrics for the open-connection gauge.
    pub fn new(state: &AppState) -> Self {
        let max = std::env::var("VERSTAK_TEST_MAX_CONNECTIONS_PER_IP")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(conns::MAX_PER_IP);
        ConnPolicy {
            conns: Conns::new(max, state.metrics.clone()),
            trusted: Arc::new(state.config.trusted_proxies.clone()),
            events: state.events.clone(),
            live: Arc::default(),
        }
    }

    fn is_proxy(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// Admission of one request from `peer`: `Some(None)` for a direct client (capped per
    /// connection at accept), `Some(Some(slot))` for a proxied client under its cap, `None`
    /// for a proxied client over it.
    fn admit_request(
        &self,
        peer: IpAddr,
        headers: &axum::http::HeaderMap,
    ) -> Option<Option<conns::IpSlot>> {
        if !self.is_proxy(peer) {
            return Some(None);
        }
        let ip = crate::http::client_ip(peer, headers, &self.trusted);
        self.conns.admit(ip).map(Some)
    }
}

/// Serves one connection with hyper (every connection but a lean event stream).
async fn serve_hyper(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    policy: Arc<ConnPolicy>,
    timeouts: Timeouts,
    builder: &hyper::server::conn::http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let requests = Arc::new(Requests::default());
    let io = IdleIo::new(stream, timeouts, requests.clone());
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let done = requests.start();
        let proxied = policy.admit_request(peer.ip(), req.headers());
        req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
        // Boxed, so hyper's in-flight slot (which lives as long as the connection) holds a
        // pointer rather than the router's whole future.
        let reply = proxied
            .is_some()
            .then(|| Box::pin(app.clone().oneshot(req.map(axum::body::Body::new))));
        async move {
            let Some(reply) = reply else {
                let mut resp = ApiError::TooManyConnections.into_response();
                crate::http::add_security_headers(resp.headers_mut());
                return Ok(resp.map(|body| TrackedBody::wrap(body, done)));
            };
            let resp = reply.await?;
            let guards = (done, proxied.flatten());
            Ok::<_, Infallible>(resp.map(|body| TrackedBody::wrap(body, guards)))
        }
    });
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains for at most 20 s.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    policy: ConnPolicy,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let timeouts = timeouts();
    let policy = Arc::new(policy);
    let mut backoff = AcceptBackoff::default();
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's header timeout also runs while a keep-alive connection waits for its next
    // request; `IdleIo` keeps the two clocks apart instead.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_header_size(16 * 1024)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and the like last a while: wait longer each time, log rarely.
                    let (wait, log) = backoff.failed(std::time::Instant::now());
                    if log {
                        let failures = backoff.failures();
                        tracing::warn!(error = %e, failures, "accept failed; backing off");
                    }
                    tokio::time::sleep(wait).await;
                    continue;
                }
            },
        };
        if let Some(failures) = backoff.succeeded() {
            tracing::info!(failures, "accepting connections again");
        }
        // Direct clients are capped per peer IP here; proxied ones per forwarded IP below.
        let slot = if policy.is_proxy(peer.ip()) {
            None
        } else {
            match policy.conns.admit(peer.ip()) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(ip = %peer.ip(), "connection refused: per-IP cap");
                    continue;
                }
            }
        };
        let open = policy.conns.opened();
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let policy = policy.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let head_by = tokio::time::Instant::now() + timeouts.header;
        tokio::spawn(async move {
            match events::conn::sniff(&stream, timeouts.header).await {
                Sniff::Gone => {}
                Sniff::Stream => {
                    let _live = policy.live.enter();
                    let admit = |h: &axum::http::HeaderMap| policy.admit_request(peer.ip(), h);
                    events::conn::serve(stream, peer, app, timeouts, head_by, &admit).await;
                }
                Sniff::Other => {
                    // The header clock started at accept, not after the peek.
                    let header = head_by.saturating_duration_since(tokio::time::Instant::now());
                    let t = Timeouts { header, ..timeouts };
                    serve_hyper(stream, peer, app, policy, t, &builder, watcher).await
                }
            }
            drop((open, slot));
        });
    }
    drop(listener);
    // Event streams never finish by themselves: each gets `closed` / `server_shutdown` now.
    policy.events.shutdown();
    tracing::info!("shutting down: waiting up to 20 s for in-flight requests");
    let drained = async {
        tokio::join!(graceful.shutdown(), policy.live.drained());
    };
    if tokio::time::timeout(Duration::from_secs(20), drained)
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within 20 s; aborting them");
    }
}
