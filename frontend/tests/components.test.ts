// @vitest-environment happy-dom
// The registered components, mounted the way the host does it (spec §1.6, §1.9, §1.10), over
// an in-memory api. Elements are found by their label text and button names, as e2e does.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectedStatus, fakeApi, zeroStatus, type FakeApi } from './fake-api';

type Comp = { mount(c: HTMLElement, p: object, api: unknown): void; unmount(c: HTMLElement): void };
let components: Record<'SyncSettings' | 'SyncStatusBar', Comp>;

beforeAll(async () => {
  (window as any).VerstakPluginRegister = (id: string, reg: any) => {
    expect(id).toBe('verstak.sync');
    components = reg.components;
  };
  await import('../src/main');
});

const mounted: HTMLElement[] = [];
afterEach(() => {
  for (const c of mounted.splice(0)) {
    components.SyncSettings.unmount(c);
    components.SyncStatusBar.unmount(c);
    c.remove();
  }
});

function mountComp(name: 'SyncSettings' | 'SyncStatusBar', api: FakeApi): HTMLElement {
  const c = document.createElement('div');
  document.body.append(c);
  mounted.push(c);
  components[name].mount(c, { componentId: name }, api);
  return c;
}

function byLabel(root: HTMLElement, text: string): HTMLInputElement {
  const label = [...root.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  if (!label) throw new Error(`no label ${text}`);
  const input = root.querySelector<HTMLInputElement>(`#${label.htmlFor}`);
  if (!input) throw new Error(`label ${text} points nowhere`);
  return input;
}
function button(root: HTMLElement, name: string): HTMLButtonElement | undefined {
  return [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === name);
}
function type(input: HTMLInputElement, value: string) {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}
const text = (root: HTMLElement) => root.textContent?.replace(/\s+/g, ' ') ?? '';

describe('SyncSettings', () => {
  it('shows the setup form when not configured, with the §6.1 ids and placeholder', async () => {
    const api = fakeApi(zeroStatus());
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(api.calls.some((x) => x.method === 'status')).toBe(true));
    const root = c.querySelector('.sync-settings-surface')!;
    expect(root).toBeTruthy();
    expect(c.querySelector('.sync-setup')).toBeTruthy();
    expect(c.querySelector('.sync-settings-summary')).toBeTruthy();
    expect(byLabel(c, 'Server URL').id).toBe('sync-server-url');
    expect(byLabel(c, 'Server URL').placeholder).toBe('https://example.com');
    expect(byLabel(c, 'Remote vault ID').id).toBe('sync-vault-id');
    expect(byLabel(c, 'Username').id).toBe('sync-username');
    expect(byLabel(c, 'Password').type).toBe('password');
    expect(byLabel(c, 'Auto-sync').id).toBe('auto-sync');
    expect(byLabel(c, 'Sync Interval').id).toBe('sync-interval');
    expect(button(c, 'Test Connection')?.disabled).toBe(true); // URL empty
    expect(button(c, 'Connect')?.disabled).toBe(true);
    expect(button(c, 'Sync Now')).toBeUndefined();
    expect(c.querySelector('[data-sync-state]')?.getAttribute('data-sync-state')).toBe('disabled');
  });

  it('validates inline, connects, clears the password and stores no secret', async () => {
    const api = fakeApi(zeroStatus());
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(button(c, 'Connect')).toBeTruthy());
    type(byLabel(c, 'Server URL'), 'ftp://x');
    await vi.waitFor(() => expect(button(c, 'Connect')?.disabled).toBe(false));
    button(c, 'Connect')!.click();
    await vi.waitFor(() => expect(text(c)).toContain('Enter a URL that starts with http:// or https://.'));
    expect(byLabel(c, 'Server URL').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement?.id).toBe('sync-server-url');
    expect(text(c)).toContain('Enter the username.');
    expect(api.calls.some((x) => x.method === 'configure')).toBe(false);

    type(byLabel(c, 'Server URL'), 'https://sync.example.com');
    type(byLabel(c, 'Username'), 'alice');
    type(byLabel(c, 'Password'), 's3cret');
    await Promise.resolve();
    button(c, 'Connect')!.click();
    await vi.waitFor(() => expect(text(c)).toContain('This device is connected.'));
    expect(api.calls.find((x) => x.method === 'configure')?.args).toEqual(['https://sync.example.com', 'alice', 's3cret', '']);
    expect(byLabel(c, 'Password').value).toBe('');
    expect(byLabel(c, 'Username').value).toBe('alice');
    expect(JSON.stringify(api.settingsDoc)).not.toContain('s3cret');
    expect(api.settingsDoc).toMatchObject({ serverUrl: 'https://sync.example.com', username: 'alice', vaultId: '' });
    await vi.waitFor(() => expect(button(c, 'Sync Now')).toBeTruthy());
    expect(c.querySelector('.sync-info')).toBeTruthy();
    expect(c.querySelector('.status-ok')).toBeTruthy();
    expect(text(c)).toContain('Device Name');
    expect(text(c)).toContain('laptop');
  });

  it('shows server errors as localized sentences, never raw', async () => {
    const api = fakeApi(zeroStatus());
    api.fail.testConnection = 'not a Verstak Sync server (HTTP 503)';
    api.fail.configure = 'pair: sync-server:unauthorized (HTTP 401)';
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(button(c, 'Connect')).toBeTruthy());
    type(byLabel(c, 'Server URL'), 'http://localhost:8080');
    type(byLabel(c, 'Username'), 'a');
    type(byLabel(c, 'Password'), 'b');
    await vi.waitFor(() => expect(button(c, 'Test Connection')?.disabled).toBe(false));
    button(c, 'Test Connection')!.click();
    await vi.waitFor(() => expect(text(c)).toContain('The sync server is temporarily unavailable. Try again later.'));
    await vi.waitFor(() => expect(button(c, 'Connect')?.disabled).toBe(false));
    button(c, 'Connect')!.click();
    await vi.waitFor(() => expect(text(c)).toContain('This device is no longer authorized. Connect it again.'));
    expect(text(c)).not.toContain('sync-server:');
    expect(text(c)).not.toContain('HTTP');
  });

  it('runs Sync Now, shows the summary and conflicts, and tells the scheduler state', async () => {
    const api = fakeApi(connectedStatus());
    api.nowResult = {
      pushed: 1, pulled: 4, serverSequence: 9,
      conflicts: [{ entity_type: 'file', entity_id: 'Notes/a.md', op_id: 'x', device_id: 'dev_z' }, { entity_type: 'workspace', entity_id: 'w' }],
    };
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(button(c, 'Sync Now')).toBeTruthy());
    button(c, 'Sync Now')!.click();
    await vi.waitFor(() => expect(text(c)).toContain('Sync complete: 1 sent, 4 received.'));
    expect(text(c)).toContain('Conflict: Notes/a.md');
    expect(text(c)).not.toContain('dev_z');
    await vi.waitFor(() => expect(api.data.scheduler).toBeTruthy());
    expect(api.data.scheduler).toMatchObject({ consecutiveFailures: 0, pausedReason: '' });
  });

  it('maps lastError and a failed Sync Now; an auth failure pauses the scheduler', async () => {
    const api = fakeApi(connectedStatus());
    api.fail.now = 'push: sync-server:unauthorized (HTTP 401)';
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(button(c, 'Sync Now')).toBeTruthy());
    button(c, 'Sync Now')!.click();
    await vi.waitFor(() => expect(c.querySelector('[data-sync-message="error"]')).toBeTruthy());
    const sentence = 'This device is no longer authorized. Connect it again.';
    expect(c.querySelector('[data-sync-message="error"]')?.textContent).toBe(sentence);
    await vi.waitFor(() => expect(c.querySelector('[data-sync-state]')?.getAttribute('data-sync-state')).toBe('revoked'));
    // the same sentence is not repeated by the Last Error box
    expect(text(c).split(sentence)).toHaveLength(2);
    expect(c.querySelector('[data-sync-message="last-error"]')).toBeNull();
    expect(text(c)).not.toContain('sync-server:');
    expect(api.data.scheduler).toMatchObject({ consecutiveFailures: 1, pausedReason: 'unauthorized' });
    // a fresh panel shows it as the Last Error
    const again = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(again.querySelector('[data-sync-message="last-error"]')?.textContent).toBe(`Last Error: ${sentence}`));
  });

  it('asks before Disconnect and Reset Key', async () => {
    const api = fakeApi(connectedStatus());
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(button(c, 'Disconnect')).toBeTruthy());
    button(c, 'Disconnect')!.click();
    await vi.waitFor(() => expect(text(c)).toContain('Disconnect this device from the server? Local files stay as they are.'));
    expect(document.activeElement?.textContent).toBe('Cancel');
    button(c, 'Cancel')!.click();
    await vi.waitFor(() => expect(c.querySelector('[role="alertdialog"]')).toBeNull());
    expect(api.calls.some((x) => x.method === 'disconnect')).toBe(false);

    button(c, 'Reset Key')!.click();
    await vi.waitFor(() => expect(button(c, 'Confirm')).toBeTruthy());
    button(c, 'Confirm')!.click();
    await vi.waitFor(() => expect(text(c)).toContain('The sync key has been forgotten.'));
    expect(api.calls.some((x) => x.method === 'resetKey')).toBe(true);
    expect(button(c, 'Disconnect')).toBeUndefined();
    expect(byLabel(c, 'Server URL').value).toBe('https://sync.example.com');
  });

  it('saves the interval only when valid, and the checkbox toggles once', async () => {
    const api = fakeApi(connectedStatus({ syncInterval: 0 }));
    api.settingsDoc = { syncInterval: 30, autoSync: false, other: 'kept' };
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(byLabel(c, 'Sync Interval').value).toBe('30'));
    const box = byLabel(c, 'Auto-sync');
    expect(box.checked).toBe(false);
    box.click();
    await vi.waitFor(() => expect(text(c)).toContain('Settings saved.'));
    expect(box.checked).toBe(true);
    expect(api.calls.filter((x) => x.method === 'setInterval').map((x) => x.args[0])).toEqual([30]);
    expect(api.settingsDoc).toMatchObject({ autoSync: true, syncInterval: 30, other: 'kept' });

    const interval = byLabel(c, 'Sync Interval');
    type(interval, '5000');
    interval.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.waitFor(() => expect(text(c)).toContain('Sync interval must be between 1 and 1440 minutes.'));
    expect(api.calls.filter((x) => x.method === 'setInterval')).toHaveLength(1);
  });

  it('shows the mass-deletion prompt only with the extensions, focused on Keep the files', async () => {
    const guarded = connectedStatus({
      guard: { direction: 'incoming', deletions: 40, files: 50 },
      lastWarning: 'mass deletion awaiting confirmation: 40 incoming deletions of 50 files',
    });
    const api = fakeApi(guarded, true);
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(text(c)).toContain('The server would delete 40 of 50 files on this device.'));
    await vi.waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe('Keep the files'));
    // The prompt is the warning; the generic unresolved-files box does not repeat it.
    expect(c.querySelector('[data-sync-message="last-warning"]')).toBeNull();
    expect(c.querySelector('#sync-ignore')).toBeTruthy();
    button(c, 'Keep the files')!.click();
    await vi.waitFor(() => expect(api.calls.some((x) => x.method === 'restoreDeletions' && x.args[0] === 'incoming')).toBe(true));

    const plain = fakeApi(connectedStatus({ guard: { direction: 'incoming', deletions: 40, files: 50 } }));
    const d = mountComp('SyncSettings', plain);
    await vi.waitFor(() => expect(button(d, 'Sync Now')).toBeTruthy());
    expect(button(d, 'Keep the files')).toBeUndefined();
    expect(d.querySelector('#sync-ignore')).toBeNull();
  });

  it('shows apiUnavailable when status fails and keeps the form usable', async () => {
    const api = fakeApi(zeroStatus());
    api.fail.status = 'vault not open';
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(text(c)).toContain('The sync service is not available right now.'));
    expect(byLabel(c, 'Server URL').disabled).toBe(false);
  });

  it('re-renders on locale change and cleans up on unmount', async () => {
    const api = fakeApi(zeroStatus());
    const c = mountComp('SyncSettings', api);
    await vi.waitFor(() => expect(byLabel(c, 'Server URL')).toBeTruthy());
    api.setLocale('ru');
    await vi.waitFor(() => expect(byLabel(c, 'Адрес сервера').id).toBe('sync-server-url'));
    expect(api.localeListeners).toBe(1);
    components.SyncSettings.unmount(c);
    expect(api.localeListeners).toBe(0);
    expect(c.querySelector('.sync-settings-surface')).toBeNull();
  });

  it('replaces a previous instance mounted on the same container', async () => {
    const api = fakeApi(zeroStatus());
    const c = mountComp('SyncSettings', api);
    components.SyncSettings.mount(c, {}, api);
    await vi.waitFor(() => expect(c.querySelectorAll('.sync-settings-surface')).toHaveLength(1));
    expect(api.localeListeners).toBe(1);
  });
});

