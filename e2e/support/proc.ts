// Starting the real binaries: spawn, read their output line by line until the ready line
// appears (with a deadline, no sleeping), keep the output for diagnostics, and stop them.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as readline from 'node:readline';

export interface Proc {
  readonly child: ChildProcess;
  /** The match of the ready pattern. */
  readonly ready: RegExpMatchArray;
  /** Everything the process printed so far (stdout and stderr, interleaved by line). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_LOG_LINES = 2000;

/**
 * Spawns `bin args` and resolves once a line of its output matches `ready`. Rejects (and kills
 * the process) when it exits first or when `timeoutMs` passes, with the output in the message.
 */
export function startProcess(
  bin: string,
  args: string[],
  ready: RegExp,
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; label?: string } = {},
): Promise<Proc> {
  const label = opts.label ?? bin;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const spawnOpts: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd };
  const child = spawn(bin, args, spawnOpts);
  const lines: string[] = [];
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  const output = () => lines.join('\n');

  const stop = async (graceMs = 5_000) => {
    if (exited || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([exitPromise, killed]);
    clearTimeout(timer);
    await exitPromise;
  };

  return new Promise<Proc>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop(1_000).finally(() => reject(new Error(`${label}: ${why}\n--- output ---\n${output()}`)));
    };
    const timer = setTimeout(() => fail(`no ready line (${ready}) within ${timeoutMs} ms`), timeoutMs);
    const onLine = (line: string) => {
      if (lines.length < MAX_LOG_LINES) lines.push(line);
      if (settled) return;
      const m = line.match(ready);
      if (m) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, ready: m, output, stop });
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
    }
    child.once('error', (e) => fail(`cannot start: ${e.message}`));
    child.once('exit', (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`));
  });
}

/** Runs a command to completion; rejects with its output when the exit status is not 0. */
export function run(bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${bin}: cannot start: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${bin} ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${out}`));
    });
  });
}
