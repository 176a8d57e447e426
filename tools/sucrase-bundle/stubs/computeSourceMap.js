// Replaces sucrase/dist/esm/computeSourceMap.js in the bundle: isobot needs no source maps
// (Sucrase preserves line numbers).
export default function computeSourceMap() {
  throw new Error("source maps are not included in the isobot Sucrase bundle");
}
