// Spec §5.5: the pure scheduler rules and the controller that drives them with fake time.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BUSY_POLL_MS,
  CHANGE_DEBOUNCE_MS,
  IDLE_POLL_MS,
  INITIAL_STATE,
  MINUTE,
  backoffMs,
  fromDocument,
  next,
  observeStatus,
  recordAttempt,
  recordFailure,
  recordSuccess,
  resume,
  toDocument,
  type ScheduleInput,
} from '../src/lib/scheduler';
import { AutoSync, recordManualRunInStorage, schedulerActive, type Timers } from '../src/lib/auto-sync';
import type { SyncStatusDTO } from '../src/lib/api';
import { connectedStatus } from './fake-api';
import delays from './auto-sync-delays.json';

const T0 = Date.parse('2026-11-22T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const input = (over: Partial<ScheduleInput> = {}): ScheduleInput => ({
  configured: true,
  syncInterval: 10,
  revoked: false,
  guardPending: false,
  lastSyncAt: '',
  ...over,
});

describe('backoff', () => {
  it('is 1, 2, 4, 8, 15, 15 … minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 40].map((k) => backoffMs(k) / MINUTE)).toEqual([1, 2, 4, 8, 15, 15, 15, 15]);
    expect(backoffMs(0)).toBe(0);
  });

  it('applies after consecutive failures, whatever the interval', () => {
    let s = INITIAL_STATE;
    const seen: number[] = [];
    let now = T0;
    for (let k = 1; k <= 6; k++) {
      s = recordFailure(recordAttempt(s, now), now, 'push: sync-server:internal_error (HTTP 500)');
      const { at } = next(now, s, input({ syncInterval: 1440 }));
      seen.push((at! - now) / MINUTE);
      now = at!;
    }
    expect(seen).toEqual([1, 2, 4, 8, 15, 15]);
    expect(s.consecutiveFailures).toBe(6);
    s = recordSuccess(s, now);
    expect(s.consecutiveFailures).toBe(0);
    expect(s.lastFailureAt).toBe('');
  });
});

// The table host-shim/src/watch.rs is checked against too: one policy, two runtimes.
describe('the shared auto-sync delay table (auto-sync-delays.json)', () => {
  it.each(delays.cases)('interval $intervalMin min, $failures failures → $waitMin min', ({ intervalMin, failures, waitMin }) => {
    // A run ends at T0 with `failures` consecutive failures counted (0: it succeeded).
    let s = recordAttempt(INITIAL_STATE, T0);
    for (let k = 0; k < failures; k++) s = recordFailure(s, T0, 'push: sync-server:internal_error (HTTP 500)');
    if (failures === 0) s = recordSuccess(s, T0);
    const { at } = next(T0, s, input({ syncInterval: intervalMin, lastSyncAt: failures === 0 ? iso(T0) : '' }));
    expect((at! - T0) / MINUTE).toBe(waitMin);
  });
});

describe('next (§5.5 due time)', () => {
  it('is now when nothing happened yet', () => {
    expect(next(T0, INITIAL_STATE, input()).at).toBe(T0);
  });
  it('is lastSyncAt + interval, else lastAttemptAt + interval', () => {
    expect(next(T0, INITIAL_STATE, input({ lastSyncAt: iso(T0 - 3 * MINUTE) })).at).toBe(T0 + 7 * MINUTE);
    const attempted = { ...INITIAL_STATE, lastAttemptAt: iso(T0 - 4 * MINUTE) };
    expect(next(T0, attempted, input()).at).toBe(T0 + 6 * MINUTE);
  });
  it('never returns a time in the past', () => {
    expect(next(T0, INITIAL_STATE, input({ lastSyncAt: iso(T0 - 60 * MINUTE) })).at).toBe(T0);
  });
  it('is null when disabled, revoked, guarded or paused', () => {
    expect(next(T0, INITIAL_STATE, input({ configured: false })).at).toBeNull();
    expect(next(T0, INITIAL_STATE, input({ syncInterval: 0 })).at).toBeNull();
    expect(next(T0, INITIAL_STATE, input({ revoked: true })).at).toBeNull();
    expect(next(T0, INITIAL_STATE, input({ guardPending: true })).at).toBeNull();
    expect(next(T0, { ...INITIAL_STATE, pausedReason: 'unauthorized' }, input()).at).toBeNull();
  });
  it('runs 30 s after the last change hint, never before the backoff', () => {
    const synced = input({ lastSyncAt: iso(T0), changeHintAt: T0 + 1000 });
    expect(next(T0 + 1000, INITIAL_STATE, synced).at).toBe(T0 + 1000 + CHANGE_DEBOUNCE_MS);
    const failed = recordFailure(INITIAL_STATE, T0, 'x');
    failed.consecutiveFailures = 3; // backoff 4 min
    expect(next(T0 + 1000, failed, synced).at).toBe(T0 + 4 * MINUTE);
  });
  it('records nextAttemptAt in the returned state', () => {
    const r = next(T0, INITIAL_STATE, input({ lastSyncAt: iso(T0) }));
    expect(r.state.nextAttemptAt).toBe(iso(T0 + 10 * MINUTE));
    expect(next(T0, r.state, input({ configured: false })).state.nextAttemptAt).toBe('');
  });
});

