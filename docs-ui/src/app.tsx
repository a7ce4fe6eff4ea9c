import { useEffect, useMemo, useState } from "preact/hooks";
import { refName, SchemaView } from "./schema.tsx";
import { Inline, Json, Prose } from "./text.tsx";
import type { Document, Entry, MediaType, Operation, Parameter } from "./types.ts";

const METHODS = ["get", "post", "put", "patch", "delete"];

/** Every operation, by tag in the document's order; a GET's HEAD is folded into it. */
export function entriesByTag(doc: Document): [string, Entry[]][] {
  const tags = new Map<string, Entry[]>((doc.tags ?? []).map((tag) => [tag.name, []]));
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = methods[method];
      if (!operation) continue;
      const tag = operation.tags?.[0] ?? "other";
      if (!tags.has(tag)) tags.set(tag, []);
      tags.get(tag)?.push({
        method: method.toUpperCase(),
        path,
        operation,
        head: method === "get" && Boolean(methods.head),
      });
    }
  }
  return [...tags].filter(([, entries]) => entries.length > 0);
}

const matches = (entry: Entry, filter: string) =>
  !filter ||
  `${entry.method} ${entry.path} ${entry.operation.summary ?? ""}`
    .toLowerCase()
    .includes(filter.toLowerCase());

/** The API reference: the document's info and servers, a filterable index, every operation, the error codes. */
export function App({ doc }: { doc: Document }) {
  const [filter, setFilter] = useState("");
  const groups = useMemo(() => entriesByTag(doc), [doc]);
  const shown = groups
    .map(([tag, entries]) => [tag, entries.filter((entry) => matches(entry, filter))] as const)
    .filter(([, entries]) => entries.length > 0);
  // The page is rendered after the document loads: go to the operation the URL names.
  useEffect(() => {
    const id = decodeURIComponent(window.location.hash.slice(1));
    if (id) document.getElementById(id)?.scrollIntoView();
  }, []);
  return (
    <div class="layout">
      <nav class="index" aria-label="Operations">
        <label class="filter">
          <span>Filter</span>
          <input
            type="search"
            value={filter}
            placeholder="path or words"
            onInput={(event) => setFilter((event.target as HTMLInputElement).value)}
          />
        </label>
        {shown.map(([tag, entries]) => (
          <section key={tag}>
            <h2>{tag}</h2>
            <ul>
              {entries.map((entry) => (
                <li key={entry.operation.operationId}>
                  <a href={`#${entry.operation.operationId}`}>
                    <span class={`method ${entry.method.toLowerCase()}`}>{entry.method}</span> {entry.path}
                  </a>
                </li>
              ))}
            </ul>
          </section>
        ))}
        {shown.length === 0 && <p class="muted">No operation matches.</p>}
        <p>
          <a href="#error-codes">Error codes</a> · <a href="openapi.json">openapi.json</a>
        </p>
      </nav>
      <main>
        <header class="intro">
          <h1>
            {doc.info.title} <span class="version">{doc.info.version}</span>
          </h1>
          <Prose text={doc.info.description} />
          <Servers doc={doc} />
          <p class="muted">
            OpenAPI {doc.openapi}: <a href="openapi.json">openapi.json</a>, for code generators and API
            clients.
          </p>
        </header>
        {shown.map(([tag, entries]) => (
          <section key={tag} class="tag">
            <h2>{tag}</h2>
            {entries.map((entry) => (
              <OperationView key={entry.operation.operationId} entry={entry} doc={doc} />
            ))}
          </section>
        ))}
        <ErrorCodes doc={doc} />
      </main>
    </div>
  );
}

