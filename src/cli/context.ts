import type { ParseArgsConfig } from "node:util";
import { CampaignKitError } from "../errors.js";
import type { CampaignKit } from "../kit/create-campaign-kit.js";
import type { CampaignKitConfig } from "./config.js";
import type { ExitCode } from "./exit-codes.js";
import { buildKit, findConfig, loadConfig } from "./load.js";
import type { Output } from "./output.js";
import { type ProgressDisplay, progressDisplay } from "./progress.js";

/** What the CLI runs in: a process, or a test's stand-in. */
export interface CliIo {
  /** The arguments after the program name. */
  argv: readonly string[];
  /** Where the config is looked for, and relative paths resolve. */
  cwd: string;
  /** The environment (`CAMPAIGN_KIT_ACTOR`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Results. */
  stdout: { write(text: string): unknown };
  /** Progress and errors; a terminal gets a progress bar. */
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  /** A `trigger` payload given as `-` (or no file, when stdin is not a terminal). */
  stdin: AsyncIterable<string | Uint8Array> & { isTTY?: boolean };
}

/** Parsed flag values of one command. */
export type Values = Record<string, string | boolean | undefined>;

/** What a command gets: its arguments, the output, and the config and kit, loaded on first use. */
export interface CommandContext {
  /** The flags given. */
  values: Values;
  /** The arguments after the command's name. */
  positionals: readonly string[];
  /** Where results and errors go. */
  output: Output;
  /** The process's stand-in. */
  io: CliIo;
  /** The config and its path; loaded once. */
  config(): Promise<{ config: CampaignKitConfig; path: string }>;
  /** The kit the config builds; built once, closed by the CLI when the command is done. */
  kit(): Promise<CampaignKit>;
  /** The actor: `--actor`, else `CAMPAIGN_KIT_ACTOR`, else the config's `actor`; `undefined` when none is set. */
  actor(): Promise<string | undefined>;
  /** {@link CommandContext.actor}, or `CONFIG_INVALID` saying how to set one. */
  requireActor(): Promise<string>;
  /** A progress display on stderr, unless `--json` or `--quiet`. */
  progress(): ProgressDisplay | undefined;
}

/** One command: its flags, how it is called, and what it does. */
export interface Command {
  /** One line for `--help`. */
  summary: string;
  /** The arguments after the name, as `--help` shows them (`<id>`, `[file]`). */
  usage: string;
  /** The command's own flags (the global ones are added), for `node:util` `parseArgs`. */
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Each flag's help line, by name. */
  help: Readonly<Record<string, string>>;
  /** How many positional arguments it takes, at least and at most. */
  positionals: readonly [min: number, max: number];
  /** Runs it; resolves to the exit code. */
  run(context: CommandContext): Promise<ExitCode>;
}

/** The kit, the config and its path, once built: the CLI closes them when the command ends. */
export interface Opened {
  config?: CampaignKitConfig | undefined;
  kit?: CampaignKit | undefined;
}

/** Builds a command's context, recording in `opened` what it loaded so the CLI can close it. */
export function commandContext(
  io: CliIo,
  values: Values,
  positionals: readonly string[],
  output: Output,
  opened: Opened,
  signal?: AbortSignal,
): CommandContext {
  let loading: Promise<{ config: CampaignKitConfig; path: string }> | undefined;
  let building: Promise<CampaignKit> | undefined;
  const context: CommandContext = {
    values,
    positionals,
    output,
    io,
    config() {
      loading ??= (async () => {
        const path = findConfig(io.cwd, values.config as string | undefined);
        const config = await loadConfig(path, io.cwd);
        opened.config = config;
        return { config, path };
      })();
      return loading;
    },
    kit() {
      building ??= (async () => {
        const { config, path } = await context.config();
        // Progress every 100 ms (the default is 1 s) so a bar moves, unless the config tuned it.
        const kit = await buildKit(config, path, (options) => ({
          ...options,
          dispatcher: { progressIntervalMs: 100, ...options.dispatcher },
        }));
        opened.kit = kit;
        // Interrupted while the kit was being built: nothing was there to close then, so close it now.
        if (signal?.aborted) {
          await kit.close();
          throw new Error("Interrupted while building the kit");
        }
        return kit;
      })();
      return building;
    },
    async actor() {
      const given = (values.actor as string | undefined) ?? io.env.CAMPAIGN_KIT_ACTOR;
      if (given !== undefined && given !== "") return given;
      return (await context.config()).config.actor;
    },
    async requireActor() {
      const actor = await context.actor();
      if (actor !== undefined) return actor;
      const { path } = await context.config();
      throw new CampaignKitError(
        "CONFIG_INVALID",
        `No actor to act as: set \`actor\` in ${path}, set CAMPAIGN_KIT_ACTOR, or pass --actor <userId>.`,
        { details: { path } },
      );
    },
    progress() {
      if (output.json || values.quiet === true) return undefined;
      return progressDisplay({
        write: (text) => io.stderr.write(text),
        tty: io.stderr.isTTY === true,
        ...(io.stderr.columns === undefined ? {} : { columns: io.stderr.columns }),
      });
    },
  };
  return context;
}
