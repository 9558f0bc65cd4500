// Multi-step flows shared by the specs (these assert; page objects do not).

import { expect, type Account, type Shell } from '../fixtures';

/**
 * Connects every shell to `remote` on the server through the panel and waits for Connected.
 * Then unticks Auto-sync (Connect leaves it on with the default interval), so that the only
 * runs are the tests' own Sync Now clicks and the order of pushes is the test's.
 */
export async function connectAll(shells: Shell[], serverUrl: string, account: Account, remote: string): Promise<void> {
  for (const s of shells) {
    const { panel, statusBar } = s;
    await panel.idle();
    await panel.connect(serverUrl, account.username, account.password, remote);
    await expect(panel.connectionMessage).toHaveText(panel.t('ui.connectedSuccessfully'));
    await expect(statusBar.label).toHaveText(panel.t('ui.status.connected'));
    await panel.idle();
    if (await panel.autoSync.isChecked()) {
      await panel.setAutoSync(false);
      await expect.poll(() => s.vault.readSettings()?.syncInterval).toBe(0);
      await panel.idle();
    }
  }
}
