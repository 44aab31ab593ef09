// Highlighting of the configuration as the server writes it, HCL: a
// tokenizer of the few kinds of tokens worth a colour, in one regular
// expression, in place of a second editor.

import { h } from './dom';

// The kinds, in the order of the expression's groups: comments, heredocs,
// strings, attribute names (before =), block types (before labels and {),
// true/false/null, numbers. An attribute name or block type match takes
// the indentation before it along.
const kinds = ['comment', 'string', '', 'string', 'attr', 'block', 'bool', 'number'];
const token = new RegExp([
  '(#[^\\n]*|//[^\\n]*)',
  '(<<-?([A-Za-z_]\\w*)\\n[\\s\\S]*?\\n[ \\t]*\\3(?=\\n|$))',
  '("(?:[^"\\\\\\n]|\\\\.)*")',
  '(^[ \\t]*[A-Za-z_][\\w-]*(?=[ \\t]*=(?!=)))',
  '(^[ \\t]*[A-Za-z_][\\w-]*(?=(?:[ \\t]+"(?:[^"\\\\\\n]|\\\\.)*")*[ \\t]*\\{))',
  '(\\b(?:true|false|null)\\b)',
  '(-?\\b\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b)',
].join('|'), 'gm');

/** highlightHCL splits HCL text into text nodes and spans of class hl-KIND; their text is the text given. */
export function highlightHCL(text: string): Node[] {
  const out: Node[] = [];
  let last = 0;
  for (const m of text.matchAll(token)) {
    const at = m.index ?? 0;
    if (at > last) out.push(document.createTextNode(text.slice(last, at)));
    const group = m.slice(1).findIndex((g, i) => g !== undefined && kinds[i] !== '');
    let word = m[0];
    const indent = /^[ \t]*/.exec(word)![0];
    if (indent) {
      out.push(document.createTextNode(indent));
      word = word.slice(indent.length);
    }
    out.push(h('span', { class: `hl-${kinds[group]}` }, word));
    last = at + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}
