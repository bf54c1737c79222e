import { ConfigError, parseSettings } from '../src/settings';

describe('storage and retention settings', () => {
  it('defaults to local storage with API links and an hourly prune', () => {
    const s = parseSettings({});
    expect(s).toMatchObject({
      STORAGE_DRIVER: 'local',
      STORAGE_PUBLIC_LINKS: 'api',
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: false,
      RETENTION_INTERVAL_MS: 3_600_000,
      RETENTION_BATCH_SIZE: 500,
      RETENTION_BATCH_PAUSE_MS: 50,
    });
  });

  it('reads an S3 configuration', () => {
    const s = parseSettings({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'artifacts',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'ak',
      S3_SECRET_ACCESS_KEY: 'sk',
      S3_FORCE_PATH_STYLE: 'true',
      STORAGE_PUBLIC_LINKS: 'presigned',
    });
    expect(s).toMatchObject({ STORAGE_DRIVER: 's3', S3_BUCKET: 'artifacts', S3_FORCE_PATH_STYLE: true, STORAGE_PUBLIC_LINKS: 'presigned' });
  });

  it('refuses S3 without a bucket, presigned links without S3, and half a key pair', () => {
    expect(() => parseSettings({ STORAGE_DRIVER: 's3' })).toThrow(ConfigError);
    expect(() => parseSettings({ STORAGE_PUBLIC_LINKS: 'presigned' })).toThrow(/needs STORAGE_DRIVER=s3/);
    expect(() => parseSettings({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'ak' })).toThrow(/go together/);
    expect(() => parseSettings({ STORAGE_DRIVER: 'gcs' })).toThrow(ConfigError);
    expect(() => parseSettings({ RETENTION_BATCH_SIZE: '0' })).toThrow(ConfigError);
  });
});
