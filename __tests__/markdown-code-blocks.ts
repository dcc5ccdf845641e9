/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, as given. */
  readonly file: string;
  /** 1-based line of the block's first content line in that file. */
  readonly line: number;
  /** The first word of the info string (`ts` in "```ts fragment"), lower-case; "" when none. */
  readonly language: string;
  /** The rest of the info string ("fragment" in "```ts fragment"). */
  readonly info: string;
  /** The opening fence's indentation (inside a list item), removed from every content line. */
  readonly indent: number;
  /** The content, without that indentation. */
  readonly code: string;
}

/**
 * The fenced code blocks of a Markdown text (CommonMark fences of three or more backticks or
 * tildes, also indented inside list items). An unclosed fence runs to the end of the text, as
 * CommonMark reads it.
 */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, language, info] = open;
    const content: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const trimmed = lines[j].trim();
      if (trimmed.startsWith(fence[0].repeat(fence.length)) && /^[`~]+$/.test(trimmed)) break;
      content.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    blocks.push({ file, line: i + 2, language: language.toLowerCase(), info: info.trim(), indent: indent.length, code: content.join("\n") });
    i = j;
  }
  return blocks;
}
