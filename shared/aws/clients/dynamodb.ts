import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const dynamodb = new DynamoDBClient(CLIENT_DEFAULTS);
