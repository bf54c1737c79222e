import { gatewayLaneOf } from '../src';
import { closeGateways, gateway, upstreamRejection } from './helpers/gateway-fixture';
import { REQUEST_ID, routes, sendJson } from './helpers/local-server';

afterEach(closeGateways);

describe('videos.remix (POST /v1/videos/{id}/remix)', () => {
  const remixed = { id: 'task_new', task_id: 'task_new', object: 'video', model: 'sora-2', status: 'queued', progress: 0, created_at: 1770313599, seconds: '8', size: '1280x720' };

  it('posts only the prompt to the encoded id and reads the answer like a submit: new id, ratios header, request id', async () => {
    const { server, client } = await gateway((_req, res) => {
      res.setHeader('x-new-api-other-ratios', '{"seconds":8,"size":1}');
      sendJson(res, 200, remixed);
    });
    const result = await client.videos.remix('task_a/b', { prompt: 'make it night' });
    expect(result).toMatchObject({ id: 'task_new', status: 'pending', rawStatus: 'queued', otherRatios: { seconds: 8, size: 1 }, requestId: REQUEST_ID });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/videos/task_a%2Fb/remix' });
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.requests[0]?.body.toString('utf8') ?? 'null')).toEqual({ prompt: 'make it night' });
  });

  it('an unknown original is not_found; a 200 without an id is rejected; a 429 is rate_limited', async () => {
    const { client } = await gateway(
      routes({
        'POST /v1/videos/task_gone/remix': (_req, res) => sendJson(res, 400, { code: 'task_not_exist', message: 'task_not_exist', data: null }),
        'POST /v1/videos/task_odd/remix': (_req, res) => sendJson(res, 200, { object: 'video', status: 'queued' }),
        'POST /v1/videos/task_busy/remix': (_req, res) => sendJson(res, 429, { code: 'fail_to_fetch_task', message: '当前分组上游负载已饱和，请稍后再试', data: null }),
      }),
    );
    expect(await upstreamRejection(client.videos.remix('task_gone', { prompt: 'p' }))).toMatchObject({ kind: 'not_found', upstreamCode: 'task_not_exist' });
    const noId = await upstreamRejection(client.videos.remix('task_odd', { prompt: 'p' }));
    expect(noId.kind).toBe('rejected');
    expect(noId.message).toMatch(/^videos\.remix: HTTP 200 without a task id/);
    expect((await upstreamRejection(client.videos.remix('task_busy', { prompt: 'p' }))).kind).toBe('rate_limited');
  });

  it('takes a place in the video submit lane', () => {
    const base = new URL('http://gw.test/');
    expect(gatewayLaneOf('POST', new URL('/v1/videos/task_1/remix', base), base)).toBe('video_submit');
    expect(gatewayLaneOf('GET', new URL('/v1/videos/task_1/remix', base), base)).toBeNull();
  });
});
