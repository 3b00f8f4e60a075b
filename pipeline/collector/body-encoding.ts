import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { mwError } from '../core/errors.js';

/** the Content-Encodings a sensor may send its bodies in (log shippers such as Vector and Fluent Bit gzip theirs) */
const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
};

/**
 * Takes gzip and deflate bodies on every route of `app` (the collector and the receivers on it): the body is
 * decompressed before its parser reads it, so the route's body limit holds for the decompressed bytes (a small bomb
 * is a 413 like a large body) while Content-Length is checked against the bytes sent. Another encoding is a 415
 * naming the ones taken; a body that does not decompress is a 400.
 */
export function acceptEncodedBodies(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    if (encoding === '' || encoding === 'identity') return payload;
    const decoder = DECODERS[encoding];
    if (!decoder) {
      throw mwError('UNSUPPORTED_ENCODING', `Content-Encoding ${encoding}: send gzip, deflate or none`);
    }
    return decoded(payload, decoder(), encoding);
  });
}

function decoded(payload: Readable, decoder: NodeJS.ReadWriteStream, encoding: string): Readable {
  // Fastify checks Content-Length against receivedEncodedLength when the stream it reads has one
  const out = Object.assign(new PassThrough(), { receivedEncodedLength: 0 });
  payload.on('data', (chunk: Buffer) => {
    out.receivedEncodedLength += chunk.length;
  });
  decoder.on('error', (err: Error) =>
    out.destroy(mwError('BAD_REQUEST', `the ${encoding} body does not decompress: ${err.message}`)),
  );
  payload.on('error', (err: Error) => out.destroy(err));
  payload.pipe(decoder).pipe(out);
  return out;
}
