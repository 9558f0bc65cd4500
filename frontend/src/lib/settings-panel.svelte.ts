// The settings panel's controller (spec §6.1): what the backend said, what the panel is doing,
// the message boxes, and every action. SyncSettings.svelte creates one per mount, starts it
// in an effect and lays out the cards over it; the form values live in `form`
// (settings-form.svelte.ts), the Reset Key / Disconnect confirmation in ActionRow.svelte.
//
//   start()            locale + bus subscriptions, then load(); returns the cleanup (unmount)
//   load()             settings.read() then status() into the form (§6.1.1)
//   save, testConnection, connect, syncNow, confirm, decideDeletions, copyVaultId   (§6.1.2)
//   dismissConflicts   the conflict list's Dismiss / Dismiss all (docs/api-extensions.md)
//
// Every api.sync call goes through SyncClient; after each await a disposed panel stops, so
// results that arrive after unmount are dropped (§1.12). Fresh statuses go on the bus for the
// status bar, and Sync Now's outcome tells the scheduler (§5.5).

import { tick } from 'svelte';
import type { SyncConflict, SyncNowResult, SyncReplaced, SyncStatusDTO, VerstakPluginAPI } from './api';
import { I18n, type Params } from './i18n.svelte';
import { DisposedError, SyncClient } from './sync-client.svelte';
import { errorKey, errorMessage, messageOf, type ErrorAction } from './errors';
import { indicatorOf, type Indicator } from './status.svelte';
import { onBus, sendBus } from './bus';
import { cheapStatus, recordConfiguredInStorage, recordManualRunInStorage, schedulerActive } from './auto-sync';
import { BUSY_POLL_MS } from './scheduler';
import { savedSettings } from './form';
import { SettingsForm } from './settings-form.svelte';

/** A message box: a catalog key (never raw error text), its params and a tone. */
export interface Message {
  key: string;
  params?: Params;
  tone: 'ok' | 'warn' | 'error';
  /** Already localized extra lines (counts of conflicts, copies, merges). */
  extra?: string[];
}

export type Action = 'load' | 'save' | 'test' | 'connect' | 'sync' | 'disconnect' | 'resetKey' | 'guard' | 'dismiss';
/** The actions that ask for an in-panel confirmation first. */
export type Confirmable = 'disconnect' | 'resetKey';

export class SettingsPanel {
  /** The form values the cards bind to. */
  readonly form = new SettingsForm();
  readonly i18n: I18n;
  readonly client: SyncClient;
  #api: VerstakPluginAPI;
  /** The panel's root element, for moving the focus. */
  #root: () => HTMLElement | undefined;

  /** Last status read, or null before the first (or when it failed). */
  #status = $state<SyncStatusDTO | null>(null);
  /** The last status() failed: show ui.apiUnavailable, keep the form usable. */
  #statusFailed = $state(false);
  /** Result of the last Sync Now, for the conflicts box. */
  #lastRun = $state<SyncNowResult | null>(null);
  /** The action in progress; every button is disabled meanwhile. */
  #busy = $state<Action | null>('load');
  /** The error box. */
  #error = $state<Message | null>(null);
  /** The result box (green, or amber for warnings). */
  #result = $state<Message | null>(null);
  /** The connection result box under Test Connection / Connect. */
  #connection = $state<Message | null>(null);
  /** Re-reads the status while our Sync Now runs, for its progress. */
  #progressTimer: ReturnType<typeof setTimeout> | null = null;

  /** `t` as a plain function, for the cards' `t` prop. */
  readonly t = (key: string, params?: Params): string => this.i18n.t(key, params);

  constructor(api: VerstakPluginAPI, root: () => HTMLElement | undefined) {
    this.#api = api;
    this.#root = root;
    this.i18n = new I18n(api);
    this.client = new SyncClient(api);
  }

