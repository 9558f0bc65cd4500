// Fixtures (style.md §6): the real sync server per worker, a unique account per test, vaults
// served by the real host (`verstak-sync-host serve`) per test, and the page objects on the
// harness page. Setup and teardown live together here; tests ask for what they need.

import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SettingsPanel } from './pages/settings-panel';
import { StatusBar } from './pages/status-bar';
import { startProcess, run, type Proc } from './support/proc';
import { ServerApi } from './support/server-api';

const REPO = path.resolve(__dirname, '..');
export const HOST_BIN = process.env.VERSTAK_HOST_BIN || path.join(REPO, 'target/debug/verstak-sync-host');
export const SERVER_BIN = process.env.VERSTAK_SERVER_BIN || path.join(REPO, 'target/debug/verstak-sync-server');

/** Start-up deadline: the host compiles the wasm component at start, on a busy 2-core box. */
const START_TIMEOUT_MS = Number(process.env.E2E_START_TIMEOUT_MS) || 90_000;

function requireBinary(bin: string, env: string): void {
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} does not exist: build it (see e2e/README.md) or set ${env}`);
  }
}

function uniqueId(): string {
  return `${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`;
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `verstak-e2e-${prefix}-`));
}

/** Attaches a process's output to the report when the test did not pass. */
async function attachLog(testInfo: TestInfo, name: string, proc: Proc | undefined): Promise<void> {
  if (!proc || testInfo.status === testInfo.expectedStatus) return;
  await testInfo.attach(`${name}.log`, { body: proc.output(), contentType: 'text/plain' });
}

// ---- server

export interface SyncServer {
  /** `http://127.0.0.1:<port>`; changes when the server is restarted. */
  readonly url: string;
  readonly dataDir: string;
  readonly api: ServerApi;
  /** `verstak-sync-server user add`: a confirmed user. */
  addUser(username: string, password: string): Promise<void>;
  /**
   * Restarts the process on the same data directory. The server's rate limiter is in memory
   * and per IP (5 pairings per 15 min), and every test connects from 127.0.0.1, so each test
   * that pairs devices starts with fresh limits.
   */
  restart(): Promise<void>;
  /** The port it listens on now. */
  readonly port: number;
  /** Stops the process (the data dir stays). */
  stop(): Promise<void>;
  /** Starts it again on the same data dir, on `port` (default: the one it had). */
  start(port?: number): Promise<void>;
  /** Called once per test that uses the server: restarts it unless this is its first test. */
  freshLimits(): Promise<void>;
  output(): string;
}

