import type { Command } from 'commander';
import type {
  ItemParentKind,
  SecretResponse,
  VariableResponse,
  VariableValueRequest,
} from '@agola-ts/gateway-client';
import { newError } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';
import { clientFrom } from '../cli/client.js';
import { readYamlInput } from '../cli/input.js';
import { printDone, printItem, printList } from '../cli/output.js';
import { cliAction } from '../cli/program.js';
import { nameArg } from '../cli/validate.js';

const badInput = (message: string) => newError(message, { code: AgolaAppErrorCodes.CliInput });

/**
 * The data of a secret from its YAML file: a map of names to values. Numbers and booleans
 * become their text (as Agola's Go YAML reader does); nested values are refused.
 */
export function secretDataOf(doc: unknown): Record<string, string> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw badInput('the secret file must be a YAML map of names to values');
  }
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (typeof v === 'string') data[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') data[k] = String(v);
    else
      throw badInput(`secret value "${k}" must be a string, not ${v === null ? 'null' : typeof v}`);
  }
  return data;
}

/**
 * The values of a variable from its YAML file: a list of `{secret_name, secret_var, when}`
 * (`when` as in the run config, checked by the gateway).
 */
export function variableValuesOf(doc: unknown): VariableValueRequest[] {
  if (!Array.isArray(doc)) {
    throw badInput('the variable file must be a YAML list of {secret_name, secret_var, when}');
  }
  return doc.map((v: unknown, i) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw badInput(`variable value ${i} must be a map`);
    }
    const o = v as Record<string, unknown>;
    const secretName = Object.hasOwn(o, 'secret_name') ? o['secret_name'] : undefined;
    const secretVar = Object.hasOwn(o, 'secret_var') ? o['secret_var'] : undefined;
    if (typeof secretName !== 'string' || typeof secretVar !== 'string') {
      throw badInput(`variable value ${i} needs string secret_name and secret_var`);
    }
    return {
      secret_name: secretName,
      secret_var: secretVar,
      ...(Object.hasOwn(o, 'when') && o['when'] !== undefined ? { when: o['when'] } : {}),
    };
  });
}

const secretColumns = [
  { header: 'name', value: (s: SecretResponse) => s.name },
  { header: 'parent', value: (s: SecretResponse) => s.parent_path },
  { header: 'id', value: (s: SecretResponse) => s.id },
];

const variableColumns = [
  { header: 'name', value: (v: VariableResponse) => v.name },
  { header: 'parent', value: (v: VariableResponse) => v.parent_path },
  {
    header: 'values',
    value: (v: VariableResponse) =>
      v.values.map((x) => `${x.secret_name}.${x.secret_var}`).join(', '),
  },
];

/** The options of the secret and variable commands (commander checks the required ones). */
interface ItemOptions {
  project?: string;
  projectgroup?: string;
  name: string;
  newName?: string;
  file: string;
  tree?: boolean;
  removeOverridden?: boolean;
}

/**
 * Adds `secret create|update|delete|list` and `variable create|update|delete|list` under
 * `parent` (`project` or `projectgroup`), with `--<flag> <ref>` naming the owner.
 */
export function registerItemCommands(parent: Command, kind: ItemParentKind): void {
  const flag = kind; // --project or --projectgroup
  const what = kind === 'project' ? 'project' : 'project group';
  const refOf = (opts: ItemOptions) =>
    (kind === 'project' ? opts.project : opts.projectgroup) ?? '';

  const secret = parent.command('secret').description(`manage a ${what}'s secrets`);
  secret
    .command('create')
    .description(`create a secret from a YAML map (--file, - for stdin)`)
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .requiredOption('-n, --name <name>', 'secret name', nameArg)
    .requiredOption('-f, --file <file>', 'YAML map of the secret data (- = stdin)')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        const data = secretDataOf(await readYamlInput(opts.file, 'the secret file'));
        const s = await clientFrom(cmd).createSecret(kind, refOf(opts), {
          name: opts.name,
          type: 'internal',
          data,
        });
        printItem(cmd, s, secretColumns);
      }),
    );
  secret
    .command('update')
    .description('replace a secret (its data, and its name with --new-name)')
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .requiredOption('-n, --name <name>', 'secret name')
    .option('--new-name <name>', 'new secret name', nameArg)
    .requiredOption('-f, --file <file>', 'YAML map of the secret data (- = stdin)')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        const data = secretDataOf(await readYamlInput(opts.file, 'the secret file'));
        const s = await clientFrom(cmd).updateSecret(kind, refOf(opts), opts.name, {
          name: opts.newName ?? opts.name,
          type: 'internal',
          data,
        });
        printItem(cmd, s, secretColumns);
      }),
    );
  secret
    .command('delete')
    .description('delete a secret')
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .requiredOption('-n, --name <name>', 'secret name')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        await clientFrom(cmd).deleteSecret(kind, refOf(opts), opts.name);
        printDone(cmd, `secret ${opts.name} deleted`);
      }),
    );
  secret
    .command('list')
    .description('list secrets (names only, never their data)')
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .option('--tree', "also the parents' secrets")
    .option('--remove-overridden', 'with --tree: drop the ones a nearer secret overrides')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        const list = await clientFrom(cmd).getSecrets(kind, refOf(opts), {
          tree: opts.tree === true,
          removeOverridden: opts.removeOverridden === true,
        });
        printList(cmd, list, secretColumns);
      }),
    );

  const variable = parent.command('variable').description(`manage a ${what}'s variables`);
  variable
    .command('create')
    .description('create a variable from a YAML list of values (--file, - for stdin)')
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .requiredOption('-n, --name <name>', 'variable name', nameArg)
    .requiredOption('-f, --file <file>', 'YAML list of {secret_name, secret_var, when} (- = stdin)')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        const values = variableValuesOf(await readYamlInput(opts.file, 'the variable file'));
        const v = await clientFrom(cmd).createVariable(kind, refOf(opts), {
          name: opts.name,
          values,
        });
        printItem(cmd, v, variableColumns);
      }),
    );
  variable
    .command('update')
    .description('replace a variable (its values, and its name with --new-name)')
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .requiredOption('-n, --name <name>', 'variable name')
    .option('--new-name <name>', 'new variable name', nameArg)
    .requiredOption('-f, --file <file>', 'YAML list of {secret_name, secret_var, when} (- = stdin)')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        const values = variableValuesOf(await readYamlInput(opts.file, 'the variable file'));
        const v = await clientFrom(cmd).updateVariable(kind, refOf(opts), opts.name, {
          name: opts.newName ?? opts.name,
          values,
        });
        printItem(cmd, v, variableColumns);
      }),
    );
  variable
    .command('delete')
    .description('delete a variable')
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .requiredOption('-n, --name <name>', 'variable name')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        await clientFrom(cmd).deleteVariable(kind, refOf(opts), opts.name);
        printDone(cmd, `variable ${opts.name} deleted`);
      }),
    );
  variable
    .command('list')
    .description('list variables')
    .requiredOption(`--${flag} <ref>`, `${what} id or path`)
    .option('--tree', "also the parents' variables")
    .option('--remove-overridden', 'with --tree: drop the ones a nearer variable overrides')
    .action(
      cliAction(async (opts: ItemOptions, cmd) => {
        const list = await clientFrom(cmd).getVariables(kind, refOf(opts), {
          tree: opts.tree === true,
          removeOverridden: opts.removeOverridden === true,
        });
        printList(cmd, list, variableColumns);
      }),
    );
}
