/**
 * Pulls up to `depth` items ahead of the consumer, so reading the next batch overlaps writing this one.
 * Memory stays bounded by `depth` batches. Errors surface in order, at the item where they happened.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth = 1): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]()
  const pending: Promise<IteratorResult<T>>[] = []
  let finished = false
  const pull = () => {
    if (finished) return
    const p = it.next()
    // mark rejection handled here; it is re-thrown when the consumer reaches it
    p.catch(() => {})
    pending.push(p)
  }
  try {
    for (let i = 0; i <= depth; i++) pull()
    while (pending.length > 0) {
      const r = await pending.shift()!
      if (r.done) {
        finished = true
        return
      }
      pull()
      yield r.value
    }
  } finally {
    finished = true
    // let the source release what it holds (a cursor, a transaction)
    await it.return?.()
  }
}
