// The catalogs (spec §1.3, §1.8, §6.4, §3.12): identical key sets, required keys present,
// the spec's fixed texts verbatim, and every key the UI code names exists.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import en from '../../locales/en.json';
import ru from '../../locales/ru.json';
import { KNOWN_SERVER_CODES, SPECIFIC_SERVER_CODES, errorKey, type ErrorAction } from '../src/lib/errors';

const EN: Record<string, string> = en;
const RU: Record<string, string> = ru;

const SPEC_KEYS = [
  'manifest.name',
  'contributions.settingsPanels.verstak.sync.settings.title',
  'contributions.statusBarItems.verstak.sync.status.label',
  'ui.title', 'ui.description', 'ui.apiUnavailable', 'ui.intervalError', 'ui.settingsSaved', 'ui.serverRequired',
  'ui.connectionSuccessful', 'ui.connectionFailed', 'ui.saveFailed', 'ui.connectFailed', 'ui.syncFailed',
  'ui.disconnectFailed', 'ui.resetKeyFailed', 'ui.connectedSuccessfully',
  'ui.conflictsCount', 'ui.errorsCount', 'ui.syncSummary', 'ui.disconnected', 'ui.keyReset', 'ui.syncConflicts',
  'ui.lastSyncError', 'ui.unresolvedFilesWarning', 'ui.syncConflictItem',
  'ui.server', 'ui.serverUrl', 'ui.remoteVaultId', 'ui.remoteVaultHint', 'ui.username', 'ui.password',
  'ui.passwordStoredPlaceholder', 'ui.passwordStoredHint',
  'ui.testConnection', 'ui.connect', 'ui.behavior', 'ui.enableAutoSync', 'ui.interval', 'ui.minutes', 'ui.lastSync',
  'ui.save', 'ui.syncNow', 'ui.resetKey', 'ui.disconnect',
  'ui.status.connected', 'ui.status.disconnected', 'ui.status.disabled', 'ui.status.error', 'ui.status.revoked',
  'ui.status.syncing',
  'ui.status.pendingFirst', 'ui.status.pending', 'ui.status.syncedAt', 'ui.status.server', 'ui.status.lastSuccess',
  'ui.status.pendingCount', 'ui.status.warning', 'ui.status.lastError',
  'ui.status.syncingProgress', 'ui.status.nextAttempt', 'ui.status.paused', 'ui.effectiveVaultId', 'ui.copy',
  'ui.confirm', 'ui.cancel', 'ui.confirmDisconnect', 'ui.confirmResetKey', 'ui.notSyncServer', 'ui.serverUnavailable',
  'ui.notConfiguredError', 'ui.remoteVaultLocked', 'ui.conflictStalled', 'ui.conflictItemPath', 'ui.conflictCopyItem',
  'ui.mergedItem', 'ui.keptBothCount', 'ui.mergedCount', 'ui.massDelete.incoming', 'ui.massDelete.outgoing',
  'ui.massDelete.pending', 'ui.massDelete.apply', 'ui.massDelete.restore', 'ui.ignore', 'ui.ignoreHint',
  'ui.serverError.generic',
];

