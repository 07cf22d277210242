/**
 * @file hostile.ts
 * @brief A scriptable hostile client for the tests: it speaks our P2P wire from any loopback
 * address, claims any id, and sends whatever it is told (valid messages, forged ones, raw bytes).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { encode, peerFrameDecoder, decode, PeerMessage, Msg } from '../../src/protocol/peer';

/** One hostile connection. */
export class Hostile {
  /** Messages received, in order. */
  readonly got: PeerMessage[] = [];
  /** Resolves when the connection closed. */
  readonly closed: Promise<void>;
  private readonly decoder = peerFrameDecoder();

  private constructor(private readonly sock: net.Socket) {
    this.closed = new Promise((r) => sock.once('close', () => r()));
    sock.on('error', () => undefined);
    sock.on('data', (b: Buffer) => {
      try {
        for (const f of this.decoder.push(b)) this.got.push(decode(f.type, f.body));
      } catch {
        // the victim's bytes are fine; our own decoder gives up on nothing else
      }
    });
  }

  /**
   * @brief Connects from `local` to host:port and (unless `hello` is false) says HELLO as `id`.
   * @param host Victim address. @param port Its P2P port. @param local Our address.
   * @param hello The HELLO to send (fields override a plain one claiming `local`), or false.
   */
  static async open(host: string, port: number, local: string, hello: Partial<Msg<'hello'>> | false = {}): Promise<Hostile> {
    const sock = net.connect({ host, port, localAddress: local });
    await new Promise<void>((resolve, reject) => { sock.once('connect', () => resolve()); sock.once('error', reject); });
    const h = new Hostile(sock);
    if (hello !== false) {
      h.send({ type: 'hello', id: local, p2pPort: port, httpPort: 9093, slots: 2, channel: 0, direct: false, keyRequired: false, nonce: randomBytes(16), ...hello });
    }
    return h;
  }

  /** @brief Sends one message (encoded by our codec). */
  send(m: PeerMessage): void {
    for (const b of encode(m)) this.sock.write(b);
  }

  /** @brief Sends raw bytes. */
  raw(b: Buffer): void {
    this.sock.write(b);
  }

  /** @brief Stops reading (a reader that stopped: the victim's queue towards us grows). */
  stopReading(): void {
    this.sock.pause();
  }

  /** @brief Whether the victim closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.closed.then(() => true), new Promise<boolean>((res) => { timer = setTimeout(() => res(false), ms); })]);
    clearTimeout(timer);
    return r;
  }

  /** @brief Closes our end. */
  close(): void {
    this.sock.destroy();
  }
}
