//[title: forecast (TypeScript)]
//[author: isobot]
//[version: 1.0.0]
//[description: A TypeScript plugin with ES-module imports: "forecast <city>" answers from a fixed table (types are stripped at load, never checked).]
//[rule: ^forecast (.+)$]
import { Sender, getSenderID } from 'middleware';
import type { SendReceipt } from 'middleware';

enum Sky {
  Sunny = 'sunny',
  Rain = 'rain',
}

interface Forecast {
  city: string;
  tempC: number;
  sky: Sky;
}

const TABLE: Record<string, Forecast> = {
  beijing: { city: 'Beijing', tempC: 25, sky: Sky.Sunny },
  london: { city: 'London', tempC: 14, sky: Sky.Rain },
};

function describe<T extends Forecast>(f: T | undefined, asked: string): string {
  return f === undefined ? `No forecast for ${asked}.` : `${f.city}: ${f.tempC}°C, ${f.sky}`;
}

const s = new Sender(getSenderID());
const asked = String(await s.param(1)).trim();
const sent: SendReceipt = await s.reply(describe(TABLE[asked.toLowerCase()], asked));
console.log(`replied: ${sent.ok}`);
