import { Router } from 'express';
import { z } from 'zod';
import { AppError, isId } from '@genqueue/core';
import type { DeliveryWithAttempts, WebhookEndpointRecord } from '@genqueue/db';
import { WEBHOOK_EVENT_TYPES } from '@genqueue/webhooks';
import type { ApiDeps } from '../deps';
import { redeliver } from '../services/webhook-redelivery';
import { deliveryView, endpointView } from '../services/webhook-views';
import { ListDeliveriesQuerySchema } from './webhooks.routes';
import { parseOr400 } from './validation';

export const AdminListEndpointsQuerySchema = z.object({ project_id: z.string().max(64).optional() });

/** The /v1 delivery filters, across projects, plus the event type. */
export const AdminListDeliveriesQuerySchema = ListDeliveriesQuerySchema.extend({
  event_type: z.enum(WEBHOOK_EVENT_TYPES).optional(),
});

/** An endpoint as the admin sees it: its project and failure run, never its secret. */
function adminEndpointView(endpoint: WebhookEndpointRecord): Record<string, unknown> {
  const { secret_prefix: _prefix, ...view } = endpointView(endpoint);
  return { ...view, project_id: endpoint.projectId, failing_since: endpoint.failingSince?.toISOString() ?? null };
}

const adminDeliveryView = (delivery: DeliveryWithAttempts) => ({ ...deliveryView(delivery), project_id: delivery.projectId });

/** Webhook endpoints and deliveries of every project (admin-api.md, Webhooks). */
export function adminWebhooksRoutes(deps: ApiDeps): Router {
  const router = Router();

  router.get('/webhook-endpoints', async (req, res) => {
    const query = parseOr400(AdminListEndpointsQuerySchema, req.query, 'query');
    const endpoints = await deps.adminQueries.listEndpoints(query.project_id);
    res.json({ object: 'list', data: endpoints.map(adminEndpointView) });
  });

  router.post('/webhook-endpoints/:id/enable', async (req, res) => {
    const id = String(req.params['id']);
    const endpoint = isId('wep', id) ? await deps.adminQueries.enableEndpoint(id) : null;
    if (!endpoint) throw new AppError('not_found', `Webhook endpoint ${id} not found`);
    res.json(adminEndpointView(endpoint));
  });

  router.get('/webhook-deliveries', async (req, res) => {
    const query = parseOr400(AdminListDeliveriesQuerySchema, req.query, 'query');
    const page = await deps.adminQueries.listDeliveries(
      { projectId: query.project_id, jobId: query.job_id, endpointId: query.endpoint_id, status: query.status, eventType: query.event_type },
      query.limit,
      query.cursor ?? null,
    );
    res.json({ object: 'list', data: page.data.map(adminDeliveryView), next_cursor: page.nextCursor });
  });

  router.post('/webhook-deliveries/:id/redeliver', async (req, res) => {
    const id = String(req.params['id']);
    const projectId = isId('whd', id) ? await deps.adminQueries.deliveryProjectId(id) : null;
    const delivery = projectId ? await redeliver(deps, projectId, id) : null;
    if (!delivery) throw new AppError('not_found', `Webhook delivery ${id} not found`);
    res.status(202).json(adminDeliveryView(delivery));
  });

  return router;
}
