import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, idSchema, isId, listCursorSchema } from '@genqueue/core';
import { generateWebhookSecret, SECRET_ROTATION_OVERLAP_MS, WEBHOOK_EVENT_TYPES } from '@genqueue/webhooks';
import type { ApiDeps } from '../deps';
import { projectIdOf } from '../middleware/auth';
import { deliveryView, endpointView } from '../services/webhook-views';
import { redeliver } from '../services/webhook-redelivery';
import { assertWebhookUrlAllowed } from '../services/webhook-urls';
import { targetProjectOf } from '../services/target-project';
import { parseOr400 } from './validation';

export const CreateEndpointSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
  event_types: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((types) => new Set(types).size === types.length, 'must not repeat an event type')
    .optional(),
  description: z.string().trim().max(500).optional(),
});

export const ListDeliveriesQuerySchema = z.object({
  job_id: idSchema('job', 'a job id').optional(),
  endpoint_id: idSchema('wep', 'an endpoint id').optional(),
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: listCursorSchema('whd').optional(),
  project_id: z.string().max(64).optional(),
});

/**
 * The project's webhook secret, its endpoints, and its deliveries with their attempts (api.md,
 * Webhooks). Every id of another project answers 404, as an unknown one does.
 */
export function webhooksRoutes(deps: ApiDeps, guard: RequestHandler[]): Router {
  const router = Router();
  router.use(['/webhook-secret', '/webhook-endpoints', '/webhook-deliveries'], ...guard);

  /** The caller's project; for the admin key the one named by ?project_id=, which must exist. */
  const projectOf = (req: Request): Promise<string> => targetProjectOf(req, deps.projects);

  router.get('/webhook-secret', async (req, res) => {
    const projectId = await projectOf(req);
    const secrets = await deps.webhookSecrets.getOrCreateProjectSecret(projectId, generateWebhookSecret);
    if (!secrets) throw new AppError('not_found', `Project ${projectId} not found`);
    res.json({ object: 'webhook_secret', secret: secrets.secret });
  });

  router.post('/webhook-secret/rotate', async (req, res) => {
    const projectId = await projectOf(req);
    const rotated = await deps.webhookSecrets.rotateProjectSecret(projectId, generateWebhookSecret());
    if (!rotated) throw new AppError('not_found', `Project ${projectId} not found`);
    res.json({ object: 'webhook_secret', secret: rotated.secret });
  });

  router.post('/webhook-endpoints', async (req, res) => {
    const projectId = await projectOf(req);
    const body = parseOr400(CreateEndpointSchema, req.body ?? {}, 'request body');
    assertWebhookUrlAllowed(body.url, deps.settings.allowPrivateUrls, 'url');
    const endpoint = await deps.webhookEndpoints.createEndpoint({
      projectId,
      url: body.url,
      description: body.description ?? null,
      eventTypes: body.event_types ?? [],
      secret: generateWebhookSecret(),
    });
    res.status(201).json(endpointView(endpoint, true));
  });

  // A new secret, shown this once; the old one still signs (beside it) for 24 h, so receivers can
  // switch without losing a delivery.
  router.post('/webhook-endpoints/:id/rotate-secret', async (req, res) => {
    const projectId = await projectOf(req);
    const id = String(req.params['id']);
    const rotated = isId('wep', id) ? await deps.webhookEndpoints.rotateEndpointSecret(projectId, id, generateWebhookSecret()) : null;
    if (!rotated) throw new AppError('not_found', `Webhook endpoint ${id} not found`);
    res.json({ ...endpointView(rotated, true), previous_secret_expires_at: new Date((rotated.secretRotatedAt ?? new Date()).getTime() + SECRET_ROTATION_OVERLAP_MS).toISOString() });
  });

  router.get('/webhook-endpoints', async (req, res) => {
    const projectId = await projectOf(req);
    const endpoints = await deps.webhookEndpoints.listEndpoints(projectId);
    res.json({ object: 'list', data: endpoints.map((endpoint) => endpointView(endpoint)) });
  });

  router.delete('/webhook-endpoints/:id', async (req, res) => {
    const projectId = await projectOf(req);
    const id = String(req.params['id']);
    if (!isId('wep', id) || !(await deps.webhookEndpoints.deleteEndpoint(projectId, id))) {
      throw new AppError('not_found', `Webhook endpoint ${id} not found`);
    }
    res.json({ id, object: 'webhook_endpoint', deleted: true });
  });

  router.get('/webhook-deliveries', async (req, res) => {
    // A project key lists its own project; the admin key every project, or the one it names.
    const projectId = projectIdOf(req) ?? undefined;
    const query = parseOr400(ListDeliveriesQuerySchema, req.query, 'query');
    const page = await deps.webhookDeliveries.listDeliveries(
      { projectId, jobId: query.job_id, endpointId: query.endpoint_id, status: query.status },
      query.limit,
      query.cursor ?? null,
    );
    res.json({ object: 'list', data: page.data.map(deliveryView), next_cursor: page.nextCursor });
  });

  router.get('/webhook-deliveries/:id', async (req, res) => {
    const projectId = await projectOf(req);
    const id = String(req.params['id']);
    const delivery = isId('whd', id) ? await deps.webhookDeliveries.findForProject(projectId, id) : null;
    if (!delivery) throw new AppError('not_found', `Webhook delivery ${id} not found`);
    res.json(deliveryView(delivery));
  });

  router.post('/webhook-deliveries/:id/redeliver', async (req, res) => {
    const projectId = await projectOf(req);
    const id = String(req.params['id']);
    const delivery = await redeliver(deps, projectId, id);
    if (!delivery) throw new AppError('not_found', `Webhook delivery ${id} not found`);
    res.status(202).json(deliveryView(delivery));
  });

  return router;
}
