export * from "./audience-source.js";
export * from "./memory-audiences.js";
