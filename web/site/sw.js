// srkd's service worker: the page works offline after one visit, and pictures never leave the
// machine (this worker only ever fetches the page's own files from its own origin).
//  - install: cache the app shell and the student models listed in precache.json (written by
//    web/precache.sh at build time, with the hashed wasm/js/css names), and the page's build
//    the loader runs (`sw.js?build=NAME`, see index.html);
//  - fetch: same-origin GETs go to the network first (so an online visit is always current) and
//    fall back to the cache offline; every good answer refreshes the cache, so a teacher model
//    or the rating study fetched once also works offline later;
//  - activate: older caches (earlier builds) are deleted.
const VERSION = '__PRECACHE_VERSION__';
const CACHE = `srkd-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const { shell, builds } = await (await fetch('precache.json', { cache: 'no-store' })).json();
    const list = shell.concat(builds[new URL(self.location.href).searchParams.get('build')] ?? []);
    // `no-cache`: revalidate with the server (a cheap 304 for what the page just loaded) rather
    // than trust a possibly stale HTTP cache for the unhashed model files.
    await cache.addAll(list.map((file) => new Request(file, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('srkd-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Blob URLs, other origins and writes (the study server's API) are none of the cache's business.
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
      return response;
    } catch (offline) {
      // Navigations carry query strings (?demo=1&model=…) the shell does not depend on.
      const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate' })
        ?? (request.mode === 'navigate' ? await cache.match('./', { ignoreSearch: true }) : undefined);
      if (cached) return cached;
      throw offline;
    }
  })());
});
