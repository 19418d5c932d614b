/**
 * The `meshdesk` command. Every subcommand answers `--help`; bad arguments exit 2 with one line
 * saying what is wrong (DESIGN.md section 4).
 */
const USAGE = `usage: meshdesk <command> [options]

commands:
  help      show this help

The node commands (start, lab, cluster, backup, restore) arrive with the running node.`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  process.stderr.write(`meshdesk: unknown command '${command}' (see meshdesk --help)\n`);
  return 2;
}
