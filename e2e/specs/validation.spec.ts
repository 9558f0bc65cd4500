// Inline validation of the Server card (plugin-contract §6.1.2): a bad URL, an empty username
// or password is reported next to the field, localized, and no call leaves the page.

import { test, expect, type Shell } from '../fixtures';

/** Bridge calls that would reach the engine, the server or the settings file. */
function sentCalls(shell: Shell, since: number): string[] {
  return shell
    .bridgeCalls()
    .slice(since)
    .filter((m) => m !== 'sync.status' && m !== 'settings.read' && m !== 'storage.data.read');
}

test('a non-http URL or an empty username is refused inline, localized, and nothing is sent', async ({ shell, panel }) => {
  const { t } = panel;
  await panel.idle();
  const start = shell.bridgeCalls().length;

  await test.step('ftp:// URL: Connect and Test Connection', async () => {
    await panel.connect('ftp://sync.example.com', 'alice', 'secret-password');
    await expect(panel.fieldError('serverUrl')).toHaveText(t('ui.invalidUrl'));
    await expect(panel.serverUrl).toHaveAttribute('aria-invalid', 'true');
    await expect(panel.serverUrl).toHaveAttribute('aria-describedby', /sync-serverUrl-error/);
    await expect(panel.serverUrl).toBeFocused();
    await panel.testConnectionButton.click();
    await expect(panel.fieldError('serverUrl')).toHaveText(t('ui.invalidUrl'));
    await expect(panel.connectionMessage).toHaveCount(0);
  });

  await test.step('empty username', async () => {
    await panel.fillServer({ url: 'https://sync.example.com', username: '', password: 'secret-password' });
    await panel.connectButton.click();
    await expect(panel.fieldError('username')).toHaveText(t('ui.usernameRequired'));
    await expect(panel.username).toHaveAttribute('aria-invalid', 'true');
    await expect(panel.username).toBeFocused();
    await expect(panel.fieldError('serverUrl')).toHaveCount(0);
    await expect(panel.serverUrl).not.toHaveAttribute('aria-invalid', 'true');
    await panel.testConnectionButton.click();
    await expect(panel.fieldError('username')).toHaveText(t('ui.usernameRequired'));
  });

  await test.step('empty password', async () => {
    await panel.fillServer({ username: 'alice', password: '' });
    await panel.connectButton.click();
    await expect(panel.fieldError('password')).toHaveText(t('ui.passwordRequired'));
    await expect(panel.fieldError('username')).toHaveCount(0);
  });

  await test.step('the inline errors follow the shell locale', async () => {
    await panel.fillServer({ url: 'ftp://sync.example.com', username: '' });
    await panel.connectButton.click();
    await expect(panel.fieldError('serverUrl')).toHaveText(t('ui.invalidUrl'));
    await shell.page.locator('#shell-locale').selectOption('ru');
    const ru = panel.inLocale('ru');
    await expect(ru.fieldError('serverUrl')).toHaveText(ru.t('ui.invalidUrl'));
    await expect(ru.fieldError('username')).toHaveText(ru.t('ui.usernameRequired'));
    await expect(ru.fieldError('password')).toHaveText(ru.t('ui.passwordRequired'));
  });

  await test.step('nothing was sent: no configure, testConnection or settings write', async () => {
    expect(sentCalls(shell, start)).toEqual([]);
    await expect(panel.connectionMessage).toHaveCount(0);
    await expect(panel.errorMessage).toHaveCount(0);
  });

  expect(shell.pageErrors()).toEqual([]);
});
