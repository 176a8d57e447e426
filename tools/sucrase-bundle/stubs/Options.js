// Replaces sucrase/dist/esm/Options.js in the bundle: src/entry.js validates options itself.
export function validateOptions(_options) {}
