/**
 * The domain as zod schemas and the types inferred from them (`Campaign`, `Audience`, `ChannelConfiguration`,
 * `Role`, `Profile`, `Execution`...), the campaign status machine as data, and pure rules (permissions,
 * audience availability). No I/O. The root entry re-exports the types; the schemas and constants are here,
 * to validate your own input or build forms.
 *
 * @packageDocumentation
 * @module campaign-kit/model
 */
export * from "./approval.js";
export * from "./audience.js";
export * from "./audit.js";
export * from "./campaign.js";
export * from "./channel-configuration.js";
export * from "./common.js";
export * from "./delivery-controls.js";
export * from "./execution.js";
export * from "./experiment.js";
export * from "./feedback.js";
export * from "./parse.js";
export * from "./profile.js";
export * from "./roles.js";
export * from "./schedule.js";
export * from "./status-machine.js";
