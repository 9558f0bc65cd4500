// The settings panel's form (spec §6.1): the values the Server and Sync Behavior cards bind
// to, their inline field errors, and the rules that fill and check them. No api calls here:
// the panel controller (settings-panel.svelte.ts) reads and writes the backend and asks the
// form what to show and what to save.
//
//   fillSaved(saved) → fillStatus(status)   the load order of §6.1.1
//   checkInterval() / checkServer()         the §6.1.2 checks; they set the field errors
//   document(current, minutes)              the settings object to writeAll (never a secret)

import type { PluginSettings, SyncStatusDTO } from './api';
import { DEFAULT_INTERVAL, parseIgnore, parseInterval, settingsDocument, urlProblem } from './form';

/** The Server card's checked fields, in focus order, with their input ids. */
const SERVER_FIELDS = [
  ['serverUrl', 'sync-server-url'],
  ['username', 'sync-username'],
  ['password', 'sync-password'],
] as const;

export class SettingsForm {
  /** Server URL input. */
  serverUrl = $state('');
  /** Remote vault ID input ('' pairs with the local vault's own id). */
  vaultId = $state('');
  /** Username input. */
  username = $state('');
  /** Password input: used once for test/connect, cleared after connect, never stored. */
  password = $state('');
  /** Auto-sync checkbox. */
  autoSync = $state(false);
  /** Interval input, as the number input gives it (null while empty). */
  interval = $state<number | null>(DEFAULT_INTERVAL);
  /** Ignore list editor text (only shown when the backend has setIgnore). */
  ignoreText = $state('');
  /** Inline field errors: catalog keys per field ('' or absent: none). */
  #fieldErrors = $state<Record<string, string>>({});
  /** The last interval that was valid and saved; kept while auto-sync is off. */
  #savedInterval = DEFAULT_INTERVAL;
  /** Counts the user's edits, so a load that finishes late never overwrites typing. Not reactive. */
  #edits = 0;

  get fieldErrors(): Record<string, string> {
    return this.#fieldErrors;
  }

  get urlEmpty(): boolean {
    return this.serverUrl.trim() === '';
  }

  get edits(): number {
    return this.#edits;
  }

  /** The user typed into any field of the panel. */
  edited(): void {
    this.#edits += 1;
  }

  /** §6.1.1 step 1: the saved settings (defaults already applied by `savedSettings`). */
  fillSaved(saved: PluginSettings): void {
    this.serverUrl = saved.serverUrl;
    this.vaultId = saved.vaultId;
    this.username = saved.username;
    this.autoSync = saved.autoSync;
    this.interval = saved.syncInterval;
    this.#savedInterval = saved.syncInterval;
    if (saved.ignore) this.ignoreText = saved.ignore.join('\n');
  }

  /**
   * §6.1.1 steps 2–4: a non-empty server URL and vault id from the status win; its interval
   * decides auto-sync. With auto-sync off the saved interval stays, so re-enabling restores
   * it. The status's ignore list fills the editor only when the settings had none.
   */
  fillStatus(s: SyncStatusDTO, savedHadIgnore: boolean): void {
    if (s.serverUrl) this.serverUrl = s.serverUrl;
    if (s.vaultId) this.vaultId = s.vaultId;
    if (s.syncInterval > 0) {
      this.autoSync = true;
      this.interval = s.syncInterval;
    } else {
      this.autoSync = false;
    }
    if (!savedHadIgnore && s.ignore) this.ignoreText = s.ignore.join('\n');
  }

  /**
   * Save's interval check (§6.1.2): the minutes to save, or null (and the field error) when
   * auto-sync is on and the interval is invalid. With auto-sync off an invalid interval is
   * not saved: the last saved value is.
   */
  checkInterval(): number | null {
    const parsed = parseInterval(this.interval);
    if (this.autoSync && parsed === null) {
      this.#setErrors({ interval: 'ui.intervalError' });
      return null;
    }
    this.#setErrors({ interval: '' });
    return parsed ?? this.#savedInterval;
  }

  /**
   * The interval input changed (§6.1.2 "Interval change"): true when it is valid and should
   * be saved. An invalid one shows the field error only while auto-sync is on.
   */
  intervalChanged(): boolean {
    if (parseInterval(this.interval) === null) {
      if (this.autoSync) this.#setErrors({ interval: 'ui.intervalError' });
      return false;
    }
    this.#setErrors({ interval: '' });
    return true;
  }

  /** The checkbox was toggled (its value is already the new state): enabling with an unusable interval sets 5. */
  autoSyncToggled(): void {
    if (this.autoSync && (parseInterval(this.interval) === null || (this.interval ?? 0) < 1)) {
      this.interval = DEFAULT_INTERVAL;
    }
  }

  /** The interval for Connect's settings write: the valid input, else the last saved one. */
  intervalOrSaved(): number {
    return parseInterval(this.interval) ?? this.#savedInterval;
  }

  /** Save succeeded with these minutes. */
  saved(minutes: number): void {
    this.#savedInterval = minutes;
  }

  /**
   * Inline checks before Test Connection / Connect. Sets the field errors and returns the id
   * of the first bad input (to focus), or null when all is well.
   */
  checkServer(needCredentials: boolean): string | null {
    const errs: Record<string, string> = {
      serverUrl: urlProblem(this.serverUrl) ?? '',
      username: needCredentials && this.username.trim() === '' ? 'ui.usernameRequired' : '',
      password: needCredentials && this.password === '' ? 'ui.passwordRequired' : '',
    };
    this.#setErrors(errs);
    const first = SERVER_FIELDS.find(([field]) => errs[field]);
    return first ? first[1] : null;
  }

  /** The ignore patterns to save, when the backend can take them. */
  ignorePatterns(): string[] {
    return parseIgnore(this.ignoreText);
  }

  /** The complete settings object to writeAll, keeping unknown keys of `current` (§2.2). */
  document(current: Record<string, unknown>, minutes: number, ignore?: string[]): Record<string, unknown> {
    const { serverUrl, vaultId, username, autoSync } = this;
    return settingsDocument(current, { serverUrl, vaultId, username, autoSync, syncInterval: minutes, ignore });
  }

  #setErrors(errs: Record<string, string>): void {
    this.#fieldErrors = { ...this.#fieldErrors, ...errs };
  }
}
