/**
 * The address a node bound to every interface advertises: its default route's interface's, else
 * its only LAN address, else 127.0.0.1; several and no route to choose by is refused, naming them.
 * The tables are what os.networkInterfaces() and Linux's /proc/net/route give on real machines.
 */
import { describe, expect, it } from 'vitest';
import { defaultRouteInterface, lanAddress, type InterfaceTable } from '../../../core/hosts.js';

const ROUTES_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
const route = (iface: string, destination: string, flags: string, metric: number, mask: string) =>
  `${iface}\t${destination}\t0101A8C0\t${flags}\t0\t0\t${metric}\t${mask}\t0\t0\t0`;

const v4 = (address: string, internal = false) => ({ address, family: 'IPv4', internal });
const v6 = (address: string) => ({ address, family: 'IPv6', internal: false });

const LAPTOP: InterfaceTable = {
  lo: [v4('127.0.0.1', true), { address: '::1', family: 'IPv6', internal: true }],
  eth0: [v4('10.0.0.5'), v6('fe80::1')],
  wlan0: [v4('192.168.1.23'), v6('fe80::2')],
  docker0: [v4('172.17.0.1')],
};

describe('defaultRouteInterface', () => {
  it('finds the default route, the lowest metric first, among routes that are up', () => {
    const table = [
      ROUTES_HEADER,
      route('eth0', '0000000A', '0001', 0, '00FFFFFF'),
      route('eth0', '00000000', '0003', 600, '00000000'),
      route('wlan0', '00000000', '0003', 100, '00000000'),
      // Down (no RTF_UP): never chosen, whatever its metric.
      route('tun0', '00000000', '0002', 1, '00000000'),
    ].join('\n');
    expect(defaultRouteInterface(table)).toBe('wlan0');
  });

  it('is undefined with no default route, or no table at all (not Linux)', () => {
    expect(
      defaultRouteInterface([ROUTES_HEADER, route('eth0', '0000000A', '0001', 0, '00FFFFFF')].join('\n')),
    ).toBe(undefined);
    expect(defaultRouteInterface('')).toBe(undefined);
  });
});

describe('lanAddress', () => {
  it('takes the default route’s interface when there is one', () => {
    expect(lanAddress(LAPTOP, 'wlan0')).toEqual({
      address: '192.168.1.23',
      why: "the default route's interface, wlan0",
    });
  });

  it('takes the only LAN address without a default route (an air-gapped LAN); link-local does not count', () => {
    const table: InterfaceTable = {
      lo: [v4('127.0.0.1', true)],
      eth0: [v4('10.1.2.3')],
      eth1: [v4('169.254.7.7')],
    };
    expect(lanAddress(table, undefined)).toEqual({
      address: '10.1.2.3',
      why: "this machine's only LAN address (eth0)",
    });
  });

  it('falls back to 127.0.0.1 on a machine with no LAN address', () => {
    expect(lanAddress({ lo: [v4('127.0.0.1', true)], eth0: [v6('fe80::1')] }, undefined).address).toBe(
      '127.0.0.1',
    );
  });

  it('refuses several addresses and no default route, naming each and the way out', () => {
    expect(() => lanAddress(LAPTOP, undefined)).toThrow(
      'cannot tell which address other members reach this node at: 10.0.0.5 on eth0, 192.168.1.23 on wlan0, ' +
        '172.17.0.1 on docker0, and no default route picks one; pass --advertise HOST:PORT (MESHDESK_ADVERTISE for the desktop app)',
    );
    // A default route through an interface without an IPv4 address decides nothing either.
    expect(() => lanAddress(LAPTOP, 'tun0')).toThrow(/cannot tell which address/);
  });
});
