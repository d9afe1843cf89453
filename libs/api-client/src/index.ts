export { createHttpCaller } from './http-caller.js';
export type { HttpCaller, HttpCallerCodes, HttpCallerOptions, HttpRequest } from './http-caller.js';
