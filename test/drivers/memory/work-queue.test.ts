import { memoryWorkQueue } from "../../../src/drivers/memory/work-queue.js";
import { runWorkQueueSuite } from "../../../src/testing/work-queue-suite.js";

runWorkQueueSuite({
  name: "memoryWorkQueue",
  create: () => memoryWorkQueue({ leaseMs: 300, retryDelayMs: 100 }),
  redeliveryMs: 1000,
});
