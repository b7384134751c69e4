// The floor under every function that calls AWS: Node's own http and https (TLS) modules, which the
// SDK's HTTP handler loads. No bundle can import faster than this.
import * as http from 'node:http';
import * as https from 'node:https';

export const modules = [http, https];
