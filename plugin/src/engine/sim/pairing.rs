//! Pairing stories (`configure`, `testConnection`, `disconnect`, `resetKey`) and crashes injected
//! at every step of them, over `Sim`.

use super::Sim;
use super::server::PASSWORD;
use crate::engine::account::{PAIRING_KEY, Pairing, TOKEN_KEY};
use crate::engine::command::Command;
use crate::engine::event::{Action, Event, Login, Password};
use crate::engine::saved::SavedState;
use crate::engine::settings::Settings;
use crate::engine::summary::Outcome;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

fn pairing(sim: &Sim, d: usize) -> Pairing {
    Pairing::parse(
        sim.devs[d]
            .vault
            .storage
            .get(PAIRING_KEY)
            .map(|s| s.as_str()),
    )
}

fn token(sim: &Sim, d: usize) -> Option<&str> {
    sim.devs[d].vault.storage.get(TOKEN_KEY).map(|s| s.as_str())
}

fn settings(sim: &Sim, d: usize) -> Settings {
    Settings::parse(&sim.devs[d].vault.settings).unwrap()
}

/// The password is in no stored document, no settings and no log line (§3.10).
fn assert_no_password(sim: &Sim, d: usize) {
    let v = &sim.devs[d].vault;
    for (key, value) in &v.storage {
        assert!(!value.contains(PASSWORD), "the password is in {key}");
    }
    assert!(
        !v.settings.contains(PASSWORD),
        "the password is in the settings"
    );
    assert!(!v.log.iter().any(|l| l.contains(PASSWORD)), "{:?}", v.log);
    let state = sim.devs[d].engine.state().map(SavedState::to_json);
    assert!(!state.unwrap_or_default().contains(PASSWORD));
}

fn error(outcome: Outcome) -> (&'static str, String) {
    let e = outcome.expect_err("the action fails");
    (e.code().as_str(), e.to_string())
}

#[test]
fn configure_stores_the_pairing_the_token_and_the_settings_but_never_the_password() {
    let sim = quiet(1);
    let p = pairing(&sim, 0);
    assert_eq!(
        (p.server_url.as_str(), p.device_id.as_str()),
        ("http://sync.test", "dev_0abcdefgh")
    );
    assert_eq!(
        (p.vault_id.as_str(), p.effective_vault_id.as_str()),
        ("notes", "notes")
    );
    assert!(p.connected && !p.revoked && !p.last_checked_at.is_empty());
    assert_eq!(p.device_name, "device0");
    assert_eq!(sim.server.devices[0].name, "device0");
    assert_eq!(token(&sim, 0), Some("token-0"));
    let s = settings(&sim, 0);
    assert_eq!(
        (s.server_url.as_str(), s.vault_id.as_str()),
        ("http://sync.test", "notes")
    );
    assert_eq!(
        sim.devs[0].vault.log,
        vec!["paired as dev_0abcdefgh".to_string()]
    );
    assert_no_password(&sim, 0);
    assert!(
        !format!("{:?}", sim.configure(PASSWORD)).contains(PASSWORD),
        "Debug never shows a password"
    );
}

#[test]
fn an_empty_vault_id_pairs_with_the_local_vault() {
    let mut sim = Sim::unpaired(1, 1);
    let login = sim.login(PASSWORD);
    let action = Action::Configure {
        login,
        vault_id: "  ".into(),
    };
    sim.act(0, action).unwrap();
    let p = pairing(&sim, 0);
    assert_eq!(
        (p.vault_id.as_str(), p.effective_vault_id.as_str()),
        ("", "local-vault")
    );
}

#[test]
fn a_wrong_password_is_a_clean_error_and_stores_nothing() {
    let mut sim = Sim::unpaired(1, 1);
    let (code, message) = error(sim.act(0, sim.configure("not the password")));
    assert_eq!(code, "pair_failed");
    assert_eq!(
        message,
        "pair: sync-server:unauthorized (HTTP 401): the username or password is wrong"
    );
    assert!(sim.devs[0].vault.storage.is_empty(), "nothing is stored");
    assert!(sim.devs[0].vault.settings.is_empty());
    assert_eq!(
        error(sim.act(0, Action::Sync)),
        ("not_configured", "sync not configured".to_string())
    );
    assert!(
        sim.devs[0].vault.storage.is_empty(),
        "a refused run stores nothing"
    );
}

