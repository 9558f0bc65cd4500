// @vitest-environment happy-dom
// "Recently replaced" (issue 13): the DTO normalising of `status.replaced` and the panel's list
// with path, time, device and the restore hint, in en and ru, over an in-memory api.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { normalizeStatus } from '../src/lib/sync-client.svelte';
import type { SyncReplaced } from '../src/lib/api';
import { connectedStatus, fakeApi, type FakeApi } from './fake-api';

function replaced(path: string, version: number, byDevice = 'dev_abcdef123456'): SyncReplaced {
  return { path, sha256: 'ab'.repeat(32), size: 12, version, byDevice, atMs: Date.UTC(2026, 11, 6, 2, 30) };
}

describe('normalizeStatus', () => {
  it('keeps well-formed entries, fills missing fields and drops what is not an entry', () => {
    const raw = {
      ...connectedStatus(),
      replaced: [replaced('n.md', 4), { path: 'm.md' }, null, 'x', { size: 3 }],
    };
    expect(normalizeStatus(raw).replaced).toEqual([
      replaced('n.md', 4),
      { path: 'm.md', sha256: '', size: 0, version: 0, byDevice: '', atMs: 0 },
    ]);
    expect(normalizeStatus(connectedStatus()).replaced, 'an older engine has none').toBeUndefined();
  });
});

type Comp = { mount(c: HTMLElement, p: object, api: unknown): void; unmount(c: HTMLElement): void };
let settings: Comp;

beforeAll(async () => {
  (window as any).VerstakPluginRegister = (_id: string, reg: any) => {
    settings = reg.components.SyncSettings;
  };
  await import('../src/main');
});

const mounted: HTMLElement[] = [];
afterEach(() => {
  for (const c of mounted.splice(0)) {
    settings.unmount(c);
    c.remove();
  }
});

function mount(api: FakeApi): HTMLElement {
  const c = document.createElement('div');
  document.body.append(c);
  mounted.push(c);
  settings.mount(c, { componentId: 'SyncSettings' }, api);
  return c;
}

const items = (root: HTMLElement) => [...root.querySelectorAll('[data-sync-message="replaced-list"] li')];

describe('ReplacedList in the panel', () => {
  it('lists path, device, time and how to restore, newest first, in en and ru', async () => {
    const list = [replaced('Notes/n.md', 7), replaced('m.md', 5, 'web')];
    const api = fakeApi(connectedStatus({ replaced: list }), true);
    const c = mount(api);
    await vi.waitFor(() => expect(items(c)).toHaveLength(2));
    const box = c.querySelector('[data-sync-message="replaced-list"]')!;
    expect(box.querySelector('h3')?.textContent?.trim()).toBe('Recently replaced');
    const [first, second] = items(c);
    expect(first.getAttribute('data-replaced-path')).toBe('Notes/n.md');
    expect(first.textContent).toContain('replaced by the edit from device abcdef12');
    expect(first.querySelector('time')?.getAttribute('datetime')).toBe('2026-12-06T02:30:00.000Z');
    expect(first.querySelector('code')?.textContent).toBe(
      'To get it back: verstak-sync-host history "Notes/n.md" lists it as the version before 7, then restore "Notes/n.md" --version N',
    );
    expect(second.textContent).toContain('replaced by the edit from the web dashboard');
    expect(second.querySelector('code')?.textContent).toContain('verstak-sync-host history "m.md"');
    expect(items(c)[0].querySelector('code')?.textContent).toContain('before 7');

    api.setLocale('ru');
    await vi.waitFor(() => expect(box.querySelector('h3')?.textContent?.trim()).toBe('Недавно заменены'));
    expect(items(c)[0].textContent).toContain('заменён правкой с устройства abcdef12');
    expect(items(c)[1].textContent).toContain('заменён правкой с веб-панели');
  });

  it('shows nothing when nothing was replaced', async () => {
    const api = fakeApi(connectedStatus({ replaced: [] }), true);
    const c = mount(api);
    await vi.waitFor(() => expect(c.querySelector('[data-sync-state]')).not.toBeNull());
    expect(c.querySelector('[data-sync-message="replaced-list"]')).toBeNull();
  });
});
