import type { ComponentChildren } from "preact";

/** `code` spans of a line of text: what the document's descriptions mark with backticks. */
export function Inline({ text }: { text: string }) {
  const parts = text.split("`");
  return <>{parts.map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}</>;
}

/** A description: paragraphs, and `- ` lines as a list (the error codes' description). */
export function Prose({ text, class: className }: { text: string | undefined; class?: string }) {
  if (!text) return null;
  const blocks: ComponentChildren[] = [];
  let items: string[] = [];
  const flush = () => {
    if (items.length > 0) {
      blocks.push(
        <ul key={blocks.length}>
          {items.map((item) => (
            <li key={item}>
              <Inline text={item} />
            </li>
          ))}
        </ul>,
      );
      items = [];
    }
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("- ")) {
      items.push(line.slice(2));
      continue;
    }
    flush();
    if (line.trim())
      blocks.push(
        <p key={blocks.length}>
          <Inline text={line} />
        </p>,
      );
  }
  flush();
  return <div class={className ? `prose ${className}` : "prose"}>{blocks}</div>;
}

/** JSON as the reader copies it. */
export function Json({ value }: { value: unknown }) {
  return (
    <pre class="code">
      <code>{JSON.stringify(value, null, 2)}</code>
    </pre>
  );
}
