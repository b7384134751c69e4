import rotateKeyDefinition from '../statemachines/rotate-key.asl.json';

/**
 * The rotation ASL as Step Functions receives it after deployment: every
 * `{"Fn::GetAtt": [fn, "Arn"]}` (which serverless-step-functions turns into the function's ARN)
 * becomes a plain Lambda ARN, so local tools (moto, aws-local-stepfunctions, asl-validator) accept it.
 */
export function deployableRotateKeyAsl(region: string, accountId: string): Record<string, unknown> {
  return JSON.parse(JSON.stringify(rotateKeyDefinition), (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && 'Fn::GetAtt' in value) {
      const target = (value as { 'Fn::GetAtt': unknown })['Fn::GetAtt'];
      if (Array.isArray(target) && typeof target[0] === 'string') {
        return `arn:aws:lambda:${region}:${accountId}:function:iam-key-rotator-local-${target[0]}`;
      }
    }
    return value;
  }) as Record<string, unknown>;
}
