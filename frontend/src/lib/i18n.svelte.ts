// Localized text for one mounted component (spec §1.8, §2.4).
// The locale is reactive `$state` fed by api.i18n.onDidChangeLocale, and `t()` reads it,
// so any markup that calls `t()` re-renders when the host switches language.
// The shipped English catalog is bundled only as the last-resort fallback text.

import type { VerstakPluginAPI } from './api';
import { isPluralBase, pluralKey } from './plural';
import en from '../../../locales/en.json';

const FALLBACK: Record<string, string> = en;

export type Params = Record<string, string | number>;

/** `{name}` interpolation as the host does it; unknown placeholders stay as they are. */
export function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

export class I18n {
  /** Current locale tag, `en` until the host says otherwise. */
  #locale = $state('en');
  #api: VerstakPluginAPI;
  #unsubscribe: (() => void) | null = null;

  constructor(api: VerstakPluginAPI) {
    this.#api = api;
    try {
      this.#locale = api.i18n.getLocale() || 'en';
    } catch {
      /* keep 'en' */
    }
  }

  get locale(): string {
    return this.#locale;
  }

  /** Subscribes to locale changes; the host calls the listener at once. Returns the cleanup. */
  listen(): () => void {
    try {
      const off = this.#api.i18n.onDidChangeLocale((locale) => {
        this.#locale = locale || 'en';
      });
      this.#unsubscribe = typeof off === 'function' ? off : null;
    } catch {
      this.#unsubscribe = null;
    }
    return () => this.stop();
  }

  stop(): void {
    const off = this.#unsubscribe;
    this.#unsubscribe = null;
    if (off) {
      try {
        off();
      } catch {
        /* the host may already have disposed it */
      }
    }
  }

  /**
   * Translates through the host; falls back to the bundled English text, then the key. A
   * plural base key (`ui.status.conflicts`, whose forms are `ui.status.conflicts.one`, …)
   * with a numeric `count` param picks the form for the current locale (plural.ts).
   */
  t(key: string, params?: Params): string {
    void this.#locale; // a dependency, so text follows locale changes
    const inCatalog = (k: string) => k in FALLBACK;
    if (typeof params?.count === 'number' && isPluralBase(key, inCatalog)) {
      key = pluralKey(key, params.count, this.#locale, inCatalog);
    }
    const fallback = FALLBACK[key];
    try {
      const text = this.#api.i18n.t(key, params, fallback);
      if (typeof text === 'string' && text !== '') return text;
    } catch {
      /* disposed or missing: fall through */
    }
    return interpolate(fallback ?? key, params);
  }

  /** Whether the catalogs know a key (used to pick §3.12 server-error texts). */
  has(key: string): boolean {
    if (key in FALLBACK) return true;
    const marker = '\u0000missing';
    try {
      const text = this.#api.i18n.t(key, undefined, marker);
      return text !== marker && text !== key;
    } catch {
      return false;
    }
  }
}
