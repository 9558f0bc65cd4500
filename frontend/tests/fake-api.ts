// An in-memory VerstakPluginAPI for component tests: a scripted api.sync, settings, data
// storage, i18n over the shipped catalogs, events and ui.openSettings. Pure test code.
import en from '../../locales/en.json';
import ru from '../../locales/ru.json';
import type { SyncNowResult, SyncStatusDTO, VerstakPluginAPI } from '../src/lib/api';

const CATALOGS: Record<string, Record<string, string>> = { en, ru };

export function zeroStatus(): SyncStatusDTO {
  return {
    configured: false, syncing: false, serverUrl: '', vaultId: '', deviceId: '', deviceName: '',
    connected: false, revoked: false, tokenStored: false, unpushedOps: 0, lastSyncAt: '',
    syncInterval: 0, lastError: '', lastWarning: '', statusLabel: 'disabled',
  };
}

export function connectedStatus(over: Partial<SyncStatusDTO> = {}): SyncStatusDTO {
  return {
    ...zeroStatus(), configured: true, serverUrl: 'https://sync.example.com', deviceId: 'dev_0123',
    deviceName: 'laptop', connected: true, tokenStored: true, lastSyncAt: '2026-11-22T10:00:00Z',
    syncInterval: 5, statusLabel: 'connected', ...over,
  };
}

export interface FakeApi extends VerstakPluginAPI {
  calls: { method: string; args: unknown[] }[];
  state: SyncStatusDTO;
  settingsDoc: Record<string, unknown>;
  data: Record<string, Record<string, unknown>>;
  opened: (string | undefined)[];
  setLocale(l: string): void;
  fire(type: string, payload?: unknown): void;
  fail: Partial<Record<string, string>>;
  nowResult: SyncNowResult;
  disposed: boolean;
  localeListeners: number;
  subscriptions: number;
}

const err = (label: string, msg: string) => new Error(`[plugin:verstak.sync] ${label} failed: ${msg}`);

export function fakeApi(initial: SyncStatusDTO = zeroStatus(), extensions = false): FakeApi {
  let locale = 'en';
  const localeListeners = new Set<(l: string) => void>();
  const handlers = new Map<string, Set<(e: unknown) => void>>();
  const api: FakeApi = {
    calls: [],
    state: initial,
    settingsDoc: {},
    data: {},
    opened: [],
    fail: {},
    nowResult: { pushed: 2, pulled: 3, serverSequence: 57 },
    disposed: false,
    get localeListeners() {
      return localeListeners.size;
    },
    get subscriptions() {
      return [...handlers.values()].reduce((n, s) => n + s.size, 0);
    },
    setLocale(l) {
      locale = l;
      for (const f of [...localeListeners]) f(l);
    },
    fire(type, payload = {}) {
      for (const h of [...(handlers.get(type) ?? [])]) h({ name: type, payload });
    },
    sync: {} as any,
    settings: {
      async read(key?: string) {
        const doc = structuredClone(api.settingsDoc);
        return key === undefined ? doc : doc[key];
      },
      async write(key: string, value: unknown) {
        api.settingsDoc[key] = value;
        return structuredClone(api.settingsDoc);
      },
      async writeAll(obj: Record<string, unknown>) {
        api.calls.push({ method: 'settings.writeAll', args: [structuredClone(obj)] });
        api.settingsDoc = structuredClone(obj);
      },
    },
    storage: {
      data: {
        async read(name: string) {
          return structuredClone(api.data[name] ?? {});
        },
        async write(name: string, obj: Record<string, unknown>) {
          api.calls.push({ method: 'storage.data.write', args: [name, structuredClone(obj)] });
          api.data[name] = structuredClone(obj);
        },
      },
    },
    i18n: {
      getLocale: () => locale,
      t(key, params, fallback) {
        const text = CATALOGS[locale]?.[key] ?? CATALOGS.en[key] ?? fallback ?? key;
        return text.replace(/\{([A-Za-z0-9_.-]+)\}/g, (w, n) => (params && n in params ? String(params[n]) : w));
      },
      onDidChangeLocale(listener) {
        localeListeners.add(listener);
        listener(locale);
        return () => localeListeners.delete(listener);
      },
    },
    events: {
      async subscribe(type, handler) {
        if (!handlers.has(type)) handlers.set(type, new Set());
        handlers.get(type)!.add(handler as (e: unknown) => void);
        return () => handlers.get(type)!.delete(handler as (e: unknown) => void);
      },
    },
    ui: {
      openSettings(panelId?: string) {
        api.opened.push(panelId);
      },
    },
  };

  const record = (method: string, args: unknown[]) => api.calls.push({ method, args });
  const maybeFail = (method: string, label: string) => {
    const f = api.fail[method];
    if (f) throw err(label, f);
  };
  const sync: Record<string, (...a: any[]) => Promise<unknown>> = {
    async status() {
      record('status', []);
      maybeFail('status', 'sync.status');
      return structuredClone(api.state);
    },
    async configure(url: string, user: string, pass: string, vaultId: string) {
      record('configure', [url, user, pass, vaultId]);
      maybeFail('configure', 'sync.configure');
      api.state = connectedStatus({ serverUrl: url, vaultId, syncInterval: api.state.syncInterval, lastSyncAt: '' });
    },
    async testConnection(url: string, user: string, pass: string) {
      record('testConnection', [url, user, pass]);
      maybeFail('testConnection', 'sync.testConnection');
    },
    async disconnect() {
      record('disconnect', []);
      maybeFail('disconnect', 'sync.disconnect');
      api.state = { ...zeroStatus(), syncInterval: api.state.syncInterval };
    },
    async resetKey() {
      record('resetKey', []);
      maybeFail('resetKey', 'sync.resetKey');
      api.state = { ...zeroStatus(), serverUrl: api.state.serverUrl, syncInterval: api.state.syncInterval, statusLabel: 'disconnected' };
    },
    async setInterval(m: number) {
      record('setInterval', [m]);
      maybeFail('setInterval', 'sync.setInterval');
      api.state = { ...api.state, syncInterval: m };
    },
    async now() {
      record('now', []);
      const f = api.fail.now;
      if (f) {
        api.state = { ...api.state, lastError: f, statusLabel: 'error' };
        throw err('sync.now', f);
      }
      api.state = { ...api.state, lastError: '', lastSyncAt: new Date().toISOString() };
      return structuredClone(api.nowResult);
    },
  };
  if (extensions) {
    sync.confirmDeletions = async (d: string) => {
      record('confirmDeletions', [d]);
      api.state = { ...api.state, guard: undefined };
    };
    sync.restoreDeletions = async (d: string) => {
      record('restoreDeletions', [d]);
      api.state = { ...api.state, guard: undefined };
    };
    sync.setIgnore = async (p: string[]) => {
      record('setIgnore', [p]);
    };
    sync.dismissConflicts = async (ids: string[]) => {
      record('dismissConflicts', [ids]);
      maybeFail('dismissConflicts', 'sync.dismissConflicts');
      api.state = { ...api.state, conflicts: (api.state.conflicts ?? []).filter((c) => !ids.includes(c.id)) };
    };
  }
  api.sync = sync as any;
  return api;
}
