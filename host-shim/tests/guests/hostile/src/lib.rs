//! A hostile `plugin` component: every export runs the attack its first argument names and
//! reports what the host answered, so `host-shim/tests/sandbox.rs` can assert each refusal.
//!
//! * `set-ignore([attack, args…])` and `test-connection(url, attack, args)` (args joined by
//!   `\n`, reached with the user's URL as the allowed origin) both land in [`run`].
//! * `status` and `snapshot` answer a default status, so a test can check the host still works.
//!
//! The report is always the export's `sync-error` with the code `local-io` and the message
//! `<report code>\n<text>` (the code is a closed WIT enum, so the report travels in the
//! message; `tests/guests/support.rs` unpacks it). The report code is the host error's code in
//! WIT spelling (`outside-vault`, `not-permitted`, …), `ok` when the host let the attempt through
//! (the text then describes what came back), `wasi-error` for a refused WASI call, or
//! `unrepresentable` for a request API 0.2.0 cannot express (an HTTP method outside the enum).

wit_bindgen::generate!({
    path: "../../../../wit",
    world: "plugin",
});

use exports::verstak::sync::status_provider;
use exports::verstak::sync::sync_provider::{
    DeletedFile, Direction, FileVersion, Guest, Restored, StatusLabel, SyncError, SyncErrorCode,
    SyncStatus, SyncSummary,
};
use verstak::sync::files::{self, Expect};
use verstak::sync::network::{self, Body, Method, Request};
use verstak::sync::types::{ErrorCode, HostError};
use verstak::sync::{log, settings, storage};

struct Component;

fn report(code: &str, message: impl Into<String>) -> SyncError {
    SyncError { code: SyncErrorCode::LocalIo, message: format!("{code}\n{}", message.into()) }
}

fn code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotPermitted => "not-permitted",
        ErrorCode::OutsideVault => "outside-vault",
        ErrorCode::NotFound => "not-found",
        ErrorCode::AlreadyExists => "already-exists",
        ErrorCode::Changed => "changed",
        ErrorCode::NotEmpty => "not-empty",
        ErrorCode::InvalidInput => "invalid-input",
        ErrorCode::TooLarge => "too-large",
        ErrorCode::ForbiddenOrigin => "forbidden-origin",
        ErrorCode::Network => "network",
        ErrorCode::Io => "io",
    }
}

/// Turns a host answer into the report: `ok` plus a description, or the host's error.
fn answer<T>(r: Result<T, HostError>, describe: impl FnOnce(T) -> String) -> SyncError {
    match r {
        Ok(v) => report("ok", describe(v)),
        Err(e) => report(code_name(e.code), e.message),
    }
}

fn wasi<T>(r: std::io::Result<T>, describe: impl FnOnce(T) -> String) -> SyncError {
    match r {
        Ok(v) => report("ok", describe(v)),
        Err(e) => report("wasi-error", e.to_string()),
    }
}

fn expect(arg: Option<&String>) -> Expect {
    match arg.map(String::as_str) {
        None | Some("") | Some("absent") => Expect::Absent,
        Some(hash) => Expect::Hash(hash.to_string()),
    }
}

fn unit(_: ()) -> String {
    String::new()
}

/// Keeps the optimiser from proving a loop pointless.
fn opaque<T>(v: T) -> T {
    std::hint::black_box(v)
}

