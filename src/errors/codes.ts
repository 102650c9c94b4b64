/**
 * Every diagnostic and runtime error code Portico emits, with a one-line meaning.
 * Each area keeps its own table in src/errors/codes/<area>.ts (so parallel work does not
 * collide); this file merges them. docs/errors.md lists the same codes; a test keeps both in sync.
 */
import { LOAD_CODES } from './codes/load.js';
import { RUNTIME_CODES } from './codes/runtime.js';
import { ISTIO_CODES } from './codes/istio.js';
import { REGISTRY_CODES } from './codes/registry.js';
import { GATEWAYAPI_CODES } from './codes/gatewayapi.js';
import { INGRESS_CODES } from './codes/ingress.js';
import { OBSERVABILITY_CODES } from './codes/observability.js';
import { TLS_CODES } from './codes/tls.js';
import { WORKER_CODES } from './codes/workers.js';

export const CODES: Readonly<Record<string, string>> = Object.freeze({
  ...LOAD_CODES,
  ...RUNTIME_CODES,
  ...ISTIO_CODES,
  ...REGISTRY_CODES,
  ...GATEWAYAPI_CODES,
  ...INGRESS_CODES,
  ...OBSERVABILITY_CODES,
  ...TLS_CODES,
  ...WORKER_CODES,
});

export type Code = keyof typeof CODES;
