import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intersectHost, isExportedTo, isSubsetOf, namespaceAllowed, parseServerHost, resolveGatewayRef } from './hosts.js';

test('isSubsetOf follows Istio host.Name.SubsetOf', () => {
  assert.equal(isSubsetOf('a.example.com', '*.example.com'), true);
  assert.equal(isSubsetOf('*.example.com', '*.example.com'), true);
  assert.equal(isSubsetOf('*.a.example.com', '*.example.com'), true);
  assert.equal(isSubsetOf('example.com', '*.example.com'), false);
  assert.equal(isSubsetOf('newexample.com', '*.example.com'), false);
  assert.equal(isSubsetOf('anything.io', '*'), true);
  assert.equal(isSubsetOf('*', '*'), true);
  assert.equal(isSubsetOf('*', '*.example.com'), false);
  assert.equal(isSubsetOf('a.example.com', 'a.example.com'), true);
  assert.equal(isSubsetOf('a.example.com', 'b.example.com'), false);
});

test('intersectHost keeps the more specific host, in both directions', () => {
  assert.equal(intersectHost('a.example.com', '*.example.com'), 'a.example.com');
  assert.equal(intersectHost('*.example.com', 'a.example.com'), 'a.example.com');
  assert.equal(intersectHost('*', 'shop.example.com'), 'shop.example.com');
  assert.equal(intersectHost('shop.example.com', '*'), 'shop.example.com');
  assert.equal(intersectHost('example.com', '*.example.com'), undefined);
});

test('parseServerHost reads [namespace/]dnsName', () => {
  assert.deepEqual(parseServerHost('Shop.Example.com', 'istio-system'), { namespace: '*', host: 'shop.example.com' });
  assert.deepEqual(parseServerHost('./*', 'istio-system'), { namespace: 'istio-system', host: '*' });
  assert.deepEqual(parseServerHost('shop/*.example.com', 'istio-system'), { namespace: 'shop', host: '*.example.com' });
  assert.deepEqual(parseServerHost('*/a.io', 'gw'), { namespace: '*', host: 'a.io' });
  assert.equal(parseServerHost('shop/', 'gw'), undefined);
  assert.equal(namespaceAllowed({ namespace: 'shop', host: '*' }, 'shop'), true);
  assert.equal(namespaceAllowed({ namespace: 'shop', host: '*' }, 'web'), false);
  assert.equal(namespaceAllowed({ namespace: '*', host: '*' }, 'web'), true);
});

test('isExportedTo: empty and * export everywhere, . the own namespace', () => {
  assert.equal(isExportedTo([], 'default', 'istio-system'), true);
  assert.equal(isExportedTo(['*'], 'default', 'istio-system'), true);
  assert.equal(isExportedTo(['.'], 'default', 'istio-system'), false);
  assert.equal(isExportedTo(['.'], 'istio-system', 'istio-system'), true);
  assert.equal(isExportedTo(['istio-system'], 'default', 'istio-system'), true);
  assert.equal(isExportedTo(['~'], 'default', 'istio-system'), false);
});

test('resolveGatewayRef: bare names are in the VirtualService namespace', () => {
  assert.equal(resolveGatewayRef('main', 'default'), 'default/main');
  assert.equal(resolveGatewayRef('istio-system/main', 'default'), 'istio-system/main');
  assert.equal(resolveGatewayRef('mesh', 'default'), 'mesh');
});
