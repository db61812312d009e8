import { pairsFrom } from './pairs.js'

await pairsFrom('mysql')
