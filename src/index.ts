/**
 * campaign-kit: define, check, schedule, trigger and send campaigns from a Node app.
 *
 * @packageDocumentation
 */
export * from "./domain/index.js";
export * from "./errors.js";
