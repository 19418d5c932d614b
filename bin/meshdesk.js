#!/usr/bin/env node
// The `meshdesk` command. The CLI is TypeScript (core/cli.ts), run through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../core/cli.ts');
process.exitCode = await main(process.argv.slice(2));
