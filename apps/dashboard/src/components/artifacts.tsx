import { useQuery } from '@tanstack/react-query';
import { artifactContentUrl } from '../api/jobs';
import type { Artifact, Job } from '../api/types';
import { formatBytes, formatNumber } from '../lib/time';
import { CopyButton } from './copy-button';
import { Skeleton } from './feedback';

const PREVIEW_BYTES = 16_384;

function isText(a: Artifact): boolean {
  return a.content_type.startsWith('text/') || a.kind === 'subtitles' || a.content_type.includes('json') || a.content_type.includes('ndjson');
}

/** First bytes of a (possibly huge) artifact through a Range request. */
async function fetchHead(id: string): Promise<{ text: string; partial: boolean }> {
  const res = await fetch(artifactContentUrl(id), { headers: { range: `bytes=0-${PREVIEW_BYTES - 1}` }, credentials: 'same-origin' });
  if (!res.ok && res.status !== 206) throw new Error(`The artifact answered ${res.status}`);
  const text = await res.text();
  // `Content-Range: bytes 0-743/744` says whether there is more than we asked for
  const total = Number(res.headers.get('content-range')?.split('/')[1] ?? NaN);
  const partial = res.status === 206 && !(Number.isFinite(total) && total <= PREVIEW_BYTES);
  return { text, partial };
}

function shortenVectors(line: string): string {
  try {
    const row = JSON.parse(line) as Record<string, unknown>;
    const vector = row['embedding'];
    if (Array.isArray(vector)) {
      const head = vector.slice(0, 4).map((v) => (typeof v === 'number' ? v.toFixed(4) : String(v)));
      row['embedding'] = `[${head.join(', ')}, … ${vector.length} dims]`;
    } else if (typeof vector === 'string' && vector.length > 40) {
      row['embedding'] = `${vector.slice(0, 32)}… (base64)`;
    }
    return JSON.stringify(row);
  } catch {
    return line.length > 200 ? `${line.slice(0, 200)}…` : line;
  }
}

function TextPreview({ artifact, jsonl }: { artifact: Artifact; jsonl: boolean }) {
  const head = useQuery({ queryKey: ['artifact-head', artifact.id], queryFn: () => fetchHead(artifact.id), staleTime: Infinity });
  if (head.isPending) return <Skeleton height={80} />;
  if (head.error) return <div className="banner banner-error">{(head.error as Error).message}</div>;
  let lines = head.data.text.split('\n');
  // a cut-off last line of a partial read is not shown
  if (head.data.partial && lines.length > 1) lines = lines.slice(0, -1);
  if (jsonl) lines = lines.filter(Boolean).slice(0, 8).map(shortenVectors);
  return (
    <pre className="text-preview" data-testid={`artifact-text-${artifact.kind}`}>
      {lines.join('\n')}
      {head.data.partial ? '\n…' : ''}
    </pre>
  );
}

function ArtifactMeta({ a }: { a: Artifact }) {
  return (
    <div className="artifact-meta">
      <span className="chip">{a.kind}</span>
      <span className="mono small">{a.content_type}</span>
      <span className="small muted">{formatBytes(a.bytes)}</span>
      <a className="link small" href={artifactContentUrl(a.id)} target="_blank" rel="noreferrer">
        Open ↗
      </a>
      <CopyButton text={a.id} label="Copy id" />
    </div>
  );
}

function EmbeddingCounts({ output }: { output: Record<string, unknown> }) {
  const usage = (output['usage'] ?? {}) as Record<string, number>;
  return (
    <div className="kpis kpis-small">
      <div className="kpi">
        <div className="kpi-label">Inputs</div>
        <div className="kpi-value">{formatNumber(Number(output['count'] ?? 0))}</div>
      </div>
      <div className="kpi">
        <div className="kpi-label">Succeeded</div>
        <div className="kpi-value text-succeeded">{formatNumber(Number(output['succeeded'] ?? 0))}</div>
      </div>
      <div className="kpi">
        <div className="kpi-label">Failed</div>
        <div className={`kpi-value ${Number(output['failed'] ?? 0) > 0 ? 'text-failed' : ''}`}>{formatNumber(Number(output['failed'] ?? 0))}</div>
      </div>
      <div className="kpi">
        <div className="kpi-label">Tokens</div>
        <div className="kpi-value">{formatNumber(usage['total_tokens'] ?? null)}</div>
      </div>
    </div>
  );
}

