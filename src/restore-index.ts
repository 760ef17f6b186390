import { runRestore } from './restore-main.js'

void runRestore()
