// The plugin's own catalogs (locales/*.json at the repository root): the strings the bundle
// shows, so tests compare with exactly what the plugin ships rather than with copies.

import * as fs from 'node:fs';
import * as path from 'node:path';

export type Locale = 'en' | 'ru';
export type Catalog = Record<string, string>;

const LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');
const cache = new Map<Locale, Catalog>();

export function catalog(locale: Locale): Catalog {
  let c = cache.get(locale);
  if (!c) {
    c = JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, `${locale}.json`), 'utf8')) as Catalog;
    cache.set(locale, c);
  }
  return c;
}

/** `t(key, params)` over one catalog; a missing key is an error in the test, not a fallback. */
export function translator(locale: Locale): (key: string, params?: Record<string, string | number>) => string {
  const c = catalog(locale);
  return (key, params) => {
    const text = c[key];
    if (text === undefined) throw new Error(`catalog ${locale} has no key ${key}`);
    return text.replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name) => (params && name in params ? String(params[name]) : whole));
  };
}
