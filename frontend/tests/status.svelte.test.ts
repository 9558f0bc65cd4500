// @vitest-environment happy-dom
// Spec §6.2: label/indicator derivation, tooltip lines, relative and exact times; plus the
// reactive StatusStore inside an effect root, and the form helpers of §6.1.
import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { DOT, StatusStore, dateWithRelative, exactTime, indicatorOf, relativeTime, tooltipLines } from '../src/lib/status.svelte';
import { parseIgnore, parseInterval, savedSettings, settingsDocument, urlProblem } from '../src/lib/form';
import { INITIAL_STATE } from '../src/lib/scheduler';
import { connectedStatus, zeroStatus } from './fake-api';
import en from '../../locales/en.json';

const EN: Record<string, string> = en;
const t = (k: string, p?: Record<string, string | number>) =>
  (EN[k] ?? k).replace(/\{([A-Za-z0-9_.-]+)\}/g, (w, n) => (p && n in p ? String(p[n]) : w));

describe('indicatorOf (§6.2 table, first match wins)', () => {
  const label = (s: Parameters<typeof indicatorOf>[0], run = false) => {
    const i = indicatorOf(s, run);
    return `${t(i.key, i.params)} ${i.color}`;
  };
  it('starts as Not configured', () => {
    expect(label(null)).toBe(`Not configured ${DOT.grey}`);
    expect(label(zeroStatus())).toBe(`Not configured ${DOT.grey}`);
  });
  it('rule 1: revoked, or an unauthorized lastError', () => {
    expect(label(connectedStatus({ revoked: true, syncing: true }))).toBe(`Revoked ${DOT.red}`);
    expect(label(connectedStatus({ lastError: 'push: sync-server:unauthorized (HTTP 401)' }))).toBe(`Revoked ${DOT.red}`);
  });
  it('rule 2: syncing, with progress, or our own run', () => {
    expect(label(connectedStatus({ syncing: true }))).toBe(`Syncing… ${DOT.blue}`);
    expect(label(connectedStatus({ syncing: true, progress: { phase: 'pull', done: 3, total: 120 } }))).toBe(`Syncing… 3/120 ${DOT.blue}`);
    expect(label(connectedStatus({ lastError: 'push: x' }), true)).toBe(`Syncing… ${DOT.blue}`);
    expect(label(null, true)).toBe(`Syncing… ${DOT.blue}`);
  });
  it('rule 3: error', () => {
    expect(label(connectedStatus({ lastError: 'sync-server:quota_exceeded (HTTP 413)' }))).toBe(`Error ${DOT.red}`);
    expect(label(connectedStatus({ statusLabel: 'error' }))).toBe(`Error ${DOT.red}`);
  });
  it('rules 4–6: not configured, connected (amber when pending), disconnected', () => {
    expect(label(connectedStatus())).toBe(`Connected ${DOT.green}`);
    expect(label(connectedStatus({ unpushedOps: 2 }))).toBe(`Connected ${DOT.amber}`);
    expect(label(connectedStatus({ guard: { direction: 'outgoing', deletions: 20, files: 30 } }))).toBe(`Connected ${DOT.amber}`);
    expect(label(connectedStatus({ connected: false }))).toBe(`Disconnected ${DOT.grey}`);
    // after resetKey: not configured but the server URL is kept
    expect(label({ ...zeroStatus(), serverUrl: 'https://s', statusLabel: 'disconnected' })).toBe(`Disconnected ${DOT.grey}`);
  });
});

describe('times', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('relative: seconds, minutes from 60 s, hours from 3600 s, days from 86400 s', () => {
    const ago = (s: number) => relativeTime(new Date(now - s * 1000).toISOString(), now, 'en');
    expect(ago(0)).toBe('now');
    expect(ago(30)).toBe('30 seconds ago');
    expect(ago(59)).toBe('59 seconds ago');
    expect(ago(60)).toBe('1 minute ago');
    expect(ago(300)).toBe('5 minutes ago');
    expect(ago(3600)).toBe('1 hour ago');
    expect(ago(7300)).toBe('2 hours ago');
    expect(ago(86400)).toBe('yesterday');
    expect(ago(3 * 86400)).toBe('3 days ago');
    expect(relativeTime(new Date(now + 120_000).toISOString(), now, 'en')).toBe('in 2 minutes');
    expect(ago(300 * 1)).not.toBe('');
    expect(relativeTime(new Date(now - 300_000).toISOString(), now, 'ru')).toBe('5 минут назад');
  });
  it('gives "" for empty or unparseable dates', () => {
    expect(relativeTime('', now, 'en')).toBe('');
    expect(relativeTime('not a date', now, 'en')).toBe('');
    expect(exactTime('', 'en')).toBe('');
    expect(exactTime('garbage', 'en')).toBe('');
    expect(dateWithRelative('', now, 'en')).toBe('');
  });
  it('exact: medium date and time style', () => {
    const iso = '2026-07-21T02:36:30Z';
    expect(exactTime(iso, 'en')).toBe(new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' }).format(Date.parse(iso)));
  });
});

