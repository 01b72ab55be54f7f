// Checks presigned (query-string SigV4) S3 requests the way S3 does, so
// that a wrongly signed URL fails against the local stack as it would
// against AWS: the signature is recomputed with the stack's secret and
// compared; unknown key ids, expired or not-yet-valid URLs, lifetimes over
// 7 days and malformed parameters are refused with S3's status and code.
// Requests signed with an Authorization header are not checked (fauxqs
// ignores those); only URLs that carry X-Amz-Signature or X-Amz-Algorithm.
//
// Canonical request as S3 builds it for query auth: the path's segments
// decoded then encoded with the SigV4 rules ("/" kept, no normalisation),
// every query parameter but X-Amz-Signature encoded and sorted, the signed
// headers' values trimmed with inner spaces collapsed, and UNSIGNED-PAYLOAD.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_EXPIRES = 604800;
const CLOCK_SKEW_SECONDS = 15 * 60;

function awsEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function hmac(key, data) {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(s) {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? '');
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
}

class RequestError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const queryError = (message) => new RequestError(400, 'AuthorizationQueryParametersError', message);

/** The raw query pairs of a URL, decoded; throws on bad percent-encoding. */
function rawPairs(rawQuery) {
  const out = [];
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    try {
      out.push([decodeURIComponent(k), decodeURIComponent(v)]);
    } catch {
      throw queryError('the query string is not validly percent-encoded');
    }
  }
  return out;
}

/**
 * Verifies one presigned request. Returns null when it is fine (or not a
 * presigned request), else { status, code, message }.
 * @param {{method: string, url: string, headers: object}} req  url = path?query as received
 * @param {{region: string, secrets: Map<string,string>, now?: number}} cfg
 */
export function checkPresigned(req, cfg) {
  const q = req.url.indexOf('?');
  if (q < 0) return null;
  const rawPath = req.url.slice(0, q);
  let pairs;
  try {
    pairs = rawPairs(req.url.slice(q + 1));
  } catch (err) {
    return { status: err.status, code: err.code, message: err.message };
  }
  const get = (name) => {
    const found = pairs.filter(([k]) => k === name);
    if (found.length > 1) throw queryError(`${name} is given more than once`);
    return found[0]?.[1];
  };
  try {
    if (get('X-Amz-Signature') === undefined && get('X-Amz-Algorithm') === undefined) return null;
    const algorithm = get('X-Amz-Algorithm');
    const credential = get('X-Amz-Credential');
    const amzDate = get('X-Amz-Date');
    const expiresRaw = get('X-Amz-Expires');
    const signedHeaders = get('X-Amz-SignedHeaders');
    const signature = get('X-Amz-Signature');
    if ([algorithm, credential, amzDate, expiresRaw, signedHeaders, signature].includes(undefined)) {
      throw queryError(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    if (algorithm !== ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
    const scope = credential.split('/');
    if (scope.length !== 5 || scope[4] !== 'aws4_request' || scope[3] !== 's3') {
      throw queryError(`Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
    }
    const [keyId, day, region] = scope;
    if (region !== cfg.region) {
      throw queryError(`Error parsing the X-Amz-Credential parameter; the region '${region}' is wrong; expecting '${cfg.region}'`);
    }
    const secret = cfg.secrets.get(keyId);
    if (secret === undefined) {
      throw new RequestError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    }
    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt)) throw queryError('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
    if (day !== amzDate.slice(0, 8)) {
      throw queryError(`Error parsing the X-Amz-Credential parameter; incorrect date format "${day}". This date in the credential must be in the format "yyyyMMdd".`);
    }
    if (!/^\d{1,7}$/.test(expiresRaw)) throw queryError('X-Amz-Expires should be a number');
    const expires = Number(expiresRaw);
    if (expires < 1) throw queryError('X-Amz-Expires must be non-negative');
    if (expires > MAX_EXPIRES) throw queryError(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_EXPIRES}`);
    const now = cfg.now ?? Math.floor(Date.now() / 1000);
    if (signedAt - now > CLOCK_SKEW_SECONDS) throw new RequestError(403, 'AccessDenied', 'Request is not valid yet');
    if (now > signedAt + expires) throw new RequestError(403, 'AccessDenied', 'Request has expired');

    let canonicalUri;
    try {
      canonicalUri = rawPath
        .split('/')
        .map((seg) => awsEncode(decodeURIComponent(seg)))
        .join('/');
    } catch {
      throw new RequestError(400, 'InvalidURI', "Couldn't parse the specified URI.");
    }
    const canonicalQuery = pairs
      .filter(([k]) => k !== 'X-Amz-Signature')
      .map(([k, v]) => [awsEncode(k), awsEncode(v)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const names = signedHeaders.split(';');
    if (!names.includes('host')) throw queryError('X-Amz-SignedHeaders must include host');
    const canonicalHeaders = names
      .map((n) => {
        const v = req.headers[n];
        const value = Array.isArray(v) ? v.join(',') : (v ?? '');
        return `${n}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
      })
      .join('');
    const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n');
    const stringToSign = [ALGORITHM, amzDate, `${day}/${region}/s3/aws4_request`, sha256Hex(canonicalRequest)].join('\n');
    let k = hmac(`AWS4${secret}`, day);
    k = hmac(k, region);
    k = hmac(k, 's3');
    k = hmac(k, 'aws4_request');
    const expected = createHmac('sha256', k).update(stringToSign, 'utf8').digest('hex');
    const a = Buffer.from(expected);
    const b = Buffer.from(signature);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new RequestError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      );
    }
    return null;
  } catch (err) {
    if (err instanceof RequestError) return { status: err.status, code: err.code, message: err.message };
    throw err;
  }
}

/** Installs the check on a Fastify app (first, before any S3 handling). */
export function addPresignCheck(app, cfg, log = () => {}) {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return; // preflights carry no signature
    const url = request.raw.originalUrl ?? request.raw.url ?? request.url;
    const bad = checkPresigned({ method: request.method, url, headers: request.headers }, cfg);
    if (!bad) return;
    log('presigned request refused', bad.code, request.method, url.split('?')[0]);
    reply.code(bad.status).header('content-type', 'application/xml');
    reply.send(
      request.method === 'HEAD'
        ? undefined
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${bad.code}</Code><Message>${bad.message
            .replaceAll('&', '&amp;')
            .replaceAll('<', '&lt;')
            .replaceAll('>', '&gt;')}</Message></Error>`,
    );
    return reply;
  });
}
