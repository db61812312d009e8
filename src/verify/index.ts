export { verify, type VerifyOptions, type VerifyReport, type TableVerification, type RowKeyObject, type VerifyHashing } from './verify.js'
export { columnNormalizer, toleranceFor, type ColumnTolerance, type Tolerances, type ColumnNormalizer } from './normalize.js'
export { formatVerifyReport } from './format.js'
export { buildExpectations, type CopyExpectations, type TableExpectations, type ExpectationEntry, type ExpectationRunReport } from './expectations.js'
