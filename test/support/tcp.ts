import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net'

/** Fails (instead of hanging the suite) when `promise` has not settled within `ms`. */
export async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms)))
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A TCP server on 127.0.0.1 that accepts every connection and never sends a byte. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  const port = await listen(server)
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/**
 * A TCP proxy on 127.0.0.1 to a server's port. `freezeAfter(n)` lets n more bytes through (both ways together,
 * all connections) and then stops forwarding and reading, leaving every socket open: what a client sees of a
 * server stopped with SIGSTOP. `cutAll()` closes every connection (the frozen server's sessions end, as when it
 * is restarted); `thaw()` forwards everything again on new connections.
 */
export async function freezingProxy(upstreamPort: number, upstreamHost = '127.0.0.1') {
  const pairs = new Set<[Socket, Socket]>()
  let budget = Infinity
  let frozen = 0
  const server = createServer((client) => {
    const upstream = tcpConnect(upstreamPort, upstreamHost)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (budget <= 0) {
          frozen++
          from.pause()
          return
        }
        const part = chunk.length <= budget ? chunk : chunk.subarray(0, budget)
        budget -= part.length
        to.write(part)
        if (budget <= 0) from.pause()
      })
      from.on('error', () => {})
      from.on('close', () => {
        if (budget > 0) to.destroy()
      })
    }
    pipe(client, upstream)
    pipe(upstream, client)
  })
  const port = await listen(server)
  return {
    port,
    freezeAfter(bytes: number) {
      budget = bytes
    },
    get frozen() {
      return budget <= 0 || frozen > 0
    },
    cutAll() {
      for (const [a, b] of pairs) {
        a.destroy()
        b.destroy()
      }
      pairs.clear()
    },
    thaw() {
      budget = Infinity
      frozen = 0
    },
    async close() {
      this.cutAll()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
