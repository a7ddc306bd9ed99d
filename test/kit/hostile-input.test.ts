import { afterAll, describe, expect, it } from "vitest";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { postgresStorage } from "../../src/drivers/postgres/index.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Storage } from "../../src/ports/storage.js";
import { createRepositories } from "../../src/repositories/index.js";
import { databaseUrl } from "../support/database.js";
import { refusal } from "../support/outcomes.js";
import { postgresSchemas } from "../support/postgres.js";
import { ADMIN, promotion, resetKit } from "./fixtures.js";

const url = databaseUrl("hostile input on PostgreSQL");
const postgres = url === undefined ? undefined : postgresSchemas(url, "ck_hostile");
afterAll(() => postgres?.close());

const backends: Array<[string, () => Promise<Storage>]> = [["memory", async () => memoryStorage()]];
if (postgres) backends.push(["PostgreSQL", () => postgres.storage()]);

/** A kit with the live transactional campaign `reset`, the profile ana@example.com and a viewer `vera`. */
async function setup(storage: Storage = memoryStorage()) {
  const { kit } = await resetKit({ storage });
  await kit.roles.assign({ actor: ADMIN, userId: "vera", roleId: "campaign-viewer" });
  return kit;
}

const recipient = (extra: Record<string, unknown> = {}) => ({
  type: "aep",
  namespace: "email",
  userId: "ana@example.com",
  ...extra,
});

const unitary = (kit: CampaignKit, request: Record<string, unknown>) =>
  kit.executions.triggerUnitary({
    actor: ADMIN,
    request: { requestId: "r1", campaignId: "reset", recipients: [recipient()], ...request } as never,
  });

const lastAudit = async (kit: CampaignKit) => (await createRepositories(kit.storage).audit.every()).at(-1);

/** Nests `{ a: ... }` `depth` levels deep, without recursion. */
function nested(depth: number, wrap: (inner: unknown) => unknown = (a) => ({ a })): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

describe.each(backends)("hostile input on %s storage", (_name, create) => {
  it("refuses a requestId that is not a string as VALIDATION_FAILED, audited as denied", async () => {
    const kit = await setup(await create());
    const error = await refusal(unitary(kit, { requestId: { toString: 1 } }));
    expect(error).toMatchObject({
      code: "VALIDATION_FAILED",
      details: { issues: [{ path: "requestId", message: expect.any(String) }] },
    });
    expect(await lastAudit(kit)).toMatchObject({
      action: "execution.trigger-unitary",
      actorId: ADMIN,
      outcome: "denied",
      errorCode: "VALIDATION_FAILED",
    });
  });

  it("refuses nesting deeper than 32 levels in context, profile and channelData, audited as denied", async () => {
    const kit = await setup(await create());
    const cases = [
      ["context", { deep: nested(5_000) }],
      ["profile", { deep: nested(5_000, (inner) => [inner]) }],
      ["channelData", { deep: nested(40) }],
    ] as const;
    for (const [field, value] of cases) {
      const error = await refusal(unitary(kit, { recipients: [recipient({ [field]: value })] }));
      expect(error.code, field).toBe("VALIDATION_FAILED");
      expect((error.details.issues as Array<{ path: string }>)[0]?.path).toMatch(
        `recipients.0.${field}.deep`,
      );
      expect(await lastAudit(kit)).toMatchObject({ outcome: "denied", errorCode: "VALIDATION_FAILED" });
    }
    const audience = await refusal(
      kit.executions.triggerAudience({
        actor: ADMIN,
        request: { campaignId: "reset", context: { deep: nested(5_000) } as never },
      }),
    );
    expect(audience.code).toBe("VALIDATION_FAILED");
    const fine = await unitary(kit, {
      recipients: [recipient({ context: { link: "x", deep: nested(20) } })],
    });
    expect(fine.created).toBe(true);
  });

  it("refuses NUL and unpaired surrogates in any string before anything is stored", async () => {
    const kit = await setup(await create());
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ context: { link: "a\u0000b" } }, "recipients.0.context.link"],
      [{ context: { "li\u0000nk": "x" } }, "recipients.0.context.li\u0000nk"],
      [{ type: "external", userId: "\u0000ana" }, "recipients.0.userId"],
      [{ profile: { name: "\ud800" } }, "recipients.0.profile.name"],
      [{ channelData: { emailAddress: "a\udc00@example.com" } }, "recipients.0.channelData.emailAddress"],
    ];
    for (const [extra, path] of cases) {
      const error = await refusal(unitary(kit, { requestId: "nul", recipients: [recipient(extra)] }));
      expect(error.code, path).toBe("VALIDATION_FAILED");
      expect(error.details.issues, path).toEqual([{ path, message: expect.any(String) }]);
    }
    expect((await kit.executions.list({ actor: ADMIN })).items).toEqual([]);
    const missing = await refusal(kit.executions.status({ actor: ADMIN, id: "\u0000abc" }));
    expect(missing).toMatchObject({ code: "VALIDATION_FAILED", details: { issues: [{ path: "id" }] } });
    expect(await lastAudit(kit)).toMatchObject({ action: "execution.read", outcome: "denied" });
  });

  it("caps every id at 200 characters: refused first, audited with a placeholder, never echoed", async () => {
    const kit = await setup(await create());
    const long = "x".repeat(3_000);
    const refusals = [
      [() => kit.campaigns.activate({ actor: "vera", id: long }), "id"],
      [() => kit.campaigns.get({ actor: "vera", id: long }), "id"],
      [() => unitary(kit, { requestId: long }), "requestId"],
      [() => kit.roles.assign({ actor: ADMIN, userId: long, roleId: "campaign-viewer" }), "userId"],
      [() => kit.campaigns.get({ actor: long, id: "reset" }), "actor"],
    ] as const;
    for (const [call, path] of refusals) {
      const error = await refusal(call());
      expect(error.code, path).toBe("VALIDATION_FAILED");
      expect(error.details.issues, path).toEqual([{ path, message: expect.stringContaining("200") }]);
      expect(error.message.length + JSON.stringify(error.details).length, path).toBeLessThan(1_000);
      const entry = await lastAudit(kit);
      expect(entry, path).toMatchObject({ outcome: "denied", errorCode: "VALIDATION_FAILED" });
      expect(JSON.stringify(entry).length, path).toBeLessThan(1_000);
      expect(JSON.stringify(entry?.detail), path).toContain("3000");
    }
    expect(await createRepositories(kit.storage).assignments.every({ userId: long })).toEqual([]);
  });
});

