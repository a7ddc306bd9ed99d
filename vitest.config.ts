import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One fast-check seed per run, fixed under CI, printed, and named with a replay command on failure.
    globalSetup: ["test/support/property-seed-global.ts"],
    setupFiles: ["test/support/property-seed-setup.ts"],
  },
});
