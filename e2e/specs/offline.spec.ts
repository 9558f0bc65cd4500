// The server goes away and comes back (plugin-contract §3.11 "connection failed", §3.12 rule 6,
// §6.2 rule 3): Sync Now shows the localized error and the status bar says Error; once the
// server is back, the next Sync Now clears it.

import { test, expect } from '../fixtures';
import { artifactPath } from '../support/artifacts';
import { connectAll } from '../support/flows';
import { remoteVaultId, templateRegex } from '../support/text';

test('an unreachable server gives Error and "Could not connect"; the next Sync Now after it is back gives Connected', async ({ shell, panel, statusBar, server, account }) => {
  const { t } = panel;
  await connectAll([shell], server.url, account, remoteVaultId());
  shell.vault.writeFile('offline.md', 'written while the server was down\n');

  await test.step('server down: Sync Now fails', async () => {
    await server.stop();
    await panel.syncNow();
    await expect(panel.errorMessage).toHaveText(t('ui.connectionFailed'));
    await expect(statusBar.label).toHaveText(t('ui.status.error'));
    await expect(statusBar.button).toHaveAttribute('data-sync-state', 'error');
    await expect(statusBar.button).toHaveAttribute('title', new RegExp(`\\n${t('ui.status.lastError').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await expect(panel.state).toHaveAttribute('data-sync-state', 'error');
    await panel.root.screenshot({ path: artifactPath('sync-error-offline') });
  });

  await test.step('server back on the same address: Sync Now succeeds and the error is gone', async () => {
    await server.start();
    await panel.syncNow();
    await expect(panel.errorMessage).toHaveCount(0);
    await expect(panel.resultMessage).toHaveText(templateRegex(t('ui.syncSummary')));
    await expect(panel.root.locator('[data-sync-message="last-error"]')).toHaveCount(0);
    await expect(statusBar.label).toHaveText(t('ui.status.connected'));
    await expect(panel.state).toHaveAttribute('data-sync-state', 'connected');
    await expect(panel.fact('pending')).toHaveCount(0);
  });

  expect(shell.pageErrors()).toEqual([]);
});