describe('SyncStatusBar', () => {
  it('shows Not configured, then the live status; click opens the panel', async () => {
    const api = fakeApi(zeroStatus());
    const c = mountComp('SyncStatusBar', api);
    const btn = c.querySelector<HTMLButtonElement>('button.sync-status-bar')!;
    expect(btn.querySelector('.status-label')?.textContent).toBe('Not configured');
    expect(btn.querySelector('.status-dot')).toBeTruthy();
    btn.click();
    expect(api.opened).toEqual(['verstak.sync.settings']);
    await vi.waitFor(() => expect(api.calls.some((x) => x.method === 'status')).toBe(true));
    // the panel connects: the bar follows without its own poll
    const panelApi = fakeApi(zeroStatus());
    const p = mountComp('SyncSettings', panelApi);
    await vi.waitFor(() => expect(button(p, 'Connect')).toBeTruthy());
    panelApi.state = connectedStatus({ unpushedOps: 3 });
    button(p, 'Save')!.click();
    await vi.waitFor(() => expect(btn.querySelector('.status-label')?.textContent).toBe('Connected'));
    expect(btn.getAttribute('title')).toContain('Sync: Connected');
    expect(btn.getAttribute('title')).toContain('Server: https://sync.example.com');
    expect(btn.getAttribute('title')).toContain('Changes waiting to be sent: 3');
    expect(btn.getAttribute('data-sync-state')).toBe('connected');
  });

  it('re-renders its label on locale change and unsubscribes on unmount', async () => {
    const api = fakeApi(connectedStatus({ syncInterval: 0 }));
    const c = mountComp('SyncStatusBar', api);
    await vi.waitFor(() => expect(c.querySelector('.status-label')?.textContent).toBe('Connected'));
    api.setLocale('ru');
    await vi.waitFor(() => expect(c.querySelector('.status-label')?.textContent).toBe('Подключено'));
    await vi.waitFor(() => expect(api.subscriptions).toBe(1));
    components.SyncStatusBar.unmount(c);
    expect(api.localeListeners).toBe(0);
    expect(api.subscriptions).toBe(0);
  });

  it('shows Syncing… while the panel runs Sync Now, then the result', async () => {
    const api = fakeApi(connectedStatus({ syncInterval: 0 }));
    const bar = mountComp('SyncStatusBar', api);
    await vi.waitFor(() => expect(bar.querySelector('.status-label')?.textContent).toBe('Connected'));
    const panelApi = fakeApi(connectedStatus({ syncInterval: 0 }));
    let finish!: () => void;
    const realNow = panelApi.sync.now.bind(panelApi.sync);
    panelApi.sync.now = () => new Promise((r) => (finish = () => r(realNow())));
    const p = mountComp('SyncSettings', panelApi);
    await vi.waitFor(() => expect(button(p, 'Sync Now')?.disabled).toBe(false));
    button(p, 'Sync Now')!.click();
    await vi.waitFor(() => expect(bar.querySelector('.status-label')?.textContent).toBe('Syncing…'));
    expect(p.querySelector('.sync-state')?.textContent?.trim()).toBe('Syncing…');
    expect(button(p, 'Save')?.disabled).toBe(true);
    finish();
    await vi.waitFor(() => expect(bar.querySelector('.status-label')?.textContent).toBe('Connected'));
    await vi.waitFor(() => expect(text(p)).toContain('Sync complete: 2 sent, 3 received.'));
  });

  it('shows progress while syncing', async () => {
    const api = fakeApi(connectedStatus({ syncing: true, progress: { phase: 'push', done: 3, total: 120 } }));
    const c = mountComp('SyncStatusBar', api);
    await vi.waitFor(() => expect(c.querySelector('.status-label')?.textContent).toBe('Syncing… 3/120'));
  });
});
