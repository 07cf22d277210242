/**
 * @file control.test.ts
 * @brief Tier 1: the control codec on exact bytes, round trips, rejection, and properties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  encodeRequest, parseRequest, encodeList, parseList, encodeCount, parseCount,
  JOIN_OK, JOIN_FULL, parseJoinAnswer, type ControlCode,
} from '../../src/protocol/control';
import { RelayError } from '../../src/errors';

/** Asserts `fn` throws a RelayError with `code`. */
function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof RelayError && e.code === code);
}

test('encodeRequest writes <code:2><channel:1> in ASCII', () => {
  assert.deepEqual(encodeRequest(10, 1), Buffer.from([0x31, 0x30, 0x31]));
  assert.equal(encodeRequest(11, 0).toString(), '110');
  assert.equal(encodeRequest(12, 9).toString(), '129');
  assert.equal(encodeRequest(13, 1).toString(), '131');
  throwsCode(() => encodeRequest(14 as ControlCode, 0), 'UNKNOWN_CODE');
  throwsCode(() => encodeRequest(10, 10), 'CHANNEL_OUT_OF_RANGE');
  throwsCode(() => encodeRequest(10, -1), 'CHANNEL_OUT_OF_RANGE');
});

test('parseRequest decodes and strips whitespace like the Python server', () => {
  assert.deepEqual(parseRequest(Buffer.from('101'), 2), { code: 10, channel: 1 });
  assert.deepEqual(parseRequest(Buffer.from('130\n'), 2), { code: 13, channel: 0 });
  assert.deepEqual(parseRequest(Buffer.from(' \t111\r\n'), 2), { code: 11, channel: 1 });
  for (const code of [10, 11, 12, 13] as ControlCode[]) {
    for (let ch = 0; ch < 10; ch++) assert.deepEqual(parseRequest(encodeRequest(code, ch), 10), { code, channel: ch });
  }
});

test('parseRequest rejects every malformed request with its code', () => {
  throwsCode(() => parseRequest(Buffer.alloc(0), 2), 'BAD_CONTROL_REQUEST');
  throwsCode(() => parseRequest(Buffer.from('  \n'), 2), 'BAD_CONTROL_REQUEST');
  throwsCode(() => parseRequest(Buffer.from('abc'), 2), 'BAD_CONTROL_REQUEST');
  throwsCode(() => parseRequest(Buffer.from('10'), 2), 'BAD_CONTROL_REQUEST');
  throwsCode(() => parseRequest(Buffer.from('1011'), 2), 'BAD_CONTROL_REQUEST');
  throwsCode(() => parseRequest(Buffer.from('1 0'), 2), 'BAD_CONTROL_REQUEST');
  throwsCode(() => parseRequest(Buffer.from('١٠١'), 2), 'BAD_CONTROL_REQUEST'); // non-ASCII digits
  throwsCode(() => parseRequest(Buffer.from('141'), 2), 'UNKNOWN_CODE');
  throwsCode(() => parseRequest(Buffer.from('001'), 2), 'UNKNOWN_CODE');
  throwsCode(() => parseRequest(Buffer.from('102'), 2), 'CHANNEL_OUT_OF_RANGE');
  throwsCode(() => parseRequest(Buffer.from('109'), 9), 'CHANNEL_OUT_OF_RANGE');
  throwsCode(() => parseRequest(Buffer.alloc(1025, 0x31), 2), 'REQUEST_TOO_LARGE');
});

test('encodeList is exactly Python repr of a list of str', () => {
  assert.equal(encodeList([]).toString(), '[]');
  assert.equal(encodeList(['127.0.0.5']).toString(), "['127.0.0.5']");
  assert.equal(encodeList(['10.0.0.2', '10.0.0.3']).toString(), "['10.0.0.2', '10.0.0.3']");
});

test('parseList round-trips and tolerates double quotes and spaces', () => {
  assert.deepEqual(parseList(Buffer.from('[]')), []);
  assert.deepEqual(parseList('[ ]'), []);
  assert.deepEqual(parseList("['127.0.0.5']"), ['127.0.0.5']);
  assert.deepEqual(parseList('["10.0.0.2","10.0.0.3"]'), ['10.0.0.2', '10.0.0.3']);
  assert.deepEqual(parseList(" [ '10.0.0.2' ,  '10.0.0.3' ]\n"), ['10.0.0.2', '10.0.0.3']);
  assert.deepEqual(parseList(encodeList(['::1', '10.1.2.3'])), ['::1', '10.1.2.3']);
  for (const bad of ['', '[', "['a'", "[10.0.0.2]", "['10.0.0.2\"]", "['a' 'b']", '{}', "['a b']", 'None']) {
    throwsCode(() => parseList(bad), 'BAD_SERVER_REPLY');
  }
});

test('count encodes in decimal and parses back', () => {
  assert.equal(encodeCount(0).toString(), '0');
  assert.equal(encodeCount(1).toString(), '1');
  assert.equal(encodeCount(12).toString(), '12');
  assert.equal(parseCount(Buffer.from('1')), 1);
  assert.equal(parseCount(Buffer.from(' 3\n')), 3);
  for (const bad of ['', '-1', 'one', '1.5', '9999999999']) throwsCode(() => parseCount(Buffer.from(bad)), 'BAD_SERVER_REPLY');
});

test('join answers are the 2 bytes 10 and 00; anything else is not an answer', () => {
  assert.deepEqual(JOIN_OK, Buffer.from([0x31, 0x30]));
  assert.deepEqual(JOIN_FULL, Buffer.from([0x30, 0x30]));
  assert.equal(parseJoinAnswer(Buffer.from('10')), 'ok');
  assert.equal(parseJoinAnswer(Buffer.from('00')), 'full');
  assert.equal(parseJoinAnswer(Buffer.from('01')), null);
  assert.equal(parseJoinAnswer(Buffer.from('100')), null);
  assert.equal(parseJoinAnswer(Buffer.from([0x1a, 0x45, 0xdf, 0xa3])), null);
  assert.equal(parseJoinAnswer(Buffer.alloc(0)), null);
});

test('property: list and count round-trip', () => {
  const ipv4 = fc.ipV4();
  fc.assert(fc.property(fc.array(ipv4, { maxLength: 50 }), (ips) => {
    assert.deepEqual(parseList(encodeList(ips)), ips);
  }));
  fc.assert(fc.property(fc.nat({ max: 999_999_999 }), (n) => {
    assert.equal(parseCount(encodeCount(n)), n);
  }));
  fc.assert(fc.property(fc.constantFrom<ControlCode>(10, 11, 12, 13), fc.integer({ min: 0, max: 9 }), (code, ch) => {
    assert.deepEqual(parseRequest(encodeRequest(code, ch), 10), { code, channel: ch });
  }));
});

test('property: decoders throw nothing but RelayError on arbitrary bytes', () => {
  const onlyRelayErrors = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof RelayError, `unexpected ${String(e)}`);
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1100 }), fc.integer({ min: 1, max: 10 }), (bytes, channels) => {
    const buf = Buffer.from(bytes);
    onlyRelayErrors(() => parseRequest(buf, channels));
    onlyRelayErrors(() => parseList(buf));
    onlyRelayErrors(() => parseCount(buf));
    const a = parseJoinAnswer(buf);
    assert.ok(a === null || a === 'ok' || a === 'full');
  }), { numRuns: 500 });
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
    onlyRelayErrors(() => parseList(s));
    onlyRelayErrors(() => parseCount(s));
  }), { numRuns: 500 });
});
