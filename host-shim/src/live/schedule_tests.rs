use super::*;

const MIN: Duration = Duration::from_secs(60);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A schedule that has done its first full sync at `t0` with the stream up.
fn synced(t0: Instant) -> Schedule {
    let mut s = Schedule::new(t0, 5 * MIN, 5);
    let Next::Sync(kind, Reason::Start) = s.poll(t0) else {
        panic!("the first sync is due at once")
    };
    assert_eq!(kind, SyncKind::Full);
    s.handle_started(&kind);
    s.handle_finished(t0, &kind, Ok(10));
    s.handle_stream(t0, true);
    s
}

fn run(s: &mut Schedule, now: Instant, seq: i64) -> (SyncKind, Reason) {
    let Next::Sync(kind, reason) = s.poll(now) else {
        panic!("a sync is due at {now:?}: {:?}", s.poll(now))
    };
    s.handle_started(&kind);
    s.handle_finished(now, &kind, Ok(seq));
    (kind, reason)
}

#[test]
fn an_idle_host_with_the_stream_up_waits_for_the_hourly_rescan_only() {
    let t0 = Instant::now();
    let s = synced(t0);
    assert_eq!(s.poll(t0 + 10 * MIN), Next::Wait(Some(t0 + FULL_RESCAN)));
    let Next::Sync(SyncKind::Full, Reason::Hourly) = s.poll(t0 + FULL_RESCAN) else {
        panic!("the hourly rescan is full")
    };
}

#[test]
fn a_burst_of_local_changes_is_debounced_into_one_changed_sync() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    for i in 0..100u64 {
        s.handle_changed(t0 + ms(i), [format!("n{}.md", i % 10)]);
    }
    assert_eq!(
        s.poll(t0 + ms(150)),
        Next::Wait(Some(t0 + ms(99) + DEBOUNCE))
    );
    let (kind, reason) = run(&mut s, t0 + ms(300), 10);
    assert_eq!(reason, Reason::Local);
    let SyncKind::Changed(paths) = kind else {
        panic!("a watched change scans only its paths")
    };
    assert_eq!(paths.len(), 10);
    assert!(s.pending().is_empty());
    assert_eq!(s.poll(t0 + ms(400)), Next::Wait(Some(t0 + FULL_RESCAN)));
}

#[test]
fn an_endless_trickle_still_syncs_within_max_delay() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    for i in 0..20u64 {
        s.handle_changed(t0 + ms(i * 100), [format!("{i}.md")]);
    }
    assert!(matches!(
        s.poll(t0 + MAX_DELAY),
        Next::Sync(SyncKind::Changed(_), Reason::Local)
    ));
}

#[test]
fn a_gap_or_too_many_paths_make_the_next_sync_full() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    s.handle_gap(t0);
    assert_eq!(run(&mut s, t0 + DEBOUNCE, 10).0, SyncKind::Full);
    s.handle_changed(t0 + MIN, (0..=MAX_PATHS).map(|i| format!("{i}.md")));
    assert!(
        s.pending().is_empty(),
        "the list is dropped, not kept growing"
    );
    assert_eq!(run(&mut s, t0 + MIN + DEBOUNCE, 10).0, SyncKind::Full);
}

#[test]
fn a_newer_sequence_pulls_at_once_and_an_old_one_does_nothing() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    s.handle_remote(10);
    assert!(
        matches!(s.poll(t0 + ms(1)), Next::Wait(_)),
        "already synced to 10"
    );
    s.handle_remote(11);
    assert_eq!(
        run(&mut s, t0 + ms(2), 11),
        (SyncKind::Changed(vec![]), Reason::Remote)
    );
    assert_eq!(s.cursor(), 11);
}

#[test]
fn without_the_stream_the_interval_pulls() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    s.handle_stream(t0 + MIN, false);
    assert_eq!(s.poll(t0 + MIN), Next::Wait(Some(t0 + 6 * MIN)));
    assert_eq!(run(&mut s, t0 + 6 * MIN, 10).1, Reason::Interval);
    assert_eq!(s.poll(t0 + 7 * MIN), Next::Wait(Some(t0 + 11 * MIN)));
}

#[test]
fn failures_back_off_and_the_stream_coming_back_ends_the_wait() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    s.handle_changed(t0, ["a.md".to_string()]);
    let Next::Sync(kind, _) = s.poll(t0 + DEBOUNCE) else {
        panic!("due")
    };
    s.handle_started(&kind);
    s.handle_finished(t0 + DEBOUNCE, &kind, Err(()));
    s.handle_stream(t0 + DEBOUNCE, false);
    assert_eq!(s.failures(), 1);
    assert_eq!(s.poll(t0 + ms(300)), Next::Wait(Some(t0 + DEBOUNCE + MIN)));
    s.handle_changed(t0 + ms(400), ["b.md".to_string()]);
    assert_eq!(
        s.poll(t0 + ms(800)),
        Next::Wait(Some(t0 + DEBOUNCE + MIN)),
        "new changes wait for the backoff"
    );
    s.handle_stream(t0 + ms(900), true);
    let (kind, _) = run(&mut s, t0 + ms(900), 12);
    assert_eq!(
        kind,
        SyncKind::Full,
        "after a failed run everything is rescanned"
    );
    assert_eq!(s.failures(), 0);
}

#[test]
fn the_engines_own_writes_are_dropped_before_they_trigger_a_sync() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    s.handle_changed(t0, ["pulled.md".to_string()]);
    s.retain_pending(|p| p != "pulled.md");
    assert!(!s.has_local_changes());
    assert_eq!(s.poll(t0 + MIN), Next::Wait(Some(t0 + FULL_RESCAN)));
}

#[test]
fn a_poll_override_caps_the_retry_wait() {
    let t0 = Instant::now();
    let mut s = synced(t0);
    s.set_retry_cap(Some(Duration::from_secs(2)));
    s.handle_remote(11);
    let Next::Sync(kind, _) = s.poll(t0) else {
        panic!("due")
    };
    s.handle_started(&kind);
    s.handle_finished(t0, &kind, Err(()));
    assert_eq!(s.poll(t0), Next::Wait(Some(t0 + Duration::from_secs(2))));
}
