import { validateMain } from '../src/backup/cli'

process.exit(await validateMain(process.argv.slice(2)))
