// Verstak Sync Server history pages: the diff between two versions (a file's timeline) and the
// merge editor (the conflicts page). Both run the engine's own merge code, compiled for the
// browser (merge-web/, served under /static/merge/). Loaded as a module from /static/history.js
// on those pages only; everything else on them (listing, download, restore) works without it.
//
// The page hands over what it knows in attributes of #history: data-merge (the module's URL,
// absent when the server was built without it), data-texts (the texts, in the page's
// language), data-csrf (the session CSRF token) and, on the conflicts page, data-save-url.
// Rows carry data-text-url (a text version's download URL); conflict sections carry their
// paths, the URLs of both sides (and of the base when known) and the original's version.

const MARKER = /^(<{7}|={7}|>{7})( |$)/m;

const root = typeof document === 'undefined' ? null : document.getElementById('history');
if (root) main(root).catch((e) => fail(root, String(e)));

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function fail(root, text) {
  root.append(el('p', { class: 'flash error', role: 'status' }, text));
}

async function main(root) {
  const t = JSON.parse(root.dataset.texts || '{}');
  const url = root.dataset.merge;
  const wanted = root.querySelector('.js-only, [data-merge-editor]');
  if (!url) {
    if (wanted) root.append(el('p', { class: 'muted' }, t.unavailable));
    return;
  }
  const moduleUrl = new URL(url, location.href);
  const wasmUrl = new URL('merge_web_bg.wasm' + moduleUrl.search, moduleUrl);
  let merge;
  try {
    merge = await import(moduleUrl.href);
    await merge.default({ module_or_path: wasmUrl.href });
  } catch (e) {
    fail(root, t.unavailable);
    return;
  }
  root.querySelectorAll('.js-only').forEach((e) => e.classList.remove('hidden'));
  if (root.querySelector('[data-compare]')) setUpDiff(root, merge, t);
  root.querySelectorAll('section.conflict[data-copy-url]').forEach((s) => setUpMerge(root, s, merge, t));
  root.dataset.ready = '1';
}

async function text(url) {
  const r = await fetch(url, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(String(r.status));
  return r.text();
}

/** A line without its terminator, for display. */
function bare(line) {
  return line.replace(/\r?\n$/, '');
}

// ---- the diff between two versions ---------------------------------------------------------

function setUpDiff(root, merge, t) {
  const rows = Array.from(root.querySelectorAll('tr[data-text-url]'));
  const pick = (name, i) => {
    const r = rows[i] && rows[i].querySelector(`input[name="${name}"]`);
    if (r) r.checked = true;
  };
  // Newest text version against the one before it.
  pick('new', 0);
  pick('old', 1);
  const out = root.querySelector('[data-diff]');
  let mode = 'side';
  let last = null;
  const draw = () => {
    if (!last) return;
    out.replaceChildren(
      summary(last, t),
      modeSwitch(t, mode, (m) => {
        mode = m;
        draw();
      }),
      mode === 'side' ? sideBySide(last.lines) : inline(last.lines),
    );
  };
  root.querySelector('[data-compare]').addEventListener('click', async () => {
    const chosen = (name) => root.querySelector(`input[name="${name}"]:checked`);
    const o = chosen('old');
    const n = chosen('new');
    if (!o || !n) return;
    const url = (input) => input.closest('tr').dataset.textUrl;
    out.replaceChildren(el('p', { class: 'muted' }, t.loading));
    try {
      const [a, b] = await Promise.all([text(url(o)), text(url(n))]);
      last = JSON.parse(merge.diff(a, b));
      out.dataset.old = o.value;
      out.dataset.new = n.value;
      draw();
    } catch (e) {
      out.replaceChildren(el('p', { class: 'flash error' }, t.loadFailed));
    }
  });
}

function summary(d, t) {
  const msg = d.added === 0 && d.removed === 0
    ? t.identical
    : t.diffSummary.replace('{added}', d.added).replace('{removed}', d.removed);
  return el('p', { class: 'diff-summary', 'data-diff-summary': '' }, msg);
}

function modeSwitch(t, mode, set) {
  const b = (m, label) => {
    const btn = el('button', { type: 'button', class: mode === m ? 'primary' : 'secondary', 'aria-pressed': String(mode === m) }, label);
    btn.addEventListener('click', () => set(m));
    return btn;
  };
  return el('p', { class: 'diff-modes' }, b('side', t.sideBySide), ' ', b('inline', t.inline));
}

const CLASS = { '=': 'same', '-': 'del', '+': 'add' };

function inline(lines) {
  const body = el('tbody');
  for (const l of lines) {
    body.append(el('tr', { class: CLASS[l.op] },
      el('td', { class: 'num' }, l.old == null ? '' : String(l.old)),
      el('td', { class: 'num' }, l.new == null ? '' : String(l.new)),
      el('td', { class: 'sign' }, l.op === '=' ? '' : l.op),
      el('td', {}, el('pre', {}, bare(l.text)))));
  }
  return el('table', { class: 'diff inline' }, body);
}

/** Rows of (left, right): equal lines side by side, a changed run's removals beside its additions. */
function pairs(lines) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i].op === '=') {
      out.push([lines[i], lines[i]]);
      i += 1;
      continue;
    }
    const del = [];
    const add = [];
    while (i < lines.length && lines[i].op !== '=') {
      (lines[i].op === '-' ? del : add).push(lines[i]);
      i += 1;
    }
    for (let k = 0; k < Math.max(del.length, add.length); k += 1) out.push([del[k] || null, add[k] || null]);
  }
  return out;
}

