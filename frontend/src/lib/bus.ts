// A module-level channel between the mounted components of this bundle.
// The host loads the bundle once per application session (spec §1.6), so the settings panel
// and the status-bar item share this module even though they get separate `api` objects.
// The panel announces fresh statuses and the outcome of its actions; the status bar (which
// owns the scheduler, §5.5) listens. Listeners are removed by their component's unmount.

import type { SyncStatusDTO } from './api';

export type BusMessage =
  /** A fresh status read by any component. */
  | { type: 'status'; status: SyncStatusDTO }
  /** A manual Sync Now started: no automatic run meanwhile; the bar shows Syncing…. */
  | { type: 'manualStart' }
  /** The outcome of a manual Sync Now (§6.1.2: "the scheduler is told"). */
  | { type: 'manualRun'; ok: boolean; message: string }
  /** The panel went away during its Sync Now; the outcome will not come. */
  | { type: 'manualEnd' }
  /** configure() succeeded: lift an authorization pause (§5.5). */
  | { type: 'configured' }
  /** Something changed the backend state: read the status now (§5.5 "after any action"). */
  | { type: 'refresh' };

type Listener = (msg: BusMessage) => void;

const listeners = new Set<Listener>();

export function onBus(listener: Listener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function sendBus(msg: BusMessage): void {
  for (const l of [...listeners]) {
    try {
      l(msg);
    } catch (err) {
      console.warn('[verstak.sync] bus listener failed', err);
    }
  }
}

/** For tests. */
export function busListenerCount(): number {
  return listeners.size;
}
