import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { AgolaError, wrap } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';

/** Largest input file the CLI reads (secrets and variables are small). */
export const MAX_INPUT_BYTES = 1024 * 1024;

function tooLarge(what: string): AgolaError {
  return new AgolaError(`${what}: more than ${MAX_INPUT_BYTES} bytes`, {
    code: AgolaAppErrorCodes.CliInput,
  });
}

/**
 * Reads a `--file` argument: a path, or `-` for stdin. At most {@link MAX_INPUT_BYTES}.
 *
 * @throws `AgolaError` `ERR_AGOLA_CLI_INPUT` when it cannot be read or is too large.
 */
export async function readInput(file: string, stdin: NodeJS.ReadableStream = process.stdin) {
  let data: Buffer;
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of stdin) {
        const b = Buffer.from(c);
        size += b.length;
        if (size > MAX_INPUT_BYTES) throw tooLarge('stdin');
        chunks.push(b);
      }
      data = Buffer.concat(chunks);
    } else {
      data = await readFile(file);
    }
  } catch (err) {
    if (err instanceof AgolaError && err.code === AgolaAppErrorCodes.CliInput) throw err;
    throw wrap(err, `reading ${file === '-' ? 'stdin' : file}`, {
      code: AgolaAppErrorCodes.CliInput,
    });
  }
  if (data.length > MAX_INPUT_BYTES) {
    throw tooLarge(file);
  }
  return data.toString('utf8');
}

/**
 * Parses YAML (or JSON, which is YAML) text, without aliases expansion bombs (the default
 * alias limit of the parser applies).
 *
 * @throws `AgolaError` `ERR_AGOLA_CLI_INPUT` with the parser's message.
 */
export function parseYaml(text: string, what: string): unknown {
  try {
    return parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw wrap(err, `${what} is not valid YAML`, { code: AgolaAppErrorCodes.CliInput });
  }
}

/** Reads and parses a YAML `--file` (`-` = stdin). */
export async function readYamlInput(file: string, what: string): Promise<unknown> {
  return parseYaml(await readInput(file), what);
}
