// Page object: the plugin's settings panel (SyncSettings) inside the harness's settings window.
// Locators are by role and label, with names from the plugin's own catalog for the current
// locale, or by the DOM hooks of plugin-contract §1.9/§6.3 and frontend/README.md. Holds no
// assertions: the specs assert.

import type { Locator, Page } from '@playwright/test';
import { translator, type Locale } from '../support/catalog';

export const SYNC_SECTION = 'plugin:verstak.sync:verstak.sync.settings';

export interface ServerForm {
  url?: string;
  vaultId?: string;
  username?: string;
  password?: string;
}

export class SettingsPanel {
  readonly t: ReturnType<typeof translator>;

  readonly settingsWindow: Locator;
  readonly syncTab: Locator;
  readonly content: Locator;
  readonly root: Locator;
  readonly summary: Locator;
  /** `p.sync-state[data-sync-state=…]`, the state text of the summary. */
  readonly state: Locator;

  readonly serverUrl: Locator;
  readonly vaultId: Locator;
  readonly username: Locator;
  readonly password: Locator;
  readonly testConnectionButton: Locator;
  readonly connectButton: Locator;

  readonly autoSync: Locator;
  readonly interval: Locator;
  /** The ignore-list editor; present only when the backend offers `setIgnore` (§3.13). */
  readonly ignoreList: Locator;

  readonly saveButton: Locator;
  readonly syncNowButton: Locator;
  readonly resetKeyButton: Locator;
  readonly disconnectButton: Locator;
  readonly confirmDialog: Locator;

  /** The connection result box under Test Connection / Connect. */
  readonly connectionMessage: Locator;
  /** The red error box of the message area. */
  readonly errorMessage: Locator;
  /** The green/amber result box of the message area. */
  readonly resultMessage: Locator;
  /** Server conflicts, kept-both copies and clean merges of the last run (§6.1.3). */
  readonly conflicts: Locator;
  /** The persistent conflict list from the status (`conflicts`), and its items. */
  readonly conflictList: Locator;
  readonly conflictItems: Locator;
  /** The mass-deletion prompt (§6.1.4) and its two decisions. */
  readonly massDelete: Locator;
  readonly keepFilesButton: Locator;
  readonly applyDeletionsButton: Locator;

  constructor(
    readonly page: Page,
    readonly locale: Locale = 'en',
  ) {
    const t = (this.t = translator(locale));
    this.settingsWindow = page.locator('[data-settings-window]');
    this.syncTab = page.locator(`[data-settings-section="${SYNC_SECTION}"]`);
    this.content = page.locator('[data-settings-content]');
    this.root = this.content.locator('.sync-settings-surface');
    this.summary = this.root.locator('.sync-settings-summary');
    this.state = this.summary.locator('p.sync-state');

    this.serverUrl = this.root.getByLabel(t('ui.serverUrl'), { exact: true });
    this.vaultId = this.root.getByLabel(t('ui.remoteVaultId'), { exact: true });
    this.username = this.root.getByLabel(t('ui.username'), { exact: true });
    this.password = this.root.getByLabel(t('ui.password'), { exact: true });
    this.testConnectionButton = this.root.getByRole('button', { name: t('ui.testConnection'), exact: true });
    this.connectButton = this.root.getByRole('button', { name: t('ui.connect'), exact: true });

    this.autoSync = this.root.getByRole('checkbox', { name: t('ui.enableAutoSync'), exact: true });
    this.interval = this.root.getByRole('spinbutton', { name: t('ui.interval'), exact: true });
    this.ignoreList = this.root.getByRole('textbox', { name: t('ui.ignore'), exact: true });

    this.saveButton = this.root.getByRole('button', { name: t('ui.save'), exact: true });
    this.syncNowButton = this.root.getByRole('button', { name: t('ui.syncNow'), exact: true });
    this.resetKeyButton = this.root.getByRole('button', { name: t('ui.resetKey'), exact: true });
    this.disconnectButton = this.root.getByRole('button', { name: t('ui.disconnect'), exact: true });
    this.confirmDialog = this.root.getByRole('alertdialog');

    this.connectionMessage = this.root.locator('[data-sync-message="connection"]');
    this.errorMessage = this.root.locator('[data-sync-message="error"]');
    this.resultMessage = this.root.locator('[data-sync-message="result"]');
    this.conflicts = this.root.locator('[data-sync-message="conflicts"]');
    this.conflictList = this.root.locator('[data-sync-message="conflict-list"]');
    this.conflictItems = this.conflictList.locator('li');
    this.massDelete = this.root.locator('[data-sync-message="mass-delete"]');
    this.keepFilesButton = this.massDelete.getByRole('button', { name: t('ui.massDelete.restore'), exact: true });
    this.applyDeletionsButton = this.massDelete.getByRole('button', { name: t('ui.massDelete.apply'), exact: true });
  }

