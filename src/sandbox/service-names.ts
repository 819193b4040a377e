import { SERVICES, type ServiceName, type ShortServiceName } from '../alipay/services';

/**
 * Short names (`REFUND`) and MAPI service names, as the sandbox's fault script accepts them.
 * The names themselves are the gateway layer's constants.
 */
export { SERVICES, type ServiceName, type ShortServiceName };

/** What a fault rule targets. */
export type ServiceTarget =
  | { kind: 'service'; service: ServiceName; short: ShortServiceName }
  | { kind: 'any' }
  | { kind: 'notification' };

const BY_NAME = new Map<string, ShortServiceName>(
  (Object.entries(SERVICES) as [ShortServiceName, ServiceName][]).map(([short, name]) => [
    name,
    short,
  ]),
);

/** The short name of a MAPI service name, or undefined for an unknown service. */
export function shortNameOf(service: string): ShortServiceName | undefined {
  return BY_NAME.get(service);
}

/** Parses `REFUND`, `alipay.acquire.overseas.spot.refund`, `*` or `notification`. */
export function resolveServiceTarget(input: string): ServiceTarget | undefined {
  if (input === '*') return { kind: 'any' };
  if (input.toLowerCase() === 'notification' || input.toLowerCase() === 'notify')
    return { kind: 'notification' };
  const upper = input.toUpperCase().replace(/[-_]/g, '');
  for (const [short, service] of Object.entries(SERVICES) as [ShortServiceName, ServiceName][]) {
    if (short.replace(/_/g, '') === upper || service === input)
      return { kind: 'service', service, short };
  }
  return undefined;
}
