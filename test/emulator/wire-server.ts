/**
 * A PostgreSQL wire-protocol server (protocol 3.0) on a TCP listener. It knows nothing about
 * CockroachDB: a `WireHandler` (wire.ts) prepares statements and runs them; each accepted socket is a
 * Connection (wire-connection.ts). Backend messages are built with pg-protocol's Writer; frontend
 * messages are read by hand (wire-messages.ts).
 */
import net from 'node:net'
import { Connection } from './wire-connection.js'
import type { TlsConfig, WireHandler } from './wire.js'

export interface WireServerOptions {
  host: string
  handler: WireHandler
  tls: TlsConfig | undefined
}

/** A listener that can stop and start again on the same port, and the live sockets it accepted. */
export class WireServer {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  private nextProcessId = 1

  constructor(private readonly options: WireServerOptions) {}

  get listening(): boolean {
    return this.server?.listening ?? false
  }

  /** Listens on `port` (0 = any free port); resolves to the port. */
  listen(port: number): Promise<number> {
    const server = net.createServer(socket => this.accept(socket))
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, this.options.host, () => {
        server.off('error', reject)
        const address = server.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  }

  /** Stops accepting connections at once (new ones get ECONNREFUSED); live connections carry on. */
  stopListening(): void {
    // close() only calls back once every connection has ended; the listening socket goes at once.
    this.server?.close()
    this.server = undefined
  }

  /** Stops listening and destroys every connection; resolves when the listener is gone. */
  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    this.dropConnections()
    if (server?.listening) await new Promise<void>(resolve => server.close(() => resolve()))
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
  }

  get connectionCount(): number {
    return this.sockets.size
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true)
    this.track(socket)
    new Connection(socket, this.options.handler, this.options.tls, this.nextProcessId++, s => this.track(s))
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }
}
