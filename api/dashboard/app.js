// Daybook back-office dashboard: one page, no dependencies, no build step.
//
// Every view is addressed by the URL hash (#/books/northwind/trial-balance), so views can be
// linked and the back button works. The bearer token lives in sessionStorage only (forgotten when
// the tab closes); any 401 brings the sign-in box back. Money is shown exactly: amounts arrive as
// integer minor units (int64 as JSON strings, or numbers) with a scale per account, formatted with
// BigInt, never with floating point. Everything the API returns is inserted as text, never as
// HTML, so memos and ids cannot inject markup.
//
// The view in <main data-testid="view"> carries data-view (its name), data-hash (the location it
// shows) and data-ready ("true" once rendered), which the browser test waits on.

const TOKEN_KEY = 'daybook.token';
// Statement lines and events per page.
const PAGE_SIZE = 50;
// How often the operations view asks for /v1/status.
const STATUS_POLL_MS = 2000;
// Accounts read for the tree (pages of 1000); a larger book shows its first accounts only.
const ACCOUNTS_MAX = 20_000;
const ACCOUNTS_PAGE = 1000;
// Scales Daybook accepts (events/limits.h: scale <= 9).
const SCALE_MAX = 9;
// Accounts whose scale is fetched one by one (an entry's legs, holds); more: the book's listing.
const SCALE_LOOKUPS_MAX = 20;

// ---------------------------------------------------------------------------------------------
// Exact amounts.

// An int64 that may arrive as a JSON string or number (or be absent: proto3 zero).
function big(value) {
  return value === undefined || value === null || value === '' ? 0n : BigInt(value);
}

// Minor units to decimal text: ("123456", 2) -> "1,234.56", ("-5", 2) -> "-0.05". A scale that
// is unknown or out of range gives the plain minor units, grouped.
export function formatMinor(minor, scale) {
  const value = big(minor);
  const digitsScale = Number.isInteger(scale) && scale >= 0 && scale <= SCALE_MAX ? scale : 0;
  const digits = (value < 0n ? -value : value).toString().padStart(digitsScale + 1, '0');
  const cut = digits.length - digitsScale;
  const whole = digits.slice(0, cut).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digitsScale > 0 ? '.' + digits.slice(cut) : '';
  return (value < 0n ? '-' : '') + whole + fraction;
}

function scaleOf(value) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= SCALE_MAX ? n : null;
}

// A right-aligned amount; the raw minor units stay in data-minor for tests and copy-paste.
function amount(minor, scale, testid) {
  const text = formatMinor(minor, scale);
  const title = scale === null ? 'minor units (scale unknown)' : undefined;
  return h('td', { class: 'num' }, h('span', { testid, 'data-minor': big(minor).toString(), title }, text));
}

// A signed balance (debits minus credits) as "1,234.56 Dr" or "1,234.56 Cr".
function balanceText(minor, scale) {
  const value = big(minor);
  if (value === 0n) return formatMinor(0n, scale);
  return formatMinor(value < 0n ? -value : value, scale) + (value < 0n ? ' Cr' : ' Dr');
}

function drcr(minor, scale, testid) {
  return h('td', { class: 'num' }, h('span', { testid, 'data-minor': big(minor).toString() }, balanceText(minor, scale)));
}

function when(ms) {
  const n = Number(ms);
  if (!ms || !Number.isFinite(n) || n <= 0) return '';
  return new Date(n).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

// "ACCOUNT_TYPE_ASSET" -> "asset".
function enumName(value, prefix) {
  return String(value ?? '').replace(prefix, '').toLowerCase().replaceAll('_', ' ');
}

// ---------------------------------------------------------------------------------------------
// DOM helpers.

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'testid') el.dataset.testid = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// A table with a caption and column headers; `columns` items are "Label" or ["Label", "num"].
// `foot` rows (totals) go into a <tfoot>, shown only when there are body rows.
function table(testid, caption, columns, rows, emptyText = 'Nothing to show.', foot = []) {
  const head = columns.map((c) => {
    const [label, cls] = Array.isArray(c) ? c : [c, undefined];
    return h('th', { scope: 'col', class: cls }, label);
  });
  const body = rows.length ? rows
    : [h('tr', { class: 'empty' }, h('td', { colspan: columns.length, testid: `${testid}-empty` }, emptyText))];
  return h('div', { class: 'scroll' }, h('table', { testid },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, head)),
    h('tbody', {}, body),
    rows.length && foot.length ? h('tfoot', {}, foot) : null));
}

function link(hash, text, testid, attrs = {}) {
  return h('a', { href: '#' + hash, testid, ...attrs }, text);
}

function field(label, id, value, attrs = {}) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, value: value ?? '', testid: id, ...attrs }));
}

function facts(testid, pairs) {
  return h('dl', { class: 'facts', testid },
    pairs.filter(Boolean).map(([label, value, id]) => [h('dt', {}, label), h('dd', { testid: id }, value)]));
}

function problemBox(problem, status) {
  return h('div', { class: 'problem', role: 'alert', testid: 'problem' },
    h('strong', { testid: 'problem-title' }, problem.title || `HTTP ${status}`),
    status ? ` (${status})` : '',
    problem.detail ? h('p', { testid: 'problem-detail' }, problem.detail) : null,
    problem.field ? h('p', {}, 'Field: ', h('code', { testid: 'problem-field' }, problem.field)) : null);
}

// ---------------------------------------------------------------------------------------------
// Hash paths.

function path(...segments) {
  return '/' + segments.map((s) => encodeURIComponent(s)).join('/');
}

function withQuery(base, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const text = q.toString();
  return text ? `${base}?${text}` : base;
}

function navigate(hash) {
  if (location.hash === '#' + hash) render();
  else location.hash = hash;
}

// ---------------------------------------------------------------------------------------------
// The API.

class SignInRequired extends Error {}

class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed;
  } catch { /* not JSON: shown as text below */ }
  return { title: `HTTP ${response.status} ${response.statusText}`.trim(), detail: text.slice(0, 500) };
}

