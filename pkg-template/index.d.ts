// Type definitions for oss-append: append uploads to Alibaba Cloud OSS, ali-oss compatible.

/** A whole number given as a JS number, a decimal string (e.g. an earlier `nextAppendPosition`) or a bigint. */
export type IntegerLike = number | string | bigint;

/**
 * Credentials as `refreshSTSToken` returns them: ali-oss's names, or those of an STS AssumeRole answer
 * (`AccessKeyId`, `AccessKeySecret`, `SecurityToken`).
 */
export type STSCredentials = STSTokenNames & (
  | { accessKeyId: string; accessKeySecret: string }
  | { AccessKeyId: string; AccessKeySecret: string }
);

/** The STS token of `STSCredentials`, under any of the names ali-oss accepts (the first one given counts). */
export interface STSTokenNames {
  stsToken?: string;
  securityToken?: string;
  SecurityToken?: string;
  StsToken?: string;
}

export interface OSSOptions {
  /** `oss-cn-hangzhou` or `cn-hangzhou`. Required for V4 unless it can be derived from `endpoint`. */
  region?: string;
  bucket: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** An STS security token; sent as `x-oss-security-token`. */
  stsToken?: string;
  /**
   * Called for fresh credentials when OSS reports an expired or invalid token, and every `refreshSTSTokenInterval`.
   * A call waits for it at most `timeout` (and stops at its abort signal); one that never settles fails those calls
   * with a RequestError, and the next call asks again.
   */
  refreshSTSToken?: () => STSCredentials | Promise<STSCredentials>;
  /** Milliseconds between scheduled refreshes. Default 300000. */
  refreshSTSTokenInterval?: number;
  /** Any http(s) URL, e.g. `https://oss-cn-hangzhou.aliyuncs.com` or a local emulator. */
  endpoint?: string;
  /** The endpoint is the bucket's own domain (`/key` on the endpoint host). */
  cname?: boolean;
  /** https (default true). */
  secure?: boolean;
  /** Use the internal (VPC) endpoint of `region`. */
  internal?: boolean;
  /** `/bucket/key` on the endpoint host instead of `bucket.host`. */
  pathStyle?: boolean;
  /** ali-oss's name for `pathStyle`, accepted too. */
  sldEnable?: boolean;
  /** The CloudBox id, for OSS on CloudBox (signs with product `oss-cloudbox`). */
  cloudBoxId?: string;
  /** Signature V4 (default `true`); `false` selects V1, ali-oss's default. */
  authorizationV4?: boolean;
  /** Per-request timeout in milliseconds. Default 60000. */
  timeout?: number;
  /** Retries after the first attempt. Default 3. */
  retryMax?: number;
  /**
   * Sign appends that need no request header in their URL (a short-lived presigned POST) instead of in headers,
   * so a browser sends them as CORS simple requests, without a preflight: one round trip per append instead of
   * two. The first append of an object (with its Content-Type) and appends with headers or Content-MD5 stay
   * header-signed. `'auto'` (default): in browsers and workers only; `true`: everywhere; `false`: never.
   */
  querySign?: 'auto' | boolean;
  /** Node: the directory that holds spools, for `openAppender`, `listUnfinished` and `discardSpool` that name none. */
  spoolDir?: string;
}

/** Extra request headers, e.g. `Cache-Control`, `Content-Disposition`, `x-oss-object-acl`, `x-oss-storage-class`. */
export type RequestHeaders = Record<string, string>;

/** User metadata, sent as `x-oss-meta-<key>` headers. */
export type UserMeta = Record<string, string | number>;

export interface ProgressInfo {
  /** Bytes of this call acknowledged by OSS so far. */
  loaded: number;
  /** Bytes in all, when known up front; null for streams and for a live appender. */
  total: number | null;
  /** The object's length after the last acknowledged append. */
  position: string;
}

/** What `append` and `put` read. In Node also a local file path and a Node `Readable`. */
export type AppendInput =
  | Blob
  | ArrayBuffer
  | ArrayBufferView
  | ReadableStream<Uint8Array>
  | string
  | NodeReadableLike;

/** A Node.js `stream.Readable` (declared structurally so that browser projects need no Node types). */
export interface NodeReadableLike {
  pipe: (...args: any[]) => any;
  on: (...args: any[]) => any;
  read: (...args: any[]) => any;
}