  get status(): SyncStatusDTO | null {
    return this.#status;
  }
  get statusFailed(): boolean {
    return this.#statusFailed;
  }
  get lastRun(): SyncNowResult | null {
    return this.#lastRun;
  }
  /** An action (or the initial load) is running. */
  get busy(): boolean {
    return this.#busy !== null;
  }
  get error(): Message | null {
    return this.#error;
  }
  get result(): Message | null {
    return this.#result;
  }
  get connection(): Message | null {
    return this.#connection;
  }
  get configured(): boolean {
    return !!this.#status?.configured;
  }
  get tokenStored(): boolean {
    return !!this.#status?.tokenStored;
  }
  get canIgnore(): boolean {
    return this.client.has('setIgnore');
  }
  get canGuard(): boolean {
    return this.client.has('confirmDeletions') && this.client.has('restoreDeletions');
  }
  get canDismissConflicts(): boolean {
    return this.client.has('dismissConflicts');
  }
  /** The kept conflict copies the status lists (this engine's extension). */
  get conflicts(): SyncConflict[] {
    return this.#status?.conflicts ?? [];
  }
  /** Local versions pulled edits replaced, newest first (this engine's extension). */
  get replaced(): SyncReplaced[] {
    return this.#status?.replaced ?? [];
  }
  get indicator(): Indicator {
    return indicatorOf(this.#status, this.#busy === 'sync');
  }

  /** The catalog key for a status `lastError` (§3.12). */
  lastErrorKey = (raw: string): string => errorKey(raw, 'lastError', (k) => this.i18n.has(k));

  /** Subscribes and loads; the returned cleanup is the unmount (§1.12). */
  start(): () => void {
    const stopLocale = this.i18n.listen();
    const stopBus = onBus((msg) => {
      if (msg.type === 'status' && this.#busy !== 'load') this.#status = msg.status;
    });
    void this.load().finally(() => {
      if (!this.client.disposed) this.#busy = null;
    });
    return () => {
      if (this.#busy === 'sync') sendBus({ type: 'manualEnd' });
      stopBus();
      this.#stopProgress();
      this.client.dispose();
      stopLocale();
    };
  }

  // ---- helpers

  #fail(err: unknown, action: ErrorAction): Message | null {
    if (err instanceof DisposedError || this.client.disposed) return null;
    const raw = messageOf(err);
    console.warn(`[verstak.sync] ${action} failed:`, raw);
    return { ...errorMessage(raw, action, (k) => this.i18n.has(k)), tone: 'error' };
  }

  async #focus(id: string): Promise<void> {
    await tick();
    const root = this.#root();
    if (this.client.disposed || !root) return;
    root.querySelector<HTMLElement>(`#${id}`)?.focus();
  }

  #startAction(action: Action): void {
    this.#busy = action;
    this.#error = null;
    this.#result = null;
    if (action === 'test' || action === 'connect') this.#connection = null;
  }

