/** Where and why a text is not valid JSON; line and column count from 1. */
export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  message: string;
}

class Failure {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/**
 * Finds the first syntax error in `text` the way a person needs it: line, column and a short
 * reason. `JSON.parse` on Node 20 often gives neither a position nor a readable reason.
 * Returns undefined when the text is valid JSON.
 */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const show = (at: number) => (at >= text.length ? 'end of file' : JSON.stringify(text[at]));
  const fail = (message: string, at = i): never => {
    throw new Failure(at, message);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };

  const string = () => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string', start);
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          HEX4.lastIndex = i + 2;
          if (!HEX4.test(text)) fail('invalid \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`invalid escape ${JSON.stringify(`\\${e ?? ''}`)} in string`);
      } else if ((c as string) < ' ') {
        fail('line break or control character inside a string (write it as \\n)');
      } else i++;
    }
  };

  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') object();
    else if (c === '[') array();
    else if (c === '"') string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail('invalid number');
      i = NUMBER.lastIndex;
    } else literal();
  };

  const literal = () => {
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    fail(`unexpected ${show(i)}, expected a value`);
  };

  const object = () => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === '}') fail('trailing comma before "}" is not allowed in JSON');
      if (text[i] !== '"') fail(`unexpected ${show(i)}, expected a double-quoted property name`);
      string();
      ws();
      if (text[i] !== ':') fail(`unexpected ${show(i)}, expected ":" after the property name`);
      i++;
      value();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return;
      } else fail(`unexpected ${show(i)}, expected "," or "}"`);
    }
  };

  const array = () => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === ']') fail('trailing comma before "]" is not allowed in JSON');
      value();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === ']') {
        i++;
        return;
      } else fail(`unexpected ${show(i)}, expected "," or "]"`);
    }
  };

  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${show(i)} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    const before = text.slice(0, e.offset);
    const line = before.split('\n').length;
    const column = e.offset - (before.lastIndexOf('\n') + 1) + 1;
    return { offset: e.offset, line, column, message: e.message };
  }
}
