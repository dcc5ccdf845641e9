/**
 * Copies of big files made on a worker thread while the main thread hashes them, for a context
 * that is to be staged as a folder: a big model's hash and its staged copy (the kernel's
 * copy_file_range) one after the other take more than the local build's first-synth budget
 * leaves beside the synth's fixed cost; on a second core the copy runs during the hash.
 *
 * Synth is synchronous, so the main thread waits with Atomics.wait on a counter the worker bumps
 * after each copy, and reads the results with receiveMessageOnPort (no event loop needed). The
 * worker is unref'd and terminated once its copies are collected; it is plain JavaScript in a
 * string (it runs without the TypeScript toolchain) and only calls fs.copyFileSync.
 *
 * Copies go to a temporary folder in the staging root (`.staging-copy-*`, removed when done, or
 * by the cleanup after an hour if a synth dies) and are moved into the staged context; the
 * source's identity is checked after the copy, as for any staged file (stage-folder.ts).
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from "worker_threads";

const WORKER = `
const { parentPort, workerData } = require("worker_threads");
const fs = require("fs");
parentPort.on("message", ({ id, src, dest }) => {
  let error;
  try {
    fs.copyFileSync(src, dest, fs.constants.COPYFILE_EXCL);
  } catch (e) {
    error = { code: e.code, message: String(e.message) };
  }
  workerData.results.postMessage({ id, error });
  Atomics.add(workerData.done, 0, 1);
  Atomics.notify(workerData.done, 0);
});
`;

/** Files at least this big are copied in the background (smaller ones cost less than a worker's start). */
export const BACKGROUND_COPY_MIN_BYTES = 32 << 20;

export interface CopyResult {
  /** The copy, or undefined when it failed (the caller copies again the usual way). */
  readonly file?: string;
  readonly error?: string;
}

export class BackgroundCopies {
  private worker?: Worker;
  private results?: MessagePort;
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, string>();
  private readonly finished = new Map<number, CopyResult>();
  private dir?: string;
  private next = 0;

  constructor(private readonly root: string) {}

  /** Starts copying `src` (a dense file: holes are not kept); returns the job to `take`. */
  public start(src: string): number {
    if (this.worker === undefined) {
      this.dir = fs.mkdtempSync(path.join(this.root, `.staging-copy-${process.pid}-${randomBytes(3).toString("hex")}-`));
      const { port1, port2 } = new MessageChannel();
      this.results = port1;
      this.worker = new Worker(WORKER, { eval: true, workerData: { results: port2, done: this.done }, transferList: [port2] });
      this.worker.unref();
      port1.unref();
    }
    const id = this.next++;
    const dest = path.join(this.dir!, String(id));
    this.pending.set(id, dest);
    this.worker.postMessage({ id, src, dest });
    return id;
  }

  /** Waits for job `id` and returns its copy (the caller moves it away) or its error. */
  public take(id: number): CopyResult {
    while (!this.finished.has(id)) {
      const seen = Atomics.load(this.done, 0);
      let message = receiveMessageOnPort(this.results!);
      while (message !== undefined) {
        const { id: done, error } = message.message as { id: number; error?: { code?: string; message: string } };
        const dest = this.pending.get(done)!;
        this.pending.delete(done);
        if (error === undefined) this.finished.set(done, { file: dest });
        else {
          fs.rmSync(dest, { force: true });
          this.finished.set(done, { error: `${error.code ?? ""} ${error.message}`.trim() });
        }
        message = receiveMessageOnPort(this.results!);
      }
      if (!this.finished.has(id)) Atomics.wait(this.done, 0, seen, 60_000);
    }
    const result = this.finished.get(id)!;
    this.finished.delete(id);
    return result;
  }

  /** Waits for every copy still running, removes what is left of them, and stops the worker. */
  public close(): void {
    // take() also removes the other jobs it collects on the way: those are then not visited.
    for (const id of this.pending.keys()) this.take(id);
    for (const result of this.finished.values()) if (result.file !== undefined) fs.rmSync(result.file, { force: true });
    this.finished.clear();
    void this.worker?.terminate();
    this.worker = undefined;
    this.results?.close();
    if (this.dir !== undefined) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
