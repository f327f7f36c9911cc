// The course website's script, loaded before MathJax.
// ipywidgets' HTML manager typesets each widget's label with MathJax 2's `MathJax.Hub.Queue`; this site serves
// MathJax 3 (from the pinned npm package), which has no Hub. Give every MathJax object the site sees a Hub whose
// Queue typesets the element with MathJax 3's API once MathJax has started.
(function () {
  'use strict';
  const hub = {
    Queue(job) {
      const element = Array.isArray(job) ? job[2] : undefined;
      const mathjax = window.MathJax;
      if (!mathjax || !mathjax.startup || !mathjax.startup.promise || !mathjax.typesetPromise) {
        return undefined;  // MathJax has not started: it typesets the whole page when it does
      }
      return mathjax.startup.promise.then(() => mathjax.typesetPromise(element ? [element] : undefined));
    },
  };
  let current = window.MathJax;
  Object.defineProperty(window, 'MathJax', {
    configurable: true,
    get() { return current; },
    set(value) {
      current = value;
      if (value && typeof value === 'object' && value.version && !value.Hub) {
        value.Hub = hub;  // only the library's own object (it has a version), never the configuration
      }
    },
  });
})();
