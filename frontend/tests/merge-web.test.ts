// The browser build of the merge (merge-web/pkg/, built by scripts/build-web-merge.sh, which
// scripts/test.sh runs first) against the same table of cases as the engine's merge crate
// (merge/tests/cases.json): the browser and every device must merge alike. Also the merge
// editor's result composition of the history pages (server/static/history.js).
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import cases from '../../merge/tests/cases.json';
// @ts-expect-error: a plain JS module of the server's pages, without types
import { compose } from '../../server/static/history.js';

type Hunk = { kind: 'same'; text: string } | { kind: 'conflict'; base: string; local: string; remote: string };
type Merged = { clean: boolean; text: string | null; conflicts: number; hunks: Hunk[] };
type DiffLine = { op: '=' | '-' | '+'; old: number | null; new: number | null; text: string };
type Diff = { added: number; removed: number; lines: DiffLine[] };
type MergeWeb = {
  initSync: (o: { module: Uint8Array }) => unknown;
  merge3: (base: string, local: string, remote: string) => string;
  merge2: (local: string, remote: string) => string;
  diff: (old: string, next: string) => string;
};

const pkg = fileURLToPath(new URL('../../merge-web/pkg/', import.meta.url));
let m: MergeWeb;

beforeAll(async () => {
  if (!existsSync(pkg + 'merge_web_bg.wasm')) {
    throw new Error('merge-web/pkg/ is missing: run scripts/build-web-merge.sh first');
  }
  m = (await import(/* @vite-ignore */ pkg + 'merge_web.js')) as MergeWeb;
  m.initSync({ module: readFileSync(pkg + 'merge_web_bg.wasm') });
});

/** Hunks in the table's shape: ["=", text] or ["!", base, local, remote] (["!", local, remote] two-way). */
const shape = (h: Hunk[], twoWay: boolean) =>
  h.map((x) =>
    x.kind === 'same' ? ['=', x.text] : twoWay ? ['!', x.local, x.remote] : ['!', x.base, x.local, x.remote],
  );

describe('the browser merge runs the engine merge table', () => {
  it('has the whole table', () => {
    expect(cases.merge3.length).toBeGreaterThanOrEqual(17);
  });

  for (const c of cases.merge3) {
    it(`merge3: ${c.name}`, () => {
      const r = JSON.parse(m.merge3(c.base, c.local, c.remote)) as Merged;
      expect(r.text).toBe(c.want);
      expect(r.clean).toBe(c.want !== null);
      expect(r.conflicts > 0).toBe(c.want === null);
    });
  }

  for (const c of cases.merge3_hunks) {
    it(`merge3 hunks: ${c.name}`, () => {
      const r = JSON.parse(m.merge3(c.base, c.local, c.remote)) as Merged;
      expect(shape(r.hunks, false)).toEqual(c.want);
    });
  }

  for (const c of cases.merge2) {
    it(`merge2: ${c.name}`, () => {
      const r = JSON.parse(m.merge2(c.local, c.remote)) as Merged;
      expect(shape(r.hunks, true)).toEqual(c.want);
    });
  }

  for (const c of cases.diff) {
    it(`diff: ${c.name}`, () => {
      const d = JSON.parse(m.diff(c.old, c.new)) as Diff;
      expect(d.lines.map((l) => l.op + l.text)).toEqual(c.want);
      expect(d.added).toBe(c.want.filter((l) => l.startsWith('+')).length);
      expect(d.removed).toBe(c.want.filter((l) => l.startsWith('-')).length);
    });
  }

  it('keeps non-ASCII text and line numbers intact across the JS boundary', () => {
    const d = JSON.parse(m.diff('привет\nмир\n', 'привет\nвсем\n')) as Diff;
    expect(d.lines).toEqual([
      { op: '=', old: 1, new: 1, text: 'привет\n' },
      { op: '-', old: 2, new: null, text: 'мир\n' },
      { op: '+', old: null, new: 2, text: 'всем\n' },
    ]);
  });
});

describe('the merge editor composes the result from the choices', () => {
  const base = 'a\nb\nc\nd\ne\n';
  const copy = 'A\nb\nL\nd\ne\n';
  const original = 'a\nb\nR\nd\nE\n';

  it('writes conflict markers where nothing was chosen yet, and each choice once made', () => {
    const r = JSON.parse(m.merge3(base, copy, original)) as Merged;
    expect(r.conflicts).toBe(1);
    expect(compose(r.hunks, [], 'n (conflict).md', 'n.md')).toBe(
      'A\nb\n<<<<<<< n (conflict).md\nL\n=======\nR\n>>>>>>> n.md\nd\nE\n',
    );
    expect(compose(r.hunks, ['copy'], 'c', 'o')).toBe('A\nb\nL\nd\nE\n');
    expect(compose(r.hunks, ['original'], 'c', 'o')).toBe('A\nb\nR\nd\nE\n');
    expect(compose(r.hunks, ['both'], 'c', 'o')).toBe('A\nb\nL\nR\nd\nE\n');
  });

  it('keeps markers on their own lines when a side has no final newline', () => {
    const r = JSON.parse(m.merge2('x', 'y')) as Merged;
    expect(compose(r.hunks, [], 'c', 'o')).toBe('<<<<<<< c\nx\n=======\ny\n>>>>>>> o\n');
    expect(compose(r.hunks, ['both'], 'c', 'o')).toBe('x\ny');
  });
});
