/**
 * The suite's counted figures: one row per scenario, printed as one table at the end. The last
 * five columns are failures: the suite asserts they are all 0.
 */
export interface Row {
  operations: number;
  faults: number;
  kills: number;
  fuzzCases: number;
  lost: number;
  overRefunds: number;
  doubleRefunds: number;
  forgedAccepted: number;
  serverErrorsOnBadInput: number;
}

export const FAILURE_COLUMNS = [
  'lost',
  'overRefunds',
  'doubleRefunds',
  'forgedAccepted',
  'serverErrorsOnBadInput',
] as const;

const HEADERS: Array<[keyof Row | 'scenario', string]> = [
  ['scenario', 'scenario'],
  ['operations', 'operations'],
  ['faults', 'faults injected'],
  ['kills', 'kills'],
  ['fuzzCases', 'fuzz cases'],
  ['lost', 'lost'],
  ['overRefunds', 'over-refunds'],
  ['doubleRefunds', 'double refunds'],
  ['forgedAccepted', 'forged accepted'],
  ['serverErrorsOnBadInput', '5xx on bad input'],
];

export class Tally {
  readonly rows = new Map<string, Row>();

  /** The row of `scenario` (created empty). Scenarios add to it as they go. */
  row(scenario: string): Row {
    let row = this.rows.get(scenario);
    if (!row) {
      row = {
        operations: 0,
        faults: 0,
        kills: 0,
        fuzzCases: 0,
        lost: 0,
        overRefunds: 0,
        doubleRefunds: 0,
        forgedAccepted: 0,
        serverErrorsOnBadInput: 0,
      };
      this.rows.set(scenario, row);
    }
    return row;
  }

  total(): Row {
    const total = this.row('__total');
    this.rows.delete('__total');
    for (const row of this.rows.values())
      for (const k of Object.keys(total) as Array<keyof Row>) total[k] += row[k];
    return total;
  }

  /** The table, Markdown-style (readable in a terminal and pasteable into a note). */
  render(): string {
    const body: string[][] = [...this.rows.entries(), ['total', this.total()] as const].map(
      ([name, row]) => HEADERS.map(([k]) => (k === 'scenario' ? name : String(row[k]))),
    );
    const head = HEADERS.map(([, title]) => title);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
    return [
      line(head),
      `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
      ...body.map(line),
    ].join('\n');
  }
}

export const tally = new Tally();
