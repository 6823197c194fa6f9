#!/usr/bin/env node
// argv -> cli; nothing else.
import { run } from './cli/index.js'

process.exitCode = await run(process.argv)
