import { memoryStorage } from "../../../src/drivers/memory/storage.js";
import { runStorageSuite } from "../../../src/testing/index.js";

runStorageSuite({ name: "memoryStorage", create: () => memoryStorage() });
