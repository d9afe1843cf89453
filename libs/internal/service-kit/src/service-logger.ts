import type { Logger } from 'pino';

/** The logger a service gets from its app: a pino logger (or a child of one). */
export type ServiceLogger = Logger;
