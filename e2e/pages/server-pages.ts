// Page objects for the sync server's own web pages (server-api §6.10, §6.11): the user pages
// (register, confirm, login, dashboard) and the admin console. Selectors use the spec's form
// field names and hooks (data-dialog-open, #confirm-dialog), not translated text.

import { expect, type Locator, type Page } from '@playwright/test';

export class UserPages {
  constructor(readonly page: Page, private readonly base: () => string) {}

  async register(username: string, email: string, password: string): Promise<void> {
    await this.page.goto(this.base() + '/register');
    const form = this.page.locator('form[action="/register"]');
    await form.locator('input[name="username"]').fill(username);
    await form.locator('input[name="email"]').fill(email);
    await form.locator('input[name="password"]').fill(password);
    await form.locator('input[name="confirm"]').fill(password);
    await form.locator('button[type="submit"]').click();
    await expect(this.page).toHaveURL(/\/register\/result$/);
  }

  /** Opens the emailed confirmation link and presses the confirm button. */
  async confirm(token: string): Promise<void> {
    await this.page.goto(`${this.base()}/api/v1/auth/confirm?token=${encodeURIComponent(token)}`);
    await this.page.locator('form[action="/api/v1/auth/confirm"] button[type="submit"]').click();
    await expect(this.page).toHaveURL(/\/confirm\/result$/);
  }

  async login(username: string, password: string): Promise<void> {
    await this.page.goto(this.base() + '/login');
    const form = this.page.locator('form[action="/login"]');
    await form.locator('input[name="username"]').fill(username);
    await form.locator('input[name="password"]').fill(password);
    await form.locator('button[type="submit"]').click();
  }

  deviceRow(name: string): Locator {
    return this.page.locator('table.devices tbody tr').filter({ hasText: name });
  }

  /** Revokes a device from the dashboard: the dialog asks for the password again. */
  async revoke(deviceName: string, password: string): Promise<void> {
    const row = this.deviceRow(deviceName);
    await row.locator('button[data-dialog-open]').click();
    const dialog = row.locator('dialog[open]');
    await expect(dialog).toBeVisible();
    await dialog.locator('input[name="password"]').fill(password);
    await dialog.locator('button[type="submit"]').click();
    await expect(this.page).toHaveURL(/\/dashboard\?flash=user\.deviceRevoked$/);
  }
}

export class AdminPages {
  constructor(readonly page: Page, private readonly base: () => string) {}

  async login(username: string, password: string): Promise<void> {
    await this.page.goto(this.base() + '/admin/login');
    const form = this.page.locator('form[action="/admin/login"]');
    await form.locator('input[name="username"]').fill(username);
    await form.locator('input[name="password"]').fill(password);
    await form.locator('button[type="submit"]').click();
    await expect(this.page).toHaveURL(/\/admin\/dashboard$/);
  }

  userRow(username: string): Locator {
    return this.page.locator('table.users tbody tr').filter({ hasText: username });
  }

  /** Opens the manage dialog of `username` on the users page and enters the admin password. */
  async manage(username: string, adminPassword: string): Promise<Locator> {
    await this.page.goto(`${this.base()}/admin/users?q=${encodeURIComponent(username)}`);
    const row = this.userRow(username);
    await row.locator('button[data-dialog-open^="user-dialog-"]').click();
    const dialog = row.locator('dialog[open]');
    await expect(dialog).toBeVisible();
    await dialog.locator('input[name="password"]').fill(adminPassword);
    return dialog;
  }

  /** Blocks (or unblocks) a user from the users page: manage dialog, re-authentication, confirm. */
  async toggleBlock(username: string, adminPassword: string): Promise<void> {
    await this.page.goto(`${this.base()}/admin/users?q=${encodeURIComponent(username)}`);
    const row = this.userRow(username);
    await row.locator('button[data-dialog-open^="user-dialog-"]').click();
    const dialog = row.locator('dialog[open]');
    await expect(dialog).toBeVisible();
    await dialog.locator('input[name="password"]').fill(adminPassword);
    await dialog.locator('button[value="toggle-user"]').click();
    const confirm = this.page.locator('#confirm-dialog');
    await expect(confirm).toBeVisible();
    await confirm.locator('button[value="ok"]').click();
    await expect(this.page).toHaveURL(/\/admin\/users$/);
  }
}
