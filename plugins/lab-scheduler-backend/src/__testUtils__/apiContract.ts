import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { parse } from 'yaml';

/** Where the plugin's routes are mounted in a test backend. */
export const API_PREFIX = '/api/lab-scheduler';

/** The plugin's OpenAPI document: the one source of the REST contract. */
export const openApiDocument = parse(
  readFileSync(resolve(__dirname, '../schema/openapi.yaml'), 'utf8'),
);

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** A documented operation: `GET /tasks/{id}`, with the regexp its concrete paths match. */
export interface DocumentedOperation {
  method: string;
  template: string;
  pattern: RegExp;
}

/** Every operation of the document; literal segments before parameters (`/tasks/x` is not `/tasks/{id}`). */
export const documentedOperations: DocumentedOperation[] = Object.entries<any>(
  openApiDocument.paths,
)
  .flatMap(([template, item]) =>
    METHODS.filter(method => item[method]).map(method => ({
      method,
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    })),
  )
  .sort(
    (a, b) =>
      (a.template.match(/\{/g)?.length ?? 0) -
      (b.template.match(/\{/g)?.length ?? 0),
  );

/** One response that does not match the document. */
export interface ContractViolation {
  request: string;
  status: number;
  problem: string;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(openApiDocument, 'openapi');
const validators = new Map<string, ValidateFunction>();

function validatorAt(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

const escape = (segment: string) =>
  segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** The documented response of an operation for a status, and its JSON pointer (through one `$ref`). */
function documentedResponse(operation: DocumentedOperation, status: string) {
  const response =
    openApiDocument.paths[operation.template][operation.method].responses?.[
      status
    ];
  if (!response) return undefined;
  if (typeof response.$ref === 'string') {
    const name = response.$ref.replace('#/components/responses/', '');
    return {
      pointer: `#/components/responses/${escape(name)}`,
      response: openApiDocument.components.responses[name],
    };
  }
  return {
    pointer: `#/paths/${escape(operation.template)}/${
      operation.method
    }/responses/${escape(status)}`,
    response,
  };
}

/**
 * Checks one response against the document; returns what is wrong, or undefined. A 404 of a path the
 * document does not know is not a route's answer and is not checked. Errors (4xx, 5xx) a route does
 * not list are held to Backstage's error shape (`components.schemas.Error`).
 */
export function checkResponse(
  method: string,
  path: string,
  status: number,
  contentType: string | undefined,
  body: string,
): string | undefined {
  if (!path.startsWith(`${API_PREFIX}/`)) return undefined;
  const apiPath = path.slice(API_PREFIX.length);
  // Served by backend-openapi-utils' router itself.
  if (apiPath === '/openapi.json') return undefined;
  const operation = documentedOperations.find(
    o => o.method === method.toLowerCase() && o.pattern.test(apiPath),
  );
  if (!operation) {
    return status === 404 ? undefined : 'the route is not in the document';
  }
  const documented =
    documentedResponse(operation, String(status)) ??
    documentedResponse(operation, 'default');
  let schemaPointer: string | undefined;
  let mediaTypes: string[] = [];
  if (documented) {
    mediaTypes = Object.keys(documented.response.content ?? {});
    if (documented.response.content?.['application/json']?.schema) {
      schemaPointer = `${documented.pointer}/content/application~1json/schema`;
    }
  } else if (status >= 400) {
    mediaTypes = ['application/json'];
    schemaPointer = '#/components/schemas/Error';
  } else {
    return `status ${status} is not documented for ${operation.method.toUpperCase()} ${
      operation.template
    }`;
  }
  const mediaType = contentType?.split(';')[0].trim();
  if (body.length === 0) {
    return mediaTypes.length > 0 && status !== 204
      ? `the documented body (${mediaTypes.join(', ')}) is missing`
      : undefined;
  }
  if (!mediaType || !mediaTypes.includes(mediaType)) {
    return `content type ${mediaType} is not documented (${
      mediaTypes.join(', ') || 'no body'
    })`;
  }
  if (mediaType !== 'application/json' || !schemaPointer) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'the body is not JSON';
  }
  const validate = validatorAt(schemaPointer);
  if (validate(value)) return undefined;
  return `body does not match ${schemaPointer}: ${ajv.errorsText(
    validate.errors,
  )}`;
}

/**
 * Records every response the server sends and checks it against the document, so that each API test
 * also tests the contract. Read `violations` or call `assertNone()` when the server has stopped.
 */
export function recordContractViolations(server: Server) {
  const violations: ContractViolation[] = [];
  // First listener: it must wrap the response before the app writes to it.
  server.prependListener(
    'request',
    (req: IncomingMessage, res: ServerResponse) => {
      // Read now: the app's mounted routers rewrite req.url while they handle it.
      const method = req.method ?? 'GET';
      const path = (req.url ?? '').split('?')[0];
      const chunks: Buffer[] = [];
      const collect = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null) return;
        if (typeof chunk === 'function') return;
        chunks.push(
          Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(
                chunk as string,
                typeof encoding === 'string'
                  ? (encoding as BufferEncoding)
                  : 'utf8',
              ),
        );
      };
      const write = res.write.bind(res);
      const end = res.end.bind(res);
      res.write = ((chunk: any, ...rest: any[]) => {
        collect(chunk, rest[0]);
        return (write as any)(chunk, ...rest);
      }) as typeof res.write;
      res.end = ((chunk?: any, ...rest: any[]) => {
        collect(chunk, rest[0]);
        return (end as any)(chunk, ...rest);
      }) as typeof res.end;
      res.on('finish', () => {
        const problem = checkResponse(
          method,
          path,
          res.statusCode,
          String(res.getHeader('content-type') ?? '') || undefined,
          Buffer.concat(chunks).toString('utf8'),
        );
        if (problem) {
          violations.push({
            request: `${method} ${path}`,
            status: res.statusCode,
            problem,
          });
        }
      });
    },
  );
  return {
    violations,
    assertNone() {
      if (violations.length === 0) return;
      const shown = violations
        .slice(0, 10)
        .map(v => `  ${v.request} → ${v.status}: ${v.problem}`)
        .join('\n');
      throw new Error(
        `${violations.length} response(s) do not match openapi.yaml:\n${shown}`,
      );
    },
  };
}
