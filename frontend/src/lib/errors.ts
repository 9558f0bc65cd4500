// Spec §3.12: turns a caught error (or a status `lastError`) into a catalog key.
// Pure: the raw text selects a message and is never itself shown to the user.

/** The user action whose generic message is used when nothing more specific matches. */
export type ErrorAction = 'save' | 'test' | 'connect' | 'sync' | 'disconnect' | 'resetKey' | 'lastError' | 'dismissConflicts';

/** Server codes the UI MUST localize with their own text (§3.12 table). */
export const SPECIFIC_SERVER_CODES = [
  'rate_limited',
  'request_too_large',
  'payload_too_large',
  'too_many_operations',
  'blob_too_large',
  'quota_exceeded',
  'blob_not_owned',
  'blob_not_found',
  'unauthorized',
  'forbidden',
  'password_too_long',
  'internal_error',
  'request_failed',
  'idempotency_key_reused',
] as const;

/** Server codes that signal client or engine bugs; their catalog text is the generic one. */
export const GENERIC_SERVER_CODES = [
  'invalid_json',
  'trailing_json',
  'invalid_request',
  'field_too_long',
  'invalid_operation',
  'invalid_payload',
  'inline_binary_forbidden',
  'invalid_blob_reference',
  'invalid_multipart',
  'invalid_blob_hash',
  'blob_unavailable',
  'not_found',
  'method_not_allowed',
] as const;

export const KNOWN_SERVER_CODES: readonly string[] = [...SPECIFIC_SERVER_CODES, ...GENERIC_SERVER_CODES];

const ACTION_KEYS: Record<ErrorAction, string> = {
  save: 'ui.saveFailed',
  test: 'ui.connectionFailed',
  connect: 'ui.connectFailed',
  sync: 'ui.syncFailed',
  disconnect: 'ui.disconnectFailed',
  resetKey: 'ui.resetKeyFailed',
  lastError: 'ui.lastSyncError',
  dismissConflicts: 'ui.conflictList.dismissFailed',
};

/** A wrong username or password at Test Connection or Connect. */
export const WRONG_CREDENTIALS = 'ui.wrongCredentials';

const knownKeys = new Set([
  ...KNOWN_SERVER_CODES.map((c) => `ui.serverError.${c}`),
  WRONG_CREDENTIALS,
  'ui.rateLimitedWait',
]);

/** Default catalog probe: the keys the shipped catalogs are tested to contain. */
export function hasShippedKey(key: string): boolean {
  return knownKeys.has(key);
}

/** Extracts the text of anything thrown (Error, string, other). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err ?? '');
}

/** The server code in a message (`sync-server:<code>`), or null. */
export function serverCode(message: string): string | null {
  const m = /sync-server:([a-z_]+)/.exec(message);
  return m ? m[1] : null;
}

/**
 * Picks the catalog key for an error message, following §3.12 in order.
 * `has` tells whether the catalog holds a key (the host's catalogs may be newer than ours).
 */
export function errorKey(message: string, action: ErrorAction, has: (key: string) => boolean = hasShippedKey): string {
  // This project's engine says what a 401 to the typed credentials means (pair, auth test):
  // `sync-server:unauthorized (HTTP 401): the username or password is wrong`. It is not the
  // revoked device that `ui.serverError.unauthorized` describes.
  if (message.includes('username or password') && has(WRONG_CREDENTIALS)) return WRONG_CREDENTIALS;
  const code = serverCode(message);
  if (code !== null && has(`ui.serverError.${code}`)) return `ui.serverError.${code}`;
  if (message.includes('not a Verstak Sync server (HTTP 503)')) return 'ui.serverUnavailable';
  if (message.includes('not a Verstak Sync server')) return 'ui.notSyncServer';
  if (message.includes('sync not configured')) return 'ui.notConfiguredError';
  if (message.includes('cannot change remote vault')) return 'ui.remoteVaultLocked';
  if (message.includes('conflict:')) return 'ui.conflictStalled';
  if (message.includes('connection failed')) return 'ui.connectionFailed';
  if (message.includes('mass deletion awaiting confirmation')) return 'ui.massDelete.pending';
  return ACTION_KEYS[action];
}

/** A rate-limited pairing step that says how long to wait (this project's engine). */
export const RATE_LIMITED_WAIT = 'ui.rateLimitedWait';

/**
 * {@link errorKey} with the message's params: a rate-limited pairing step whose text says how long
 * to wait (`sync-server:rate_limited (HTTP 429): too many attempts; wait 42 s …`) shows the
 * wait as `{seconds}`; everything else is `errorKey` without params.
 */
export function errorMessage(
  message: string,
  action: ErrorAction,
  has: (key: string) => boolean = hasShippedKey,
): { key: string; params?: { seconds: number } } {
  const wait = /sync-server:rate_limited\b.*\bwait (\d+) s\b/.exec(message);
  if (wait && has(RATE_LIMITED_WAIT)) return { key: RATE_LIMITED_WAIT, params: { seconds: Number(wait[1]) } };
  return { key: errorKey(message, action, has) };
}

/** True for the failures that pause automatic sync (§5.5). */
export function isAuthFailure(message: string): boolean {
  return /sync-server:(unauthorized|forbidden)\b/.test(message);
}
