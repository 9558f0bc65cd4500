// Shapes shared by the settings panel's pieces.
import type { Params } from '../lib/i18n.svelte';

/** A message box; the panel controller fills them. */
export type { Message } from '../lib/settings-panel.svelte';

export type Translate = (key: string, params?: Params) => string;
