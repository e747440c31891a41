import { restoreMain } from '../src/backup/cli'

process.exit(await restoreMain(process.argv.slice(2)))