describe('pausing (§5.5 authorization failures)', () => {
  it('pauses on unauthorized, forbidden and revoked', () => {
    expect(recordFailure(INITIAL_STATE, T0, 'push: sync-server:unauthorized (HTTP 401)').pausedReason).toBe('unauthorized');
    expect(recordFailure(INITIAL_STATE, T0, 'sync-server:forbidden (HTTP 403)').pausedReason).toBe('forbidden');
    expect(recordFailure(INITIAL_STATE, T0, 'device revoked').pausedReason).toBe('revoked');
    expect(recordFailure(INITIAL_STATE, T0, 'sync-server:rate_limited (HTTP 429)').pausedReason).toBe('');
    expect(observeStatus(INITIAL_STATE, { revoked: true, lastError: '', configured: true, connected: false }).pausedReason).toBe('revoked');
  });
  it('resumes after configure, a successful run, or when the auth error is gone', () => {
    const paused = recordFailure(INITIAL_STATE, T0, 'sync-server:unauthorized (HTTP 401)');
    expect(resume(paused)).toMatchObject({ pausedReason: '', consecutiveFailures: 0 });
    expect(recordSuccess(paused, T0).pausedReason).toBe('');
    expect(observeStatus(paused, { revoked: false, lastError: 'sync-server:unauthorized (HTTP 401)', configured: true, connected: false }).pausedReason).toBe('unauthorized');
    expect(observeStatus(paused, { revoked: false, lastError: '', configured: true, connected: false }).pausedReason).toBe('unauthorized');
    expect(observeStatus(paused, { revoked: false, lastError: '', configured: true, connected: true }).pausedReason).toBe('');
  });
});

describe('persistence shape (§2.3)', () => {
  it('writes exactly the five fields', () => {
    const s = recordFailure(recordAttempt(INITIAL_STATE, T0), T0, 'sync-server:forbidden (HTTP 403)');
    const doc = toDocument(next(T0, s, input()).state);
    expect(Object.keys(doc).sort()).toEqual(['consecutiveFailures', 'lastAttemptAt', 'lastFailureAt', 'nextAttemptAt', 'pausedReason']);
    expect(doc).toEqual({
      consecutiveFailures: 1,
      lastAttemptAt: iso(T0),
      lastFailureAt: iso(T0),
      nextAttemptAt: '',
      pausedReason: 'forbidden',
    });
    expect(fromDocument(JSON.parse(JSON.stringify(doc)))).toEqual(fromDocument(doc));
  });
  it('reads malformed documents as the initial state', () => {
    expect(fromDocument({})).toEqual(INITIAL_STATE);
    expect(fromDocument(null)).toEqual(INITIAL_STATE);
    expect(fromDocument({ consecutiveFailures: -3, lastAttemptAt: 'yesterday', pausedReason: 'bored' })).toEqual(INITIAL_STATE);
  });
});

// ---------------------------------------------------------------- the controller

function fakeTimers(start = T0) {
  let now = start;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(h) {
      pending.delete(h as number);
    },
  };
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return {
    timers,
    pending,
    get now() {
      return now;
    },
    /** Advances simulated time, firing due timers in order. */
    async advance(ms: number) {
      const end = now + ms;
      await settle();
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
        await settle();
      }
      now = end;
      await settle();
    },
    settle,
  };
}

