//! Sandbox attacks: a hostile component (`tests/guests/hostile`) linked against the real host
//! tries to leave the vault, read the host's reserved folder, reach other origins, use imports
//! it was not granted, and exhaust time and memory. Every attempt must be refused with the
//! right `error-code` (or stopped with `timeout` / `memory_exceeded`), nothing outside the vault
//! may be read or changed, and the same `Session` must answer the next call (style §3 "Tests").
//!
//! The guest reports through its `sync-error` (unpacked by `support::attack`): `code` is the
//! host's error code in WIT spelling, `ok` when an attempt got through, `wasi-error` when plain
//! WASI refused it.

#[path = "guests/support.rs"]
mod support;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::*;
use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::{CallError, Runtime};
use verstak_sync_host::session::Session;

const SECRET: &str = "OUTSIDE-SECRET";
const TOKEN: &str = "DEVICE-TOKEN-SECRET";

/// A vault with `inside.md`, a folder, and two symlinks out of it, next to an `outside/` folder
/// holding a secret; plus the host's reserved `.verstak/` with a device token in it.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let (vault, outside) = (dir.path().join("vault"), dir.path().join("outside"));
        std::fs::create_dir_all(vault.join("Notes")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(vault.join("inside.md"), "inside\n").unwrap();
        std::fs::write(vault.join("Notes/a.md"), "a\n").unwrap();
        std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
        std::os::unix::fs::symlink(&outside, vault.join("link-dir")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), vault.join("link-file")).unwrap();
        std::os::unix::fs::symlink("../outside", vault.join("Notes/rel-link")).unwrap();
        let engine = vault.join(".verstak/plugin-data/verstak.sync/engine");
        std::fs::create_dir_all(&engine).unwrap();
        std::fs::write(
            engine.join("device-token.json"),
            format!("{{\"token\":\"{TOKEN}\"}}"),
        )
        .unwrap();
        std::fs::write(vault.join(".verstak/vault.json"), r#"{"id":"v1"}"#).unwrap();
        World { dir }
    }

    fn vault(&self) -> std::path::PathBuf {
        self.dir.path().join("vault")
    }

    fn outside(&self) -> std::path::PathBuf {
        self.dir.path().join("outside")
    }

    fn secret_path(&self) -> String {
        self.outside().join("secret.txt").display().to_string()
    }
}

/// Every attempt in `attempts` answers `code`, and no answer carries `leak`.
#[track_caller]
fn all_refused(session: &mut Session<'_>, code: &str, attempts: &[Vec<String>], leak: &str) {
    for a in attempts {
        let args: Vec<&str> = a.iter().map(String::as_str).collect();
        let f = attack(session, &args);
        refused(&f, code, &format!("{args:?}"));
        assert!(!f.message.contains(leak), "{args:?} leaked: {}", f.message);
    }
}

