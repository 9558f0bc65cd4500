// Pairing one vault with the real server through the panel (plugin-contract §3.4–§3.8,
// §3.10, §3.12, §6.1.2, §6.2): Test Connection, Connect, the configured view, Reset Key and
// Disconnect.

import { test, expect } from '../fixtures';
import { artifactPath } from '../support/artifacts';
import { filesContaining, templateRegex } from '../support/text';

test('Test Connection: a wrong password gives the localized error, the right one succeeds', async ({ shell, panel, server, account }) => {
  const { t } = panel;
  await panel.idle();

  await test.step('wrong password → "the username or password is wrong", not "no longer authorized"', async () => {
    await panel.testConnection({ url: server.url, username: account.username, password: 'wrong-password-123' });
    await expect(panel.connectionMessage).toHaveText(t('ui.wrongCredentials'));
    await expect(panel.connectionMessage).toHaveClass(/sync-box-error/);
  });

  await test.step('the same error in Russian after switching the shell locale', async () => {
    await shell.page.locator('#shell-locale').selectOption('ru');
    const ru = panel.inLocale('ru');
    await expect(ru.connectionMessage).toHaveText(ru.t('ui.wrongCredentials'));
    await shell.page.locator('#shell-locale').selectOption('en');
    await expect(panel.connectionMessage).toHaveText(t('ui.wrongCredentials'));
  });

  await test.step('not a sync server → "does not answer as a Verstak Sync server"', async () => {
    // The harness itself answers 404 JSON on /api/v1/health.
    await panel.testConnection({ url: shell.vault.url.replace(/\/$/, ''), password: account.password });
    await expect(panel.connectionMessage).toHaveText(t('ui.notSyncServer'));
  });

  await test.step('right password → "Connection successful."; nothing is paired', async () => {
    await panel.testConnection({ url: server.url, username: account.username, password: account.password });
    await expect(panel.connectionMessage).toHaveText(t('ui.connectionSuccessful'));
    await expect(panel.connectionMessage).toHaveClass(/sync-box-ok/);
    await panel.idle();
    await expect(panel.root).toHaveAttribute('data-sync-configured', 'false');
    await expect(shell.statusBar.label).toHaveText(t('ui.status.disabled'));
  });

  expect(filesContaining(shell.vault.dir, account.password)).toEqual([]);
});

