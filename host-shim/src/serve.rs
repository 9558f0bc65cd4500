//! `serve`: the local stand-in for the Verstak shell. It serves the harness page, the plugin's
//! bundle, style and catalogs, and answers the harness's `VerstakPluginAPI` calls through the
//! [`Bridge`]. It listens on 127.0.0.1 only and refuses cross-origin requests.
//!
//! It also runs the live loop (`live`) for the vault, as `watch` does, so auto-sync never
//! depends on an open page; syncs go through the bridge, so they never interleave with the
//! panel's calls. `GET /events` pushes the status to the page as it changes (`push`).

use crate::bindings::SyncStatus;
use crate::bindings::exports::verstak::sync::sync_provider::SyncSummary;
use crate::bridge::Bridge;
use crate::live;
use crate::push;
use crate::runtime::Runtime;
use crate::session::Failure;
use crate::vault::VaultDirs;
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use tiny_http::{Header, Method, Request, Response, Server};

const INDEX_HTML: &str = include_str!("../harness/index.html");
const HARNESS_JS: &str = include_str!("../harness/harness.js");
const HARNESS_CSS: &str = include_str!("../harness/harness.css");

/// Request threads: one may sit in a long sync while the others answer status polls.
const SERVE_THREADS: usize = 4;

/// Bridge calls carry settings documents and a few strings; 1 MiB is far more than enough.
const MAX_BRIDGE_BODY: u64 = 1 << 20;

type Reply = Response<std::io::Cursor<Vec<u8>>>;

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header names and values are valid")
}

fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    Response::from_data(body.into())
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
}

fn json_reply(status: u16, value: &Value) -> Reply {
    text(status, "application/json", format!("{value}\n"))
}

/// The files of the plugin package the page may fetch: exactly what the manifest names.
fn plugin_files(manifest_path: &Path) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let root = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let m: Value = serde_json::from_str(&std::fs::read_to_string(manifest_path)?)?;
    let mut files = vec![];
    for ptr in ["/frontend/entry", "/frontend/style"] {
        if let Some(p) = m.pointer(ptr).and_then(Value::as_str) {
            files.push(p.to_string());
        }
    }
    if let Some(locales) = m
        .pointer("/localization/locales")
        .and_then(Value::as_object)
    {
        files.extend(locales.values().filter_map(Value::as_str).map(String::from));
    }
    Ok((root, files))
}

/// The live loop's syncs, through the bridge.
struct LiveBridge<'a, 'r>(&'a Bridge<'r>);

impl live::Syncer for LiveBridge<'_, '_> {
    fn sync(&mut self, paths: Option<&[String]>) -> Result<SyncSummary, Failure> {
        self.0.live_sync(paths)
    }

    fn status(&mut self) -> Result<SyncStatus, Failure> {
        self.0.live_status()
    }
}

/// While a run lasts, publishes its progress twice a second; idle, it sleeps on `started`.
fn push_progress(bridge: &Bridge<'_>, started: std::sync::mpsc::Receiver<()>) {
    while started.recv().is_ok() {
        while bridge.running() {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if bridge.running() {
                bridge.publish();
            }
        }
    }
}

pub struct Serve<'r> {
    vault: VaultDirs,
    bridge: Bridge<'r>,
    manifest_path: PathBuf,
    plugin_root: PathBuf,
    plugin_files: Vec<String>,
    allowed_hosts: [String; 2],
}

