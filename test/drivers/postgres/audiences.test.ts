import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { postgresAudiences } from "../../../src/drivers/postgres/index.js";
import type { Profile } from "../../../src/model/profile.js";
import { runAudienceSuite } from "../../../src/testing/index.js";
import { databaseUrl } from "../../support/database.js";

const url = databaseUrl("the PostgreSQL audience source tests");

/** A host's table of people as a host would design it: a column per thing, JSONB where it is free-form. */
const jsonbTable = (schema: string) => `
  CREATE TABLE "${schema}".people (
    person_id text COLLATE "C" PRIMARY KEY,
    email text, ecid text, mobile text,
    profile jsonb, email_opt_in boolean, sms_opt_in boolean,
    suppressed text[], tz text, segments text[] NOT NULL DEFAULT '{}'
  );
  CREATE INDEX ON "${schema}".people (email);
  CREATE INDEX ON "${schema}".people (ecid);`;

/** The same people with one column per attribute, and audiences kept in a table of their own. */
const columnTable = (schema: string) => `
  CREATE TABLE "${schema}".people (
    person_id text COLLATE "C" PRIMARY KEY,
    identities jsonb NOT NULL, addresses jsonb, first_name text, tier text, visits integer,
    consent jsonb, suppressed text[], tz text
  );
  CREATE INDEX ON "${schema}".people ((identities ->> 'email'));
  CREATE TABLE "${schema}".memberships (audience_id text, person_id text);`;