#[test]
fn a_bad_url_is_refused_before_any_request() {
    let mut sim = Sim::unpaired(1, 1);
    let mut action = sim.configure(PASSWORD);
    if let Action::Configure { login, .. } = &mut action {
        login.server_url = "ftp://sync.test".into();
    }
    let (code, message) = error(sim.act(0, action));
    assert_eq!(code, "invalid_url");
    assert!(message.starts_with("invalid URL: "), "{message}");
    assert!(sim.server.devices.is_empty());
}

#[test]
fn switching_remote_vaults_with_unpushed_ops_is_refused() {
    let mut sim = quiet(1);
    sim.write_user(0, "a.md", "a\n");
    sim.offline = true;
    let _ = sim.sync(0);
    sim.offline = false;
    let mut action = sim.configure(PASSWORD);
    if let Action::Configure { vault_id, .. } = &mut action {
        *vault_id = "other".into();
    }
    let (code, _) = error(sim.act(0, action));
    assert_eq!(code, "remote_vault_locked");
    assert_eq!(
        pairing(&sim, 0).effective_vault_id,
        "notes",
        "nothing changed"
    );
}

#[test]
fn test_connection_checks_health_and_credentials_and_stores_nothing() {
    let mut sim = Sim::unpaired(1, 1);
    let test = |password: &str, url: &str| {
        Action::TestConnection(Login {
            server_url: url.into(),
            username: "ann".into(),
            password: Password(password.into()),
        })
    };
    sim.act(0, test(PASSWORD, "http://sync.test/")).unwrap();
    assert_eq!(
        error(sim.act(0, test("wrong", "http://sync.test"))),
        (
            "server_error",
            "sync-server:unauthorized (HTTP 401): the username or password is wrong".into()
        )
    );
    assert_eq!(
        error(sim.act(0, test(PASSWORD, "http://elsewhere.test"))),
        (
            "not_sync_server",
            "not a Verstak Sync server (HTTP 404)".into()
        )
    );
    sim.offline = true;
    assert_eq!(
        error(sim.act(0, test(PASSWORD, "http://sync.test"))).0,
        "connection_failed"
    );
    assert!(sim.devs[0].vault.storage.is_empty() && sim.server.devices.is_empty());
}

