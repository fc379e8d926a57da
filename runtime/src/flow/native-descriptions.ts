import type { INodeProperties, INodeTypeDescription } from 'n8n-workflow';

// The parameter descriptions of the n8n core nodes CampaignOS runs natively, transcribed from
// n8n-nodes-base (If/V2, Switch/V3, Filter/V2, Set/v2 for 3.3+, Wait, NoOp). Only what decides a
// parameter's default, its visibility and its allowed values is kept: n8n omits parameters equal
// to their defaults when it exports a workflow, so these must match n8n exactly. Versions up
// to If 2.3, Filter 2.3 and Switch 3.4 (the later ones switch the filter to evaluation v3).

export const NATIVE_TYPES = {
  wait: 'n8n-nodes-base.wait',
  if: 'n8n-nodes-base.if',
  switch: 'n8n-nodes-base.switch',
  filter: 'n8n-nodes-base.filter',
  noop: 'n8n-nodes-base.noOp',
  set: 'n8n-nodes-base.set',
} as const;

export const STICKY_NOTE_TYPE = 'n8n-nodes-base.stickyNote';

/** n8n's `looseTypeValidationProperty` (nodes-base/utils/descriptions.ts). */
const looseTypeValidation: INodeProperties = {
  displayName: 'Convert types where required',
  name: 'looseTypeValidation',
  type: 'boolean',
  default: true,
};

const ignoreCase: INodeProperties = { displayName: 'Ignore Case', name: 'ignoreCase', type: 'boolean', default: true };

/** The filter-based nodes share this shape; only the version that switched the toggle's place differs. */
function conditionNodeProperties(toggleMovedIn: number, filterV2From: number, filterV3From: number): INodeProperties[] {
  return [
    {
      displayName: 'Conditions',
      name: 'conditions',
      type: 'filter',
      default: {},
      typeOptions: {
        filter: {
          caseSensitive: '={{!$parameter.options.ignoreCase}}',
          typeValidation: `={{ ($nodeVersion < ${toggleMovedIn} ? $parameter.options.looseTypeValidation :  $parameter.looseTypeValidation) ? "loose" : "strict" }}`,
          version: `={{ $nodeVersion >= ${filterV3From} ? 3 : $nodeVersion >= ${filterV2From} ? 2 : 1 }}`,
        },
      },
    },
    { ...looseTypeValidation, default: false, displayOptions: { show: { '@version': [{ _cnd: { gte: toggleMovedIn } }] } } },
    {
      displayName: 'Options',
      name: 'options',
      type: 'collection',
      default: {},
      options: [ignoreCase, { ...looseTypeValidation, displayOptions: { show: { '@version': [{ _cnd: { lt: toggleMovedIn } }] } } }],
    },
  ];
}

const unitOptions = ['seconds', 'minutes', 'hours', 'days'].map((value) => ({ name: value, value }));

const waitProperties: INodeProperties[] = [
  {
    displayName: 'Resume',
    name: 'resume',
    type: 'options',
    options: ['timeInterval', 'specificTime', 'webhook', 'form'].map((value) => ({ name: value, value })),
    default: 'timeInterval',
  },
  { displayName: 'Date and Time', name: 'dateTime', type: 'dateTime', default: '', required: true, displayOptions: { show: { resume: ['specificTime'] } } },
  // v1 and v1.1 differ only in the defaults of the interval: 1 hour versus 5 seconds.
  {
    displayName: 'Wait Amount',
    name: 'amount',
    type: 'number',
    typeOptions: { minValue: 0, numberPrecision: 2 },
    default: 1,
    validateType: 'number',
    displayOptions: { show: { resume: ['timeInterval'], '@version': [1] } },
  },
  {
    displayName: 'Wait Amount',
    name: 'amount',
    type: 'number',
    typeOptions: { minValue: 0, numberPrecision: 2 },
    default: 5,
    validateType: 'number',
    displayOptions: { show: { resume: ['timeInterval'] }, hide: { '@version': [1] } },
  },
  { displayName: 'Wait Unit', name: 'unit', type: 'options', options: unitOptions, default: 'hours', displayOptions: { show: { resume: ['timeInterval'], '@version': [1] } } },
  {
    displayName: 'Wait Unit',
    name: 'unit',
    type: 'options',
    options: unitOptions,
    default: 'seconds',
    displayOptions: { show: { resume: ['timeInterval'] }, hide: { '@version': [1] } },
  },
];

