// Wraps `api.sync` for one mounted component (spec §1.12, §2.7, §3.13).
// - Every call goes through `call()`, which counts in-flight calls (reactive `busy`).
// - After `dispose()` (the component's unmount), no new call reaches the host, and a result
//   that arrives late is turned into a `DisposedError`, which callers ignore.
// - Extensions of this project's engine are feature-detected, never assumed.

import type { SyncBackend, SyncNowResult, SyncStatusDTO, VerstakPluginAPI } from './api';

/** Thrown instead of a result that arrived after the component went away. */
export class DisposedError extends Error {
  constructor() {
    super('disposed');
    this.name = 'DisposedError';
  }
}

export type Direction = 'incoming' | 'outgoing';

export class SyncClient {
  #api: VerstakPluginAPI;
  #disposed = false;
  /** Number of api.sync calls in flight. */
  #inFlight = $state(0);

  constructor(api: VerstakPluginAPI) {
    this.#api = api;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  get busy(): boolean {
    return this.#inFlight > 0;
  }

  dispose(): void {
    this.#disposed = true;
  }

  get #sync(): SyncBackend {
    return this.#api.sync;
  }

  async #call<T>(fn: (sync: SyncBackend) => Promise<T> | T): Promise<T> {
    if (this.#disposed) throw new DisposedError();
    this.#inFlight += 1;
    try {
      const value = await fn(this.#sync);
      if (this.#disposed) throw new DisposedError();
      return value;
    } catch (err) {
      if (this.#disposed) throw new DisposedError();
      throw err;
    } finally {
      if (!this.#disposed) this.#inFlight -= 1;
    }
  }

  /** Whether the backend offers an optional method (§3.13). */
  has(method: 'confirmDeletions' | 'restoreDeletions' | 'setIgnore' | 'dismissConflicts'): boolean {
    try {
      return typeof (this.#sync as unknown as Record<string, unknown>)[method] === 'function';
    } catch {
      return false;
    }
  }

  status(): Promise<SyncStatusDTO> {
    return this.#call((s) => s.status()).then(normalizeStatus);
  }
  configure(url: string, username: string, password: string, vaultId: string): Promise<unknown> {
    return this.#call((s) => s.configure(url, username, password, vaultId));
  }
  testConnection(url: string, username: string, password: string): Promise<unknown> {
    return this.#call((s) => s.testConnection(url, username, password));
  }
  disconnect(): Promise<unknown> {
    return this.#call((s) => s.disconnect());
  }
  resetKey(): Promise<unknown> {
    return this.#call((s) => s.resetKey());
  }
  setInterval(minutes: number): Promise<unknown> {
    return this.#call((s) => s.setInterval(minutes));
  }
  now(): Promise<SyncNowResult> {
    return this.#call((s) => s.now()).then(normalizeNowResult);
  }
  confirmDeletions(direction: Direction): Promise<unknown> {
    return this.#call((s) => s.confirmDeletions!(direction));
  }
  restoreDeletions(direction: Direction): Promise<unknown> {
    return this.#call((s) => s.restoreDeletions!(direction));
  }
  setIgnore(patterns: string[]): Promise<unknown> {
    return this.#call((s) => s.setIgnore!(patterns));
  }
  dismissConflicts(ids: string[]): Promise<unknown> {
    return this.#call((s) => s.dismissConflicts!(ids));
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Fills missing fields of a status object with the zero-DTO values (§3.2), keeping extensions. */
export function normalizeStatus(raw: unknown): SyncStatusDTO {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const dto: SyncStatusDTO = {
    configured: o.configured === true,
    syncing: o.syncing === true,
    serverUrl: str(o.serverUrl),
    vaultId: str(o.vaultId),
    deviceId: str(o.deviceId),
    deviceName: str(o.deviceName),
    connected: o.connected === true,
    revoked: o.revoked === true,
    tokenStored: o.tokenStored === true,
    unpushedOps: num(o.unpushedOps),
    lastSyncAt: str(o.lastSyncAt),
    syncInterval: num(o.syncInterval),
    lastError: str(o.lastError),
    lastWarning: str(o.lastWarning),
    statusLabel: str(o.statusLabel),
  };
  const p = o.progress as Record<string, unknown> | undefined;
  if (p && typeof p === 'object') dto.progress = { phase: str(p.phase), done: num(p.done), total: num(p.total) };
  if (typeof o.effectiveVaultId === 'string') dto.effectiveVaultId = o.effectiveVaultId;
  if (typeof o.lastCheckedAt === 'string') dto.lastCheckedAt = o.lastCheckedAt;
  const g = o.guard as Record<string, unknown> | undefined;
  if (g && typeof g === 'object' && (g.direction === 'incoming' || g.direction === 'outgoing')) {
    dto.guard = { direction: g.direction, deletions: num(g.deletions), files: num(g.files) };
  }
  if (Array.isArray(o.ignore)) dto.ignore = o.ignore.filter((x): x is string => typeof x === 'string');
  if (Array.isArray(o.conflicts)) {
    dto.conflicts = o.conflicts
      .filter((c): c is Record<string, unknown> => !!c && typeof c === 'object' && typeof c.id === 'string' && c.id !== '')
      .map((c) => ({
        id: str(c.id),
        path: str(c.path),
        copyPath: str(c.copyPath),
        localIsCopy: c.localIsCopy === true,
        remoteDeviceId: str(c.remoteDeviceId),
        at: str(c.at),
      }));
  }
  if (Array.isArray(o.replaced)) {
    dto.replaced = o.replaced
      .filter((r): r is Record<string, unknown> => !!r && typeof r === 'object' && typeof r.path === 'string')
      .map((r) => ({
        path: str(r.path),
        sha256: str(r.sha256),
        size: num(r.size),
        version: num(r.version),
        byDevice: str(r.byDevice),
        atMs: num(r.atMs),
      }));
  }
  if (typeof o.live === 'boolean') dto.live = o.live;
  return dto;
}

export function normalizeNowResult(raw: unknown): SyncNowResult {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const out: SyncNowResult = { pushed: num(o.pushed), pulled: num(o.pulled), serverSequence: num(o.serverSequence) };
  if (Array.isArray(o.conflicts)) out.conflicts = o.conflicts.filter((c) => c && typeof c === 'object');
  if (Array.isArray(o.keptBoth)) {
    out.keptBoth = o.keptBoth
      .filter((k) => k && typeof k === 'object')
      .map((k) => ({ path: str((k as any).path), copyPath: str((k as any).copyPath) }));
  }
  if (Array.isArray(o.merged)) out.merged = o.merged.filter((m): m is string => typeof m === 'string');
  if (typeof o.skipped === 'number') out.skipped = o.skipped;
  const g = o.guard as Record<string, unknown> | undefined;
  if (g && typeof g === 'object' && (g.direction === 'incoming' || g.direction === 'outgoing')) {
    out.guard = { direction: g.direction, deletions: num(g.deletions), files: num(g.files) };
  }
  return out;
}
