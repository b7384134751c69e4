import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { IAMClient } from '@aws-sdk/client-iam';
import { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP } from '#local/cloudtrail-recorder.ts';
import { SimulatedConsumer } from '#local/consumer.ts';
import { secretsManager } from './rotation-fixtures.ts';

/**
 * Consumers whose every call is a record of the local CloudTrail stand-in (a moto log group; a call on
 * a key that is not Active is refused with no record, as on AWS), for the e2e tests of the
 * consumers-moved gate and the observation's silence check. Call `stopAll` after each test.
 */
export class TrailedConsumers {
  private readonly running: SimulatedConsumer[] = [];

  /**
   * Each test's own recorder, and its own IAM client for the rotation to change keys with, which the
   * recorder watches: a consumer's call is done before a change or refused after it. A client of its
   * own, so no earlier test's recorder still watches the changes this test makes.
   */
  recorder(): { trail: CloudTrailRecorder; rotatorIam: IAMClient } {
    const rotatorIam = new IAMClient({});
    const trail = new CloudTrailRecorder({ iam: rotatorIam, logs: new CloudWatchLogsClient({}), logGroupName: LOCAL_CLOUDTRAIL_LOG_GROUP });
    trail.watchKeyChanges(rotatorIam);
    return { trail, rotatorIam };
  }

  /** A consumer of the user's secret calling every 40 ms from `sourceIp`, started. */
  start(userName: string, trail: CloudTrailRecorder, name: string, sourceIp: string, followsRotation: boolean): SimulatedConsumer {
    const made = new SimulatedConsumer({
      userName,
      name,
      sourceIp,
      secretId: `iam-key-rotator/${userName}`,
      secretsManager,
      followsRotation,
      intervalMs: 40,
      recorder: trail,
    });
    this.running.push(made);
    made.start();
    return made;
  }

  /**
   * Until each consumer has called the old key often enough for its cadence and silence to count
   * (MIN_CALLS_FOR_SILENCE is 5): a fixed pause left a slow machine with fewer calls, and then the
   * silence said nothing and the observation passed.
   */
  async warmUp(): Promise<void> {
    const until = Date.now() + 10_000;
    while (this.running.some((made) => made.snapshot().calls < 8) && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((consumer) => consumer.stop()));
  }
}
