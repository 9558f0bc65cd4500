// The ignore list (plugin-contract §5.4.6, §3.13 setIgnore, §6.1 item 5): the panel shows the
// defaults, an edited list persists, and ignored files never reach the other device.

import { test, expect } from '../fixtures';
import { connectAll } from '../support/flows';
import { remoteVaultId } from '../support/text';

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);

test('ignored files stay on their device; the edited list persists', async ({ server, account, vaultA, vaultB, openShell }) => {
  const a = await openShell(vaultA);
  const b = await openShell(vaultB);
  const { t } = a.panel;
  await connectAll([a, b], server.url, account, remoteVaultId());

  let patterns: string[] = [];
  await test.step('the editor shows the default list', async () => {
    await expect(a.panel.ignoreList).toBeVisible();
    await expect(a.panel.root.getByText(t('ui.ignoreHint'), { exact: true })).toBeVisible();
    for (const p of ['.DS_Store', 'Thumbs.db', '*.part', '.Trash-*/']) {
      await expect.poll(async () => lines(await a.panel.ignoreList.inputValue())).toContain(p);
    }
    patterns = lines(await a.panel.ignoreList.inputValue());
  });

  await test.step('add *.tmp and drafts/, Save: stored in settings.json and shown after a reload', async () => {
    await a.panel.setIgnore([...patterns, '*.tmp', 'drafts/']);
    await expect(a.panel.resultMessage).toHaveText(t('ui.settingsSaved'));
    await expect.poll(() => vaultA.readSettings()?.ignore).toEqual(expect.arrayContaining(['*.tmp', 'drafts/', 'Thumbs.db']));
    await a.page.reload();
    await a.panel.idle();
    await expect.poll(async () => lines(await a.panel.ignoreList.inputValue())).toEqual(expect.arrayContaining(['*.tmp', 'drafts/']));
  });

  await test.step('A syncs a kept file and ignored ones; B gets only the kept file', async () => {
    vaultA.writeFile('kept.md', 'synced\n');
    vaultA.writeFile('scratch.tmp', 'ignored by *.tmp\n');
    vaultA.writeFile('Notes/SCRATCH.TMP', 'ignored: matching is case-insensitive\n');
    vaultA.writeFile('drafts/wip.md', 'ignored by drafts/\n');
    vaultA.writeFile('Notes/Thumbs.db', 'ignored by default\n');
    await a.panel.syncNow();
    await expect(a.panel.errorMessage).toHaveCount(0);
    await b.panel.syncNow();
    await expect(b.panel.errorMessage).toHaveCount(0);
    await expect.poll(() => vaultB.readFile('kept.md')).toBe('synced\n');
    for (const rel of ['scratch.tmp', 'Notes/SCRATCH.TMP', 'drafts/wip.md', 'Notes/Thumbs.db']) expect(vaultB.readFile(rel), rel).toBeNull();
    // Still there on A: ignoring never deletes.
    expect(vaultA.readFile('drafts/wip.md')).toBe('ignored by drafts/\n');
  });

  expect(a.pageErrors()).toEqual([]);
  expect(b.pageErrors()).toEqual([]);
});