async function api(apiPath, params = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignInRequired('');
  let response;
  try {
    response = await fetch(withQuery(apiPath, params), {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiProblem(0, { title: 'The server cannot be reached', detail: error.message });
  }
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    const problem = await problemOf(response);
    throw new SignInRequired(`The server refused the token: ${problem.detail || problem.title}`);
  }
  if (!response.ok) throw new ApiProblem(response.status, await problemOf(response));
  return response.json();
}

function bookApi(book, ...rest) {
  return '/v1/books' + path(book, ...rest);
}

// Scales of accounts, cached per book (an account's scale never changes).
const scaleCache = new Map();

async function accountScales(book, ids) {
  const key = (id) => `${book}\u0000${id}`;
  const missing = [...new Set(ids)].filter((id) => id && !scaleCache.has(key(id)));
  if (missing.length > SCALE_LOOKUPS_MAX) {  // one paged listing beats hundreds of requests
    for (const a of (await listAccounts(book)).accounts) scaleCache.set(key(a.account_id), scaleOf(a.scale));
    return (id) => scaleCache.get(key(id)) ?? null;
  }
  await Promise.all(missing.map(async (id) => {
    try {
      scaleCache.set(key(id), scaleOf((await api(bookApi(book, 'accounts', id))).scale));
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;  // unknown account: shown in minor units
    }
  }));
  return (id) => scaleCache.get(key(id)) ?? null;
}

// A book's accounts in id order, page by page, up to `max`.
async function listAccounts(book, max = ACCOUNTS_MAX) {
  const accounts = [];
  let after = '';
  do {
    const page = await api(bookApi(book, 'accounts'), { after, limit: ACCOUNTS_PAGE });
    accounts.push(...(page.accounts ?? []));
    after = page.next_after ? String(page.next_after) : '';
  } while (after && accounts.length < max);
  return { accounts, complete: !after };
}

// Scale per currency from a book's accounts; null where accounts of a currency disagree.
function currencyScales(accounts) {
  const scales = new Map();
  for (const a of accounts) {
    const s = scaleOf(a.scale);
    scales.set(a.currency, scales.has(a.currency) && scales.get(a.currency) !== s ? null : s);
  }
  return (currency) => scales.get(currency) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Views. Each takes a context ({query, live}) and the decoded route parameters, and returns
// {name, title, node}. `live()` is false once the user has moved to another view.

async function viewBooks() {
  const data = await api('/v1/books');
  const books = (data.books ?? []).map((b) => (typeof b === 'string' ? { book_id: b } : b));
  const id = (b) => b.book_id ?? b.id ?? b.name ?? '';
  const extra = [...new Set(books.flatMap((b) => Object.keys(b)))].filter((k) => k !== 'book_id');
  const rows = books.map((b) => h('tr', { testid: `book-row-${id(b)}` },
    h('th', { scope: 'row' }, link(path('books', id(b), 'trial-balance'), id(b), `book-link-${id(b)}`)),
    extra.map((k) => h('td', { class: /^\d+$/.test(String(b[k])) ? 'num' : undefined }, String(b[k] ?? '')))));
  const open = h('form', { class: 'inline', testid: 'book-open-form', onsubmit: (event) => {
    event.preventDefault();
    const value = event.target.elements['book-open-id'].value.trim();
    if (value) navigate(path('books', value, 'trial-balance'));
  } }, field('Open a book by id', 'book-open-id', ''), h('button', { type: 'submit' }, 'Open'));
  return {
    name: 'books', title: 'Books', nav: 'books',
    node: [h('h1', {}, 'Books'), table('books-table', null, ['Book', ...extra], rows, 'No books yet.'), open],
  };
}

function bookHeader(book, active, title) {
  const tabs = [['trial-balance', 'Trial balance'], ['holds', 'Holds'], ['balance-sheet', 'Balance sheet'],
    ['income-statement', 'Income statement'], ['invoices', 'Invoices'], ['payments', 'Payments'], ['aging', 'Aging']];
  return [
    h('p', { class: 'crumbs' }, link('/', 'Books'), ' / ', h('span', { testid: 'book-id' }, book)),
    h('nav', { class: 'tabs', 'aria-label': `Book ${book}` }, tabs.map(([key, label]) =>
      link(path('books', book, key), label, `tab-${key}`, { 'aria-current': key === active ? 'page' : undefined }))),
    h('h1', {}, title),
  ];
}

// The chart of accounts as a tree in display order, with roll-ups (own plus descendants).
function accountTree(accounts) {
  const byId = new Map(accounts.map((a) => [a.account_id, a]));
  const children = new Map();
  for (const a of accounts) {
    const parent = byId.has(a.parent_account_id) && a.parent_account_id !== a.account_id ? a.parent_account_id : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(a);
  }
  const byIdOrder = (x, y) => (x.account_id < y.account_id ? -1 : x.account_id > y.account_id ? 1 : 0);
  for (const list of children.values()) list.sort(byIdOrder);  // the server's (bytewise) order
  const rows = [];
  const seen = new Set();
  const visit = (a, depth) => {  // returns [debits, credits] rolled up
    if (seen.has(a.account_id)) return [0n, 0n];
    seen.add(a.account_id);
    const row = { account: a, depth, debits: big(a.debits_minor), credits: big(a.credits_minor) };
    rows.push(row);
    for (const child of children.get(a.account_id) ?? []) {
      const [d, c] = visit(child, depth + 1);
      row.debits += d;
      row.credits += c;
    }
    row.parent = (children.get(a.account_id) ?? []).length > 0;
    return [row.debits, row.credits];
  };
  for (const root of children.get('') ?? []) visit(root, 0);
  for (const a of accounts) if (!seen.has(a.account_id)) visit(a, 0);  // parent cycles
  return rows;
}

async function viewTrialBalance(ctx, book) {
  const [tb, { accounts, complete }] = await Promise.all([api(bookApi(book, 'trial-balance')), listAccounts(book)]);
  const scale = currencyScales(accounts);
  const totals = (tb.totals ?? []).map((t) => {
    const diff = big(t.debits_minor) - big(t.credits_minor);
    return h('tr', { testid: `tb-row-${t.currency}` },
      h('th', { scope: 'row', testid: `tb-currency-${t.currency}` }, t.currency),
      h('td', { class: 'num' }, String(t.accounts ?? '')),
      amount(t.debits_minor, scale(t.currency), `tb-debits-${t.currency}`),
      amount(t.credits_minor, scale(t.currency), `tb-credits-${t.currency}`),
      h('td', { class: diff === 0n ? 'ok' : 'bad', testid: `tb-check-${t.currency}` },
        diff === 0n ? 'balanced' : `out of balance by ${formatMinor(diff, scale(t.currency))}`));
  });
  const tree = accountTree(accounts);
  const rows = tree.map(({ account: a, depth, debits, credits, parent }) => {
    const s = scaleOf(a.scale);
    const name = h('th', { scope: 'row' },
      link(path('books', book, 'accounts', a.account_id, 'statement'), a.account_id, `account-link-${a.account_id}`),
      ' ', h('span', { class: 'name' }, a.name ?? ''), a.closed ? h('span', { class: 'tag' }, 'closed') : null);
    name.style.paddingLeft = `${0.6 + depth * 1.25}rem`;  // CSSOM: the server's CSP refuses style attributes
    return h('tr', { testid: `account-row-${a.account_id}`, class: a.closed ? 'closed' : undefined }, name,
      h('td', {}, enumName(a.type, 'ACCOUNT_TYPE_')),
      h('td', {}, a.currency),
      amount(a.debits_minor, s, `account-debits-${a.account_id}`),
      amount(a.credits_minor, s, `account-credits-${a.account_id}`),
      drcr(big(a.debits_minor) - big(a.credits_minor), s, `account-balance-${a.account_id}`),
      parent ? drcr(debits - credits, s, `account-rollup-${a.account_id}`) : h('td', {}));
  });
  const note = complete ? null : h('p', { class: 'hint', testid: 'account-tree-partial' },
    `Showing the first ${accounts.length} accounts; roll-ups cover these only.`);
  return {
    name: 'trial-balance', title: `Trial balance · ${book}`, book,
    node: [
      bookHeader(book, 'trial-balance', 'Trial balance'),
      table('tb-totals', 'Totals per currency', ['Currency', ['Accounts', 'num'], ['Debits', 'num'],
        ['Credits', 'num'], 'Check'], totals, 'No postings yet.'),
      table('account-tree', 'Chart of accounts', ['Account', 'Type', 'Currency', ['Debits', 'num'],
        ['Credits', 'num'], ['Balance', 'num'], ['Incl. sub-accounts', 'num']], rows, 'No accounts yet.'),
      note,
    ],
  };
}

async function viewStatement(ctx, book, account) {
  const after = ctx.query.get('after') ?? '';
  const [acct, page] = await Promise.all([
    api(bookApi(book, 'accounts', account)),
    api(bookApi(book, 'accounts', account, 'statement'), { after, limit: PAGE_SIZE }),
  ]);
  const s = scaleOf(acct.scale);
  const here = path('books', book, 'accounts', account, 'statement');
  const lines = page.lines ?? [];
  const rows = lines.map((l) => {
    const debit = l.side === 'SIDE_DEBIT';
    return h('tr', { testid: `statement-line-${l.line}` },
      h('td', { class: 'num' }, String(l.line)),
      h('td', {}, l.effective_date ?? ''),
      h('td', {}, link(path('books', book, 'entries', l.entry_id), l.entry_id, 'entry-link')),
      h('td', {}, l.memo ?? ''),
      debit ? amount(l.amount_minor, s) : h('td', {}),
      debit ? h('td', {}) : amount(l.amount_minor, s),
      drcr(l.balance_minor, s));
  });
  const next = page.next_after ? String(page.next_after) : '';
  return {
    name: 'statement', title: `Statement ${account} · ${book}`, book,
    node: [
      bookHeader(book, null, `Statement of ${account}${acct.name ? ' · ' + acct.name : ''}`),
      facts('statement-account', [
        ['Type', enumName(acct.type, 'ACCOUNT_TYPE_')],
        ['Currency', `${acct.currency} (scale ${acct.scale})`],
        ['Debits', formatMinor(acct.debits_minor, s)],
        ['Credits', formatMinor(acct.credits_minor, s)],
        ['Balance', balanceText(big(acct.debits_minor) - big(acct.credits_minor), s), 'statement-balance'],
        ['Entries', String(acct.entry_count ?? '')],
        acct.closed ? ['Status', 'closed'] : null,
      ]),
      table('statement-table', after ? `Lines after ${after}` : 'Lines', [['Line', 'num'], 'Date', 'Entry', 'Memo',
        ['Debit', 'num'], ['Credit', 'num'], ['Balance', 'num']], rows, 'No more lines.'),
      h('nav', { class: 'pager', 'aria-label': 'Pages' },
        after ? link(here, '« First page', 'statement-first') : null,
        next ? link(withQuery(here, { after: next }), 'Next page »', 'statement-next') : null),
    ],
  };
}

async function viewEntry(ctx, book, entryId) {
  const view = await api(bookApi(book, 'entries', entryId));
  const e = view.entry ?? {};
  const legs = e.legs ?? [];
  const scale = await accountScales(book, legs.map((l) => l.account_id));
  const rows = legs.map((l, i) => {
    const debit = l.side === 'SIDE_DEBIT';
    return h('tr', { testid: `entry-leg-${i}` },
      h('td', {}, link(path('books', book, 'accounts', l.account_id, 'statement'), l.account_id)),
      h('td', {}, l.currency),
      debit ? amount(l.amount_minor, scale(l.account_id)) : h('td', {}),
      debit ? h('td', {}) : amount(l.amount_minor, scale(l.account_id)));
  });
  const partition = String(view.partition ?? 0);
  const events = withQuery('/events', { partition, command_id: view.command_id });
  return {
    name: 'entry', title: `Entry ${entryId} · ${book}`, book,
    node: [
      bookHeader(book, null, `Entry ${e.entry_id ?? entryId}`),
      facts('entry-facts', [
        ['Effective date', e.effective_date ?? '', 'entry-effective-date'],
        ['Memo', e.memo ?? '', 'entry-memo'],
        e.reversal_of ? ['Reverses', link(path('books', book, 'entries', e.reversal_of), e.reversal_of)] : null,
        ['Actor', view.actor ?? '', 'entry-actor'],
        ['Command id', h('code', {}, view.command_id ?? ''), 'entry-command-id'],
        ['Partition', partition, 'entry-partition'],
        ['Sequence', String(view.seq ?? ''), 'entry-seq'],
        ['Recorded at', when(view.recorded_at_ms), 'entry-recorded-at'],
      ]),
      table('entry-legs', 'Legs', ['Account', 'Currency', ['Debit', 'num'], ['Credit', 'num']], rows, 'No legs.'),
      h('p', {}, link(events, 'Events of this command', 'entry-events-link')),
    ],
  };
}

async function viewHolds(ctx, book) {
  const all = ctx.query.get('all') === '1';
  const data = await api(bookApi(book, 'holds'));
  const holds = (data.holds ?? []).filter((p) => all || (p.hold ?? {}).status === 'HOLD_STATUS_OPEN');
  const scale = await accountScales(book, holds.map((p) => (p.hold ?? {}).debit_account_id));
  const rows = holds.map((p) => {
    const hd = p.hold ?? {};
    const s = scale(hd.debit_account_id);
    const open = hd.status === 'HOLD_STATUS_OPEN';
    const remaining = open ? big(hd.held_minor) - big(hd.captured_minor) - big(p.released_minor) : 0n;
    return h('tr', { testid: `hold-row-${hd.hold_id}` },
      h('th', { scope: 'row', class: 'nowrap' }, hd.hold_id),
      h('td', {}, enumName(hd.status, 'HOLD_STATUS_')),
      h('td', {}, link(path('books', book, 'accounts', hd.debit_account_id, 'statement'), hd.debit_account_id)),
      h('td', {}, link(path('books', book, 'accounts', hd.credit_account_id, 'statement'), hd.credit_account_id)),
      h('td', {}, hd.currency),
      amount(hd.held_minor, s), amount(hd.captured_minor, s), amount(p.released_minor, s), amount(remaining, s),
      h('td', { class: 'nowrap' }, when(hd.expires_at_ms)),
      h('td', {}, hd.memo ?? ''));
  });
  const toggle = link(withQuery(path('books', book, 'holds'), { all: all ? '' : '1' }),
    all ? 'Show open holds only' : 'Show resolved holds too', 'holds-toggle');
  return {
    name: 'holds', title: `Holds · ${book}`, book,
    node: [
      bookHeader(book, 'holds', all ? 'All holds' : 'Open holds'),
      h('p', {}, toggle),
      table('holds-table', null, ['Hold', 'Status', 'Debit account', 'Credit account', 'Currency', ['Held', 'num'],
        ['Captured', 'num'], ['Released', 'num'], ['Remaining', 'num'], 'Expires', 'Memo'], rows,
      all ? 'No holds.' : 'No open holds.'),
    ],
  };
}

function dateForm(testid, inputs) {
  return h('form', { class: 'inline', testid, onsubmit: (event) => {
    event.preventDefault();
    const values = Object.fromEntries(inputs.map(([, id, , key]) => [key, event.target.elements[id].value]));
    navigate(withQuery(location.hash.slice(1).split('?')[0], values));
  } },
  inputs.map(([label, id, value]) => field(label, id, value, { type: 'date' })),
  h('button', { type: 'submit' }, 'Show'));
}

async function viewBalanceSheet(ctx, book) {
  const asOf = ctx.query.get('as_of') ?? '';
  const [sheet, list] = await Promise.all([api(bookApi(book, 'balance-sheet'), { as_of: asOf }),
    listAccounts(book)]);
  const scale = currencyScales(list.accounts);
  const rows = (sheet.currencies ?? []).map((c) => {
    const s = scale(c.currency);
    const right = big(c.liabilities) + big(c.equity) + big(c.net_income);
    return h('tr', { testid: `bs-row-${c.currency}` },
      h('th', { scope: 'row' }, c.currency),
      amount(c.assets, s), amount(c.liabilities, s), amount(c.equity, s), amount(c.net_income, s), amount(right, s),
      h('td', { class: c.balanced ? 'ok' : 'bad' }, c.balanced ? 'balanced' : 'NOT balanced'));
  });
  return {
    name: 'balance-sheet', title: `Balance sheet · ${book}`, book,
    node: [
      bookHeader(book, 'balance-sheet', asOf ? `Balance sheet as of ${asOf}` : 'Balance sheet (all dates)'),
      dateForm('bs-form', [['As of (effective date)', 'bs-as-of', asOf, 'as_of']]),
      table('bs-table', null, ['Currency', ['Assets', 'num'], ['Liabilities', 'num'], ['Equity', 'num'],
        ['Net income', 'num'], ['Liabilities + equity + net income', 'num'], 'Check'], rows, 'No postings.'),
    ],
  };
}

async function viewIncomeStatement(ctx, book) {
  const from = ctx.query.get('from') ?? '';
  const to = ctx.query.get('to') ?? '';
  const [statement, list] = await Promise.all([api(bookApi(book, 'income-statement'), { from, to }),
    listAccounts(book)]);
  const scale = currencyScales(list.accounts);
  const rows = (statement.currencies ?? []).map((c) => h('tr', { testid: `is-row-${c.currency}` },
    h('th', { scope: 'row' }, c.currency),
    amount(c.revenue, scale(c.currency)), amount(c.expenses, scale(c.currency)),
    amount(c.net_income, scale(c.currency))));
  const range = from || to ? `${from || 'the beginning'} to ${to || 'today'}` : 'all dates';
  return {
    name: 'income-statement', title: `Income statement · ${book}`, book,
    node: [
      bookHeader(book, 'income-statement', `Income statement, ${range}`),
      dateForm('is-form', [['From', 'is-from', from, 'from'], ['To', 'is-to', to, 'to']]),
      table('is-table', null, ['Currency', ['Revenue', 'num'], ['Expenses', 'num'], ['Net income', 'num']], rows,
        'No revenue or expenses.'),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Invoices, bills, payments, aging and the control-account reconciliation.

// Documents carry a currency but no scale: they take the scale of the book's accounts in that
// currency, else this one (most currencies have cents), so they still read as money.
const DOCUMENT_SCALE_DEFAULT = 2;
const INVOICE_FILTERS = [['', 'All'], ['customer', 'Customer invoices (AR)'], ['supplier', 'Supplier bills (AP)']];
const AGING_DIRECTIONS = [['customer', 'Receivables (customers)'], ['supplier', 'Payables (suppliers)']];
// Columns of an aging row, in the order the buckets age.
const AGING_COLUMNS = [['current', 'Current'], ['days_1_30', '1–30 days'], ['days_31_60', '31–60 days'],
  ['days_61_90', '61–90 days'], ['over_90', 'Over 90 days'], ['total', 'Total'], ['unallocated', 'Unallocated payments']];

async function documentScales(book) {
  const scale = currencyScales((await listAccounts(book)).accounts);
  return (currency) => scale(currency) ?? DOCUMENT_SCALE_DEFAULT;
}

// Today in the browser's time zone, as YYYY-MM-DD (what a person means by "today").
function today() {
  const d = new Date();
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

// An exact decimal without trailing zeros: (2500, 3) -> "2.5" (quantities, tax rates).
function trimmedDecimal(value, scale) {
  return formatMinor(value, scale).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

function directionName(direction) {
  return enumName(direction, /^(INVOICE|PAYMENT)_DIRECTION_/);
}

// "northwind/default" #7 -> "7", other series -> "export 7"; "" until the series has answered.
function invoiceNumber(inv, book) {
  if (big(inv.number) === 0n) return '';
  const series = inv.draft?.series_key ?? '';
  const name = series.startsWith(`${book}/`) ? series.slice(book.length + 1) : series;
  return name && name !== 'default' ? `${name} ${inv.number}` : String(inv.number);
}

// Issued, something still owed, and due before `day`.
function overdue(inv, day) {
  const open = ['INVOICE_STATUS_ISSUED', 'INVOICE_STATUS_PARTIALLY_PAID'].includes(inv.status);
  return open && big(inv.outstanding_minor) > 0n && (inv.draft?.due_date ?? '') !== '' && inv.draft.due_date < day;
}

function statusCell(text, cls, testid) {
  return h('td', { testid }, h('span', { class: `status ${cls ?? ''}` }, text));
}

function invoiceStatusCell(inv, late, testid) {
  const status = enumName(inv.status, 'INVOICE_STATUS_');
  const cls = { paid: 'ok', void: 'muted', draft: 'muted', issuing: 'muted' }[status] ?? (late ? 'bad' : undefined);
  return statusCell(late ? `${status}, overdue` : status, cls, testid);
}

function entryLink(book, entryId, testid) {
  return link(path('books', book, 'entries', entryId), entryId, testid, { class: 'id' });
}

function invoiceRow(book, inv, scale, day) {
  const d = inv.draft ?? {};
  const id = d.invoice_id ?? '';
  const s = scale(d.currency);
  const late = overdue(inv, day);
  return h('tr', { testid: `invoice-row-${id}`, class: inv.status === 'INVOICE_STATUS_VOID' ? 'closed' : undefined },
    h('td', { class: 'num', testid: `invoice-number-${id}` }, invoiceNumber(inv, book) || '—'),
    h('th', { scope: 'row' }, link(path('books', book, 'invoices', id), id, `invoice-link-${id}`)),
    h('td', {}, directionName(d.direction)),
    h('td', {}, d.counterparty_id ?? ''),
    h('td', { class: 'nowrap' }, d.issue_date ?? ''),
    h('td', { class: 'nowrap' }, d.due_date ?? ''),
    h('td', {}, d.currency ?? ''),
    amount(d.gross_minor, s, `invoice-gross-${id}`),
    amount(inv.outstanding_minor, s, `invoice-outstanding-${id}`),
    invoiceStatusCell(inv, late, `invoice-status-${id}`));
}

// Links that set one query parameter, the current one marked.
function segmented(testid, label, options, current, hrefOf) {
  return h('nav', { class: 'segmented', 'aria-label': label, testid }, options.map(([value, text]) =>
    link(hrefOf(value), text, `${testid}-${value || 'all'}`, { 'aria-current': value === current ? 'page' : undefined })));
}

async function viewInvoices(ctx, book) {
  const wanted = ctx.query.get('direction') ?? '';
  const direction = INVOICE_FILTERS.some(([v]) => v === wanted) ? wanted : '';
  const [data, scale] = await Promise.all([api(bookApi(book, 'invoices'), { direction }), documentScales(book)]);
  const invoices = data.invoices ?? [];
  const day = today();
  const here = path('books', book, 'invoices');
  const late = invoices.filter((inv) => overdue(inv, day)).length;
  return {
    name: 'invoices', title: `Invoices · ${book}`, book,
    node: [
      bookHeader(book, 'invoices', 'Invoices and bills'),
      segmented('invoices-filter', 'Direction', INVOICE_FILTERS, direction, (v) => withQuery(here, { direction: v })),
      table('invoices-table', `${invoices.length} document(s)` + (late ? `, ${late} overdue as of ${day}` : ''),
        [['Number', 'num'], 'Invoice', 'Direction', 'Counterparty', 'Issued', 'Due', 'Currency', ['Gross', 'num'],
          ['Outstanding', 'num'], 'Status'], invoices.map((inv) => invoiceRow(book, inv, scale, day)),
        direction ? `No ${direction} documents.` : 'No invoices or bills yet.'),
    ],
  };
}

function invoiceLineRow(book, line, i, s, customer) {
  const account = line.account_id
    ? link(path('books', book, 'accounts', line.account_id, 'statement'), line.account_id)
    : h('span', { class: 'name' }, customer ? 'revenue role' : 'expense role');
  return h('tr', { testid: `invoice-line-${i}` },
    h('td', { class: 'num' }, String(i + 1)),
    h('td', {}, line.description ?? ''),
    h('td', { class: 'num' }, trimmedDecimal(line.quantity_milli, 3)),
    amount(line.unit_price_minor, s),
    h('td', { class: 'num' }, `${trimmedDecimal(line.tax_rate_bp ?? 0, 2)} %`),
    h('td', {}, account),
    amount(line.net_minor, s), amount(line.tax_minor, s), amount(line.gross_minor, s));
}

function invoiceLines(book, d, s) {
  const customer = d.direction === 'INVOICE_DIRECTION_CUSTOMER';
  const rows = (d.lines ?? []).map((line, i) => invoiceLineRow(book, line, i, s, customer));
  const foot = h('tr', { class: 'total' }, h('th', { scope: 'row', colspan: 6 }, 'Totals'),
    amount(d.net_minor, s, 'invoice-net'), amount(d.tax_minor, s, 'invoice-tax'), amount(d.gross_minor, s, 'invoice-gross'));
  return table('invoice-lines', d.prices_include_tax ? 'Lines (prices include tax)' : 'Lines',
    [['#', 'num'], 'Description', ['Quantity', 'num'], ['Unit price', 'num'], ['Tax rate', 'num'], 'Account',
      ['Net', 'num'], ['Tax', 'num'], ['Gross', 'num']], rows, 'No lines.', [foot]);
}

function invoiceAllocations(book, inv, s) {
  const rows = (inv.allocations ?? []).map((a) => h('tr', { testid: `invoice-allocation-${a.allocation_id}`,
    class: a.reversed ? 'closed' : undefined },
  h('td', { class: 'id' }, a.allocation_id ?? ''),
  h('td', {}, link(path('books', book, 'payments', a.payment_id), a.payment_id, 'allocation-payment-link')),
  h('td', { class: 'nowrap' }, a.date ?? ''),
  amount(a.amount_minor, s),
  h('td', {}, a.reversed ? `reversed ${a.reversed_date ?? ''}`.trim() : 'applied'),
  h('td', {}, entryLink(book, `alloc:${a.payment_id}:${a.allocation_id}`))));
  return table('invoice-allocations', 'Payments allocated', ['Allocation', 'Payment', 'Date', ['Amount', 'num'],
    'State', 'Ledger entry'], rows, 'No payment allocated yet.');
}

function invoiceCredits(book, inv, s) {
  const id = inv.draft?.invoice_id ?? '';
  const rows = (inv.credits ?? []).map((c) => h('tr', { testid: `invoice-credit-${c.credit_note_id}` },
    h('td', { class: 'id' }, c.credit_note_id ?? ''),
    h('td', { class: 'nowrap' }, c.date ?? ''),
    amount(c.gross_minor, s),
    h('td', {}, entryLink(book, `cn:${id}:${c.credit_note_id}`))));
  return table('invoice-credits', 'Credit notes', ['Credit note', 'Date', ['Gross', 'num'], 'Ledger entry'], rows,
    'No credit notes.');
}

// Gross less credit notes less allocations still standing: what the outstanding amount is made of.
function invoiceTotals(inv, s) {
  const credited = (inv.credits ?? []).reduce((sum, c) => sum + big(c.gross_minor), 0n);
  const paid = (inv.allocations ?? []).filter((a) => !a.reversed).reduce((sum, a) => sum + big(a.amount_minor), 0n);
  const text = (value, testid) => h('span', { class: 'num', testid, 'data-minor': big(value).toString() },
    formatMinor(value, s));
  return h('div', { class: 'amounts' }, facts('invoice-totals', [
    ['Gross', text(inv.draft?.gross_minor)],
    ['Credited', text(credited, 'invoice-credited')],
    ['Paid (allocated)', text(paid, 'invoice-paid')],
    ['Outstanding', text(inv.outstanding_minor, 'invoice-outstanding')],
  ]));
}

async function viewInvoice(ctx, book, invoiceId) {
  const inv = await api(path('v1', 'invoices', invoiceId));
  const d = inv.draft ?? {};
  if (d.book_id && d.book_id !== book) return { redirect: path('books', d.book_id, 'invoices', invoiceId) };
  const s = (await documentScales(book))(d.currency);
  const number = invoiceNumber(inv, book);
  const posted = number !== '' && big(d.gross_minor) !== 0n;
  const voided = inv.status === 'INVOICE_STATUS_VOID';
  const kind = d.direction === 'INVOICE_DIRECTION_SUPPLIER' ? 'Bill' : 'Invoice';
  return {
    name: 'invoice', title: `${kind} ${invoiceId} · ${book}`, book,
    node: [
      bookHeader(book, null, `${kind} ${invoiceId}${number ? ' · number ' + number : ''}`),
      h('p', {}, link(withQuery(path('books', book, 'invoices'), { direction: directionName(d.direction) }),
        `« All ${d.direction === 'INVOICE_DIRECTION_SUPPLIER' ? 'supplier bills' : 'customer invoices'}`, 'invoice-back')),
      h('div', { class: 'columns' },
        facts('invoice-facts', [
          ['Number', number || 'not numbered yet', 'invoice-number'],
          ['Status', enumName(inv.status, 'INVOICE_STATUS_') + (overdue(inv, today()) ? ', overdue' : ''), 'invoice-status'],
          ['Direction', directionName(d.direction)],
          ['Counterparty', d.counterparty_id ?? '', 'invoice-counterparty'],
          ['Currency', `${d.currency ?? ''} (scale ${s})`],
          ['Issue date', d.issue_date ?? ''],
          ['Due date', d.due_date ?? ''],
          d.memo ? ['Memo', d.memo] : null,
          voided ? ['Voided', inv.voided_date ?? ''] : null,
          posted ? ['Ledger entry', entryLink(book, `inv:${invoiceId}`, 'invoice-entry-link')] : null,
          posted && voided ? ['Void entry', entryLink(book, `inv:${invoiceId}:void`, 'invoice-void-entry-link')] : null,
        ]),
        invoiceTotals(inv, s)),
      invoiceLines(book, d, s),
      invoiceAllocations(book, inv, s),
      invoiceCredits(book, inv, s),
    ],
  };
}

// What a payment's allocations and refunds left: pending allocations are still the payment's.
function paymentStatus(p) {
  if (p.returned) return [`returned ${p.returned_date ?? ''}`.trim(), 'bad'];
  if ((p.allocations ?? []).some((a) => a.state === 'ALLOCATION_STATE_PENDING')) return ['allocation pending', 'muted'];
  if (big(p.unallocated_minor) === 0n) return ['settled', 'ok'];
  return [big(p.unallocated_minor) === big(p.payment?.amount_minor) ? 'unallocated' : 'partly allocated', undefined];
}

function paymentRow(book, p, scale) {
  const pay = p.payment ?? {};
  const id = pay.payment_id ?? '';
  const s = scale(pay.currency);
  const [status, cls] = paymentStatus(p);
  return h('tr', { testid: `payment-row-${id}`, class: p.returned ? 'closed' : undefined },
    h('th', { scope: 'row' }, link(path('books', book, 'payments', id), id, `payment-link-${id}`)),
    h('td', {}, directionName(pay.direction)),
    h('td', {}, pay.counterparty_id ?? ''),
    h('td', { class: 'nowrap' }, pay.date ?? ''),
    h('td', {}, pay.method ?? ''),
    h('td', {}, pay.currency ?? ''),
    amount(pay.amount_minor, s, `payment-amount-${id}`),
    amount(p.unallocated_minor, s, `payment-unallocated-${id}`),
    amount(p.refunded_minor, s),
    statusCell(status, cls, `payment-status-${id}`));
}

async function viewPayments(ctx, book) {
  const [data, scale] = await Promise.all([api(bookApi(book, 'payments')), documentScales(book)]);
  const payments = data.payments ?? [];
  return {
    name: 'payments', title: `Payments · ${book}`, book,
    node: [
      bookHeader(book, 'payments', 'Payments received and sent'),
      table('payments-table', `${payments.length} payment(s)`, ['Payment', 'Direction', 'Counterparty', 'Date', 'Method',
        'Currency', ['Amount', 'num'], ['Unallocated', 'num'], ['Refunded', 'num'], 'Status'],
      payments.map((p) => paymentRow(book, p, scale)), 'No payments yet.'),
    ],
  };
}

function paymentAllocations(book, p, s) {
  const payment = p.payment?.payment_id ?? '';
  const rows = (p.allocations ?? []).map((a) => {
    const state = enumName(a.state, 'ALLOCATION_STATE_');
    return h('tr', { testid: `payment-allocation-${a.allocation_id}`, class: state === 'released' || state === 'returned' ? 'closed' : undefined },
      h('td', { class: 'id' }, a.allocation_id ?? ''),
      h('td', {}, link(path('books', book, 'invoices', a.invoice_id), a.invoice_id, 'allocation-invoice-link')),
      amount(a.amount_minor, s),
      statusCell(state, { confirmed: 'ok', pending: 'muted', released: 'bad' }[state]),
      h('td', {}, a.reason ?? ''),
      h('td', {}, state === 'confirmed' || state === 'returned' ? entryLink(book, `alloc:${payment}:${a.allocation_id}`) : ''));
  });
  return table('payment-allocations', 'Allocations to invoices', ['Allocation', 'Invoice', ['Amount', 'num'], 'State',
    'Reason', 'Ledger entry'], rows, 'Not allocated to any invoice yet.');
}

async function viewPayment(ctx, book, paymentId) {
  const p = await api(path('v1', 'payments', paymentId));
  const pay = p.payment ?? {};
  if (pay.book_id && pay.book_id !== book) return { redirect: path('books', pay.book_id, 'payments', paymentId) };
  const s = (await documentScales(book))(pay.currency);
  const money = (value, testid) => h('span', { testid, 'data-minor': big(value).toString() }, formatMinor(value, s));
  const bank = pay.bank_account_id
    ? link(path('books', book, 'accounts', pay.bank_account_id, 'statement'), pay.bank_account_id) : 'the bank role\u2019s account';
  // Refunds with amounts and dates where the server sends them (`refunds`), else their ids.
  const refunds = (p.refunds ?? []).length
    ? p.refunds.map((r) => `${r.refund_id} (${formatMinor(r.amount_minor, s)} on ${r.date})`) : p.refund_ids ?? [];
  return {
    name: 'payment', title: `Payment ${paymentId} · ${book}`, book,
    node: [
      bookHeader(book, null, `Payment ${paymentId}`),
      h('p', {}, link(path('books', book, 'payments'), '« All payments', 'payment-back')),
      facts('payment-facts', [
        ['Direction', directionName(pay.direction), 'payment-direction'],
        ['Counterparty', pay.counterparty_id ?? '', 'payment-counterparty'],
        ['Date', pay.date ?? ''],
        ['Method', pay.method ?? ''],
        ['Bank account', bank],
        ['Amount', money(pay.amount_minor, 'payment-amount'), null],
        ['Unallocated', money(p.unallocated_minor, 'payment-unallocated')],
        ['Refunded', money(p.refunded_minor, 'payment-refunded')],
        refunds.length ? ['Refunds', refunds.join(', ')] : null,
        ['Status', paymentStatus(p)[0], 'payment-status'],
        ['Ledger entry', entryLink(book, `pay:${paymentId}`, 'payment-entry-link')],
        p.returned ? ['Return entry', entryLink(book, `ret:${paymentId}`)] : null,
      ]),
      paymentAllocations(book, p, s),
    ],
  };
}

function agingForm(book, direction, asOf) {
  const here = path('books', book, 'aging');
  return h('div', { class: 'toolbar' },
    segmented('aging-direction', 'Receivables or payables', AGING_DIRECTIONS, direction,
      (v) => withQuery(here, { direction: v, as_of: asOf })),
    h('form', { class: 'inline', testid: 'aging-form', onsubmit: (event) => {
      event.preventDefault();
      navigate(withQuery(here, { direction, as_of: event.target.elements['aging-as-of'].value }));
    } }, field('As of', 'aging-as-of', asOf, { type: 'date', required: true }),
    h('button', { type: 'submit', testid: 'aging-submit' }, 'Show')));
}

// One row per counterparty and currency, then a total per currency (sums of exact minor units).
function agingTable(rows, scale) {
  const body = rows.map((r) => h('tr', { testid: `aging-row-${r.counterparty}-${r.currency}` },
    h('th', { scope: 'row' }, r.counterparty ?? ''), h('td', {}, r.currency ?? ''),
    AGING_COLUMNS.map(([key]) => amount(r[key], scale(r.currency)))));
  const currencies = [...new Set(rows.map((r) => r.currency))].sort();
  const foot = currencies.map((currency) => {
    const mine = rows.filter((r) => r.currency === currency);
    return h('tr', { class: 'total', testid: `aging-total-${currency}` },
      h('th', { scope: 'row' }, 'Total'), h('td', {}, currency),
      AGING_COLUMNS.map(([key]) => amount(mine.reduce((sum, r) => sum + big(r[key]), 0n), scale(currency),
        `aging-total-${currency}-${key}`)));
  });
  return table('aging-table', null, ['Counterparty', 'Currency', ...AGING_COLUMNS.map(([, label]) => [label, 'num'])],
    body, 'Nothing outstanding and no unallocated payments.', foot);
}

// The control accounts against the documents. While follow-ups are in flight (numbers, postings,
// allocations the process managers have not finished) a difference is expected, so say so.
function reconciliationPanel(recon, scale) {
  const inFlight = recon.in_flight ?? [];
  const status = recon.balanced ? 'balanced' : inFlight.length ? 'not balanced yet (in flight)' : 'NOT balanced';
  const rows = (recon.lines ?? []).map((l) => {
    const diff = big(l.difference);
    return h('tr', { testid: `recon-line-${l.what}-${l.currency}` },
      h('th', { scope: 'row' }, enumName(l.what, '')), h('td', {}, l.currency ?? ''),
      amount(l.ledger, scale(l.currency)), amount(l.documents, scale(l.currency)),
      h('td', { class: `num ${diff === 0n ? 'ok' : 'bad'}` },
        h('span', { 'data-minor': diff.toString() }, formatMinor(diff, scale(l.currency)))));
  });
  return h('section', { class: 'panel', testid: 'recon-panel', 'aria-labelledby': 'recon-title' },
    h('h2', { id: 'recon-title' }, 'Reconciliation of the control accounts'),
    h('div', { class: 'cards' }, h('div', { class: `card ${recon.balanced ? 'ok' : 'bad'}` },
      h('span', {}, 'Ledger against documents'), h('strong', { testid: 'recon-status' }, status))),
    table('recon-table', null, ['Control account', 'Currency', ['Ledger', 'num'], ['Documents', 'num'],
      ['Difference', 'num']], rows, 'No account is mapped to a control role.'),
    inFlight.length ? h('div', { testid: 'recon-in-flight' },
      h('p', { class: 'hint' }, `${inFlight.length} follow-up(s) in flight; the differences settle once they are done:`),
      h('ul', {}, inFlight.map((f) => h('li', {}, f)))) : h('p', { class: 'hint', testid: 'recon-none-in-flight' },
      'Nothing in flight: every document is numbered and posted.'));
}

async function viewAging(ctx, book) {
  const wanted = ctx.query.get('direction');
  const direction = AGING_DIRECTIONS.some(([v]) => v === wanted) ? wanted : 'customer';
  const asOf = ctx.query.get('as_of') || today();
  const [aging, recon, scale] = await Promise.all([api(bookApi(book, 'aging'), { direction, as_of: asOf }),
    api(bookApi(book, 'reconciliation')), documentScales(book)]);
  const what = direction === 'customer' ? 'Receivables' : 'Payables';
  return {
    name: 'aging', title: `Aging · ${book}`, book,
    node: [
      bookHeader(book, 'aging', `${what} aging as of ${aging.as_of ?? asOf}`),
      agingForm(book, direction, asOf),
      h('p', { class: 'hint' }, 'Outstanding amounts by days past the due date. Unallocated payments: ' +
        `${direction === 'customer' ? 'received from customers' : 'sent to suppliers'}, not yet allocated to an invoice.`),
      agingTable(aging.rows ?? [], scale),
      reconciliationPanel(recon, scale),
    ],
  };
}

const EVENT_FILTERS = [['Type', 'type'], ['Actor', 'actor'], ['Command id', 'command_id'],
  ['Aggregate stream', 'aggregate']];

// The envelope's other fields, then the decoded payload, behind a disclosure.
function eventDetails(e) {
  const shown = ['event_id', 'hash_hex', 'version', 'correlation_id', 'causation_event_id', 'source', 'effective_date']
    .filter((k) => e[k] !== undefined && e[k] !== '');
  return h('details', { testid: 'event-payload' }, h('summary', {}, 'details'),
    facts(null, shown.map((k) => [k.replaceAll('_', ' '), h('span', { class: 'id' }, String(e[k]))])),
    h('pre', {}, JSON.stringify(e.payload ?? {}, null, 2)));
}

function eventRow(e, filter) {
  return h('tr', { testid: 'event-row' },
    h('td', { class: 'num' }, String(e.offset ?? '')),
    h('td', { class: 'num' }, String(e.seq ?? '')),
    h('td', {}, link(filter('type', e.type), e.type ?? '', 'event-type')),
    h('td', { class: 'nowrap' }, when(e.recorded_at_ms)),
    h('td', {}, e.actor ? link(filter('actor', e.actor), e.actor) : ''),
    h('td', {}, e.command_id ? link(filter('command_id', e.command_id), e.command_id, 'event-command') : ''),
    h('td', {}, e.stream_id ? link(filter('aggregate', e.stream_id), e.stream_id) : ''),
    h('td', {}, eventDetails(e)));
}

// A record the server could not read as a sealed event.
function eventErrorRow(e) {
  return h('tr', { class: 'bad', testid: 'event-error' },
    h('td', { class: 'num' }, String(e.offset ?? '')), h('td', {}),
    h('td', { colspan: 6 }, `unreadable record: ${e.error}`));
}

async function viewEvents(ctx) {
  const q = Object.fromEntries(['partition', 'after', ...EVENT_FILTERS.map(([, k]) => k)]
    .map((k) => [k, ctx.query.get(k) ?? '']));
  q.partition ||= '0';
  const data = await api('/v1/events', { ...q, limit: PAGE_SIZE });
  const filter = (key, value) => withQuery('/events', { partition: q.partition, [key]: value });
  const rows = (data.events ?? []).map((e) => (e.error !== undefined ? eventErrorRow(e) : eventRow(e, filter)));
  const form = h('form', { class: 'inline', testid: 'events-form', onsubmit: (event) => {
    event.preventDefault();
    const els = event.target.elements;
    const values = Object.fromEntries(Object.keys(q).map((k) => [k, els[`events-${k}`].value.trim()]));
    navigate(withQuery('/events', values));
  } },
  field('Partition', 'events-partition', q.partition, { type: 'number', min: 0, required: true }),
  field('After offset', 'events-after', q.after, { inputmode: 'numeric', pattern: '\\d*' }),
  EVENT_FILTERS.map(([label, k]) => field(label, `events-${k}`, q[k])),
  h('button', { type: 'submit', testid: 'events-submit' }, 'Show'));
  const next = data.next_after ? String(data.next_after) : '';
  const filtered = EVENT_FILTERS.filter(([, k]) => q[k]).map(([label, k]) => `${label.toLowerCase()} ${q[k]}`);
  return {
    name: 'events', title: 'Event log', nav: 'events',
    node: [
      h('h1', {}, `Event log, partition ${q.partition}`),
      form,
      table('events-table', filtered.length ? `Filtered by ${filtered.join(', ')}` : null,
        [['Offset', 'num'], ['Seq', 'num'], 'Type', 'Recorded at', 'Actor', 'Command', 'Aggregate', 'Event'],
        rows, 'No events match.'),
      h('nav', { class: 'pager', 'aria-label': 'Pages' },
        q.after ? link(withQuery('/events', { ...q, after: '' }), '« First page', 'events-first') : null,
        next ? link(withQuery('/events', { ...q, after: next }), 'Next page »', 'events-next') : null),
    ],
  };
}

async function viewExceptions() {
  const data = await api('/v1/exceptions');
  const stopped = (data.stopped_partitions ?? []).map((s) => h('tr', { class: 'bad' },
    h('td', { class: 'num' }, String(s.partition)), h('td', {}, s.reason ?? '')));
  const items = data.dlq ?? [];
  const dlq = items.map((d) => h('tr', { testid: 'dlq-row' },
    h('td', { class: 'num' }, String(d.offset ?? '')), h('td', { class: 'id' }, d.key ?? ''),
    h('td', {}, d.error ?? ''),
    h('td', {}, d.source_partition !== undefined ? `${d.source_partition}:${d.source_offset ?? ''}` : ''),
    h('td', { class: 'num' }, String(d.bytes ?? ''))));
  const size = data.dlq_size ?? items.length;
  return {
    name: 'exceptions', title: 'Exceptions', nav: 'exceptions',
    node: [
      h('h1', {}, 'Exceptions'),
      table('exceptions-stopped', 'Stopped partitions', [['Partition', 'num'], 'Reason'], stopped,
        'No partition is stopped.'),
      table('exceptions-dlq', `Dead-letter queue: ${size} record(s)` +
        (Number(size) > items.length ? `, the first ${items.length} shown` : ''),
      [['Offset', 'num'], 'Key', 'Error', 'From commands partition:offset', ['Bytes', 'num']], dlq,
      'The dead-letter queue is empty.'),
      refusedTable(data.refused_postings ?? []),
    ],
  };
}

// A process manager's event id names its document's stream ("invoice/INV-7@3"): link to it.
function causationLink(eventId) {
  const m = /^(invoice|payment)\/(.+)@\d+$/.exec(eventId ?? '');
  if (!m) return h('code', {}, eventId ?? '');
  return link(path(`${m[1]}s`, m[2]), eventId, 'refused-cause', { class: 'id nowrap' });
}

// Commands of process managers that their target refused: which rule, and the document behind it.
function refusedTable(items) {
  const rows = items.map((r) => h('tr', { testid: 'refused-row' },
    h('td', { class: 'nowrap', testid: 'refused-command' }, h('code', {}, r.command_id ?? '')),
    h('td', {}, r.routing_key ?? ''),
    h('td', {}, h('code', { testid: 'refused-code' }, r.code_name ?? '')),
    h('td', {}, r.field ? h('code', {}, r.field) : ''),
    h('td', { testid: 'refused-detail' }, r.detail ?? ''),
    h('td', {}, causationLink(r.causation_event_id))));
  return table('exceptions-refused', `Refused postings of the process managers: ${items.length}`,
    ['Command', 'Routing key', 'Rule', 'Field', 'Detail', 'Caused by'], rows, 'No refused postings.');
}

// Counters per second from two samples; a counter that went down (restart) has no rate.
function rate(now, before, seconds, keys) {
  if (!before || seconds <= 0) return null;
  let delta = 0n;
  for (const k of keys) {
    if (now[k] === undefined || before[k] === undefined) return null;
    delta += big(now[k]) - big(before[k]);
  }
  return delta < 0n ? null : Number(delta) / seconds;
}

function statusBody(status, previous, seconds, polls) {
  const partitions = (status.partitions ?? []).map((p) => {
    const lagging = big(p.commands_lag) > 0n || big(p.projection_lag_events) > 0n;
    return h('tr', { testid: `status-partition-${p.partition}`, class: p.stopped ? 'bad' : lagging ? 'warn' : undefined },
      h('th', { scope: 'row', class: 'num' }, String(p.partition)),
      h('td', { testid: `status-state-${p.partition}` }, p.stopped ? `stopped${p.state ? ': ' + p.state : ''}` : p.state ?? ''),
      // A negative position means "none yet" (nothing committed on the partition).
      ['commands_end', 'commands_committed', 'commands_lag', 'events_end', 'committed_seq', 'projected_seq',
        'projected_offset', 'projection_lag_events'].map((k) => h('td', { class: 'num' },
        big(p[k]) < 0n ? '—' : String(p[k] ?? ''))));
  });
  const counters = status.counters ?? {};
  const perSecond = (keys) => {
    const r = rate(counters, previous, seconds, keys);
    return r === null ? '…' : r.toFixed(1);
  };
  const counterRows = Object.keys(counters).map((k) => h('tr', { testid: `status-counter-${k}` },
    h('th', { scope: 'row' }, k.replaceAll('_', ' ')),
    h('td', { class: 'num' }, String(counters[k])), h('td', { class: 'num' }, perSecond([k]))));
  const audit = status.audit ?? {};
  const heads = (audit.heads ?? []).map((x) => h('tr', {},
    h('td', { class: 'num' }, String(x.partition)), h('td', { class: 'num' }, String(x.seq ?? '')),
    h('td', { class: 'id' }, x.head_hex ?? '')));
  return [
    h('p', { class: 'hint', testid: 'status-updated', 'data-polls': polls },
      `Updated ${new Date().toLocaleTimeString()} · every ${STATUS_POLL_MS / 1000} s while this view is open`),
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('span', {}, 'Commands / s'), h('strong', { testid: 'status-commands-rate' },
        perSecond('commands' in counters ? ['commands'] : ['accepted', 'rejected', 'duplicates', 'dead_lettered']))),
      h('div', { class: 'card' }, h('span', {}, 'Events projected / s'),
        h('strong', { testid: 'status-events-rate' }, perSecond(['projected_events']))),
      status.commands_backlog === undefined ? null : h('div', { class: 'card' }, h('span', {}, 'HTTP command backlog'),
        h('strong', { testid: 'status-backlog' }, `${status.commands_backlog} / ${status.commands_backlog_max ?? '?'}`)),
      h('div', { class: `card ${audit.chain_verified ? 'ok' : 'bad'}` }, h('span', {}, 'Hash chains'),
        h('strong', { testid: 'status-chain' }, audit.chain_verified ? 'verified' : 'NOT verified'))),
    table('status-partitions', 'Partitions (offsets of the commands and events topics)', [['Partition', 'num'],
      'State', ['Commands end', 'num'], ['Committed', 'num'], ['Command lag', 'num'], ['Events end', 'num'],
      ['Committed seq', 'num'], ['Projected seq', 'num'], ['Projected offset', 'num'], ['Projection lag', 'num']],
    partitions, 'No partitions.'),
    table('status-counters', 'Counters since start', ['Counter', ['Total', 'num'], ['Per second', 'num']],
      counterRows, 'No counters.'),
    table('status-audit', 'Hash chain heads', [['Partition', 'num'], ['Seq', 'num'], 'Head'], heads, 'No heads.'),
  ];
}

async function viewStatus(ctx) {
  let sample = { status: await api('/v1/status'), at: performance.now() };
  let polls = 1;
  const box = h('div', { testid: 'status-body' }, statusBody(sample.status, null, 0, polls));
  const error = h('div', { testid: 'status-error' });
  const tick = async () => {
    if (!ctx.live()) return;
    try {
      const status = await api('/v1/status');
      if (!ctx.live()) return;
      const at = performance.now();
      polls += 1;
      box.replaceChildren(...statusBody(status, sample.status.counters, (at - sample.at) / 1000, polls));
      sample = { status, at };
      error.replaceChildren();
    } catch (e) {
      if (!ctx.live()) return;
      if (e instanceof SignInRequired) return showSignIn(e.message);
      error.replaceChildren(problemBox(e.problem ?? { title: e.message }, e.status));
    }
    setTimeout(tick, STATUS_POLL_MS);
  };
  setTimeout(tick, STATUS_POLL_MS);
  return { name: 'status', title: 'Operations', nav: 'status', node: [h('h1', {}, 'Operations'), error, box] };
}

// ---------------------------------------------------------------------------------------------
// Router and sign-in.

const ROUTES = [
  [/^\/?$/, viewBooks],
  [/^\/books\/([^/]+)\/?$/, (ctx, book) => ({ redirect: path('books', book, 'trial-balance') })],
  [/^\/books\/([^/]+)\/trial-balance$/, viewTrialBalance],
  [/^\/books\/([^/]+)\/accounts\/([^/]+)\/statement$/, viewStatement],
  [/^\/books\/([^/]+)\/entries\/([^/]+)$/, viewEntry],
  [/^\/books\/([^/]+)\/holds$/, viewHolds],
  [/^\/books\/([^/]+)\/balance-sheet$/, viewBalanceSheet],
  [/^\/books\/([^/]+)\/income-statement$/, viewIncomeStatement],
  [/^\/books\/([^/]+)\/invoices$/, viewInvoices],
  [/^\/books\/([^/]+)\/invoices\/([^/]+)$/, viewInvoice],
  [/^\/books\/([^/]+)\/payments$/, viewPayments],
  [/^\/books\/([^/]+)\/payments\/([^/]+)$/, viewPayment],
  [/^\/books\/([^/]+)\/aging$/, viewAging],
  // A document by id alone (links from the exceptions): its view under its book.
  [/^\/invoices\/([^/]+)$/, async (ctx, id) => ({
    redirect: path('books', (await api(path('v1', 'invoices', id))).draft?.book_id ?? '', 'invoices', id) })],
  [/^\/payments\/([^/]+)$/, async (ctx, id) => ({
    redirect: path('books', (await api(path('v1', 'payments', id))).payment?.book_id ?? '', 'payments', id) })],
  [/^\/events$/, viewEvents],
  [/^\/exceptions$/, viewExceptions],
  [/^\/status$/, viewStatus],
];

let generation = 0;

function showSignIn(message) {
  generation += 1;  // stops polling and drops renders in flight
  const main = document.getElementById('view');
  main.replaceChildren();
  main.hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('signin').hidden = false;
  const text = document.getElementById('signin-message');
  text.textContent = message ?? '';
  text.hidden = !message;
  document.getElementById('signin-token').focus();
}

function markNav(active) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function render() {
  const mine = ++generation;
  const main = document.getElementById('view');
  if (!sessionStorage.getItem(TOKEN_KEY)) return showSignIn('');
  document.getElementById('signin').hidden = true;
  document.getElementById('signout').hidden = false;
  main.hidden = false;
  const rendering = location.hash;
  const hash = rendering.replace(/^#/, '') || '/';
  const cut = hash.indexOf('?');
  const route = cut < 0 ? hash : hash.slice(0, cut);
  const ctx = { query: new URLSearchParams(cut < 0 ? '' : hash.slice(cut + 1)), live: () => mine === generation };
  main.dataset.ready = 'false';
  main.setAttribute('aria-busy', 'true');
  let view;
  try {
    const match = ROUTES.map(([re, fn]) => [route.match(re), fn]).find(([m]) => m);
    if (!match) throw new ApiProblem(404, { title: 'No such page', detail: `Nothing lives at #${route}.` });
    const [m, fn] = match;
    view = await fn(ctx, ...m.slice(1).map(decodeURIComponent));
    if (view.redirect) return void location.replace('#' + view.redirect);
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof SignInRequired) return showSignIn(error.message);
    const problem = error instanceof ApiProblem ? error.problem : { title: 'Unexpected error', detail: String(error) };
    view = { name: 'error', title: 'Error', node: [h('h1', {}, 'Something went wrong'), problemBox(problem, error.status)] };
  }
  if (mine !== generation) return;
  document.title = `${view.title} — Daybook`;
  markNav(view.nav ?? (view.book ? 'books' : null));
  main.replaceChildren(...[view.node].flat(Infinity).filter(Boolean));
  main.dataset.view = view.name;
  main.dataset.hash = rendering;  // lets a test tell this render from the previous one
  main.dataset.ready = 'true';
  main.removeAttribute('aria-busy');
}

function start() {
  document.getElementById('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('signin-token');
    const token = input.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    input.value = '';
    render();
  });
  document.getElementById('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn('Signed out.');
  });
  window.addEventListener('hashchange', render);
  render();
}

if (typeof document !== 'undefined') start();
