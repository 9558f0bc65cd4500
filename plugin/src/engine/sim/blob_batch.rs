//! Stories of the batch blob download (`run/prefetch.rs`): a second device gets a pull's small
//! blobs in few requests, a server without the route gets one download per blob as before,
//! and a damaged blob fails the same way either way.

use super::Sim;

/// Device 0 syncs `n` binary files (a NUL makes them blobs) and one note; device 1 has none.
fn binaries(n: usize) -> Sim {
    let mut sim = Sim::new(1, 2);
    sim.faults = false;
    for i in 0..n {
        sim.write_user(0, &format!("bin/f{i:02}.dat"), &format!("\0blob {i}\n"));
    }
    // Two files with the same bytes: one prefetch, two writes.
    sim.write_user(0, "bin/same.dat", "\0blob 0\n");
    sim.write_user(0, "notes/a.md", "text\n");
    sim.sync(0).unwrap();
    sim.server.requests.clear();
    sim
}

fn requests(sim: &Sim, route: &str) -> usize {
    sim.server.requests.get(route).copied().unwrap_or(0)
}

#[test]
fn a_second_device_gets_small_blobs_in_one_batch() {
    let mut sim = binaries(12);
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files(), sim.devs[0].vault.files());
    // Pages of 4 ops, all looked ahead: the first page's batch takes the later pages' blobs
    // too. `same.dat` shares its bytes with `f00.dat`, whose write took the prefetched stage,
    // so its page asks for them again, in a batch of its own.
    assert_eq!(requests(&sim, "batch"), 2, "{:?}", sim.server.requests);
    assert_eq!(requests(&sim, "download"), 0, "{:?}", sim.server.requests);
    // Nothing is left in the staging folder.
    assert!(sim.devs[1].vault.stage.is_empty());
}

#[test]
fn without_the_batch_route_each_blob_is_downloaded_as_before() {
    let mut sim = binaries(12);
    sim.server.blob_batch = false;
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files(), sim.devs[0].vault.files());
    // One try, answered 404, then never again in this run.
    assert_eq!(requests(&sim, "batch"), 1);
    // 13 blob files; the sim downloads in ranges of 7 bytes, so at least two GETs each.
    assert!(
        requests(&sim, "download") >= 26,
        "{:?}",
        sim.server.requests
    );
    assert!(sim.devs[1].vault.stage.is_empty());
}

#[test]
fn a_damaged_blob_fails_the_same_way_with_or_without_the_batch_route() {
    let outcome = |batch: bool| {
        let mut sim = binaries(3);
        sim.server.blob_batch = batch;
        let hash = crate::engine::hash::ContentHash::of(b"\0blob 1\n").to_string();
        sim.server.blobs.insert(hash, b"\0blob X\n".to_vec());
        let err = sim.sync(1).unwrap_err().to_string();
        let f01 = sim.devs[1].vault.files().contains_key("bin/f01.dat");
        (err, f01, sim.devs[1].vault.stage.is_empty())
    };
    let with = outcome(true);
    assert!(with.0.contains("SHA-256"), "{}", with.0);
    assert_eq!(with, outcome(false));
    assert!(!with.1, "damaged bytes were written");
    assert!(with.2, "a stage was left behind");
}

#[test]
fn a_stage_this_run_did_not_verify_is_never_used() {
    for batch in [true, false] {
        let mut sim = binaries(2);
        sim.server.blob_batch = batch;
        // What an earlier run (or anything else) left under a download's staging name.
        let hash = crate::engine::hash::ContentHash::of(b"\0blob 1\n");
        let stage = format!("dl-{hash}");
        sim.devs[1]
            .vault
            .stage
            .insert(stage, b"\0stale!\n".to_vec());
        sim.sync(1).unwrap();
        assert_eq!(sim.devs[1].vault.files(), sim.devs[0].vault.files());
        assert!(sim.devs[1].vault.stage.is_empty());
    }
}
