// One of the page's tile workers (web/src/pipeline/pool.rs): another instance of the page's own
// wasm (the compiled module comes from the page, so nothing is fetched or compiled twice) that
// runs the generator on the tiles the page posts, so one picture uses several cores without
// shared memory, a threaded build or a cross-origin-isolated page. The work is in Rust
// (web/src/tile_worker.rs); this file only starts the instance and carries messages.
let page = null;
let queue = Promise.resolve();

self.onmessage = ({ data }) => {
  if (data.glue) {
    queue = (async () => {
      try {
        page = await import(data.glue);
        await page.default({ module_or_path: data.module });
        self.postMessage({ ready: page.tile_worker_warm_up() });
      } catch (e) {
        self.postMessage({ failed: String(e?.message ?? e) });
      }
    })();
    return;
  }
  // One tile at a time, in the order they came; an instance that failed to start answers
  // each tile with an error, which the page reports and stops using the pool for.
  queue = queue.then(async () => {
    try {
      const reply = await page.tile_worker_run(data);
      self.postMessage(reply, reply.pixels ? [reply.pixels.buffer] : []);
    } catch (e) {
      self.postMessage({ id: data.id, error: String(e?.message ?? e) });
    }
  });
};
