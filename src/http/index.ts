export { type ExecutionApiHandlerOptions, executionApiHandler } from "./execution-api.js";
