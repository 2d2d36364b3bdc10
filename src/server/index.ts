/** `troupe/server`: the HTTP API and dashboard of `troupe serve`, to mount or listen with. */
export { type AppOptions, createApp } from './app.js';
export type { Scope, Tokens } from './auth.js';
export { type ServeOptions, type Serving, serveHttp } from './serve.js';
