export { buildOpenApiDocument, requestSchema, typeName } from './document';
export { ERROR_STATUSES, OPERATIONS, RESPONSE_COMPONENTS, type Access, type Method, type Operation, type ResponseSpec } from './operations';
