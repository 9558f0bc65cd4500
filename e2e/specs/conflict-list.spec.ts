// Conflicts are never silent (issue 14 item 5): a conflict copy kept by a sync that did not
// come from the panel (the host's CLI on the same vault, as an auto-sync or `watch` would run
// it) shows in the status bar as "1 conflict" and in the panel's conflict list, which comes
// from the status and so survives a reload, until Dismiss. The counts are true: one new file
// is "1 sent, 0 received".

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect } from '../fixtures';
import { HOST_BIN } from '../fixtures';
import { artifactPath } from '../support/artifacts';
import { connectAll } from '../support/flows';
import { run } from '../support/proc';
import { remoteVaultId } from '../support/text';

test('a conflict kept by a sync outside the panel is listed until dismissed, across reloads', async ({ server, account, vaultA, vaultB, openShell }) => {
  const a = await openShell(vaultA);
  const b = await openShell(vaultB);
  const t = a.panel.t;
  await connectAll([a, b], server.url, account, remoteVaultId());

  await test.step('one new file: 1 sent, 0 received; the other device receives it', async () => {
    vaultA.writeFile('n.md', 'line one\n');
    await a.panel.syncNow();
    await expect(a.panel.resultMessage).toContainText(t('ui.syncSummary', { pushed: 1, pulled: 0 }));
    await b.panel.syncNow();
    await expect(b.panel.resultMessage).toContainText(t('ui.syncSummary', { pushed: 0, pulled: 1 }));
    await expect.poll(() => vaultB.readFile('n.md')).toBe('line one\n');
  });

  let copy = '';
  await test.step('both edit the line; B syncs outside the panel and keeps both', async () => {
    vaultA.writeFile('n.md', 'line one, as A wrote it\n');
    vaultB.writeFile('n.md', 'line one, as B wrote it\n');
    await a.panel.syncNow();
    const out = await run(HOST_BIN, ['--vault', vaultB.dir, 'sync']);
    expect(out).toMatch(/^synced: pushed 1, pulled 1,/);
    const copies = fs.readdirSync(vaultB.dir).filter((n) => n.startsWith('n (conflict '));
    expect(copies).toHaveLength(1);
    copy = copies[0];
    expect(vaultB.readFile(copy)).toBe('line one, as B wrote it\n');
  });

  await test.step('after a reload: the status bar says "1 conflict" and the panel lists it', async () => {
    await b.page.reload();
    await expect(b.statusBar.label).toHaveText(t('ui.status.conflicts.one', { count: 1 }));
    await expect(b.statusBar.button).toHaveAttribute('data-sync-state', 'conflict');
    await b.panel.idle();
    await expect(b.panel.conflictItems).toHaveCount(1);
    const item = b.panel.conflictItems.first();
    await expect(item).toContainText('n.md');
    await expect(item).toContainText(
      t('ui.conflictList.localIsCopy', {
        copyPath: copy,
        path: 'n.md',
        device: t('ui.conflictList.device', { device: await deviceLabel(a) }),
      }),
    );
    await b.page.screenshot({ path: artifactPath('conflict-list') });
    // A, whose version kept the path, has no conflict.
    await expect(a.statusBar.label).toHaveText(t('ui.status.connected'));
    await expect(a.panel.conflictList).toHaveCount(0);
  });

  await test.step('still listed after another reload and a sync; Dismiss removes it for good', async () => {
    await b.page.reload();
    await b.panel.idle();
    await b.panel.syncNow();
    await expect(b.panel.conflictItems).toHaveCount(1);
    await b.panel.conflictItems
      .first()
      .getByRole('button', { name: t('ui.conflictList.dismissItem', { path: 'n.md' }), exact: true })
      .click();
    await expect(b.panel.conflictList).toHaveCount(0);
    await expect(b.statusBar.label).toHaveText(t('ui.status.connected'));
    await b.page.reload();
    await b.panel.idle();
    await expect(b.statusBar.label).toHaveText(t('ui.status.connected'));
    await expect(b.panel.conflictList).toHaveCount(0);
    expect(vaultB.readFile(copy), 'the files stay').toBe('line one, as B wrote it\n');
  });
});

/** The other device as the conflict list names it: its id without `dev_`, 8 characters. */
async function deviceLabel(shell: { panel: { factValue(name: 'device-id'): import('@playwright/test').Locator } }): Promise<string> {
  const id = (await shell.panel.factValue('device-id').innerText()).trim();
  return id.replace(/^dev_/, '').slice(0, 8);
}
