'use strict';
// The part every Node reader script shares: read each feed URL on the command line with
// the script's `read(url)` and print one JSON object in the shape readers.py reads.

/** A feed the parser could not read, in the same shape as one it could. */
function failed(error) {
  return { error: String(error), link: null, title: null, items: [] };
}

async function report(read) {
  const feeds = {};
  for (const url of process.argv.slice(2)) {
    try {
      feeds[url] = await read(url);
    } catch (error) {
      feeds[url] = failed(error);
    }
  }
  process.stdout.write(JSON.stringify({ feeds }));
}

module.exports = { report };
