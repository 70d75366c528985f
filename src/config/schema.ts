import * as z from 'zod';
import { quorumProblems } from './quorum-problems.ts';
import { timerMs } from './timer-fields.ts';

// Every object is strict: a misspelt key is an error that names it, not a silently ignored setting.

const backoff = (initialDelayMs: number, maxDelayMs: number) =>
  z
    .strictObject({
      initialDelayMs: timerMs().min(1).default(initialDelayMs),
      maxDelayMs: timerMs().min(1).default(maxDelayMs),
    })
    .prefault({});

const tlsFields = {
  /** PEM bundle of the CA(s) that signed the server certificate; the system store when unset. */
  caFile: z.string().min(1).optional(),
  /** Client certificate and key for mutual TLS. */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** A file holding the passphrase of an encrypted keyFile (a mounted Secret). */
  keyPassphraseFile: z.string().min(1).optional(),
  /** false: the server's certificate is not verified (warned at every start, counted). */
  rejectUnauthorized: z.boolean().default(true),
  /** Name to verify the server certificate against, when it differs from the host in the address. */
  servername: z.string().min(1).optional(),
};

const clientCertPair = {
  check: (t: { certFile?: string | undefined; keyFile?: string | undefined }) =>
    (t.certFile === undefined) === (t.keyFile === undefined),
  message: 'certFile and keyFile go together: set both for mutual TLS, or neither',
};

const passphraseWithKey = {
  check: (t: { keyFile?: string | undefined; keyPassphraseFile?: string | undefined }) =>
    t.keyPassphraseFile === undefined || t.keyFile !== undefined,
  message: 'keyPassphraseFile needs keyFile (the encrypted key it opens)',
};

/**
 * Plaintext to a host off loopback (127.0.0.0/8, ::1, localhost) is refused unless this says so: it is
 * then warned at every start and counted (kci_insecure_endpoints). See docs/decisions/0018.
 */
const allowPlaintext = z.boolean().default(false);

/** AMQP TLS is switched on by the URL (amqps:// or ?ssl=1); these are its files. */
const amqpTls = z
  .strictObject(tlsFields)
  .prefault({})
  .refine(clientCertPair.check, clientCertPair.message)
  .refine(passphraseWithKey.check, passphraseWithKey.message);

const memcachedTls = z
  .strictObject({ enabled: z.boolean().default(false), ...tlsFields })
  .prefault({})
  .refine(clientCertPair.check, clientCertPair.message)
  .refine(passphraseWithKey.check, passphraseWithKey.message);

