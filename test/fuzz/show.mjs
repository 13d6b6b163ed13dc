// Prints one generated program and runs it in this process:  node test/fuzz/show.mjs SEED INDEX
import { generate } from './generate.mjs'
import { describeProgram, runProgram } from './run.mjs'

const [seed, index] = process.argv.slice(2).map(Number)
const prog = generate(seed, index)
console.log(describeProgram(prog))
console.log(await runProgram(prog))