export interface AppendOptions {
  /** Where the append starts: the object's current length. Default 0 (which creates the object). */
  position?: IntegerLike;
  /** Extra headers; creation attributes (Content-Type, Cache-Control, x-oss-meta-*, ...) count only at position 0. */
  headers?: RequestHeaders;
  meta?: UserMeta;
  /** Content-Type; by default derived from the object key's extension. */
  mime?: string;
  /** Inputs larger than this go out as several sequential appends. Default 8 MiB. */
  partSize?: number;
  /** `p` in [0, 1]. Never goes backwards. */
  progress?: (p: number, info: ProgressInfo) => void;
  signal?: AbortSignal;
  /** The whole object's CRC-64 before this append (decimal string or bigint), to verify appends at a position > 0. */
  initCrc64?: string | bigint;
  /**
   * Per-request timeout in milliseconds; overrides the client's. It also bounds reading each part of a Blob or file
   * (a stalled disk or share fails the call with a RequestError); a stream's next chunk is waited for without limit.
   */
  timeout?: number;
}

export interface PutOptions {
  headers?: RequestHeaders;
  meta?: UserMeta;
  mime?: string;
  signal?: AbortSignal;
  /** Per-request timeout in milliseconds; overrides the client's. It also bounds reading a Blob or file. */
  timeout?: number;
}

/** Options of `sealAppend`, and what `head`, `get` and `delete` share. They send no extra headers. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Per-request timeout in milliseconds; overrides the client's. */
  timeout?: number;
}

/** Options of `head` and `delete`; `versionId` addresses one version on a versioned bucket. */
export interface VersionOptions extends RequestOptions {
  /** `'null'` (an appendable object's version) or an `x-oss-version-id` a put or delete returned. */
  versionId?: string;
}

export interface GetOptions extends VersionOptions {
  /** A byte range, end inclusive: `'bytes=0-99'`, `'0-99'`, `'100-'` or `{ start, end? }`. */
  range?: string | { start: IntegerLike; end?: IntegerLike };
}

/** The response part of every result, as in ali-oss (`NormalSuccessResponse`). */
export interface ResponseInfo {
  status: number;
  /** The same as `status`, as in ali-oss. */
  statusCode: number;
  /** Response headers with lower-case names. */
  headers: Record<string, string>;
  /** Response body size in bytes. */
  size: number;
  /** Round-trip time in milliseconds. */
  rt: number;
  requestUrls: string[];
}

export interface AppendResult {
  /** The object key. */
  name: string;
  /** The object URL, without query. */
  url: string;
  res: ResponseInfo;
  /** The object's new length, a decimal string: pass it as the next `position`. */
  nextAppendPosition: string;
  /** CRC-64 of the whole object (decimal string), verified against the bytes sent. */
  crc64: string;
  /** Only when versioning is on: always `'null'`, as appends make no new version. */
  versionId?: string;
}

export interface PutResult {
  name: string;
  url: string;
  res: ResponseInfo;
  /** CRC-64 of the object (decimal string), verified against the bytes sent. */
  crc64: string;
  /** Only when versioning is on: the new version's id (`'null'` on a suspended bucket). */
  versionId?: string;
}

export interface HeadResult {
  status: number;
  /** User metadata (`x-oss-meta-*` without the prefix). */
  meta: Record<string, string>;
  res: ResponseInfo;
  /** `Appendable`, `Normal` or `Multipart`; null when the response does not say. */
  objectType: string | null;
  /** The object's length, for appendable objects (the key is there, `undefined`, for others). */
  nextAppendPosition?: string;
  /** The object's CRC-64 (decimal string), when OSS reports it. */
  crc64?: string;
  /** Only when versioning is on: the version read (`'null'` for an appendable object). */
  versionId?: string;
}

export interface GetResult {
  /** The bytes (a Uint8Array in Node and in browsers, not a Buffer). */
  content: Uint8Array;
  res: ResponseInfo;
}

export interface DeleteResult {
  res: ResponseInfo;
  /** Only when versioning is on: the delete marker made, or the version removed. */
  versionId?: string;
  /** `true` when a delete marker was made (or removed, with `versionId`). */
  deleteMarker?: true;
}

