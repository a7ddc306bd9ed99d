export * from "./channel-adapter.js";
export * from "./errors.js";
export * from "./memory-channel.js";
export * from "./webhook-channel.js";
