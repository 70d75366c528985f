/**
 * keystone-cache-invalidator/reader: what a validating service needs to honour invalidation markers
 * (docs/protocol.md). The daemon writes the markers; this side reads them.
 */
export {
  decodeMarkerValue,
  encodeId,
  isStale,
  markerKey,
  PROTOCOL_VERSION,
  readMarkerValue,
} from '../core/marker.ts';
export { GLOBAL, TARGET_KINDS, type Target, type TargetKind, target } from '../core/targets.ts';
export { tokenSubjects } from '../core/token-subjects.ts';
export { markerKeysForToken } from './marker-keys.ts';
export { MarkerReader, type MarkerReaderOptions } from './marker-reader.ts';
export { type TokenBody, ValidationCache, type ValidationCacheOptions } from './validation-cache.ts';
