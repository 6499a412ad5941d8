// The iframe widget's only script (templates/embed.html). It tells the embedding page how
// tall this document is, so the page can size the iframe to it (widget.js does that):
//   parent.postMessage({type: "feedsvc:height", height: <CSS px>, id: <?id= or null>}, "*")
// on load, whenever the content's height changes (ResizeObserver: fonts, images, a
// narrower frame), and when the page asks with {type: "feedsvc:measure"} (a widget.js
// that loaded after this frame). The message holds nothing but the height and the id the
// embedder chose, so any origin may read it. It also hides lead images that fail to load.
(() => {
  "use strict";
  const root = document.documentElement;
  const id = root.dataset.embedId || null;
  let last = -1;

  const post = (always) => {
    if (window.parent === window) return;
    const height = Math.ceil(root.getBoundingClientRect().height);
    if (!always && height === last) return;
    last = height;
    window.parent.postMessage({ type: "feedsvc:height", height, id }, "*");
  };

  for (const image of document.querySelectorAll(".thumb img")) {
    const hide = () => image.parentElement.classList.add("broken");
    if (image.complete && image.naturalWidth === 0 && image.currentSrc) hide();
    image.addEventListener("error", hide);
  }
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => post(false)).observe(root);
  } else {
    window.addEventListener("resize", () => post(false));
  }
  window.addEventListener("load", () => post(true));
  window.addEventListener("message", (event) => {
    if (event.source === window.parent && event.data && event.data.type === "feedsvc:measure") {
      post(true);
    }
  });
  post(true);
})();
