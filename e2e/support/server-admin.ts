// The e2e admin of the sync server's console: written into the worker server's config.yml
// (with token logging, since no SMTP is set up), then the server restarts to read it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SyncServer } from '../fixtures';

export const ADMIN = 'e2e-admin';
export const ADMIN_PASSWORD = 'e2e-admin-pass-1';
// bcrypt (cost 10) of ADMIN_PASSWORD, made once with `verstak-sync-server --admin-user`.
const ADMIN_HASH = '$2b$10$zaZWqcq2YlJgnROIecvzueAoyxAJYLeOu0EOxCbluI9nXXXEcPhdm';

/** Adds the e2e admin and token logging to the server's config.yml, then restarts it. */
export async function withAdmin(server: SyncServer): Promise<void> {
  const file = path.join(server.dataDir, 'config.yml');
  let yml = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (!yml.includes(`username: ${ADMIN}`)) {
    const entry = `  - username: ${ADMIN}\n    password_hash: "${ADMIN_HASH}"\n`;
    yml = /^admin:\s*$/m.test(yml) ? yml.replace(/^admin:\s*$/m, `admin:\n${entry}`) : `${yml}\nadmin:\n${entry}`;
  }
  if (!/^development_token_logging:/m.test(yml)) yml += 'development_token_logging: true\n';
  fs.writeFileSync(file, yml);
  await server.restart();
}
