/**
 * The metrics of one Portico process: Istio standard metrics (Telemetry-API configurable) and
 * Portico's own, in one registry served by the admin API at `GET /stats/prometheus`.
 */
import type net from 'node:net';
import type { StreamInfo } from '../stream-info.js';
import { IstioMetrics, type Destination, type MetricOverrides, type SourceWorkload } from './istio.js';
import { PorticoMetrics, type GatewayView } from './portico.js';
import { OPENMETRICS_CONTENT_TYPE, Registry, TEXT_CONTENT_TYPE, wantsOpenMetrics } from './registry.js';

export { ENVOY_BUCKETS, Registry, TEXT_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, wantsOpenMetrics } from './registry.js';
export { ISTIO_METRICS, ISTIO_LABELS, sourceWorkload, destinationOf, type MetricOverrides, type IstioMetric, type SourceWorkload } from './istio.js';
export { codeClass, type GatewayView } from './portico.js';

export class Metrics {
  readonly registry = new Registry();
  readonly istio: IstioMetrics;
  readonly portico: PorticoMetrics;
  /** Istio metrics are reported (the `prometheus` provider is active). */
  #istioOn = true;

  constructor(source: SourceWorkload) {
    this.istio = new IstioMetrics(this.registry, source);
    this.portico = new PorticoMetrics(this.registry);
  }

  /** Scrape-time view of the gateway (pools, listeners, reloads). */
  attach(gw: GatewayView): void { this.portico.attach(gw); }

  /** Cluster name → destination labels (from the serving snapshot). */
  setDestinationResolver(fn: (cluster: string, serviceHost: string) => Destination): void {
    this.istio.setDestinationResolver(fn);
  }

  /** Telemetry API result: Istio metrics on/off and per-metric overrides. */
  configureIstio(enabled: boolean, overrides: MetricOverrides): void {
    this.#istioOn = enabled;
    this.istio.configure(overrides);
  }

  /** Per finished stream (hot path). Never throws into the data plane. */
  onStream(i: StreamInfo): void {
    this.portico.onStream(i);
    if (this.#istioOn) this.istio.onStream(i);
  }

  onConnection(listener: string, socket: net.Socket): void { this.portico.onConnection(listener, socket); }

  /** See PorticoMetrics.setCertificateExpiry. */
  setCertificateExpiry(labels: Readonly<Record<string, string>>, seconds: number | undefined): void {
    this.portico.setCertificateExpiry(labels, seconds);
  }

  /** Exposition for an Accept header: OpenMetrics 1.0 when asked, else text 0.0.4. */
  render(accept?: string): { body: string; contentType: string } {
    const om = wantsOpenMetrics(accept);
    return { body: this.registry.render(om), contentType: om ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE };
  }

  close(): void { this.portico.close(); }
}
