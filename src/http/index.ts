/**
 * `campaign-kit/http`: the reference execution API as a web-standard `(request: Request) => Promise<Response>`
 * handler ({@link executionApi}) for any framework or runtime, {@link toNodeHandler} for `node:http` and
 * the frameworks built on it, and {@link toProblemDocument} for the problem documents it answers with.
 * No dependency: it uses the Fetch API's `Request` and `Response`, built into Node 18+, Bun, Deno and
 * Workers. The guide is docs/http.md.
 *
 * @packageDocumentation
 * @module campaign-kit/http
 */

export { type FeedbackEndpoints, type FeedbackEndpointsOptions, feedbackEndpoints } from "./feedback.js";
export {
  type ExecutionApi,
  type ExecutionApiHandler,
  type ExecutionApiOptions,
  executionApi,
  type HandlerContext,
} from "./handler.js";
export { type NodeHandler, toNodeHandler } from "./node.js";
export { type ProblemDocument, toProblemDocument } from "./problems.js";
export { type PostmarkWebhookOptions, postmarkWebhook } from "./webhooks/postmark.js";
export type { FeedbackWebhook, WebhookParsed, WebhookRequest } from "./webhooks/provider.js";
export { type ResendWebhookOptions, resendWebhook } from "./webhooks/resend.js";
export { type SendgridWebhookOptions, sendgridWebhook } from "./webhooks/sendgrid.js";
export { type SesWebhookOptions, sesWebhook } from "./webhooks/ses.js";
export { type TwilioWebhookOptions, twilioWebhook } from "./webhooks/twilio.js";