export interface SealAppendResult {
  res: ResponseInfo;
  /** When the object was sealed, as OSS reports it (`x-oss-sealed-time`); absent when the response does not say. */
  sealedTime?: string;
}

export interface SignatureUrlOptions {
  method?: 'GET' | 'PUT' | 'POST' | 'HEAD' | 'DELETE';
  /** Seconds until the URL expires. Default 1800. */
  expires?: number;
  'Content-Type'?: string;
  'Content-MD5'?: string;
  /** Sub-resources to sign, e.g. `{ append: '', position: '0' }`. */
  subResource?: Record<string, string>;
  /** `response-*` overrides, e.g. `{ 'content-disposition': 'attachment' }`. */
  response?: Record<string, string>;
  process?: string;
  /** Bits per second, signed as `x-oss-traffic-limit`. */
  trafficLimit?: IntegerLike;
}

export interface SignatureUrlV4Request {
  headers?: Record<string, string>;
  /** Query parameters; flags such as `append` take `null`. */
  queries?: Record<string, string | null>;
}

export interface OpenAppenderOptions {
  /**
   * `'resume'` continues an existing appendable object after one HEAD (a missing object starts at 0); otherwise the
   * starting position. Default 0.
   */
  position?: 'resume' | IntegerLike;
  /** The most one append request carries. Default 8 MiB. */
  partSize?: number;
  /** Writes are coalesced until this many bytes before an append is sent. Default 64 KiB. */
  minPartSize?: number;
  /** Milliseconds small writes wait for more before they go out anyway. Default 1000. */
  flushInterval?: number;
  /** Creation attributes, sent with the append at position 0 only. */
  headers?: RequestHeaders;
  meta?: UserMeta;
  mime?: string;
  progress?: (p: number, info: ProgressInfo) => void;
  signal?: AbortSignal;
  /** The object's CRC-64 at `position` (decimal string or bigint), so that every part is verified. */
  initCrc64?: string | bigint;
  timeout?: number;
  /**
   * The most accepted-but-unconfirmed bytes held (during an outage they pile up). A `write()` past it rejects with
   * `BufferFullError` and nothing accepted before is dropped; `writable` waits for room instead. Default 64 MiB.
   */
  maxBuffered?: number;
  /** Milliseconds: the cap of the backoff between attempts while OSS is unreachable. Default 30000. */
  maxRetryDelay?: number;
  /**
   * Milliseconds without a confirmed part, while attempts fail, after which the appender fails with `GaveUpError`.
   * Default `Infinity`: transient failures never fail it.
   */
  giveUpAfter?: number;
  /** Called with the new `state` on every change. */
  onStateChange?: (state: AppenderStateName) => void;
  /** Called when a part failed transiently and is tried again after `delayMs`. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Keeps every accepted byte in a local spool with this id (1-128 of `A-Za-z0-9._-`) until OSS confirms it:
   * OPFS (IndexedDB where OPFS is missing) in browsers, files under `spoolDir` in Node. Opening the same id again
   * after a reload or a crash sends the spooled bytes first (an existing spool implies `position: 'resume'`; a new one
   * starts at `position` when its CRC-64 is known, else where the object ends).
   */
  spool?: string;
  /** The most unconfirmed bytes a spool holds; a write past it rejects with `BufferFull`. Default 4 GiB. */
  maxSpool?: number;
  /** Node: the directory that holds spools (also a client option). Default: the user's state directory. */
  spoolDir?: string;
}

/** A spool with bytes OSS has not confirmed, as `listUnfinished()` reports it. */
export interface UnfinishedSpool {
  /** The spool id. */
  spool: string;
  /** The object key. */
  name: string;
  /** The object's confirmed length where the spooled bytes start (decimal string). */
  position: string;
  /** Spooled bytes not confirmed on OSS. */
  pending: number;
  updatedAt: Date;
}

/** Where a live appender is: `retrying` from a transient failure until a part is confirmed again. */
export type AppenderStateName = 'open' | 'retrying' | 'closing' | 'closed' | 'failed' | 'aborted';

