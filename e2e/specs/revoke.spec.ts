// A device revoked on the server (plugin-contract §3.2 "revoked", §3.12, §6.2 rule 1): after its
// next server call it shows Revoked, the other device keeps working, and connecting again
// recovers it.

import { test, expect } from '../fixtures';
import { artifactPath } from '../support/artifacts';
import { connectAll } from '../support/flows';
import { remoteVaultId } from '../support/text';

test('device B revoked through the server API shows Revoked; A keeps syncing; B connects again', async ({ server, account, vaultA, vaultB, openShell }) => {
  const remote = remoteVaultId();
  const a = await openShell(vaultA);
  const b = await openShell(vaultB);
  const { t } = b.panel;

  await connectAll([a, b], server.url, account, remote);
  const deviceB = ((await b.panel.factValue('device-id').textContent()) ?? '').trim();
  expect(deviceB).toMatch(/^dev_/);

  await test.step('the account revokes device B on the server', async () => {
    // A helper device of the same account (created through the API, not the UI) does it.
    const helper = await server.api.pair(account.username, account.password, remote, 'e2e-admin');
    await server.api.revokeDevice(helper.token, deviceB, account.password);
  });

  await test.step('B: Sync Now fails with "no longer authorized" and the status bar says Revoked', async () => {
    await b.panel.syncNow();
    await expect(b.panel.errorMessage).toHaveText(t('ui.serverError.unauthorized'));
    await expect(b.statusBar.label).toHaveText(t('ui.status.revoked'));
    await expect(b.statusBar.button).toHaveAttribute('data-sync-state', 'revoked');
    await expect(b.panel.state).toHaveAttribute('data-sync-state', 'revoked');
    await expect(b.panel.state).toHaveText(t('ui.status.revoked'));
    await b.panel.root.screenshot({ path: artifactPath('revoked-panel') });
    await b.statusBar.bar.screenshot({ path: artifactPath('status-bar-revoked') });
  });

  await test.step('B: Test Connection with the stored key reports the revocation', async () => {
    await b.panel.testConnectionButton.click();
    await expect(b.panel.connectionMessage).toHaveText(t('ui.serverError.unauthorized'));
  });

  await test.step('A is not affected', async () => {
    vaultA.writeFile('still-here.md', 'A keeps syncing\n');
    await a.panel.syncNow();
    await expect(a.panel.errorMessage).toHaveCount(0);
    await expect(a.statusBar.label).toHaveText(t('ui.status.connected'));
  });

  await test.step('B connects again with the password and syncs', async () => {
    await b.panel.connect(server.url, account.username, account.password, remote);
    await expect(b.panel.connectionMessage).toHaveText(t('ui.connectedSuccessfully'));
    await expect(b.statusBar.label).toHaveText(t('ui.status.connected'));
    await expect(b.panel.factValue('device-id')).not.toHaveText(deviceB);
    await b.panel.syncNow();
    await expect(b.panel.errorMessage).toHaveCount(0);
    await expect.poll(() => vaultB.readFile('still-here.md')).toBe('A keeps syncing\n');
  });

  expect(a.pageErrors()).toEqual([]);
  expect(b.pageErrors()).toEqual([]);
});
