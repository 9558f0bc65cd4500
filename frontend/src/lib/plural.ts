// Plural forms for catalog texts with a count. The catalogs keep one key per CLDR plural
// category under a base key (`ui.status.conflicts.one`, `.few`, `.many`, `.other`); English
// uses `one` and `other`, Russian `one` (1, 21), `few` (2–4, 22) and `many` (5–20, 25). The
// base key itself holds a form that reads right for any count ("Конфликтов: 5"), for a host
// that looks the base key up itself. Pure, so it is tested without a host.

/** The catalog key for `count` under `base` in `locale`, falling back to `.other`. */
export function pluralKey(base: string, count: number, locale: string, has: (key: string) => boolean): string {
  let category: string;
  try {
    category = new Intl.PluralRules(locale).select(count);
  } catch {
    category = new Intl.PluralRules('en').select(count);
  }
  const key = `${base}.${category}`;
  return has(key) ? key : `${base}.other`;
}

/** Whether `base` is a plural base key of the catalog (it has an `.other` form). */
export function isPluralBase(base: string, has: (key: string) => boolean): boolean {
  return has(`${base}.other`);
}
