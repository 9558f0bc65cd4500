#!/usr/bin/env node
// Verifies the built bundle against the package checks of plugin-contract §1.6, §1.7, §1.14:
//  1. dist/index.js is valid UTF-8 and compiles as a classic script (so it has no
//     import/export statements), and has no dynamic import() or import.meta;
//  2. none of the forbidden host API uses appear;
//  3. executed as a function body with a stub window.VerstakPluginRegister, it registers
//     'verstak.sync' with SyncSettings and SyncStatusBar, each having mount and unmount;
//  4. dist/style.css is non-empty and every selector is scoped under .sync-settings-surface
//     or .sync-status-bar.
// Usage: node scripts/check-bundle.mjs [distDir]   (exit 1 on any failure)

import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.argv[2] ?? join(here, '..', 'dist');
const failures = [];
const fail = (msg) => failures.push(msg);

// ---------------------------------------------------------------- the script
let bytes;
try {
  bytes = readFileSync(join(dist, 'index.js'));
} catch (err) {
  console.error(`check-bundle: cannot read ${join(dist, 'index.js')}: ${err.message} (run npm run build first)`);
  process.exit(1);
}
let js = '';
try {
  js = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
} catch {
  fail('index.js is not valid UTF-8');
  js = bytes.toString('utf8');
}

try {
  // A classic script cannot contain import/export statements: they are a SyntaxError here.
  new vm.Script(`(function(){${js}\n})`, { filename: 'index.js' });
} catch (err) {
  fail(`index.js does not compile as a classic function body: ${err.message}`);
}

/** Removes string, template and comment contents so that texts inside them do not count. */
function codeOnly(src) {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
      out += `${c}${c}`;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const code = codeOnly(js);
const statementLike = /(^|[;{}\n])\s*(import\s*[\w{*"'`]|export\s*[\w{*])/;
if (statementLike.test(code)) fail('index.js contains an import or export statement');
if (/(^|[^\w$.])import\s*\(/.test(code)) fail('index.js contains a dynamic import()');
if (/(^|[^\w$.])import\s*\.\s*meta\b/.test(code)) fail('index.js uses import.meta');

const forbidden = [
  [/window\s*\.\s*go\b/, 'window.go'],
  [/window\s*\[\s*(['"`])go\1\s*\]/, "window['go']"],
  [/\bbackend\s*\.\s*call\b/, 'api.backend.call'],
  [/\brequest\s*\.\s*open\b/, 'api.request.open'],
];
for (const [re, name] of forbidden) {
  if (re.test(js)) fail(`index.js uses the forbidden ${name}`);
}

// Execute as the host does: the text is the body of a function, run in a global context.
const registrations = [];
const sandbox = {
  console: { log() {}, info() {}, debug() {}, warn() {}, error: (...a) => fail(`console.error during load: ${a.join(' ')}`) },
  VerstakPluginRegister(id, reg) {
    registrations.push({ id, reg });
  },
};
sandbox.window = sandbox;
sandbox.globalThis = sandbox;
try {
  vm.runInNewContext(`(function(){${js}\n}).call(window)`, sandbox, { filename: 'index.js', timeout: 5000 });
} catch (err) {
  fail(`executing index.js threw: ${err && err.stack ? err.stack.split('\n')[0] : err}`);
}
const mine = registrations.filter((r) => r.id === 'verstak.sync');
if (mine.length !== 1) {
  fail(`expected exactly one registration of 'verstak.sync', got ${registrations.map((r) => r.id).join(', ') || 'none'}`);
} else {
  const comps = mine[0].reg && mine[0].reg.components;
  if (!comps || typeof comps !== 'object') fail('the registration has no components map');
  else {
    for (const name of ['SyncSettings', 'SyncStatusBar']) {
      const c = comps[name];
      if (!c || typeof c.mount !== 'function' || typeof c.unmount !== 'function') {
        fail(`component ${name} is missing or lacks mount/unmount`);
      }
    }
  }
}

// ---------------------------------------------------------------- the style
let css = '';
try {
  css = readFileSync(join(dist, 'style.css'), 'utf8');
} catch (err) {
  fail(`cannot read style.css: ${err.message}`);
}
const ROOTS = ['.sync-settings-surface', '.sync-status-bar'];

/** Yields every style-rule selector list of a stylesheet, descending into @media/@supports/@layer. */
function* selectorLists(src) {
  const text = src.replace(/\/\*[\s\S]*?\*\//g, '');
  let i = 0;
  function* block(depth) {
    let start = i;
    while (i < text.length) {
      const c = text[i];
      if (c === '{') {
        const prelude = text.slice(start, i).trim();
        i++;
        if (prelude.startsWith('@')) {
          if (/^@(media|supports|layer|container|document)\b/.test(prelude)) yield* block(depth + 1);
          else skip(); // @keyframes, @font-face, @property: no selectors of ours inside
        } else {
          yield prelude;
          skip();
        }
        start = i;
      } else if (c === '}') {
        i++;
        if (depth > 0) return;
        start = i;
      } else if (c === ';') {
        i++;
        start = i; // e.g. @charset or @import (the latter is flagged below)
      } else if (c === '"' || c === "'") {
        i++;
        while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
        i++;
      } else i++;
    }
  }
  function skip() {
    let d = 1;
    while (i < text.length && d > 0) {
      if (text[i] === '{') d++;
      else if (text[i] === '}') d--;
      i++;
    }
  }
  yield* block(0);
}

if (css.replace(/\/\*[\s\S]*?\*\//g, '').trim() === '') fail('style.css is empty');
if (/@import\b/.test(css)) fail('style.css uses @import (no runtime fetches allowed)');
if (/url\(\s*['"]?(?!data:)/.test(css)) fail('style.css references a url() that would be fetched');
let count = 0;
for (const list of selectorLists(css)) {
  for (const sel of list.split(',').map((s) => s.trim())) {
    count++;
    const first = sel.split(/[\s>+~]+/)[0];
    const scoped = ROOTS.some((r) => new RegExp(`${r.replace('.', '\\.')}(?![\\w-])`).test(first));
    if (!scoped) fail(`style.css selector is not scoped under ${ROOTS.join(' or ')}: ${sel}`);
  }
}
if (count === 0) fail('style.css has no style rules');

if (failures.length) {
  console.error(`check-bundle: ${failures.length} problem(s):`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log(`check-bundle: ok (index.js ${bytes.length} bytes, style.css ${count} selectors, registered verstak.sync)`);
