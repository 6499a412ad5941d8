/* feedsvc widget.js: the script widget for partner pages, and the sizer of the iframe widget.
 *
 *   <script src="https://news.example/widget.js" async></script>
 *   <feedsvc-feed src="https://news.example/zh-hans/news/feed.json" limit="5"
 *                 timezone="Asia/Shanghai"></feedsvc-feed>
 *
 * Attributes: src (a JSON Feed 1.1 URL, required), limit (1-50, default 10), images and
 * summary ("1" shows lead images / summaries; default off), theme (light | dark | auto,
 * default light), target (_self | _blank | _top, default _self), timezone (IANA zone of
 * the dates; default the reader's), refresh (seconds between revalidations, at least 30;
 * default 300, 0 = never), lang (the labels' language until the feed says its own).
 *
 * It renders into an open shadow root: the page's CSS does not reach the widget (inherited
 * properties are reset at its root) and its CSS does not leave it. Feed content is only
 * ever set as text (textContent) or as an http(s) URL of a link or image; the items'
 * content_html is never used, and no feed text goes through innerHTML. A refresh sends
 * If-None-Match with the feed's ETag; a 304 keeps what is shown. It also refreshes when
 * the page becomes visible again. State: the element's data-state is loading, ready or
 * error, and it fires "feedsvc:ready" / "feedsvc:error" events.
 *
 * The iframe widget posts {type: "feedsvc:height", height, id} from its frame; this script
 * sets the height of the iframe that sent it (checked by event.source and the frame's
 * origin), and asks frames that loaded before it with {type: "feedsvc:measure"}.
 */
