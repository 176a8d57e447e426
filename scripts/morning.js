//[title: good morning]
//[author: isobot]
//[version: 1.0.0]
//[description: Every day at 08:00 (config `timezone`), greets a QQ group through QQ's default account.]
//[cron: 0 8 * * *]
const { push } = require('./middleware.js');

const day = new Date().toLocaleDateString('en-GB', { weekday: 'long' });
const sent = await push('qq', '100200300', '', 'good morning', `Good morning! Happy ${day}.`);
console.log(`morning greeting sent to ${sent} chat(s)`);
