// The sync server's admin console at 1280x800 in real Chromium (issue 15 item 11): every page
// fits the width (the users table's Manage buttons stay inside the viewport), reads with human
// labels, units and names, "Confirm email" asks nothing and the next page says what was done,
// blocking asks in plain words without a red button. A full-page screenshot of every page goes
// to e2e/artifacts/admin-<page>.png.

import * as crypto from 'node:crypto';
import { test, expect, SERVER_BIN } from '../fixtures';
import { AdminPages } from '../pages/server-pages';
import { artifactPath } from '../support/artifacts';
import { run } from '../support/proc';
import { ADMIN, ADMIN_PASSWORD, withAdmin } from '../support/server-admin';

const SECTIONS = ['dashboard', 'users', 'devices', 'vaults', 'storage', 'audit', 'settings', 'diagnostics'];

test('every admin page fits 1280 px and reads like a product', async ({ server, account, browser }) => {
  await withAdmin(server);
  const tag = crypto.randomBytes(3).toString('hex');
  // A user without email (user add without --email), one with a long address, and one who
  // signed up and waits for confirmation (no SMTP on this server).
  const noEmail = `solo-${tag}`;
  await run(SERVER_BIN, ['user', 'add', '--data', server.dataDir, '--username', noEmail, '--password', account.password]);
  const longName = `a-rather-long-user-name-for-the-layout-check-${tag}`;
  await run(SERVER_BIN, [
    'user', 'add', '--data', server.dataDir, '--username', longName, '--password', account.password,
    '--email', `${longName}.with.a.long.address@mail.subdomain.example.test`,
  ]);
  const pending = `pending-${tag}`;
  const reg = await fetch(server.url + '/api/v1/auth/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: pending, email: `${pending}@example.test`, password: account.password }),
  });
  expect(reg.status).toBe(200);
  const device = await server.api.pair(account.username, account.password, '7f3c1e0a-5b2d-4c8e-9a61-2d4f8b0c3e57', `Work laptop · Notes (${tag})`);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(3 * 1024 * 1024).fill(7)]), 'blob.bin');
  const up = await fetch(server.url + '/api/v1/blobs/', { method: 'POST', headers: { Authorization: `Bearer ${device.token}` }, body: form });
  expect(up.status).toBe(200);

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const admin = new AdminPages(await ctx.newPage(), () => server.url);
  const page = admin.page;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  await admin.login(ADMIN, ADMIN_PASSWORD);

  for (const sec of SECTIONS) {
    await page.goto(`${server.url}/admin/${sec}`);
    await expect(page.locator(`a[href="/admin/${sec}"][aria-current="page"]`)).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${sec}: no horizontal overflow`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: artifactPath(`admin-${sec}`), fullPage: true });
  }

  // Users: every Manage button is inside the 1280 px viewport; names, emails and "no email".
  await page.goto(`${server.url}/admin/users`);
  const manage = page.locator('table.users button[data-dialog-open]');
  expect(await manage.count()).toBeGreaterThanOrEqual(4);
  for (const b of await manage.all()) {
    const box = await b.boundingBox();
    expect(box, 'Manage button rendered').not.toBeNull();
    expect(box!.x + box!.width).toBeLessThanOrEqual(1280);
  }
  await expect(admin.userRow(noEmail)).toContainText('no email');
  await expect(admin.userRow(pending).locator('[data-status="unconfirmed"]')).toBeVisible();

  // Dashboard: health is a sentence; sizes have units.
  await page.goto(`${server.url}/admin/dashboard`);
  await expect(page.locator('[data-health]')).toContainText('Healthy: database and blob store reachable');
  await expect(page.locator('[data-stat="blob_bytes"] .value')).toHaveText(/^\d+(\.\d)? (KiB|MiB)$/);

  // Settings: SMTP fields have human labels; limits have units.
  await page.goto(`${server.url}/admin/settings`);
  await expect(page.getByLabel('SMTP server')).toHaveAttribute('name', 'smtp_host');
  await expect(page.getByLabel('Sender address')).toHaveAttribute('name', 'smtp_from');
  await expect(page.locator('dl.facts')).toContainText('256 MiB');
  await expect(page.locator('label', { hasText: /^smtp_/ })).toHaveCount(0);

  // Audit: names, not ids.
  await page.goto(`${server.url}/admin/audit?event=device_paired`);
  const paired = page.locator('table.audit tbody tr').filter({ hasText: account.username }).first();
  await expect(paired).toContainText(`Work laptop · Notes (${tag})`);
  await expect(paired.locator(`span[title="${device.deviceId}"]`)).toBeVisible();

  // Storage: its own content, with the account's 3 MiB against the 8 GiB quota.
  await page.goto(`${server.url}/admin/storage`);
  await expect(page.locator('[data-stat]')).toHaveCount(0);
  const usage = page.locator('[data-section="usage"] tr').filter({ hasText: account.username });
  await expect(usage).toContainText('3 MiB');
  await expect(usage).toContainText('8 GiB');

  // Diagnostics: labels and a duration in words.
  await page.goto(`${server.url}/admin/diagnostics`);
  await expect(page.locator('dl.facts')).toContainText('Running for');
  await expect(page.locator('dl.facts')).toContainText(/\d+ (second|minute)s?/);

  // Blocking asks first, in plain words and without the red button; Cancel keeps the user.
  let dialog = await admin.manage(account.username, ADMIN_PASSWORD);
  await dialog.locator('button[value="toggle-user"]').click();
  const ask = page.locator('#confirm-dialog');
  await expect(ask).toBeVisible();
  await expect(ask.locator('.confirm-text')).toContainText(`Block ${account.username}?`);
  await expect(ask.locator('button[value="ok"]')).not.toHaveClass(/danger/);
  await page.screenshot({ path: artifactPath('admin-users-block-question') });
  await ask.locator('button[value="cancel"]').click();
  await expect(ask).toBeHidden();

  // Confirm email: no question, and the next page says what was done.
  dialog = await admin.manage(pending, ADMIN_PASSWORD);
  await dialog.locator('button[value="confirm-user"]').click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.locator('[data-notice]')).toHaveText(`Email of ${pending} confirmed.`);
  await expect(admin.userRow(pending).locator('[data-status="active"]')).toBeVisible();
  await page.screenshot({ path: artifactPath('admin-users-confirmed'), fullPage: true });
  await page.reload();
  await expect(page.locator('[data-notice]')).toHaveCount(0);

  // Russian labels are longer: every page still fits.
  await ctx.addCookies([{ name: 'verstak_locale', value: 'ru', url: server.url }]);
  for (const sec of SECTIONS) {
    await page.goto(`${server.url}/admin/${sec}`);
    await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${sec} (ru): no horizontal overflow`).toBeLessThanOrEqual(0);
  }
  await page.goto(`${server.url}/admin/users`);
  await page.screenshot({ path: artifactPath('admin-users-ru'), fullPage: true });

  expect(errors, 'no page errors (CSP violations show up here)').toEqual([]);
  await ctx.close();
});
