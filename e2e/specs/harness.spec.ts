// The harness stands in for the Verstak shell and loads the real bundle: the Sync section is
// selected, the panel shows the setup form, the status bar reads "Not configured", and the
// status-bar item opens (or keeps) the Sync section (plugin-contract §1.9–§1.11, §6.1–§6.3).

import { test, expect } from '../fixtures';
import { artifactPath } from '../support/artifacts';

test('a fresh vault shows the setup form and "Not configured"; the status bar opens the Sync section', async ({ shell, panel, statusBar }) => {
  const { t } = panel;

  await test.step('the shell loaded the real bundle and mounted both components', async () => {
    await expect(panel.settingsWindow).toBeVisible();
    await expect(shell.page.locator('style[data-verstak-plugin-style="verstak.sync"]')).toHaveCount(1);
    await expect(panel.syncTab).toHaveAttribute('role', 'tab');
    await expect(panel.syncTab).toHaveAttribute('aria-selected', 'true');
    await expect(panel.syncTab).toHaveText(t('contributions.settingsPanels.verstak.sync.settings.title'));
    await expect(panel.root).toBeVisible();
    await panel.idle();
    await expect(panel.root).toHaveAttribute('data-sync-configured', 'false');
  });

  await test.step('the setup form', async () => {
    await expect(panel.root.getByRole('heading', { level: 2, name: t('ui.title'), exact: true })).toBeVisible();
    await expect(panel.root.getByText(t('ui.description'), { exact: true })).toBeVisible();
    await expect(panel.root.locator('.sync-setup')).toBeVisible();
    await expect(panel.serverUrl).toBeVisible();
    await expect(panel.serverUrl).toHaveAttribute('placeholder', 'https://example.com');
    await expect(panel.serverUrl).toHaveValue('');
    await expect(panel.username).toBeVisible();
    await expect(panel.password).toBeVisible();
    await expect(panel.password).toHaveAttribute('type', 'password');
    await expect(panel.vaultId).toBeVisible();
    // Both disabled while the server URL is empty (§6.1 item 4).
    await expect(panel.testConnectionButton).toBeDisabled();
    await expect(panel.connectButton).toBeDisabled();
    await panel.serverUrl.fill('https://sync.example.com');
    await expect(panel.testConnectionButton).toBeEnabled();
    await expect(panel.connectButton).toBeEnabled();
    await panel.serverUrl.fill('');
    await expect(panel.connectButton).toBeDisabled();
    // Not configured: no Sync Now / Reset Key / Disconnect, and the summary says so.
    await expect(panel.saveButton).toBeVisible();
    await expect(panel.syncNowButton).toHaveCount(0);
    await expect(panel.resetKeyButton).toHaveCount(0);
    await expect(panel.disconnectButton).toHaveCount(0);
    await expect(panel.state).toHaveAttribute('data-sync-state', 'disabled');
    await expect(panel.state).toHaveText(t('ui.status.disabled'));
    await expect(panel.factValue('last-sync')).toHaveText(t('ui.never'));
    await panel.root.screenshot({ path: artifactPath('setup-form') });
  });

  await test.step('the status bar reads "Not configured"', async () => {
    await expect(statusBar.item).toHaveAttribute('title', t('contributions.statusBarItems.verstak.sync.status.label'));
    await expect(statusBar.button).toBeVisible();
    await expect(statusBar.label).toHaveText(t('ui.status.disabled'));
    await expect(statusBar.button).toHaveAttribute('data-sync-state', 'disabled');
    await expect(statusBar.button).toHaveAttribute('title', `${t('ui.title')}: ${t('ui.status.disabled')}`);
    await statusBar.bar.screenshot({ path: artifactPath('status-bar-not-configured') });
  });

  await test.step('clicking the status-bar item opens the Sync section', async () => {
    await panel.selectSection('general');
    await expect(panel.syncTab).toHaveAttribute('aria-selected', 'false');
    await expect(panel.root).toHaveCount(0);
    await statusBar.open();
    await expect(panel.syncTab).toHaveAttribute('aria-selected', 'true');
    await expect(panel.root).toBeVisible();
    await expect(panel.serverUrl).toBeVisible();
  });

  await test.step('…keeps it when it is already open, and other sections stay selectable', async () => {
    await panel.idle();
    await panel.serverUrl.fill('https://kept.example.com');
    await statusBar.open();
    await expect(panel.syncTab).toHaveAttribute('aria-selected', 'true');
    // Not remounted: what the user typed is still there.
    await expect(panel.serverUrl).toHaveValue('https://kept.example.com');
    await panel.selectSection('diagnostics');
    await expect(shell.page.locator('[data-settings-section="diagnostics"]')).toHaveAttribute('aria-selected', 'true');
    await expect(panel.syncTab).toHaveAttribute('aria-selected', 'false');
    await statusBar.open();
    await expect(panel.syncTab).toHaveAttribute('aria-selected', 'true');
  });

  expect(shell.pageErrors()).toEqual([]);
});
