import type { Command } from 'commander';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from '../cli/completion.js';
import { writeOut } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { enumArg } from '../cli/validate.js';

/** `agola completion bash|zsh`: the shell completion script, generated from the command tree. */
export const completionCommands: CommandModule = {
  register(program: Command) {
    program
      .command('completion')
      .description(
        'print the shell completion script (bash: source <(agola completion bash); zsh: source <(agola completion zsh))',
      )
      .argument('<shell>', COMPLETION_SHELLS.join(' or '), enumArg(COMPLETION_SHELLS))
      .action(
        cliAction(async (_opts, cmd) => {
          const shell = cmd.processedArgs[0] as CompletionShell;
          let root = cmd;
          while (root.parent) root = root.parent;
          writeOut(completionScript(root, shell));
        }),
      );
  },
};
