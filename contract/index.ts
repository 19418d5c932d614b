/**
 * The API contract, one source for the node (core/api, core/model) and the UI (renderer/): the
 * collections and their fields, what requests may hold and what answers hold. Plain zod, no Node
 * imports, so that Vite bundles it for the browser.
 */
export * from './collections.js';
export * from './json-bounds.js';
export * from './requests.js';
export * from './responses.js';
export * from './openapi.js';