function sideBySide(lines) {
  const body = el('tbody');
  const cells = (l, num) => l
    ? [el('td', { class: 'num' }, String(l[num])), el('td', { class: CLASS[l.op] }, el('pre', {}, bare(l.text)))]
    : [el('td', { class: 'num' }), el('td', { class: 'none' })];
  for (const [a, b] of pairs(lines)) body.append(el('tr', {}, ...cells(a, 'old'), ...cells(b, 'new')));
  return el('table', { class: 'diff side' }, body);
}

// ---- the merge editor ----------------------------------------------------------------------

function setUpMerge(root, section, merge, t) {
  const open = section.querySelector('[data-merge-open]');
  const box = section.querySelector('[data-merge-editor]');
  open.addEventListener('click', async () => {
    open.disabled = true;
    box.replaceChildren(el('p', { class: 'muted' }, t.loading));
    try {
      const d = section.dataset;
      const [copy, original, base] = await Promise.all([
        text(d.copyUrl), text(d.originalUrl), d.baseUrl ? text(d.baseUrl) : Promise.resolve(null),
      ]);
      const m = JSON.parse(base == null ? merge.merge2(copy, original) : merge.merge3(base, copy, original));
      editor(root, section, box, m, t);
    } catch (e) {
      box.replaceChildren(el('p', { class: 'flash error' }, t.loadFailed));
      open.disabled = false;
    }
  });
}

function withNewline(s) {
  return s === '' || s.endsWith('\n') ? s : s + '\n';
}

/** The result text from the hunks and the choice made for each conflict (markers when none). */
export function compose(hunks, choices, copyName, originalName) {
  let k = -1;
  return hunks.map((h) => {
    if (h.kind === 'same') return h.text;
    k += 1;
    switch (choices[k]) {
      case 'copy': return h.local;
      case 'original': return h.remote;
      case 'both': return withNewline(h.local) + h.remote;
      default:
        return `<<<<<<< ${copyName}\n${withNewline(h.local)}=======\n${withNewline(h.remote)}>>>>>>> ${originalName}\n`;
    }
  }).join('');
}

function editor(root, section, box, m, t) {
  const d = section.dataset;
  const choices = [];
  const result = el('textarea', { rows: '16', spellcheck: 'false', 'data-merge-result': '', 'aria-label': t.result });
  const refill = () => {
    result.value = m.clean ? m.text : compose(m.hunks, choices, d.copyPath, d.originalPath);
  };
  const msg = el('p', { role: 'status' });
  const parts = [el('p', { class: m.clean ? 'flash ok' : 'warning', 'data-merge-status': '' },
    m.clean ? t.clean : t.conflicts.replace('{n}', m.conflicts))];
  let k = -1;
  for (const h of m.hunks) {
    if (h.kind !== 'conflict') continue;
    k += 1;
    const i = k;
    const name = `pick-${d.copyPath}-${i}`;
    const option = (value, label, shown) => {
      const input = el('input', { type: 'radio', name, value });
      input.addEventListener('change', () => {
        choices[i] = value;
        refill();
        msg.className = '';
        msg.textContent = '';
      });
      return el('label', { class: 'pick' }, el('span', {}, input, ' ', label), shown == null ? '' : el('pre', {}, shown));
    };
    parts.push(el('fieldset', { class: 'hunk', 'data-hunk': String(i) },
      el('legend', {}, `${i + 1} / ${m.conflicts}`),
      option('copy', t.pickCopy, h.local),
      option('original', t.pickOriginal, h.remote),
      option('both', t.pickBoth, null)));
  }
  const save = el('button', { type: 'button', class: 'primary', 'data-merge-save': '' }, t.save);
  save.addEventListener('click', async () => {
    if (MARKER.test(result.value)) {
      msg.className = 'flash error';
      msg.textContent = t.markers;
      return;
    }
    save.disabled = true;
    try {
      const r = await fetch(root.dataset.saveUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': root.dataset.csrf || '' },
        body: JSON.stringify({
          path: d.originalPath,
          content: result.value,
          expected_version: Number(d.expected),
          remove: [d.copyPath],
        }),
      });
      if (r.ok) {
        location.assign(location.pathname + '?flash=history.merged');
        return;
      }
      const body = await r.json().catch(() => ({}));
      msg.className = 'flash error';
      msg.textContent = body.code === 'version_conflict' ? t.changed : `${t.saveFailed} ${body.error || r.status}`;
    } catch (e) {
      msg.className = 'flash error';
      msg.textContent = `${t.saveFailed} ${e}`;
    }
    save.disabled = false;
  });
  refill();
  box.replaceChildren(...parts, el('label', {}, t.result, result), el('p', {}, save), msg);
}
