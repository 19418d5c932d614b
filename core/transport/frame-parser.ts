/**
 * The socket.io parser of the cluster channel: msgpack frames (socket.io-msgpack-parser), with a
 * decoder that drops and reports a frame that does not decode instead of letting socket.io close
 * the connection over it: one bad frame is counted like any other malformed input (DESIGN §5).
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
