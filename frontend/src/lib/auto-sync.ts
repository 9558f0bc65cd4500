// The status poller and auto-sync controller that the status-bar item runs (spec §5.5).
//
// One `AutoSync` per mounted status-bar item. It
//   1. reads the status: at start, on its poll timer, and when told (`refresh`);
//   2. if it holds the module-level scheduler claim, decides with the pure rules of
//      scheduler.ts when an automatic `now()` is due, runs it, and persists the state in
//      storage.data('scheduler');
//   3. reports everything through callbacks; it never touches the DOM.
//
// Timers are injected (`Timers`), so tests drive it with fake time.
//
// Network budget. On the desktop `status()` makes a network call each time, so the idle poll
// is the spec's 60 s and nothing else polls while idle: `file.changed` hints only move the
// timer. The 5 s poll runs only while a run is in progress, and during this controller's own
// run only when the backend's status is the cheap local one of this project's engine
// (detected by its extension fields), because only that one reports progress.
//
// A live host (`verstak-sync-host serve`, status `live: true`) syncs by itself and pushes each
// status change as a `sync.status` event: then this controller never starts an automatic run
// (the host would be driven twice) and, while pushes arrive, sets no poll timer at all.

import type { SyncStatusDTO } from './api';
import { messageOf } from './errors';
import {
  BUSY_POLL_MS,
  IDLE_POLL_MS,
  INITIAL_STATE,
  fromDocument,
  next,
  observeStatus,
  recordAttempt,
  recordFailure,
  recordSuccess,
  resume,
  sameState,
  toDocument,
  type SchedulerState,
} from './scheduler';

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Floor for a due-now timer, so that nothing can spin. */
const MIN_DELAY_MS = 250;

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface AutoSyncBackend {
  status(): Promise<SyncStatusDTO>;
  now(): Promise<unknown>;
}

export interface DataStorage {
  read(name: string): Promise<Record<string, unknown>>;
  write(name: string, obj: Record<string, unknown>): Promise<unknown>;
}

export type Subscribe = (type: string, handler: (event: unknown) => void) => Promise<() => void> | (() => void);

export interface AutoSyncOptions {
  backend: AutoSyncBackend;
  storage?: DataStorage | null;
  subscribe?: Subscribe | null;
  timers?: Timers;
  /** Fresh status (`stale` false) or the last known one after a failed read (`stale` true). */
  onStatus?(status: SyncStatusDTO | null, stale: boolean): void;
  /** This controller's own automatic run started or ended. */
  onRun?(active: boolean): void;
  /** The scheduler state and the next due time (null: nothing scheduled). */
  onSchedule?(state: SchedulerState, at: number | null): void;
  /** Turns a pushed `sync.status` payload into a status (the host's live push). */
  normalize?(raw: unknown): SyncStatusDTO;
  /** A status the host pushed (the status bar shares it with the settings panel). */
  onPushed?(status: SyncStatusDTO): void;
}

// ---- the module-level singleton claim (§5.5: exactly one scheduler per plugin instance)
let claimHolder: AutoSync | null = null;

export function schedulerActive(): boolean {
  return claimHolder !== null;
}

/** Whether backend status reads are local and cheap (this project's engine, §5.4.7). */
export function cheapStatus(status: SyncStatusDTO | null): boolean {
  return !!status && ('lastCheckedAt' in status || 'effectiveVaultId' in status || 'progress' in status);
}

export class AutoSync {
  #o: AutoSyncOptions;
  #t: Timers;
  #stopped = false;
  #started = false;
  #timer: unknown = null;
  #unsubscribe: (() => void) | null = null;
  #unsubscribeStatus: (() => void) | null = null;
  /** Statuses arrive as the host's pushes: no poll timer is needed. */
  #pushed = false;
  #statusSubscribed = false;
  #status: SyncStatusDTO | null = null;
  #stale = false;
  #state: SchedulerState = INITIAL_STATE;
  #persisted: SchedulerState = INITIAL_STATE;
  #loaded = false;
  #running = false;
  /** The settings panel's Sync Now is in progress. */
  #manual = false;
  #polling: Promise<void> | null = null;
  #repoll = false;
  #changeHintAt: number | null = null;
  #at: number | null = null;

  constructor(options: AutoSyncOptions) {
    this.#o = options;
    this.#t = options.timers ?? realTimers;
  }

  get isScheduler(): boolean {
    return claimHolder === this;
  }
  get running(): boolean {
    return this.#running;
  }
  get state(): SchedulerState {
    return this.#state;
  }
  get dueAt(): number | null {
    return this.#at;
  }

  /** Starts polling (and scheduling, if the claim is free). */
  async start(): Promise<void> {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    await this.#tryClaim();
    await this.poll();
  }