function controller(status: SyncStatusDTO, opts: { failNow?: string; doc?: Record<string, unknown> } = {}) {
  const clock = fakeTimers();
  const log: string[] = [];
  const store: Record<string, Record<string, unknown>> = opts.doc ? { scheduler: opts.doc } : {};
  const writes: Record<string, unknown>[] = [];
  let current = status;
  const handlers: ((e: unknown) => void)[] = [];
  const auto = new AutoSync({
    backend: {
      async status() {
        log.push(`status@${(clock.now - T0) / 1000}`);
        return current;
      },
      async now() {
        log.push(`now@${(clock.now - T0) / 1000}`);
        if (opts.failNow) {
          current = { ...current, lastError: opts.failNow, statusLabel: 'error' };
          throw new Error(`[plugin:verstak.sync] sync.now failed: ${opts.failNow}`);
        }
        current = { ...current, lastSyncAt: iso(clock.now) };
        return { pushed: 0, pulled: 0, serverSequence: 0 };
      },
    },
    storage: {
      async read(name) {
        return store[name] ?? {};
      },
      async write(name, obj) {
        store[name] = obj;
        writes.push(obj);
      },
    },
    subscribe: (_type, h) => {
      handlers.push(h);
      return () => handlers.splice(handlers.indexOf(h), 1);
    },
    timers: clock.timers,
  });
  return {
    auto,
    clock,
    log,
    store,
    writes,
    handlers,
    setStatus: (s: SyncStatusDTO) => (current = s),
  };
}

