// Builds the messages Amazon S3 sends to an SQS queue for bucket event
// notifications: the event message structure (eventVersion 2.1) and the
// s3:TestEvent sent when a notification configuration is saved.
import { randomBytes } from 'node:crypto';

// Characters S3 leaves as they are in the notification's object key. S3
// form-urlencodes the key (a space becomes "+", "+" becomes "%2B", other
// bytes of the UTF-8 encoding become %XX) but keeps "/" as it is.
const KEEP = /^[A-Za-z0-9\-_.*/]$/;

export function encodeEventKey(key) {
  let out = '';
  for (const ch of key) {
    if (KEEP.test(ch)) {
      out += ch;
    } else if (ch === ' ') {
      out += '+';
    } else {
      for (const byte of Buffer.from(ch, 'utf8')) {
        out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
      }
    }
  }
  return out;
}

// The inverse, as a consumer of the events has to do it.
export function decodeEventKey(encoded) {
  return decodeURIComponent(encoded.replaceAll('+', ' '));
}

// S3 sequencers are hex strings (18 digits in practice, e.g. "0062B9D834A809629F":
// "00", the event's Unix time in seconds as 8 digits, then 8 more digits).
// A later event on the same key has a greater value. This one is
// strictly increasing over the whole process, so it is per key too.
export function makeSequencer() {
  let last = 0n;
  return function next() {
    const seconds = BigInt(Math.floor(Date.now() / 1000));
    let value = seconds << 32n;
    if (value <= last) value = last + 1n;
    last = value;
    return value.toString(16).toUpperCase().padStart(18, '0');
  };
}

export function requestId() {
  // 16 upper-case alphanumerics, like x-amz-request-id.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let out = '';
  for (const b of randomBytes(16)) out += alphabet[b % alphabet.length];
  return out;
}

export function hostId() {
  return randomBytes(48).toString('base64');
}

/**
 * One record of an S3 event notification.
 * @param {object} o
 * @param {string} o.region
 * @param {string} o.eventName  e.g. "ObjectCreated:Put", "ObjectRemoved:Delete"
 * @param {string} o.bucket
 * @param {string} o.key        the raw object key (encoded here)
 * @param {number} [o.size]     created events only
 * @param {string} [o.eTag]     created events only, with or without quotes
 * @param {string} o.sequencer
 * @param {string} o.sourceIp
 * @param {string} o.requestId
 * @param {string} o.hostId
 * @param {string} o.principalId
 * @param {string} o.ownerId
 * @param {string} o.configurationId
 */
export function eventRecord(o) {
  const object = { key: encodeEventKey(o.key) };
  if (o.size !== undefined) object.size = o.size;
  if (o.eTag !== undefined) object.eTag = String(o.eTag).replaceAll('"', '');
  object.sequencer = o.sequencer;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: o.region,
    eventTime: new Date().toISOString(),
    eventName: o.eventName,
    userIdentity: { principalId: o.principalId },
    requestParameters: { sourceIPAddress: o.sourceIp },
    responseElements: { 'x-amz-request-id': o.requestId, 'x-amz-id-2': o.hostId },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: o.configurationId,
      bucket: {
        name: o.bucket,
        ownerIdentity: { principalId: o.ownerId },
        arn: `arn:aws:s3:::${o.bucket}`,
      },
      object,
    },
  };
}

export function testEvent(bucket) {
  return {
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date().toISOString(),
    Bucket: bucket,
    RequestId: requestId(),
    HostId: hostId(),
  };
}
