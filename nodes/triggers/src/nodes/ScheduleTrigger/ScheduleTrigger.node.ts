import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode, SCHEDULE_TICK_EVENT } from '@campaignos/sdk';
import { campaignApiCredentials, passEnrolmentThrough } from '../enrolment.js';

// Five fields, each made of the characters cron syntax uses. Both hosts then read it the same
// way: Temporal Schedules in the runtime, n8n's cron in n8n (a sixth field would mean "year" to
// one and "seconds" to the other). Each host checks the values themselves when it registers it.
const CRON_FIELD = /^[0-9A-Za-z*?,/#LW-]+$/;

function checkCron(cron: string): string | null {
  const fields = cron.split(/\s+/);
  if (fields.length !== 5) return `the cron expression must have 5 fields (minute hour day-of-month month day-of-week), "${cron}" has ${fields.length}`;
  const bad = fields.find((f) => !CRON_FIELD.test(f));
  return bad ? `"${bad}" is not a cron field` : null;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Enrols every member of a segment at each tick of a cron schedule: a weekly digest, a monthly
 * check-in. Each member gets one journey per tick; the tick is the journey's event
 * (`$schedule_tick`, with the segment's id and name in its properties).
 */
export const ScheduleTrigger = defineNode({
  group: 'trigger',
  trigger: {
    subscribe: (parameters) => {
      const cron = typeof parameters.cron === 'string' ? parameters.cron.trim() : '';
      if (!cron) return 'the cron expression is required';
      const cronProblem = checkCron(cron);
      if (cronProblem) return cronProblem;
      const timeZone = typeof parameters.timeZone === 'string' ? parameters.timeZone.trim() : '';
      if (timeZone && !isTimeZone(timeZone)) return `"${timeZone}" is not an IANA time zone (e.g. "Europe/Berlin")`;
      const segment = typeof parameters.segment === 'string' ? parameters.segment.trim() : '';
      if (!segment) return 'the segment (its id or name) is required';
      // Re-entry per tick is the point of a schedule: every tick is a new entry.
      return { event: SCHEDULE_TICK_EVENT, allowReentry: true, schedule: { cron, segment, ...(timeZone && { timeZone }) } };
    },
  },
  description: {
    displayName: 'CampaignOS Schedule Trigger',
    name: 'scheduleTrigger',
    icon: 'file:campaignos.svg',
    group: ['trigger', 'schedule'],
    version: 1,
    subtitle: '={{ $parameter.cron + " → " + $parameter.segment }}',
    description: 'Enrols every member of a CampaignOS segment on a cron schedule',
    eventTriggerDescription: '',
    activationMessage: 'Every member of the segment will now enter this workflow at each tick of the schedule.',
    defaults: { name: 'CampaignOS Schedule' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: campaignApiCredentials,
    properties: [
      {
        displayName: 'Cron Expression',
        name: 'cron',
        type: 'string',
        required: true,
        default: '0 9 * * 1',
        placeholder: '0 9 * * 1',
        description: 'Five fields: minute, hour, day of month, month, day of week (the default is Mondays at 09:00)',
      },
      {
        displayName: 'Time Zone',
        name: 'timeZone',
        type: 'string',
        default: '',
        placeholder: 'Europe/Berlin',
        description:
          'IANA time zone the schedule is read in. Empty means UTC in CampaignOS and the workflow time zone in n8n; in n8n a value must equal the workflow time zone.',
      },
      {
        displayName: 'Segment',
        name: 'segment',
        type: 'string',
        required: true,
        default: '',
        placeholder: 'Active customers',
        description: 'The segment whose members enter the journey at each tick, by ID or by name',
      },
    ],
  },
  execute: passEnrolmentThrough,
});