  /** The same panel, located with another locale's names (after the shell switched locale). */
  inLocale(locale: Locale): SettingsPanel {
    return new SettingsPanel(this.page, locale);
  }

  /** A fact of the summary: `server-url`, `device-name`, `device-id`, `last-sync`, `pending`, `vault-id`. */
  fact(name: 'server-url' | 'device-name' | 'device-id' | 'last-sync' | 'pending' | 'vault-id'): Locator {
    return this.summary.locator(`[data-sync-fact="${name}"]`);
  }

  /** The value (`dd`) of a fact. */
  factValue(name: Parameters<SettingsPanel['fact']>[0]): Locator {
    return this.fact(name).locator('dd');
  }

  /** The inline error under a field of the Server card or the interval. */
  fieldError(field: 'serverUrl' | 'username' | 'password' | 'interval'): Locator {
    return this.root.locator(`#sync-${field}-error`);
  }

  /** Resolves once the panel is mounted and no action (or the initial load) is running. */
  async idle(): Promise<void> {
    await this.content.locator('.sync-settings-surface[aria-busy="false"]').waitFor();
  }

  /** Selects another section of the settings window (by its hook), e.g. `general`. */
  async selectSection(section: string): Promise<void> {
    await this.page.locator(`[data-settings-section="${section}"]`).click();
  }

  async openSyncSection(): Promise<void> {
    await this.syncTab.click();
  }

  async fillServer(form: ServerForm): Promise<void> {
    if (form.url !== undefined) await this.serverUrl.fill(form.url);
    if (form.vaultId !== undefined) await this.vaultId.fill(form.vaultId);
    if (form.username !== undefined) await this.username.fill(form.username);
    if (form.password !== undefined) await this.password.fill(form.password);
  }

  async testConnection(form: ServerForm = {}): Promise<void> {
    await this.fillServer(form);
    await this.testConnectionButton.click();
  }

  async connect(url: string, username: string, password: string, vaultId = ''): Promise<void> {
    await this.fillServer({ url, vaultId, username, password });
    await this.connectButton.click();
  }

  /** Clicks Sync Now and resolves when the run's answer arrived and the panel is idle again. */
  async syncNow(): Promise<void> {
    const answered = this.bridgeAnswer('sync.now');
    await this.syncNowButton.click();
    await answered;
    await this.idle();
  }

  /** The response of the next bridge call `method` made by this page. */
  bridgeAnswer(method: string): Promise<unknown> {
    return this.page.waitForResponse((res) => {
      if (new URL(res.url()).pathname !== '/bridge' || res.request().method() !== 'POST') return false;
      try {
        return JSON.parse(res.request().postData() ?? '{}').method === method;
      } catch {
        return false;
      }
    });
  }

  async save(): Promise<void> {
    await this.saveButton.click();
  }

  /** Ticks or unticks Auto-sync (the panel saves on change). */
  async setAutoSync(on: boolean): Promise<void> {
    await this.autoSync.setChecked(on);
  }

  /** Types an interval and leaves the field, which commits it (the panel saves when valid). */
  async setInterval(minutes: number | string): Promise<void> {
    await this.interval.fill(String(minutes));
    await this.interval.press('Tab');
  }

  /** Replaces the ignore list (one pattern per line) and saves. */
  async setIgnore(patterns: string[]): Promise<void> {
    await this.ignoreList.fill(patterns.join('\n'));
    await this.save();
  }

  async resetKey(): Promise<void> {
    await this.resetKeyButton.click();
    await this.confirmDialog.getByRole('button', { name: this.t('ui.confirm'), exact: true }).click();
  }

  async disconnect(): Promise<void> {
    await this.disconnectButton.click();
    await this.confirmDialog.getByRole('button', { name: this.t('ui.confirm'), exact: true }).click();
  }
}
