// The IIFE entry of the verstak.sync bundle (spec §1.6).
// The host executes this file as the body of a function; it registers two components whose
// mount/unmount adapt Svelte's mount()/unmount(). A WeakMap remembers the instance per
// container, so a second mount on the same container first destroys the previous one.

import { mount as svelteMount, unmount as svelteUnmount } from 'svelte';
import type { Component } from 'svelte';
import SyncSettings from './SyncSettings.svelte';
import SyncStatusBar from './SyncStatusBar.svelte';
import type { HostProps, VerstakPluginAPI } from './lib/api';
import './styles.css';

const PLUGIN_ID = 'verstak.sync';

type Instance = ReturnType<typeof svelteMount>;
type ComponentProps = { api: VerstakPluginAPI; props: HostProps };

const instances = new WeakMap<HTMLElement, Instance>();

function destroy(container: HTMLElement): void {
  const previous = instances.get(container);
  if (!previous) return;
  instances.delete(container);
  try {
    void svelteUnmount(previous);
  } catch (err) {
    console.warn('[verstak.sync] unmount failed', err);
  }
}

function adapter(component: Component<ComponentProps>) {
  return {
    mount(container: HTMLElement, props: HostProps, api: VerstakPluginAPI): void {
      destroy(container);
      const instance = svelteMount(component, { target: container, props: { api, props: props ?? {} } });
      instances.set(container, instance);
    },
    unmount(container: HTMLElement): void {
      destroy(container);
    },
  };
}

const registration = {
  components: {
    SyncSettings: adapter(SyncSettings as unknown as Component<ComponentProps>),
    SyncStatusBar: adapter(SyncStatusBar as unknown as Component<ComponentProps>),
  },
};

type RegisterFn = (id: string, reg: typeof registration) => void;
const w = window as unknown as { VerstakPluginRegister?: RegisterFn };

if (typeof w.VerstakPluginRegister === 'function') {
  w.VerstakPluginRegister(PLUGIN_ID, registration);
} else {
  console.error('[verstak.sync] window.VerstakPluginRegister is missing; the plugin cannot register');
}
