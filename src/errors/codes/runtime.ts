/** Codes of the runtime (build, swap, listeners, upstreams). */
export const RUNTIME_CODES = {
  BUILD_FAILED: 'A translated config could not be compiled into a snapshot; the previous one keeps serving',
  LISTENER_BIND_FAILED: 'A listener could not bind its address and port',
  UPSTREAM_CONNECT_FAILED: 'A connection to an upstream endpoint failed',
} as const;