// Texts the spec fixes word for word (§3.12 table, §6.4 new keys).
const FIXED: Record<string, [string, string]> = {
  'ui.serverError.rate_limited': ['Too many attempts. Wait a little and try again.', 'Слишком много попыток. Подождите и повторите попытку.'],
  'ui.serverError.request_too_large': ['The synchronization request is too large.', 'Запрос синхронизации слишком велик.'],
  'ui.serverError.payload_too_large': ['A file operation is too large to send inline.', 'Операция с файлом слишком велика для отправки в этом виде.'],
  'ui.serverError.too_many_operations': ['Too many pending changes were sent at once. Try synchronization again.', 'Одновременно отправлено слишком много изменений. Повторите синхронизацию.'],
  'ui.serverError.blob_too_large': ['This file exceeds the server blob size limit.', 'Размер файла превышает разрешённый сервером лимит.'],
  'ui.serverError.quota_exceeded': ['The server storage quota for this vault has been reached.', 'Достигнута квота серверного хранилища для этого хранилища.'],
  'ui.serverError.blob_not_owned': ['The file data must be uploaded before it can be synchronized.', 'Данные файла должны быть загружены до синхронизации операции.'],
  'ui.serverError.blob_not_found': ['The required file data is unavailable on the server.', 'Необходимые данные файла недоступны на сервере.'],
  'ui.serverError.unauthorized': ['This device is no longer authorized. Connect it again.', 'Устройство больше не авторизовано. Подключите его заново.'],
  'ui.serverError.forbidden': ['The server denied this synchronization request.', 'Сервер отклонил этот запрос синхронизации.'],
  'ui.serverError.password_too_long': ['The password is too long (at most 72 bytes).', 'Пароль слишком длинный (не более 72 байт).'],
  'ui.serverError.internal_error': ['The server ran into an internal error. Try again later.', 'На сервере произошла внутренняя ошибка. Повторите попытку позже.'],
  'ui.serverError.request_failed': ['The server could not process the request. Try again later.', 'Сервер не смог обработать запрос. Повторите попытку позже.'],
  'ui.serverError.idempotency_key_reused': ['The server rejected a repeated request. Synchronize again.', 'Сервер отклонил повторный запрос. Запустите синхронизацию ещё раз.'],
  'ui.serverError.generic': ['The server rejected the request. Update the app and try again.', 'Сервер отклонил запрос. Обновите приложение и повторите попытку.'],
  'ui.status.syncingProgress': ['Syncing… {done}/{total}', 'Синхронизация… {done}/{total}'],
  'ui.status.nextAttempt': ['Next attempt: {date}', 'Следующая попытка: {date}'],
  'ui.status.paused': ['Automatic sync is paused. Connect again to resume.', 'Автосинхронизация приостановлена. Подключитесь снова, чтобы продолжить.'],
  'ui.effectiveVaultId': ['Remote vault ID: {id}', 'ID удалённого хранилища: {id}'],
  'ui.copy': ['Copy', 'Копировать'],
  'ui.confirm': ['Confirm', 'Подтвердить'],
  'ui.cancel': ['Cancel', 'Отмена'],
  'ui.confirmDisconnect': ['Disconnect this device from the server? Local files stay as they are.', 'Отключить это устройство от сервера? Локальные файлы останутся без изменений.'],
  'ui.confirmResetKey': ["Forget this device's sync key? You will need to connect again.", 'Забыть ключ синхронизации этого устройства? Потребуется подключиться заново.'],
  'ui.notSyncServer': ['This address does not answer as a Verstak Sync server.', 'По этому адресу не отвечает сервер Verstak Sync.'],
  'ui.serverUnavailable': ['The sync server is temporarily unavailable. Try again later.', 'Сервер синхронизации временно недоступен. Повторите попытку позже.'],
  'ui.notConfiguredError': ['Sync is not configured yet.', 'Синхронизация ещё не настроена.'],
  'ui.rateLimitedWait': ['Too many attempts. Try again in {seconds} s.', 'Слишком много попыток. Повторите через {seconds} с.'],
  'ui.wrongCredentials': ['The username or password is wrong.', 'Неверное имя пользователя или пароль.'],
  'ui.remoteVaultLocked': ['Synchronize pending changes before switching to another remote vault.', 'Синхронизируйте ожидающие изменения перед переключением на другое удалённое хранилище.'],
  'ui.conflictStalled': ['A file changed on this device and on the server. Resolve it, then sync again.', 'Файл изменён и на этом устройстве, и на сервере. Устраните расхождение и повторите синхронизацию.'],
  'ui.conflictItemPath': ['Conflict: {path}', 'Конфликт: {path}'],
  'ui.conflictCopyItem': ['Kept both versions: {path} and {copyPath}', 'Сохранены обе версии: {path} и {copyPath}'],
  'ui.mergedItem': ['Merged changes: {path}', 'Изменения объединены: {path}'],
  'ui.keptBothCount': ['{count} kept as copies', 'Сохранено копий: {count}'],
  'ui.mergedCount': ['{count} merged', 'Объединено: {count}'],
  'ui.massDelete.incoming': ['The server would delete {count} of {total} files on this device. Nothing has been deleted yet.', 'Сервер удалил бы {count} из {total} файлов на этом устройстве. Пока ничего не удалено.'],
  'ui.massDelete.outgoing': ['{count} of {total} files were deleted on this device. The deletions have not been sent yet.', 'На этом устройстве удалено {count} из {total} файлов. Удаления ещё не отправлены.'],
  'ui.massDelete.pending': ['Deletions are waiting for your decision in Sync settings.', 'Удаления ожидают вашего решения в настройках синхронизации.'],
  'ui.massDelete.apply': ['Apply deletions', 'Применить удаления'],
  'ui.massDelete.restore': ['Keep the files', 'Сохранить файлы'],
  'ui.ignore': ['Ignored files', 'Игнорируемые файлы'],
  'ui.ignoreHint': ['One pattern per line. * matches within a name; a trailing / matches folders.', 'По одному шаблону в строке. * соответствует части имени; / в конце — папкам.'],
  'ui.intervalError': ['Sync interval must be between 1 and 1440 minutes.', 'Интервал синхронизации должен быть от 1 до 1440 минут.'],
};

