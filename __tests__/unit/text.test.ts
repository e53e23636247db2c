import { describe, expect, it } from '@jest/globals';
import { defuseCommands, escapeMarkdown, inert, markdownCode, redactSecrets } from '../../src/core/text.js';
import { runnerCommandLines } from '../helpers/runner.js';

/** What a hostile server puts into its text: workflow commands behind every kind of line break and white space. */
const INJECTIONS = [
  '\n::error title=pwned::injected',
  '\n::add-mask::done',
  '\r\n::warning::x',
  '\r::notice::cr-only',
  '\n##[error]x',
  'mid-line ##[add-mask]secret',
  'mid-line ##[set-output name=x;]y',
  '\n::stop-commands::tok',
  '\n::tok::',
  '\n   \t::error::after-spaces',
  '\n\u00a0\u3000::error::after-unicode-spaces',
  '\v::error::vertical-tab',
  '\f::error::form-feed',
  '\u0085::error::nel',
  '\u2028::error::line-separator',
  '\u2029::error::paragraph-separator',
  '\ufeff::error::bom',
  '::error::at-the-start',
  '  ::error::spaces-at-the-start',
  '\n::ERROR::upper-case',
  '\n##[Group]folded',
  '\n##vso[task.setvariable]x',
];

describe('the runner command detector of the tests', () => {
  it.each(INJECTIONS.filter((text) => !text.startsWith('\ufeff')))('sees a command in the raw text %j', (text) => {
    expect(runnerCommandLines(text)).not.toEqual([]);
  });
});

describe('inert', () => {
  it.each(INJECTIONS)('leaves nothing the runner would read as a command: %j', (text) => {
    expect(runnerCommandLines(inert(text))).toEqual([]);
    // Wherever the text goes in a line.
    expect(runnerCommandLines(`job_x: running: ${inert(text)}`)).toEqual([]);
    expect(inert(text)).not.toMatch(/[\r\n\u0085\u2028\u2029]/);
  });

  it('shows line breaks and control characters as escapes', () => {
    expect(inert('a\nb\r\nc\rd')).toBe('a\\nb\\r\\nc\\rd');
    expect(inert('bell\x07 esc\x1b[31m nul\0 del\x7f c1\x85 vt\v ff\f')).toBe(
      'bell\\x07 esc\\x1b[31m nul\\0 del\\x7f c1\\x85 vt\\v ff\\f',
    );
    expect(inert('ls\u2028ps\u2029bom\ufeff')).toBe('ls\\u2028ps\\u2029bom\\ufeff');
  });

  it('shows bidirectional controls, which make text read as something else', () => {
    expect(inert('abc\u202edcba\u2066x\u2069')).toBe('abc\\u202edcba\\u2066x\\u2069');
  });

  it('breaks command markers with a backslash and keeps the text readable', () => {
    expect(inert('::error title=pwned::injected')).toBe('\\::error title=pwned::injected');
    expect(inert('  ::x::y')).toBe('  \\::x::y');
    expect(inert('\n::error::x')).toBe('\\n::error::x');
    expect(inert('see ##[error]x and ##vso[y]')).toBe('see ##\\[error]x and ##vso\\[y]');
  });

  it('leaves ordinary text alone: tabs, quotes, Unicode, emoji, paths, a :: inside a line', () => {
    for (const text of [
      'Gathering sources (3/10)…',
      'col1\tcol2',
      'naïve café — “quoted” 東京 👩‍💻',
      'C:\\Users\\runner\\file.txt',
      'std::vector<int> and a::b',
      '# not a heading, [x](y) not a link',
      '',
    ]) {
      expect(inert(text)).toBe(text);
    }
  });
});