  /**
   * The host's live status push (every status bar listens, scheduler or not); subscribed once
   * a status says the host is live, so other hosts see no extra subscription.
   */
  async #subscribeStatus(): Promise<void> {
    const subscribe = this.#o.subscribe;
    const normalize = this.#o.normalize;
    if (!subscribe || !normalize || this.#statusSubscribed) return;
    this.#statusSubscribed = true;
    try {
      const off = await subscribe('sync.status', (event) => {
        const payload = (event as { payload?: unknown } | null)?.payload;
        if (payload && typeof payload === 'object') this.acceptPushed(normalize(payload));
      });
      if (this.#stopped) {
        if (typeof off === 'function') off();
        return;
      }
      this.#unsubscribeStatus = typeof off === 'function' ? off : null;
    } catch (err) {
      console.warn('[verstak.sync] subscribing to sync.status failed', messageOf(err));
    }
  }

  /** A status the host pushed: use it, and rely on the pushes instead of polling. */
  acceptPushed(status: SyncStatusDTO): void {
    if (this.#stopped) return;
    this.#pushed = true;
    this.acceptStatus(status);
    this.#o.onPushed?.(status);
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
    for (const off of [this.#unsubscribe, this.#unsubscribeStatus]) {
      if (!off) continue;
      try {
        off();
      } catch {
        /* already disposed by the host */
      }
    }
    this.#unsubscribe = null;
    this.#unsubscribeStatus = null;
    if (claimHolder === this) claimHolder = null;
  }

  async #tryClaim(): Promise<void> {
    if (claimHolder !== null || this.#stopped) return;
    claimHolder = this;
    await this.#load();
    await this.#subscribe();
  }

  async #load(): Promise<void> {
    const storage = this.#o.storage;
    if (!storage) {
      this.#loaded = true;
      return;
    }
    try {
      const doc = await storage.read('scheduler');
      if (this.#stopped) return;
      this.#state = fromDocument(doc);
      this.#persisted = this.#state;
    } catch (err) {
      console.warn('[verstak.sync] reading the scheduler state failed', messageOf(err));
    }
    this.#loaded = true;
  }

  async #subscribe(): Promise<void> {
    const subscribe = this.#o.subscribe;
    if (!subscribe) return;
    try {
      const off = await subscribe('file.changed', () => this.hintChange());
      if (this.#stopped) {
        if (typeof off === 'function') off();
        return;
      }
      this.#unsubscribe = typeof off === 'function' ? off : null;
    } catch (err) {
      console.warn('[verstak.sync] subscribing to file.changed failed', messageOf(err));
    }
  }

  /** A local change happened (§5.5 "Local changes"): debounce a run; never reads the network. */
  hintChange(): void {
    if (this.#stopped || !this.isScheduler) return;
    this.#changeHintAt = this.#t.now();
    this.#reschedule();
  }

  /** Reads the status now; then maybe starts a due run; then re-arms the timer. */
  poll(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#polling) {
      this.#repoll = true;
      return this.#polling;
    }
    this.#polling = this.#pollOnce().finally(() => {
      this.#polling = null;
      if (this.#repoll && !this.#stopped) {
        this.#repoll = false;
        void this.poll();
      }
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    if (!this.isScheduler) await this.#tryClaim();
    if (this.#stopped) return;
    try {
      const status = await this.#o.backend.status();
      if (this.#stopped) return;
      this.#status = status;
      this.#stale = false;
      this.#o.onStatus?.(status, false);
      if (this.isScheduler) this.#state = observeStatus(this.#state, status);
      if (status.live) void this.#subscribeStatus();
    } catch (err) {
      if (this.#stopped) return;
      this.#stale = true;
      console.warn('[verstak.sync] status() failed', messageOf(err));
      this.#o.onStatus?.(this.#status, true);
    }
    await this.#maybeRun();
  }

  /** A status read elsewhere (the settings panel): use it instead of polling again. */
  acceptStatus(status: SyncStatusDTO): void {
    if (this.#stopped) return;
    this.#status = status;
    this.#stale = false;
    this.#o.onStatus?.(status, false);
    if (this.isScheduler) this.#state = observeStatus(this.#state, status);
    this.#reschedule();
  }

  #input() {
    const s = this.#status;
    return {
      configured: !!s?.configured,
      syncInterval: s?.syncInterval ?? 0,
      revoked: !!s?.revoked,
      guardPending: !!s?.guard,
      lastSyncAt: s?.lastSyncAt ?? '',
      changeHintAt: this.#changeHintAt,
    };
  }

  async #maybeRun(): Promise<void> {
    if (this.#stopped) return;
    if (this.isScheduler && this.#loaded && this.#status && !this.#stale && !this.#running && !this.#manual && !this.#status.syncing && !this.#status.live) {
      const now = this.#t.now();
      const { at, state } = next(now, this.#state, this.#input());
      this.#state = state;
      if (at !== null && at <= now) {
        void this.#run(); // detached: polls keep reading progress while it runs
        return;
      }
    }
    this.#reschedule();
  }

  async #run(): Promise<void> {
    this.#running = true;
    const startedAt = this.#t.now();
    this.#state = recordAttempt(this.#state, startedAt);
    this.#o.onRun?.(true);
    void this.#persist();
    this.#reschedule();
    let ok = false;
    let message = '';
    try {
      await this.#o.backend.now();
      ok = true;
    } catch (err) {
      message = messageOf(err);
    }
    if (this.#stopped) return;
    const now = this.#t.now();
    if (ok) this.#state = recordSuccess(this.#state, now);
    else {
      console.warn('[verstak.sync] automatic sync failed', message);
      this.#state = recordFailure(this.#state, now, message);
    }
    if (this.#changeHintAt !== null && this.#changeHintAt <= startedAt) this.#changeHintAt = null;
    this.#running = false;
    this.#o.onRun?.(false);
    void this.poll();
  }

  /** The settings panel's Sync Now started: counts as a run in progress (§5.5 Concurrency). */
  manualStarted(): void {
    if (this.#stopped) return;
    this.#manual = true;
    this.#o.onRun?.(true);
    this.#reschedule();
  }

  /** The settings panel's Sync Now ended without an outcome (the panel was closed). */
  manualEnded(): void {
    if (this.#stopped || !this.#manual) return;
    this.#manual = false;
    this.#o.onRun?.(false);
    void this.poll();
  }

  /** The settings panel's Sync Now finished (§6.1.2). */
  manualResult(ok: boolean, message: string): void {
    if (this.#stopped) return;
    if (this.#manual) {
      this.#manual = false;
      this.#o.onRun?.(false);
    }
    if (!this.isScheduler) return;
    const now = this.#t.now();
    this.#state = ok ? recordSuccess(this.#state, now) : recordFailure(this.#state, now, message);
    if (ok) this.#changeHintAt = null;
    this.#reschedule();
  }

  /** configure() succeeded: a fresh start. */
  configured(): void {
    if (this.#stopped || !this.isScheduler) return;
    this.#state = resume(this.#state);
    this.#reschedule();
  }

  #reschedule(): void {
    if (this.#stopped) return;
    this.#clearTimer();
    const now = this.#t.now();
    let at: number | null = null;
    if (this.isScheduler && this.#status && !this.#status.live) {
      const r = next(now, this.#state, this.#input());
      at = r.at;
      this.#state = r.state;
    }
    this.#at = at;
    void this.#persist();
    this.#o.onSchedule?.(this.#state, at);

    // A live host pushes every change (a new page gets the current status on connect).
    if (this.#pushed && this.#status?.live && !this.#stale) return;
    let delay: number;
    if (this.#running || this.#manual) {
      if (!cheapStatus(this.#status)) return; // the run's end brings a poll or a status
      delay = BUSY_POLL_MS; // progress from this project's engine
    } else if (this.#status?.syncing) {
      delay = BUSY_POLL_MS; // someone else's run: watch for its end
    } else {
      delay = IDLE_POLL_MS;
      if (at !== null) delay = Math.min(delay, Math.max(MIN_DELAY_MS, at - now));
    }
    this.#timer = this.#t.setTimeout(() => {
      this.#timer = null;
      void this.poll();
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      this.#t.clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  async #persist(): Promise<void> {
    const storage = this.#o.storage;
    if (!storage || !this.isScheduler || !this.#loaded || this.#stopped) return;
    if (sameState(this.#state, this.#persisted)) return;
    const snapshot = this.#state;
    this.#persisted = snapshot;
    try {
      await storage.write('scheduler', toDocument(snapshot));
    } catch (err) {
      if (!this.#stopped) console.warn('[verstak.sync] writing the scheduler state failed', messageOf(err));
    }
  }
}

/** Without a running scheduler, the settings panel updates the stored state itself. */
export async function recordManualRunInStorage(storage: DataStorage, ok: boolean, message: string, now: number): Promise<void> {
  const state = fromDocument(await storage.read('scheduler'));
  const updated = ok ? recordSuccess(state, now) : recordFailure(state, now, message);
  await storage.write('scheduler', toDocument(updated));
}

export async function recordConfiguredInStorage(storage: DataStorage): Promise<void> {
  const state = fromDocument(await storage.read('scheduler'));
  await storage.write('scheduler', toDocument(resume(state)));
}
