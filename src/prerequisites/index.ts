export { assertPrerequisites, checkPrerequisites, INTENT_PERMISSIONS } from "./check-prerequisites.js";
export {
  PREREQUISITE_CODES,
  PREREQUISITE_INTENTS,
  type PrerequisiteCode,
  type PrerequisiteInput,
  type PrerequisiteIntent,
  type PrerequisiteProblem,
  type PrerequisiteResult,
  type PrerequisiteSubject,
} from "./problems.js";
export { type ActionTemplateField, actionTemplateFields } from "./templates.js";
