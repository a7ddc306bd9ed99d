/**
 * Vitest setup file, run before each test file: every fast-check property in the run uses the seed the global
 * setup chose and reports a failure with the command that replays it.
 */
import { relative } from "node:path";
import fc from "fast-check";
import { expect, inject } from "vitest";
import { propertyParameters } from "./property-seed.js";

fc.configureGlobal(
  propertyParameters(inject("fcSeed"), () => {
    const { testPath, currentTestName } = expect.getState();
    return {
      file: testPath ? relative(process.cwd(), testPath) : undefined,
      test: currentTestName?.split(" > ").at(-1),
    };
  }),
);
