import type { Command } from 'commander';
import type { Output } from '../local/terminal.ts';
import { registerScan } from './scan.ts';
import { registerRotate } from './rotate.ts';
import { registerRetire } from './retire.ts';
import { registerDemo } from './demo.ts';
import { registerStatus } from './status.ts';
import { registerConfirm } from './confirm.ts';
import { registerAbort } from './abort.ts';
import { registerSubscribe } from './subscribe.ts';
import { registerAdoptSecret } from './adopt-secret.ts';
import { registerConsumers } from './consumers.ts';
import { registerReport } from './report.ts';
import { registerUsage } from './usage.ts';
import { cloudtrailFor } from '#shared/aws/clients/cloudtrail.ts';
import { logs } from '#shared/aws/clients/cloudwatch-logs.ts';
import { NoCloudTrailSourceError } from '#shared/base/errors.ts';
import { inProcessKeyCallReader, inProcessRegions } from '#shared/consumers/reader.ts';
import { withLocalTrail } from '#local/cloudtrail-recorder.ts';
import type { KeyCallReader } from '#shared/aws/key-calls.ts';
import type { Config } from '#shared/config/settings.ts';

/** Every subcommand registers itself here; each lives in its own file under cli/. */
export function registerCommands(program: Command, output: Output, setResult: (code: number) => void): void {
  registerScan(program, output, setResult);
  registerRotate(program, output, setResult);
  registerRetire(program, output, setResult);
  registerStatus(program, output, setResult);
  registerConfirm(program, output, setResult);
  registerAbort(program, output, setResult);
  registerSubscribe(program, output, setResult);
  registerAdoptSecret(program, output, setResult);
  registerConsumers(program, output, setResult, async (config) => cliReader(withLocalTrail(config)));
  registerUsage(program, output, setResult, async (base) => {
    const config = withLocalTrail(base);
    return {
      // usage needs each call's resources; the rotation's readers never keep them.
      reader: cliReader(config, { resources: true }),
      read: {
        // Against moto (AWS_ENDPOINT_URL) there is no event history to read: inProcessKeyCallReader leaves it out.
        eventHistoryRegions: process.env.AWS_ENDPOINT_URL === undefined ? inProcessRegions(config, process.env) : [],
        trailLogGroup: config.cloudtrailLogGroup === '' ? undefined : config.cloudtrailLogGroup,
      },
    };
  });
  registerReport(program, output, setResult);
  registerDemo(program, output, setResult);
}

/** The CLI's CloudTrail reader (consumers, usage), or the error that says how to get one. */
function cliReader(config: Config, keep: { readonly resources?: boolean } = {}): KeyCallReader {
  const reader = inProcessKeyCallReader(config, { cloudtrailFor, logs }, process.env, config.cloudtrailDeliveryDelayMs, keep);
  if (!reader) {
    throw new NoCloudTrailSourceError(
      'No CloudTrail source to read: against moto (AWS_ENDPOINT_URL) only a trail log group can be read; set CLOUDTRAIL_LOG_GROUP, or run against AWS, where event history is read.',
    );
  }
  return reader;
}
