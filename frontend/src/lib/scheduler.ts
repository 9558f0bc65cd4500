// The auto-sync scheduler's rules (spec §5.5), as pure functions over plain data.
// Nothing here reads the clock or touches a timer: `now` is an argument (epoch ms).
//
//   next(now, state, input)   → { at, state }   when the next automatic run is due (or null)
//   recordAttempt / recordSuccess / recordFailure / resume   → the new persisted state
//   fromDocument / toDocument                                 ↔ storage.data('scheduler')
//
// The controller (auto-sync.ts) owns the timers and calls these.
//
// One policy, two runtimes. On the desktop the plugin frontend owns scheduling (§5.5) and
// its backend is not our host, so the policy must be here; the headless host's `watch` has no
// frontend, so host-shim/src/watch.rs has its own few lines of it (the WIT stays as it is).
// Neither copies the other: both are checked against one table of cases,
// tests/auto-sync-delays.json (the wait after a run, from interval and failure count). Change
// the policy there first, then here and in watch.rs.

export const MINUTE = 60_000;
/** Debounce after the last `file.changed` hint before a change-triggered run. */
export const CHANGE_DEBOUNCE_MS = 30_000;
/** Status polling while idle and while a run is in progress (§5.5). */
export const IDLE_POLL_MS = 60_000;
export const BUSY_POLL_MS = 5_000;
/** Backoff cap in minutes: 1, 2, 4, 8, 15, 15, … */
export const MAX_BACKOFF_MIN = 15;

export type PausedReason = '' | 'unauthorized' | 'forbidden' | 'revoked';

/** The persisted document `scheduler` (§2.3). Times are RFC 3339 strings, `""` when unset. */
export interface SchedulerState {
  consecutiveFailures: number;
  lastAttemptAt: string;
  lastFailureAt: string;
  nextAttemptAt: string;
  pausedReason: PausedReason;
}

/** What the scheduler needs to know about the backend status and the UI. */
export interface ScheduleInput {
  configured: boolean;
  syncInterval: number;
  revoked: boolean;
  /** A mass-deletion guard is waiting for the user (§5.4.5). */
  guardPending: boolean;
  /** RFC 3339 time of the last successful run, or `""`. */
  lastSyncAt: string;
  /** Epoch ms of the last `file.changed` hint not yet covered by a run, or null. */
  changeHintAt?: number | null;
}

export const INITIAL_STATE: SchedulerState = {
  consecutiveFailures: 0,
  lastAttemptAt: '',
  lastFailureAt: '',
  nextAttemptAt: '',
  pausedReason: '',
};

/** Epoch ms of an RFC 3339 string, or null when empty or unparseable. */
export function parseTime(s: string): number | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Backoff after the k-th consecutive failure, in ms (k ≥ 1). Pinned by tests/auto-sync-delays.json. */
export function backoffMs(k: number): number {
  if (k < 1) return 0;
  const minutes = Math.min(2 ** Math.min(k - 1, 30), MAX_BACKOFF_MIN);
  return minutes * MINUTE;
}

/** Automatic runs are enabled (§5.5 "Enabled"), ignoring a pause. */
export function enabled(input: ScheduleInput): boolean {
  return input.configured && input.syncInterval > 0 && !input.revoked && !input.guardPending;
}

/** The earliest time a run may start after failures, or null without failures. */
export function backoffDue(state: SchedulerState): number | null {
  if (state.consecutiveFailures < 1) return null;
  const last = parseTime(state.lastFailureAt) ?? parseTime(state.lastAttemptAt);
  if (last === null) return null;
  return last + backoffMs(state.consecutiveFailures);
}

/**
 * When the next automatic run is due. `at` is null when nothing is scheduled (disabled or
 * paused); an overdue time is returned as `now`. The returned state carries `nextAttemptAt`.
 */
