import { parseSettings } from '../src/settings';

describe('parseSettings', () => {
  it('refuses private URLs by default in every environment; only ALLOW_PRIVATE_URLS=true allows them', () => {
    for (const NODE_ENV of ['development', 'test', 'production']) {
      expect(parseSettings({ NODE_ENV }).allowPrivateUrls).toBe(false);
      expect(parseSettings({ NODE_ENV, ALLOW_PRIVATE_URLS: 'true' }).allowPrivateUrls).toBe(true);
    }
  });

  it('points artifact links at ARTIFACT_BASE_URL when set, else at the public base URL', () => {
    expect(parseSettings({ PORT: '9000' }).artifactBaseUrl).toBe('http://127.0.0.1:9000');
    expect(parseSettings({ PUBLIC_BASE_URL: 'https://api.example.com/' }).artifactBaseUrl).toBe('https://api.example.com');
    expect(parseSettings({ PUBLIC_BASE_URL: 'https://api.example.com', ARTIFACT_BASE_URL: 'https://files.example.net/' }).artifactBaseUrl).toBe('https://files.example.net');
  });
});
