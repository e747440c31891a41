// One-time import of a legacy GearBox SQLite file; `--help` explains it (src/import/cli.ts).
import { main } from '../src/import/cli'

process.exitCode = await main(process.argv.slice(2))
