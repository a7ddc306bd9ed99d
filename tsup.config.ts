import { defineConfig } from "tsup";

export default defineConfig({
  // One entry per subpath export: optional dependencies (pg, vitest) stay behind their own subpath.
  entry: {
    index: "src/index.ts",
    postgres: "src/adapters/postgres/index.ts",
    smtp: "src/adapters/smtp/index.ts",
    testing: "src/testing/index.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  treeshake: true,
  external: ["pg", "nodemailer", "vitest"],
});
