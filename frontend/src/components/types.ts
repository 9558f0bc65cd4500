// Shapes shared by the settings panel's pieces.
import type { Params } from '../lib/i18n.svelte';

/** A message box: a catalog key (never raw error text), its params and a tone. */
export interface Message {
  key: string;
  params?: Params;
  tone: 'ok' | 'warn' | 'error';
  /** Already localized extra lines (counts of conflicts, copies, merges). */
  extra?: string[];
}

export type Translate = (key: string, params?: Params) => string;