describe("ids on memory storage", () => {
  it("refuse a 4 MB id without keeping or echoing it", async () => {
    const kit = await setup();
    const huge = "x".repeat(4 * 1024 * 1024);
    const error = await refusal(kit.campaigns.archive({ actor: "vera", id: huge }));
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message.length).toBeLessThan(500);
    const log = await createRepositories(kit.storage).audit.every();
    expect(JSON.stringify(log).length).toBeLessThan(100_000);
  });
});

describe("an audit write that fails", () => {
  it("is retried, and the operation goes on when a retry lands", async () => {
    const storage = memoryStorage();
    const kit = await setup(storage);
    const insert = storage.insert;
    let failures = 2;
    storage.insert = async (params) => {
      if (params.collection === "audit" && failures-- > 0) throw new Error("audit log unavailable");
      return insert(params);
    };
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "retried" } });
    expect(failures).toBe(-1);
    expect(await lastAudit(kit)).toMatchObject({ action: "campaign.create", outcome: "allowed" });
  });

  it("fails the operation with STORAGE_FAILED, keeping the refusal, when it never lands", async () => {
    const storage = memoryStorage();
    const kit = await setup(storage);
    const insert = storage.insert;
    storage.insert = async (params) => {
      if (params.collection === "audit") throw new Error("audit log unavailable");
      return insert(params);
    };
    const refused = await refusal(kit.campaigns.activate({ actor: "vera", id: "reset" }));
    expect(refused).toMatchObject({
      code: "STORAGE_FAILED",
      details: { refusal: { code: "FORBIDDEN" } },
    });
    const allowed = await refusal(
      kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "c2" } }),
    );
    expect(allowed.code).toBe("STORAGE_FAILED");
  });

  (postgres === undefined ? it.skip : it)("fails the operation loudly on PostgreSQL too", async () => {
    if (postgres === undefined) return;
    const schema = await postgres.schema();
    const kit = await setup(postgresStorage({ pool: postgres.pool, schema }));
    // Audit entries (and only they) can no longer be written.
    await postgres.pool.query(
      `ALTER TABLE "${schema}".documents ADD CONSTRAINT no_audit CHECK (collection <> 'audit') NOT VALID`,
    );
    const refused = await refusal(kit.campaigns.activate({ actor: "vera", id: "reset" }));
    expect(refused).toMatchObject({ code: "STORAGE_FAILED", details: { refusal: { code: "FORBIDDEN" } } });
  });
});
