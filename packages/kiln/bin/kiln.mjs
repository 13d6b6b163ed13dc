#!/usr/bin/env node
// The `kiln` command: `kiln cache ls | stats | clear | verify`.
import { main } from '../dist/cli.js'

process.exitCode = await main(process.argv.slice(2))
