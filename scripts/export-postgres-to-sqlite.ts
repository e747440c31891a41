// Writes the PostgreSQL data as a legacy GearBox SQLite file; `--help` explains it (src/import/cli.ts).
import { exportMain } from '../src/import/cli'

process.exitCode = await exportMain(process.argv.slice(2))
