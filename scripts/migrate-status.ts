import { statusMain } from '../src/backup/cli'

process.exit(await statusMain(process.argv.slice(2)))
