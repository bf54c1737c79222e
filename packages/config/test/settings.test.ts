import { gatewayLaneMaxPerMinute, parseSettings } from '../src/settings';

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

describe('gatewayLaneMaxPerMinute', () => {
  it('gives submits the lane rate and polls their own budget', () => {
    const { lanes } = parseSettings({ LANE_VIDEO_RPM: '30', LANE_VIDEO_POLL_RPM: '6000', LANE_IMAGE_RPM: '90' });
    expect(gatewayLaneMaxPerMinute(lanes, 'video_submit')).toBe(30);
    expect(gatewayLaneMaxPerMinute(lanes, 'video_poll')).toBe(6000);
    expect(gatewayLaneMaxPerMinute(lanes, 'mj_poll')).toBe(1200);
    expect(gatewayLaneMaxPerMinute(lanes, 'image')).toBe(90);
    expect(gatewayLaneMaxPerMinute(lanes, 'embedding')).toBe(600);
  });

  it('refuses a poll budget that is not a positive integer', () => {
    expect(() => parseSettings({ LANE_MJ_POLL_RPM: '0' })).toThrow(/LANE_MJ_POLL_RPM/);
  });
});