export interface RetryInfo {
  /** 1 for the first retry since the last confirmed part. */
  attempt: number;
  /** How long the appender waits before trying again (capped exponential backoff with full jitter; the cap while offline). */
  delayMs: number;
  /** What failed: a network error, a timeout, a 5xx or a 429. */
  error: OSSError;
  /** Accepted bytes not yet confirmed. */
  buffered: number;
}

/** What `close()` resolves to. */
export interface AppenderState {
  /** The object key. */
  name: string;
  nextAppendPosition: string;
  /**
   * The object's CRC-64 (decimal string). Null, as the `crc64` getter, only while none is known; close() confirms an
   * append (an empty one when nothing was written), whose answer carries it.
   */
  crc64: string | null;
}

/**
 * A live append target: writes go out in order, coalesced, each byte exactly once. Network errors, timeouts, 5xx and
 * 429 (and a browser that is offline) never fail it: it keeps every accepted byte and tries again, at once on the
 * `online` event or `retryNow()`. A fatal failure rejects every pending call with an error that carries `unsent`.
 */
export interface Appender {
  /**
   * Queues bytes after everything written before; resolves when they are on the object. Rejects with
   * `BufferFullError` when they would take `buffered` past `maxBuffered` (the appender goes on).
   */
  write(chunk: Blob | ArrayBuffer | ArrayBufferView): Promise<void>;
  /** Sends everything queued; resolves when it is on the object. */
  flush(): Promise<void>;
  /** Flushes and ends the appender once everything is on the object, however long an outage lasts; later writes reject. */
  close(): Promise<AppenderState>;
  /** Stops at once in every state, a retry wait included: pending calls reject with AbortError; what is on the object stays. */
  abort(reason?: unknown): Promise<void>;
  /** While retrying: tries the waiting part now instead of after the backoff. Returns whether it did. */
  retryNow(): boolean;
  /** `'open' | 'retrying' | 'closing' | 'closed' | 'failed' | 'aborted'`. */
  readonly state: AppenderStateName;
  /** Accepted bytes not yet confirmed on the object. */
  readonly buffered: number;
  /** Resolves when fewer than `partSize` bytes wait to be sent (backpressure for fast producers). */
  ready(): Promise<void>;
  /** The object's length after the last confirmed part (decimal string). */
  readonly position: string;
  /** The object's CRC-64 at `position` (decimal string), or null when unknown. */
  readonly crc64: string | null;
  /** Bytes written but not yet on the object (the same as `buffered`). */
  readonly pending: number;
  /**
   * The same target as a WHATWG WritableStream, e.g. for `readable.pipeTo(appender.writable)`; a chunk that would pass
   * `maxBuffered` waits for room (backpressure) instead of failing.
   */
  readonly writable: WritableStream<Blob | ArrayBuffer | ArrayBufferView>;
  /** Bytes written since opening that are safe in the spool or confirmed on the object. */
  readonly spooled: number;
  /** Releases the handle's WebAssembly memory at once (otherwise the garbage collector does); it is unusable after. */
  free(): void;
}

/** Every rejection is an `Error` with these fields, shaped like ali-oss's. No secret ever appears in it. */
export interface OSSError extends Error {
  /** `<Code>Error` (e.g. `PositionNotEqualToLengthError`), `AbortError`, `RequestError`, `ConnectionTimeoutError`. */
  name: string;
  /**
   * OSS's error code (`PositionNotEqualToLength`, `ObjectNotAppendable`, `SignatureDoesNotMatch`, ...) or ours:
   * `InvalidArgument`, `CrcMismatch`, `Aborted`, `MissingExposedHeader`, `ObjectTooLarge`, `RequestError`,
   * `ConnectionTimeoutError`, `InvalidResponse`, `BufferFull` (an appender's write past `maxBuffered`, or past
   * `maxSpool` or the storage quota with a spool), `GaveUp` (an appender's `giveUpAfter` passed; `cause` is the last
   * failure), `SpoolMismatch` (a reopened spool's object no longer continues it; the spool is kept).
   */
  code: string;
  /** A spooled appender's failure: the id of the spool that keeps its unconfirmed bytes. */
  spool?: string;
  /** The HTTP status; -1 for a network error, -2 for a timeout; absent for errors raised before sending. */
  status?: number;
  requestId?: string;
  hostId?: string;
  /** OSS's `EC` error detail code. */
  ecCode?: string;
  /**
   * From a 409 or a CRC mismatch: the object's length on the server (decimal string). From an `append()` that failed
   * after some parts landed: the length after its last confirmed part, to continue with `{ position, initCrc64 }`.
   */
  nextAppendPosition?: string;
  /** The whole-object CRC-64 at `nextAppendPosition` (decimal string). */
  crc64?: string;
  /** A failed appender's error: every accepted byte not confirmed on the object, in order. */
  unsent?: Blob;
  /**
   * `GaveUp`: the last transient failure (an `OSSError`). An `InvalidArgument` for a Node file path that cannot be
   * opened: the file system's error.
   */
  cause?: OSSError | Error;
  /** `CrcMismatch`: the CRC-64 the client expected and the one the server reported. */
  localCrc64?: string;
  serverCrc64?: string;
  /** `MissingExposedHeader`: the headers the bucket's CORS rule must expose. */
  missingHeaders?: string[];
  /** `RequestTimeTooSkewed`: the server's time. */
  serverTime?: string;
  /** The request that failed, without its body. */
  params?: Record<string, unknown>;
}

