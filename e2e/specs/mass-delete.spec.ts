// The mass-deletion guard (plugin-contract §5.4.5, §6.1.4): deleting most files on one device
// is held until the user decides. "Keep the files" restores them; "Apply deletions" sends them,
// and the other device then holds the incoming deletions until it decides too.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, type Vault } from '../fixtures';
import { artifactPath } from '../support/artifacts';
import { connectAll } from '../support/flows';
import { remoteVaultId } from '../support/text';

const FILES = Array.from({ length: 12 }, (_, i) => `Bulk/note-${String(i + 1).padStart(2, '0')}.md`);
const content = (rel: string) => `# ${rel}\n\nbulk content\n`;

function deleteAll(vault: Vault): void {
  for (const rel of FILES) fs.rmSync(path.join(vault.dir, rel));
}

const present = (vault: Vault) => FILES.filter((rel) => vault.readFile(rel) === content(rel)).length;

test('deleting 12 of 12 files is held: Keep the files restores them, Apply deletions sends them', async ({ server, account, vaultA, vaultB, openShell }) => {
  const a = await openShell(vaultA);
  const b = await openShell(vaultB);
  const { t } = a.panel;
  await connectAll([a, b], server.url, account, remoteVaultId());

  await test.step('12 files reach B', async () => {
    for (const rel of FILES) vaultA.writeFile(rel, content(rel));
    await a.panel.syncNow();
    await b.panel.syncNow();
    await expect.poll(() => present(vaultB)).toBe(FILES.length);
  });

  await test.step('B deletes them all: Sync Now holds the deletions and asks', async () => {
    deleteAll(vaultB);
    await b.panel.syncNow();
    await expect(b.panel.massDelete).toBeVisible();
    await expect(b.panel.massDelete).toContainText(t('ui.massDelete.outgoing', { count: FILES.length, total: FILES.length }));
    await expect(b.panel.keepFilesButton).toBeFocused();
    await expect(b.statusBar.button).toHaveAttribute('title', new RegExp(t('ui.status.warning').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await b.panel.root.screenshot({ path: artifactPath('mass-delete-outgoing') });
  });

  await test.step('Keep the files restores them on B; A never loses them', async () => {
    await b.panel.keepFilesButton.click();
    await expect(b.panel.resultMessage).toHaveText(t('ui.massDelete.restored'));
    await expect(b.panel.massDelete).toHaveCount(0);
    await expect.poll(() => present(vaultB)).toBe(FILES.length);
    await b.panel.syncNow();
    await a.panel.syncNow();
    expect(present(vaultA)).toBe(FILES.length);
    await expect(a.panel.massDelete).toHaveCount(0);
  });

  await test.step('B deletes them again and applies: A holds the incoming deletions and asks', async () => {
    deleteAll(vaultB);
    await b.panel.syncNow();
    await expect(b.panel.massDelete).toBeVisible();
    await b.panel.applyDeletionsButton.click();
    await expect(b.panel.resultMessage).toHaveText(t('ui.massDelete.applied'));
    await expect(b.panel.massDelete).toHaveCount(0);
    await a.panel.syncNow();
    await expect(a.panel.massDelete).toContainText(t('ui.massDelete.incoming', { count: FILES.length, total: FILES.length }));
    expect(present(vaultA)).toBe(FILES.length); // nothing deleted yet
    await a.panel.root.screenshot({ path: artifactPath('mass-delete-incoming') });
  });

  await test.step('A applies them too: the files are gone from A', async () => {
    await a.panel.applyDeletionsButton.click();
    await expect(a.panel.resultMessage).toHaveText(t('ui.massDelete.applied'));
    await expect.poll(() => present(vaultA)).toBe(0);
    for (const rel of FILES) expect(vaultB.readFile(rel), rel).toBeNull();
  });

  expect(a.pageErrors()).toEqual([]);
  expect(b.pageErrors()).toEqual([]);
});
