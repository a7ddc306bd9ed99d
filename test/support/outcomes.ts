/** How a test reads the outcome of a call that may fail: the error itself, to assert on. */
import { type CampaignKitError, isCampaignKitError } from "../../src/errors.js";

/** The error `promise` rejects with, or `undefined` when it resolves. */
export const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

/** The {@link CampaignKitError} a kit call is refused with; fails the test when it resolves or throws another error. */
export async function refusal(promise: Promise<unknown>): Promise<CampaignKitError> {
  const error = await rejection(promise);
  if (isCampaignKitError(error)) return error;
  throw error;
}
