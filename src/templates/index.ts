export {
  KNOWN_HELPERS,
  TEMPLATE_HELPERS,
  type TemplateError,
  templateEnvironment,
  templateError,
} from "./environment.js";
export { eqHelper, fallbackHelper, formatDateHelper, isBlank, jsonHelper } from "./helpers.js";
