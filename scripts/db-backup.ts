import { backupMain } from '../src/backup/cli'

process.exit(await backupMain(process.argv.slice(2)))
