import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScoreTrigger } from '../ScoreTrigger/ScoreTrigger.node.js';
import { SegmentTrigger } from './SegmentTrigger.node.js';

describe('SegmentTrigger and ScoreTrigger', () => {
  it('subscribe to segment transitions by id or by name', () => {
    const subscribe = SegmentTrigger.campaignos.definition.trigger!.subscribe;
    assert.deepEqual(subscribe({ segment: 'Engaged' }), { event: '$segment_entered', properties: { segmentName: 'Engaged' }, allowReentry: true });
    assert.deepEqual(subscribe({ segment: '0B9F1A2C-1111-4222-8333-444455556666', on: 'exited', allowReentry: false }), {
      event: '$segment_exited',
      properties: { segmentId: '0b9f1a2c-1111-4222-8333-444455556666' },
      allowReentry: false,
    });
    assert.match(String(subscribe({ segment: ' ' })), /required/);
    assert.match(String(subscribe({ segment: 'x', on: 'sideways' })), /entered or exited/);
  });

  it('subscribe to threshold crossings in one direction', () => {
    const subscribe = ScoreTrigger.campaignos.definition.trigger!.subscribe;
    assert.deepEqual(subscribe({ threshold: 80 }), { event: '$score_crossed', properties: { threshold: 80, direction: 'up' }, allowReentry: true });
    assert.deepEqual(subscribe({ threshold: 20, direction: 'down' }), { event: '$score_crossed', properties: { threshold: 20, direction: 'down' }, allowReentry: true });
    assert.match(String(subscribe({ threshold: '80' })), /number/);
  });

  it('ignore webhook calls for other segments or thresholds', () => {
    const body = (name: string, properties: Record<string, unknown>) => ({ event: { id: 'e', name, properties }, contact: { id: 'c' } });
    const segmentHook = SegmentTrigger.campaignos.definition.webhook!;
    const params = (values: Record<string, unknown>) => (name: string) => values[name];
    assert.equal(segmentHook(body('$segment_entered', { segmentName: 'Engaged' }), params({ segment: 'Engaged', on: 'entered' }))?.length, 1);
    assert.equal(segmentHook(body('$segment_entered', { segmentName: 'Other' }), params({ segment: 'Engaged', on: 'entered' })), null);
    const scoreHook = ScoreTrigger.campaignos.definition.webhook!;
    assert.equal(scoreHook(body('$score_crossed', { threshold: 80, direction: 'up' }), params({ threshold: 80, direction: 'up' }))?.length, 1);
    assert.equal(scoreHook(body('$score_crossed', { threshold: 80, direction: 'down' }), params({ threshold: 80, direction: 'up' })), null);
  });
});