const switchProperties: INodeProperties[] = [
  {
    displayName: 'Mode',
    name: 'mode',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Rules', value: 'rules' },
      { name: 'Expression', value: 'expression' },
    ],
    default: 'rules',
  },
  { displayName: 'Number of Outputs', name: 'numberOutputs', type: 'number', default: 4, displayOptions: { show: { mode: ['expression'] } } },
  { displayName: 'Output Index', name: 'output', type: 'number', validateType: 'number', default: '={{}}', displayOptions: { show: { mode: ['expression'] } } },
  {
    displayName: 'Routing Rules',
    name: 'rules',
    type: 'fixedCollection',
    typeOptions: { multipleValues: true, sortable: true },
    // n8n's default is one rule comparing '' with '': it matches every item.
    default: {
      values: [
        {
          conditions: {
            options: { caseSensitive: true, leftValue: '', typeValidation: 'strict' },
            conditions: [{ leftValue: '', rightValue: '', operator: { type: 'string', operation: 'equals' } }],
            combinator: 'and',
          },
        },
      ],
    },
    displayOptions: { show: { mode: ['rules'] } },
    options: [
      {
        name: 'values',
        displayName: 'Values',
        values: [
          {
            displayName: 'Conditions',
            name: 'conditions',
            type: 'filter',
            default: {},
            typeOptions: {
              multipleValues: false,
              filter: {
                caseSensitive: '={{!$parameter.options.ignoreCase}}',
                typeValidation:
                  '={{ ($nodeVersion < 3.1 ? $parameter.options.looseTypeValidation :  $parameter.looseTypeValidation) ? "loose" : "strict" }}',
                version: '={{ $nodeVersion >=3.4 ? 3 : $nodeVersion >= 3.2 ? 2 : 1 }}',
              },
            },
          },
          { displayName: 'Rename Output', name: 'renameOutput', type: 'boolean', default: false },
          { displayName: 'Output Name', name: 'outputKey', type: 'string', default: '', displayOptions: { show: { renameOutput: [true] } } },
        ],
      },
    ],
  },
  { ...looseTypeValidation, default: false, displayOptions: { show: { '@version': [{ _cnd: { gte: 3.1 } }] } } },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    default: {},
    displayOptions: { show: { mode: ['rules'] } },
    options: [
      // Dynamic in n8n ('none', 'extra' or a rule index): checked by the Switch validation.
      { displayName: 'Fallback Output', name: 'fallbackOutput', type: 'options', typeOptions: { loadOptionsMethod: 'getFallbackOutputOptions' }, default: 'none' },
      ignoreCase,
      { ...looseTypeValidation, displayOptions: { show: { '@version': [{ _cnd: { lt: 3.1 } }] } } },
      { displayName: 'Rename Fallback Output', name: 'renameFallbackOutput', type: 'string', default: '', displayOptions: { show: { fallbackOutput: ['extra'] } } },
      { displayName: 'Send data to all matching outputs', name: 'allMatchingOutputs', type: 'boolean', default: false },
    ],
  },
];

const manualOnly = { show: { mode: ['manual'] } };

