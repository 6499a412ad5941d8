'use strict';
// What rss-parser (npm) makes of each feed URL on the command line, as one JSON object on
// stdout in the shape tests/clients/readers.py reads. rss-parser fetches the URL itself,
// with its own HTTP client, as it does in the apps that use it.
const Parser = require('rss-parser');
const { report } = require('./report');

/** Seconds since the epoch, or null: the date as the reader would show it. */
function seconds(text) {
  if (!text) return null;
  const time = new Date(text).getTime();
  return Number.isNaN(time) ? null : Math.floor(time / 1000);
}

/** rss-parser keeps an RSS <category> as a string, or {_: text, $: attributes} when it has
 * a domain; it reads no categories from Atom entries at all (null: it cannot show them). */
function categories(item, atom) {
  if (atom) return null;
  return (item.categories || []).map((c) => (typeof c === 'string' ? c : c._ || ''));
}

async function read(url) {
  const parser = new Parser({ timeout: 30000 });
  const feed = await parser.parseURL(url);
  const atom = url.endsWith('.atom');
  return {
    error: null,
    link: feed.link || null,
    title: feed.title || null,
    items: feed.items.map((item) => ({
      id: item.guid || item.id || null,
      link: item.link || null,
      title: item.title ?? null,
      published: seconds(item.isoDate || item.pubDate),
      updated: null,
      categories: categories(item, atom),
    })),
  };
}

report(read);
