import { CampaignKitError, isCampaignKitError } from "../errors.js";
import { MAX_CONTEXT_BYTES, MAX_UNITARY_RECIPIENTS } from "../executions/payloads.js";
import { screenJsonText, validationFailed } from "../model/input-guard.js";

/** The largest body a valid call can have: 20 recipients each with a full 200 KB context, plus the envelope. */
export const DEFAULT_MAX_BODY_BYTES = (MAX_UNITARY_RECIPIENTS + 1) * (MAX_CONTEXT_BYTES + 4096);

// `application/json`, or a type built on it such as `application/vnd.acme+json`; parameters come after `;`.
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/i;

/** Throws `UNSUPPORTED_MEDIA_TYPE` (415) unless the request's `content-type` says JSON in UTF-8. */
function requireJson(header: string | null): void {
  const [type = "", ...parameters] = (header ?? "").split(";").map((part) => part.trim());
  const charset = parameters
    .find((parameter) => parameter.toLowerCase().startsWith("charset="))
    ?.slice("charset=".length)
    .replaceAll('"', "")
    .toLowerCase();
  const utf8 = charset === undefined || charset === "utf-8" || charset === "utf8";
  if (JSON_MEDIA_TYPE.test(type) && utf8) return;
  throw new CampaignKitError(
    "UNSUPPORTED_MEDIA_TYPE",
    header === null
      ? "The request has no content-type: send the body as JSON with `content-type: application/json`."
      : `The request body is '${header.slice(0, 100)}': send it as JSON in UTF-8, with \`content-type: application/json\`.`,
    { details: { accepted: ["application/json", "application/*+json"] } },
  );
}

/** The `PAYLOAD_TOO_LARGE` (413) refusal of a body over `maxBytes`. */
export function tooLarge(maxBytes: number): CampaignKitError {
  const why =
    maxBytes >= DEFAULT_MAX_BODY_BYTES
      ? `more than any valid call (${MAX_UNITARY_RECIPIENTS} recipients with ${MAX_CONTEXT_BYTES / 1024} KB contexts each)`
      : "the most this server accepts";
  return new CampaignKitError("PAYLOAD_TOO_LARGE", `The request body is over ${maxBytes} bytes, ${why}.`, {
    details: { maxBytes },
  });
}

/**
 * Reads the body as UTF-8, refusing with `PAYLOAD_TOO_LARGE` (413) once the bytes read pass `maxBytes`: the
 * rest is never read, and cancelling the stream tells the server to let it flow away.
 */
async function readText(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (isCampaignKitError(error)) throw error;
    // The caller left or the connection broke mid-body: nothing the server did wrong.
    throw unfinishedBody(error);
  }
}

/** The refusal of a body the caller stopped sending (it left, or the connection broke) before its end. */
export function unfinishedBody(cause: unknown): CampaignKitError {
  return new CampaignKitError("VALIDATION_FAILED", "The request body could not be read to its end.", {
    cause,
    details: { issues: [{ path: "", message: "Send the whole body" }] },
  });
}

/** Parses a JSON body, counting its values first so a huge one is refused before parsing blocks the loop. */
export function parseJson(text: string): unknown {
  const tooMany = screenJsonText(text);
  if (tooMany) throw validationFailed("request body", [tooMany]);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CampaignKitError("VALIDATION_FAILED", "The request body is not JSON.", {
      cause: error,
      details: { issues: [{ path: "", message: "Expected a JSON object" }] },
    });
  }
}

/**
 * The JSON body of a trigger call, or the refusal: 415 unless the content type says JSON in UTF-8, 413 when
 * the declared length (before anything is read) or the bytes read pass `maxBytes`, 400 when it isn't JSON or
 * holds too many values to parse cheaply.
 *
 * `parsed` is what a framework's body parser already made of the body (Express's `req.body`): a value is
 * taken as the parsed JSON (the kit still checks its shape, depth and size), text or bytes are parsed here.
 */
export async function readJsonBody(request: Request, parsed: unknown, maxBytes: number): Promise<unknown> {
  const early = screenBody(
    request.headers.get("content-type"),
    request.headers.get("content-length"),
    parsed,
    maxBytes,
  );
  if (early.done) return early.value;
  if (request.body === null) return parseJson("");
  if (request.bodyUsed || request.body.locked) {
    // The host's set-up, not the caller's fault: a 500, with this message for the host's `onError`.
    throw new Error(
      "The request body was already read, by a body parser before this handler: pass what it parsed as " +
        "`handler(request, { body })`, or mount the handler before the parser.",
    );
  }
  return parseJson(await readText(request.body, maxBytes));
}

/**
 * What every body goes through before it is read: 415 unless the content type says JSON in UTF-8, 413 when
 * the declared length passes `maxBytes`, and what a framework's parser already made of it (`parsed`): a
 * value is the parsed JSON, text or bytes are parsed here. `done` is false when the body is still to read.
 */
export function screenBody(
  contentType: string | null,
  contentLength: string | null,
  parsed: unknown,
  maxBytes: number,
): { done: true; value: unknown } | { done: false } {
  requireJson(contentType);
  if (Number(contentLength) > maxBytes) throw tooLarge(maxBytes);
  if (parsed === undefined) return { done: false };
  if (typeof parsed !== "string" && !(parsed instanceof Uint8Array)) return { done: true, value: parsed };
  // No `Buffer` here: this module runs in Workers and Deno too.
  const bytes = typeof parsed === "string" ? new TextEncoder().encode(parsed) : parsed;
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  return {
    done: true,
    value: parseJson(typeof parsed === "string" ? parsed : new TextDecoder().decode(parsed)),
  };
}