/** Previews of every artifact of a job: images in a grid, players for video and audio, text heads. */
export function ArtifactPreviews({ job }: { job: Job }) {
  const output = (job.output && typeof job.output === 'object' ? job.output : {}) as Record<string, unknown>;
  const images = job.artifacts.filter((a) => a.content_type.startsWith('image/'));
  const videos = job.artifacts.filter((a) => a.content_type.startsWith('video/'));
  const audios = job.artifacts.filter((a) => a.content_type.startsWith('audio/'));
  const texts = job.artifacts.filter((a) => !images.includes(a) && !videos.includes(a) && !audios.includes(a) && isText(a));
  const others = job.artifacts.filter((a) => !images.includes(a) && !videos.includes(a) && !audios.includes(a) && !texts.includes(a));
  const transcript = typeof output['text'] === 'string' && job.type.startsWith('audio.') ? (output['text'] as string) : null;
  const prompts = Array.isArray(output['prompts']) ? (output['prompts'] as unknown[]).map(String) : null;
  const isEmbedding = job.type === 'embedding.batch' && typeof output['count'] === 'number';

  if (job.artifacts.length === 0 && !transcript && !prompts && !isEmbedding) return null;
  return (
    <div className="artifacts" data-testid="artifacts">
      {isEmbedding ? <EmbeddingCounts output={output} /> : null}
      {images.length > 0 ? (
        <div className="image-grid">
          {images.map((a) => (
            <figure key={a.id} className="image-tile">
              <a href={artifactContentUrl(a.id)} target="_blank" rel="noreferrer">
                <img src={artifactContentUrl(a.id)} alt={`Image artifact ${a.id}`} loading="lazy" data-artifact-id={a.id} />
              </a>
              <figcaption>
                <ArtifactMeta a={a} />
              </figcaption>
            </figure>
          ))}
        </div>
      ) : null}
      {videos.map((a) => (
        <figure key={a.id} className="media-tile">
          <video src={artifactContentUrl(a.id)} controls preload="metadata" data-artifact-id={a.id} />
          <figcaption>
            <ArtifactMeta a={a} />
          </figcaption>
        </figure>
      ))}
      {audios.map((a) => (
        <figure key={a.id} className="media-tile">
          <audio src={artifactContentUrl(a.id)} controls preload="metadata" data-artifact-id={a.id} />
          <figcaption>
            <ArtifactMeta a={a} />
          </figcaption>
        </figure>
      ))}
      {transcript ? (
        <figure className="media-tile">
          <div className="small strong">Transcript{typeof output['language'] === 'string' ? ` · ${output['language']}` : ''}</div>
          <pre className="text-preview transcript" data-testid="transcript">
            {transcript}
          </pre>
        </figure>
      ) : null}
      {prompts ? (
        <figure className="media-tile">
          <div className="small strong">Described prompts</div>
          <ol className="prompt-list">
            {prompts.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ol>
        </figure>
      ) : null}
      {texts.map((a) => (
        <figure key={a.id} className="media-tile">
          <div className="small strong">{a.kind === 'subtitles' ? 'Subtitles' : a.kind === 'result' ? 'Result file (first lines)' : a.kind === 'errors' ? 'Errors file (first lines)' : a.kind}</div>
          <TextPreview artifact={a} jsonl={a.content_type.includes('jsonl') || a.content_type.includes('ndjson') || a.kind === 'result' || a.kind === 'errors'} />
          <figcaption>
            <ArtifactMeta a={a} />
          </figcaption>
        </figure>
      ))}
      {others.map((a) => (
        <figure key={a.id} className="media-tile">
          <ArtifactMeta a={a} />
        </figure>
      ))}
    </div>
  );
}
