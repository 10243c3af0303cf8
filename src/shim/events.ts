// Task events to containerd, the way shim v2 hands them over: the publish binary named by
// -publish-binary (containerd itself) run as `BIN --address ADDR publish --topic T
// --namespace NS` with the event as a protobuf Any on stdin, its type URL the message's
// full name (containerd.events.TaskExit), as containerd's typeurl registry knows it.

import { spawn } from 'node:child_process';
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { AnySchema, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';

export interface PublisherOptions { binary: string; address: string; namespace: string; log: (msg: string) => void }

export class EventPublisher {
  /** Events leave in order: each waits for the one before (containerd orders a task's events by arrival). */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: PublisherOptions) {}

  publish<D extends DescMessage>(topic: string, schema: D, event: MessageInitShape<D>): Promise<void> {
    const msg = create(schema, event);
    const any = create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, msg) });
    const body = toBinary(AnySchema, any);
    this.chain = this.chain.then(() => this.send(topic, body));
    return this.chain;
  }

  /** Resolves when every event published so far has been handed over (or failed). */
  flush(): Promise<void> { return this.chain; }

  private send(topic: string, body: Uint8Array): Promise<void> {
    if (this.o.binary === '') return Promise.resolve();
    return new Promise((resolve) => {
      const p = spawn(this.o.binary, ['--address', this.o.address, 'publish', '--topic', topic, '--namespace', this.o.namespace], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      p.on('error', (e) => { this.o.log(`publish ${topic}: ${e.message}`); resolve(); });
      p.on('close', (code) => { if (code !== 0) this.o.log(`publish ${topic}: exit ${code}: ${err.trim()}`); resolve(); });
      p.stdin!.on('error', () => {});
      p.stdin!.end(body);
    });
  }
}

export function now(): Timestamp { return timestampFromDate(new Date()); }