describe('tooltipLines (§6.2)', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('has the title line only before the first status', () => {
    expect(tooltipLines(t, { status: null, runActive: false, scheduler: null, dueAt: null, now, locale: 'en' })).toEqual(['Sync: Not configured']);
  });
  it('lists server, last success, pending, warning, error, next attempt and pause in order', () => {
    const status = connectedStatus({
      lastSyncAt: '2026-11-22T11:55:00Z',
      unpushedOps: 4,
      lastWarning: 'file-too-large: a.bin (300000000 bytes exceeds 268435456 bytes)',
      lastError: 'push: sync-server:forbidden (HTTP 403)',
    });
    const scheduler = { ...INITIAL_STATE, consecutiveFailures: 2, pausedReason: 'forbidden' as const };
    const lines = tooltipLines(t, { status, runActive: false, scheduler, dueAt: now + 120_000, now, locale: 'en' });
    expect(lines[0]).toBe('Sync: Error');
    expect(lines[1]).toBe('Server: https://sync.example.com');
    expect(lines[2]).toMatch(/^Last successful sync: .+ \(5 minutes ago\)$/);
    expect(lines.slice(3, 6)).toEqual(['Changes waiting to be sent: 4', 'Some files need attention.', 'The last synchronization failed.']);
    expect(lines[6]).toMatch(/^Next attempt: /);
    expect(lines[7]).toBe('Automatic sync is paused. Connect again to resume.');
    expect(lines.join('\n')).not.toContain('sync-server');
    expect(lines.join('\n')).not.toContain('file-too-large');
  });
});

describe('StatusStore', () => {
  it('derives the indicator reactively', () => {
    const seen: string[] = [];
    const cleanup = $effect.root(() => {
      const store = new StatusStore();
      $effect(() => {
        seen.push(store.indicator.state);
      });
      flushSync();
      store.setStatus(connectedStatus(), false);
      flushSync();
      store.setRunActive(true);
      flushSync();
      store.setRunActive(false);
      store.setStatus(connectedStatus({ revoked: true }), false);
      flushSync();
    });
    cleanup();
    expect(seen).toEqual(['disabled', 'connected', 'syncing', 'revoked']);
  });
});

describe('form helpers (§6.1)', () => {
  it('accepts only http and https URLs', () => {
    expect(urlProblem('')).toBe('ui.serverRequired');
    expect(urlProblem('   ')).toBe('ui.serverRequired');
    expect(urlProblem('example.com')).toBe('ui.invalidUrl');
    expect(urlProblem('ftp://example.com')).toBe('ui.invalidUrl');
    expect(urlProblem('http://')).toBe('ui.invalidUrl');
    expect(urlProblem('http://127.0.0.1:8080')).toBeNull();
    expect(urlProblem(' https://sync.example.com/base ')).toBeNull();
  });
  it('parses the interval as an integer 1..1440', () => {
    expect([1, 5, 1440, '30'].map(parseInterval)).toEqual([1, 5, 1440, 30]);
    expect([0, -1, 1441, 2.5, '', 'abc', null, undefined, NaN].map(parseInterval)).toEqual(Array(9).fill(null));
  });
  it('builds the complete settings document without secrets', () => {
    const doc = settingsDocument(
      { extra: 1, password: 'x', token: 'y', serverUrl: 'old' },
      { serverUrl: ' https://s ', vaultId: ' v ', username: ' u ', autoSync: true, syncInterval: 7, ignore: ['*.tmp'] },
    );
    expect(doc).toEqual({ extra: 1, serverUrl: 'https://s', vaultId: 'v', username: 'u', autoSync: true, syncInterval: 7, ignore: ['*.tmp'] });
  });
  it('reads stored settings with defaults', () => {
    expect(savedSettings({})).toEqual({ serverUrl: '', vaultId: '', username: '', autoSync: false, syncInterval: 5 });
    expect(savedSettings({ syncInterval: 9000, autoSync: 'yes' })).toMatchObject({ syncInterval: 5, autoSync: false });
    expect(parseIgnore('a\n\n  b/ \r\n')).toEqual(['a', 'b/']);
  });
});