describe('defuseCommands', () => {
  it.each(INJECTIONS)('breaks every command in every line: %j', (text) => {
    expect(runnerCommandLines(defuseCommands(text))).toEqual([]);
  });

  it('keeps the lines of a multi-line message, and ordinary lines as they are', () => {
    expect(defuseCommands('first\nsecond line\r\nthird')).toBe('first\nsecond line\nthird');
    expect(defuseCommands('ok\n::add-mask::done\nok')).toBe('ok\n\\::add-mask::done\nok');
  });

  it('is the identity for text that is already inert', () => {
    for (const text of INJECTIONS) expect(defuseCommands(inert(text))).toBe(inert(text));
  });
});

/** The ASCII punctuation of `text` (but `-`, harmless inline) not escaped by a backslash. */
function unescapedPunctuation(text: string): string[] {
  return text.replace(/\\[\s\S]/g, '').match(/[!-,./:-@[-`{-~]/g) ?? [];
}

describe('escapeMarkdown', () => {
  const HOSTILE = [
    '<img src=x onerror=alert(1)>',
    '<script>alert(1)</script>',
    '<!-- hidden -->',
    '[click](https://evil.example "t")',
    '![pixel](https://evil.example/p.png)',
    '<https://evil.example>',
    'https://evil.example www.evil.example ann@evil.example',
    '`code` ``more``',
    '**bold** __bold__ *em* _em_ ~~strike~~',
    '&amp; &#60; &lt;',
    '| forged | cell |',
    '# heading',
    '> quote',
    '- item\n1. item',
    '[^note] [ref]: https://evil.example',
    '$\\sqrt{x}$ $$y$$',
    '\\*already escaped\\*',
    ':smile: @octocat #12',
  ];

  it.each(HOSTILE)('escapes every Markdown character in %j', (text) => {
    const out = escapeMarkdown(text);
    expect(unescapedPunctuation(out)).toEqual([]);
    expect(out).not.toMatch(/[\r\n]/);
  });

  it('reads back as the text: removing the escapes gives it again', () => {
    const text = '[a](b) <c> `d` |e| *f* \\g';
    expect(escapeMarkdown(text).replace(/\\([\s\S])/g, '$1')).toBe(text);
  });

  it('shows line breaks and control characters as escapes that render as such', () => {
    expect(escapeMarkdown('a\nb\x07')).toBe('a\\\\nb\\\\x07');
    expect(escapeMarkdown('a\tb')).toBe('a b');
  });

  it('keeps @name and #12 from turning into a mention or an issue link', () => {
    expect(escapeMarkdown('@octocat #12')).toBe('\\@\u200boctocat \\#\u200b12');
  });

  it('maps character by character: the escaped form of a part is a part of the escaped whole', () => {
    const secret = 'tok_en-1|x';
    const text = `before ${secret} after\n${secret}`;
    expect(escapeMarkdown(text)).toContain(escapeMarkdown(secret));
  });

  it('leaves letters, digits, spaces and non-ASCII text alone', () => {
    expect(escapeMarkdown('Step 3 of 10 – café 東京 👩‍💻')).toBe('Step 3 of 10 – café 東京 👩‍💻');
  });
});

describe('markdownCode', () => {
  it('is escaped text in <code>, with no way out of it', () => {
    expect(markdownCode('task-1')).toBe('<code>task-1</code>');
    expect(markdownCode('</code><img src=x>')).toBe('<code>\\<\\/code\\>\\<img src\\=x\\></code>');
  });
});

describe('redactSecrets', () => {
  it('replaces secrets as written and as escaped, longest first, with an escaped ***', () => {
    const markdown = `| a | tok_1 | ${escapeMarkdown('tok_1')} | tok_1234 |`;
    expect(redactSecrets(markdown, ['tok_1', 'tok_1234'])).toBe('| a | \\*\\*\\* | \\*\\*\\* | \\*\\*\\* |');
  });

  it('leaves the table alone for a secret of punctuation only, and ignores empty ones', () => {
    expect(redactSecrets('| a | \\| |', ['|', ''])).toBe('| a | \\*\\*\\* |');
  });

  it('changes nothing without secrets', () => {
    expect(redactSecrets('### title\n| x |', [])).toBe('### title\n| x |');
  });
});
