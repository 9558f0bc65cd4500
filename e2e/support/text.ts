// Catalog templates as regular expressions, for messages with numbers or dates in them.

/** `Sync complete: {pushed} sent, {pulled} received.` → /^Sync complete: \d+ sent, \d+ received\.$/ */
export function templateRegex(template: string, param = '\\d+'): RegExp {
  const parts = template.split(/\{[A-Za-z0-9_.-]+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp('^\\s*' + parts.join(param) + '\\s*$');
}

/** A remote vault id unique to this run, shared by the vaults of one test. */
export function remoteVaultId(): string {
  return `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every regular file under `dir` (recursively), as paths relative to `dir`. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Files under `dir` whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  return filesUnder(dir).filter((rel) => fs.readFileSync(path.join(dir, rel)).includes(Buffer.from(needle)));
}