fn v(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Each `files` function, called with `path` in every path position it has.
fn every_files_function(path: &str) -> Vec<Vec<String>> {
    vec![
        v(&["list-dir", path]),
        v(&["read", path, "0", "1024"]),
        v(&["hash", path]),
        v(&["write", path, "pwned"]),
        v(&["copy", path, "copied.md", ""]),
        v(&["copy", "inside.md", path, ""]),
        v(&["rename", path, "moved.md"]),
        v(&["rename", "inside.md", path]),
        v(&["trash", path]),
        v(&["mkdir", path]),
        v(&["remove-dir", path]),
        v(&["stage-copy", path, "s1"]),
        v(&["commit-stage", "staged", path]),
    ]
}

#[test]
fn escaping_paths_are_outside_the_vault_for_every_files_function() {
    let w = World::new();
    let mut s = Session::new(full(), &w.vault());
    // A staging file exists, so `commit-stage` is refused for its target, not its source.
    refused(
        &attack(&mut s, &["stage-write", "staged", "0", "pwned"]),
        "ok",
        "stage-write",
    );
    let (outside, vault) = (snapshot(&w.outside()), user_files(&w.vault()));

    let secret = w.secret_path();
    let escapes = [
        "..",
        "../outside/secret.txt",
        "Notes/../../outside/secret.txt",
        "Notes/..",
        "./inside.md",
        "/etc/passwd",
        secret.as_str(),
        "Notes//a.md",
        "Notes/a.md/",
        "..\\outside\\secret.txt",
        "inside.md\0",
        // Symlinks out of the vault, read and written through.
        "link-file",
        "link-dir",
        "link-dir/secret.txt",
        "link-dir/new.txt",
        "Notes/rel-link/secret.txt",
        "Notes/rel-link/sub/new.txt",
    ];
    for path in escapes {
        all_refused(&mut s, "outside-vault", &every_files_function(path), SECRET);
    }

    assert_eq!(
        snapshot(&w.outside()),
        outside,
        "nothing outside the vault changed"
    );
    assert_eq!(
        user_files(&w.vault()),
        vault,
        "nothing in the vault changed"
    );
    assert!(!w.dir.path().join("copied.md").exists() && !w.dir.path().join("moved.md").exists());
    // The root listing shows the links as `other` entries, nothing of what they point to.
    let f = attack(&mut s, &["list-dir", ""]);
    assert_eq!(
        (f.code.as_str(), f.message.as_str()),
        ("ok", "Notes,inside.md,link-dir,link-file")
    );
}

#[test]
fn the_reserved_folder_is_invisible_and_keys_stay_in_their_folder() {
    let w = World::new();
    let mut s = Session::new(full(), &w.vault());
    let before = snapshot(&w.vault());

    let token = ".verstak/plugin-data/verstak.sync/engine/device-token.json";
    for path in [
        token,
        ".verstak",
        ".verstak/plugin-data",
        ".verstak/vault.json",
        ".VERSTAK/vault.json",
        "Notes/.Verstak/x",
        ".verstak/trash/files",
    ] {
        all_refused(&mut s, "outside-vault", &every_files_function(path), TOKEN);
    }
    let f = attack(&mut s, &["list-dir", ""]);
    assert!(
        !f.message.to_ascii_lowercase().contains("verstak"),
        "the root listing shows .verstak: {}",
        f.message
    );

    // Staging and document keys cannot name a path: `..`, `/`, `.`, empty, too long.
    let long = "k".repeat(129);
    let keys = [
        "..",
        ".",
        "",
        "../engine/device-token",
        "../../../../vault",
        "a/b",
        "/etc/passwd",
        long.as_str(),
    ];
    for key in keys {
        let attempts = [
            v(&["storage-get", key]),
            v(&["storage-set", key, "{}"]),
            v(&["storage-append", key, "{}"]),
            v(&["storage-delete", key]),
            v(&["stage-write", key, "0", "pwned"]),
            v(&["stage-copy", "inside.md", key]),
            v(&["commit-stage", key, "stolen.md"]),
            v(&["delete-stage", key]),
        ];
        all_refused(&mut s, "invalid-input", &attempts, TOKEN);
    }
    assert_eq!(
        snapshot(&w.vault()),
        before,
        "nothing in the vault or .verstak changed"
    );
}

#[test]
fn imports_without_their_grant_are_not_permitted() {
    let foreign = Foreign::new();
    let cases: [(&str, Vec<Vec<String>>); 5] = [
        (
            "files.read",
            vec![
                v(&["list-dir", ""]),
                v(&["read", "inside.md", "0", "10"]),
                v(&["hash", "inside.md"]),
                v(&["copy", "inside.md", "c.md", ""]),
                v(&["stage-copy", "inside.md", "s"]),
            ],
        ),
        (
            "files.write",
            vec![
                v(&["write", "new.md", "x"]),
                v(&["copy", "inside.md", "c.md", ""]),
                v(&["rename", "inside.md", "moved.md"]),
                v(&["mkdir", "Made"]),
                v(&["commit-stage", "staged", "committed.md"]),
            ],
        ),
        (
            "files.delete",
            vec![v(&["trash", "inside.md"]), v(&["remove-dir", "Empty"])],
        ),
        (
            "network.remote",
            vec![v(&[
                "send",
                "GET",
                &format!("http://127.0.0.1:{}/", foreign.port()),
            ])],
        ),
        (
            "storage.namespace",
            vec![
                v(&["storage-get", "device-token"]),
                v(&["storage-set", "device-token", "{}"]),
                v(&["storage-append", "device-token", "{}"]),
                v(&["storage-delete", "device-token"]),
                v(&["settings-read"]),
                v(&["settings-write", "{\"serverUrl\":\"http://evil\"}"]),
                v(&["stage-write", "s", "0", "x"]),
                v(&["stage-copy", "inside.md", "s"]),
                v(&["delete-stage", "staged"]),
            ],
        ),
    ];
    // Compiling is the slow part: one runtime per missing permission, side by side.
    let runtimes: Vec<_> = std::thread::scope(|scope| {
        let loading: Vec<_> = cases
            .iter()
            .map(|(perm, _)| scope.spawn(move || runtime(&[perm], QUICK)))
            .collect();
        loading.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for ((perm, attempts), rt) in cases.into_iter().zip(&runtimes) {
        let w = World::new();
        std::fs::create_dir(w.vault().join("Empty")).unwrap();
        let staging = w.vault().join(".verstak/plugin-data/verstak.sync/staging");
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("staged"), "staged").unwrap();
        let before = snapshot(&w.vault());
        let mut s = Session::new(rt, &w.vault());
        for a in &attempts {
            let args: Vec<&str> = a.iter().map(String::as_str).collect();
            // The URL the user typed is allowed, so only the missing grant can refuse `send`.
            let f = attack_via(
                &mut s,
                &format!("http://127.0.0.1:{}", foreign.port()),
                &args,
            );
            refused(&f, "not-permitted", &format!("without {perm}: {args:?}"));
            assert_eq!(
                f.message,
                format!("plugin \"verstak.sync\" lacks required permission \"{perm}\""),
                "{args:?}"
            );
        }
        assert_eq!(
            snapshot(&w.vault()),
            before,
            "without {perm} nothing changed"
        );
        // Granted imports still work in the same session.
        let f = attack(&mut s, &["noop"]);
        refused(&f, "ok", "noop after denials");
    }
    foreign.assert_untouched();
}

#[test]
fn requests_to_any_other_origin_are_refused_before_connecting() {
    let server = Canned::start();
    let foreign = Foreign::new();
    let (sp, fp) = (server.port(), foreign.port());
    let w = World::new();
    let mut s = Session::new(full(), &w.vault());
    let allowed = server.url("");

    // The allowed origin answers, so the refusals below are the host's and nothing else.
    let f = attack_via(&mut s, &allowed, &["send", "GET", &server.url("/ok")]);
    assert_eq!(
        (f.code.as_str(), f.message.as_str()),
        ("ok", "status 200 body 2 bytes")
    );

    let forbidden = [
        format!("http://127.0.0.1:{fp}/"),    // right host, wrong port
        format!("https://127.0.0.1:{sp}/ok"), // right host and port, wrong scheme
        format!("http://localhost:{sp}/ok"),  // another name for the same host
        format!("http://localhost:{fp}/"),
        format!("http://127.0.0.2:{fp}/"), // another host
        format!("http://[::1]:{fp}/"),
        format!("http://127.0.0.1:{fp}\\@127.0.0.1:{sp}/"), // `\` ends the authority in http URLs
        format!("http://127.0.0.1:{fp}#@127.0.0.1:{sp}/"),
        format!("http://127.0.0.1:{fp}?@127.0.0.1:{sp}/"),
    ];
    for url in &forbidden {
        let f = attack_via(&mut s, &allowed, &["send", "GET", url]);
        refused(&f, "forbidden-origin", url);
    }
    let malformed = [
        format!("http://127.0.0.1:{sp}@127.0.0.1:{fp}/"), // credentials, then the foreign host
        format!("http://user:pw@127.0.0.1:{sp}/ok"),
        format!("ftp://127.0.0.1:{fp}/"),
        "file:///etc/passwd".to_string(),
        format!("//127.0.0.1:{fp}/"),
        "http://".to_string(),
    ];
    for url in &malformed {
        let f = attack_via(&mut s, &allowed, &["send", "GET", url]);
        refused(&f, "invalid-input", url);
    }
    // Headers cannot retarget or smuggle a second request to the allowed server.
    let ok = server.url("/ok");
    for (name, value) in [
        ("Host", format!("127.0.0.1:{fp}")),
        ("X-A", format!("b\r\nHost: 127.0.0.1:{fp}")),
        ("X-A\r\nHost", "x".into()),
    ] {
        let f = attack_via(&mut s, &allowed, &["send", "GET", &ok, name, &value]);
        refused(&f, "invalid-input", &format!("header {name:?}: {value:?}"));
    }
    // Since API 0.2.0 `method` is a WIT enum: the guest cannot even express `DELETE`.
    let f = attack_via(&mut s, &allowed, &["send", "DELETE", &ok]);
    refused(&f, "unrepresentable", "method DELETE");
    // A redirect to the foreign listener is returned, never followed.
    let to = format!("http://127.0.0.1:{fp}/");
    let f = attack_via(
        &mut s,
        &allowed,
        &["send", "GET", &server.url(&format!("/redirect?to={to}"))],
    );
    assert_eq!(
        (f.code.as_str(), f.message.as_str()),
        ("ok", "status 302 body 0 bytes")
    );

    // Without a URL from the user and with no settings, no origin at all is allowed.
    let f = attack(&mut s, &["send", "GET", &server.url("/ok")]);
    refused(&f, "forbidden-origin", "no configured server");
    assert!(
        f.message.contains("no sync server is configured"),
        "{}",
        f.message
    );

    // A serverUrl the component writes into its own settings opens nothing.
    let settings = w
        .vault()
        .join(".verstak/plugin-settings/verstak.sync/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, format!(r#"{{"serverUrl":"{allowed}"}}"#)).unwrap();
    let f = attack(&mut s, &["send", "GET", &server.url("/ok")]);
    refused(&f, "forbidden-origin", "a serverUrl in the settings");

    // With a paired server recorded by the host, that server is the only origin.
    let dirs = verstak_sync_host::vault::VaultDirs::open(&w.vault(), "verstak.sync").unwrap();
    dirs.set_paired_server(Some(&allowed)).unwrap();
    let f = attack(&mut s, &["send", "GET", &server.url("/ok")]);
    refused(&f, "ok", "the paired server");
    for url in &forbidden {
        let f = attack(&mut s, &["send", "GET", url]);
        refused(
            &f,
            "forbidden-origin",
            &format!("{url} with a paired server"),
        );
    }

    // Plain WASI has no sockets and no name lookup.
    let f = attack(&mut s, &["wasi-connect", &format!("127.0.0.1:{fp}")]);
    refused(&f, "wasi-error", "wasi-connect");
    let f = attack(&mut s, &["wasi-resolve", "localhost"]);
    refused(&f, "wasi-error", "wasi-resolve");

    foreign.assert_untouched();
}

#[test]
fn oversized_answers_and_reads_are_too_large() {
    let server = Canned::start();
    let w = World::new();
    std::fs::write(w.vault().join("big.bin"), vec![0u8; 1 << 10]).unwrap();
    let mut s = Session::new(full(), &w.vault());
    let allowed = server.url("");

    for path in ["/big-length", "/big-chunked", "/big-close"] {
        let f = attack_via(&mut s, &allowed, &["send", "GET", &server.url(path)]);
        refused(&f, "too-large", path);
        assert_eq!(f.message, "the response body exceeds 16777216 bytes");
    }
    for (path, why) in [
        ("/huge-head", "the response head is too large"),
        ("/many-headers", "too many headers"),
    ] {
        let f = attack_via(&mut s, &allowed, &["send", "GET", &server.url(path)]);
        refused(&f, "network", path);
        assert!(f.message.contains(why), "{path}: {}", f.message);
    }

    for len in [(16u64 << 20) + 1, u64::from(u32::MAX)] {
        let f = attack(&mut s, &["read", "big.bin", "0", &len.to_string()]);
        refused(&f, "too-large", &format!("read of {len} bytes"));
    }
    // Offsets past the end read nothing; one the kernel cannot seek to is a plain `io` error.
    let f = attack(
        &mut s,
        &["read", "big.bin", &(1u64 << 40).to_string(), "16"],
    );
    assert_eq!(
        (f.code.as_str(), f.message.as_str()),
        ("ok", ""),
        "read far past the end"
    );
    let f = attack(&mut s, &["read", "big.bin", &u64::MAX.to_string(), "16"]);
    refused(&f, "io", "read at offset u64::MAX");
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(1 << 20));
    let f = attack(&mut s, &["settings-write", &huge]);
    refused(&f, "too-large", "settings over 1 MiB");

    // The same session still reaches the server.
    let f = attack_via(&mut s, &allowed, &["send", "GET", &server.url("/ok")]);
    refused(&f, "ok", "the next request");
}

/// Every call stops after 300 ms.
fn short_deadline() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        runtime(
            &[],
            Limits {
                memory_bytes: 64 << 20,
                call_deadline: Duration::from_millis(300),
            },
        )
    })
}

