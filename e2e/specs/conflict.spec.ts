// Concurrent edits of one file on two devices (plugin-contract §5.4.2, §6.1.3): edits to
// different lines merge cleanly; edits to the same line keep both versions, the incoming one
// under the path and the local one as a conflict copy, and nothing is lost.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, type Account, type Shell, type SyncServer, type Vault } from '../fixtures';
import { artifactPath } from '../support/artifacts';
import { connectAll } from '../support/flows';
import { remoteVaultId } from '../support/text';

const BASE = 'line one\nline two\nline three\n';

/** Names in `dir` of `vault` that look like conflict copies of `stem.ext`. */
function conflictCopies(vaultDir: string, dir: string, stem: string, ext: string): string[] {
  const d = path.join(vaultDir, dir);
  if (!fs.existsSync(d)) return [];
  const re = new RegExp(`^${stem} \\(conflict .+ \\d{4}-\\d\\d-\\d\\d \\d{4}( \\d+)?\\)\\.${ext}$`);
  return fs.readdirSync(d).filter((n) => re.test(n));
}

/** Connects A and B to one remote vault and syncs `Notes/shared.md` = BASE from A to B. */
async function bothHoldBase(f: {
  server: SyncServer;
  account: Account;
  vaultA: Vault;
  vaultB: Vault;
  openShell: (vault: Vault) => Promise<Shell>;
}) {
  const a = await f.openShell(f.vaultA);
  const b = await f.openShell(f.vaultB);
  await connectAll([a, b], f.server.url, f.account, remoteVaultId());
  f.vaultA.writeFile('Notes/shared.md', BASE);
  await a.panel.syncNow();
  await b.panel.syncNow();
  await expect.poll(() => f.vaultB.readFile('Notes/shared.md')).toBe(BASE);
  return { a, b, t: a.panel.t };
}

test('edits to different lines of one file merge cleanly on both devices', async ({ server, account, vaultA, vaultB, openShell }) => {
  const { a, b, t } = await bothHoldBase({ server, account, vaultA, vaultB, openShell });

  vaultA.writeFile('Notes/shared.md', 'line one (A)\nline two\nline three\n');
  vaultB.writeFile('Notes/shared.md', 'line one\nline two\nline three (B)\n');
  await a.panel.syncNow();
  await b.panel.syncNow();
  const merged = 'line one (A)\nline two\nline three (B)\n';
  await expect.poll(() => vaultB.readFile('Notes/shared.md')).toBe(merged);
  await expect(b.panel.conflicts).toContainText(t('ui.mergedItem', { path: 'Notes/shared.md' }));
  await a.panel.syncNow();
  await expect.poll(() => vaultA.readFile('Notes/shared.md')).toBe(merged);
  expect(conflictCopies(vaultA.dir, 'Notes', 'shared', 'md')).toEqual([]);
  expect(conflictCopies(vaultB.dir, 'Notes', 'shared', 'md')).toEqual([]);
});

test('edits to the same line keep both versions: the incoming one at the path, the local one as a conflict copy', async ({ server, account, vaultA, vaultB, openShell }) => {
  const { a, b, t } = await bothHoldBase({ server, account, vaultA, vaultB, openShell });

  const fromA = 'line one, as A wrote it\nline two\nline three\n';
  const fromB = 'line one, as B wrote it\nline two\nline three\n';
  vaultA.writeFile('Notes/shared.md', fromA);
  vaultB.writeFile('Notes/shared.md', fromB);
  await a.panel.syncNow(); // A's version reaches the server first and keeps the path
  await b.panel.syncNow();

  await expect.poll(() => vaultB.readFile('Notes/shared.md')).toBe(fromA);
  await expect.poll(() => conflictCopies(vaultB.dir, 'Notes', 'shared', 'md')).toHaveLength(1);
  const [copy] = conflictCopies(vaultB.dir, 'Notes', 'shared', 'md');
  expect(vaultB.readFile(`Notes/${copy}`)).toBe(fromB);
  const conflicts = b.panel.conflicts;
  await expect(conflicts).toContainText(t('ui.conflictCopyItem', { path: 'Notes/shared.md', copyPath: `Notes/${copy}` }));
  await b.panel.root.screenshot({ path: artifactPath('conflict-kept-both') });

  // The copy is an ordinary file from then on: it reaches A too.
  await b.panel.syncNow();
  await a.panel.syncNow();
  await expect.poll(() => vaultA.readFile(`Notes/${copy}`)).toBe(fromB);
  expect(vaultA.readFile('Notes/shared.md')).toBe(fromA);
});
