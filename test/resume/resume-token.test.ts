/** Resume tokens: signed, bound to a subject, bounded in age, verifiable across key rotation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSubject, ResumeTokens } from '../../src/resume/resume-token.js';

const OLD = 'old-secret-old-secret-old-secret-0001';
const NEW = 'new-secret-new-secret-new-secret-0002';
const claims = { sessionId: 'sess_abc', subject: hashSubject('key:alice'), generation: 3 };

void describe('resume tokens', () => {
  void it('a token issued for a subject verifies for that subject and gives back its claims', async () => {
    const tokens = new ResumeTokens([NEW], 60_000);
    assert.deepEqual(await tokens.verify(await tokens.issue(claims), 'key:alice'), { ok: true, claims });
  });

  void it('another subject is refused', async () => {
    const tokens = new ResumeTokens([NEW], 60_000);
    assert.deepEqual(await tokens.verify(await tokens.issue(claims), 'key:mallory'), { ok: false, problem: 'other_subject' });
  });

  void it('rotation: a token signed with the previous key still verifies; one signed with a key no longer held does not', async () => {
    const before = await new ResumeTokens([OLD], 60_000).issue(claims);
    assert.equal((await new ResumeTokens([NEW, OLD], 60_000).verify(before, 'key:alice')).ok, true);
    assert.deepEqual(await new ResumeTokens([NEW], 60_000).verify(before, 'key:alice'), { ok: false, problem: 'forged' });
  });

  void it('altered, foreign or malformed tokens are forged', async () => {
    const tokens = new ResumeTokens([NEW], 60_000);
    const token = await tokens.issue(claims);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const altered = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    altered.sid = 'sess_someone_else';
    const cases = [
      `${header}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature}`,
      await new ResumeTokens(['another-gateway-another-gateway-0003'], 60_000).issue(claims),
      'not-a-token',
      '',
      `${header}.${payload}.`,
    ];
    for (const forged of cases) assert.deepEqual(await tokens.verify(forged, 'key:alice'), { ok: false, problem: 'forged' }, forged);
  });

  void it('a token past its age is expired', async () => {
    const tokens = new ResumeTokens([NEW], 1);
    const token = await tokens.issue(claims);
    await new Promise((r) => setTimeout(r, 1100)); // JWT times are in whole seconds
    assert.deepEqual(await tokens.verify(token, 'key:alice'), { ok: false, problem: 'expired' });
  });

  void it('the token does not show the subject', async () => {
    const token = await new ResumeTokens([NEW], 60_000).issue({ ...claims, subject: hashSubject('key:alice') });
    assert.doesNotMatch(Buffer.from(token.split('.')[1]!, 'base64url').toString(), /alice/);
  });
});