#[test]
fn re_pairing_the_same_vault_revokes_the_old_device_and_converges() {
    let mut sim = quiet(2);
    sim.write_user(0, "a.md", "from zero\n");
    sim.write_user(1, "b.md", "from one\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.sync(0).unwrap();

    sim.act(1, sim.configure(PASSWORD)).unwrap();
    assert!(
        sim.server.devices[1].revoked,
        "the replaced credential is revoked"
    );
    assert_eq!(pairing(&sim, 1).device_id, "dev_2abcdefgh");
    let st = sim.devs[1].engine.state().unwrap();
    assert_eq!(st.cursor.0, 0, "the remote history is read again");
    assert!(!st.bootstrap_complete);

    sim.write_user(1, "c.md", "after re-pairing\n");
    sim.sync(1).unwrap();
    sim.sync(0).unwrap();
    sim.quiesce();
    sim.check().unwrap();
    assert_eq!(sim.devs[0].vault.files().len(), 3);
    assert_no_password(&sim, 1);
}

#[test]
fn disconnect_revokes_forgets_the_server_and_keeps_the_sync_state() {
    let mut sim = quiet(1);
    sim.write_user(0, "a.md", "a\n");
    sim.sync(0).unwrap();
    let cursor = sim.devs[0].engine.state().unwrap().cursor;
    sim.act(0, Action::Disconnect).unwrap();
    assert!(sim.server.devices[0].revoked);
    assert_eq!(token(&sim, 0), None);
    assert_eq!(pairing(&sim, 0), Pairing::disconnected());
    let s = settings(&sim, 0);
    assert!(s.server_url.is_empty() && s.vault_id.is_empty());
    assert_eq!(sim.devs[0].engine.state().unwrap().cursor, cursor, "kept");
    assert_eq!(error(sim.act(0, Action::Sync)).0, "not_configured");
    // Disconnecting again is harmless: no token, no request.
    sim.act(0, Action::Disconnect).unwrap();
}

#[test]
fn reset_key_forgets_the_device_and_keeps_the_server_url() {
    let mut sim = quiet(1);
    sim.act(0, Action::ResetKey).unwrap();
    assert!(
        sim.server.devices[0].revoked,
        "the forgotten credential stops working"
    );
    assert_eq!(token(&sim, 0), None);
    let p = pairing(&sim, 0);
    assert_eq!(
        (p.server_url.as_str(), p.device_id.as_str()),
        ("http://sync.test", "")
    );
    assert_eq!(error(sim.act(0, Action::Sync)).0, "not_configured");
    sim.act(0, sim.configure(PASSWORD)).unwrap();
    sim.write_user(0, "a.md", "a\n");
    assert_eq!(sim.sync(0).unwrap().pushed, 1);
}

#[test]
fn a_revoked_device_reports_revoked_until_it_pairs_again() {
    let mut sim = quiet(1);
    sim.server.devices[0].revoked = true;
    assert_eq!(
        error(sim.act(0, Action::Sync)),
        ("server_error", "sync-server:unauthorized (HTTP 401)".into())
    );
    assert!(sim.devs[0].engine.status().revoked);
    let p = pairing(&sim, 0);
    assert!(p.revoked && !p.connected);
    sim.act(0, sim.configure(PASSWORD)).unwrap();
    assert!(!pairing(&sim, 0).revoked);
    sim.act(0, Action::Sync).unwrap();
}

#[test]
fn settings_actions_keep_unknown_keys() {
    let mut sim = Sim::unpaired(1, 1);
    sim.devs[0].vault.settings = r#"{"theme":"dark"}"#.into();
    sim.act(0, Action::SetInterval(30)).unwrap();
    assert_eq!(
        error(sim.act(0, Action::SetInterval(1441))).0,
        "invalid_interval"
    );
    sim.act(0, Action::SetIgnore(vec![" *.tmp ".into(), " ".into()]))
        .unwrap();
    let s = settings(&sim, 0);
    assert_eq!(s.sync_interval, 30);
    assert_eq!(s.ignore, Some(vec!["*.tmp".to_string()]));
    assert_eq!(s.other["theme"], "dark");
    assert!(sim.devs[0].vault.storage.is_empty());
}

/// Runs `action` on device `d` and crashes it before its command number `k` executes; `true`
/// when the action finished first.
fn crash_at(sim: &mut Sim, d: usize, action: Action, k: usize) -> bool {
    sim.devs[d].engine.handle(sim.now, Event::Start(action));
    for _ in 0..k {
        let cmd = sim.devs[d].engine.poll_command().expect("a command");
        if let Command::Finished(_) = cmd {
            return true;
        }
        let id = cmd.id().unwrap();
        let dev = &mut sim.devs[d];
        let result = dev.vault.exec(&cmd, &mut sim.server);
        dev.engine.handle(sim.now, Event::Reply { id, result });
    }
    sim.crash(d);
    false
}

/// Crashes device 1 at every step of `action`, lets the user run `retry`, and checks that both
/// devices still converge without loss and that no password was stored.
fn crash_every_step(action: impl Fn(&Sim) -> Action, retry: impl Fn(&Sim) -> Vec<Action>) {
    for k in 0.. {
        let mut sim = quiet(2);
        sim.write_user(0, "a.md", "zero\n");
        sim.write_user(1, "b.md", "one\n");
        sim.sync(0).unwrap();
        sim.sync(1).unwrap();
        sim.write_user(1, "c.md", "unsynced\n");
        let action = action(&sim);
        if crash_at(&mut sim, 1, action, k) {
            return;
        }
        for again in retry(&sim) {
            sim.act(1, again)
                .unwrap_or_else(|e| panic!("crash at {k}: retry failed: {e}"));
        }
        assert_no_password(&sim, 1);
        sim.quiesce();
        sim.check()
            .unwrap_or_else(|e| panic!("crash at step {k}: {e}\n{}", sim.log.join("\n")));
        assert!(
            sim.devs[0].vault.files().contains_key("c.md"),
            "crash at {k}"
        );
    }
}

#[test]
fn a_crash_at_any_step_of_re_pairing_is_repaired_by_configuring_again() {
    crash_every_step(|s| s.configure(PASSWORD), |s| vec![s.configure(PASSWORD)]);
}

#[test]
fn a_crash_at_any_step_of_reset_key_or_disconnect_is_repaired_by_configuring_again() {
    crash_every_step(
        |_| Action::ResetKey,
        |s| vec![Action::ResetKey, s.configure(PASSWORD)],
    );
    crash_every_step(
        |_| Action::Disconnect,
        |s| vec![Action::Disconnect, s.configure(PASSWORD)],
    );
}

#[test]
fn a_crash_during_re_pairing_never_leaves_a_half_reset_state() {
    // Whatever survives a crash, the state is either the old one or reset for the new pairing.
    for k in 0..20 {
        let mut sim = quiet(1);
        sim.write_user(0, "a.md", "a\n");
        sim.sync(0).unwrap();
        let before = sim.stored_state(0);
        let action = sim.configure(PASSWORD);
        if crash_at(&mut sim, 0, action, k) {
            return;
        }
        // The journal generation changes with every snapshot; it is not what this is about.
        let mut after = sim.stored_state(0);
        after.journal = before.journal;
        let old = before.clone();
        let mut reset = old.clone();
        reset.reset_for_new_pairing();
        assert!(after == old || after == reset, "crash at {k}");
        // A sync right after the crash fails cleanly or works; it never panics.
        let _ = sim.act(0, Action::Sync);
    }
}

#[test]
fn a_refused_network_grant_ends_a_sync_as_that_refusal_and_pairing_as_before() {
    let mut sim = quiet(1);
    sim.write_user(0, "a.md", "a\n");
    sim.no_network_grant = true;
    let (code, message) = error(sim.act(0, Action::Sync));
    assert_eq!(code, "not_permitted");
    assert_eq!(message, "lacks required permission \"network.remote\"");
    // The run itself failed on the connection, and says so in `lastError`.
    let last = &sim.devs[0].engine.state().unwrap().last_error;
    assert!(last.starts_with("connection failed: "), "{last}");
    // Pairing reports the failed connection, as the glue's own loop did.
    let (code, _) = error(sim.act(0, sim.configure(PASSWORD)));
    assert_eq!(code, "pair_failed");
    sim.no_network_grant = false;
    assert_eq!(sim.act(0, Action::Sync).unwrap().pushed, 1);
    assert!(sim.devs[0].engine.status().bytes > 0, "bytes are counted");
}

/// `status()` is an engine action over local reads only: the settings, the pairing document and
/// the token, merged with the engine's part.
#[test]
fn status_reads_local_documents_only() {
    let mut sim = Sim::unpaired(1, 1);
    let status = |sim: &mut Sim| sim.answer(0, Action::Status).unwrap().status();
    let s = status(&mut sim);
    assert_eq!((s.status_label.as_str(), s.configured), ("disabled", false));
    sim.act(0, sim.configure(PASSWORD)).unwrap();
    sim.act(0, Action::SetInterval(15)).unwrap();
    sim.offline = true;
    let s = status(&mut sim);
    assert_eq!(
        (s.status_label.as_str(), s.sync_interval),
        ("connected", 15)
    );
    assert!(s.configured && s.token_stored && !s.syncing);
    sim.devs[0].vault.settings = "[1]".into();
    let e = sim.answer(0, Action::Status).unwrap_err();
    assert_eq!(e.code().as_str(), "local_io");
}
