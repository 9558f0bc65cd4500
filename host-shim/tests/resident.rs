//! The engine stays resident in a kept component instance between calls (as in `watch`);
//! another process that syncs the same vault meanwhile (the CLI beside `watch`) is noticed
//! through the engine's stamp, so the kept instance reloads instead of acting on a stale state.

mod common;

use common::device::setup;

#[test]
fn a_kept_session_notices_another_process_syncing_the_same_vault() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    let mut kept = a.session();
    a.write("one.md", "1\n");
    let first = kept.sync_now().unwrap();
    assert_eq!(first.pushed, 1, "{first:?}");

    // Another process pushes a new file of this vault and pulls one from beta.
    a.write("two.md", "2\n");
    b.write("three.md", "3\n");
    b.sync();
    a.session().sync_now().unwrap();

    // A stale resident state would push two.md again and pull three.md again.
    let again = kept.sync_now().unwrap();
    assert_eq!((again.pushed, again.pulled), (0, 0), "{again:?}");
    assert_eq!(kept.status().unwrap().unpushed_ops, 0);

    // The kept instance goes on working incrementally.
    a.write("four.md", "4\n");
    let hinted = kept.sync_changed(&["four.md".to_string()]).unwrap();
    assert_eq!(hinted.pushed, 1, "{hinted:?}");
    b.sync();
    assert_eq!(b.files(), a.files());
}