  #done(): void {
    if (!this.client.disposed) this.#busy = null;
  }

  /** The stored settings object, or {} when it cannot be read (read, modify, write: §2.2). */
  async #currentSettings(): Promise<Record<string, unknown>> {
    try {
      return (await this.#api.settings.read()) ?? {};
    } catch {
      return {};
    }
  }

  /** Reads settings and status into the form (§6.1.1). */
  async load(): Promise<void> {
    const form = this.form;
    const editsBefore = form.edits;
    let saved = savedSettings({});
    try {
      saved = savedSettings(await this.#api.settings.read());
    } catch (err) {
      if (this.client.disposed) return;
      console.warn('[verstak.sync] settings.read failed:', messageOf(err));
    }
    if (this.client.disposed) return;
    if (form.edits !== editsBefore) {
      await this.readStatus();
      return;
    }
    form.fillSaved(saved);
    const s = await this.readStatus();
    if (!s || form.edits !== editsBefore) return;
    form.fillStatus(s, !!saved.ignore);
  }

  /** status() → `status`; shares it with the status bar. Null on failure. */
  async readStatus(): Promise<SyncStatusDTO | null> {
    try {
      const s = await this.client.status();
      this.#status = s;
      this.#statusFailed = false;
      sendBus({ type: 'status', status: s });
      return s;
    } catch (err) {
      if (err instanceof DisposedError || this.client.disposed) return null;
      console.warn('[verstak.sync] status failed:', messageOf(err));
      this.#statusFailed = true;
      return null;
    }
  }

  // ---- actions (§6.1.2)

  save = async (): Promise<boolean> => {
    const minutes = this.form.checkInterval();
    if (minutes === null) {
      this.#error = { key: 'ui.intervalError', tone: 'error' };
      await this.#focus('sync-interval');
      return false;
    }
    const form = this.form;
    this.#startAction('save');
    try {
      const patterns = this.canIgnore ? form.ignorePatterns() : undefined;
      const current = await this.#currentSettings();
      if (this.client.disposed) return false;
      await this.#api.settings.writeAll(form.document(current, minutes, patterns));
      if (this.client.disposed) return false;
      await this.client.setInterval(form.autoSync ? minutes : 0);
      if (patterns) await this.client.setIgnore(patterns);
      form.saved(minutes);
      await this.load();
      if (this.client.disposed) return false;
      this.#result = { key: 'ui.settingsSaved', tone: 'ok' };
      sendBus({ type: 'refresh' });
      return true;
    } catch (err) {
      this.#error = this.#fail(err, 'save');
      return false;
    } finally {
      this.#done();
    }
  };

  /** The checkbox already holds the new value: toggled exactly once (§5.3 #6). */
  autoSyncChanged = async (): Promise<void> => {
    this.form.autoSyncToggled();
    await this.save();
  };

  intervalChanged = async (): Promise<void> => {
    if (!this.form.intervalChanged()) {
      if (this.form.autoSync) this.#error = { key: 'ui.intervalError', tone: 'error' };
      return;
    }
    await this.save();
  };

  /** Inline checks before Test Connection / Connect; focuses the first bad field. */
  async #validateServer(needCredentials: boolean): Promise<boolean> {
    const bad = this.form.checkServer(needCredentials);
    if (bad) {
      await this.#focus(bad);
      return false;
    }
    return true;
  }

  testConnection = async (): Promise<void> => {
    const form = this.form;
    const useToken = this.tokenStored && form.password === '';
    if (!(await this.#validateServer(!useToken))) return;
    this.#startAction('test');
    try {
      if (useToken) {
        const s = await this.readStatus();
        if (this.client.disposed) return;
        if (s?.connected) this.#connection = { key: 'ui.connectionSuccessful', tone: 'ok' };
        else if (s?.revoked) this.#connection = { key: 'ui.serverError.unauthorized', tone: 'error' };
        else this.#connection = { key: errorKey(s?.lastError ?? '', 'test', (k) => this.i18n.has(k)), tone: 'error' };
      } else {
        await this.client.testConnection(form.serverUrl.trim(), form.username.trim(), form.password);
        this.#connection = { key: 'ui.connectionSuccessful', tone: 'ok' };
      }
    } catch (err) {
      this.#connection = this.#fail(err, 'test');
    } finally {
      this.#done();
    }
  };

  connect = async (): Promise<void> => {
    if (!(await this.#validateServer(true))) return;
    const form = this.form;
    this.#startAction('connect');
    try {
      await this.client.configure(form.serverUrl.trim(), form.username.trim(), form.password, form.vaultId.trim());
      form.password = ''; // used once, never kept (§3.10)
      const minutes = form.intervalOrSaved();
      const current = await this.#currentSettings();
      if (this.client.disposed) return;
      await this.#api.settings.writeAll(form.document(current, minutes));
      if (this.client.disposed) return;
      sendBus({ type: 'configured' });
      const data = this.#api.storage?.data;
      if (!schedulerActive() && data) await recordConfiguredInStorage(data).catch(() => undefined);
      await this.load();
      if (this.client.disposed) return;
      this.#connection = { key: 'ui.connectedSuccessfully', tone: 'ok' };
      this.#busy = null;
      await this.#focus('sync-now');
    } catch (err) {
      this.#connection = this.#fail(err, 'connect');
    } finally {
      this.#done();
    }
  };

  #stopProgress(): void {
    if (this.#progressTimer !== null) clearTimeout(this.#progressTimer);
    this.#progressTimer = null;
  }

  /** While our Sync Now runs on this project's engine (cheap status), show its progress. */
  #watchProgress(): void {
    this.#stopProgress();
    if (!cheapStatus(this.#status)) return;
    this.#progressTimer = setTimeout(async () => {
      this.#progressTimer = null;
      if (this.client.disposed || this.#busy !== 'sync') return;
      await this.readStatus();
      if (!this.client.disposed && this.#busy === 'sync') this.#watchProgress();
    }, BUSY_POLL_MS);
  }

  syncNow = async (): Promise<void> => {
    const t = this.t;
    this.#startAction('sync');
    sendBus({ type: 'manualStart' });
    this.#lastRun = null;
    this.#watchProgress();
    let ok = false;
    let raw = '';
    try {
      const r = await this.client.now();
      ok = true;
      this.#lastRun = r;
      const extra: string[] = [];
      if (r.conflicts?.length) extra.push(t('ui.conflictsCount', { count: r.conflicts.length }));
      if (r.keptBoth?.length) extra.push(t('ui.keptBothCount', { count: r.keptBoth.length }));
      if (r.merged?.length) extra.push(t('ui.mergedCount', { count: r.merged.length }));
      this.#result = {
        key: 'ui.syncSummary',
        params: { pushed: r.pushed, pulled: r.pulled },
        tone: r.conflicts?.length || r.keptBoth?.length || r.guard ? 'warn' : 'ok',
        extra,
      };
    } catch (err) {
      raw = messageOf(err);
      this.#error = this.#fail(err, 'sync');
    } finally {
      this.#stopProgress();
    }
    if (this.client.disposed) return;
    sendBus({ type: 'manualRun', ok, message: raw });
    const data = this.#api.storage?.data;
    if (!schedulerActive() && data) {
      await recordManualRunInStorage(data, ok, raw, Date.now()).catch(() => undefined);
    }
    await this.readStatus();
    this.#done();
  };

  /** A confirmation opened: the message boxes make room for it. */
  clearMessages = (): void => {
    this.#error = null;
    this.#result = null;
  };

  /** Reset Key or Disconnect, after the user confirmed. */
  confirm = async (which: Confirmable): Promise<void> => {
    this.#startAction(which);
    try {
      if (which === 'disconnect') await this.client.disconnect();
      else await this.client.resetKey();
      sendBus({ type: 'refresh' });
      await this.load();
      if (this.client.disposed) return;
      this.#result = { key: which === 'disconnect' ? 'ui.disconnected' : 'ui.keyReset', tone: 'ok' };
      this.#lastRun = null;
      this.#busy = null;
      await this.#focus(which === 'disconnect' ? 'sync-server-url' : 'sync-password');
    } catch (err) {
      this.#error = this.#fail(err, which === 'disconnect' ? 'disconnect' : 'resetKey');
    } finally {
      this.#done();
    }
  };

  /** The mass-deletion prompt's answer (§6.1.4). */
  decideDeletions = async (apply: boolean): Promise<void> => {
    const direction = this.#status?.guard?.direction;
    if (!direction) return;
    this.#startAction('guard');
    try {
      if (apply) await this.client.confirmDeletions(direction);
      else await this.client.restoreDeletions(direction);
      this.#result = { key: apply ? 'ui.massDelete.applied' : 'ui.massDelete.restored', tone: 'ok' };
      sendBus({ type: 'refresh' });
      await this.readStatus();
    } catch (err) {
      this.#error = this.#fail(err, 'sync');
    } finally {
      this.#done();
    }
  };

  /** Removes conflicts from the list (the files stay); the status bar follows over the bus. */
  dismissConflicts = async (ids: string[]): Promise<void> => {
    if (ids.length === 0 || !this.canDismissConflicts) return;
    this.#startAction('dismiss');
    try {
      await this.client.dismissConflicts(ids);
      await this.readStatus();
    } catch (err) {
      this.#error = this.#fail(err, 'dismissConflicts');
    } finally {
      this.#done();
    }
  };

  copyVaultId = async (id: string): Promise<void> => {
    try {
      await navigator.clipboard.writeText(id);
      if (!this.client.disposed) this.#result = { key: 'ui.copied', tone: 'ok' };
    } catch {
      /* no clipboard access: the id stays visible and selectable */
    }
  };
}
