/**
 * The socket.io parsers of the cluster channel: msgpack frames (socket.io-msgpack-parser).
 *
 * - `createFrameParser` (clients: a node dialling a peer, a router dialling a controller): a frame
 *   that does not decode is dropped and reported instead of letting socket.io close the
 *   connection: one bad frame is counted like any other malformed input (DESIGN §5).
 * - `createGuardedFrameParser` (the cluster listener): the same once the connection has
 *   authenticated; before that, a frame that does not decode closes the connection, since a
 *   stranger's junk is not worth a log line per frame (admission.ts).
 */
import msgpackParser from 'socket.io-msgpack-parser';

export interface FrameParser {
  readonly Encoder: typeof msgpackParser.Encoder;
  readonly Decoder: typeof msgpackParser.Decoder;
}

export function createFrameParser(onUndecodable: (error: unknown) => void): FrameParser {
  class TolerantDecoder extends msgpackParser.Decoder {
    override add(obj: unknown): void {
      try {
        super.add(obj);
      } catch (error) {
        onUndecodable(error);
      }
    }
  }
  return { Encoder: msgpackParser.Encoder, Decoder: TolerantDecoder };
}

/** One connection's decoder as the listener sees it. */
export interface GuardedDecoder {
  /** Who sent it: set when the engine connection opens. */
  address: string;
  /** From now on an undecodable frame is dropped and reported, not fatal. */
  trusted: boolean;
}

export interface GuardedFrameParser extends FrameParser {
  /**
   * The decoder socket.io made last. socket.io makes a connection's decoder synchronously while
   * handling the engine's `connection` event, before listeners added after it run, so such a
   * listener claims the decoder of the connection it is handed. Undefined once claimed.
   */
  claimLatest(): GuardedDecoder | undefined;
}

export function createGuardedFrameParser(
  onUndecodable: (error: unknown, decoder: GuardedDecoder) => void,
): GuardedFrameParser {
  let latest: GuardedDecoder | undefined;
  const made = (decoder: GuardedDecoder): void => {
    latest = decoder;
  };
  class Decoder extends msgpackParser.Decoder implements GuardedDecoder {
    address = 'unknown';
    trusted = false;

    constructor() {
      super();
      made(this);
    }

    override add(obj: unknown): void {
      try {
        super.add(obj);
      } catch (error) {
        onUndecodable(error, this);
        // socket.io closes the connection over a decoder that throws.
        if (!this.trusted) throw error;
      }
    }
  }
  return {
    Encoder: msgpackParser.Encoder,
    Decoder,
    claimLatest: () => {
      const claimed = latest;
      latest = undefined;
      return claimed;
    },
  };
}
