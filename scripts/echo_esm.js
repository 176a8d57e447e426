//[title: echo (ES module)]
//[author: isobot]
//[version: 1.0.0]
//[description: A middleware plugin written with ES-module syntax: "echo <text>" answers the text back, upper-cased when it ends with "!".]
//[rule: ^echo (.+)$]
// `import` / `export` become the CommonJS wrapper at load; top-level await and return stay.
import { Sender, getSenderID } from './middleware.js';

export const shout = (text) => (text.endsWith('!') ? text.toUpperCase() : text);

const s = new Sender(getSenderID());
const text = await s.param(1);
if (!text) return;
await s.reply(shout(text));
