// The `troupe` command as one file, dist/bin/troupe.cjs, which bin/troupe.js runs with V8's
// code cache. Start-up is mostly loading and compiling code: one bundled file with its
// compiled code cached starts several times faster than the ~200 modules it is made of. The
// library (dist/index.js) stays unbundled. The bundle sits one folder below dist/, as the
// unbundled files do, so paths relative to it (package.json, data/) resolve the same.
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

/**
 * zod ships its messages in 60 languages, two fifths of the bundle; troupe speaks English, and
 * its messages are its own (domain/common.ts plainMessage). Only `en` is bundled: `z.locales`
 * holds just that one in the command (the library is not bundled and keeps them all).
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir)
        ? { path: join(dirname(args.resolveDir), 'locales', 'index.js'), namespace: 'zod-en' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/bin/troupe.cjs',
  bundle: true,
  minify: true,
  platform: 'node',
  // CommonJS, so that bin/troupe.js can compile it with a code cache (vm.Script); a command's
  // modules still initialise only when it runs (each dynamic import becomes a lazy init).
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // Optional peers, loaded only for a database store: from node_modules, never bundled (PGlite
  // brings WebAssembly files of its own).
  external: ['pg', 'pg-native', '@electric-sql/pglite'],
  plugins: [englishOnly],
  define: { 'import.meta.url': '__troupeModuleUrl' },
  banner: { js: "const __troupeModuleUrl=require('node:url').pathToFileURL(__filename).href;" },
});
