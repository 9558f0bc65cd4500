// Page object: the plugin's status-bar item (SyncStatusBar) in the harness's status bar
// (plugin-contract §1.10, §6.2, §6.3). No assertions here.

import type { Locator, Page } from '@playwright/test';

export class StatusBar {
  /** The host's `span.status-bar-item`, whose `title` is the localized item label. */
  readonly item: Locator;
  /** The host's compact container the component is mounted in. */
  readonly host: Locator;
  /** The plugin's `button.sync-status-bar` (`data-sync-state`, `title` = tooltip). */
  readonly button: Locator;
  readonly label: Locator;
  readonly dot: Locator;
  /** The bar's right-hand group (the item and the settings gear), for screenshots. */
  readonly bar: Locator;

  constructor(readonly page: Page) {
    this.item = page.locator('[data-status-item-id="verstak.sync.status"]');
    this.host = this.item.locator('[data-plugin-status-handler="SyncStatusBar"]');
    this.button = this.host.locator('.sync-status-bar');
    this.label = this.button.locator('.status-label');
    this.dot = this.button.locator('.status-dot');
    this.bar = page.locator('footer.status-bar .status-bar-group.right');
  }

  /** Clicks the item, which asks the shell to open the Sync settings section. */
  async open(): Promise<void> {
    await this.button.click();
  }
}
