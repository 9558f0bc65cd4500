//! Issue 14 stories: a guard's warning goes with the guard, progress never goes backwards, a
//! hostile server's endless pull is bounded, and a blob that fails verification leaves no
//! staged bytes.

use super::Sim;
use crate::engine::answer::Answer;
use crate::engine::command::Command;
use crate::engine::command::HttpBody;
use crate::engine::event::{Action, Event, HttpResponse, IoError, Reply};
use crate::engine::guard::Direction;
use crate::engine::summary::{Outcome, Phase, Progress};
use verstak_sync_proto::{EntityType, OpType, PullRequest, PullResponse, PulledOp, paths};

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

/// Device 0 deletes twelve synced files: the outgoing guard holds them.
fn held_outgoing(sim: &mut Sim) {
    for i in 0..12 {
        sim.write_user(0, &format!("f{i}.md"), &format!("x{i}\n"));
    }
    sim.act(0, Action::Sync).unwrap();
    sim.act(1, Action::Sync).unwrap();
    for i in 0..12 {
        sim.devs[0].vault.nodes.remove(&format!("f{i}.md"));
    }
    let err = sim.act(0, Action::Sync).unwrap_err();
    assert_eq!(err.to_string(), "mass deletion awaiting confirmation");
    let warning = sim.devs[0].engine.status().last_warning;
    assert!(
        warning.starts_with("mass deletion awaiting confirmation"),
        "{warning}"
    );
}

#[test]
fn keeping_the_files_clears_the_outgoing_guard_warning_for_good() {
    let mut sim = quiet(2);
    held_outgoing(&mut sim);
    sim.act(0, Action::RestoreDeletions(Direction::Outgoing))
        .unwrap();
    let st = sim.devs[0].engine.status();
    assert_eq!((st.guard, st.last_warning.as_str()), (None, ""));
    assert_eq!(sim.devs[0].vault.files().len(), 12, "the files are back");
    sim.act(0, Action::Sync).unwrap();
    assert_eq!(sim.devs[0].engine.status().last_warning, "");
}

#[test]
fn keeping_the_files_clears_the_incoming_guard_warning_for_good() {
    let mut sim = quiet(2);
    held_outgoing(&mut sim);
    sim.act(0, Action::ConfirmDeletions(Direction::Outgoing))
        .unwrap();
    let held = sim.act(1, Action::Sync).unwrap();
    assert!(held.guard.is_some());
    assert!(
        sim.devs[1]
            .engine
            .status()
            .last_warning
            .starts_with("mass deletion awaiting confirmation")
    );
    sim.act(1, Action::RestoreDeletions(Direction::Incoming))
        .unwrap();
    let st = sim.devs[1].engine.status();
    assert_eq!((st.guard, st.last_warning.as_str()), (None, ""));
    sim.act(1, Action::Sync).unwrap();
    assert_eq!(sim.devs[1].engine.status().last_warning, "");
    assert_eq!(sim.devs[1].vault.files().len(), 12, "the files are kept");
}

/// Runs `action` on device `d` like `Sim::act`, collecting every progress shown on the way.
fn watched(sim: &mut Sim, d: usize, action: Action) -> (Outcome, Vec<Progress>) {
    driven(sim, d, action, |_| None)
}

/// [`watched`], where `hostile` may answer a command instead of the vault and the server.
fn driven(
    sim: &mut Sim,
    d: usize,
    action: Action,
    mut hostile: impl FnMut(&Command) -> Option<Result<Reply, IoError>>,
) -> (Outcome, Vec<Progress>) {
    let dev = &mut sim.devs[d];
    dev.engine.handle(sim.now, Event::Start(action));
    let mut shown = vec![];
    loop {
        if let Some(p) = dev.engine.status().progress {
            shown.push(p);
        }
        let cmd = match dev.engine.poll_command() {
            Some(Command::Finished(finish)) => return (finish.map(Answer::summary), shown),
            Some(cmd) => cmd,
            None => {
                let at = dev.engine.poll_timeout().expect("waits for something");
                sim.now = sim.now.max(at);
                dev.engine.handle(sim.now, Event::Timeout);
                continue;
            }
        };
        let id = cmd.id().expect("only Finished has no id");
        let result = match hostile(&cmd) {
            Some(answer) => answer,
            None => dev.vault.exec(&cmd, &mut sim.server),
        };
        dev.engine.handle(sim.now, Event::Reply { id, result });
    }
}

fn assert_monotonic(shown: &[Progress]) {
    let rank = |p: &Progress| Phase::ALL.iter().position(|x| *x == p.phase).unwrap();
    for w in shown.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(rank(b) >= rank(a), "phase went back: {a:?} then {b:?}");
        if a.phase == b.phase {
            assert!(b.done >= a.done && b.total >= a.total, "{a:?} then {b:?}");
        }
        assert!(b.done <= b.total, "{b:?}");
    }
}

