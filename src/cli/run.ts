import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { CampaignKitError } from "../errors.js";
import { migrateCommand } from "./commands/migrate.js";
import { reportCommand } from "./commands/report.js";
import { statusCommand } from "./commands/status.js";
import { tickCommand } from "./commands/tick.js";
import { triggerCommand } from "./commands/trigger.js";
import { type CliIo, type Command, commandContext, type Opened, type Values } from "./context.js";
import { EXIT_CODES, type ExitCode, exitCodeOf } from "./exit-codes.js";
import { errorJson, errorText, type Output } from "./output.js";

/** The commands, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  migrate: migrateCommand,
  tick: tickCommand,
  trigger: triggerCommand,
  status: statusCommand,
  report: reportCommand,
};

const GLOBAL_OPTIONS = {
  config: { type: "string", short: "c" },
  actor: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const satisfies ParseArgsConfig["options"];

const GLOBAL_HELP: Record<keyof typeof GLOBAL_OPTIONS, string> = {
  config: "the config file (default: campaign-kit.config.{ts,mts,cts,js,mjs,cjs} in the working directory)",
  actor: "the user to act as (default: $CAMPAIGN_KIT_ACTOR, then the config's `actor`)",
  json: "print the result as JSON on stdout (errors as JSON on stderr); no progress",
  quiet: "no progress on stderr",
  help: "show help",
  version: "show the version",
};

/** The installed package's version, from the package.json above this file (source or dist). */
function version(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "campaign-kit" && pkg.version) return pkg.version;
    } catch {
      // Not here: one folder up.
    }
    folder = dirname(folder);
  }
  return "unknown";
}

function flagLines(
  options: NonNullable<ParseArgsConfig["options"]>,
  help: Readonly<Record<string, string>>,
): string {
  const rows = Object.entries(options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${option.type === "string" ? " <value>" : ""}`;
    return [flag, help[name] ?? ""] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join("\n");
}

function mainHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const commands = names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]?.summary}`).join("\n");
  return `Usage: campaign-kit <command> [options]

Operate campaign-kit from a shell, a deploy step or cron, with the kit your config builds.

Commands:
${commands}

Options:
${flagLines(GLOBAL_OPTIONS, GLOBAL_HELP)}

Exit codes: 0 done, 1 unexpected, 2 usage, 3 config, 4 refused, 5 forbidden, 6 not found,
7 storage unavailable, 8 a send failed, 130 interrupted. \`campaign-kit <command> --help\` for each command.
`;
}

function commandHelp(name: string, command: Command): string {
  const own =
    Object.keys(command.options).length > 0
      ? `Options:\n${flagLines(command.options, command.help)}\n\n`
      : "";
  const { help: _, version: __, ...globals } = GLOBAL_OPTIONS;
  return `Usage: campaign-kit ${name}${command.usage ? ` ${command.usage}` : ""} [options]

${command.summary}.

${own}Global options:
${flagLines(globals, GLOBAL_HELP)}
`;
}

function usageError(message: string, command: string, argument: string): CampaignKitError {
  return new CampaignKitError(
    "INVALID_ARGUMENTS",
    `${message} See \`campaign-kit ${command ? `${command} ` : ""}--help\`.`,
    {
      details: { command, argument },
    },
  );
}

/** The command's name: the first argument that is neither a flag nor a global flag's value. */
function commandName(argv: readonly string[]): string | undefined {
  const { tokens } = parseArgs({
    args: [...argv],
    options: GLOBAL_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const first = tokens.find((token) => token.kind === "positional");
  return first?.kind === "positional" ? first.value : undefined;
}

/** Parses `argv` for `name`: its flags and the global ones, strictly; a mistake is `INVALID_ARGUMENTS`. */
function parseCommand(argv: readonly string[], name: string, command: Command) {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...GLOBAL_OPTIONS, ...command.options },
      strict: true,
      allowPositionals: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    // parseArgs' own words, to their first sentence: the rest is about `--`, which no flag here needs.
    const message = (error as Error).message
      .split(/(?<=[.?])\s+/)
      .filter((sentence) => !sentence.startsWith("To specify"))
      .join(" ");
    throw usageError(message, name, "flags");
  }
  const positionals = parsed.positionals.slice(1);
  const [min, max] = command.positionals;
  if (positionals.length < min) {
    throw usageError(`\`${name}\` needs ${command.usage}.`, name, command.usage);
  }
  if (positionals.length > max) {
    throw usageError(
      `\`${name}\` takes ${max === 0 ? "no arguments" : command.usage}; got '${positionals.slice(max).join(" ")}'.`,
      name,
      positionals[max] ?? "",
    );
  }
  return { values: parsed.values, positionals };
}