const amqp = z
  .strictObject({
    /** oslo transport_url syntax. Prefer urlFile: the URL carries the broker password. */
    url: z.string().min(1).optional(),
    /** A file holding the transport URL (a mounted Kubernetes Secret). */
    urlFile: z.string().min(1).optional(),
    /**
     * The wire protocol. `auto` follows oslo's schemes: rabbit:// is AMQP 0-9-1, amqp:// and amqps://
     * are AMQP 1.0. Set it where the scheme says otherwise (RabbitMQ 4 read over AMQP 1.0 by a cloud
     * whose transport_url says rabbit://).
     */
    protocol: z.enum(['auto', '0-9-1', '1.0']).default('auto'),
    /**
     * AMQP 1.0: the address the daemon receives from. Unset: the pool queue, addressed as the broker
     * names queues (RabbitMQ 4 `/queues/<pool>`, RabbitMQ 3 `/amq/queue/<pool>`); other brokers and
     * routers need it set.
     */
    sourceAddress: z.string().min(1).optional(),
    /** AMQP 1.0: SASL mechanism. PLAIN with the URL's user and password; EXTERNAL with a client certificate. */
    saslMechanism: z.enum(['PLAIN', 'ANONYMOUS', 'EXTERNAL']).default('PLAIN'),
    exchange: z.string().min(1).default('keystone'),
    topics: z.array(z.string().min(1)).min(1).default(['notifications']),
    /** The queue name. Unique per region, shared by the replicas of one region. */
    pool: z.string().min(1).max(255).optional(),
    /** Must equal the central side's [oslo_messaging_rabbit] amqp_durable_queues. */
    durable: z.boolean().default(false),
    /** Only check that exchange and queue exist (they are managed elsewhere); never declare them. */
    passive: z.boolean().default(false),
    /** Extra queue arguments, e.g. {"x-max-length": 100000}; the queue type is `queueType`. */
    queueArguments: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /**
     * The pool queue's type, as oslo's [oslo_messaging_rabbit] rabbit_quorum_queue chooses it: `quorum`
     * is replicated over a RabbitMQ cluster and survives the loss of a minority of its nodes.
     */
    queueType: z.enum(['classic', 'quorum']).default('classic'),
    /** oslo's rabbit_quorum_* options; 0 sets no argument (the broker's default). */
    quorum: z
      .strictObject({
        /** x-delivery-limit (rabbit_quorum_delivery_limit). RabbitMQ 4 applies 20 when unset. */
        deliveryLimit: z.int().min(0).default(0),
        /** x-max-in-memory-length (rabbit_quorum_max_memory_length); ignored since RabbitMQ 3.10. */
        maxMemoryLength: z.int().min(0).default(0),
        /** x-max-in-memory-bytes (rabbit_quorum_max_memory_bytes); ignored since RabbitMQ 3.10. */
        maxMemoryBytes: z.int().min(0).default(0),
      })
      .prefault({}),
    /** Parked (malformed) messages go here; declared as a fanout exchange with a parking queue. */
    deadLetterExchange: z.string().min(1).optional(),
    parkingQueue: z.string().min(1).optional(),
    prefetch: z.int().min(1).max(65535).default(64),
    // Heartbeats are how a half-open connection (a silent partition) is noticed: they cannot be disabled.
    heartbeatSeconds: z.int().min(1).max(600).default(30),
    connectTimeoutMs: timerMs().min(100).default(10_000),
    reconnect: backoff(500, 30_000),
    tls: amqpTls,
    /** A transport_url without TLS to brokers off loopback is refused unless this is true. */
    allowPlaintext,
  })
  .refine((a) => (a.url === undefined) !== (a.urlFile === undefined), {
    message:
      'set exactly one of url and urlFile (the oslo transport_url, e.g. rabbit://user:pass@host:5672/)',
  })
  .refine((a) => a.parkingQueue === undefined || a.deadLetterExchange !== undefined, {
    message: 'parkingQueue needs deadLetterExchange',
  })
  .superRefine(quorumProblems);