/// Memory stops at 32 MiB.
fn small_memory() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        runtime(
            &[],
            Limits {
                memory_bytes: 32 << 20,
                call_deadline: Duration::from_secs(30),
            },
        )
    })
}

/// The session answers normally again: the export `status` and a harmless attack.
#[track_caller]
fn answers_next(s: &mut Session<'_>) {
    assert_eq!(
        s.status().expect("status after the blow-up").device_name,
        "hostile"
    );
    refused(&attack(s, &["noop"]), "ok", "noop after the blow-up");
}

#[test]
fn endless_loops_time_out_and_the_session_answers_the_next_call() {
    let w = World::new();
    let rt = short_deadline();
    let mut s = Session::new(rt, &w.vault());
    for which in ["loop", "loop-imports"] {
        let started = Instant::now();
        let f = attack(&mut s, &[which]);
        assert_eq!(f.code, "timeout", "{which}: {}", f.message);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{which} took {:?}",
            started.elapsed()
        );
        answers_next(&mut s);
    }
    // The raw instance reports the same stop as a typed error.
    let mut instance = rt.instantiate(&w.vault()).unwrap();
    let args = vec!["loop".to_string()];
    let e = instance
        .call(|p, st| p.verstak_sync_sync_provider().call_set_ignore(st, &args))
        .unwrap_err();
    assert!(matches!(e, CallError::Timeout(_)), "{e:?}");
}

