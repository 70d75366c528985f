import { z } from 'zod';

// Every object is strict: a misspelt key is an error that names it, not a silently ignored setting.

const backoff = (initialDelayMs: number, maxDelayMs: number) =>
  z
    .strictObject({
      initialDelayMs: z.int().min(1).default(initialDelayMs),
      maxDelayMs: z.int().min(1).default(maxDelayMs),
    })
    .prefault({});

const tlsFields = {
  /** PEM bundle of the CA(s) that signed the server certificate; the system store when unset. */
  caFile: z.string().min(1).optional(),
  /** Client certificate and key for mutual TLS. */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  rejectUnauthorized: z.boolean().default(true),
  /** Name to verify the server certificate against, when it differs from the host in the address. */
  servername: z.string().min(1).optional(),
};

const clientCertPair = {
  check: (t: { certFile?: string | undefined; keyFile?: string | undefined }) =>
    (t.certFile === undefined) === (t.keyFile === undefined),
  message: 'certFile and keyFile go together: set both for mutual TLS, or neither',
};

/** AMQP TLS is switched on by the URL (amqps:// or ?ssl=1); these are its files. */
const amqpTls = z.strictObject(tlsFields).prefault({}).refine(clientCertPair.check, clientCertPair.message);

const memcachedTls = z
  .strictObject({ enabled: z.boolean().default(false), ...tlsFields })
  .prefault({})
  .refine(clientCertPair.check, clientCertPair.message);

const amqp = z
  .strictObject({
    /** oslo transport_url syntax. Prefer urlFile: the URL carries the broker password. */
    url: z.string().min(1).optional(),
    /** A file holding the transport URL (a mounted Kubernetes Secret). */
    urlFile: z.string().min(1).optional(),
    exchange: z.string().min(1).default('keystone'),
    topics: z.array(z.string().min(1)).min(1).default(['notifications']),
    /** The queue name. Unique per region, shared by the replicas of one region. */
    pool: z.string().min(1).max(255).optional(),
    /** Must equal the central side's [oslo_messaging_rabbit] amqp_durable_queues. */
    durable: z.boolean().default(false),
    /** Only check that exchange and queue exist (they are managed elsewhere); never declare them. */
    passive: z.boolean().default(false),
    /** Extra queue arguments, e.g. {"x-queue-type": "quorum"} or {"x-max-length": 100000}. */
    queueArguments: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /** Parked (malformed) messages go here; declared as a fanout exchange with a parking queue. */
    deadLetterExchange: z.string().min(1).optional(),
    parkingQueue: z.string().min(1).optional(),
    prefetch: z.int().min(1).max(65535).default(64),
    // Heartbeats are how a half-open connection (a silent partition) is noticed: they cannot be disabled.
    heartbeatSeconds: z.int().min(1).max(600).default(30),
    connectTimeoutMs: z.int().min(100).default(10_000),
    reconnect: backoff(500, 30_000),
    tls: amqpTls,
  })
  .refine((a) => (a.url === undefined) !== (a.urlFile === undefined), {
    message:
      'set exactly one of url and urlFile (the oslo transport_url, e.g. rabbit://user:pass@host:5672/)',
  })
  .refine((a) => a.parkingQueue === undefined || a.deadLetterExchange !== undefined, {
    message: 'parkingQueue needs deadLetterExchange',
  });

const memcached = z.strictObject({
  /** Every server of the region's pool, in memcache_servers syntax (host:port, inet6:[::1]:11211). */
  servers: z.array(z.string().min(1)).min(1),
  connectTimeoutMs: z.int().min(10).default(2_000),
  requestTimeoutMs: z.int().min(10).default(1_000),
  /** How often each server is probed: it finds servers that are back, and replays what they missed. */
  probeIntervalMs: z.int().min(100).max(600_000).default(5_000),
  /** Backoff between attempts to write an invalidation that a server refused or missed. */
  retry: backoff(100, 5_000),
  tls: memcachedTls,
});

const markers = z
  .strictObject({
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,32}$/, 'use 1 to 32 characters from A-Z a-z 0-9 . _ -')
      .default('kci'),
    // memcached reads an expiry above 30 days as an absolute Unix time, which would expire at once.
    ttlSeconds: z.int().min(1).max(2_592_000).default(3600),
    clockSkewMarginMs: z.int().min(0).max(600_000).default(2_000),
    /** `global` maps every invalidating event to the global marker (Keystone's own behaviour). */
    mode: z.enum(['targeted', 'global']).default('targeted'),
    /** Live markers remembered for re-assertion; past it the oldest fold into the global marker. */
    liveLimit: z.int().min(1).max(10_000_000).default(100_000),
    /** Every live marker is written again on every server this often, against eviction (0: never). */
    reassertIntervalSeconds: z.int().min(0).max(86_400).default(60),
  })
  .prefault({});

const regionNames = (defaults: string[]) => z.array(z.string().min(1)).default(defaults);

/** Reset Keystone's own caches in this region (for Keystone processes that run here). */
const keystoneRegions = z
  .strictObject({
    enabled: z.boolean().default(false),
    always: regionNames(['tokens']),
    onProjectOrDomainChange: regionNames(['shared default']),
    onAssignmentChange: regionNames(['computed assignments']),
    repeatAfterMs: z.int().min(0).max(60_000).default(2_000),
  })
  .prefault({});

/** Delete keystonemiddleware's cached validations that an invalidation applies to (stock services). */
const middlewarePurge = z
  .strictObject({
    enabled: z.boolean().default(false),
    keyPrefix: z.string().min(1).default('tokens/'),
    /** `auto`: `hash` on memcached >= 1.6.9, else `all` (which misses entries read during the walk). */
    metadump: z.enum(['auto', 'hash', 'all']).default('auto'),
    batchSize: z.int().min(1).max(1000).default(100),
    /** A global invalidation deletes every tokens/* entry; false: it purges nothing. */
    deleteAllOnGlobal: z.boolean().default(true),
    /** Entries that cannot be read (strategy ENCRYPT) are deleted, since they may belong to the subject. */
    deleteUnreadable: z.boolean().default(true),
    repeatAfterMs: z.int().min(0).max(60_000).default(2_000),
    scanTimeoutMs: z.int().min(100).default(120_000),
    scanIdleMs: z.int().min(50).default(2_000),
  })
  .prefault({});

export const configSchema = z.strictObject({
  /** This deployment's region, as in the Keystone catalog; it names the default pool. */
  region: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'use 1 to 64 characters from A-Z a-z 0-9 . _ -'),
  amqp,
  memcached,
  markers,
  keystoneRegions,
  middlewarePurge,
  http: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: z.int().min(0).max(65535).default(9464),
    })
    .prefault({}),
  processing: z
    .strictObject({
      maxBodyBytes: z.int().min(1024).default(1_048_576),
      dedupeWindow: z.int().min(0).default(4096),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
    .prefault({}),
  shutdown: z.strictObject({ graceMs: z.int().min(0).default(10_000) }).prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigFile = z.output<typeof configSchema>;
