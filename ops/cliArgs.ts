import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OrderIdParam } from '../api/schemas.js';
import { orderStreamId } from '../domain/order/index.js';
import { readModelProjections } from '../projections/index.js';

/**
 * A command's arguments, parsed as `node:util` parses them, with what every ops command answers the same way:
 * `--help` (or `-h`) prints `usage` and exits 0; an unknown option, a missing value or a stray argument prints what
 * was wrong and `usage`, and exits 2, instead of a stack trace.
 */
export const cliArgs = <const T extends ParseArgsConfig>(
  config: T,
  usage: string,
  { maxPositionals = 0 }: { maxPositionals?: number } = {},
): ReturnType<typeof parseArgs<T>> => {
  const help = process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h');
  if (help) {
    console.log(usage);
    process.exit(0);
  }
  try {
    const parsed = parseArgs(config);
    const extra = (parsed.positionals ?? []).slice(maxPositionals);
    if (extra.length > 0) throw new Error(`Unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(' ')}`);
    return parsed;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return process.exit(2);
  }
};

const refusePlainly = (detail: string): never => {
  console.error(detail);
  return process.exit(2);
};

/**
 * Whether an operation that breaks or empties what a deployed stage serves may go on: always on the local stack, and
 * on a deployed stage only when `--confirm` repeats its name. Otherwise `refuse` says what would happen (a command
 * that answers problem documents passes its own) and exits 2.
 */
export const requireConfirmedStage = (
  stage: string,
  confirm: string | undefined,
  consequence: string,
  refuse: (detail: string) => never = refusePlainly,
): void => {
  if (stage === 'local' || confirm === stage) return;
  refuse(
    `Not done: ${consequence} on stage "${stage}". To go on, run it again with --confirm ${stage}` +
      (confirm === undefined ? '.' : ` (--confirm named "${confirm}").`),
  );
};

/**
 * The stream an operator names: a stream of a read model's (`order-<id>`, `product-<sku>`) as it is, a bare order id
 * (as the API takes one in a path) as its order's stream; undefined for anything that names no stream a projection
 * reads.
 */
export const namedStream = (named: string): string | undefined => {
  const prefixes = Object.values(readModelProjections).map((projection) => projection.streamPrefix);
  if (prefixes.some((prefix) => named.startsWith(prefix) && named.length > prefix.length)) return named;
  return OrderIdParam.safeParse(named).success ? orderStreamId(named) : undefined;
};