/** Options for {@link runCli}. */
export interface RunOptions {
  /**
   * Aborted on SIGINT or SIGTERM: the kit is closed at once (sends in flight stop and are recorded, so a later
   * `tick` resumes them) and the run resolves to `INTERRUPTED`.
   */
  signal?: AbortSignal;
}

/**
 * Runs the `campaign-kit` command line and resolves to its exit code; never throws. Errors go to stderr (as
 * JSON with `--json`), each with a message saying what to fix; whatever the command opened (the kit, the
 * config's pool) is closed before it resolves.
 */
export async function runCli(io: CliIo, options: RunOptions = {}): Promise<ExitCode> {
  const json = io.argv.includes("--json");
  const output: Output = {
    out: (text) => io.stdout.write(text),
    err: (text) => io.stderr.write(text),
    json,
  };
  const opened: Opened = {};
  let closing: Promise<void> | undefined;
  const closeOnce = () => {
    closing ??= close(opened);
    return closing;
  };
  const { signal } = options;
  const onAbort = () => void closeOnce().catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let code: ExitCode;
  try {
    code = await dispatch(io, output, opened, signal);
  } catch (error) {
    code = signal?.aborted ? EXIT_CODES.INTERRUPTED : report(output, error);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  try {
    await closeOnce();
  } catch (error) {
    if (code === EXIT_CODES.OK) code = report(output, error);
  }
  if (signal?.aborted) {
    output.err(
      output.json
        ? `${JSON.stringify({ error: { message: "Interrupted: sends in flight were recorded." } })}\n`
        : "campaign-kit: interrupted; sends in flight were recorded, and the next `campaign-kit tick` resumes them.\n",
    );
    return EXIT_CODES.INTERRUPTED;
  }
  return code;
}

function report(output: Output, error: unknown): ExitCode {
  output.err(output.json ? `${JSON.stringify(errorJson(error))}\n` : errorText(error));
  return exitCodeOf(error);
}

async function dispatch(io: CliIo, output: Output, opened: Opened, signal?: AbortSignal): Promise<ExitCode> {
  const name = commandName(io.argv);
  if (name === undefined) {
    const { values } = parseArgs({ args: [...io.argv], options: GLOBAL_OPTIONS, strict: false });
    if (values.version === true) {
      output.out(`${version()}\n`);
      return EXIT_CODES.OK;
    }
    if (values.help === true) {
      output.out(mainHelp());
      return EXIT_CODES.OK;
    }
    output.err(mainHelp());
    throw usageError("No command given.", "", "command");
  }
  const command = COMMANDS[name];
  if (!command) {
    throw usageError(`Unknown command '${name}': one of ${Object.keys(COMMANDS).join(", ")}.`, "", name);
  }
  if (io.argv.includes("--help") || io.argv.includes("-h")) {
    output.out(commandHelp(name, command));
    return EXIT_CODES.OK;
  }
  const { values, positionals } = parseCommand(io.argv, name, command);
  return command.run(commandContext(io, values, positionals, output, opened, signal));
}

/** Closes the kit (sends in flight are recorded, and resumed by a later run), then the config's resources. */
async function close(opened: Opened): Promise<void> {
  const { kit, config } = opened;
  opened.kit = undefined;
  opened.config = undefined;
  try {
    await kit?.close();
  } finally {
    if (config?.close) await config.close();
    else await config?.postgres?.pool.end();
  }
}