export declare class OSS {
  constructor(options: OSSOptions);
  /** AppendObject; long inputs become several sequential appends. */
  append(name: string, file: AppendInput, options?: AppendOptions): Promise<AppendResult>;
  /** PutObject (creates a Normal object, which cannot be appended to). */
  put(name: string, file: AppendInput, options?: PutOptions): Promise<PutResult>;
  /** The bucket this client addresses. */
  readonly bucket: string;
  head(name: string, options?: VersionOptions): Promise<HeadResult>;
  get(name: string, options?: GetOptions): Promise<GetResult>;
  delete(name: string, options?: VersionOptions): Promise<DeleteResult>;
  /** SealAppendObject: no further appends are accepted at or after `position`. */
  sealAppend(name: string, position: IntegerLike, options?: RequestOptions): Promise<SealAppendResult>;
  /** A V1 presigned URL. */
  signatureUrl(name: string, options?: SignatureUrlOptions): string;
  /** As `signatureUrl`, after refreshing STS credentials when `refreshSTSTokenInterval` has passed. */
  asyncSignatureUrl(name: string, options?: SignatureUrlOptions): Promise<string>;
  /**
   * A V4 presigned URL. `additionalHeaders` names request headers (given in `request.headers`) that are signed
   * too, as in ali-oss.
   */
  signatureUrlV4(
    /** `GET`, `PUT`, `POST`, `HEAD` or `DELETE`, in any case. */
    method: string,
    expiresSeconds: IntegerLike,
    request?: SignatureUrlV4Request,
    name?: string,
    additionalHeaders?: string[],
  ): Promise<string>;
  /** Opens a live append target for sources that produce data over time (MediaRecorder, a growing file). */
  openAppender(name: string, options?: OpenAppenderOptions): Promise<Appender>;
  /** The spools of this client's bucket and endpoint that hold unconfirmed bytes. */
  listUnfinished(options?: { spoolDir?: string }): Promise<UnfinishedSpool[]>;
  /** Deletes a spool and its bytes. */
  discardSpool(id: string, options?: { spoolDir?: string }): Promise<void>;
  /** Releases the client's WebAssembly memory at once (otherwise the garbage collector does); it is unusable after. */
  free(): void;
}

export default OSS;

/** CRC-64/XZ (as OSS's `x-oss-hash-crc64ecma`) of the bytes, or of a string's UTF-8; a decimal string. */
export declare function crc64(data: ArrayBuffer | ArrayBufferView | string): string;

/** Streaming CRC-64/XZ. */
export declare class Crc64 {
  /** `initCrc` continues from the CRC of the bytes before (decimal string). */
  constructor(initCrc?: string | bigint);
  update(data: ArrayBuffer | ArrayBufferView | string): void;
  /** The CRC-64 of everything so far (decimal string). */
  digest(): string;
  /** Bytes fed so far. */
  readonly length: number;
  free(): void;
}

/** CRC-64 of A‖B from crc(A), crc(B) and B's length. */
export declare function combineCrc64(crcA: string | bigint, crcB: string | bigint, lenB: IntegerLike): string;
