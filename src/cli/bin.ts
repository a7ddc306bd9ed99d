#!/usr/bin/env node
/*
 * The `campaign-kit` executable (package.json `bin`). Runs the command line on this process, sets the exit
 * code, and exits once output is flushed: a config's pool or timer left open must not keep a cron job alive.
 */
import { runCli } from "./run.js";

const controller = new AbortController();
let signals = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    signals += 1;
    // A second signal while the first is closing the kit: stop at once.
    if (signals > 1) process.exit(130);
    controller.abort();
  });
}

const code = await runCli(
  {
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  },
  { signal: controller.signal },
);
// Exit once stdout and stderr have taken everything written (a pipe may still be draining).
await Promise.all(
  [process.stdout, process.stderr].map((stream) => new Promise((done) => stream.write("", done))),
);
process.exit(code);
