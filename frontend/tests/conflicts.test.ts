// @vitest-environment happy-dom
// Conflicts are never silent (issue 14 item 5): plural forms, the status-bar rule, the DTO
// normalising, and the panel's persistent conflict list with Dismiss / Dismiss all, over an
// in-memory api.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pluralKey } from '../src/lib/plural';
import { I18n } from '../src/lib/i18n.svelte';
import { DOT, indicatorOf, tooltipLines } from '../src/lib/status.svelte';
import { normalizeStatus } from '../src/lib/sync-client.svelte';
import type { SyncConflict } from '../src/lib/api';
import { connectedStatus, fakeApi, type FakeApi } from './fake-api';
import en from '../../locales/en.json';
import ru from '../../locales/ru.json';

const EN: Record<string, string> = en;
const RU: Record<string, string> = ru;

function conflict(id: string, path: string, localIsCopy = true): SyncConflict {
  const stem = path.replace(/\.md$/, '');
  return {
    id,
    path,
    copyPath: `${stem} (conflict laptop 2026-12-05 2300).md`,
    localIsCopy,
    remoteDeviceId: 'dev_abcdef123456',
    at: '2026-12-05T23:00:00Z',
  };
}

describe('plural forms', () => {
  const count = (locale: string, catalog: Record<string, string>, n: number) => {
    const key = pluralKey('ui.status.conflicts', n, locale, (k) => k in catalog);
    return catalog[key].replace('{count}', String(n));
  };
  it('en: one and other', () => {
    expect([1, 2, 5, 21].map((n) => count('en', EN, n))).toEqual(['1 conflict', '2 conflicts', '5 conflicts', '21 conflicts']);
  });
  it('ru: one, few, many', () => {
    expect([1, 2, 4, 5, 11, 21, 22, 25].map((n) => count('ru', RU, n))).toEqual([
      '1 конфликт', '2 конфликта', '4 конфликта', '5 конфликтов', '11 конфликтов', '21 конфликт', '22 конфликта', '25 конфликтов',
    ]);
  });
  it('a category the catalog lacks falls back to other', () => {
    expect(pluralKey('ui.x', 2, 'ru', (k) => k === 'ui.x.other')).toBe('ui.x.other');
  });
  it('I18n.t picks the form for the current locale and follows a locale change', () => {
    const api = fakeApi();
    const i18n = new I18n(api);
    const stop = i18n.listen();
    expect(i18n.t('ui.status.conflicts', { count: 1 })).toBe('1 conflict');
    api.setLocale('ru');
    expect(i18n.t('ui.status.conflicts', { count: 2 })).toBe('2 конфликта');
    expect(i18n.t('ui.status.conflicts', { count: 5 })).toBe('5 конфликтов');
    expect(i18n.t('ui.conflictsCount', { count: 5 }), 'other keys are untouched').toBe('Конфликтов: 5');
    stop();
  });
});

describe('the status-bar rule', () => {
  it('conflicts are an amber warning, never the green Connected', () => {
    const s = connectedStatus({ conflicts: [conflict('c_1', 'n.md')] });
    expect(indicatorOf(s)).toEqual({ state: 'conflict', key: 'ui.status.conflicts', params: { count: 1 }, color: DOT.amber });
    expect(indicatorOf(connectedStatus({ conflicts: [] })).state).toBe('connected');
    // Revoked, syncing and error still come first.
    expect(indicatorOf({ ...s, syncing: true }).state).toBe('syncing');
    expect(indicatorOf({ ...s, lastError: 'push: x' }).state).toBe('error');
    expect(indicatorOf({ ...s, revoked: true }).state).toBe('revoked');
  });
  it('the tooltip counts them while another state is shown', () => {
    const t = (k: string, p?: Record<string, string | number>) => `${k}${p?.count !== undefined ? `:${p.count}` : ''}`;
    const input = { runActive: true, scheduler: null, dueAt: null, now: 0, locale: 'en' };
    const s = connectedStatus({ conflicts: [conflict('c_1', 'a.md'), conflict('c_2', 'b.md')] });
    expect(tooltipLines(t, { ...input, status: s })).toContain('ui.status.conflicts:2');
    const idle = tooltipLines(t, { ...input, runActive: false, status: s });
    expect(idle[0]).toBe('ui.title: ui.status.conflicts:2');
    expect(idle.filter((l) => l.includes('conflicts'))).toHaveLength(1);
  });
});

describe('normalizeStatus', () => {
  it('keeps well-formed conflicts and drops the rest', () => {
    const raw = {
      ...connectedStatus(),
      conflicts: [conflict('c_1', 'n.md'), { path: 'no-id.md' }, null, { id: 'c_2', localIsCopy: 'yes' }],
    };
    expect(normalizeStatus(raw).conflicts).toEqual([
      conflict('c_1', 'n.md'),
      { id: 'c_2', path: '', copyPath: '', localIsCopy: false, remoteDeviceId: '', at: '' },
    ]);
    expect(normalizeStatus(connectedStatus()).conflicts, 'the desktop has none').toBeUndefined();
  });
});

