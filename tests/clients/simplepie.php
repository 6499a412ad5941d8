<?php
// What SimplePie makes of each feed URL on the command line, as one JSON object on stdout
// in the shape tests/clients/readers.py reads. SimplePie fetches the URL itself.
//
// usage: php simplepie.php LOADER URL...
// LOADER is Debian's /usr/share/php/simplepie/autoloader.php (libphp-simplepie) or the
// wp-includes/class-simplepie.php of Debian's wordpress package, which needs ABSPATH/WPINC.

ini_set('display_errors', 'stderr');  // notices never mix with the JSON on stdout
error_reporting(E_ALL);

$loader = $argv[1];
if (basename($loader) === 'class-simplepie.php') {
    define('ABSPATH', dirname($loader, 2) . '/');
    define('WPINC', basename(dirname($loader)));
}
require $loader;

/** The text a reader shows: SimplePie returns titles and labels HTML-escaped for output. */
function shown(?string $html): ?string
{
    return $html === null ? null : html_entity_decode($html, ENT_QUOTES | ENT_HTML5, 'UTF-8');
}

/** Seconds since the epoch, or null. */
function seconds($value): ?int
{
    return ($value === null || $value === '' || $value === false) ? null : (int) $value;
}

function read(string $url): array
{
    try {
        $feed = new SimplePie();
        $feed->set_feed_url($url);
        $feed->enable_cache(false);
        $feed->set_timeout(30);
        $feed->init();
        if ($feed->error()) {
            return ['error' => (string) $feed->error(), 'link' => null, 'title' => null, 'items' => []];
        }
        $items = [];
        foreach ($feed->get_items() as $item) {
            $categories = [];
            foreach ((array) $item->get_categories() as $category) {
                foreach ([$category->get_term(), $category->get_label()] as $text) {
                    if ($text !== null && $text !== '') {
                        $categories[] = shown($text);
                    }
                }
            }
            $updated = method_exists($item, 'get_updated_date') ? $item->get_updated_date('U') : null;
            $items[] = [
                'id' => $item->get_id(),
                'link' => $item->get_permalink(),
                'title' => shown($item->get_title()),
                'published' => seconds($item->get_date('U')),
                'updated' => seconds($updated),
                'categories' => $categories,
            ];
        }
        return ['error' => null, 'link' => $feed->get_link(), 'title' => shown($feed->get_title()), 'items' => $items];
    } catch (Throwable $error) {
        return ['error' => get_class($error) . ': ' . $error->getMessage(), 'link' => null, 'title' => null, 'items' => []];
    }
}

$feeds = [];
foreach (array_slice($argv, 2) as $url) {
    $feeds[$url] = read($url);
}
echo json_encode(['version' => SIMPLEPIE_VERSION, 'php' => PHP_VERSION, 'feeds' => $feeds], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
