import { memoryAudiences } from "../../../src/drivers/memory/audiences.js";
import type { Profile } from "../../../src/model/profile.js";
import { runAudienceSuite } from "../../../src/testing/index.js";

runAudienceSuite({
  name: "memoryAudiences (arrays)",
  create: ({ profiles, audiences }) => memoryAudiences({ profiles, audiences, distinctMembers: true }),
});

// Audiences of millions come from generators, sync or async, made afresh on every read.
const generated = (audiences: Readonly<Record<string, readonly Profile[]>>, async: boolean) =>
  Object.fromEntries(
    Object.entries(audiences).map(([id, members]) => [
      id,
      async
        ? async function* () {
            yield* members;
          }
        : function* () {
            yield* members;
          },
    ]),
  );

runAudienceSuite({
  name: "memoryAudiences (generators)",
  create: ({ profiles, audiences }) => memoryAudiences({ profiles, audiences: generated(audiences, false) }),
});

runAudienceSuite({
  name: "memoryAudiences (async generators)",
  create: ({ profiles, audiences }) => memoryAudiences({ profiles, audiences: generated(audiences, true) }),
});
