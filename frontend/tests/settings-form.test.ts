// Spec §6.1.1 (load order) and §6.1.2 (checks) on the settings panel's form state, without a DOM.
import { describe, expect, it } from 'vitest';
import { SettingsForm } from '../src/lib/settings-form.svelte';
import { savedSettings } from '../src/lib/form';
import { connectedStatus, zeroStatus } from './fake-api';

function loaded(saved: Record<string, unknown>, status = zeroStatus()): SettingsForm {
  const form = new SettingsForm();
  const s = savedSettings(saved);
  form.fillSaved(s);
  form.fillStatus(status, !!s.ignore);
  return form;
}

describe('SettingsForm load (§6.1.1)', () => {
  it('takes the saved settings with their defaults', () => {
    const form = new SettingsForm();
    form.fillSaved(savedSettings({}));
    expect([form.serverUrl, form.vaultId, form.username, form.autoSync, form.interval]).toEqual(['', '', '', false, 5]);
    form.fillSaved(savedSettings({ serverUrl: 'https://a', username: 'al', autoSync: true, syncInterval: 30, ignore: ['*.tmp', 'x/'] }));
    expect([form.serverUrl, form.username, form.autoSync, form.interval, form.ignoreText]).toEqual(['https://a', 'al', true, 30, '*.tmp\nx/']);
  });

  it('lets a non-empty status server URL and vault id win, and its interval decide auto-sync', () => {
    const form = loaded({ serverUrl: 'https://old', vaultId: 'v-old', syncInterval: 30 }, connectedStatus({ vaultId: 'v-new', syncInterval: 10 }));
    expect([form.serverUrl, form.vaultId, form.autoSync, form.interval]).toEqual(['https://sync.example.com', 'v-new', true, 10]);
    const kept = loaded({ serverUrl: 'https://old', vaultId: 'v-old' }, zeroStatus());
    expect([kept.serverUrl, kept.vaultId]).toEqual(['https://old', 'v-old']);
  });

  it('turns auto-sync off for interval 0 but keeps the saved interval for re-enabling', () => {
    const form = loaded({ autoSync: true, syncInterval: 30 }, connectedStatus({ syncInterval: 0 }));
    expect(form.autoSync).toBe(false);
    expect(form.interval).toBe(30);
    expect(form.intervalOrSaved()).toBe(30);
  });

  it('fills the ignore editor from the status only when the settings had no list', () => {
    expect(loaded({}, connectedStatus({ ignore: ['a'] })).ignoreText).toBe('a');
    expect(loaded({ ignore: ['b'] }, connectedStatus({ ignore: ['a'] })).ignoreText).toBe('b');
  });
});

describe('SettingsForm checks (§6.1.2)', () => {
  it('Save: an invalid interval blocks only while auto-sync is on; off, the saved value is kept', () => {
    const form = loaded({ syncInterval: 30 });
    form.interval = 5000;
    expect(form.checkInterval()).toBe(30);
    expect(form.fieldErrors.interval).toBe('');
    form.autoSync = true;
    expect(form.checkInterval()).toBeNull();
    expect(form.fieldErrors.interval).toBe('ui.intervalError');
    form.interval = 12;
    expect(form.checkInterval()).toBe(12);
    expect(form.fieldErrors.interval).toBe('');
    form.saved(12);
    form.interval = null;
    form.autoSync = false;
    expect(form.checkInterval()).toBe(12);
  });

  it('interval change: valid saves; invalid shows the error only with auto-sync on', () => {
    const form = loaded({});
    form.interval = 0;
    expect(form.intervalChanged()).toBe(false);
    expect(form.fieldErrors.interval ?? '').toBe('');
    form.autoSync = true;
    expect(form.intervalChanged()).toBe(false);
    expect(form.fieldErrors.interval).toBe('ui.intervalError');
    form.interval = 1440;
    expect(form.intervalChanged()).toBe(true);
    expect(form.fieldErrors.interval).toBe('');
  });

  it('enabling auto-sync with an unusable interval sets 5; a usable one stays', () => {
    const form = loaded({});
    form.interval = null;
    form.autoSync = true;
    form.autoSyncToggled();
    expect(form.interval).toBe(5);
    form.interval = 0;
    form.autoSync = false;
    form.autoSyncToggled();
    expect(form.interval).toBe(0);
    form.interval = 60;
    form.autoSync = true;
    form.autoSyncToggled();
    expect(form.interval).toBe(60);
  });

  it('server checks set every field error and name the first bad input', () => {
    const form = loaded({});
    expect(form.checkServer(true)).toBe('sync-server-url');
    expect(form.fieldErrors).toMatchObject({ serverUrl: 'ui.serverRequired', username: 'ui.usernameRequired', password: 'ui.passwordRequired' });
    form.serverUrl = 'https://sync.example.com';
    expect(form.checkServer(true)).toBe('sync-username');
    form.username = 'alice';
    expect(form.checkServer(true)).toBe('sync-password');
    expect(form.checkServer(false)).toBeNull(); // a stored token: no credentials needed
    expect(form.fieldErrors).toMatchObject({ serverUrl: '', username: '', password: '' });
  });

  it('writes a settings document without the password, keeping unknown keys', () => {
    const form = loaded({});
    Object.assign(form, { serverUrl: ' https://s ', username: 'al', password: 's3cret', autoSync: true });
    const doc = form.document({ other: 'kept', password: 'old' }, 15, ['*.tmp']);
    expect(doc).toEqual({ other: 'kept', serverUrl: 'https://s', vaultId: '', username: 'al', autoSync: true, syncInterval: 15, ignore: ['*.tmp'] });
  });

  it('counts edits', () => {
    const form = new SettingsForm();
    form.edited();
    form.edited();
    expect(form.edits).toBe(2);
  });
});
