import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { newError } from '@agola-ts/errors';
import { TestkitErrorCodes } from './codes.js';

const TAIL_BYTES = 16 * 1024;

/** Options of {@link ManagedProcess}. */
export interface ManagedProcessOptions {
  /** Name used in error messages (`etcd`, `s3rver`). */
  name: string;
  command: string;
  args: string[];
  /** Full process output is appended to this file, kept for failures. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A child process whose output is kept (a tail in memory, all of it in a log file) so a
 * start failure or a crash can say what the component printed.
 */
export class ManagedProcess {
  readonly options: ManagedProcessOptions;
  private child: ChildProcess | undefined;
  private tail = '';
  private log: WriteStream | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(options: ManagedProcessOptions) {
    this.options = options;
  }

  /** Spawns the process (it is not waited for: see {@link waitReady}). */
  start(): void {
    this.exitInfo = undefined;
    this.log = createWriteStream(this.options.logFile, { flags: 'a' });
    const child = spawn(this.options.command, this.options.args, {
      env: this.options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (chunk: Buffer) => {
      this.log?.write(chunk);
      this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.tail += `\nspawn error: ${err.message}`;
        this.exitInfo = { code: null, signal: null };
        resolve();
      });
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** PID of the running process. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last output of the process (up to 16 KiB). */
  output(): string {
    return this.tail;
  }

  /**
   * Polls `check` until it resolves true. Fails with the output tail when the process exits
   * first or `timeoutMs` passes.
   */
  async waitReady(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw this.startError(`exited during start (${this.exitText()})`);
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw this.startError(`not ready after ${timeoutMs} ms`);
  }

  /** Stops the process: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.child || !this.running) {
      await this.closeLog();
      return;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    await this.closeLog();
  }

  /** Kills the process at once (a crash, for failure tests). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child && this.running) {
      this.child.kill(signal);
      await this.exited;
    }
    await this.closeLog();
  }

  private exitText(): string {
    const info = this.exitInfo;
    if (!info) return 'running';
    return info.signal ? `signal ${info.signal}` : `exit code ${String(info.code)}`;
  }

  private startError(what: string) {
    return newError(
      `${this.options.name} ${what}; log ${this.options.logFile}; last output:\n${this.tail.trim()}`,
      { code: TestkitErrorCodes.StartFailed },
    );
  }

  private async closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
}
