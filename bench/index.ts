export {};

/**
 * `npm run bench`: runs every benchmark module in turn, or only those named on the command line
 * (`npm run bench -- dispatcher`). Each module exports `run(): Promise<void>` and prints its own results;
 * arguments starting with `--` are a module's options (`npm run bench -- http --duration=10`), which it
 * reads from `process.argv`.
 */
const benches: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  dispatcher: () => import("./dispatcher.js"),
  trigger: () => import("./trigger.js"),
  http: () => import("./http.js"),
  pg: () => import("./pg.js"),
  workers: () => import("./workers.js"),
};

const only = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
for (const [name, load] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n# ${name}`);
  await (await load()).run();
}