/// Runs one attack; `args[0]` names it, the rest are its arguments.
fn run(args: &[String]) -> SyncError {
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    let num = |i: usize| arg(i).parse::<u64>().unwrap_or(0);
    match arg(0) {
        "noop" => report("ok", "still here"),

        // The `files` import, one function each.
        "list-dir" => answer(files::list_dir(arg(1)), |l| l.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(",")),
        "read" => answer(files::read(arg(1), num(2), num(3) as u32), |b| String::from_utf8_lossy(&b).into_owned()),
        "hash" => answer(files::hash(arg(1)), |d| format!("{} bytes, {}", d.size, d.sha256)),
        "write" => answer(files::write(arg(1), arg(2).as_bytes(), &expect(args.get(3))), |m| format!("{} bytes", m.size)),
        "copy" => answer(files::copy(arg(1), arg(2), arg(3)), |m| format!("{} bytes", m.size)),
        "rename" => answer(files::rename(arg(1), arg(2)), unit),
        "trash" => answer(files::trash(arg(1), &expect(args.get(2))), unit),
        "mkdir" => answer(files::mkdir(arg(1)), unit),
        "remove-dir" => answer(files::remove_dir(arg(1)), unit),
        "stage-write" => answer(files::stage_write(arg(1), num(2), arg(3).as_bytes()), unit),
        "stage-copy" => answer(files::stage_copy(arg(1), arg(2)), |s| format!("{} bytes", s.size)),
        "commit-stage" => answer(files::commit_stage(arg(1), arg(2), &expect(args.get(3))), |m| format!("{} bytes", m.size)),
        "delete-stage" => answer(files::delete_stage(arg(1)), unit),

        // Private storage and settings.
        "storage-get" => answer(storage::get(arg(1)), |v| v.unwrap_or_else(|| "<none>".into())),
        "storage-set" => answer(storage::set(arg(1), arg(2)), unit),
        "storage-append" => answer(storage::append(arg(1), arg(2)), unit),
        "storage-delete" => answer(storage::delete(arg(1)), unit),
        "settings-read" => answer(settings::read(), |s| s),
        "settings-write" => answer(settings::write(arg(1)), unit),

        // `send METHOD URL [NAME VALUE]…`
        "send" => {
            let headers = args[3.min(args.len())..].chunks(2).map(|h| (h[0].clone(), h.get(1).cloned().unwrap_or_default())).collect();
            let method = match arg(1) {
                "GET" => Method::Get,
                "HEAD" => Method::Head,
                "POST" => Method::Post,
                other => return report("unrepresentable", format!("method {other:?}")),
            };
            let req = Request { method, url: arg(2).into(), headers, body: Body::Empty };
            answer(network::send(&req), |r| format!("status {} body {} bytes", r.status, r.body.len()))
        }

        // Resource exhaustion.
        "loop" => {
            let mut n = 0u64;
            loop {
                n = opaque(n.wrapping_add(1));
            }
        }
        "loop-imports" => loop {
            log::write(log::Level::Trace, opaque("spinning"));
            let _ = opaque(files::list_dir(""));
        },
        "grow" => {
            let mut hoard: Vec<Vec<u8>> = vec![];
            loop {
                hoard.push(opaque(vec![1u8; 1 << 20]));
            }
        }
        // Lets the host fill guest memory: 16 MiB reads of `arg(1)`, kept forever.
        "grow-via-host" => {
            let mut hoard = vec![];
            loop {
                match files::read(arg(1), 0, 16 << 20) {
                    Ok(bytes) => hoard.push(opaque(bytes)),
                    Err(e) => return report(code_name(e.code), e.message),
                }
            }
        }
        "panic" => panic!("the hostile guest panics on purpose"),
        "exit" => std::process::exit(3),

        // Around the imports: plain WASI from the standard library.
        "wasi-read" => wasi(std::fs::read(arg(1)), |b| format!("{} bytes", b.len())),
        "wasi-write" => wasi(std::fs::write(arg(1), b"hostile"), unit),
        "wasi-list" => wasi(std::fs::read_dir(arg(1)), |d| format!("{} entries", d.count())),
        "wasi-env" => report("ok", format!("{} vars, {} args", std::env::vars_os().count(), std::env::args_os().count())),
        "wasi-connect" => wasi(std::net::TcpStream::connect(arg(1)), |_| "connected".into()),
        "wasi-resolve" => wasi(std::net::ToSocketAddrs::to_socket_addrs(&(arg(1), 80)), |a| format!("{} addresses", a.count())),

        other => report("unknown-attack", other),
    }
}

fn default_status() -> SyncStatus {
    SyncStatus {
        configured: false,
        syncing: false,
        server_url: String::new(),
        vault_id: String::new(),
        device_id: String::new(),
        // Marks the answer as this guest's (the label is a closed enum since API 0.2.0).
        device_name: "hostile".into(),
        connected: false,
        revoked: false,
        token_stored: false,
        unpushed_ops: 0,
        last_sync_at: String::new(),
        sync_interval: 0,
        last_error: String::new(),
        last_warning: String::new(),
        status_label: StatusLabel::Disabled,
        progress: None,
        effective_vault_id: String::new(),
        last_checked_at: String::new(),
        guard: None,
        ignore: vec![],
        conflicts: vec![],
        replaced: vec![],
    }
}

fn refuse<T>() -> Result<T, SyncError> {
    Err(report("unsupported", "the hostile guest does not sync"))
}

impl Guest for Component {
    fn status() -> Result<SyncStatus, SyncError> {
        Ok(default_status())
    }

    fn configure(_server_url: String, attack: String, args: String, _vault_id: String) -> Result<(), SyncError> {
        Self::test_connection(String::new(), attack, args)
    }

    fn test_connection(_server_url: String, attack: String, args: String) -> Result<(), SyncError> {
        let mut all = vec![attack];
        if !args.is_empty() {
            all.extend(args.split('\n').map(String::from));
        }
        Err(run(&all))
    }

    fn disconnect() -> Result<(), SyncError> {
        refuse()
    }

    fn set_interval(_minutes: i32) -> Result<(), SyncError> {
        refuse()
    }

    fn sync_now() -> Result<SyncSummary, SyncError> {
        refuse()
    }

    fn sync_changed(_paths: Vec<String>) -> Result<SyncSummary, SyncError> {
        refuse()
    }

    fn reset_key() -> Result<(), SyncError> {
        refuse()
    }

    fn dismiss_conflicts(_ids: Vec<String>) -> Result<(), SyncError> {
        refuse()
    }

    fn confirm_deletions(_direction: Direction) -> Result<SyncSummary, SyncError> {
        refuse()
    }

    fn restore_deletions(_direction: Direction) -> Result<SyncSummary, SyncError> {
        refuse()
    }

    fn set_ignore(attack: Vec<String>) -> Result<(), SyncError> {
        Err(run(&attack))
    }

    fn history(_path: String, _limit: u32) -> Result<Vec<FileVersion>, SyncError> {
        refuse()
    }

    fn deleted(_limit: u32) -> Result<Vec<DeletedFile>, SyncError> {
        refuse()
    }

    fn restore(_path: String, _version: i64) -> Result<Restored, SyncError> {
        refuse()
    }
}

impl status_provider::Guest for Component {
    fn snapshot() -> Result<SyncStatus, SyncError> {
        Ok(default_status())
    }
}

export!(Component);
