import { parse, type Tags } from 'yaml';

// CloudFormation's short forms (!Sub, !If, ...) as the long forms the service sees ({"Fn::Sub": ...}).
const INTRINSICS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
];
const CLOUDFORMATION_TAGS: Tags = [
  { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) },
  { tag: '!Condition', resolve: (value: string) => ({ Condition: value }) },
  { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.') }) },
  { tag: '!GetAtt', collection: 'seq', resolve: (value) => ({ 'Fn::GetAtt': value.toJSON() }) },
  ...INTRINSICS.flatMap((name) => [
    { tag: `!${name}`, resolve: (value: string) => ({ [`Fn::${name}`]: value }) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (value: { toJSON(): unknown }) => ({ [`Fn::${name}`]: value.toJSON() }) },
    { tag: `!${name}`, collection: 'map' as const, resolve: (value: { toJSON(): unknown }) => ({ [`Fn::${name}`]: value.toJSON() }) },
  ]),
];

/** A CloudFormation YAML template as the service reads it: short-form intrinsics become their long forms. */
export function parseCloudFormationYaml(text: string): unknown {
  return parse(text, { customTags: CLOUDFORMATION_TAGS });
}
