import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNodeError } from '@campaignos/sdk';
import { closeTransports, parseSmtpCredentials, toSmtpNodeError, isEmailAddress } from './transport.js';

after(closeTransports);

function smtpError(fields: { code?: string; responseCode?: number; response?: string; command?: string }, message = 'smtp failed') {
  return Object.assign(new Error(message), fields);
}

describe('toSmtpNodeError', () => {
  const cases: Array<[string, ReturnType<typeof smtpError>, string, boolean]> = [
    ['bad login', smtpError({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed', command: 'AUTH PLAIN' }), 'INVALID_CREDENTIALS', false],
    ['auth not offered', smtpError({ code: 'EAUTH', command: 'API' }), 'INVALID_CREDENTIALS', false],
    ['auth temporarily failing', smtpError({ code: 'EAUTH', responseCode: 454, response: '454 4.7.0 Temporary authentication failure' }), 'PROVIDER_UNAVAILABLE', true],
    ['connection refused', smtpError({ code: 'ESOCKET', command: 'CONN' }, 'connect ECONNREFUSED 127.0.0.1:1'), 'PROVIDER_UNAVAILABLE', true],
    ['connection dropped', smtpError({ code: 'ECONNECTION', command: 'CONN' }), 'PROVIDER_UNAVAILABLE', true],
    ['greeting timeout', smtpError({ code: 'ETIMEDOUT', command: 'CONN' }), 'PROVIDER_UNAVAILABLE', true],
    ['plain ECONNREFUSED', smtpError({ code: 'ECONNREFUSED' }), 'PROVIDER_UNAVAILABLE', true],
    ['service closing', smtpError({ code: 'EENVELOPE', responseCode: 421, response: '421 4.3.2 Service not available' }), 'PROVIDER_UNAVAILABLE', true],
    ['greylisted', smtpError({ code: 'EENVELOPE', responseCode: 450, response: '450 4.2.0 Greylisted, try later', command: 'RCPT TO' }), 'PROVIDER_UNAVAILABLE', true],
    ['throttled', smtpError({ code: 'EENVELOPE', responseCode: 451, response: '451 4.7.0 Too many messages, slow down', command: 'RCPT TO' }), 'RATE_LIMITED', true],
    ['rate limit 452', smtpError({ code: 'EMESSAGE', responseCode: 452, response: '452 4.5.3 Rate limit exceeded' }), 'RATE_LIMITED', true],
    ['mailbox unavailable', smtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user', command: 'RCPT TO' }), 'RECIPIENT_INVALID', false],
    ['bad mailbox syntax', smtpError({ code: 'EENVELOPE', responseCode: 553, response: '553 mailbox name not allowed', command: 'RCPT TO' }), 'RECIPIENT_INVALID', false],
    ['too large', smtpError({ code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 Message size exceeds limit', command: 'DATA' }), 'MESSAGE_TOO_LARGE', false],
    ['spam policy', smtpError({ code: 'EMESSAGE', responseCode: 550, response: '550 5.7.1 Message rejected as spam', command: 'DATA' }), 'PROVIDER_REJECTED', false],
    ['transaction failed', smtpError({ code: 'EMESSAGE', responseCode: 554, response: '554 Transaction failed', command: 'DATA' }), 'PROVIDER_REJECTED', false],
    ['no code at all', smtpError({}), 'INTERNAL', false],
  ];
  for (const [name, error, code, retryable] of cases) {
    it(`${name} → ${code}`, () => {
      const mapped = toSmtpNodeError(error);
      assert.ok(isNodeError(mapped));
      assert.equal(mapped.code, code);
      assert.equal(mapped.retryable, retryable);
      assert.equal(mapped.cause, error);
    });
  }
});

describe('parseSmtpCredentials', () => {
  const good = { host: 'smtp.example.com', port: 587, secure: false, user: 'u', password: 'hunter2', fromEmail: 'news@example.com', fromName: 'News' };

  it('accepts a complete credential', () => {
    assert.deepEqual(parseSmtpCredentials(good), good);
    assert.equal(parseSmtpCredentials({ ...good, port: undefined }).port, 587);
  });

  it('names the missing field and never the password', () => {
    for (const [patch, pattern] of [
      [{ host: '' }, /host/],
      [{ port: 70000 }, /port/],
      [{ fromEmail: 'not an address' }, /fromEmail/],
    ] as const) {
      assert.throws(
        () => parseSmtpCredentials({ ...good, ...patch }),
        (error: unknown) => isNodeError(error) && error.code === 'INVALID_CREDENTIALS' && pattern.test(error.message) && !error.message.includes('hunter2'),
      );
    }
  });
});

describe('isEmailAddress', () => {
  it('takes one plain address and nothing that could add recipients or headers', () => {
    assert.ok(isEmailAddress('ada@example.com'));
    assert.ok(isEmailAddress('ada+news@mail.example.co.uk'));
    for (const bad of ['', 'ada', 'ada@localhost', 'a@b.c, d@e.f', 'Ada <ada@example.com>', 'ada@example.com\r\nBcc: x@y.z', 'a b@c.d']) {
      assert.equal(isEmailAddress(bad), false, bad);
    }
  });
});