impl<'r> Serve<'r> {
    pub fn new(
        runtime: &'r Runtime,
        manifest_path: &Path,
        vault: &Path,
    ) -> anyhow::Result<Serve<'r>> {
        let (plugin_root, plugin_files) = plugin_files(manifest_path)?;
        Ok(Serve {
            vault: VaultDirs::open(vault, &runtime.manifest().id)?,
            bridge: Bridge::new(runtime, vault)?,
            manifest_path: manifest_path.to_path_buf(),
            plugin_root,
            plugin_files,
            allowed_hosts: [String::new(), String::new()],
        })
    }

    /// Binds 127.0.0.1:`port` (0 picks a free port), prints the URL and serves until killed.
    /// A few threads answer requests, so status polls go on while a sync runs.
    pub fn run(mut self, port: u16) -> anyhow::Result<()> {
        let server = Server::http(("127.0.0.1", port))
            .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .unwrap_or(port);
        self.allowed_hosts = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
        println!("verstak-sync-host serving the settings panel at http://127.0.0.1:{port}/");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let this = &self;
        let server = &server;
        let (live_tx, live_rx) = live::channel();
        self.bridge.set_live(live_tx.clone());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        self.bridge.on_run_started(started_tx);
        std::thread::scope(|scope| {
            scope.spawn(move || push_progress(&this.bridge, started_rx));
            scope.spawn(move || {
                let options = live::Options {
                    poll: None,
                    park: true,
                };
                live::run(
                    &mut LiveBridge(&this.bridge),
                    &crate::report::WatchLines,
                    &this.vault,
                    this.bridge.writes(),
                    options,
                    (live_tx, live_rx),
                );
            });
            for _ in 0..SERVE_THREADS {
                scope.spawn(move || {
                    for request in server.incoming_requests() {
                        this.handle(request);
                    }
                });
            }
        });
        Ok(())
    }

    fn handle(&self, mut request: Request) {
        if request.method() == &Method::Get
            && request.url().split('?').next() == Some("/events")
            && self.same_origin(&request)
        {
            return self.events(request);
        }
        let reply = self.route(&mut request);
        if let Err(e) = request.respond(reply) {
            tracing::debug!("client went away: {e}");
        }
    }

    /// Only this page may call: the Host must be our own address (no DNS rebinding) and a
    /// browser's Origin, when sent, must be ours too.
    fn same_origin(&self, request: &Request) -> bool {
        let get = |name: &'static str| {
            request
                .headers()
                .iter()
                .find(|h| h.field.equiv(name))
                .map(|h| h.value.as_str().to_string())
        };
        let host_ok = get("Host").is_some_and(|h| self.allowed_hosts.contains(&h));
        let origin_ok = get("Origin").is_none_or(|o| {
            self.allowed_hosts
                .iter()
                .any(|h| o == format!("http://{h}"))
        });
        host_ok && origin_ok
    }

    fn route(&self, request: &mut Request) -> Reply {
        if !self.same_origin(request) {
            return json_reply(
                403,
                &json!({"code": "forbidden", "error": "cross-origin requests are refused"}),
            );
        }
        let path = request.url().split('?').next().unwrap_or("").to_string();
        match (request.method(), path.as_str()) {
            (Method::Get, "/") => text(200, "text/html; charset=utf-8", INDEX_HTML),
            (Method::Get, "/harness.js") => text(200, "text/javascript; charset=utf-8", HARNESS_JS),
            (Method::Get, "/harness.css") => text(200, "text/css; charset=utf-8", HARNESS_CSS),
            (Method::Get, "/plugin/manifest.json") => {
                self.file(&self.manifest_path.clone(), "application/json")
            }
            (Method::Get, p) if p.starts_with("/plugin/") => {
                self.plugin_file(&p["/plugin/".len()..])
            }
            (Method::Post, "/bridge") => self.bridge_call(request),
            (_, "/bridge") => json_reply(
                405,
                &json!({"code": "method_not_allowed", "error": "POST required"}),
            ),
            _ => json_reply(404, &json!({"code": "not_found", "error": "not found"})),
        }
    }

    /// `GET /events`: the live status stream, on its own thread (it lasts as long as the page).
    fn events(&self, request: Request) {
        let Some(rx) = self.bridge.hub.subscribe() else {
            let reply = json_reply(
                503,
                &json!({"code": "too_many_streams", "error": "too many open pages"}),
            );
            let _ = request.respond(reply);
            return;
        };
        let first = self.bridge.status_json().unwrap_or(Value::Null);
        let out = request.into_writer();
        std::thread::spawn(move || push::serve_events(out, &first, rx));
    }

    fn plugin_file(&self, rel: &str) -> Reply {
        if !self.plugin_files.iter().any(|f| f == rel) {
            return json_reply(404, &json!({"code": "not_found", "error": "not found"}));
        }
        let kind = match rel.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            _ => "application/json",
        };
        self.file(&self.plugin_root.join(rel), kind)
    }

    fn file(&self, path: &Path, kind: &str) -> Reply {
        match std::fs::read(path) {
            Ok(bytes) => text(200, kind, bytes),
            Err(e) => {
                tracing::warn!("cannot serve {}: {e}", path.display());
                json_reply(404, &json!({"code": "not_found", "error": "not found"}))
            }
        }
    }

    fn bridge_call(&self, request: &mut Request) -> Reply {
        let mut body = String::new();
        if request
            .as_reader()
            .take(MAX_BRIDGE_BODY + 1)
            .read_to_string(&mut body)
            .is_err()
            || body.len() as u64 > MAX_BRIDGE_BODY
        {
            return json_reply(
                400,
                &json!({"code": "invalid_request", "error": "invalid bridge request"}),
            );
        }
        let call: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(_) => {
                return json_reply(
                    400,
                    &json!({"code": "invalid_json", "error": "invalid JSON request"}),
                );
            }
        };
        let method = call.get("method").and_then(Value::as_str).unwrap_or("");
        let args = call
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        json_reply(200, &self.bridge.call(method, &args))
    }
}
