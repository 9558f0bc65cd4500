// What the UI shows about the sync state (spec §6.2), in two layers:
// - pure functions: `indicatorOf` (label key, params, dot colour), `relativeTime`,
//   `exactTime` and `tooltipLines`; unit-tested without a DOM;
// - `StatusStore`, a small reactive holder (`$state` fields behind getters) that the
//   components fill from the poller and read in their markup.

import type { SyncStatusDTO } from './api';
import type { SchedulerState } from './scheduler';
import type { Params } from './i18n.svelte';

export type IndicatorState = 'revoked' | 'syncing' | 'error' | 'disabled' | 'conflict' | 'connected' | 'disconnected';

export interface Indicator {
  state: IndicatorState;
  key: string;
  params?: Params;
  color: string;
}

export const DOT = {
  red: '#ff6b6b',
  blue: '#60a5fa',
  grey: '#8b95a7',
  green: '#34d399',
  amber: '#fbbf24',
} as const;

/** The §6.2 label table; the first matching rule wins. `null` status: nothing known yet. */
export function indicatorOf(status: SyncStatusDTO | null, runActive = false): Indicator {
  if (!status) {
    if (runActive) return { state: 'syncing', key: 'ui.status.syncing', color: DOT.blue };
    return { state: 'disabled', key: 'ui.status.disabled', color: DOT.grey };
  }
  if (status.revoked || status.lastError.includes('sync-server:unauthorized')) {
    return { state: 'revoked', key: 'ui.status.revoked', color: DOT.red };
  }
  if (status.syncing || runActive) {
    const p = status.progress;
    if (p && p.total > 0) {
      return { state: 'syncing', key: 'ui.status.syncingProgress', params: { done: p.done, total: p.total }, color: DOT.blue };
    }
    return { state: 'syncing', key: 'ui.status.syncing', color: DOT.blue };
  }
  if (status.lastError !== '' || status.statusLabel === 'error') {
    return { state: 'error', key: 'ui.status.error', color: DOT.red };
  }
  if (!status.configured && status.serverUrl === '') {
    return { state: 'disabled', key: 'ui.status.disabled', color: DOT.grey };
  }
  // This engine's extension: kept conflict copies the user has not resolved or dismissed yet
  // are a warning ("1 conflict"), never a green Connected.
  const conflicts = status.conflicts?.length ?? 0;
  if (conflicts > 0) {
    return { state: 'conflict', key: 'ui.status.conflicts', params: { count: conflicts }, color: DOT.amber };
  }
  if (status.connected) {
    const attention = status.unpushedOps > 0 || !!status.guard;
    return { state: 'connected', key: 'ui.status.connected', color: attention ? DOT.amber : DOT.green };
  }
  return { state: 'disconnected', key: 'ui.status.disconnected', color: DOT.grey };
}

function parse(iso: string): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** "5 minutes ago", "in 2 hours", "now" (§6.2). An unparseable date gives ''. */
export function relativeTime(iso: string, nowMs: number, locale: string): string {
  const t = parse(iso);
  if (t === null) return '';
  const seconds = Math.trunc((t - nowMs) / 1000);
  const abs = Math.abs(seconds);
  let value: number;
  let unit: Intl.RelativeTimeFormatUnit;
  if (abs < 60) [value, unit] = [seconds, 'second'];
  else if (abs < 3600) [value, unit] = [Math.trunc(seconds / 60), 'minute'];
  else if (abs < 86400) [value, unit] = [Math.trunc(seconds / 3600), 'hour'];
  else [value, unit] = [Math.trunc(seconds / 86400), 'day'];
  try {
    return new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(value, unit);
  } catch {
    return new Intl.RelativeTimeFormat('en', { numeric: 'auto' }).format(value, unit);
  }
}

/** The exact date and time (§6.2). An unparseable date gives ''. */
export function exactTime(iso: string, locale: string): string {
  const t = parse(iso);
  if (t === null) return '';
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(t);
  } catch {
    return new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' }).format(t);
  }
}

/** "<exact> (<relative>)", or '' for no date. */
export function dateWithRelative(iso: string, nowMs: number, locale: string): string {
  const exact = exactTime(iso, locale);
  if (!exact) return '';
  const rel = relativeTime(iso, nowMs, locale);
  return rel ? `${exact} (${rel})` : exact;
}

export interface TooltipInput {
  status: SyncStatusDTO | null;
  runActive: boolean;
  scheduler: SchedulerState | null;
  /** Next automatic attempt (epoch ms) or null. */
  dueAt: number | null;
  now: number;
  locale: string;
}

/** The tooltip lines of §6.2, in order. */
export function tooltipLines(t: (key: string, params?: Params) => string, input: TooltipInput): string[] {
  const { status, scheduler, now, locale } = input;
  const ind = indicatorOf(status, input.runActive);
  const lines = [`${t('ui.title')}: ${t(ind.key, ind.params)}`];
  if (!status) return lines;
  if (status.serverUrl) lines.push(t('ui.status.server', { server: status.serverUrl }));
  const last = dateWithRelative(status.lastSyncAt, now, locale);
  if (last) lines.push(t('ui.status.lastSuccess', { date: last }));
  if (status.unpushedOps > 0) lines.push(t('ui.status.pendingCount', { count: status.unpushedOps }));
  if (status.conflicts?.length && ind.state !== 'conflict') {
    lines.push(t('ui.status.conflicts', { count: status.conflicts.length }));
  }
  if (status.lastWarning || status.guard) lines.push(t('ui.status.warning'));
  if (status.lastError) lines.push(t('ui.status.lastError'));
  if (scheduler && scheduler.consecutiveFailures > 0 && input.dueAt !== null) {
    lines.push(t('ui.status.nextAttempt', { date: exactTime(new Date(input.dueAt).toISOString(), locale) }));
  }
  if (scheduler && scheduler.pausedReason !== '') lines.push(t('ui.status.paused'));
  return lines;
}

/** Reactive state shared by a component's markup. */
export class StatusStore {
  /** Last status read, or null before the first one arrives. */
  #status = $state<SyncStatusDTO | null>(null);
  /** The last read failed; `status` is the previous one. */
  #stale = $state(false);
  /** This controller's own run is in progress. */
  #runActive = $state(false);
  /** Scheduler state and next due time, when this instance runs the scheduler. */
  #scheduler = $state<SchedulerState | null>(null);
  #dueAt = $state<number | null>(null);
  /** Clock reading of the last update, for relative times. */
  #now = $state(Date.now());

  get status() {
    return this.#status;
  }
  get stale() {
    return this.#stale;
  }
  get runActive() {
    return this.#runActive;
  }
  get scheduler() {
    return this.#scheduler;
  }
  get dueAt() {
    return this.#dueAt;
  }
  get now() {
    return this.#now;
  }
  get indicator(): Indicator {
    return indicatorOf(this.#status, this.#runActive);
  }

  setStatus(status: SyncStatusDTO | null, stale: boolean, now = Date.now()): void {
    this.#status = status;
    this.#stale = stale;
    this.#now = now;
  }
  setRunActive(active: boolean): void {
    this.#runActive = active;
  }
  setSchedule(state: SchedulerState | null, dueAt: number | null): void {
    this.#scheduler = state;
    this.#dueAt = dueAt;
  }
  tick(now = Date.now()): void {
    this.#now = now;
  }
}
