/**
 * The page `web` serves at `/`: one self-contained HTML document (inline style and
 * script, no fonts, images or scripts from elsewhere) so it works inside a mesh with
 * no way out. It lists the emoji, votes on click, and shows the leaderboard.
 */

/** The HTML of the voting page. */
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Emoji vote · weft demo</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 48rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.5rem; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(3.5rem, 1fr)); gap: .5rem; }
  #grid button { font-size: 2rem; padding: .25rem; border: 1px solid #ccc; border-radius: .5rem; background: #fff; cursor: pointer; }
  #grid button:hover { background: #f3f3f3; }
  #status { min-height: 1.5rem; margin: 1rem 0; }
  .error { color: #b00020; }
  table { border-collapse: collapse; }
  td { padding: .2rem .75rem; }
  td.e { font-size: 1.5rem; }
</style>
</head>
<body>
<h1>Vote for your favourite emoji</h1>
<p>Every vote goes from this page to <code>web</code>, which asks <code>emoji</code> and <code>voting</code> over gRPC.
Voting for 🍩 always fails: that is the demo's deliberate error.</p>
<div id="grid" aria-label="emoji"></div>
<div id="status" role="status"></div>
<h2>Leaderboard</h2>
<table><tbody id="board"></tbody></table>
<script>
const grid = document.getElementById('grid');
const statusLine = document.getElementById('status');
const board = document.getElementById('board');

function say(text, isError) {
  statusLine.textContent = text;
  statusLine.className = isError ? 'error' : '';
}

async function vote(emoji) {
  const res = await fetch('/api/vote?choice=' + encodeURIComponent(emoji.shortcode), { method: 'POST' });
  if (res.ok) say('You voted for ' + emoji.unicode + ' ' + emoji.shortcode, false);
  else say('Your vote for ' + emoji.unicode + ' failed (HTTP ' + res.status + ')', true);
  refreshBoard();
}

async function loadList() {
  const res = await fetch('/api/list');
  if (!res.ok) { say('Cannot load the emoji (HTTP ' + res.status + '); retrying', true); setTimeout(loadList, 2000); return; }
  for (const emoji of await res.json()) {
    const b = document.createElement('button');
    b.textContent = emoji.unicode;
    b.title = emoji.shortcode;
    b.addEventListener('click', () => vote(emoji));
    grid.appendChild(b);
  }
}

async function refreshBoard() {
  const res = await fetch('/api/leaderboard');
  if (!res.ok) return;
  const rows = (await res.json()).slice(0, 10);
  board.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    for (const [cls, text] of [['e', r.unicode], ['', r.shortcode], ['', String(r.votes)]]) {
      const td = document.createElement('td');
      td.className = cls;
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
}

loadList();
refreshBoard();
setInterval(refreshBoard, 2000);
</script>
</body>
</html>
`;