type Comp = { mount(c: HTMLElement, p: object, api: unknown): void; unmount(c: HTMLElement): void };
let components: Record<'SyncSettings' | 'SyncStatusBar', Comp>;

beforeAll(async () => {
  (window as any).VerstakPluginRegister = (_id: string, reg: any) => {
    components = reg.components;
  };
  await import('../src/main');
});

const mounted: [HTMLElement, 'SyncSettings' | 'SyncStatusBar'][] = [];
afterEach(() => {
  for (const [c, name] of mounted.splice(0)) {
    components[name].unmount(c);
    c.remove();
  }
});

function mountComp(name: 'SyncSettings' | 'SyncStatusBar', api: FakeApi): HTMLElement {
  const c = document.createElement('div');
  document.body.append(c);
  mounted.push([c, name]);
  components[name].mount(c, { componentId: name }, api);
  return c;
}

const buttons = (root: HTMLElement, name: string) =>
  [...root.querySelectorAll('button')].filter((b) => b.textContent?.trim() === name);
const items = (root: HTMLElement) => [...root.querySelectorAll('[data-sync-message="conflict-list"] li')];

describe('components', () => {
  it('the status bar says "1 conflict" in the warning state, in en and ru', async () => {
    const api = fakeApi(connectedStatus({ conflicts: [conflict('c_1', 'n.md')] }), true);
    const c = mountComp('SyncStatusBar', api);
    const bar = () => c.querySelector('.sync-status-bar')!;
    await vi.waitFor(() => expect(bar().getAttribute('data-sync-state')).toBe('conflict'));
    expect(bar().querySelector('.status-label')?.textContent).toBe('1 conflict');
    api.setLocale('ru');
    await vi.waitFor(() => expect(bar().querySelector('.status-label')?.textContent).toBe('1 конфликт'));
  });

  it('the panel lists the conflicts from the status, with which copy is local; Dismiss and Dismiss all', async () => {
    const list = [conflict('c_1', 'Notes/n.md'), conflict('c_2', 'm.md', false), conflict('c_3', 'k.md')];
    const api = fakeApi(connectedStatus({ conflicts: list }), true);
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(items(c)).toHaveLength(3));
    const box = c.querySelector('[data-sync-message="conflict-list"]')!;
    expect(box.querySelector('h3')?.textContent?.trim()).toBe('3 conflicts');
    expect(items(c)[0].textContent).toContain(
      "This device's version was kept as Notes/n (conflict laptop 2026-12-05 2300).md; the version from device abcdef12 is at Notes/n.md.",
    );
    expect(items(c)[1].textContent).toContain(
      "The version from device abcdef12 was kept as m (conflict laptop 2026-12-05 2300).md; this device's version stays at m.md.",
    );
    expect(items(c)[0].querySelector('time')?.getAttribute('datetime')).toBe('2026-12-05T23:00:00Z');
    expect(c.querySelector('[data-sync-state]')?.getAttribute('data-sync-state')).toBe('conflict');

    // Dismiss one: the backend is asked for that id and the list follows the status.
    const dismiss = items(c)[1].querySelector('button')!;
    expect(dismiss.getAttribute('aria-label')).toBe('Dismiss the conflict of m.md');
    dismiss.click();
    await vi.waitFor(() => expect(items(c)).toHaveLength(2));
    expect(api.calls.find((x) => x.method === 'dismissConflicts')?.args).toEqual([['c_2']]);

    // A remount (a reload) shows what the status still lists.
    components.SyncSettings.unmount(c);
    const again = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(items(again)).toHaveLength(2));
    buttons(again, 'Dismiss all')[0].click();
    await vi.waitFor(() => expect(items(again)).toHaveLength(0));
    expect(api.calls.filter((x) => x.method === 'dismissConflicts').at(-1)?.args).toEqual([['c_1', 'c_3']]);
    expect(again.querySelector('[data-sync-message="conflict-list"]')).toBeNull();
    expect(again.querySelector('[data-sync-state]')?.getAttribute('data-sync-state')).toBe('connected');
  });

  it('a failed dismiss shows a localized error and keeps the list', async () => {
    const api = fakeApi(connectedStatus({ conflicts: [conflict('c_1', 'n.md')] }), true);
    api.fail.dismissConflicts = 'local_io';
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(items(c)).toHaveLength(1));
    expect(buttons(c, 'Dismiss all'), 'one conflict needs no Dismiss all').toHaveLength(0);
    buttons(c, 'Dismiss')[0].click();
    await vi.waitFor(() =>
      expect(c.querySelector('[data-sync-message="error"]')?.textContent).toBe('The conflict could not be dismissed.'),
    );
    expect(items(c)).toHaveLength(1);
  });

  it('without dismissConflicts (an older engine) the list shows without buttons', async () => {
    const api = fakeApi(connectedStatus({ conflicts: [conflict('c_1', 'n.md')] }), false);
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(items(c)).toHaveLength(1));
    expect(items(c)[0].querySelector('button')).toBeNull();
  });
});
