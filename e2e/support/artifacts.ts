// Screenshots the tests keep on purpose (not only on failure): e2e/artifacts/<name>.png.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const ARTIFACTS_DIR = path.resolve(__dirname, '..', 'artifacts');

export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name.endsWith('.png') ? name : `${name}.png`);
}
