// The harness's VerstakPluginAPI: what the desktop gives a plugin, backed by `verstak-sync-host serve`.
// api.sync.* and api.settings.* / api.storage.data.* go to the host's JSON bridge (POST /bridge) and
// come back as the desktop's [value, err] pairs; errors are thrown as
// "[plugin:verstak.sync] <label> failed: <message>" (plugin-contract §2.1).
(function () {
  'use strict';
  const PLUGIN_ID = 'verstak.sync';
  const SECTION = 'plugin:verstak.sync:verstak.sync.settings';
  const registry = (window.__VERSTAK_PLUGIN_REGISTRY__ = window.__VERSTAK_PLUGIN_REGISTRY__ || {});
  const catalogs = {};
  let locale = localStorage.getItem('verstak-harness-locale') || 'en';
  const localeListeners = new Set();
  let manifest = null;
  let bundlePromise = null;

  window.VerstakPluginRegister = function (id, registration) {
    if (!id || typeof registration !== 'object' || !registration || typeof registration.components !== 'object') {
      console.error('[harness] rejected plugin registration', id);
      return;
    }
    registry[id] = registration;
  };

  async function fetchText(path) {
    const res = await fetch(path, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.text();
  }

  function loadBundle() {
    if (!bundlePromise) {
      bundlePromise = (async () => {
        manifest = JSON.parse(await fetchText('/plugin/manifest.json'));
        const locales = (manifest.localization && manifest.localization.locales) || {};
        for (const [tag, path] of Object.entries(locales)) catalogs[tag] = JSON.parse(await fetchText('/plugin/' + path));
        if (manifest.frontend.style) {
          const css = await fetchText('/plugin/' + manifest.frontend.style);
          const style = document.createElement('style');
          style.setAttribute('data-verstak-plugin-style', PLUGIN_ID);
          style.textContent = css;
          document.head.appendChild(style);
        }
        // Executed as a function body in the global context, as the desktop does (§1.6).
        new Function(await fetchText('/plugin/' + manifest.frontend.entry))();
        if (!registry[PLUGIN_ID]) throw new Error('registration missing');
        return registry[PLUGIN_ID];
      })().catch((e) => { bundlePromise = null; throw e; });
    }
    return bundlePromise;
  }

  function translate(key, params, fallback) {
    const lookup = (tag) => (catalogs[tag] || {})[key];
    let text = lookup(locale) ?? lookup((manifest && manifest.localization && manifest.localization.defaultLocale) || 'en') ?? fallback ?? key;
    return String(text).replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name) =>
      params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
  }

  function setLocale(next) {
    locale = next;
    localStorage.setItem('verstak-harness-locale', next);
    document.documentElement.lang = next;
    for (const listener of localeListeners) listener(next);
    const label = translate('contributions.statusBarItems.verstak.sync.status.label', null, 'Sync');
    document.querySelector('[data-status-item-id="verstak.sync.status"]').title = label;
    document.getElementById('sync-tab').textContent = translate('contributions.settingsPanels.verstak.sync.settings.title', null, 'Sync');
  }

  async function bridge(method, args) {
    const res = await fetch('/bridge', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ method, args }),
    });
    if (!res.ok) throw new Error(`bridge HTTP ${res.status}`);
    return res.json();
  }

  // One fresh api object per mount, with its own cleanups (§1.12).
  function createPluginAPI() {
    let disposed = false;
    const cleanups = new Set();
    const call = (label, method) => async (...args) => {
      const fail = (message) => new Error(`[plugin:${PLUGIN_ID}] ${label} failed: ${message}`);
      if (disposed) throw fail('API disposed');
      let result;
      try {
        result = await bridge(method, args);
      } catch (e) {
        throw fail(e && e.message ? e.message : String(e));
      }
      if (Array.isArray(result) && result.length === 2) {
        const [value, err] = result;
        if (err) throw fail(err);
        return value === null ? undefined : value;
      }
      return result;
    };
    const sync = {};
    // The seven calls of the desktop's api.sync plus this engine's extensions (§3.13,
    // docs/api-extensions.md).
    for (const name of ['status', 'configure', 'disconnect', 'testConnection', 'setInterval', 'resetKey', 'now',
      'confirmDeletions', 'restoreDeletions', 'setIgnore', 'dismissConflicts']) {
      sync[name] = call('sync.' + name, 'sync.' + name);
    }
    return {
      sync,
      settings: {
        read: call('settings.read', 'settings.read'),
        write: call('settings.write', 'settings.write'),
        writeAll: call('settings.writeAll', 'settings.writeAll'),
      },
      storage: { data: { read: call('storage.data.read', 'storage.data.read'), write: call('storage.data.write', 'storage.data.write') } },
      i18n: {
        getLocale: () => locale,
        t: translate,
        onDidChangeLocale(listener) {
          if (disposed) throw new Error(`[plugin:${PLUGIN_ID}] i18n.onDidChangeLocale failed: API disposed`);
          localeListeners.add(listener);
          const off = () => { localeListeners.delete(listener); cleanups.delete(off); };
          cleanups.add(off);
          listener(locale);
          return off;
        },
      },
      events: {
        // `sync.status` is the host's live status push (GET /events, Server-Sent Events): each
        // status change arrives as the envelope {name, pluginId, payload, timestamp} (§2.5).
        // Other types (file.changed) are accepted and never fire: the host watches the vault itself.
        async subscribe(type, handler) {
          if (disposed) throw new Error(`[plugin:${PLUGIN_ID}] events.subscribe failed: API disposed`);
          let source = null;
          if (type === 'sync.status' && typeof EventSource === 'function') {
            source = new EventSource('/events');
            source.addEventListener('status', (e) => {
              let payload;
              try { payload = JSON.parse(e.data); } catch { return; }
              handler({ name: type, pluginId: PLUGIN_ID, payload, timestamp: Date.now() });
            });
          }
          const off = () => {
            if (source) source.close();
            cleanups.delete(off);
          };
          cleanups.add(off);
          return off;
        },
      },
      ui: {
        openSettings(panelId) {
          window.dispatchEvent(new CustomEvent('verstak:open-settings', { detail: { pluginId: PLUGIN_ID, panelId: panelId || '' } }));
          return undefined;
        },
      },
      dispose() {
        disposed = true;
        for (const off of [...cleanups]) off();
      },
    };
  }

  const mounted = new Map(); // container → {component, api}

  async function mount(container, componentName, props) {
    try {
      const registration = await loadBundle();
      const component = registration.components[componentName];
      if (!component) throw new Error('component missing: ' + componentName);
      const api = createPluginAPI();
      container.textContent = '';
      component.mount(container, props, api);
      mounted.set(container, { component, api });
    } catch (e) {
      console.error('[harness] mount failed', e);
      container.textContent = '⚠ ' + translate('contributions.statusBarItems.verstak.sync.status.label', null, 'Sync');
    }
  }

  function unmount(container) {
    const m = mounted.get(container);
    if (!m) return;
    m.component.unmount(container);
    m.api.dispose();
    container.innerHTML = '';
    mounted.delete(container);
  }

  const panel = document.querySelector('.plugin-mount-container');
  const note = document.querySelector('.shell-section-note');
  function selectSection(section) {
    for (const tab of document.querySelectorAll('[data-settings-section]')) {
      tab.setAttribute('aria-selected', String(tab.getAttribute('data-settings-section') === section));
    }
    if (section === SECTION) {
      note.hidden = true;
      if (!mounted.has(panel)) mount(panel, 'SyncSettings', { componentId: 'SyncSettings' });
    } else {
      unmount(panel);
      note.hidden = false;
      note.textContent = 'This section belongs to the Verstak desktop and is not part of the sync plugin.';
    }
  }

  document.querySelector('.settings-nav').addEventListener('click', (e) => {
    const tab = e.target.closest('[data-settings-section]');
    if (tab) selectSection(tab.getAttribute('data-settings-section'));
  });
  window.addEventListener('verstak:open-settings', (e) => {
    const d = e.detail || {};
    selectSection(d.pluginId ? `plugin:${d.pluginId}:${d.panelId || 'verstak.sync.settings'}` : SECTION);
    document.querySelector('[data-settings-window]').scrollIntoView();
  });
  document.querySelector('.status-bar-gear').addEventListener('click', () =>
    window.dispatchEvent(new CustomEvent('verstak:open-settings', { detail: {} })));
  const localeSelect = document.getElementById('shell-locale');
  localeSelect.value = locale;
  localeSelect.addEventListener('change', () => setLocale(localeSelect.value));

  loadBundle().then(() => setLocale(locale), () => {});
  selectSection(SECTION);
  mount(document.querySelector('.compact-plugin-host'), 'SyncStatusBar', { componentId: 'SyncStatusBar', compact: true });
})();
