// Types for the slice of the host's VerstakPluginAPI that this plugin uses (spec §2, §3).
// Nothing here runs; the host builds the object and hands it to mount().

/** Progress extension of this project's engine (§3.13); present only while syncing. */
export interface SyncProgress {
  phase: 'scan' | 'pull' | 'upload' | 'push' | string;
  done: number;
  total: number;
}

/** Mass-deletion guard extension (§3.13, §5.4.5). */
export interface SyncGuard {
  direction: 'incoming' | 'outgoing';
  deletions: number;
  files: number;
}

/**
 * A conflict copy a sync kept, listed in the status until dismissed (this engine's extension,
 * docs/api-extensions.md).
 */
export interface SyncConflict {
  id: string;
  /** The path both versions claimed. */
  path: string;
  /** Where the other version was kept. */
  copyPath: string;
  /** The copy holds this device's version (the incoming one is at `path`). */
  localIsCopy: boolean;
  /** The device whose change met this one ('' when unknown). */
  remoteDeviceId: string;
  /** RFC 3339, when the copy was made. */
  at: string;
}

/** One entry of `status().replaced` (docs/api-extensions.md). */
export interface SyncReplaced {
  path: string;
  sha256: string;
  size: number;
  /** The server sequence of the incoming version that replaced it. */
  version: number;
  /** The name (or id) of the device that wrote that version. */
  byDevice: string;
  /** Milliseconds since the Unix epoch. */
  atMs: number;
}

/** SyncStatusDTO (§3.2) plus the optional extension fields (§3.13). */
export interface SyncStatusDTO {
  configured: boolean;
  syncing: boolean;
  serverUrl: string;
  vaultId: string;
  deviceId: string;
  deviceName: string;
  connected: boolean;
  revoked: boolean;
  tokenStored: boolean;
  unpushedOps: number;
  lastSyncAt: string;
  syncInterval: number;
  lastError: string;
  lastWarning: string;
  statusLabel: string;
  progress?: SyncProgress;
  effectiveVaultId?: string;
  lastCheckedAt?: string;
  guard?: SyncGuard;
  ignore?: string[];
  conflicts?: SyncConflict[];
  /** Local files a sync replaced by another device's version (the server's history keeps them), newest first. */
  replaced?: SyncReplaced[];
  /**
   * The host runs live sync itself (`verstak-sync-host serve`): it syncs on file changes and on
   * the server's events, and pushes every status change as a `sync.status` event. The UI then
   * leaves auto-sync to the host and does not poll.
   */
  live?: boolean;
}

/** A server-reported push conflict (§3.9), passed through unchanged. */
export interface ServerConflict {
  device_id?: string;
  entity_id?: string;
  entity_type?: string;
  op_id?: string;
  op_type?: string;
  server_sequence?: number;
}

/** Result of sync.now() (§3.9) with the engine's optional extensions (§3.13). */
export interface SyncNowResult {
  pushed: number;
  pulled: number;
  serverSequence: number;
  conflicts?: ServerConflict[];
  keptBoth?: { path: string; copyPath: string }[];
  merged?: string[];
  skipped?: number;
  guard?: SyncGuard;
}

export interface SyncBackend {
  status(): Promise<SyncStatusDTO>;
  configure(serverURL: string, username: string, password: string, vaultId: string): Promise<unknown>;
  disconnect(): Promise<unknown>;
  testConnection(serverURL: string, username: string, password: string): Promise<unknown>;
  setInterval(minutes: number): Promise<unknown>;
  resetKey(): Promise<unknown>;
  now(): Promise<SyncNowResult>;
  confirmDeletions?(direction: 'incoming' | 'outgoing'): Promise<unknown>;
  restoreDeletions?(direction: 'incoming' | 'outgoing'): Promise<unknown>;
  setIgnore?(patterns: string[]): Promise<unknown>;
  dismissConflicts?(ids: string[]): Promise<unknown>;
}

/** The settings document the plugin keeps (§2.2). Never holds a secret. */
export interface PluginSettings {
  serverUrl: string;
  vaultId: string;
  username: string;
  autoSync: boolean;
  syncInterval: number;
  ignore?: string[];
}

export interface EventEnvelope {
  name: string;
  pluginId?: string;
  payload: unknown;
  timestamp?: string | number;
}

export interface VerstakPluginAPI {
  sync: SyncBackend;
  settings: {
    read(key?: string): Promise<any>;
    write(key: string, value: unknown): Promise<Record<string, unknown>>;
    writeAll(obj: Record<string, unknown>): Promise<unknown>;
  };
  storage: {
    data: {
      read(name: string): Promise<Record<string, unknown>>;
      write(name: string, obj: Record<string, unknown>): Promise<unknown>;
    };
  };
  i18n: {
    getLocale(): string;
    t(key: string, params?: Record<string, unknown>, fallback?: string): string;
    onDidChangeLocale(listener: (locale: string) => void): () => void;
  };
  events?: {
    subscribe(type: string, handler: (event: EventEnvelope) => void): Promise<() => void> | (() => void);
  };
  ui: {
    openSettings(panelId?: string): void;
  };
  dispose?(): void;
}

/** Props the host passes to mount() (§1.9, §1.10). */
export interface HostProps {
  componentId?: string;
  compact?: boolean;
  [key: string]: unknown;
}
