// The demo's unfinished recordings: the spools that a reload, a tab crash or a closed tab left with bytes OSS has not
// confirmed. Each gets a Resume button (reopen the spool: its bytes go to OSS first, then the appender closes and the
// spool is deleted) and a Discard button.

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  return n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(2)} MiB`;
}

function button(text, cls) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (cls) b.className = cls;
  return b;
}

/** Lists `client`'s unfinished recordings in #unfinished (hidden when there are none). */
export async function showUnfinished(client) {
  const box = document.getElementById('unfinished');
  const list = document.getElementById('unfinished-list');
  let items;
  try {
    items = await client.listUnfinished();
  } catch (err) {
    console.warn('listUnfinished:', err);
    return;
  }
  list.replaceChildren();
  box.hidden = items.length === 0;
  for (const u of items) {
    const li = document.createElement('li');
    li.dataset.spool = u.spool;
    li.dataset.state = 'waiting';
    const what = document.createElement('span');
    what.className = 'what';
    what.textContent = `${u.name} · ${fmtBytes(u.pending)} not yet on OSS (after byte ${u.position}) · ` +
      `${u.updatedAt.toLocaleString()}`;
    const resume = button('Resume', 'primary resume');
    const discard = button('Discard', 'discard');
    const result = document.createElement('span');
    result.className = 'result';
    resume.addEventListener('click', async () => {
      resume.disabled = true;
      discard.disabled = true;
      result.textContent = 'Resuming…';
      try {
        const w = await client.openAppender(u.name, { spool: u.spool });
        const closed = await w.close();
        li.dataset.state = 'resumed';
        li.dataset.position = closed.nextAppendPosition;
        result.textContent = `✓ Resumed: the object has ${closed.nextAppendPosition} bytes, CRC-64 ${closed.crc64}`;
      } catch (err) {
        li.dataset.state = 'failed';
        result.textContent = `✕ ${err.name}: ${err.message}`;
        resume.disabled = false;
        discard.disabled = false;
      }
    });
    discard.addEventListener('click', async () => {
      discard.disabled = true;
      await client.discardSpool(u.spool);
      li.remove();
      box.hidden = list.children.length === 0;
    });
    li.append(what, resume, discard, result);
    list.append(li);
  }
}
