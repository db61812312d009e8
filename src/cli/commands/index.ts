import type { CliCommand } from '../command.js'
import { copyCommand } from './copy.js'
import { demoCommand } from './demo.js'
import { planCommand } from './plan.js'

/** Every `dbferry` command. A new command is a file in this folder and a line here. */
export const commands: CliCommand[] = [copyCommand, planCommand, demoCommand]
