/** The certificate expiry gauge, kept in step with the store. */
import type { CertExpiry, CertStore } from './cert-store.js';

/**
 * Keep a gauge of certificate expiry in step with the store: one series per certificate in use
 * (labels credential, source, role, subject, serial), removed when the certificate goes away.
 * `sink` is the metrics API (Metrics.setCertificateExpiry).
 */
export function exportCertificateExpiry(store: CertStore,
  sink: { setCertificateExpiry(labels: Readonly<Record<string, string>>, seconds: number | undefined): void }): () => void {
  let previous = new Map<string, CertExpiry['labels']>();
  const sync = (): void => {
    const next = new Map<string, CertExpiry['labels']>();
    for (const e of store.expiries()) {
      const id = JSON.stringify(e.labels);
      next.set(id, e.labels);
      sink.setCertificateExpiry(e.labels, e.expirySeconds);
    }
    for (const [id, labels] of previous) if (!next.has(id)) sink.setCertificateExpiry(labels, undefined);
    previous = next;
  };
  sync();
  return store.onChange(sync);
}
