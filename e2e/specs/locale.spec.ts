// Switching the shell's language re-renders the plugin in place (plugin-contract §1.8, §1.10,
// §2.4): the status bar and the panel show the strings of locales/ru.json.

import { test, expect } from '../fixtures';
import { artifactPath } from '../support/artifacts';

test('switching the shell locale to Russian re-renders the status bar and the panel', async ({ shell, panel, statusBar }) => {
  const en = panel;
  const ru = panel.inLocale('ru');
  await panel.idle();
  await expect(statusBar.label).toHaveText(en.t('ui.status.disabled'));
  await expect(en.serverUrl).toBeVisible();

  await shell.page.locator('#shell-locale').selectOption('ru');

  await test.step('the status bar', async () => {
    await expect(statusBar.label).toHaveText(ru.t('ui.status.disabled'));
    await expect(statusBar.button).toHaveAttribute('title', `${ru.t('ui.title')}: ${ru.t('ui.status.disabled')}`);
    await expect(statusBar.item).toHaveAttribute('title', ru.t('contributions.statusBarItems.verstak.sync.status.label'));
  });

  await test.step('the panel, without a remount', async () => {
    await expect(ru.root.getByRole('heading', { level: 2, name: ru.t('ui.title'), exact: true })).toBeVisible();
    await expect(ru.root.getByText(ru.t('ui.description'), { exact: true })).toBeVisible();
    await expect(ru.syncTab).toHaveText(ru.t('contributions.settingsPanels.verstak.sync.settings.title'));
    for (const field of [ru.serverUrl, ru.vaultId, ru.username, ru.password, ru.autoSync, ru.interval]) await expect(field).toBeVisible();
    for (const button of [ru.testConnectionButton, ru.connectButton, ru.saveButton]) await expect(button).toBeVisible();
    await expect(ru.root.getByRole('heading', { level: 3, name: ru.t('ui.server'), exact: true })).toBeVisible();
    await expect(ru.root.getByRole('heading', { level: 3, name: ru.t('ui.behavior'), exact: true })).toBeVisible();
    await expect(ru.state).toHaveText(ru.t('ui.status.disabled'));
    await expect(ru.factValue('last-sync')).toHaveText(ru.t('ui.never'));
    await expect(ru.root.getByText(ru.t('ui.remoteVaultHint'), { exact: true })).toBeVisible();
    // Nothing English is left where a Russian string is expected.
    await expect(en.connectButton).toHaveCount(0);
    await expect(en.serverUrl).toHaveCount(0);
    await ru.root.screenshot({ path: artifactPath('setup-form-ru') });
    await statusBar.bar.screenshot({ path: artifactPath('status-bar-not-configured-ru') });
  });

  await test.step('the choice survives a reload and switching back restores English', async () => {
    await shell.page.reload();
    await ru.idle();
    await expect(statusBar.label).toHaveText(ru.t('ui.status.disabled'));
    await expect(ru.connectButton).toBeVisible();
    await shell.page.locator('#shell-locale').selectOption('en');
    await expect(statusBar.label).toHaveText(en.t('ui.status.disabled'));
    await expect(en.connectButton).toBeVisible();
    await expect(en.state).toHaveText(en.t('ui.status.disabled'));
  });

  expect(shell.pageErrors()).toEqual([]);
});
