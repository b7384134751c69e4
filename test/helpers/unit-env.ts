// Unit tests never reach AWS: fake credentials and a closed local endpoint catch any unmocked call.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit-test';
process.env.AWS_SECRET_ACCESS_KEY = 'unit-test';
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
process.env.POWERTOOLS_DEV = 'false';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
delete process.env.AWS_PROFILE;
// CI=true makes picocolors colour its output; tests read plain text.
process.env.NO_COLOR = '1';
