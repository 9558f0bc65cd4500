// Keeps test output readable: the code under test logs raw errors with console.warn on purpose
// (spec §3.12 allows it for diagnostics).
import { vi } from 'vitest';

vi.spyOn(console, 'warn').mockImplementation(() => {});