(() => {
  "use strict";
  if (window.customElements && window.customElements.get("feedsvc-feed")) return;

  const LABELS = {
    en: {
      loading: "Loading news…", error: "The news could not be loaded.", retry: "Try again",
      empty: "No articles yet.", more: "More news",
      "machine-translated": "Machine translation", converted: "Converted from reviewed text",
    },
    "zh-Hans": {
      loading: "正在加载新闻…", error: "新闻加载失败。", retry: "重试", empty: "暂无文章。",
      more: "更多新闻", "machine-translated": "机器翻译", converted: "由审校译文转换",
    },
    "zh-Hant": {
      loading: "正在載入新聞…", error: "新聞載入失敗。", retry: "重試", empty: "暫無文章。",
      more: "更多新聞", "machine-translated": "機器翻譯", converted: "由審校譯文轉換",
    },
  };
  // feedsvc's JSON Feed extension says how a translated entry was made; text people have
  // not reviewed is labelled, as on the site and in the iframe widget.
  const UNREVIEWED = ["machine-translated", "converted"];
  const DEFAULT_LIMIT = 10;
  const MAX_LIMIT = 50;
  const DEFAULT_REFRESH = 300;
  const MIN_REFRESH = 30;

  // The dark palette, once: for theme="dark", and for "auto" when the reader's system is dark.
  const DARK = `
  --bg: #16191e; --text: #e8eaed; --muted: #9da7b3; --summary: #c4cad2; --accent: #8ab4f8;
  --rule: #2c313a; --hover: #1f242b; --badge-bg: #3a2f12; --badge-text: #f3d48a;
  color-scheme: dark;`;

  const CSS = `
:host { display: block; contain: content; }
:host([hidden]) { display: none; }
.root {
  all: initial;
  display: block;
  box-sizing: border-box;
  --bg: #ffffff; --text: #1f2328; --muted: #59636e; --summary: #3d444d; --accent: #0b57d0;
  --rule: #e3e6ea; --hover: #f5f7fa; --badge-bg: #fff4d6; --badge-text: #6b4a00;
  background: var(--bg);
  color: var(--text);
  border: 1px solid var(--rule);
  border-radius: 10px;
  padding: 4px 16px 10px;
  font: 400 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
    "WenQuanYi Micro Hei", sans-serif;
  text-align: start;
  color-scheme: light;
}
.root:lang(zh-Hant) {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "PingFang TC", "Microsoft JhengHei",
    "Noto Sans CJK TC", "WenQuanYi Micro Hei", sans-serif;
}
.root[data-theme="dark"] { ${DARK} }
@media (prefers-color-scheme: dark) {
  .root[data-theme="auto"] { ${DARK} }
}
*, *::before, *::after { box-sizing: border-box; }
ol { list-style: none; margin: 0; padding: 0; }
li {
  position: relative; display: flex; gap: 14px; align-items: flex-start;
  padding: 12px 8px; margin: 0 -8px; border-radius: 8px;
  transition: background-color .12s ease;
}
li + li::before {
  content: ""; position: absolute; top: 0; left: 8px; right: 8px;
  border-top: 1px solid var(--rule);
}
li:hover { background: var(--hover); }
li:hover::before, li:hover + li::before { border-top-color: transparent; }
.text { flex: 1 1 auto; min-width: 0; }
a { color: inherit; }
.title {
  display: block; font-weight: 600; font-size: 15.5px; line-height: 1.5;
  text-decoration: none; overflow-wrap: anywhere;
}
:lang(zh) .title { font-weight: 500; font-size: 16px; }
a.title:hover, a.title:focus-visible {
  color: var(--accent); text-decoration: underline; text-underline-offset: 3px;
}
a:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 3px; }
.meta { display: block; margin: 3px 0 0; font-size: 13px; color: var(--muted); font-variant-numeric: tabular-nums; }
.badge {
  display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 4px;
  font-size: 12px; line-height: 1.6; background: var(--badge-bg); color: var(--badge-text);
}
.summary {
  margin: 5px 0 0; font-size: 14px; line-height: 1.6; color: var(--summary);
  display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; overflow: hidden;
  overflow-wrap: anywhere;
}
.thumb { flex: 0 0 auto; display: block; line-height: 0; }
.thumb img {
  display: block; width: 104px; height: 70px; object-fit: cover; border-radius: 6px;
  background: var(--rule);
}
.state { margin: 14px 0; color: var(--muted); }
.state button {
  margin-left: 8px; font: inherit; font-size: 13.5px; color: var(--accent);
  background: transparent; border: 1px solid var(--rule); border-radius: 6px;
  padding: 2px 10px; cursor: pointer;
}
.state button:hover { border-color: var(--accent); }
.more { display: block; margin: 8px 0 0; font-size: 13.5px; }
.more a { color: var(--accent); text-decoration: none; font-weight: 500; }
.more a:hover { text-decoration: underline; text-underline-offset: 3px; }
@media (prefers-reduced-motion: reduce) { li { transition: none; } }
`;

  /** An absolute http(s) URL, or null: javascript:, data: and the rest are refused. */
  const httpUrl = (value, base) => {
    if (typeof value !== "string" || value === "") return null;
    try {
      const url = new URL(value, base);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch {
      return null;
    }
  };

  const text = (value) => (typeof value === "string" ? value : "");

  const labelsFor = (lang) => {
    const tag = String(lang || "").toLowerCase();
    if (!tag.startsWith("zh")) return LABELS.en;
    const traditional = /-(hant|tw|hk|mo)(-|$)/.test(tag) && !tag.includes("-hans");
    return traditional ? LABELS["zh-Hant"] : LABELS["zh-Hans"];
  };

  /** The language a feed URL names (/zh-hans/…/feed.json), for the labels before it loads. */
  const languageOf = (src) => {
    try {
      const first = new URL(src, document.baseURI).pathname.split("/")[1] || "";
      return /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(first) ? first : "";
    } catch {
      return "";
    }
  };

  const element = (name, className, content) => {
    const node = document.createElement(name);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  };

  const styleSheet = () => {
    if ("adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // a constructed sheet: no <style> for a strict host CSP to refuse
      return sheet;
    }
    return null;
  };
  let sharedSheet;

  class FeedsvcFeed extends HTMLElement {
    static get observedAttributes() {
      return ["src", "limit", "images", "summary", "theme", "target", "timezone", "refresh", "lang"];
    }

    constructor() {
      super();
      this._shadow = this.attachShadow({ mode: "open" });
      if (sharedSheet === undefined) sharedSheet = styleSheet();
      if (sharedSheet) {
        this._shadow.adoptedStyleSheets = [sharedSheet];
      } else {
        this._shadow.append(element("style", null, CSS));
      }
      this._root = element("div", "root");
      this._shadow.append(this._root);
      this._etag = null;
      this._data = null;
      this._timer = null;
      this._controller = null;
      this._connected = false;
      this._onVisible = () => {
        if (document.visibilityState === "visible") this.refresh();
      };
    }

    connectedCallback() {
      this._connected = true; // from now on attribute changes re-render or re-fetch
      document.addEventListener("visibilitychange", this._onVisible);
      this._schedule();
      if (!this._data) this.refresh();
    }

    disconnectedCallback() {
      this._connected = false;
      document.removeEventListener("visibilitychange", this._onVisible);
      clearInterval(this._timer);
      this._timer = null;
      if (this._controller) this._controller.abort();
    }

    attributeChangedCallback(name, before, after) {
      // An element upgraded in place reports its attributes before it is connected.
      if (!this._connected || before === after) return;
      if (name === "src") {
        this._etag = null;
        this._data = null;
        this.refresh();
      } else if (name === "refresh") {
        this._schedule();
      } else if (this._data) {
        this._render();
      } else if (name === "lang" || name === "theme") {
        this._frame();
      }
    }

    /** Fetch the feed again: with If-None-Match once there is one (a 304 keeps the data). */
    async refresh() {
      const src = httpUrl(this.getAttribute("src"), document.baseURI);
      if (!src) {
        this._fail();
        return;
      }
      if (this._controller) this._controller.abort();
      const controller = (this._controller = new AbortController());
      if (!this._data) this._state("loading");
      const headers = this._etag ? { "If-None-Match": this._etag } : {};
      try {
        const response = await fetch(src, {
          headers,
          mode: "cors",
          credentials: "omit",
          signal: controller.signal,
        });
        if (response.status === 304 && this._data) {
          this._announce("ready");
          return;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const data = await response.json();
        if (!data || typeof data !== "object" || !Array.isArray(data.items)) {
          throw new Error("not a JSON Feed");
        }
        this._etag = response.headers.get("ETag");
        this._data = data;
        this._render();
      } catch (error) {
        if (controller.signal.aborted) return;
        if (this._data) {
          this._announce("ready"); // keep what is shown; the next refresh tries again
        } else {
          this._fail();
        }
      }
    }

    _schedule() {
      clearInterval(this._timer);
      this._timer = null;
      const raw = this.getAttribute("refresh");
      let seconds = raw === null ? DEFAULT_REFRESH : Number(raw);
      if (!Number.isFinite(seconds) || seconds <= 0) return;
      seconds = Math.max(seconds, MIN_REFRESH);
      this._timer = setInterval(() => {
        if (document.visibilityState !== "hidden") this.refresh();
      }, seconds * 1000);
    }

    _language() {
      const fromFeed = this._data && text(this._data.language);
      return fromFeed || this.getAttribute("lang") || languageOf(this.getAttribute("src")) || document.documentElement.lang || "en";
    }

    _flag(name) {
      return this.getAttribute(name) === "1";
    }

    _limit() {
      const value = Number.parseInt(this.getAttribute("limit") || "", 10);
      return Number.isInteger(value) ? Math.min(Math.max(value, 1), MAX_LIMIT) : DEFAULT_LIMIT;
    }

    _target() {
      const target = this.getAttribute("target");
      return target === "_blank" || target === "_top" ? target : null;
    }

    _dateFormat(lang) {
      const options = { dateStyle: "medium", timeStyle: "short" };
      const zone = this.getAttribute("timezone");
      for (const attempt of [zone ? { ...options, timeZone: zone } : options, options]) {
        for (const locale of [lang, "en"]) {
          try {
            return new Intl.DateTimeFormat(locale, attempt);
          } catch {
            // an unknown zone or language: the next attempt leaves it out
          }
        }
      }
      return null;
    }

    /** The wrapper's language and theme, emptied. */
    _frame() {
      const root = this._root;
      const lang = this._language();
      root.setAttribute("lang", lang);
      const theme = this.getAttribute("theme");
      root.dataset.theme = theme === "dark" || theme === "auto" ? theme : "light";
      root.replaceChildren();
      return labelsFor(lang);
    }

    _state(state) {
      const labels = this._frame();
      if (state === "loading") {
        const note = element("p", "state", labels.loading);
        note.setAttribute("role", "status");
        this._root.append(note);
      }
      this._announce(state);
    }

    _fail() {
      const labels = this._frame();
      const note = element("p", "state", labels.error);
      note.setAttribute("role", "alert");
      const retry = element("button", null, labels.retry);
      retry.type = "button";
      retry.addEventListener("click", () => this.refresh());
      note.append(retry);
      this._root.append(note);
      this._announce("error");
    }

    _announce(state) {
      this.dataset.state = state;
      if (state !== "loading") {
        this.dispatchEvent(new CustomEvent(`feedsvc:${state}`, { bubbles: true, composed: true }));
      }
    }

    _render() {
      const data = this._data;
      const labels = this._frame();
      const lang = this._language();
      const format = this._dateFormat(lang);
      const target = this._target();
      const feedUrl = httpUrl(this.getAttribute("src"), document.baseURI);
      const link = (href, className) => {
        const anchor = element("a", className);
        anchor.href = href;
        if (target) anchor.target = target;
        if (target === "_blank") anchor.rel = "noopener";
        return anchor;
      };
      const items = data.items.filter((item) => item && typeof item === "object").slice(0, this._limit());
      if (items.length === 0) {
        this._root.append(element("p", "state", labels.empty));
      } else {
        const list = element("ol");
        for (const item of items) {
          const row = element("li");
          const body = element("div", "text");
          const url = httpUrl(item.url, feedUrl);
          const title = text(item.title) || text(item.summary).slice(0, 80) || url || "";
          const heading = url ? link(url, "title") : element("span", "title");
          heading.textContent = title;
          if (item.language && item.language !== lang) heading.setAttribute("lang", text(item.language));
          body.append(heading);
          const published = new Date(text(item.date_published));
          const meta = element("span", "meta");
          if (format && !Number.isNaN(published.getTime())) {
            const time = element("time", null, format.format(published));
            time.dateTime = published.toISOString();
            meta.append(time);
          }
          const extension = item._feedsvc && typeof item._feedsvc === "object" ? item._feedsvc : {};
          if (UNREVIEWED.includes(extension.provenance)) {
            meta.append(element("span", "badge", labels[extension.provenance]));
          }
          if (meta.childNodes.length) body.append(meta);
          const summary = text(item.summary);
          if (this._flag("summary") && summary) body.append(element("p", "summary", summary));
          row.append(body);
          const image = this._flag("images") && url ? httpUrl(item.image, feedUrl) : null;
          if (image) {
            const thumb = link(url, "thumb");
            thumb.tabIndex = -1;
            thumb.setAttribute("aria-hidden", "true");
            const img = element("img");
            img.alt = "";
            img.loading = "lazy";
            img.decoding = "async";
            img.referrerPolicy = "no-referrer";
            img.addEventListener("error", () => thumb.remove());
            img.src = image;
            thumb.append(img);
            row.append(thumb);
          }
          list.append(row);
        }
        this._root.append(list);
      }
      const home = httpUrl(data.home_page_url, feedUrl);
      if (home) {
        const more = element("p", "more");
        const anchor = link(home, null);
        anchor.textContent = `${labels.more} ›`;
        more.append(anchor);
        this._root.append(more);
      }
      this._announce("ready");
    }
  }

  if (window.customElements) window.customElements.define("feedsvc-feed", FeedsvcFeed);

  // The iframe widget's height: only from a frame on this page, only its own height.
  const frames = () => Array.from(document.getElementsByTagName("iframe"));
  const locationOf = (frame) => {
    try {
      return frame.src ? new URL(frame.src, document.baseURI) : null;
    } catch {
      return null;
    }
  };
  const originOf = (frame) => {
    const url = locationOf(frame);
    return url ? url.origin : null;
  };
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!data || typeof data !== "object" || data.type !== "feedsvc:height") return;
    const height = Number(data.height);
    if (!Number.isFinite(height) || height <= 0 || height > 100000) return;
    for (const frame of frames()) {
      if (frame.contentWindow === event.source && originOf(frame) === event.origin) {
        frame.style.height = `${Math.ceil(height)}px`;
      }
    }
  });
  for (const frame of frames()) {
    const url = locationOf(frame);
    if (url && frame.contentWindow && /\/embed$/.test(url.pathname)) {
      frame.contentWindow.postMessage({ type: "feedsvc:measure" }, url.origin);
    }
  }
})();
