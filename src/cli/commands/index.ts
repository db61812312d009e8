import type { CliCommand } from '../command.js'
import { backupCommand, restoreCommand } from './backup.js'
import { compatCommand } from './compat.js'
import { completionCommand } from './completion.js'
import { copyCommand } from './copy.js'
import { demoCommand } from './demo.js'
import { initCommand } from './init.js'
import { planCommand } from './plan.js'
import { rewriteDumpCommand } from './rewrite-dump.js'
import { rejectsCommand } from './rejects.js'
import { splitCommand } from './split.js'
import { statusCommand } from './status.js'
import { verifyCommand } from './verify.js'
import { workerCommand } from './worker.js'

/** Every `dbferry` command. A new command is a file in this folder and a line here. */
export const commands: CliCommand[] = [copyCommand, planCommand, demoCommand, verifyCommand, backupCommand, restoreCommand, splitCommand, rejectsCommand, rewriteDumpCommand, compatCommand, completionCommand(() => commands), initCommand, workerCommand, statusCommand]
