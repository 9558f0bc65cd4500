// Pure validation and shaping of the settings form (spec §6.1, §2.2). No secrets ever leave
// the form through here: `settingsDocument` has no password field by construction.

import type { PluginSettings } from './api';

export const MIN_INTERVAL = 1;
export const MAX_INTERVAL = 1440;
export const DEFAULT_INTERVAL = 5;

/** Catalog key of the problem with a server URL, or null when it is usable. */
export function urlProblem(value: string): string | null {
  const v = value.trim();
  if (v === '') return 'ui.serverRequired';
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'ui.invalidUrl';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'ui.invalidUrl';
  if (!url.hostname) return 'ui.invalidUrl';
  return null;
}

/** The interval as an integer in 1..1440, or null. Accepts numbers and numeric strings. */
export function parseInterval(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) n = Number(value);
  else return null;
  if (!Number.isInteger(n) || n < MIN_INTERVAL || n > MAX_INTERVAL) return null;
  return n;
}

/** One pattern per line; blank lines dropped; surrounding whitespace trimmed. */
export function parseIgnore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

const SECRET_KEYS = ['password', 'token', 'deviceToken', 'apiKey'];

/**
 * The complete settings object to writeAll (§2.2: read, modify, write): keeps unknown keys
 * of the stored object, never any secret.
 */
export function settingsDocument(current: Record<string, unknown> | null | undefined, values: PluginSettings): Record<string, unknown> {
  const base: Record<string, unknown> = { ...(current && typeof current === 'object' ? current : {}) };
  for (const k of SECRET_KEYS) delete base[k];
  const doc: Record<string, unknown> = {
    ...base,
    serverUrl: values.serverUrl.trim(),
    vaultId: values.vaultId.trim(),
    username: values.username.trim(),
    autoSync: values.autoSync,
    syncInterval: values.syncInterval,
  };
  if (values.ignore) doc.ignore = values.ignore;
  return doc;
}

/** Reads a stored settings object with the defaults of §6.1.1. */
export function savedSettings(raw: unknown): PluginSettings {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  const out: PluginSettings = {
    serverUrl: s(o.serverUrl),
    vaultId: s(o.vaultId),
    username: s(o.username),
    autoSync: o.autoSync === true,
    syncInterval: parseInterval(o.syncInterval) ?? DEFAULT_INTERVAL,
  };
  if (Array.isArray(o.ignore)) out.ignore = o.ignore.filter((x): x is string => typeof x === 'string');
  return out;
}
