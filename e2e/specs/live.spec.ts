// Live sync in `verstak-sync-host serve` (issue 12): with Auto-sync on, the host syncs by itself
// when another device pushes (the server's event stream) and pushes its status to the page
// (GET /events), so the status bar turns to "Syncing…" and back with no click and no polling,
// and the page never drives a sync itself.

import { test, expect } from '../fixtures';
import { connectAll } from '../support/flows';

test('the status bar turns to Syncing… and back by itself when another device pushes', async ({ server, account, vaultA, vaultB, openShell }) => {
  const a = await openShell(vaultA);
  const b = await openShell(vaultB);
  const { t } = b.panel;
  const note = '# Live\n\nPushed by A, pulled by B on its own.\n';

  await test.step('both connect; B turns Auto-sync on, so its host runs live', async () => {
    await connectAll([a, b], server.url, account, 'live-e2e');
    await b.panel.setAutoSync(true);
    await expect(b.panel.resultMessage).toHaveText(t('ui.settingsSaved'));
    await expect.poll(() => vaultB.readSettings()?.syncInterval).toBe(5);
    await b.panel.idle();
    await expect(b.statusBar.label).toHaveText(t('ui.status.connected'));
  });

  // Every label the bar shows from now on, in order (a run can be shorter than a poll).
  await b.page.evaluate(() => {
    const w = window as unknown as { __labels: string[] };
    w.__labels = [];
    const button = document.querySelector('[data-plugin-status-handler="SyncStatusBar"] .sync-status-bar')!;
    new MutationObserver(() => {
      const text = button.querySelector('.status-label')?.textContent ?? '';
      if (w.__labels.at(-1) !== text) w.__labels.push(text);
    }).observe(button, { subtree: true, childList: true, characterData: true });
  });
  const callsBefore = b.bridgeCalls().length;

  await test.step('A pushes a file with Sync Now; B pulls it without any click', async () => {
    vaultA.writeFile('Live/from-a.md', note);
    await a.panel.syncNow();
    await expect(a.panel.errorMessage).toHaveCount(0);
    await expect.poll(() => vaultB.readFile('Live/from-a.md')).toBe(note);
    await expect(b.statusBar.label).toHaveText(t('ui.status.connected'));
  });

  await test.step('the bar showed Syncing… and went back to Connected, pushed by the host', async () => {
    await expect
      .poll(() => b.page.evaluate(() => (window as unknown as { __labels: string[] }).__labels))
      .toEqual(expect.arrayContaining([t('ui.status.syncing'), t('ui.status.connected')]));
    const labels = await b.page.evaluate(() => (window as unknown as { __labels: string[] }).__labels);
    expect(labels.indexOf(t('ui.status.syncing'))).toBeLessThan(labels.lastIndexOf(t('ui.status.connected')));
    // The page neither ran the sync nor polled for its status: the host pushed it.
    const during = b.bridgeCalls().slice(callsBefore);
    expect(during).not.toContain('sync.now');
    expect(during).not.toContain('sync.status');
  });

  expect(a.pageErrors()).toEqual([]);
  expect(b.pageErrors()).toEqual([]);
});
