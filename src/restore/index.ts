import { runRestore } from './run.js'

void runRestore()