#[test]
fn unbounded_memory_is_stopped_and_the_session_answers_the_next_call() {
    let w = World::new();
    std::fs::write(w.vault().join("sixteen.bin"), vec![7u8; 16 << 20]).unwrap();
    let rt = small_memory();
    let mut s = Session::new(rt, &w.vault());
    // Growing its own heap, and letting the host fill it with 16 MiB reads.
    for attempt in [&["grow"][..], &["grow-via-host", "sixteen.bin"][..]] {
        let f = attack(&mut s, attempt);
        assert_eq!(f.code, "memory_exceeded", "{attempt:?}: {}", f.message);
        assert_eq!(
            f.message,
            "the plugin exceeded its memory limit of 32 MiB and was stopped"
        );
        answers_next(&mut s);
    }
    let mut instance = rt.instantiate(&w.vault()).unwrap();
    let args = vec!["grow".to_string()];
    let e = instance
        .call(|p, st| p.verstak_sync_sync_provider().call_set_ignore(st, &args))
        .unwrap_err();
    assert!(matches!(e, CallError::MemoryExceeded(32)), "{e:?}");
}

#[test]
fn panics_and_exits_cost_one_call() {
    let w = World::new();
    let mut s = Session::new(full(), &w.vault());
    for which in ["panic", "exit"] {
        let f = attack(&mut s, &[which]);
        assert_eq!(f.code, "plugin_trap", "{which}: {}", f.message);
        answers_next(&mut s);
    }
}