const setProperties: INodeProperties[] = [
  {
    displayName: 'Mode',
    name: 'mode',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Manual Mapping', value: 'manual' },
      { name: 'JSON', value: 'raw' },
    ],
    default: 'manual',
  },
  { displayName: 'Duplicate Item', name: 'duplicateItem', type: 'boolean', default: false, isNodeSetting: true },
  {
    displayName: 'Duplicate Item Count',
    name: 'duplicateCount',
    type: 'number',
    default: 0,
    isNodeSetting: true,
    displayOptions: { show: { duplicateItem: [true] } },
  },
  {
    displayName: 'JSON',
    name: 'jsonOutput',
    type: 'json',
    default: '{\n  "my_field_1": "value",\n  "my_field_2": 1\n}\n',
    validateType: 'object',
    ignoreValidationDuringExecution: true,
    displayOptions: { show: { mode: ['raw'] } },
  },
  { displayName: 'Fields to Set', name: 'assignments', type: 'assignmentCollection', default: {}, displayOptions: manualOnly },
  { displayName: 'Include Other Input Fields', name: 'includeOtherFields', type: 'boolean', default: false },
  {
    displayName: 'Input Fields to Include',
    name: 'include',
    type: 'options',
    default: 'all',
    displayOptions: { hide: { '/includeOtherFields': [false] } },
    options: [
      { name: 'All', value: 'all' },
      { name: 'Selected', value: 'selected' },
      { name: 'All Except', value: 'except' },
    ],
  },
  {
    displayName: 'Fields to Include',
    name: 'includeFields',
    type: 'string',
    default: '',
    displayOptions: { show: { include: ['selected'], '/includeOtherFields': [true] } },
  },
  {
    displayName: 'Fields to Exclude',
    name: 'excludeFields',
    type: 'string',
    default: '',
    displayOptions: { show: { include: ['except'], '/includeOtherFields': [true] } },
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    default: {},
    options: [
      { displayName: 'Include Binary File', name: 'includeBinary', type: 'boolean', default: true, displayOptions: { hide: { '@version': [{ _cnd: { gte: 3.4 } }] } } },
      {
        displayName: 'Strip Binary Data',
        name: 'stripBinary',
        type: 'boolean',
        default: true,
        displayOptions: { show: { '@version': [{ _cnd: { gte: 3.4 } }], '/includeOtherFields': [true] } },
      },
      { displayName: 'Ignore Type Conversion Errors', name: 'ignoreConversionErrors', type: 'boolean', default: false, displayOptions: { show: { '/mode': ['manual'] } } },
      { displayName: 'Support Dot Notation', name: 'dotNotation', type: 'boolean', default: true },
    ],
  },
];

function describe(
  name: string,
  displayName: string,
  version: number[],
  outputs: number,
  properties: INodeProperties[],
): INodeTypeDescription {
  return {
    displayName,
    name,
    group: ['transform'],
    version,
    description: `${displayName} (run natively by CampaignOS)`,
    defaults: { name: displayName },
    inputs: ['main'],
    outputs: Array.from({ length: outputs }, () => 'main' as const),
    properties,
  };
}

/** n8n type name → the description CampaignOS uses for it (defaults, visibility, allowed values). */
export const NATIVE_DESCRIPTIONS: Readonly<Record<string, INodeTypeDescription>> = {
  [NATIVE_TYPES.wait]: describe('wait', 'Wait', [1, 1.1], 1, waitProperties),
  [NATIVE_TYPES.if]: describe('if', 'If', [2, 2.1, 2.2, 2.3], 2, conditionNodeProperties(2.1, 2.2, 2.3)),
  [NATIVE_TYPES.filter]: describe('filter', 'Filter', [2, 2.1, 2.2, 2.3], 1, conditionNodeProperties(2.1, 2.2, 2.3)),
  [NATIVE_TYPES.switch]: describe('switch', 'Switch', [3, 3.1, 3.2, 3.3, 3.4], 1, switchProperties),
  [NATIVE_TYPES.set]: describe('set', 'Edit Fields', [3.3, 3.4], 1, setProperties),
  [NATIVE_TYPES.noop]: describe('noOp', 'No Operation', [1], 1, []),
};