// The English labels the e2e tests locate elements by (task brief, §6.2 table).
const LABELS: Record<string, string> = {
  'ui.serverUrl': 'Server URL',
  'ui.username': 'Username',
  'ui.password': 'Password',
  'ui.testConnection': 'Test Connection',
  'ui.connect': 'Connect',
  'ui.syncNow': 'Sync Now',
  'ui.disconnect': 'Disconnect',
  'ui.resetKey': 'Reset Key',
  'ui.save': 'Save',
  'ui.interval': 'Sync Interval',
  'ui.enableAutoSync': 'Auto-sync',
  'ui.deviceName': 'Device Name',
  'ui.deviceId': 'Device ID',
  'ui.lastSync': 'Last Sync',
  'ui.status.connected': 'Connected',
  'ui.status.disconnected': 'Disconnected',
  'ui.status.disabled': 'Not configured',
  'ui.status.error': 'Error',
  'ui.status.revoked': 'Revoked',
  'ui.status.syncing': 'Syncing…',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|svelte)$/.test(name) ? [p] : [];
  });
}

describe('catalogs', () => {
  it('have identical key sets', () => {
    expect(Object.keys(RU).sort()).toEqual(Object.keys(EN).sort());
  });

  it('hold only non-empty strings', () => {
    for (const cat of [EN, RU]) {
      for (const [k, v] of Object.entries(cat)) {
        expect(typeof v, k).toBe('string');
        expect(v.trim(), k).not.toBe('');
      }
    }
  });

  it('use the same placeholders in both languages', () => {
    const names = (s: string) => (s.match(/\{[A-Za-z0-9_.-]+\}/g) ?? []).sort();
    for (const k of Object.keys(EN)) expect(names(RU[k]), k).toEqual(names(EN[k]));
  });

  it('contain every key of §6.4 and §3.12', () => {
    const required = [...SPEC_KEYS, ...KNOWN_SERVER_CODES.map((c) => `ui.serverError.${c}`)];
    for (const k of required) {
      expect(EN, k).toHaveProperty([k]);
      expect(RU, k).toHaveProperty([k]);
    }
  });

  it('carry the texts the spec fixes', () => {
    for (const [k, [enText, ruText]] of Object.entries(FIXED)) {
      expect(EN[k], k).toBe(enText);
      expect(RU[k], k).toBe(ruText);
    }
    for (const c of SPECIFIC_SERVER_CODES) expect(FIXED, c).toHaveProperty([`ui.serverError.${c}`]);
  });

  it('give the UI its exact English labels', () => {
    for (const [k, text] of Object.entries(LABELS)) expect(EN[k], k).toBe(text);
  });

  it('contain every key that the UI code names', () => {
    const used = new Set<string>();
    for (const file of sourceFiles(join(__dirname, '..', 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/['"`]((?:ui|manifest|contributions)\.[A-Za-z0-9_.]*[A-Za-z0-9_])['"`]/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(10);
    const actions: ErrorAction[] = ['save', 'test', 'connect', 'sync', 'disconnect', 'resetKey', 'lastError', 'dismissConflicts'];
    for (const a of actions) used.add(errorKey('', a));
    const missing = [...used].filter((k) => !(k in EN));
    expect(missing).toEqual([]);
  });
});
