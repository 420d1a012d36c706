import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** Where raw measurement data was stored. */
export interface StoredObject {
  uri: string;
  bytes: number;
  sha256: string;
}

/** Object storage for raw data: S3 in production, a local folder on the embedded default. */
export interface RawDataStore {
  put(key: string, body: string, contentType?: string): Promise<StoredObject>;
}

function describe(uri: string, body: string): StoredObject {
  return {
    uri,
    bytes: Buffer.byteLength(body),
    sha256: createHash('sha256').update(body).digest('hex'),
  };
}

export class LocalRawDataStore implements RawDataStore {
  private readonly root: string;

  constructor(directory: string) {
    this.root = resolve(directory);
  }

  async put(key: string, body: string): Promise<StoredObject> {
    const path = join(this.root, key);
    if (!path.startsWith(this.root))
      throw new Error(`Invalid raw data key ${key}`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    return describe(`file://${path}`, body);
  }
}

export class S3RawDataStore implements RawDataStore {
  constructor(
    private readonly options: {
      bucket: string;
      prefix?: string;
      client: S3Client;
    },
  ) {}

  async put(
    key: string,
    body: string,
    contentType = 'application/json',
  ): Promise<StoredObject> {
    const objectKey = `${this.options.prefix ?? ''}${key}`;
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: objectKey,
        Body: body,
        ContentType: contentType,
      }),
    );
    return describe(`s3://${this.options.bucket}/${objectKey}`, body);
  }
}