describe('AutoSync controller', () => {
  const live: AutoSync[] = [];
  afterEach(() => {
    for (const a of live.splice(0)) a.stop();
    expect(schedulerActive()).toBe(false);
  });

  it('polls once a minute when idle and never syncs when auto-sync is off', async () => {
    const c = controller(connectedStatus({ syncInterval: 0 }));
    live.push(c.auto);
    await c.auto.start();
    await c.clock.advance(5 * MINUTE);
    expect(c.log).toEqual(['status@0', 'status@60', 'status@120', 'status@180', 'status@240', 'status@300']);
  });

  it('runs at lastSyncAt + interval, then every interval', async () => {
    const c = controller(connectedStatus({ syncInterval: 2, lastSyncAt: iso(T0 - MINUTE) }));
    live.push(c.auto);
    await c.auto.start();
    await c.clock.advance(5 * MINUTE + 1000);
    expect(c.log.filter((l) => l.startsWith('now'))).toEqual(['now@60', 'now@180', 'now@300']);
    const idle = c.log.filter((l) => l.startsWith('status'));
    expect(idle.length).toBeLessThanOrEqual(10); // about once a minute plus one after each run
  });

  it('backs off 1, 2, 4, 8, 15 minutes after failures and persists the state', async () => {
    const c = controller(connectedStatus({ syncInterval: 60, lastSyncAt: '' }), { failNow: 'push: sync-server:internal_error (HTTP 500)' });
    live.push(c.auto);
    await c.auto.start();
    await c.clock.advance(46 * MINUTE);
    const runs = c.log.filter((l) => l.startsWith('now')).map((l) => Number(l.slice(4)) / 60);
    expect(runs).toEqual([0, 1, 3, 7, 15, 30, 45]);
    expect(c.store.scheduler).toMatchObject({ consecutiveFailures: 7, pausedReason: '' });
    expect(c.store.scheduler.nextAttemptAt).toBe(iso(T0 + 60 * MINUTE));
  });

  it('pauses on an authorization failure', async () => {
    const c = controller(connectedStatus({ syncInterval: 1 }), { failNow: 'push: sync-server:unauthorized (HTTP 401)' });
    live.push(c.auto);
    await c.auto.start();
    await c.clock.advance(30 * MINUTE);
    expect(c.log.filter((l) => l.startsWith('now'))).toEqual(['now@0']);
    expect(c.store.scheduler).toMatchObject({ pausedReason: 'unauthorized', nextAttemptAt: '' });
    // a successful configure lifts the pause
    c.setStatus(connectedStatus({ syncInterval: 1, lastSyncAt: iso(c.clock.now) }));
    c.auto.configured();
    await c.clock.advance(2 * MINUTE);
    expect(c.log.filter((l) => l.startsWith('now')).length).toBeGreaterThan(1);
  });

  it('debounces file.changed hints to 30 s after the last one, without polling', async () => {
    const c = controller(connectedStatus({ syncInterval: 60, lastSyncAt: iso(T0) }));
    live.push(c.auto);
    await c.auto.start();
    expect(c.handlers).toHaveLength(1);
    await c.clock.advance(10_000);
    c.handlers[0]({ name: 'file.changed' });
    await c.clock.advance(20_000);
    c.handlers[0]({ name: 'file.changed' });
    const before = c.log.length;
    await c.clock.advance(29_000);
    expect(c.log.length).toBe(before);
    await c.clock.advance(2_000);
    expect(c.log.slice(before)).toEqual(['status@60', 'now@60', 'status@60']);
  });

  it('polls every 5 s while someone else runs, and does not start a run then', async () => {
    const c = controller(connectedStatus({ syncInterval: 1, syncing: true }));
    live.push(c.auto);
    await c.auto.start();
    await c.clock.advance(20_000);
    expect(c.log).toEqual(['status@0', 'status@5', 'status@10', 'status@15', 'status@20']);
    expect(BUSY_POLL_MS).toBe(5000);
    expect(IDLE_POLL_MS).toBe(60_000);
  });

  it('is a singleton, and stop() clears every timer and subscription', async () => {
    const a = controller(connectedStatus({ syncInterval: 0 }));
    const b = controller(connectedStatus({ syncInterval: 0 }));
    live.push(a.auto, b.auto);
    await a.auto.start();
    await b.auto.start();
    expect(a.auto.isScheduler).toBe(true);
    expect(b.auto.isScheduler).toBe(false);
    expect(b.handlers).toHaveLength(0);
    a.auto.stop();
    expect(a.clock.pending.size).toBe(0);
    expect(a.handlers).toHaveLength(0);
    await b.clock.advance(IDLE_POLL_MS);
    expect(b.auto.isScheduler).toBe(true); // takes over at its next poll
    b.auto.stop();
    expect(b.clock.pending.size).toBe(0);
  });

  it('counts a manual Sync Now (§6.1.2) in stored state when no scheduler runs', async () => {
    const store: Record<string, Record<string, unknown>> = {};
    const storage = {
      read: async (n: string) => store[n] ?? {},
      write: async (n: string, o: Record<string, unknown>) => void (store[n] = o),
    };
    await recordManualRunInStorage(storage, false, 'sync-server:forbidden (HTTP 403)', T0);
    expect(store.scheduler).toMatchObject({ consecutiveFailures: 1, pausedReason: 'forbidden', lastFailureAt: iso(T0) });
    await recordManualRunInStorage(storage, true, '', T0 + 1);
    expect(store.scheduler).toMatchObject({ consecutiveFailures: 0, pausedReason: '' });
  });

  it('ignores results that arrive after stop()', async () => {
    let release!: () => void;
    const c = controller(connectedStatus({ syncInterval: 1 }));
    const slow = new AutoSync({
      backend: {
        status: () => new Promise((r) => (release = () => r(connectedStatus({ syncInterval: 1 })))),
        now: async () => ({}),
      },
      timers: c.clock.timers,
      onStatus: () => {
        throw new Error('must not be called after stop');
      },
    });
    const started = slow.start();
    await c.clock.settle();
    slow.stop();
    release();
    await started;
    expect(c.clock.pending.size).toBe(0);
  });

  it('leaves auto-sync to a live host and stops polling once the host pushes statuses', async () => {
    const clock = fakeTimers();
    const log: string[] = [];
    const byType = new Map<string, (e: unknown) => void>();
    const shown: SyncStatusDTO[] = [];
    const shared: SyncStatusDTO[] = [];
    const liveStatus = connectedStatus({ syncInterval: 1, lastSyncAt: iso(T0 - 10 * MINUTE), live: true });
    const auto = new AutoSync({
      backend: {
        async status() {
          log.push('status');
          return liveStatus;
        },
        async now() {
          log.push('now');
          return {};
        },
      },
      subscribe: (type, h) => {
        byType.set(type, h);
        return () => byType.delete(type);
      },
      normalize: (raw) => raw as SyncStatusDTO,
      onStatus: (s) => {
        if (s) shown.push(s);
      },
      onPushed: (s) => shared.push(s),
      timers: clock.timers,
    });
    live.push(auto);
    await auto.start();
    await clock.settle();
    expect(byType.has('sync.status')).toBe(true); // the status said live: subscribe to its pushes
    await clock.advance(2 * MINUTE);
    expect(log.filter((l) => l === 'now')).toEqual([]); // the host runs the syncs, not the page
    byType.get('sync.status')!({ name: 'sync.status', payload: { ...liveStatus, syncing: true } });
    await clock.settle();
    expect(shown.at(-1)?.syncing).toBe(true);
    expect(clock.pending.size).toBe(0); // pushed statuses: no poll timer
    const polls = log.length;
    await clock.advance(10 * MINUTE);
    expect(log.length).toBe(polls);
    byType.get('sync.status')!({ name: 'sync.status', payload: { ...liveStatus, syncing: false } });
    await clock.settle();
    expect(shown.at(-1)?.syncing).toBe(false);
    expect(shared.map((x) => x.syncing)).toEqual([true, false]); // handed on to the settings panel
    auto.stop();
    expect(byType.size).toBe(0); // both subscriptions are cleaned up
  });
});
