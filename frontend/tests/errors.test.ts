// Spec §3.12: every rule, in order, for every action.
import { describe, expect, it } from 'vitest';
import {
  GENERIC_SERVER_CODES,
  SPECIFIC_SERVER_CODES,
  errorKey,
  errorMessage,
  isAuthFailure,
  messageOf,
  serverCode,
  type ErrorAction,
} from '../src/lib/errors';

const P = (label: string, msg: string) => `[plugin:verstak.sync] ${label} failed: ${msg}`;

describe('errorKey (§3.12)', () => {
  it.each(SPECIFIC_SERVER_CODES.map((c) => [c]))('maps sync-server:%s to its own text', (code) => {
    expect(errorKey(P('sync.now', `sync-server:${code} (HTTP 400)`), 'sync')).toBe(`ui.serverError.${code}`);
  });

  it.each(GENERIC_SERVER_CODES.map((c) => [c]))('maps sync-server:%s to a catalog key', (code) => {
    expect(errorKey(P('sync.now', `sync-server:${code} (HTTP 400)`), 'sync')).toBe(`ui.serverError.${code}`);
  });

  it('finds the code inside prefixed messages', () => {
    expect(errorKey(P('sync.configure', 'pair: sync-server:unauthorized (HTTP 401)'), 'connect')).toBe('ui.serverError.unauthorized');
    expect(errorKey(P('sync.now', 'push: sync-server:quota_exceeded (HTTP 413)'), 'sync')).toBe('ui.serverError.quota_exceeded');
    expect(errorKey('blob upload: sync-server:blob_too_large (HTTP 413)', 'lastError')).toBe('ui.serverError.blob_too_large');
  });

  it('says a wrong username or password, not a revoked device (issue 14 item 8)', () => {
    const wrong = 'sync-server:unauthorized (HTTP 401): the username or password is wrong';
    expect(errorKey(P('sync.configure', `pair: ${wrong}`), 'connect')).toBe('ui.wrongCredentials');
    expect(errorKey(P('sync.testConnection', wrong), 'test')).toBe('ui.wrongCredentials');
    // A revoked device during a run keeps its own text.
    expect(errorKey(P('sync.now', 'push: sync-server:unauthorized (HTTP 401)'), 'sync')).toBe('ui.serverError.unauthorized');
    // A host catalog without the key falls back to the server code's text.
    expect(errorKey(wrong, 'test', (k) => k.startsWith('ui.serverError.'))).toBe('ui.serverError.unauthorized');
    // A rate-limited pairing keeps the rate-limit text.
    const limited = 'pair: sync-server:rate_limited (HTTP 429): too many attempts; wait 42 s before trying again';
    expect(errorKey(P('sync.configure', limited), 'connect')).toBe('ui.serverError.rate_limited');
  });

  it('shows how long a rate-limited pairing must wait (issue 14 item 8)', () => {
    const limited = 'pair: sync-server:rate_limited (HTTP 429): too many attempts; wait 42 s before trying again';
    expect(errorMessage(P('sync.configure', limited), 'connect')).toEqual({ key: 'ui.rateLimitedWait', params: { seconds: 42 } });
    // Without a wait, or with an older catalog, the plain rate-limit text.
    expect(errorMessage('sync-server:rate_limited (HTTP 429)', 'sync')).toEqual({ key: 'ui.serverError.rate_limited' });
    expect(errorMessage(limited, 'connect', (k) => k.startsWith('ui.serverError.'))).toEqual({ key: 'ui.serverError.rate_limited' });
    expect(errorMessage('sync-server:unauthorized (HTTP 401): the username or password is wrong', 'test')).toEqual({ key: 'ui.wrongCredentials' });
  });

  it('falls through for an unknown server code', () => {
    expect(errorKey(P('sync.now', 'sync-server:brand_new (HTTP 418)'), 'sync')).toBe('ui.syncFailed');
    expect(errorKey('sync-server:brand_new (HTTP 418)', 'sync', (k) => k === 'ui.serverError.brand_new')).toBe('ui.serverError.brand_new');
  });

  it('tells an unavailable server from a non-sync server', () => {
    expect(errorKey(P('sync.testConnection', 'not a Verstak Sync server (HTTP 503)'), 'test')).toBe('ui.serverUnavailable');
    expect(errorKey(P('sync.testConnection', 'not a Verstak Sync server (HTTP 404)'), 'test')).toBe('ui.notSyncServer');
    expect(errorKey(P('sync.testConnection', 'not a Verstak Sync server (unexpected response)'), 'test')).toBe('ui.notSyncServer');
  });

  it('maps the remaining rules in order', () => {
    expect(errorKey(P('sync.now', 'sync not configured'), 'sync')).toBe('ui.notConfiguredError');
    expect(
      errorKey(P('sync.configure', 'cannot change remote vault with 3 unpushed local operation(s); synchronize or resolve them first'), 'connect'),
    ).toBe('ui.remoteVaultLocked');
    expect(errorKey(P('sync.now', 'conflict: remote create would replace local file a.md'), 'sync')).toBe('ui.conflictStalled');
    expect(errorKey(P('sync.testConnection', 'connection failed: dial tcp: refused'), 'test')).toBe('ui.connectionFailed');
    expect(errorKey(P('sync.configure', 'pair: connection failed: timeout'), 'connect')).toBe('ui.connectionFailed');
    expect(errorKey(P('sync.now', 'mass deletion awaiting confirmation'), 'sync')).toBe('ui.massDelete.pending');
  });

  it('prefers earlier rules when several match', () => {
    expect(errorKey('conflict: x sync-server:forbidden (HTTP 403)', 'sync')).toBe('ui.serverError.forbidden');
    expect(errorKey('sync not configured; conflict: y', 'sync')).toBe('ui.notConfiguredError');
  });

  const generic: [ErrorAction, string][] = [
    ['save', 'ui.saveFailed'],
    ['test', 'ui.connectionFailed'],
    ['connect', 'ui.connectFailed'],
    ['sync', 'ui.syncFailed'],
    ['disconnect', 'ui.disconnectFailed'],
    ['resetKey', 'ui.resetKeyFailed'],
    ['lastError', 'ui.lastSyncError'],
  ];
  it.each(generic)('uses the generic message of %s otherwise', (action, key) => {
    expect(errorKey(P('sync.x', 'vault not open'), action)).toBe(key);
    expect(errorKey('[plugin:verstak.sync] sync.now failed: API disposed', action)).toBe(key);
    expect(errorKey('plugin "verstak.sync" lacks required permission "network.remote"', action)).toBe(key);
    expect(errorKey('', action)).toBe(key);
  });
});

describe('helpers', () => {
  it('extracts messages and codes', () => {
    expect(messageOf(new Error('boom'))).toBe('boom');
    expect(messageOf('text')).toBe('text');
    expect(messageOf({ message: 'obj' })).toBe('obj');
    expect(messageOf(undefined)).toBe('');
    expect(serverCode('push: sync-server:rate_limited (HTTP 429)')).toBe('rate_limited');
    expect(serverCode('nothing here')).toBeNull();
  });

  it('recognises authorization failures', () => {
    expect(isAuthFailure('sync-server:unauthorized (HTTP 401)')).toBe(true);
    expect(isAuthFailure('push: sync-server:forbidden (HTTP 403)')).toBe(true);
    expect(isAuthFailure('sync-server:rate_limited (HTTP 429)')).toBe(false);
  });
});