async function startServer(dataDir: string, port = 0): Promise<Proc> {
  const env: NodeJS.ProcessEnv = { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' };
  delete env.VERSTAK_PORT;
  delete env.VERSTAK_LISTEN;
  return startProcess(SERVER_BIN, ['--data', dataDir, '--port', String(port)], /listening on (\S+)/, {
    env,
    timeoutMs: START_TIMEOUT_MS,
    label: 'verstak-sync-server',
  });
}

// ---- vaults

export interface Vault {
  readonly name: string;
  /** The vault directory. */
  readonly dir: string;
  /** The harness page, `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** `<vault>/.verstak/plugin-settings/verstak.sync/settings.json`. */
  readonly settingsFile: string;
  /** The settings document on disk, or null when there is none yet. */
  readSettings(): Record<string, unknown> | null;
  /** Writes a vault file (creating folders), as the user's editor would. */
  writeFile(rel: string, content: string): void;
  /** A vault file's text, or null when it does not exist. */
  readFile(rel: string): string | null;
  output(): string;
}

export interface VaultOptions {
  /** A label for logs and temp directory names. */
  name?: string;
}

// ---- shells: a harness page on one vault, with its page objects

export interface Shell {
  readonly vault: Vault;
  readonly page: Page;
  readonly panel: SettingsPanel;
  readonly statusBar: StatusBar;
  /** The methods of every bridge call this page made so far (`sync.status`, `settings.writeAll`, …). */
  bridgeCalls(): string[];
  /** Uncaught page errors, `console.error` messages and failed loads seen so far. */
  pageErrors(): string[];
}

async function openShell(page: Page, vault: Vault): Promise<Shell> {
  const calls: string[] = [];
  page.on('request', (req) => {
    if (req.method() !== 'POST' || !req.url().startsWith(vault.url) || new URL(req.url()).pathname !== '/bridge') return;
    try {
      calls.push(String(JSON.parse(req.postData() ?? '{}').method));
    } catch {
      calls.push('?');
    }
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Failed loads are reported with their URL below instead.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console.error: ${m.text()}`);
  });
  page.on('response', (res) => {
    // The harness serves no favicon; Chromium asks for one anyway.
    if (res.status() >= 400 && new URL(res.url()).pathname !== '/favicon.ico') errors.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  await page.goto(vault.url);
  return {
    vault,
    page,
    panel: new SettingsPanel(page),
    statusBar: new StatusBar(page),
    bridgeCalls: () => [...calls],
    pageErrors: () => [...errors],
  };
}

// ---- the fixture set

export interface Account {
  readonly username: string;
  readonly password: string;
}

type WorkerFixtures = {
  server: SyncServer;
};

type TestFixtures = {
  account: Account;
  vault: (opts?: VaultOptions) => Promise<Vault>;
  vaultA: Vault;
  vaultB: Vault;
  /** Opens the harness of `vault` in a new page of this test's browser context. */
  openShell: (vault: Vault) => Promise<Shell>;
  /** The harness of `vaultA` on the test's `page`. */
  shell: Shell;
  panel: SettingsPanel;
  statusBar: StatusBar;
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  server: [
    async ({}, use, workerInfo) => {
      requireBinary(SERVER_BIN, 'VERSTAK_SERVER_BIN');
      const dataDir = tempDir(`server-w${workerInfo.workerIndex}`);
      let proc = await startServer(dataDir);
      let url = `http://${proc.ready[1]}`;
      let tests = 0;
      const server: SyncServer = {
        get url() {
          return url;
        },
        dataDir,
        api: new ServerApi(() => url),
        async addUser(username, password) {
          await run(SERVER_BIN, ['user', 'add', '--data', dataDir, '--username', username, '--password', password, '--email', `${username}@example.test`]);
        },
        get port() {
          return Number(new URL(url).port);
        },
        async stop() {
          await proc.stop();
        },
        async start(port = server.port) {
          proc = await startServer(dataDir, port);
          url = `http://${proc.ready[1]}`;
        },
        async restart() {
          await proc.stop();
          await server.start(0);
        },
        async freshLimits() {
          if (tests++ > 0) await server.restart();
        },
        output: () => proc.output(),
      };
      await use(server);
      await proc.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    { scope: 'worker', timeout: 120_000 },
  ],

  account: async ({ server }, use, testInfo) => {
    // Fresh rate limits for this test (see SyncServer.restart); cheap, the server starts fast.
    await server.freshLimits();
    const username = `e2e-${testInfo.workerIndex}-${uniqueId()}`;
    const account = { username, password: `pw-${crypto.randomBytes(9).toString('hex')}` };
    await server.addUser(account.username, account.password);
    await use(account);
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('server.log', { body: server.output(), contentType: 'text/plain' });
    }
  },

  vault: async ({}, use, testInfo) => {
    requireBinary(HOST_BIN, 'VERSTAK_HOST_BIN');
    const started: { proc: Proc; dir: string; name: string }[] = [];
    const factory = async (opts: VaultOptions = {}): Promise<Vault> => {
      const name = opts.name ?? `vault${started.length + 1}`;
      const dir = tempDir(name);
      const proc = await startProcess(HOST_BIN, ['--vault', dir, 'serve', '--port', '0'], /serving the settings panel at (http:\/\/127\.0\.0\.1:\d+)\/?/, {
        timeoutMs: START_TIMEOUT_MS,
        label: `verstak-sync-host (${name})`,
      }).catch((e) => {
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
      });
      started.push({ proc, dir, name });
      const url = proc.ready[1] + '/';
      const settingsFile = path.join(dir, '.verstak/plugin-settings/verstak.sync/settings.json');
      const inside = (rel: string) => {
        const p = path.resolve(dir, rel);
        if (!p.startsWith(dir + path.sep)) throw new Error(`${rel} is outside the vault`);
        return p;
      };
      return {
        name,
        dir,
        url,
        settingsFile,
        readSettings() {
          if (!fs.existsSync(settingsFile)) return null;
          return JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
        },
        writeFile(rel, content) {
          const p = inside(rel);
          fs.mkdirSync(path.dirname(p), { recursive: true });
          fs.writeFileSync(p, content);
        },
        readFile(rel) {
          const p = inside(rel);
          return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
        },
        output: () => proc.output(),
      };
    };
    await use(factory);
    for (const v of started) await attachLog(testInfo, `host-${v.name}`, v.proc);
    await Promise.all(started.map((v) => v.proc.stop()));
    for (const v of started) fs.rmSync(v.dir, { recursive: true, force: true });
  },

  vaultA: async ({ vault }, use) => {
    await use(await vault({ name: 'vaultA' }));
  },

  vaultB: async ({ vault }, use) => {
    await use(await vault({ name: 'vaultB' }));
  },

  openShell: async ({ context }, use) => {
    await use(async (vault) => openShell(await context.newPage(), vault));
  },

  shell: async ({ page, vaultA }, use) => {
    await use(await openShell(page, vaultA));
  },

  panel: async ({ shell }, use) => {
    await use(shell.panel);
  },

  statusBar: async ({ shell }, use) => {
    await use(shell.statusBar);
  },
});

export { expect };
export type { Page };

