// The web dashboard's history views (issue 13) in real Chromium against the real server and real
// hosts (the CLI, `configure` and `sync`, on vault folders of this test): the timeline shows the
// versions of a note edited three times, the diff compares two of them with the engine's merge
// code compiled to WebAssembly, restoring version 1 from the browser reaches the vault byte for
// byte after a sync, a conflict copy merged in the browser becomes a new version that both hosts
// receive while the copy disappears, and another user gets 404 for the vault's pages.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, expect, HOST_BIN, type Page, type SyncServer } from '../fixtures';
import { UserPages } from '../pages/server-pages';
import { artifactPath } from '../support/artifacts';
import { run } from '../support/proc';
import { remoteVaultId } from '../support/text';

/** A vault folder paired through the host's CLI (no panel: the pages are under test here). */
class CliVault {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verstak-hist-'));

  async configure(server: SyncServer, user: { username: string; password: string }, vaultId: string) {
    await run(HOST_BIN, ['--vault', this.dir, 'configure', '--server', server.url, '--username', user.username,
      '--password', user.password, '--vault-id', vaultId]);
  }

  sync(): Promise<string> {
    return run(HOST_BIN, ['--vault', this.dir, 'sync']);
  }

  write(rel: string, content: string) {
    fs.mkdirSync(path.dirname(path.join(this.dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(this.dir, rel), content);
  }

  bytes(rel: string): Buffer {
    return fs.readFileSync(path.join(this.dir, rel));
  }

  names(): string[] {
    return fs.readdirSync(this.dir).filter((n) => !n.startsWith('.'));
  }

  remove() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Page errors and console errors other than failed loads (a CSP refusal would be one). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return errors;
}

test('the timeline of a note edited three times; a diff; restoring version 1 reaches the vault', async ({ server, account, page }) => {
  const a = new CliVault();
  const id = remoteVaultId();
  try {
    await a.configure(server, account, id);
    for (const text of ['first draft\n', 'second draft\n', 'third draft\n']) {
      a.write('Notes/plan.md', text);
      await a.sync();
    }

    const errors = watchErrors(page);
    const user = new UserPages(page, () => server.url);
    await user.login(account.username, account.password);
    await expect(page).toHaveURL(/\/dashboard$/);

    await test.step('from the dashboard to the note through the folder tree', async () => {
      await page.locator('header a[href="/vaults"]').click();
      await page.locator(`table.vaults a[href="/vaults/${id}"]`).click();
      await page.locator('tr.folder a', { hasText: 'Notes/' }).click();
      await page.locator('tr.file a', { hasText: 'plan.md' }).click();
      await expect(page.locator('p.path code')).toHaveText('Notes/plan.md');
    });

    const rows = page.locator('table.timeline tbody tr');
    const versions = async () => rows.evaluateAll((rs) => rs.map((r) => Number((r as HTMLElement).dataset.version)));
    await test.step('three versions, newest first, with their device and size', async () => {
      await expect(rows).toHaveCount(3);
      const v = await versions();
      expect([...v].sort((x, y) => y - x)).toEqual(v);
      await expect(rows.first()).toContainText('12 B');
      await expect(rows.last()).toContainText('12 B');
    });

    await test.step('the diff of the newest two, then of the first and the newest', async () => {
      await expect(page.locator('#history')).toHaveAttribute('data-ready', '1');
      await page.locator('[data-compare]').click();
      await expect(page.locator('[data-diff-summary]')).toHaveText('Lines added: 1, removed: 1.');
      const side = page.locator('table.diff.side');
      await expect(side.locator('td.del')).toHaveText(['second draft']);
      await expect(side.locator('td.add')).toHaveText(['third draft']);
      await rows.last().locator('input[name="old"]').check();
      await page.locator('[data-compare]').click();
      await expect(side.locator('td.del')).toHaveText(['first draft']);
      await page.getByRole('button', { name: 'Inline' }).click();
      await expect(page.locator('table.diff.inline tr.del')).toHaveText(['1-first draft']);
      await page.screenshot({ path: artifactPath('history-web-diff'), fullPage: true });
    });

    await test.step('restore version 1 from its row: a new version by the web dashboard', async () => {
      const first = (await versions()).at(-1)!;
      await rows.last().getByRole('button', { name: 'Restore' }).click();
      const confirm = page.locator('#confirm-dialog');
      await expect(confirm).toBeVisible();
      await confirm.locator('button[value="ok"]').click();
      await expect(page.locator('[data-notice]')).toContainText(`Notes/plan.md (version ${first} →`);
      await expect(rows).toHaveCount(4);
      await expect(rows.first()).toContainText('web dashboard');
    });

    await test.step('the host receives it byte for byte', async () => {
      await a.sync();
      expect(a.bytes('Notes/plan.md').equals(Buffer.from('first draft\n'))).toBe(true);
    });
    expect(errors).toEqual([]);
  } finally {
    a.remove();
  }
});

test('a conflict copy merged in the browser becomes a new version on both hosts, and the copy is gone', async ({ server, account, page }) => {
  const a = new CliVault();
  const b = new CliVault();
  const id = remoteVaultId();
  try {
    await a.configure(server, account, id);
    await b.configure(server, account, id);
    a.write('n.md', 'alpha\nbeta\ngamma\n');
    await a.sync();
    await b.sync();
    a.write('n.md', 'alpha\nbeta from A\ngamma\n');
    b.write('n.md', 'alpha\nbeta from B\ngamma\n');
    await a.sync();
    await b.sync();
    const copies = b.names().filter((n) => n.startsWith('n (conflict '));
    expect(copies).toHaveLength(1);

    const errors = watchErrors(page);
    const user = new UserPages(page, () => server.url);
    await user.login(account.username, account.password);
    await page.goto(`${server.url}/vaults/${id}/conflicts`);
    const section = page.locator('section.conflict');
    await expect(section).toHaveCount(1);
    await expect(section.locator('h2')).toHaveText('n.md');
    await expect(section).toContainText(copies[0]);

    await test.step('merge: one place changed on both sides; keep both lines', async () => {
      await expect(page.locator('#history')).toHaveAttribute('data-ready', '1');
      await section.locator('[data-merge-open]').click();
      await expect(section.locator('[data-merge-status]')).toContainText('Places changed on both sides: 1.');
      const result = section.locator('[data-merge-result]');
      await expect(result).toHaveValue(/^alpha\n<<<<<<< n \(conflict [^\n]*\)\.md\nbeta from B\n=======\nbeta from A\n>>>>>>> n\.md\ngamma\n$/);
      // Saving with the markers still in is refused on the page.
      await section.locator('[data-merge-save]').click();
      await expect(section.locator('p.flash.error')).toContainText('conflict markers');
      await section.locator('fieldset.hunk').getByLabel('Both').check();
      await expect(result).toHaveValue('alpha\nbeta from B\nbeta from A\ngamma\n');
      await expect(section.locator('p.flash.error')).toHaveCount(0);
      await page.screenshot({ path: artifactPath('history-web-merge'), fullPage: true });
      await section.locator('[data-merge-save]').click();
      await expect(page).toHaveURL(/\/conflicts\?flash=history\.merged$/);
      await expect(page.locator('.flash.ok')).toBeVisible();
      await expect(page.locator('section.conflict')).toHaveCount(0);
    });

    await test.step('both hosts get the merged version and lose the copy', async () => {
      const merged = Buffer.from('alpha\nbeta from B\nbeta from A\ngamma\n');
      await a.sync();
      await b.sync();
      for (const v of [a, b]) {
        expect(v.bytes('n.md').equals(merged)).toBe(true);
        expect(v.names().filter((n) => n.includes('(conflict '))).toEqual([]);
      }
    });

    await test.step('the timeline shows the merge as the newest version', async () => {
      await page.goto(`${server.url}/vaults/${id}/file?path=n.md`);
      await expect(page.locator('table.timeline tbody tr').first()).toContainText('web dashboard');
    });
    expect(errors).toEqual([]);
  } finally {
    a.remove();
    b.remove();
  }
});

test("another user's vault pages are 404", async ({ server, account, browser }) => {
  const a = new CliVault();
  const id = remoteVaultId();
  try {
    await a.configure(server, account, id);
    a.write('secret.md', 'mine\n');
    await a.sync();
    const other = { username: `other-${crypto.randomBytes(4).toString('hex')}`, password: `pw-${crypto.randomBytes(8).toString('hex')}` };
    await server.addUser(other.username, other.password);
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    const user = new UserPages(page, () => server.url);
    await user.login(other.username, other.password);
    await expect(page).toHaveURL(/\/dashboard$/);
    for (const p of [`/vaults/${id}`, `/vaults/${id}/file?path=secret.md`, `/vaults/${id}/conflicts`,
      `/vaults/${id}/download?path=secret.md&version=1`]) {
      const r = await page.goto(server.url + p);
      expect(r?.status(), p).toBe(404);
      await expect(page.locator('body')).not.toContainText('secret.md');
    }
    await page.goto(server.url + '/vaults');
    await expect(page.locator('main')).not.toContainText(id);
    await ctx.close();
  } finally {
    a.remove();
  }
});
