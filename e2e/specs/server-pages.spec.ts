// The sync server's web pages in real Chromium (server-api §6.10 to §6.12): a user registers,
// confirms the emailed link (logged by development_token_logging, since no SMTP is set up),
// signs in, sees a paired device on the dashboard and revokes it with password re-entry; an
// admin from config.yml signs in to the console and blocks the user.

import * as crypto from 'node:crypto';
import { test, expect, type SyncServer } from '../fixtures';
import { AdminPages, UserPages } from '../pages/server-pages';
import { artifactPath } from '../support/artifacts';
import { ADMIN, ADMIN_PASSWORD, withAdmin } from '../support/server-admin';

/** The confirmation token the server logged for `username` (no SMTP configured). */
async function loggedToken(server: SyncServer, username: string): Promise<string> {
  const re = new RegExp(`development_token_logging: (\\S+) kind=Confirm user=${username}\\b`);
  await expect.poll(() => re.test(server.output()), { timeout: 15_000 }).toBe(true);
  const token = server.output().match(re)![1];
  return token.includes('token=') ? token.split('token=')[1] : token;
}

test('register, confirm, sign in, see and revoke a device; the admin blocks the user', async ({ server, browser }) => {
  await withAdmin(server);
  const username = `web-${crypto.randomBytes(4).toString('hex')}`;
  const password = `pw-${crypto.randomBytes(8).toString('hex')}`;
  const base = () => server.url;

  const userCtx = await browser.newContext({ locale: 'en-US' });
  const user = new UserPages(await userCtx.newPage(), base);
  const errors: string[] = [];
  user.page.on('pageerror', (e) => errors.push(e.message));
  // Error statuses of documents (403 for the blocked sign-in, the favicon 404) are expected;
  // anything else logged as an error, such as a CSP violation, is not.
  user.page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });

  await user.register(username, `${username}@example.test`, password);
  // Not confirmed yet: the right password shows the state, and no session is made.
  await user.login(username, password);
  await expect(user.page.locator('.flash.error')).toBeVisible();
  await expect(user.page).toHaveURL(/\/login$/);

  await user.confirm(await loggedToken(server, username));
  await user.login(username, password);
  await expect(user.page).toHaveURL(/\/dashboard$/);
  await expect(user.page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(user.page.locator('form[action="/logout"]')).toHaveCount(1);

  await server.api.pair(username, password, 'vault-web', 'Laptop of ' + username);
  await server.api.pair(username, password, 'vault-web', 'Phone of ' + username);
  await user.page.reload();
  await expect(user.deviceRow('Laptop of ' + username)).toBeVisible();
  await expect(user.deviceRow('Phone of ' + username)).toBeVisible();
  await expect(user.page.locator('ul.vaults')).toContainText('vault-web');
  await user.page.screenshot({ path: artifactPath('server-dashboard'), fullPage: true });

  await user.revoke('Phone of ' + username, password);
  await expect(user.page.locator('.flash.ok')).toBeVisible();
  await expect(user.deviceRow('Phone of ' + username).locator('.badge.off')).toBeVisible();
  await expect(user.deviceRow('Laptop of ' + username).locator('button[data-dialog-open]')).toBeVisible();

  const adminCtx = await browser.newContext({ locale: 'en-US' });
  const admin = new AdminPages(await adminCtx.newPage(), base);
  admin.page.on('pageerror', (e) => errors.push(e.message));
  admin.page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  await admin.login(ADMIN, ADMIN_PASSWORD);
  await expect(admin.page.locator('[data-stat="users"] .value')).not.toHaveText('0');
  await expect(admin.page.locator('a[href="/admin/dashboard"][aria-current="page"]')).toBeVisible();
  await admin.page.screenshot({ path: artifactPath('server-admin-dashboard'), fullPage: true });

  await admin.toggleBlock(username, ADMIN_PASSWORD);
  await expect(admin.userRow(username).locator('[data-status="blocked"]')).toBeVisible();
  await admin.page.goto(server.url + '/admin/audit?event=user_block_changed');
  await expect(admin.page.locator('table.audit tbody tr').first()).toContainText('user_block_changed');

  // Blocking ended the user's web session and refuses sign-in.
  await user.page.goto(server.url + '/dashboard');
  await expect(user.page).toHaveURL(/\/login$/);
  await user.login(username, password);
  await expect(user.page.locator('.flash.error')).toBeVisible();
  expect(errors, 'no page errors (CSP violations show up here)').toEqual([]);

  await userCtx.close();
  await adminCtx.close();
});
