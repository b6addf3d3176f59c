// The one place HTML is made from text: every value interpolated into `markup` is escaped, unless it is itself
// `markup`. A page can only carry markup written in a template literal of this folder. (Not named `html`:
// prettier would reformat such templates as HTML, adding white space inside <textarea> and <pre>.)

/** Markup that is safe to send as it is: made by `markup` alone. */
export class SafeHtml {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

/** What a template may interpolate: text (escaped), markup, a list of them, or nothing (left out). */
export type HtmlValue = string | number | SafeHtml | readonly HtmlValue[] | undefined | false;

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` as HTML text or a quoted attribute value: the five characters that could end either are escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] as string);
}

/** A tagged template that escapes every interpolated value (see `HtmlValue`). */
export function markup(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let text = strings[0] ?? "";
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? "");
  });
  return new SafeHtml(text);
}

function render(value: HtmlValue): string {
  if (value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.toString();
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return escapeHtml(value);
  return value.map(render).join("");
}
