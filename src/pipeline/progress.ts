/** Progress of a run, for `onProgress` and the CLI's progress bars. */
export type ProgressEvent =
  | { type: 'phase'; phase: 'connect' | 'introspect' | 'preflight' | 'prepare' | 'copy' | 'finalize' | 'objects' | 'verify' | 'done' }
  | { type: 'table-start'; table: string; total?: number }
  | {
      type: 'batch'
      table: string
      read: number
      written: number
      rejected: number
      dropped: number
      total?: number
      elapsedMs: number
    }
  | { type: 'table-end'; table: string; read: number; written: number; rejected: number; dropped: number; ms: number }
