// @file node20-polyfill.mjs
// @brief Promise.withResolvers (ES2024, Node >= 22) for Node 20: js-libp2p's transitive
// dependency it-queue calls it. Same semantics as the standard; imported before libp2p.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
