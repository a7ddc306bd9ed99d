import { memoryStorage } from "../src/storage/memory-storage.js";
import { runStorageSuite } from "../src/testing/index.js";

runStorageSuite({ name: "memoryStorage", create: () => memoryStorage() });
