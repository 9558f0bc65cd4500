// Svelte compiler options shared by the build, vitest and svelte-check.
export default {
  compilerOptions: { runes: true },
};
