/**
 * Vitest global setup: picks the run's fast-check seed once, prints it, and provides it to every test file
 * (see property-seed-setup.ts). Runs outside the workers, so it must not import `vitest` itself.
 */
import type { TestProject } from "vitest/node";
import { resolveSeed, seedBanner } from "./property-seed.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The fast-check seed of this run. */
    fcSeed: number;
  }
}

export default function setup(project: TestProject): void {
  const chosen = resolveSeed();
  console.log(seedBanner(chosen));
  project.provide("fcSeed", chosen.seed);
}