test('Connect shows Connected and the paired device; Reset Key and Disconnect return to the setup form', async ({ shell, panel, statusBar, server, account }) => {
  const { t } = panel;
  await panel.idle();

  await test.step('Connect', async () => {
    await panel.connect(server.url, account.username, account.password);
    await expect(panel.connectionMessage).toHaveText(t('ui.connectedSuccessfully'));
    await expect(panel.root).toHaveAttribute('data-sync-configured', 'true');
    await expect(statusBar.label).toHaveText(t('ui.status.connected'));
    await expect(statusBar.button).toHaveAttribute('data-sync-state', 'connected');
    await expect(statusBar.button).toHaveAttribute('title', new RegExp(`^${t('ui.title')}: ${t('ui.status.connected')}\\n`));
    await expect(statusBar.button).toHaveAttribute('title', new RegExp(t('ui.status.server', { server: server.url }).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });

  await test.step('the configured view', async () => {
    await expect(panel.summary).toHaveClass(/sync-info/);
    await expect(panel.state).toHaveAttribute('data-sync-state', 'connected');
    await expect(panel.state).toHaveClass(/status-ok/);
    await expect(panel.state).toHaveText(t('ui.status.connected'));
    await expect(panel.fact('server-url').locator('dt')).toHaveText(t('ui.serverUrl'));
    await expect(panel.factValue('server-url')).toHaveText(server.url);
    await expect(panel.fact('device-name').locator('dt')).toHaveText(t('ui.deviceName'));
    await expect(panel.factValue('device-name')).toHaveText(/\S/);
    await expect(panel.factValue('device-name')).not.toHaveText('—');
    await expect(panel.fact('device-id').locator('dt')).toHaveText(t('ui.deviceId'));
    await expect(panel.factValue('device-id')).toHaveText(/^dev_\S+$/);
    await expect(panel.fact('vault-id')).toBeVisible();
    // The password is used once: the field is cleared, a stored key is shown as a placeholder.
    await expect(panel.password).toHaveValue('');
    await expect(panel.password).toHaveAttribute('placeholder', t('ui.passwordStoredPlaceholder'));
    await expect(panel.root.getByText(t('ui.passwordStoredHint'), { exact: true })).toBeVisible();
    await expect(panel.username).toHaveValue(account.username);
    for (const b of [panel.syncNowButton, panel.resetKeyButton, panel.disconnectButton]) await expect(b).toBeEnabled();
    await panel.root.screenshot({ path: artifactPath('configured-connected') });
    await statusBar.bar.screenshot({ path: artifactPath('status-bar-connected') });
  });

  await test.step('no secret on disk: not the password, and the settings hold no token', async () => {
    expect(filesContaining(shell.vault.dir, account.password)).toEqual([]);
    const settings = shell.vault.readSettings();
    expect(settings).toMatchObject({ serverUrl: server.url, username: account.username });
    for (const secret of ['password', 'token', 'deviceToken', 'apiKey']) expect(settings).not.toHaveProperty(secret);
  });

  await test.step('Test Connection with the stored key (empty password) succeeds', async () => {
    await panel.testConnectionButton.click();
    await expect(panel.connectionMessage).toHaveText(t('ui.connectionSuccessful'));
  });

  await test.step('Sync Now on an empty vault', async () => {
    await panel.syncNow();
    await expect(panel.resultMessage).toHaveText(templateRegex(t('ui.syncSummary')));
    await expect(panel.factValue('last-sync').locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
    await expect(statusBar.label).toHaveText(t('ui.status.connected'));
  });

  await test.step('Reset Key asks first; Cancel keeps the pairing', async () => {
    await panel.resetKeyButton.click();
    await expect(panel.confirmDialog).toContainText(t('ui.confirmResetKey'));
    await panel.confirmDialog.getByRole('button', { name: t('ui.cancel'), exact: true }).click();
    await expect(panel.confirmDialog).toHaveCount(0);
    await expect(panel.root).toHaveAttribute('data-sync-configured', 'true');
  });

  await test.step('Reset Key forgets the key, keeps the server URL: setup form, Disconnected', async () => {
    await panel.resetKey();
    await expect(panel.resultMessage).toHaveText(t('ui.keyReset'));
    await expect(panel.root).toHaveAttribute('data-sync-configured', 'false');
    await expect(panel.root.locator('.sync-setup')).toBeVisible();
    await expect(panel.syncNowButton).toHaveCount(0);
    await expect(panel.serverUrl).toHaveValue(server.url);
    await expect(panel.factValue('server-url')).toHaveText(server.url);
    await expect(panel.state).toHaveAttribute('data-sync-state', 'disconnected');
    await expect(statusBar.label).toHaveText(t('ui.status.disconnected'));
    await expect(panel.password).not.toHaveAttribute('placeholder', t('ui.passwordStoredPlaceholder'));
  });

  await test.step('Connect again, then Disconnect: setup form, Not configured', async () => {
    await panel.connect(server.url, account.username, account.password);
    await expect(panel.connectionMessage).toHaveText(t('ui.connectedSuccessfully'));
    await expect(statusBar.label).toHaveText(t('ui.status.connected'));
    await panel.disconnectButton.click();
    await expect(panel.confirmDialog).toContainText(t('ui.confirmDisconnect'));
    await panel.confirmDialog.getByRole('button', { name: t('ui.confirm'), exact: true }).click();
    await expect(panel.resultMessage).toHaveText(t('ui.disconnected'));
    await expect(panel.root).toHaveAttribute('data-sync-configured', 'false');
    await expect(panel.root.locator('.sync-setup')).toBeVisible();
    await expect(panel.fact('server-url')).toHaveCount(0);
    await expect(panel.state).toHaveAttribute('data-sync-state', 'disabled');
    await expect(statusBar.label).toHaveText(t('ui.status.disabled'));
    await panel.root.screenshot({ path: artifactPath('after-disconnect') });
  });

  expect(shell.pageErrors()).toEqual([]);
});