(url === undefined ? describe.skip : describe)("postgresAudiences (DATABASE_URL)", () => {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  let schema = "";
  let count = 0;
  const fresh = async (ddl: (schema: string) => string) => {
    schema = `ck_aud_${process.pid}_${Date.now().toString(36)}_${count++}`;
    await pool.query(`CREATE SCHEMA "${schema}"; ${ddl(schema)}`);
    return schema;
  };
  const drop = async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
  afterAll(() => pool.end());

  const jsonbSource = (s: string, save: boolean) =>
    postgresAudiences({
      pool,
      table: { schema: s, name: "people" },
      columns: {
        id: "person_id",
        identities: { email: "email", ecid: "ecid" },
        addresses: { sms: "mobile" },
        attributes: "profile",
        consent: { email: "email_opt_in", sms: "sms_opt_in" },
        suppressedChannels: "suppressed",
        timeZone: "tz",
      },
      audiences: {
        everyone: { where: "$1 = ANY(segments)", params: ["everyone"] },
        one: { where: "$1 = ANY(segments)", params: ["one"] },
        empty: { where: "false" },
      },
      save,
    });

  const insertJsonb = async (
    s: string,
    people: readonly Profile[],
    audiences: Record<string, readonly Profile[]>,
  ) => {
    for (const p of people) {
      const segments = Object.entries(audiences)
        .filter(([, members]) => members.some((m) => m.id === p.id))
        .map(([id]) => id);
      await pool.query(`INSERT INTO "${s}".people VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        p.id,
        p.identities.email ?? null,
        p.identities.ecid ?? null,
        p.addresses.sms ?? null,
        JSON.stringify(p.attributes),
        p.consent.email ?? null,
        p.consent.sms ?? null,
        p.suppressedChannels,
        p.timeZone ?? null,
        segments,
      ]);
    }
  };

  runAudienceSuite({
    name: "postgresAudiences: a table with a WHERE, identity columns, JSONB attributes",
    create: async ({ profiles, audiences }) => {
      const s = await fresh(jsonbTable);
      await insertJsonb(s, profiles, audiences);
      return jsonbSource(s, true);
    },
    cleanup: drop,
  });

  runAudienceSuite({
    name: "postgresAudiences: queries over a membership table, a column per attribute, JSONB identities",
    create: async ({ profiles, audiences }) => {
      const s = await fresh(columnTable);
      for (const p of profiles) {
        const a = p.attributes as { firstName?: string; tier?: string; visits?: number };
        await pool.query(`INSERT INTO "${s}".people VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
          p.id,
          JSON.stringify(p.identities),
          JSON.stringify(p.addresses),
          a.firstName ?? null,
          a.tier ?? null,
          a.visits ?? null,
          JSON.stringify(p.consent),
          p.suppressedChannels,
          p.timeZone ?? null,
        ]);
      }
      for (const [audienceId, members] of Object.entries(audiences))
        for (const m of members)
          await pool.query(`INSERT INTO "${s}".memberships VALUES ($1, $2)`, [audienceId, m.id]);
      const membersOf = (audienceId: string) => ({
        query: `SELECT p.* FROM "${s}".people p JOIN "${s}".memberships m USING (person_id) WHERE m.audience_id = $1`,
        params: [audienceId],
      });
      return postgresAudiences({
        pool,
        table: { schema: s, name: "people" },
        columns: {
          id: "person_id",
          identities: "identities",
          addresses: "addresses",
          attributes: { firstName: "first_name", tier: "tier", visits: "visits" },
          consent: "consent",
          suppressedChannels: "suppressed",
          timeZone: "tz",
        },
        audiences: { everyone: membersOf("everyone"), one: membersOf("one"), empty: membersOf("empty") },
        save: true,
      });
    },
    cleanup: drop,
  });

  const person = (i: number): Profile => ({
    id: `m-${String(i).padStart(4, "0")}`,
    identities: { email: `m${i}@example.com` },
    addresses: {},
    attributes: { n: i },
    consent: { email: true },
    suppressedChannels: [],
  });

  it("refuses to save into a table it only reads, saying how to allow it", async () => {
    const s = await fresh(jsonbTable);
    try {
      const source = jsonbSource(s, false);
      await expect(source.saveProfile({ profile: person(1) })).rejects.toMatchObject({
        code: "UNKNOWN_RECIPIENT",
        message: expect.stringContaining("save: true"),
      });
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${s}".people`)).rows[0].n).toBe(0);
    } finally {
      await drop();
    }
  });

  it("keeps hostile values out of the SQL: ids, identities and bounds are parameters", async () => {
    const s = await fresh(jsonbTable);
    try {
      const source = jsonbSource(s, true);
      const hostile = `x'); DROP TABLE "${s}".people; --`;
      await source.saveProfile({ profile: { ...person(1), id: hostile, identities: { email: hostile } } });
      expect((await source.findProfiles({ namespace: "email", values: [hostile] })).get(hostile)?.id).toBe(
        hostile,
      );
      expect(await source.findProfiles({ namespace: `email" OR true --`, values: [hostile] })).toEqual(
        new Map(),
      );
      const pages: Profile[] = [];
      for await (const page of source.members({ audienceId: "everyone", range: { after: hostile } }))
        pages.push(...page);
      expect(pages).toEqual([]);
      await expect(
        (async () => {
          for await (const _ of source.members({ audienceId: "x' OR '1'='1" })) void _;
        })(),
      ).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${s}".people`)).rows[0].n).toBe(1);
    } finally {
      await drop();
    }
  });

  it("streams a query that repeats a member once, and pages by keyset, never by OFFSET", async () => {
    const s = await fresh(jsonbTable);
    try {
      await pool.query(`CREATE TABLE "${s}".orders (person_id text, total int)`);
      const people = Array.from({ length: 25 }, (_, i) => person(i));
      await insertJsonb(s, people, {});
      // Two orders each: a join that yields every buyer twice, on a page boundary too.
      await pool.query(
        `INSERT INTO "${s}".orders SELECT person_id, n FROM "${s}".people, generate_series(1, 2) n`,
      );
      const seen: string[] = [];
      const queries: string[] = [];
      const spy = new Proxy(pool, {
        get: (target, prop) =>
          prop === "query"
            ? (query: string | { text: string }, values?: unknown[]) => {
                queries.push(typeof query === "string" ? query : query.text);
                return target.query(query as string, values);
              }
            : Reflect.get(target, prop),
      });
      const source = postgresAudiences({
        pool: spy,
        table: { schema: s, name: "people" },
        columns: { id: "person_id", identities: { email: "email" }, attributes: "profile" },
        audiences: {
          buyers: {
            query: `SELECT p.* FROM "${s}".people p JOIN "${s}".orders o USING (person_id) WHERE o.total > $1`,
            params: [0],
          },
        },
      });
      expect(source.distinctMembers).toBe(true);
      for await (const page of source.members({ audienceId: "buyers", pageSize: 5 }))
        seen.push(...page.map((p) => p.id));
      expect(seen).toEqual(people.map((p) => p.id));
      expect(queries.some((q) => /OFFSET/i.test(q))).toBe(false);
      expect(queries.slice(1).every((q) => q.includes(`COLLATE "C" >`))).toBe(true);
    } finally {
      await drop();
    }
  });

  it("cuts a table keyed by bigint into ranges in numeric order, and maps rows with toProfile", async () => {
    const s = await fresh(() => "");
    try {
      await pool.query(`CREATE TABLE "${s}".users (id bigint PRIMARY KEY, mail text)`);
      await pool.query(
        `INSERT INTO "${s}".users SELECT n, 'u' || n || '@example.com' FROM generate_series(1, 12) n`,
      );
      const source = postgresAudiences({
        pool,
        table: { schema: s, name: "users" },
        idType: "bigint",
        columns: { id: "id", identities: { email: "mail" } },
        toProfile: (row) => ({
          id: String(row.id),
          identities: { email: String(row.mail) },
          addresses: {},
          attributes: { mailbox: String(row.mail).split("@")[0] },
          consent: { email: true },
          suppressedChannels: [],
        }),
        audiences: { all: {} },
      });
      const ranges = [];
      for await (const range of source.ranges!({ audienceId: "all", size: 5 })) ranges.push(range);
      expect(ranges).toEqual([{ until: "5" }, { after: "5", until: "10" }, { after: "10" }]);
      const last: Profile[] = [];
      for await (const page of source.members({ audienceId: "all", range: { after: "10" } }))
        last.push(...page);
      expect(last.map((p) => p.attributes)).toEqual([{ mailbox: "u11" }, { mailbox: "u12" }]);
      const found = await source.findProfiles({ namespace: "email", values: ["u3@example.com"] });
      expect(found.get("u3@example.com")?.id).toBe("3");
    } finally {
      await drop();
    }
  });
});
