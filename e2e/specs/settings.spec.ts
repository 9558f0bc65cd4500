// Sync Behavior settings persist: in the panel across a reload, and on disk in the vault's
// settings document — which never holds a secret (plugin-contract §2.2, §3.7, §3.10, §6.1).

import { test, expect } from '../fixtures';

test('Auto-sync and Sync Interval persist across a reload and in settings.json, without the password', async ({ shell, panel, vaultA }) => {
  const { t } = panel;
  const password = 'typed-but-never-saved-42';
  await panel.idle();
  await expect(panel.autoSync).not.toBeChecked();
  await expect(panel.interval).toHaveValue('5');

  await test.step('turn Auto-sync on and set the interval to 17 minutes, then Save', async () => {
    await panel.fillServer({ url: 'https://sync.example.com', username: 'alice', password });
    await panel.setAutoSync(true);
    await expect(panel.resultMessage).toHaveText(t('ui.settingsSaved'));
    await expect.poll(() => vaultA.readSettings()?.autoSync).toBe(true);
    await panel.idle();
    await panel.setInterval(17);
    await expect.poll(() => vaultA.readSettings()?.syncInterval).toBe(17);
    await panel.idle();
    await panel.save();
    await expect(panel.resultMessage).toHaveText(t('ui.settingsSaved'));
    await panel.idle();
    await expect(panel.fieldError('interval')).toHaveCount(0);
  });

  await test.step('settings.json holds the values and no secret', async () => {
    const settings = vaultA.readSettings();
    expect(settings).toMatchObject({
      serverUrl: 'https://sync.example.com',
      username: 'alice',
      autoSync: true,
      syncInterval: 17,
    });
    for (const secret of ['password', 'token', 'deviceToken', 'apiKey']) expect(settings).not.toHaveProperty(secret);
    const raw = (await import('node:fs')).readFileSync(vaultA.settingsFile, 'utf8');
    expect(raw).not.toContain(password);
  });

  await test.step('after a reload the panel shows them again; the password field is empty', async () => {
    await shell.page.reload();
    await panel.idle();
    await expect(panel.autoSync).toBeChecked();
    await expect(panel.interval).toHaveValue('17');
    await expect(panel.serverUrl).toHaveValue('https://sync.example.com');
    await expect(panel.username).toHaveValue('alice');
    await expect(panel.password).toHaveValue('');
  });

  await test.step('turning Auto-sync off stores interval 0 (off) and survives a reload', async () => {
    await panel.setAutoSync(false);
    await expect.poll(() => vaultA.readSettings()).toMatchObject({ autoSync: false, syncInterval: 0 });
    await panel.idle();
    await shell.page.reload();
    await panel.idle();
    await expect(panel.autoSync).not.toBeChecked();
  });

  await test.step('an out-of-range interval with Auto-sync on is refused inline and not stored', async () => {
    await panel.setAutoSync(true);
    await expect.poll(() => vaultA.readSettings()?.autoSync).toBe(true);
    await panel.idle();
    const before = vaultA.readSettings()?.syncInterval;
    await panel.setInterval(1441);
    await expect(panel.fieldError('interval')).toHaveText(t('ui.intervalError'));
    await expect(panel.interval).toHaveAttribute('aria-invalid', 'true');
    await panel.save();
    await expect(panel.errorMessage).toHaveText(t('ui.intervalError'));
    expect(vaultA.readSettings()?.syncInterval).toBe(before);
  });

  expect(shell.pageErrors()).toEqual([]);
});