#[test]
fn a_run_shows_one_progress_that_never_goes_backwards() {
    let mut sim = quiet(2);
    // Many pages to pull (page limit 4), local files to push, and a blob to upload.
    for i in 0..30 {
        sim.write_user(0, &format!("n{i}.md"), &format!("line {i}\n"));
    }
    sim.act(0, Action::Sync).unwrap();
    for i in 0..9 {
        sim.write_user(1, &format!("mine{i}.md"), &format!("mine {i}\n"));
    }
    sim.devs[1]
        .vault
        .put("big.bin", [0u8, 1, 2, 255].repeat(50))
        .unwrap();
    let (outcome, shown) = watched(&mut sim, 1, Action::Sync);
    let summary = outcome.unwrap();
    assert!(summary.pulled >= 30 && summary.pushed >= 10, "{summary:?}");
    assert!(shown.iter().any(|p| p.phase == Phase::Pull));
    assert!(shown.iter().any(|p| p.phase == Phase::Upload));
    assert!(shown.iter().any(|p| p.phase == Phase::Push));
    assert_monotonic(&shown);
    assert_eq!(
        sim.devs[1].engine.status().progress,
        None,
        "gone after the run"
    );
}

/// A pull page of a hostile server: four new folders after `since`, `has_more` forever, and a
/// head that moves along with the cursor.
fn endless_page(since: i64) -> HttpResponse {
    let ops: Vec<PulledOp> = (since + 1..=since + 4)
        .map(|seq| PulledOp {
            op_id: format!("hostile-{seq}"),
            server_sequence: seq,
            device_id: "dev_hostile".into(),
            entity_type: EntityType::Folder,
            entity_id: format!("spam/{seq}"),
            op_type: OpType::Create,
            payload_json: format!(r#"{{"path":"spam/{seq}"}}"#),
            created_at: "2026-12-05T00:00:00Z".into(),
        })
        .collect();
    let page = PullResponse {
        has_more: true,
        ops,
        page_last_sequence: since + 4,
        server_sequence: since + 4,
    };
    HttpResponse {
        status: 200,
        headers: vec![],
        body: serde_json::to_vec(&page).unwrap(),
    }
}

#[test]
fn a_server_that_announces_more_forever_cannot_keep_the_client_pulling() {
    let mut sim = quiet(1);
    let mut pulls = 0;
    let (outcome, _) = driven(&mut sim, 0, Action::Sync, |cmd| match cmd {
        Command::Http { request, .. } if request.path == paths::PULL => {
            pulls += 1;
            assert!(pulls < 5_000, "still pulling");
            let HttpBody::Json(body) = &request.body else {
                panic!("a JSON pull request")
            };
            let req: PullRequest = serde_json::from_str(body).unwrap();
            Some(Ok(Reply::Http(endless_page(req.since_sequence))))
        }
        _ => None,
    });
    let err = outcome.unwrap_err();
    assert_eq!(err.code().as_str(), "pull_stalled");
    assert!(err.to_string().starts_with("pull did not end: "), "{err}");
    // About 1,000 sequences past the 4 the server reported first, not without end.
    assert!(pulls <= 300, "{pulls} pulls");
    let written = sim.devs[0]
        .vault
        .nodes
        .keys()
        .filter(|p| p.starts_with("spam/"))
        .count();
    // The incoming guard's look-ahead meets the bound before anything is applied.
    assert_eq!(written, 0, "{written} folders written");
    assert_eq!(
        sim.devs[0].engine.status().last_error,
        err.to_string(),
        "the run fails with the error"
    );
}

#[test]
fn a_blob_that_fails_verification_leaves_no_staged_bytes() {
    let mut sim = quiet(2);
    sim.devs[0]
        .vault
        .put("photo.bin", [0u8, 159, 146, 150].repeat(40))
        .unwrap();
    sim.act(0, Action::Sync).unwrap();
    assert_eq!(sim.server.blobs.len(), 1);
    // The server's copy rots: same size, other bytes.
    for bytes in sim.server.blobs.values_mut() {
        bytes[3] ^= 0xff;
    }
    // The run fails on that op (or sets it aside with a warning): either way it says why.
    let outcome = sim.act(1, Action::Sync);
    let st = sim.devs[1].engine.status();
    let said = format!("{outcome:?} {} {}", st.last_error, st.last_warning);
    assert!(said.contains("download blob: SHA-256 mismatch"), "{said}");
    assert!(
        sim.devs[1].vault.stage.is_empty(),
        "staged: {:?}",
        sim.devs[1].vault.stage.keys().collect::<Vec<_>>()
    );
    assert!(!sim.devs[1].vault.files().contains_key("photo.bin"));
}