#[test]
fn wasi_offers_no_files_environment_or_arguments() {
    let w = World::new();
    let mut s = Session::new(full(), &w.vault());
    let before = snapshot(w.dir.path());
    let secret = w.secret_path();
    let vault_file = w.vault().join("inside.md").display().to_string();
    let dropped = w.outside().join("dropped").display().to_string();
    for attempt in [
        v(&["wasi-read", "/etc/passwd"]),
        v(&["wasi-read", &secret]),
        v(&["wasi-read", &vault_file]),
        v(&["wasi-read", "inside.md"]),
        v(&["wasi-write", &dropped]),
        v(&["wasi-write", "dropped"]),
        v(&["wasi-list", "/"]),
        v(&["wasi-list", "."]),
    ] {
        let args: Vec<&str> = attempt.iter().map(String::as_str).collect();
        let f = attack(&mut s, &args);
        refused(&f, "wasi-error", &format!("{args:?}"));
    }
    let f = attack(&mut s, &["wasi-env"]);
    assert_eq!(
        (f.code.as_str(), f.message.as_str()),
        ("ok", "0 vars, 0 args")
    );
    assert_eq!(snapshot(w.dir.path()), before, "nothing changed anywhere");
    assert!(!Path::new("dropped").exists());
}

#[test]
fn special_files_in_the_vault_cannot_stall_the_host() {
    // A FIFO (made by some local program; the component cannot make one) must not block a
    // `files` call forever: the epoch deadline cannot interrupt the host while it waits.
    let w = World::new();
    let fifo = w.vault().join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let vault = w.vault();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = Session::new(full(), &vault);
        for attempt in [
            v(&["read", "pipe", "0", "16"]),
            v(&["hash", "pipe"]),
            v(&["copy", "pipe", "copied", ""]),
            v(&["stage-copy", "pipe", "s"]),
        ] {
            let args: Vec<&str> = attempt.iter().map(String::as_str).collect();
            let _ = tx.send((attempt.clone(), attack(&mut s, &args)));
        }
    });
    for _ in 0..4 {
        let (attempt, f) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a files call on a FIFO returns");
        refused(&f, "io", &format!("{attempt:?}"));
        assert!(
            f.message.contains("not a regular file"),
            "{attempt:?}: {}",
            f.message
        );
    }
    assert!(!w.vault().join("copied").exists());
}