function Servers({ doc }: { doc: Document }) {
  const servers = doc.servers ?? [];
  if (servers.length === 0) return null;
  return (
    <section class="servers">
      <h2>Base URL</h2>
      <ul>
        {servers.map((server) => (
          <li key={server.url}>
            <code>{new URL(server.url, window.location.href).href.replace(/\/$/, "")}</code>
            {server.url !== new URL(server.url, window.location.href).href && (
              <span class="muted">
                {" "}
                (<code>{server.url}</code>, relative to this page)
              </span>
            )}
            {server.description && (
              <>
                {": "}
                <Inline text={server.description} />
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function OperationView({ entry, doc }: { entry: Entry; doc: Document }) {
  const { method, path, operation, head } = entry;
  const requestBody = operation.requestBody?.content["application/json"];
  return (
    <article class="operation" id={operation.operationId}>
      <h3>
        <span class={`method ${method.toLowerCase()}`}>{method}</span> <code class="path">{path}</code>
        <a class="anchor" href={`#${operation.operationId}`} aria-label={`Link to ${method} ${path}`}>
          #
        </a>
      </h3>
      <Prose text={operation.summary} />
      <Security operation={operation} doc={doc} />
      {head && <p class="muted">Also answers HEAD: the same status and headers, without the body.</p>}
      <Parameters parameters={operation.parameters ?? []} />
      {operation.requestBody && requestBody && (
        <section>
          <h4>Request body {operation.requestBody.required ? "" : <span class="optional">optional</span>}</h4>
          <Body media={requestBody} doc={doc} label="Example request" />
        </section>
      )}
      <Responses operation={operation} doc={doc} />
      <Curl entry={entry} doc={doc} />
    </article>
  );
}

function Security({ operation, doc }: { operation: Operation; doc: Document }) {
  const names = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (names.length === 0) return <p class="auth">No credentials.</p>;
  return (
    <p class="auth">
      {names.map((name) => {
        const scheme = doc.components?.securitySchemes?.[name];
        return (
          <span key={name}>
            Credentials: <strong>{name}</strong>
            {scheme?.description && (
              <>
                {" — "}
                <Inline text={scheme.description} />
              </>
            )}
          </span>
        );
      })}
    </p>
  );
}

function Parameters({ parameters }: { parameters: Parameter[] }) {
  if (parameters.length === 0) return null;
  return (
    <section>
      <h4>Parameters</h4>
      <dl class="fields">
        {parameters.map((parameter) => (
          <div class="field" key={`${parameter.in}:${parameter.name}`}>
            <dt>
              <code class="name">{parameter.name}</code> <span class="where">{parameter.in}</span>{" "}
              <span class="type">{parameterType(parameter)}</span>
              {parameter.required ? (
                <span class="required">required</span>
              ) : (
                <span class="optional">optional</span>
              )}
            </dt>
            <dd>
              <Inline text={parameter.description ?? parameter.schema?.description ?? ""} />
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** A parameter's type: `integer 1–100`, `"a" | "b"`, `string`. */
const parameterType = ({ schema }: Parameter) => {
  if (!schema) return "string";
  if (schema.$ref) return refName(schema.$ref);
  const type = schema.enum
    ? schema.enum.map((value) => JSON.stringify(value)).join(" | ")
    : (schema.type ?? "string");
  const range =
    schema.minimum !== undefined || schema.maximum !== undefined
      ? ` ${schema.minimum ?? ""}–${schema.maximum ?? ""}`
      : "";
  return `${type}${range}`;
};

function Body({ media, doc, label }: { media: MediaType; doc: Document; label: string }) {
  return (
    <div class="body">
      <SchemaView schema={media.schema} doc={doc} />
      {media.example !== undefined && (
        <details class="example" open>
          <summary>{label}</summary>
          <Json value={media.example} />
        </details>
      )}
    </div>
  );
}

function Responses({ operation, doc }: { operation: Operation; doc: Document }) {
  return (
    <section>
      <h4>Responses</h4>
      <ul class="responses">
        {Object.entries(operation.responses).map(([status, response]) => {
          const [mediaType, media] = Object.entries(response.content ?? {})[0] ?? [];
          const success = status.startsWith("2");
          return (
            <li key={status} class={success ? "success" : status.startsWith("3") ? "redirect" : "failure"}>
              <details open={success}>
                <summary>
                  <span class="status">{status}</span> <Inline text={response.description} />
                </summary>
                {response.headers && (
                  <p class="headers">
                    Headers:{" "}
                    {Object.entries(response.headers).map(([name, header], i) => (
                      <span key={name}>
                        {i > 0 && "; "}
                        <code>{name}</code>
                        {header.description && (
                          <>
                            {" "}
                            <Inline text={header.description} />
                          </>
                        )}
                      </span>
                    ))}
                  </p>
                )}
                {media && mediaType === "application/json" ? (
                  <Body media={media} doc={doc} label="Example answer" />
                ) : mediaType ? (
                  <p class="muted">
                    <code>{mediaType}</code>
                  </p>
                ) : (
                  <p class="muted">No body.</p>
                )}
              </details>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The operation as a curl command against this page's server, with its example body. */
function Curl({ entry, doc }: { entry: Entry; doc: Document }) {
  const { method, path, operation } = entry;
  const base = new URL(doc.servers?.[0]?.url ?? "/", window.location.href).href.replace(/\/$/, "");
  const auth = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement))[0];
  const example = operation.requestBody?.content["application/json"]?.example;
  const lines = [`curl -s${method === "GET" ? "" : ` -X ${method}`} '${base}${path}'`];
  if (auth === "adminToken") lines.push(`-H "authorization: Bearer $ADMIN_TOKEN"`);
  if (auth === "stackSystemToken") lines.push(`-H "authorization: Bearer $INTEGRATOR_SYSTEM_TOKEN"`);
  if (auth === "stripeSignature") lines.push(`-H "stripe-signature: t=...,v1=..."`);
  if (example !== undefined) {
    lines.push("-H 'content-type: application/json'");
    lines.push(`-d '${JSON.stringify(example).replaceAll("'", "'\\''")}'`);
  }
  return (
    <details class="curl">
      <summary>curl</summary>
      <pre class="code">
        <code>{lines.join(" \\\n  ")}</code>
      </pre>
    </details>
  );
}

function ErrorCodes({ doc }: { doc: Document }) {
  const apiError = doc.components?.schemas?.ApiError;
  const code = apiError?.properties?.error?.properties?.code;
  return (
    <section class="tag" id="error-codes">
      <h2>Errors</h2>
      <p>
        Every route but integrator.io's stack answers an error as{" "}
        <code>{'{"error":{"code","message","details"?}}'}</code> (<code>ApiError</code>); the stack's routes
        as <code>{'{"errors":[{"code","message"}]}'}</code> (<code>IntegratorError</code>). API Gateway's own
        answers (a throttled request, a function that failed outright) are <code>{'{"message"}'}</code>.
      </p>
      {code?.enum && (
        <>
          <h3>
            <code>code</code> values
          </h3>
          <Prose text={code.description} class="codes" />
        </>
      )}
    </section>
  );
}