const memcached = z.strictObject({
  /** Every server of the region's pool, in memcache_servers syntax (host:port, inet6:[::1]:11211). */
  servers: z.array(z.string().min(1)).min(1),
  connectTimeoutMs: timerMs().min(10).default(2_000),
  requestTimeoutMs: timerMs().min(10).default(1_000),
  /** How often each server is probed: it finds servers that are back, and replays what they missed. */
  probeIntervalMs: z.int().min(100).max(600_000).default(5_000),
  /** Backoff between attempts to write an invalidation that a server refused or missed. */
  retry: backoff(100, 5_000),
  tls: memcachedTls,
  /** Servers off loopback without memcached.tls.enabled are refused unless this is true. */
  allowPlaintext,
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
    scanTimeoutMs: timerMs().min(100).default(120_000),
    scanIdleMs: timerMs().min(50).default(2_000),
    /** A scan (or a markers listing) holds at most this many keys of a server; past it, what it listed. */
    scanMaxKeys: z.int().min(1).max(50_000_000).default(250_000),
    /** Per server, an index of the cached validations, kept current from memcached's watcher. */
    index: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Past this many entries a server's index is dropped, and purges on it scan. */
        maxEntries: z.int().min(1).max(50_000_000).default(100_000),
        /** A listing this often finds what the watch may have missed (expiries, deletions before 1.6.20). */
        reconcileIntervalSeconds: z.int().min(10).max(86_400).default(3_600),
        /** A store this often keeps memcached's logger awake, so a purge's fences come back at once. */
        heartbeatMs: z.int().min(5).max(10_000).default(25),
        /** A fence not seen in the watch within this makes the index untrusted. */
        fenceTimeoutMs: z.int().min(10).max(60_000).default(1_000),
        /** Entries read per multi-get while the index is built or grows. */
        readBatchSize: z.int().min(1).max(10_000).default(256),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * Keystone's revocation events, polled from the central Keystone (`GET /v3/OS-REVOKE/events`): token
 * revocations send no notification. Credentials as keystoneauth names them; secrets only from files.
 */
const revocations = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** The central Keystone's v3 endpoint, e.g. https://keystone.central:5000/v3. */
    authUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** An application credential (preferred): by id, or by name with its user. */
    applicationCredentialId: z.string().min(1).optional(),
    applicationCredentialName: z.string().min(1).optional(),
    applicationCredentialSecretFile: z.string().min(1).optional(),
    /** Or a service user's password, scoped to a project or to the system. */
    username: z.string().min(1).optional(),
    userDomainName: z.string().min(1).default('Default'),
    passwordFile: z.string().min(1).optional(),
    projectName: z.string().min(1).optional(),
    projectDomainName: z.string().min(1).default('Default'),
    systemScope: z.literal('all').optional(),
    /** Between polls; a revocation reaches the region within about this plus a purge. */
    intervalMs: z.int().min(100).max(600_000).default(1_000),
    /** Each interval varies by up to this share, so replicas do not poll in step. */
    jitter: z.number().min(0).max(0.5).default(0.2),
    /** At start, events this far back are applied again: keystonemiddleware's token_cache_time and a margin. */
    lookBackSeconds: z.int().min(1).max(86_400).default(600),
    /** How long Keystone keeps events ([token] expiration + [revoke] expiration_buffer). */
    retentionSeconds: z.int().min(60).default(5_400),
    /** `since` lags the newest event by this: revoked_at is truncated to whole seconds. */
    overlapSeconds: z.int().min(1).max(60).default(1),
    /** Events remembered as applied, so an overlap does not hand them out again. */
    dedupeWindow: z.int().min(16).max(1_000_000).default(10_000),
    requestTimeoutMs: z.int().min(100).max(120_000).default(5_000),
    maxResponseBytes: z
      .int()
      .min(1024)
      .default(16 * 2 ** 20),
    retry: backoff(1_000, 30_000),
    tls: amqpTls,
    /** An http:// authUrl off loopback is refused unless this is true: the credential would travel in clear. */
    allowPlaintext,
  })
  .prefault({})
  .refine((r) => !r.enabled || r.authUrl !== undefined, {
    message: 'authUrl is required when enabled (the central Keystone, e.g. https://keystone.central:5000/v3)',
  })
  .refine((r) => !r.enabled || credentialKinds(r) === 1, {
    message:
      'set one credential: applicationCredentialId (or applicationCredentialName with username) and ' +
      'applicationCredentialSecretFile, or username and passwordFile',
  })
  .refine(
    (r) =>
      !r.enabled ||
      r.passwordFile === undefined ||
      (r.projectName === undefined) !== (r.systemScope === undefined),
    {
      message: 'a password needs one scope: projectName (the role is granted there) or systemScope: all',
    },
  )
  .refine((r) => r.lookBackSeconds <= r.retentionSeconds, {
    message: 'lookBackSeconds cannot exceed retentionSeconds: Keystone keeps no events that old',
  });

function credentialKinds(r: {
  applicationCredentialId?: string | undefined;
  applicationCredentialName?: string | undefined;
  applicationCredentialSecretFile?: string | undefined;
  username?: string | undefined;
  passwordFile?: string | undefined;
}): number {
  const appCred =
    r.applicationCredentialSecretFile !== undefined &&
    (r.applicationCredentialId !== undefined ||
      (r.applicationCredentialName !== undefined && r.username !== undefined));
  const password = r.username !== undefined && r.passwordFile !== undefined;
  return Number(appCred) + Number(password);
}

export const configSchema = z.strictObject({
  /** This deployment's region, as in the Keystone catalog; it names the default pool. */
  region: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'use 1 to 64 characters from A-Z a-z 0-9 . _ -'),
  amqp,
  memcached,
  markers,
  keystoneRegions,
  middlewarePurge,
  revocations,
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
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
      itemLinesPerSecond: z.int().min(0).default(100),
    })
    .prefault({}),
  shutdown: z.strictObject({ graceMs: timerMs().min(0).default(10_000) }).prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigFile = z.output<typeof configSchema>;
