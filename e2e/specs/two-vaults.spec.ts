// Two vaults, two devices of one account, one remote vault (B joins with the vault id A shows,
// §3.13 effectiveVaultId): a file written on disk in one vault reaches the other after Sync Now
// on both (plugin-contract §3.9, §4, §5; style.md §6 "check outcomes on disk").

import { test, expect } from '../fixtures';
import { artifactPath } from '../support/artifacts';
import { connectAll } from '../support/flows';
import { templateRegex } from '../support/text';

test('a file written into vault A appears in vault B after Sync Now on both, and back', async ({ server, account, vaultA, vaultB, openShell }) => {
  const a = await openShell(vaultA);
  const b = await openShell(vaultB);
  const { t } = a.panel;
  const note = '# From A\n\nWritten into vault A by the e2e test.\n';
  const reply = '# From B\n\nВаш ответ из хранилища B.\n';

  let remote = '';
  await test.step('A connects with its own vault id; B joins with the id A shows', async () => {
    vaultA.writeFile('Notes/from-a.md', note);
    await connectAll([a], server.url, account, '');
    // "Remote vault ID: {id}" (§3.13 effectiveVaultId), shown so that another device can join.
    const shown = (await a.panel.fact('vault-id').locator('span').first().textContent()) ?? '';
    const prefix = t('ui.effectiveVaultId', { id: '' });
    expect(shown.startsWith(prefix)).toBe(true);
    remote = shown.slice(prefix.length).trim();
    expect(remote).not.toBe('');
    await connectAll([b], server.url, account, remote);
    await expect(b.panel.fact('vault-id')).toContainText(t('ui.effectiveVaultId', { id: remote }));
    await expect(a.panel.factValue('device-id')).not.toHaveText((await b.panel.factValue('device-id').textContent()) ?? '');
  });

  await test.step('Sync Now on A, then on B: B has the file', async () => {
    await a.panel.syncNow();
    await expect(a.panel.resultMessage).toHaveText(templateRegex(t('ui.syncSummary')));
    await expect(a.panel.errorMessage).toHaveCount(0);
    await b.panel.syncNow();
    await expect(b.panel.errorMessage).toHaveCount(0);
    await expect.poll(() => vaultB.readFile('Notes/from-a.md')).toBe(note);
    await expect(b.statusBar.label).toHaveText(t('ui.status.connected'));
    await expect(b.panel.fact('pending')).toHaveCount(0);
  });

  await test.step('a file written into B reaches A the same way', async () => {
    vaultB.writeFile('Notes/Ответы/from-b.md', reply);
    await b.panel.syncNow();
    await a.panel.syncNow();
    await expect.poll(() => vaultA.readFile('Notes/Ответы/from-b.md')).toBe(reply);
    expect(vaultA.readFile('Notes/from-a.md')).toBe(note);
    expect(vaultB.readFile('Notes/from-a.md')).toBe(note);
  });

  await test.step('the state files never travel', async () => {
    // Each vault keeps its own .verstak/: B's settings still name B's own choices only.
    expect(vaultB.readSettings()).toMatchObject({ vaultId: remote, username: account.username });
  });

  await a.panel.root.screenshot({ path: artifactPath('two-vaults-a-after-sync') });
  await b.statusBar.bar.screenshot({ path: artifactPath('two-vaults-b-status-bar') });
  expect(a.pageErrors()).toEqual([]);
  expect(b.pageErrors()).toEqual([]);
});
