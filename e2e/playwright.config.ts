import { defineConfig, devices } from '@playwright/test';

// Debian's Chromium (apt), never a downloaded browser. CI installs it with apt as well.
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export default defineConfig({
  testDir: './specs',
  outputDir: 'test-results',
  // The real host compiles the wasm component at start-up, and two cores are shared with
  // cargo: generous timeouts, and never more than two workers.
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: true,
  workers: Math.min(2, Number(process.env.E2E_WORKERS) || 2),
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  // `list` prints each test and the usual "N passed / N skipped" summary (scripts/test.sh reads it).
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    trace: 'on-first-retry',
    screenshot: 'only-on-failure',
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        // Tall enough that screenshots of the whole panel are not covered by the fixed status bar.
        viewport: { width: 1280, height: 1400 },
        launchOptions: {
          executablePath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--no-first-run',
            '--disable-quic',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
