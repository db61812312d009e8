import { pairsFrom } from './pairs.js'

await pairsFrom('duckdb')