export function next(now: number, state: SchedulerState, input: ScheduleInput): { at: number | null; state: SchedulerState } {
  let at: number | null = null;
  if (enabled(input) && state.pausedReason === '') {
    const backoff = backoffDue(state);
    if (backoff !== null) {
      at = backoff; // whatever the interval is
    } else {
      const interval = input.syncInterval * MINUTE;
      const lastSync = parseTime(input.lastSyncAt);
      const lastAttempt = parseTime(state.lastAttemptAt);
      if (lastSync !== null) at = lastSync + interval;
      else if (lastAttempt !== null) at = lastAttempt + interval;
      else at = now;
    }
    if (input.changeHintAt != null) {
      const changeAt = Math.max(input.changeHintAt + CHANGE_DEBOUNCE_MS, backoff ?? -Infinity);
      at = Math.min(at, changeAt);
    }
    at = Math.max(at, now);
  }
  const nextAttemptAt = at === null ? '' : isoTime(at);
  return { at, state: nextAttemptAt === state.nextAttemptAt ? state : { ...state, nextAttemptAt } };
}

export function recordAttempt(state: SchedulerState, now: number): SchedulerState {
  return { ...state, lastAttemptAt: isoTime(now) };
}

/** A successful run (automatic or Sync Now) resets the failures and lifts a pause. */
export function recordSuccess(state: SchedulerState, _now: number): SchedulerState {
  return { ...state, consecutiveFailures: 0, lastFailureAt: '', pausedReason: '' };
}

/** A failed run counts; an authorization failure also pauses automatic runs. */
export function recordFailure(state: SchedulerState, now: number, message: string): SchedulerState {
  const out: SchedulerState = {
    ...state,
    consecutiveFailures: state.consecutiveFailures + 1,
    lastFailureAt: isoTime(now),
  };
  const reason = pauseReasonOf(message);
  if (reason) out.pausedReason = reason;
  return out;
}

/** After a successful configure: a fresh start. */
export function resume(state: SchedulerState): SchedulerState {
  return { ...state, consecutiveFailures: 0, lastFailureAt: '', pausedReason: '' };
}

/**
 * Observed status: a revoked device pauses. A paused scheduler resumes when the status shows
 * a working pairing again (connected, not revoked, no error): configure or a successful run
 * happened, possibly elsewhere (the CLI, another panel), since both clear `lastError` (§3.2).
 */
export function observeStatus(
  state: SchedulerState,
  status: { revoked: boolean; lastError: string; configured: boolean; connected: boolean },
): SchedulerState {
  if (status.revoked) return state.pausedReason === 'revoked' ? state : { ...state, pausedReason: 'revoked' };
  if (state.pausedReason !== '' && status.configured && status.connected && status.lastError === '') {
    return resume(state);
  }
  return state;
}

export function pauseReasonOf(message: string): PausedReason {
  const m = /sync-server:(unauthorized|forbidden)\b/.exec(message);
  if (m) return m[1] as PausedReason;
  if (/\brevoked\b/.test(message)) return 'revoked';
  return '';
}

/** Reads the stored document, tolerating anything malformed. */
export function fromDocument(doc: unknown): SchedulerState {
  const o = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const time = (v: unknown) => (typeof v === 'string' && parseTime(v) !== null ? v : '');
  const k = o.consecutiveFailures;
  const reason = o.pausedReason;
  return {
    consecutiveFailures: typeof k === 'number' && Number.isInteger(k) && k > 0 ? k : 0,
    lastAttemptAt: time(o.lastAttemptAt),
    lastFailureAt: time(o.lastFailureAt),
    nextAttemptAt: time(o.nextAttemptAt),
    pausedReason: reason === 'unauthorized' || reason === 'forbidden' || reason === 'revoked' ? reason : '',
  };
}

/** The document written to storage.data('scheduler'): exactly the five fields of §2.3. */
export function toDocument(state: SchedulerState): Record<string, unknown> {
  return {
    consecutiveFailures: state.consecutiveFailures,
    lastAttemptAt: state.lastAttemptAt,
    lastFailureAt: state.lastFailureAt,
    nextAttemptAt: state.nextAttemptAt,
    pausedReason: state.pausedReason,
  };
}

export function sameState(a: SchedulerState, b: SchedulerState): boolean {
  return (
    a.consecutiveFailures === b.consecutiveFailures &&
    a.lastAttemptAt === b.lastAttemptAt &&
    a.lastFailureAt === b.lastFailureAt &&
    a.nextAttemptAt === b.nextAttemptAt &&
    a.pausedReason === b.pausedReason
  );
}
