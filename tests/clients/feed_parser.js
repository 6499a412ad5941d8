'use strict';
// What @rowanmanning/feed-parser (npm) makes of each feed URL on the command line, as one
// JSON object on stdout in the shape tests/clients/readers.py reads. The parser takes a
// string, so the feed is fetched with Node's own fetch(), as apps built on it do.
const { parseFeed } = require('@rowanmanning/feed-parser');
const { report } = require('./report');

/** Seconds since the epoch, or null. */
function seconds(date) {
  return date ? Math.floor(date.getTime() / 1000) : null;
}

async function read(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(30000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const feed = parseFeed(await response.text());
  return {
    error: null,
    link: feed.url,
    title: feed.title,
    items: feed.items.map((item) => ({
      id: item.id,
      link: item.url,
      title: item.title,
      published: seconds(item.published),
      updated: seconds(item.updated),
      categories: item.categories.flatMap((c) => [c.term, c.label].filter(Boolean)),
    })),
  };
}

report(read);
