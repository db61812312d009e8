/** Progress of a run, for `onProgress` and the CLI's progress display. */
export type ProgressEvent =
  | {
      type: 'phase'
      phase: 'connect' | 'introspect' | 'preflight' | 'prepare' | 'copy' | 'finalize' | 'objects' | 'verify' | 'done'
      /** `copy` only: how many tables the run copies, those a resumed run finished included. */
      tables?: number
      /** `copy` only: tables an interrupted run finished, which this run (resuming it) does not copy again. */
      done?: number
      /** `copy` only: the source rows the run expects, the sum of every table's estimate. Absent: a table has none. */
      rows?: number
    }
  | {
      type: 'table-start'
      table: string
      total?: number
      /** Rows already read by the interrupted run this one resumes; `read` in later events includes them. Default 0. */
      carried?: number
    }
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
  | {
      /**
       * With several jobs: a loaded table's secondary indexes, foreign keys and identity position were made while
       * other tables still load (the finishing step then finds them made). `ok` false: it failed there, and the
       * finishing step makes and reports them.
       */
      type: 'table-finalized'
      table: string
      ms: number
      ok: boolean
    }
  | {
      /** A queue run (`queue`): its id, the queue database (no password) and the chunk jobs it enqueued. */
      type: 'queue'
      run: string
      queue: string
      chunks: number
    }
  | {
      type: 'table-end'
      table: string
      read: number
      written: number
      rejected: number
      dropped: number
      ms: number
      /** `done`: every row accounted for; `failed`: stopped (an error or an abort) before its last row. */
      status?: 'done' | 'failed'
    }
